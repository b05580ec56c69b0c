"""Reddit comments and submissions as JSON lines: reddit API objects or Pushshift dump lines.

How to get the file
-------------------
Any of these, one JSON value per line (``.ndjson`` / ``.jsonl``; a ``.json`` page saved from
reddit is a single line, so it qualifies too):

* **Pushshift / Arctic Shift dumps** (``RC_*`` comment and ``RS_*`` submission files, or the
  per-subreddit torrents, decompressed with ``zstd -d``): one bare comment or submission
  object per line.
* **The reddit API**: save what ``/r/<sub>/comments.json``, ``/r/<sub>/new.json``,
  ``/user/<name>/comments.json`` or ``/comments/<post_id>.json`` return (add ``raw_json=1`` so
  that ``&``, ``<`` and ``>`` are not HTML-escaped), one response per line; or write PRAW's
  ``comment.__dict__`` / ``submission.__dict__`` (without the ``_reddit`` attribute) one per
  line. Listings (``{"kind": "Listing", "data": {"children": [...]}}``), arrays of listings
  (a post page), wrapped things (``{"kind": "t1", "data": {...}}``) and bare objects are all
  accepted, mixed freely.

What is mapped
--------------
Platform ``reddit``. Ids are reddit **fullnames**: a comment is ``t1_<id>``, a submission
``t3_<id>`` (built from ``id`` when ``name`` is absent, as in Pushshift), so ``parent_id`` and
``link_id`` match message ids directly.

* **account**: reddit has no stable numeric id in every export (``author_fullname``, ``t2_…``,
  is missing from Pushshift and from older API data), so ``account_id`` = ``handle`` = the
  username in ``author`` (unique and permanent on reddit). Also the submission's author
  (``link_author``) a comment replies to, and every ``u/name`` mentioned. A mentioned name that
  matches an author of the file up to case takes that author's spelling. No follower counts
  (reddit exports have none). ``is_brand_hint`` stays null: ``distinguished`` = moderator /
  admin marks a subreddit moderator or a reddit employee, not a company.
* **message** for a comment (``t1``): kind ``reply``; ``parent_id`` = ``parent_id`` (a comment
  ``t1_…`` or the submission ``t3_…``), ``parent_author_id`` = ``link_author`` when the parent
  is the submission and the export says who wrote it; ``thread_id`` = ``link_id``; ``text`` =
  ``body``; ``created_at`` = ``created_utc`` (epoch seconds: number or numeric string).
  Replies nested in an API comment's ``replies`` listing are loaded too; ``more`` placeholders
  (comments the API did not send) are skipped.
* **message** for a submission (``t3``): kind ``post`` (``quote`` with ``quoted_id`` =
  ``crosspost_parent`` for a crosspost); ``thread_id`` = its own fullname; ``text`` = ``title``,
  followed by a blank line and ``selftext`` when there is one.
* ``url`` = ``https://www.reddit.com`` + ``permalink``; without a permalink (older API data)
  ``https://www.reddit.com/r/<subreddit>/comments/<post_id>/_/<comment_id>/``.
* **action** ``mention``: each distinct ``u/name`` or ``/u/name`` (or ``/user/name``) in the
  text (case-insensitively distinct): ``action_id`` = ``{message_id}:mention:{name}``,
  ``target_handle`` = the name as written, ``target_account_id`` = the account id above.
* Deleted content is kept, because the reply structure around it matters: an author
  ``[deleted]`` stays the message's ``author_id`` (``[deleted]`` is no account: it gets no
  account row and is never a mention target), and a body or selftext of exactly ``[deleted]`` or
  ``[removed]`` becomes a null text.

Not mapped: scores and votes (aggregates, not individual likes), awards, flair, edits.

Positions: ``source_line`` and a reject's ``position`` are the 1-based line of the file; every
thing in a listing on one line gets that line. Rejects: a line that is not valid JSON, not an
object or array, a thing that is not a comment or submission (``t2``, ``t5``, …), and a comment
or submission without an id, an ``author``, a valid ``created_utc``, or (comments) a
``parent_id``. The reason names the line and where in it (``line 4: data.children[2]: comment
t1_abc has no created_utc``).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl

from pipelines.formats.common import Head, excerpt, first_json_line, parsed_file
from pipelines.formats.common import frame_from_rows as _frame
from pipelines.formats.common import json_kind as _kind_name
from pipelines.model import UTC_DATETIME, ParsedFile

# The platform writes &, < and > in message text as &amp;, &lt; and &gt; (X's APIs and
# archive, Reddit's API and dumps): ``parse_file`` turns them back into the characters.
ESCAPES_TEXT = True
NAME = "reddit"
DESCRIPTION = (
    "Reddit comments and submissions as JSON lines: API things and listings, or Pushshift "
    "dump lines"
)
PLATFORM = "reddit"
MAX_DEPTH = 64  # nested replies followed this deep
DELETED = "[deleted]"
GONE_TEXT = ("[deleted]", "[removed]")
BASE_URL = "https://www.reddit.com"
MAX_EPOCH = 253402300800  # 10000-01-01: later times are not times

# u/name, /u/name or /user/name, not inside a word or a path ('reddit.com/u/x' is a link, and
# the link's own text usually names the user anyway). Reddit usernames: 3-20 of [A-Za-z0-9_-].
MENTION_RE = re.compile(
    r"(?:^|(?<=[^A-Za-z0-9_/]))(?:/?u|/user)/([A-Za-z0-9_-]{3,20})(?![A-Za-z0-9_-])"
)
THING_KINDS = {"t1": "comment", "t3": "submission"}
OTHER_KINDS = {"t2": "account", "t4": "message", "t5": "subreddit", "t6": "award"}


# --------------------------------------------------------------------------------------------
# Detection


def _is_bare(obj: dict) -> bool:
    """A bare comment or submission object (Pushshift, PRAW __dict__)."""
    return (
        "id" in obj
        and isinstance(obj.get("author"), str)
        and "created_utc" in obj
        and ("subreddit" in obj or "subreddit_id" in obj)
        and ("body" in obj or "title" in obj)
    )


def looks_like_reddit(obj: object) -> bool:
    if isinstance(obj, list):
        return bool(obj) and looks_like_reddit(obj[0])
    if not isinstance(obj, dict):
        return False
    kind, data = obj.get("kind"), obj.get("data")
    if kind in THING_KINDS:
        return isinstance(data, dict)
    if kind == "Listing":
        children = data.get("children") if isinstance(data, dict) else None
        return (
            isinstance(children, list)
            and bool(children)
            and isinstance(children[0], dict)
            and children[0].get("kind") in ("t1", "t3", "more")
        )
    return _is_bare(obj)


def sniff(head: Head) -> bool:
    """The first of the first few non-blank lines that is JSON decides (whole lines are read:
    a listing page is one long line)."""
    found, obj = first_json_line(head)
    return found and looks_like_reddit(obj)


# --------------------------------------------------------------------------------------------
# Values


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _epoch(value: object) -> datetime | None:
    """created_utc: epoch seconds as an int, a float or a numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    if not 0 <= value < MAX_EPOCH:
        return None
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromtimestamp(round(value, 6), UTC)


def _fullname(obj: dict, prefix: str) -> str | None:
    """'t1_abc' from name, or from id."""
    name = _str(obj.get("name"))
    if name is not None and name.startswith(prefix):
        return name
    rid = obj.get("id")
    if isinstance(rid, int) and not isinstance(rid, bool):
        rid = str(rid)
    rid = _str(rid)
    if rid is None:
        return None
    return rid if rid.startswith(prefix) else prefix + rid


def _bare(fullname: str | None) -> str | None:
    return fullname.split("_", 1)[1] if fullname and "_" in fullname else fullname


def _text(value: object) -> str | None:
    text = value if isinstance(value, str) else None
    return None if text in GONE_TEXT else text


def _url(obj: dict, post: str | None, comment: str | None) -> str | None:
    permalink = _str(obj.get("permalink"))
    if permalink is not None:
        if permalink.startswith(("https://", "http://")):
            return permalink
        if permalink.startswith("/"):
            return BASE_URL + permalink
    post_id = _bare(post)
    if not post_id:
        return None
    sub = _str(obj.get("subreddit"))
    base = f"{BASE_URL}/r/{sub}" if sub and re.fullmatch(r"[A-Za-z0-9_]+", sub) else BASE_URL
    if comment is None:
        return f"{base}/comments/{post_id}/"
    return f"{base}/comments/{post_id}/_/{_bare(comment)}/"


# --------------------------------------------------------------------------------------------
# Parsing


class _Collector:
    def __init__(self) -> None:
        # message_id, author_id, kind, text, created_at, parent_id, parent_author_id,
        # quoted_id, thread_id, url, source_line
        self.messages: list[tuple] = []
        # message_id, author_id, created_at, [(handle, ...)], source_line
        self.mentions: list[tuple] = []
        self.seen: set[str] = set()
        self.authors: dict[str, None] = {}  # insertion-ordered set
        self.others: dict[str, None] = {}  # accounts only replied to or mentioned
        self.rejects: list[tuple[int | None, str, str | None]] = []

    def reject(self, line: int, reason: str, obj: object) -> None:
        try:
            raw = orjson.dumps(obj)[:1200]
        except TypeError:
            raw = repr(obj).encode()
        self.rejects.append((line, f"line {line}: {reason}", excerpt(raw)))

    # -- values on one line ---------------------------------------------------------------

    def value(self, obj: object, line: int, where: str, depth: int = 0) -> None:
        """A listing, a list of them, a wrapped thing or a bare object."""
        if depth > MAX_DEPTH:
            self.reject(line, f"{where}: nested deeper than {MAX_DEPTH} levels", obj)
            return
        if isinstance(obj, list):
            for i, item in enumerate(obj):
                self.value(item, line, f"{where}[{i}]" if where else f"[{i}]", depth + 1)
            return
        if not isinstance(obj, dict):
            what = f"{where} is" if where else "the line is"
            self.reject(line, f"{what} {_kind_name(obj)}, not a reddit object", obj)
            return
        prefix = f"{where}." if where else ""
        kind = obj.get("kind")
        data = obj.get("data")
        if kind == "Listing":
            children = data.get("children") if isinstance(data, dict) else None
            if not isinstance(children, list):
                self.reject(line, f"{prefix}data.children: a listing without children", obj)
                return
            for i, child in enumerate(children):
                self.value(child, line, f"{prefix}data.children[{i}]", depth + 1)
            return
        if kind == "more":
            return  # comments the API did not send: nothing to load, nothing wrong
        if isinstance(kind, str) and isinstance(data, dict):
            if kind in THING_KINDS:
                self.thing(data, kind, line, f"{prefix}data", depth)
            else:
                what = OTHER_KINDS.get(kind, "thing")
                self.reject(
                    line,
                    f"{prefix}kind {kind!r}: a reddit {what}, not a comment or submission",
                    obj,
                )
            return
        if "body" in obj or "parent_id" in obj:
            self.thing(obj, "t1", line, where, depth)
        elif "title" in obj or "selftext" in obj:
            self.thing(obj, "t3", line, where, depth)
        else:
            what = f"{where}: an object" if where else "a JSON object"
            self.reject(
                line,
                f"{what} that is neither a comment (no 'body') nor a submission (no 'title') "
                "nor a listing",
                obj,
            )

    def thing(self, obj: dict, kind: str, line: int, where: str, depth: int) -> None:
        what = THING_KINDS[kind]
        at = f"{where}: " if where else ""
        mid = _fullname(obj, kind + "_")
        if mid is None:
            self.reject(line, f"{at}{what} has no id", obj)
            return
        author = _str(obj.get("author"))
        if author is None:
            self.reject(line, f"{at}{what} {mid} has no author", obj)
            return
        raw_time = obj.get("created_utc")
        created = _epoch(raw_time)
        if created is None:
            if raw_time is None:
                reason = f"{at}{what} {mid} has no created_utc"
            else:
                reason = f"{at}{what} {mid} has created_utc {raw_time!r}, not epoch seconds"
            self.reject(line, reason, obj)
            return
        if kind == "t1":
            parent = _str(obj.get("parent_id"))
            if parent is None:
                self.reject(line, f"{at}comment {mid} has no parent_id", obj)
                return
            thread = _str(obj.get("link_id"))
            if thread is None and parent.startswith("t3_"):
                thread = parent
            parent_author = None
            link_author = _str(obj.get("link_author"))
            if parent.startswith("t3_") and link_author is not None:
                parent_author = link_author
                if link_author != DELETED:
                    self.others.setdefault(link_author)
            text = _text(obj.get("body"))
            row = (mid, author, "reply", text, created, parent, parent_author, None, thread)
            url = _url(obj, thread, mid)
        else:
            title = obj.get("title") if isinstance(obj.get("title"), str) else None
            body = _text(obj.get("selftext"))
            text = "\n\n".join(part for part in (title, body) if part) or None
            quoted = _str(obj.get("crosspost_parent"))
            kind_name = "quote" if quoted is not None else "post"
            row = (mid, author, kind_name, text, created, None, None, quoted, mid)
            url = _url(obj, mid, None)

        if mid not in self.seen:  # a thing seen twice in a file is loaded once
            self.seen.add(mid)
            self.messages.append((*row, url, line))
            if author != DELETED:
                self.authors.setdefault(author)
            handles: dict[str, str] = {}
            for match in MENTION_RE.finditer(text or ""):
                handles.setdefault(match.group(1).lower(), match.group(1))
            if handles:
                self.mentions.append((mid, author, created, list(handles.values()), line))

        replies = obj.get("replies")
        if kind == "t1" and isinstance(replies, dict):
            self.value(replies, line, f"{where}.replies" if where else "replies", depth + 1)

    def line(self, raw: bytes, number: int) -> None:
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            self.rejects.append((number, f"line {number}: not valid JSON ({exc})", excerpt(raw)))
            return
        try:
            self.value(obj, number, "")
        except Exception as exc:  # a structure no rule above foresaw: keep the line, go on
            self.rejects.append(
                (number, f"line {number}: unexpected structure ({exc!r})", excerpt(raw))
            )


def parse(path: Path, source: str, head: Head | None = None) -> ParsedFile:
    c = _Collector()
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if raw.strip():
                c.line(raw, number)

    # one spelling per account: an author's own spelling wins over a mention's
    spelling: dict[str, str] = {}
    for name in c.authors:
        spelling.setdefault(name.lower(), name)
    for name in c.others:
        spelling.setdefault(name.lower(), name)
    actions: list[tuple] = []
    for mid, author, created, handles, line in c.mentions:
        for handle in handles:
            target = spelling.setdefault(handle.lower(), handle)
            actions.append(
                (f"{mid}:mention:{handle}", "mention", author, target, handle, mid, created, line)
            )
    names = list(dict.fromkeys(spelling.values()))

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
            "url": s,
            "source_line": pl.Int64,
        },
    )
    action_frame = _frame(
        actions,
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
        {"account_id": pl.Series(names, dtype=s), "handle": pl.Series(names, dtype=s)}
    )
    return parsed_file(
        NAME,
        PLATFORM,
        source,
        accounts=accounts,
        messages=messages,
        actions=action_frame,
        rejects=c.rejects,
    )
