"""YouTube comments: YouTube Data API v3 ``commentThreads`` / ``comments`` JSON, or the plain
comment CSV (``COMMENT_ID, AUTHOR, DATE, CONTENT``).

How to get the file
-------------------
* **API JSON** (recommended: it has reply links and channel ids). Call
  ``GET https://www.googleapis.com/youtube/v3/commentThreads?part=snippet,replies&videoId=<id>
  &maxResults=100&textFormat=plainText&key=<API key>`` (or ``allThreadsRelatedToChannelId=<id>``
  for a whole channel) and save each response page as it comes, either one response per file
  or one response per line (JSON lines); follow ``nextPageToken`` for more pages. A thread
  carries at most five replies: for the rest, call ``comments?part=snippet&parentId=<thread
  id>`` and save those responses too (``youtube#commentListResponse``). Files may also hold
  single ``youtube#commentThread`` or ``youtube#comment`` objects per line, or a JSON array of
  responses or threads.
* **Comment CSV**: a CSV with the header ``COMMENT_ID,AUTHOR,DATE,CONTENT`` (any order, any
  case, other columns allowed: ``VIDEO_ID`` is used for links; ``VIDEO_NAME`` and ``CLASS`` are
  ignored), as in the UCI YouTube Spam Collection and the comment scrapers that copied its
  layout.

What is mapped
--------------
Platform ``youtube``.

API JSON:

* **message** for a thread's top-level comment: kind ``post``, ``message_id`` = the comment id
  (the same as the thread id), ``thread_id`` = the thread id. The video itself is not a message.
* **message** for a reply (``replies.comments[]``, or a ``youtube#comment`` with
  ``snippet.parentId``): kind ``reply``, ``parent_id`` = ``snippet.parentId`` (the top-level
  comment; YouTube threads are one level deep), ``parent_author_id`` = the top-level comment's
  author when the thread holds it, ``thread_id`` = the thread id.
* ``author_id`` = ``authorChannelId.value``; ``text`` = ``textOriginal``, else ``textDisplay``
  with its HTML (links, ``<br>``, entities) turned into plain text; ``created_at`` =
  ``publishedAt`` (RFC 3339, to UTC); ``url`` =
  ``https://www.youtube.com/watch?v=<videoId>&lc=<commentId>``.
* **account**: ``account_id`` = the channel id, ``display_name`` = ``authorDisplayName``,
  ``handle`` = the handle in ``authorChannelUrl`` (``…/@name``) or ``authorDisplayName`` without
  its ``@`` when it starts with one. No follower counts; ``is_brand_hint`` stays null.
* **action** ``mention``: each distinct ``@handle`` in the text (handles: 3-30 letters of any
  script, digits, ``_ - .``), ``action_id`` = ``{comment_id}:mention:{handle}``,
  ``target_handle`` = the handle; ``target_account_id`` = the channel id when ``textDisplay``
  links the mention to ``youtube.com/channel/<id>``, else null.
* Not mapped: ``likeCount`` and ``totalReplyCount`` (aggregates, not individual likes).

Comment CSV:

* **message** per row: kind ``post`` (the CSV has no reply links), ``message_id`` =
  ``COMMENT_ID``, ``author_id`` = ``AUTHOR`` trimmed (the display name is the only identity
  the file has, so two people with one name are one account), ``text`` = ``CONTENT`` with its
  HTML turned into plain text, ``created_at`` = ``DATE`` (ISO 8601; without an offset it is
  taken as UTC, which is what the API returns); ``url`` only when a ``VIDEO_ID`` column is
  present.
* **account** per author: ``account_id`` = ``display_name`` = ``AUTHOR``, ``handle`` =
  ``AUTHOR`` without its ``@`` when it starts with one; **action** ``mention`` as above (no
  ``target_account_id``).

Positions and rejects
---------------------
JSON lines (each line one complete JSON value): ``source_line`` / ``position`` is the 1-based
line; every comment of a response on one line gets that line. A whole JSON document spread
over several lines (a response saved as the API returns it, pretty-printed): the 1-based
**record number**, counting the threads (or comments) of the document in order across all its
responses. CSV: the 1-based physical line on which the record starts (the header line counts;
a line break inside a quoted field counts too).

Rejects (JSON): a line that is not valid JSON, an API error response, a response without an
``items`` list, an item that is neither a comment thread nor a comment, a thread without a
``snippet`` or ``topLevelComment`` (its replies still load), a comment without ``id``,
``snippet``, ``authorChannelId`` or a valid ``publishedAt``. The reason names the line (or
record) and where in it (``line 3: items[5].snippet.topLevelComment: comment Ugz… has no
authorChannelId``). A comment seen twice is loaded once, at its first position. A document
that is not valid JSON at all is one reject for the whole file.
Rejects (CSV): a malformed record, a record that is not UTF-8, a record with more or fewer
fields than the header, an empty ``COMMENT_ID``, ``AUTHOR`` or ``DATE`` (the UCI Eminem file
has 245 rows without a date: they are set aside), a ``DATE`` that is not ISO 8601, a
``COMMENT_ID`` repeating an earlier line's (the first is loaded).
"""

from __future__ import annotations

import csv
import html
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

import orjson
import polars as pl

from pipelines.formats.common import Head, excerpt, parsed_file
from pipelines.formats.common import frame_from_rows as _frame
from pipelines.formats.common import json_kind as _kind_name
from pipelines.model import UTC_DATETIME, ParsedFile

NAME = "youtube"
DESCRIPTION = (
    "YouTube comments: Data API v3 commentThreads/comments JSON (responses or items, whole "
    "or as JSON lines), or the comment CSV COMMENT_ID, AUTHOR, DATE, CONTENT"
)
PLATFORM = "youtube"
CSV_REQUIRED = ("comment_id", "author", "date", "content")
SNIFF_LINES = 5
DATE_EXAMPLE = "2013-11-07T06:20:48"
WATCH_URL = "https://www.youtube.com/watch?v={video}&lc={comment}"

JSON_HINT = re.compile(
    r'"kind"\s*:\s*"youtube#comment(?:Thread)?(?:ListResponse)?"|"topLevelComment"\s*:\s*\{'
)
# A handle mention: '@' not inside a word or an e-mail address, then the handle: 3-30
# letters (any script, with their combining marks), digits, '_', '-', '.'; a trailing '.' ends
# the sentence, not the handle. The run after '@' is cut where the handle characters end.
MENTION_RE = re.compile(r"(?:^|(?<=[^\w.@-]))@([^\s@]{1,64})")
ANCHOR_MENTION_RE = re.compile(
    r'<a\s[^>]*href="https?://(?:www\.|m\.)?youtube\.com/channel/([A-Za-z0-9_-]+)"[^>]*>'
    r"\s*@([^<\s]+)\s*</a>",
    re.IGNORECASE,
)
CHANNEL_URL_HANDLE_RE = re.compile(r"youtube\.com/@([^/?#\s]+)/?$")
BREAK_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)
TAG_RE = re.compile(r"</?(?:a|b|i|s|u|br|span|strong|em|p|div)\b[^>]*>", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# Detection


def _header_line(text: str) -> str:
    """The first non-blank line of the head (the UCI Psy file opens with a blank line)."""
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _csv_header(text: str) -> list[str]:
    try:
        cells = next(csv.reader([_header_line(text)]), [])
    except csv.Error:
        return []
    return [c.strip().strip('"').strip().lower() for c in cells]


def _is_csv(head: Head) -> bool:
    return set(CSV_REQUIRED) <= set(_csv_header(head.text))


def _is_json(head: Head) -> bool:
    """One of the first few non-blank lines opens a JSON object or array (a broken first
    line does not hide the format) and the head names a YouTube comment kind."""
    opened = False
    tried = 0
    for line in head.text.splitlines():
        if not line.strip():
            continue
        if line.lstrip().startswith(("{", "[")):
            opened = True
            break
        tried += 1
        if tried >= SNIFF_LINES:
            break
    return opened and JSON_HINT.search(head.text) is not None


def sniff(head: Head) -> bool:
    return _is_csv(head) or _is_json(head)


def parse(path: Path, source: str, head: Head) -> ParsedFile:
    if _is_csv(head):
        return _parse_csv(path, source)
    return _parse_json(path, source)


# --------------------------------------------------------------------------------------------
# Values


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _time(value: object) -> datetime | None:
    """An ISO 8601 / RFC 3339 time as an aware UTC datetime (no offset: UTC)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # not a time, or one past the ends of the calendar
        return None


def html_to_text(value: str | None) -> str | None:
    """textDisplay-style HTML as plain text: <br> to line breaks, formatting tags removed,
    entities decoded, the stray U+FEFF some exports end comments with dropped."""
    if value is None:
        return None
    text = BREAK_RE.sub("\n", value)
    text = TAG_RE.sub("", text)
    text = html.unescape(text).replace("\ufeff", "")
    return text or None


def _handle_prefix(run: str) -> str | None:
    """The handle a run of characters after '@' starts with, or None."""
    end = 0
    for ch in run:
        if unicodedata.category(ch)[0] in "LMN" or ch in "_-.":
            end += 1
        else:
            break
    handle = run[:end].rstrip(".")
    if not 3 <= len(handle) <= 30 or not (handle[0] == "_" or handle[0].isalnum()):
        return None
    return handle


def _mentions(text: str | None, display: str | None = None) -> dict[str, tuple[str, str | None]]:
    """Distinct mentions (lower-case handle -> (handle, channel id or None)); linked ones
    (an anchor to youtube.com/channel/<id> in textDisplay) first."""
    found: dict[str, tuple[str, str | None]] = {}
    for channel, handle in ANCHOR_MENTION_RE.findall(display or ""):
        handle = html.unescape(handle).rstrip(".")
        if handle:
            found.setdefault(handle.lower(), (handle, channel))
    for match in MENTION_RE.finditer(text or ""):
        handle = _handle_prefix(match.group(1))
        if handle is not None:
            found.setdefault(handle.lower(), (handle, None))
    return found


def _url(video: str | None, comment: str) -> str | None:
    if video is None:
        return None
    return WATCH_URL.format(video=quote(video, safe=""), comment=quote(comment, safe="."))


class _Collector:
    """Rows of one file, as lists of tuples."""

    def __init__(self) -> None:
        # message_id, author_id, kind, text, created_at, parent_id, parent_author_id,
        # thread_id, url, source_line
        self.messages: list[tuple] = []
        # action_id, actor_id, target_account_id, target_handle, target_message_id,
        # created_at, source_line
        self.mentions: list[tuple] = []
        self.accounts: dict[str, list] = {}  # id -> [handle, display_name]
        self.seen: dict[str, int] = {}  # message id -> position
        self.rejects: list[tuple[int | None, str, str | None]] = []

    def account(self, aid: str, handle: str | None, display: str | None) -> None:
        known = self.accounts.get(aid)
        if known is None:
            self.accounts[aid] = [handle, display]
        else:
            for i, value in enumerate((handle, display)):
                if known[i] is None:
                    known[i] = value

    def message(self, row: tuple, mentions: dict[str, tuple[str, str | None]]) -> None:
        mid, author, created, line = row[0], row[1], row[4], row[-1]
        self.messages.append(row)
        for handle, channel in mentions.values():
            self.mentions.append(
                (f"{mid}:mention:{handle}", author, channel, handle, mid, created, line)
            )
            if channel is not None:
                self.account(channel, handle, None)

    def reject(self, position: int, prefix: str, reason: str, obj: object) -> None:
        try:
            raw = orjson.dumps(obj)[:1200]
        except TypeError:
            raw = repr(obj).encode()
        self.rejects.append((position, f"{prefix}{reason}", excerpt(raw)))

    # -- API JSON ---------------------------------------------------------------------------

    def comment(
        self,
        c: object,
        pos: int,
        prefix: str,
        where: str,
        thread: str | None = None,
        video: str | None = None,
        parent_author: str | None = None,
    ) -> str | None:
        """Load one youtube#comment; its author's channel id, or None when rejected."""
        at = f"{where}: " if where else ""
        if not isinstance(c, dict):
            self.reject(pos, prefix, f"{where or 'the value'} is {_kind_name(c)}, not a comment", c)
            return None
        cid = _str(c.get("id"))
        if cid is None:
            self.reject(pos, prefix, f"{at}comment has no id", c)
            return None
        snippet = c.get("snippet")
        if not isinstance(snippet, dict):
            self.reject(pos, prefix, f"{at}comment {cid} has no snippet", c)
            return None
        channel = snippet.get("authorChannelId")
        author = _str(channel.get("value")) if isinstance(channel, dict) else _str(channel)
        if author is None:
            self.reject(pos, prefix, f"{at}comment {cid} has no authorChannelId", c)
            return None
        raw_time = snippet.get("publishedAt")
        created = _time(raw_time)
        if created is None:
            if raw_time is None:
                reason = f"{at}comment {cid} has no publishedAt"
            else:
                reason = f"{at}comment {cid} has publishedAt {raw_time!r}, not an RFC 3339 time"
            self.reject(pos, prefix, reason, c)
            return None
        if cid in self.seen:  # a comment seen twice (a thread's replies, then comments.list)
            return author
        display = _str(snippet.get("authorDisplayName"))
        url_handle = CHANNEL_URL_HANDLE_RE.search(_str(snippet.get("authorChannelUrl")) or "")
        if url_handle is not None:
            handle = unquote(url_handle.group(1))
        elif display is not None and display.startswith("@") and len(display) > 1:
            handle = display[1:]
        else:
            handle = None
        self.account(author, handle, display)

        shown = _str(snippet.get("textDisplay"))
        original = snippet.get("textOriginal")
        text = original if isinstance(original, str) else html_to_text(shown)
        parent = _str(snippet.get("parentId"))
        if parent is not None:
            kind, thread = "reply", thread or parent
        else:
            kind, thread, parent_author = "post", thread or cid, None
        video = _str(snippet.get("videoId")) or video
        self.seen[cid] = pos
        self.message(
            (
                cid,
                author,
                kind,
                text,
                created,
                parent,
                parent_author,
                thread,
                _url(video, cid),
                pos,
            ),
            _mentions(text, shown),
        )
        return author

    def thread(self, t: dict, pos: int, prefix: str, where: str) -> None:
        at = f"{where}: " if where else ""
        inside = f"{where}." if where else ""
        snippet = t.get("snippet")
        tid = _str(t.get("id"))
        if not isinstance(snippet, dict):
            self.reject(pos, prefix, f"{at}commentThread {tid} has no snippet", t)
            return
        video = _str(snippet.get("videoId"))
        top = snippet.get("topLevelComment")
        top_author = None
        if top is None:
            self.reject(pos, prefix, f"{at}commentThread {tid} has no topLevelComment", t)
        else:
            if tid is None and isinstance(top, dict):
                tid = _str(top.get("id"))
            top_author = self.comment(
                top, pos, prefix, f"{inside}snippet.topLevelComment", tid, video
            )
        replies = t.get("replies")
        if replies is None:
            return
        comments = replies.get("comments") if isinstance(replies, dict) else None
        if not isinstance(comments, list):
            self.reject(pos, prefix, f"{inside}replies: no comments list", t)
            return
        for i, reply in enumerate(comments):
            here = f"{inside}replies.comments[{i}]"
            snippet_r = reply.get("snippet") if isinstance(reply, dict) else None
            if isinstance(snippet_r, dict) and _str(snippet_r.get("parentId")) is None and tid:
                reply = {**reply, "snippet": {**snippet_r, "parentId": tid}}
            self.comment(reply, pos, prefix, here, tid, video, top_author)

    def item(self, obj: object, pos: int, prefix: str, where: str) -> None:
        if not isinstance(obj, dict):
            what = f"{where or 'the value'} is {_kind_name(obj)}, not a comment thread"
            self.reject(pos, prefix, what, obj)
            return
        kind = obj.get("kind")
        snippet = obj.get("snippet")
        is_thread = kind == "youtube#commentThread" or (
            kind is None and isinstance(snippet, dict) and "topLevelComment" in snippet
        )
        if is_thread:
            self.thread(obj, pos, prefix, where)
        elif kind == "youtube#comment" or (kind is None and isinstance(snippet, dict)):
            self.comment(obj, pos, prefix, where)
        else:
            what = f"kind {kind!r}" if isinstance(kind, str) else "no kind"
            at = f"{where}: " if where else "an object with "
            self.reject(pos, prefix, f"{at}{what}, neither a commentThread nor a comment", obj)

    def guarded(self, obj: object, pos: int, prefix: str, where: str) -> None:
        try:
            self.item(obj, pos, prefix, where)
        except Exception as exc:  # a structure no rule foresaw rejects only that item
            at = f"{where}: " if where else ""
            self.reject(pos, prefix, f"{at}unexpected structure ({exc!r})", obj)


def _records(obj: object, where: str) -> Iterator[tuple[object, str, str | None]]:
    """The threads and comments in a JSON value: (item, where, problem). Responses and lists
    are opened; a problem (an error response, items that are not a list) comes as a string."""
    if isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _records(value, f"{where}[{i}]")
        return
    if isinstance(obj, dict) and ("items" in obj or str(obj.get("kind", "")).endswith("Response")):
        items = obj.get("items")
        if items is None:
            yield obj, where, f"{where or 'response'}: a response without 'items'"
            return
        if not isinstance(items, list):
            yield obj, where, f"{where or 'response'}: 'items' is {_kind_name(items)}, not a list"
            return
        for i, value in enumerate(items):
            yield value, f"{where}.items[{i}]" if where else f"items[{i}]", None
        return
    if isinstance(obj, dict) and "error" in obj and "id" not in obj:
        error = obj["error"]
        message = error.get("message") if isinstance(error, dict) else error
        yield obj, where, f"an API error response, not comments ({message})"
        return
    yield obj, where, None


def _line_values(data: bytes) -> list[tuple[int, bytes]]:
    """The non-blank lines of the data, numbered from 1."""
    return [(n, raw) for n, raw in enumerate(data.split(b"\n"), start=1) if raw.strip()]


def _parses_as_container(raw: bytes) -> bool:
    try:
        return isinstance(orjson.loads(raw), dict | list)
    except orjson.JSONDecodeError:
        return False


def _items(c: _Collector, obj: object, position: int, prefix: str) -> None:
    for item, where, problem in _records(obj, ""):
        if problem is not None:
            c.reject(position, prefix, problem, item)
        else:
            c.guarded(item, position, prefix, where)


def _parse_json(path: Path, source: str) -> ParsedFile:
    """JSON lines when the first non-blank line is a JSON value of its own (or the file is
    one line); otherwise one document over several lines, numbered by record."""
    c = _Collector()
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    lines = _line_values(data)
    as_lines = len(lines) <= 1 or _parses_as_container(lines[0][1])
    if not as_lines:
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            # a JSON lines file whose first line is broken still has good lines
            as_lines = any(_parses_as_container(raw) for _, raw in lines[1:])
            if not as_lines:
                reason = (
                    f"{source}: not valid JSON ({exc}); a saved API response must be one "
                    "complete JSON document, JSON lines one complete value per line"
                )
                c.rejects.append((None, reason, excerpt(data[:1200])))
        else:
            for record, (item, where, problem) in enumerate(_records(obj, ""), start=1):
                prefix = f"record {record}: "
                if problem is not None:
                    c.reject(record, prefix, problem, item)
                else:
                    c.guarded(item, record, prefix, where)
    if as_lines:
        for number, raw in lines:
            prefix = f"line {number}: "
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                c.rejects.append((number, f"{prefix}not valid JSON ({exc})", excerpt(raw)))
                continue
            _items(c, obj, number, prefix)
    return _result(c, source)


# --------------------------------------------------------------------------------------------
# Comment CSV


def _raw(consumed: list[str]) -> str:
    """The text of a record as read, bytes that are not UTF-8 shown as U+FFFD."""
    return "".join(consumed).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _parse_csv(path: Path, source: str) -> ParsedFile:
    c = _Collector()
    consumed: list[str] = []

    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:

        def lines() -> Iterator[str]:
            for line in f:
                consumed.append(line)
                yield line

        reader = csv.reader(lines())
        header: list[str] | None = None
        pos: dict[str, int] = {}
        video_col: int | None = None
        while True:
            start = reader.line_num + 1
            consumed.clear()
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raw = _raw(consumed)
                c.rejects.append(
                    (start, f"line {start}: malformed CSV record: {exc}", excerpt(raw))
                )
                if reader.line_num < start:  # nothing consumed: do not spin
                    break
                continue
            raw = _raw(consumed)
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            if any("\udc80" <= ch <= "\udcff" for cell in row for ch in cell):
                c.rejects.append((start, f"line {start}: not UTF-8 text", excerpt(raw)))
                continue
            if header is None:
                header = [cell.strip().strip('"').strip().lower() for cell in row]
                for i, name in enumerate(header):
                    pos.setdefault(name, i)
                video_col = pos.get("video_id")
                missing = [name.upper() for name in CSV_REQUIRED if name not in pos]
                if missing:
                    reason = f"{source}: the header lacks {', '.join(missing)}"
                    c.rejects.append((start, reason, excerpt(raw)))
                    break
                continue
            _csv_row(c, row, start, raw, header, pos, video_col)
    return _result(c, source)


def _csv_row(
    c: _Collector,
    row: list[str],
    line: int,
    raw: str,
    header: list[str],
    pos: dict[str, int],
    video_col: int | None,
) -> None:
    prefix = f"line {line}: "

    def bad(reason: str) -> None:
        c.rejects.append((line, prefix + reason, excerpt(raw)))

    if len(row) != len(header):
        bad(f"{len(row)} fields, the header has {len(header)}")
        return
    cid = row[pos["comment_id"]].strip()
    author = row[pos["author"]].strip()
    date = row[pos["date"]].strip()
    if not cid:
        return bad("COMMENT_ID is empty")
    if not author:
        return bad("AUTHOR is empty")
    if not date:
        return bad("DATE is empty")
    created = _time(date)
    if created is None:
        return bad(f"DATE {date!r} is not an ISO 8601 date like {DATE_EXAMPLE!r}")
    if cid in c.seen:
        return bad(f"COMMENT_ID {cid!r} repeats line {c.seen[cid]}")
    c.seen[cid] = line
    text = html_to_text(row[pos["content"]])
    video = row[video_col].strip() or None if video_col is not None else None
    handle = author[1:] if author.startswith("@") and len(author) > 1 else None
    c.account(author, handle, author)
    c.message(
        (cid, author, "post", text, created, None, None, None, _url(video, cid), line),
        _mentions(text),
    )


# --------------------------------------------------------------------------------------------
# Frames


def _result(c: _Collector, source: str) -> ParsedFile:
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
            "thread_id": s,
            "url": s,
            "source_line": pl.Int64,
        },
    )
    actions = _frame(
        c.mentions,
        {
            "action_id": s,
            "actor_id": s,
            "target_account_id": s,
            "target_handle": s,
            "target_message_id": s,
            "created_at": UTC_DATETIME,
            "source_line": pl.Int64,
        },
    ).with_columns(kind=pl.lit("mention"))
    accounts = pl.DataFrame(
        {
            "account_id": pl.Series(list(c.accounts), dtype=s),
            "handle": pl.Series([v[0] for v in c.accounts.values()], dtype=s),
            "display_name": pl.Series([v[1] for v in c.accounts.values()], dtype=s),
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
