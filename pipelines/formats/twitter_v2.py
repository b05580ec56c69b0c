"""X/Twitter API v2 JSON lines, as written by twarc.

Two shapes, told apart line by line:

* page lines ``{"data": [...], "includes": {"users": [...], "tweets": [...]}, "meta": ...}``
  (``data`` holds tweets, or user objects for a users lookup);
* flat lines: one tweet per line with its author joined as ``author`` (``twarc2 flatten``),
  referenced tweets expanded in place.

Every tweet on a page gets the page's line number. Rows are gathered in plain lists and turned
into one DataFrame per table at the end.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl

from pipelines.formats.common import Head, excerpt, first_json_line, parsed_file
from pipelines.formats.common import frame_from_rows as _frame
from pipelines.formats.common import iso_time_utc as _time
from pipelines.formats.common import json_kind as _kind_name
from pipelines.model import UTC_DATETIME, ParsedFile

# The platform writes &, < and > in message text as &amp;, &lt; and &gt; (X's APIs and
# archive, Reddit's API and dumps): ``parse_file`` turns them back into the characters.
ESCAPES_TEXT = True
NAME = "twitter_v2"
DESCRIPTION = (
    "X/Twitter API v2 JSON lines as written by twarc: response pages {data, includes, meta} "
    "or flattened one-tweet-per-line files"
)
PLATFORM = "twitter"
MAX_DEPTH = 3  # flat files nest referenced tweets inside tweets


def looks_like_v2(obj: object) -> bool:
    """A twarc page, or a v2 tweet (v1.1 statuses carry 'id_str' and 'user')."""
    if not isinstance(obj, dict):
        return False
    data = obj.get("data")
    if isinstance(data, list):
        if not data:  # an empty page: twarc's, unless it carries Graph API paging
            return "paging" not in obj
        first = data[0]
        # Facebook Graph API pages also hold {"data": [{"id": ...}]}; theirs have
        # created_time / message / from, never a tweet's text + author_id or a username.
        return (
            isinstance(first, dict)
            and "id" in first
            and "created_time" not in first
            and "from" not in first
        )
    if isinstance(data, dict):
        return "id" in data and ("text" in data or "username" in data)
    return (
        "id" in obj
        and ("author_id" in obj or "text" in obj)
        and "id_str" not in obj
        and "user" not in obj
    )


def sniff(head: Head) -> bool:
    """The first of the first few non-blank lines that is JSON decides (a broken first line
    does not hide the format). A page of 100 tweets is one line of ~0.5 MB: whole lines are
    read, not just the head."""
    found, obj = first_json_line(head)
    return found and looks_like_v2(obj)


def _id(value: object) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


class _Collector:
    """Rows of one file, as lists of tuples."""

    def __init__(self) -> None:
        # message_id, author_id, kind, text, created_at, parent_id, parent_author_id,
        # quoted_id, thread_id, source_line
        self.messages: list[tuple] = []
        # action_id, kind, actor_id, target_account_id, target_handle, target_message_id,
        # created_at, source_line
        self.actions: list[tuple] = []
        # share rows: index in self.actions, fallback target account (first mention)
        self.shares: list[tuple[int, str | None]] = []
        self.accounts: dict[str, list] = {}  # id -> [handle, display_name, followers]
        self.tweet_author: dict[str, str] = {}
        self.rejects: list[tuple[int | None, str, str | None]] = []

    # -- accounts ---------------------------------------------------------------------------

    def user(self, obj: object) -> bool:
        """Record a user object; False when it has no id."""
        if not isinstance(obj, dict):
            return False
        uid = _id(obj.get("id"))
        if uid is None:
            return False
        metrics = obj.get("public_metrics")
        followers = metrics.get("followers_count") if isinstance(metrics, dict) else None
        if (
            not isinstance(followers, int)
            or isinstance(followers, bool)
            or not 0 <= followers < 2**63
        ):
            followers = None
        values = (_str(obj.get("username")), _str(obj.get("name")), followers)
        known = self.accounts.get(uid)
        if known is None:
            self.accounts[uid] = list(values)
        else:
            for i, value in enumerate(values):
                if known[i] is None:
                    known[i] = value
        return True

    def user_or_reject(self, obj: object, line: int, where: str) -> None:
        if not self.user(obj):
            what = "user has no id" if isinstance(obj, dict) else f"is {_kind_name(obj)}"
            self.reject(line, f"{where}: {what}", obj)

    # -- tweets -----------------------------------------------------------------------------

    def reject(self, line: int, reason: str, obj: object) -> None:
        try:
            raw = orjson.dumps(obj)[:1200]
        except TypeError:
            raw = repr(obj).encode()
        self.rejects.append((line, f"line {line}: {reason}", excerpt(raw)))

    def tweet(self, t: object, line: int, where: str, depth: int = 0) -> None:
        if not isinstance(t, dict):
            self.reject(line, f"{where} is {_kind_name(t)}, not a tweet object", t)
            return
        tid = _id(t.get("id"))
        if tid is None:
            self.reject(line, f"{where}: tweet has no id", t)
            return
        if tid in self.tweet_author:  # seen already (includes repeat tweets across pages)
            return
        author = _id(t.get("author_id"))
        if author is None:
            self.reject(line, f"{where}: tweet {tid} has no author_id", t)
            return
        raw_time = t.get("created_at")
        created = _time(raw_time)
        if created is None:
            if raw_time is None:
                reason = f"{where}: tweet {tid} has no created_at"
            else:
                reason = f"{where}: tweet {tid} has created_at {raw_time!r}, not an ISO 8601 time"
            self.reject(line, reason, t)
            return
        text = t.get("text")
        text = text if isinstance(text, str) else None

        parent = quoted = retweeted = None
        nested: list[tuple[int, dict]] = []
        refs = t.get("referenced_tweets")
        if isinstance(refs, list):
            for i, ref in enumerate(refs):
                if not isinstance(ref, dict):
                    continue
                rid = _id(ref.get("id"))
                kind = ref.get("type")
                if kind == "replied_to" and parent is None:
                    parent = rid
                elif kind == "quoted" and quoted is None:
                    quoted = rid
                elif kind == "retweeted" and retweeted is None:
                    retweeted = rid
                if "created_at" in ref and "author_id" in ref:  # expanded (flat files)
                    nested.append((i, ref))

        mentions: list[tuple[str | None, str | None]] = []
        entities = t.get("entities")
        raw_mentions = entities.get("mentions") if isinstance(entities, dict) else None
        if isinstance(raw_mentions, list):
            seen = set()
            for m in raw_mentions:
                if not isinstance(m, dict):
                    continue
                mid, username = _id(m.get("id")), _str(m.get("username"))
                key = username or mid
                if key is None or key in seen:
                    continue
                seen.add(key)
                mentions.append((mid, username))
                if mid is not None and username is not None:
                    self.user(m)  # flat files expand mentions into user objects

        # everything checked: record
        self.tweet_author[tid] = author
        self.user(t.get("author"))
        self.user(t.get("in_reply_to_user"))
        if retweeted is not None:
            fallback = next((mid for mid, _ in mentions if mid is not None), None)
            self.shares.append((len(self.actions), fallback))
            self.actions.append((tid, "share", author, None, None, retweeted, created, line))
        else:
            kind = "reply" if parent is not None else "quote" if quoted is not None else "post"
            self.messages.append(
                (
                    tid,
                    author,
                    kind,
                    text,
                    created,
                    parent,
                    _id(t.get("in_reply_to_user_id")),
                    quoted,
                    _id(t.get("conversation_id")),
                    line,
                )
            )
            for mid, username in mentions:
                self.actions.append(
                    (
                        f"{tid}:mention:{username or mid}",
                        "mention",
                        author,
                        mid,
                        username,
                        tid,
                        created,
                        line,
                    )
                )
        if depth < MAX_DEPTH:
            for i, ref in nested:
                self.tweet(ref, line, f"{where}.referenced_tweets[{i}]", depth + 1)

    # -- lines ------------------------------------------------------------------------------

    def page(self, obj: dict, line: int) -> None:
        data = obj.get("data")
        if isinstance(data, dict):
            data = [data]
        elif data is None:
            data = []
        elif not isinstance(data, list):
            self.reject(line, f"'data' is {_kind_name(data)}, not a list", obj)
            data = []
        includes = obj.get("includes")
        if includes is None:
            includes = {}
        elif not isinstance(includes, dict):
            self.reject(line, f"'includes' is {_kind_name(includes)}, not an object", obj)
            includes = {}
        for key, handler in (("users", self.user_or_reject), ("tweets", self.tweet)):
            items = includes.get(key)
            if items is None:
                continue
            if not isinstance(items, list):
                self.reject(line, f"includes.{key} is {_kind_name(items)}, not a list", obj)
                continue
            for i, item in enumerate(items):
                self.guarded(handler, item, line, f"includes.{key}[{i}]")
        for i, item in enumerate(data):
            if isinstance(item, dict) and "username" in item and "text" not in item:
                self.guarded(self.user_or_reject, item, line, f"data[{i}]")
            else:
                self.guarded(self.tweet, item, line, f"data[{i}]")

    def guarded(self, handler, item: object, line: int, where: str) -> None:
        """Run ``handler`` on one item; a structure no rule foresaw rejects only that item."""
        try:
            handler(item, line, where)
        except Exception as exc:
            self.reject(line, f"{where}: unexpected structure ({exc!r})", item)

    def line(self, raw: bytes, line: int) -> None:
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            self.rejects.append((line, f"line {line}: not valid JSON ({exc})", excerpt(raw)))
            return
        if not isinstance(obj, dict):
            self.rejects.append(
                (line, f"line {line}: {_kind_name(obj)}, not a JSON object", excerpt(raw))
            )
            return
        try:
            if "data" in obj:
                self.page(obj, line)
            elif "id" in obj:
                if "username" in obj and "text" not in obj:
                    self.user_or_reject(obj, line, "user")
                else:
                    self.tweet(obj, line, "tweet")
            elif "includes" in obj or "meta" in obj:
                self.page(obj, line)  # a page without data (no results)
            else:
                errors = obj.get("errors")
                detail = ""
                if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                    first = errors[0]
                    detail = f" (API error: {first.get('title') or first.get('detail')})"
                self.rejects.append(
                    (
                        line,
                        f"line {line}: a JSON object that is neither a twarc page (no 'data') "
                        f"nor a tweet (no 'id'){detail}",
                        excerpt(raw),
                    )
                )
        except Exception as exc:  # a structure no rule above foresaw: keep the line, go on
            self.rejects.append(
                (line, f"line {line}: unexpected structure ({exc!r})", excerpt(raw))
            )


def parse(path: Path, source: str, head: Head | None = None) -> ParsedFile:
    c = _Collector()
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if raw.strip():
                c.line(raw, number)

    handles = {aid: values[0] for aid, values in c.accounts.items() if values[0]}
    for index, fallback in c.shares:
        row = c.actions[index]
        target = c.tweet_author.get(row[5], fallback)
        c.actions[index] = row[:3] + (target,) + row[4:]

    s = pl.String
    messages = _frame(
        c.messages,
        {
            "message_id": s,
            "author_id": s,
            "kind": s,
            "text": s,
            "created_at": UTC_DATETIME,
            "parent_id": s,
            "parent_author_id": s,
            "quoted_id": s,
            "thread_id": s,
            "source_line": pl.Int64,
        },
    )
    known = pl.DataFrame(
        {
            "author_id": pl.Series(list(handles), dtype=s),
            "handle": pl.Series(list(handles.values()), dtype=s),
        }
    )
    messages = (
        messages.join(known, on="author_id", how="left", maintain_order="left")
        .with_columns(
            url=pl.when(pl.col("handle").is_not_null())
            .then(pl.format("https://x.com/{}/status/{}", "handle", "message_id"))
            .otherwise(pl.format("https://x.com/i/web/status/{}", "message_id"))
        )
        .drop("handle")
    )
    actions = _frame(
        c.actions,
        {
            "action_id": s,
            "kind": s,
            "actor_id": s,
            "target_account_id": s,
            "target_handle": s,
            "target_message_id": s,
            "created_at": UTC_DATETIME,
            "source_line": pl.Int64,
        },
    )
    accounts = pl.DataFrame(
        {
            "account_id": pl.Series(list(c.accounts), dtype=s),
            "handle": pl.Series([v[0] for v in c.accounts.values()], dtype=s),
            "display_name": pl.Series([v[1] for v in c.accounts.values()], dtype=s),
            "followers_count": pl.Series([v[2] for v in c.accounts.values()], dtype=pl.Int64),
        }
    )
    return parsed_file(
        NAME,
        PLATFORM,
        source,
        accounts=accounts,
        messages=messages,
        actions=actions,
        rejects=c.rejects,
    )
