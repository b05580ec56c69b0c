"""X/Twitter API v1.1 statuses JSON.

How to get the file
-------------------
Any tool that saved v1.1 API responses as they came: a standard search response
(``GET search/tweets.json``: ``{"statuses": [...], "search_metadata": {...}}``), a plain JSON
array of statuses (``statuses/user_timeline``, ``statuses/lookup``, many scrapers), or JSON
lines with one status per line (the streaming API, twarc 1.x ``twarc search``/``filter``,
tweepy collectors). Drop the file in the input folder as it is; the name does not matter.

What is mapped
--------------
* every status (including the ``retweeted_status`` and ``quoted_status`` carried inside
  another) is a message, once per id: ``reply`` when ``in_reply_to_status_id_str`` is set
  (``parent_author_id`` = ``in_reply_to_user_id_str``), ``quote`` when it quotes
  (``quoted_status_id_str`` / ``quoted_status``), else ``post``; the text is
  ``extended_tweet.full_text``, else ``full_text``, else ``text``;
  url = ``https://x.com/<screen_name>/status/<id>``. v1.1 has no conversation id:
  ``thread_id`` stays null;
* a retweet (a status with ``retweeted_status``) is a ``share`` action, not a message:
  action_id = the retweet's id, target = the retweeted status and its author;
* ``entities.user_mentions`` (of ``extended_tweet`` when present) are ``mention`` actions
  (not for retweets, whose only mention is the "RT @"), action_id
  ``<status id>:mention:<screen_name>``;
* accounts: every ``user`` object seen (``followers_count`` as of that status; the first value
  seen is kept), plus the accounts replied to and mentioned (id and handle only).
* streaming control messages (``delete``, ``limit``, ``scrub_geo``, ``status_withheld``,
  ``user_withheld``, ``disconnect``, ``warning``) carry no status and are skipped.

Positions: for JSON lines, ``source_line`` and reject positions are the 1-based line; for a
whole JSON document (search response or array) they are the 1-based index of the status in
its array (a document holding one status: the line it starts on). A nested status gets the
position of the record that carries it. A status without an id, a user id or a readable
``created_at`` is rejected; a broken record in a document (or a truncated file) is rejected
and the records around it still load.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import polars as pl

from pipelines.formats.common import UTF8_BOM, Head, excerpt, parsed_file
from pipelines.model import UTC_DATETIME, ParsedFile

# The platform writes &, < and > in message text as &amp;, &lt; and &gt; (X's APIs and
# archive, Reddit's API and dumps): ``parse_file`` turns them back into the characters.
ESCAPES_TEXT = True
NAME = "twitter_v1"
DESCRIPTION = (
    "X/Twitter API v1.1 statuses JSON: a search response {statuses, search_metadata}, "
    "a JSON array of statuses, or JSON lines of statuses (streaming API, twarc 1)"
)
PLATFORM = "twitter"
SNIFF_LINES = 5
SNIFF_LINE_LIMIT = 64 * 1024 * 1024
MAX_DEPTH = 3  # a retweet of a quote of a quote

CONTROL_KEYS = frozenset(
    {
        "delete",
        "limit",
        "scrub_geo",
        "status_withheld",
        "user_withheld",
        "disconnect",
        "warning",
        "friends",
        "event",
    }
)

# --------------------------------------------------------------------------------------------
# Small helpers (also used by twitter_archive)

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_TWITTER_TIME = re.compile(
    r"\s*(?:[A-Z][a-z]{2},? +)?([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) "
    r"([+-])(\d{2}):?(\d{2}) (\d{4})\s*"
)
TWITTER_TIME_EXAMPLE = "Wed Aug 27 13:08:45 +0000 2008"
V1_TIME_IN_JSON = (
    r'"created_at"\s*:\s*"[A-Z][a-z]{2} [A-Z][a-z]{2} \d{1,2} \d{2}:\d{2}:\d{2} [+-]\d{4} \d{4}"'
)


def twitter_time(value: object) -> datetime | None:
    """'Wed Aug 27 13:08:45 +0000 2008' (or an ISO 8601 time, as some collectors rewrite it)
    as an aware UTC datetime; None when it is neither."""
    if not isinstance(value, str):
        return None
    m = _TWITTER_TIME.fullmatch(value)
    if m:
        month = _MONTHS.get(m.group(1))
        if month is None:
            return None
        sign = -1 if m.group(6) == "-" else 1
        offset = timedelta(hours=int(m.group(7)), minutes=int(m.group(8)))
        try:
            local = datetime(
                int(m.group(9)),
                month,
                int(m.group(2)),
                int(m.group(3)),
                int(m.group(4)),
                int(m.group(5)),
                tzinfo=timezone(sign * offset),
            )
        except ValueError:
            return None
        return local.astimezone(UTC)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?", value.strip()):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def native_id(value: object) -> str | None:
    """A platform id as text: a non-empty digit string or a non-negative integer (the archive
    writes '-1' for accounts it no longer knows: that is no id)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value >= 0 else None
    if isinstance(value, str):
        value = value.strip()
        return value if value.isascii() and value.isdigit() else None
    return None


def text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def kind_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {dict: "an object", list: "a list", str: "a string"}.get(type(value), "null")


def dumps_excerpt(obj: object) -> str | None:
    try:
        raw = orjson.dumps(obj)[:1200]
    except TypeError:
        raw = repr(obj)[:1200].encode("utf-8", "replace")
    return excerpt(raw)


def make_frame(rows: list[tuple], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    names = list(schema)
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return pl.DataFrame(
        [
            pl.Series(name, list(col), dtype=schema[name])
            for name, col in zip(names, columns, strict=True)
        ]
    )


MESSAGE_COLUMNS: dict[str, pl.DataType] = {
    "message_id": pl.String,
    "author_id": pl.String,
    "kind": pl.String,
    "text": pl.String,
    "created_at": UTC_DATETIME,
    "parent_id": pl.String,
    "parent_author_id": pl.String,
    "quoted_id": pl.String,
    "thread_id": pl.String,
    "url": pl.String,
    "source_line": pl.Int64,
}
ACTION_COLUMNS: dict[str, pl.DataType] = {
    "action_id": pl.String,
    "kind": pl.String,
    "actor_id": pl.String,
    "target_account_id": pl.String,
    "target_handle": pl.String,
    "target_message_id": pl.String,
    "created_at": UTC_DATETIME,
    "source_line": pl.Int64,
}


def status_url(handle: str | None, status_id: str) -> str:
    if handle:
        return f"https://x.com/{handle}/status/{status_id}"
    return f"https://x.com/i/web/status/{status_id}"


def build_parsed(
    fmt: str,
    source: str,
    accounts: dict[str, list],
    messages: list[tuple],
    actions: list[tuple],
    rejects: list[tuple[int | None, str, str | None]],
) -> ParsedFile:
    """The ParsedFile of one Twitter file from row lists. ``accounts`` maps an id to
    [handle, display_name, followers_count]; message and action rows follow
    MESSAGE_COLUMNS / ACTION_COLUMNS."""
    s = pl.String
    account_frame = pl.DataFrame(
        {
            "account_id": pl.Series(list(accounts), dtype=s),
            "handle": pl.Series([v[0] for v in accounts.values()], dtype=s),
            "display_name": pl.Series([v[1] for v in accounts.values()], dtype=s),
            "followers_count": pl.Series([v[2] for v in accounts.values()], dtype=pl.Int64),
        }
    )
    return parsed_file(
        fmt,
        PLATFORM,
        source,
        accounts=account_frame,
        messages=make_frame(messages, MESSAGE_COLUMNS),
        actions=make_frame(actions, ACTION_COLUMNS),
        rejects=rejects,
    )


# --------------------------------------------------------------------------------------------
# Reading the records of a JSON array one by one, so that a broken one does not lose the rest

_WS = re.compile(r"[ \t\r\n]*")
_DECODER = json.JSONDecoder()


@dataclass
class ArrayItem:
    index: int | None  # 1-based record index; None for a problem of the array itself
    value: object  # the decoded record (None when error is set)
    raw: str  # the record's text
    error: str | None  # why the record could not be read


def _resync_pattern(keys: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(k) for k in dict.fromkeys(keys))
    return re.compile(r",[ \t\r\n]*(?=\{[ \t\r\n]*\"(?:" + alternatives + r")\"[ \t\r\n]*:)")


def _json_error(exc: json.JSONDecodeError, text: str, start: int, last: bool) -> str:
    """The reason a record from ``start`` is not JSON; ``last``: no record follows it."""
    where = f"line {exc.lineno} column {exc.colno}"  # of the whole file
    tail = text[start:]
    if last and (
        exc.pos >= len(text.rstrip())
        or exc.msg.startswith("Unterminated string")
        or tail.count("{") > tail.count("}")
    ):
        return f"{exc.msg}: {where}; the file ends inside it (truncated?)"
    return f"{exc.msg}: {where}"


def iter_json_array(text: str, start: int, resync_keys: Sequence[str]) -> Iterator[ArrayItem]:
    """The elements of the JSON array whose '[' ends just before ``start`` in ``text`` (a str
    decoded with errors='surrogateescape').

    A record that is not valid JSON is yielded with its error, and reading goes on at the
    next ``,{"<key>":`` (a record boundary), where key is the first key of the first good
    record or one of ``resync_keys``. Also treated as broken: a value that is not an object
    and runs over a record boundary (a stray '['), and a ']' with more records after it.
    Stops at the closing ']'."""
    keys = list(resync_keys)
    resync = _resync_pattern(keys)
    learned = False
    pos = _WS.match(text, start).end()
    n = len(text)
    index = 0

    def broken(at: int, reason: str) -> Iterator[ArrayItem]:
        """A broken stretch from ``at``: yield it; ``pos`` becomes the next record's start
        (-1 when there is none)."""
        m = resync.search(text, at + 1)
        stop = m.start() if m else n
        yield ArrayItem(index, None, text[at:stop], reason)
        nonlocal pos
        pos = m.end() if m else -1

    if pos < n and text[pos] == "]" and resync.search(text, pos) is None:
        return
    while True:
        index += 1
        if pos >= n:
            yield ArrayItem(
                None, None, "", f"the file ends after record {index - 1}: the array is not closed"
            )
            return
        if text[pos] == "]":  # a ']' with records after it
            yield from broken(pos, f"record {index}: not valid JSON (a stray ']')")
            if pos < 0:
                return
            continue
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            last = resync.search(text, pos + 1) is None
            reason = f"record {index}: not valid JSON ({_json_error(exc, text, pos, last)})"
            yield from broken(pos, reason)
            if pos < 0:
                return
            continue
        if not isinstance(value, dict) and resync.search(text, pos + 1, end):
            reason = f"record {index}: not valid JSON ({kind_name(value)} running into the next)"
            yield from broken(pos, reason)
            if pos < 0:
                return
            continue
        raw = text[pos:end]
        try:  # the stdlib found the record's end; orjson checks its text (UTF-8, surrogates)
            value = orjson.loads(raw.encode("utf-8", errors="surrogateescape"))
        except orjson.JSONDecodeError as exc:
            yield ArrayItem(index, None, raw, f"record {index}: not valid JSON ({exc})")
        else:
            if isinstance(value, dict) and value and not learned:
                learned = True
                first = next(iter(value))
                if first not in keys:
                    keys.insert(0, first)
                    resync = _resync_pattern(keys)
            yield ArrayItem(index, value, raw, None)
        pos = _WS.match(text, end).end()
        if pos >= n:
            yield ArrayItem(
                None, None, "", f"the file ends after record {index}: the array is not closed"
            )
            return
        if text[pos] == ",":
            pos = _WS.match(text, pos + 1).end()
            continue
        if text[pos] == "]" and resync.search(text, pos) is None:
            return
        reason = f"record {index}: unexpected text after it (expected ',' or ']')"
        yield from broken(pos, reason)
        if pos < 0:
            return


def decode_lenient(data: bytes) -> str:
    """Bytes as text for iter_json_array: bytes that are not UTF-8 survive as lone
    surrogates, so that a record holding one is rejected, not silently altered."""
    return data.decode("utf-8", errors="surrogateescape")


def raw_excerpt(raw: str) -> str | None:
    """The excerpt of a record's text as iter_json_array gives it."""
    return excerpt(raw.encode("utf-8", errors="surrogateescape"))


# --------------------------------------------------------------------------------------------
# Detection


def is_status(obj: object) -> bool:
    """A v1.1 status: an id_str (or integer id), a 'user' object and some text. twarc v2
    tweets have 'author_id' and string ids without 'id_str' or 'user'."""
    if not isinstance(obj, dict) or not isinstance(obj.get("user"), dict):
        return False
    has_id = "id_str" in obj or (isinstance(obj.get("id"), int) and obj.get("id") is not True)
    has_text = any(k in obj for k in ("text", "full_text", "extended_tweet", "retweeted_status"))
    return has_id and has_text and "author_id" not in obj and "data" not in obj


def is_control(obj: object) -> bool:
    return isinstance(obj, dict) and len(obj) >= 1 and set(obj) <= CONTROL_KEYS


def looks_like_v1(obj: object) -> bool | None:
    """True / False, or None for a streaming control message (undecided: look further)."""
    if isinstance(obj, dict):
        statuses = obj.get("statuses")
        if isinstance(statuses, list):
            if not statuses:
                return "search_metadata" in obj
            return is_status(statuses[0])
        if is_control(obj):
            return None
        return is_status(obj)
    if isinstance(obj, list):
        return bool(obj) and is_status(obj[0])
    return False


def _head_looks_like_v1(text: str) -> bool:
    """For a document too big for the head or pretty-printed over many lines."""
    return (
        re.search(r'"id_str"\s*:\s*"\d+"', text) is not None
        and re.search(r'"user"\s*:\s*\{', text) is not None
        and re.search(r'"screen_name"\s*:', text) is not None
        and re.search(V1_TIME_IN_JSON, text) is not None
        and re.search(r'"author_id"\s*:', text) is None
    )


def sniff(head: Head) -> bool:
    """A v1.1 status, search response or array of statuses. The first JSON line among the
    first few non-blank lines decides (skipping streaming control messages); a document that
    no single line holds is judged on the head's text."""
    text = head.text.lstrip()
    if not text or text[0] not in "{[":
        return False
    with open(head.path, "rb") as f:
        tried = 0
        first = True
        while tried < SNIFF_LINES:
            line = f.readline(SNIFF_LINE_LIMIT)
            if not line:
                break
            if first:
                line = line.removeprefix(UTF8_BOM)
                first = False
            if len(line) >= SNIFF_LINE_LIMIT and not line.endswith(b"\n"):
                break  # one enormous line: judge the head
            if not line.strip():
                continue
            tried += 1
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            verdict = looks_like_v1(obj)
            if verdict is not None:
                return verdict
    return _head_looks_like_v1(head.text)


# --------------------------------------------------------------------------------------------
# Parsing


class _Collector:
    def __init__(self) -> None:
        # MESSAGE_COLUMNS rows without url: url is added once every handle is known
        self.messages: list[list] = []
        self.actions: list[tuple] = []
        self.accounts: dict[str, list] = {}  # id -> [handle, display_name, followers]
        self.seen: set[str] = set()  # status ids recorded (message or share)
        self.rejects: list[tuple[int | None, str, str | None]] = []
        self.unit = "record"  # "line" for JSON lines

    def reject(self, position: int | None, reason: str, obj: object) -> None:
        prefix = f"{self.unit} {position}: " if position is not None else ""
        self.rejects.append((position, prefix + reason, dumps_excerpt(obj)))

    # -- accounts ---------------------------------------------------------------------------

    def account(
        self,
        uid: str | None,
        handle: object = None,
        name: object = None,
        followers: object = None,
    ) -> None:
        if uid is None:
            return
        if (
            not isinstance(followers, int)
            or isinstance(followers, bool)
            or not 0 <= followers < 2**63
        ):
            followers = None
        handle = text_or_none(handle) or None
        values = (handle, text_or_none(name), followers)
        known = self.accounts.get(uid)
        if known is None:
            self.accounts[uid] = list(values)
        else:
            for i, value in enumerate(values):
                if known[i] is None:
                    known[i] = value

    def user(self, obj: object) -> str | None:
        if not isinstance(obj, dict):
            return None
        uid = native_id(obj.get("id_str")) or native_id(obj.get("id"))
        self.account(uid, obj.get("screen_name"), obj.get("name"), obj.get("followers_count"))
        return uid

    # -- statuses ---------------------------------------------------------------------------

    def status(self, s: object, pos: int, where: str, depth: int = 0) -> None:
        if not isinstance(s, dict):
            self.reject(pos, f"{where} is {kind_name(s)}, not a status object", s)
            return
        sid = native_id(s.get("id_str")) or native_id(s.get("id"))
        if sid is None:
            self.reject(pos, f"{where}: status has no id_str", s)
            return
        if sid in self.seen:
            return
        user = s.get("user")
        uid = None
        if isinstance(user, dict):
            uid = native_id(user.get("id_str")) or native_id(user.get("id"))
        if uid is None:
            what = "has no user.id_str" if isinstance(user, dict) else "has no user object"
            self.reject(pos, f"{where}: status {sid} {what}", s)
            return
        raw_time = s.get("created_at")
        created = twitter_time(raw_time)
        if created is None:
            if raw_time is None:
                reason = f"{where}: status {sid} has no created_at"
            else:
                reason = (
                    f"{where}: status {sid} has created_at {raw_time!r}, not a time like "
                    f"{TWITTER_TIME_EXAMPLE!r}"
                )
            self.reject(pos, reason, s)
            return

        retweeted = s.get("retweeted_status")
        if isinstance(retweeted, dict):
            rt_id = native_id(retweeted.get("id_str")) or native_id(retweeted.get("id"))
            if rt_id is None:
                self.reject(pos, f"{where}: retweet {sid}: retweeted_status has no id_str", s)
                return
            rt_user = retweeted.get("user")
            rt_uid = rt_handle = None
            if isinstance(rt_user, dict):
                rt_uid = native_id(rt_user.get("id_str")) or native_id(rt_user.get("id"))
                rt_handle = text_or_none(rt_user.get("screen_name")) or None
            self.seen.add(sid)
            self.user(user)
            self.user(rt_user)
            self.actions.append((sid, "share", uid, rt_uid, rt_handle, rt_id, created, pos))
            if depth < MAX_DEPTH:
                self.status(retweeted, pos, f"{where}.retweeted_status", depth + 1)
            return

        extended = s.get("extended_tweet")
        if not isinstance(extended, dict):
            extended = {}
        text = (
            text_or_none(extended.get("full_text"))
            or text_or_none(s.get("full_text"))
            or text_or_none(s.get("text"))
        )
        parent = native_id(s.get("in_reply_to_status_id_str")) or native_id(
            s.get("in_reply_to_status_id")
        )
        reply_to_user = native_id(s.get("in_reply_to_user_id_str")) or native_id(
            s.get("in_reply_to_user_id")
        )
        quoted_status = s.get("quoted_status")
        quoted = native_id(s.get("quoted_status_id_str")) or native_id(s.get("quoted_status_id"))
        if quoted is None and isinstance(quoted_status, dict):
            quoted = native_id(quoted_status.get("id_str")) or native_id(quoted_status.get("id"))
        kind = "reply" if parent is not None else "quote" if quoted is not None else "post"

        mentions: list[tuple[str | None, str | None, object]] = []
        entities = extended.get("entities")
        if not isinstance(entities, dict):
            entities = s.get("entities")
        raw_mentions = entities.get("user_mentions") if isinstance(entities, dict) else None
        if isinstance(raw_mentions, list):
            keys = set()
            for m in raw_mentions:
                if not isinstance(m, dict):
                    continue
                mid = native_id(m.get("id_str")) or native_id(m.get("id"))
                handle = text_or_none(m.get("screen_name")) or None
                key = handle or mid
                if key is None or key in keys:
                    continue
                keys.add(key)
                mentions.append((mid, handle, m.get("name")))

        # everything checked: record
        self.seen.add(sid)
        self.user(user)
        self.account(reply_to_user, s.get("in_reply_to_screen_name"))
        self.messages.append(
            [sid, uid, kind, text, created, parent, reply_to_user, quoted, None, pos]
        )
        for mid, handle, name in mentions:
            self.account(mid, handle, name)
            self.actions.append(
                (f"{sid}:mention:{handle or mid}", "mention", uid, mid, handle, sid, created, pos)
            )
        if depth < MAX_DEPTH and isinstance(quoted_status, dict):
            self.status(quoted_status, pos, f"{where}.quoted_status", depth + 1)

    def guarded(self, s: object, pos: int, where: str) -> None:
        """One top-level status; a structure no rule foresaw rejects only that record."""
        try:
            self.status(s, pos, where)
        except Exception as exc:
            self.reject(pos, f"{where}: unexpected structure ({exc!r})", s)

    def value(self, obj: object, pos: int) -> None:
        """One JSON line, or the single value of a one-status document."""
        if isinstance(obj, dict):
            statuses = obj.get("statuses")
            if isinstance(statuses, list):
                for i, s in enumerate(statuses):
                    self.guarded(s, pos, f"statuses[{i}]")
                return
            if is_control(obj):
                return
            if "statuses" in obj:
                self.reject(pos, f"'statuses' is {kind_name(statuses)}, not a list", obj)
                return
            self.guarded(obj, pos, "status")
            return
        if isinstance(obj, list):
            for i, s in enumerate(obj):
                self.guarded(s, pos, f"[{i}]")
            return
        self.reject(pos, f"{kind_name(obj)}, not a status object", obj)

    def records(self, items: Iterator[ArrayItem]) -> None:
        for item in items:
            if item.error is not None:
                self.rejects.append((item.index, item.error, raw_excerpt(item.raw)))
            elif is_control(item.value):
                continue
            else:
                self.guarded(item.value, item.index, "status")


def _first_lines(data: bytes, count: int) -> list[bytes]:
    """The first ``count`` non-blank lines of ``data``."""
    lines: list[bytes] = []
    start = 0
    while len(lines) < count and start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end == -1 else end
        if data[start:end].strip():
            lines.append(data[start:end])
        start = end + 1
    return lines


def _is_json_lines(data: bytes) -> bool:
    """More than one non-blank line, not opening an array, and one of the first few lines is
    a whole JSON object (a pretty-printed document has no such line)."""
    lines = _first_lines(data, SNIFF_LINES)
    if len(lines) < 2 or lines[0].lstrip().startswith(b"["):
        return False
    for line in lines:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict) and obj:
            return True
    return False


_NOT_JSON = object()
_STATUSES_ARRAY = re.compile(r'"statuses"[ \t\r\n]*:[ \t\r\n]*\[')
RESYNC_KEYS = ("created_at", "metadata")


def parse(path: Path, source: str, head: Head | None = None) -> ParsedFile:
    data = path.read_bytes().removeprefix(UTF8_BOM)
    c = _Collector()
    try:
        doc = orjson.loads(data)
        failure = None
    except orjson.JSONDecodeError as exc:
        doc, failure = _NOT_JSON, str(exc)

    if doc is not _NOT_JSON:
        if isinstance(doc, dict) and "statuses" in doc:
            statuses = doc["statuses"]
            if isinstance(statuses, list):
                for i, s in enumerate(statuses, start=1):
                    if not is_control(s):
                        c.guarded(s, i, "status")
            else:
                c.reject(None, f"'statuses' is {kind_name(statuses)}, not a list", doc)
        elif isinstance(doc, list):
            for i, s in enumerate(doc, start=1):
                if not is_control(s):
                    c.guarded(s, i, "status")
        elif isinstance(doc, dict):
            if not is_control(doc):  # one status: its position is the line it starts on
                c.unit = "line"
                c.guarded(doc, data[: len(data) - len(data.lstrip())].count(b"\n") + 1, "status")
        else:
            c.reject(None, f"the file is {kind_name(doc)}, not statuses", doc)
    elif _is_json_lines(data):
        c.unit = "line"
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                c.rejects.append((number, f"line {number}: not valid JSON ({exc})", excerpt(raw)))
                continue
            try:
                c.value(obj, number)
            except Exception as exc:  # a structure no rule foresaw: keep the line, go on
                c.reject(number, f"unexpected structure ({exc!r})", obj)
    else:
        text = decode_lenient(data)
        stripped = _WS.match(text).end()
        start = None
        if text.startswith("[", stripped):
            start = stripped + 1
        elif text.startswith("{", stripped):
            m = _STATUSES_ARRAY.search(text, stripped)
            if m is not None:
                start = m.end()
        before = len(c.rejects)
        if start is not None:
            c.records(iter_json_array(text, start, RESYNC_KEYS))
        if len(c.rejects) == before:  # nothing in particular: say why the file is not JSON
            reason = f"the file is not valid JSON ({failure})"
            if start is None:
                reason += "; no array of statuses found in it"
            c.rejects.append((None, reason, excerpt(data[:1200])))

    handles = {uid: v[0] for uid, v in c.accounts.items() if v[0]}
    messages = [(*row[:9], status_url(handles.get(row[1]), row[0]), row[9]) for row in c.messages]
    return build_parsed(NAME, source, c.accounts, messages, c.actions, c.rejects)
