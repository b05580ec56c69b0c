"""Mastodon account export: the ActivityStreams JSON documents of Settings > Import and export.

How to get the file
-------------------
On the Mastodon web interface: Preferences > Import and export > Data export > "Request your
archive". When the e-mail arrives (one archive a week at most), download it (.zip; .tar.gz
on older servers) and unpack it. Give the pipeline the whole folder, or at least
``outbox.json`` (your posts, replies and boosts), ``likes.json`` (your favourites) and
``actor.json`` (your profile) side by side: outbox and likes read ``actor.json`` from their own
folder to know whose export it is.
The CSV lists on the same page (``following_accounts.csv``, blocks, lists) are not read by
this parser.

What is mapped
--------------
* ``outbox.json`` (an ``OrderedCollection`` of activities):

  - ``Create`` of a ``Note`` (also ``Question``, ``Article``, ``Page``) -> a message:
    ``message_id`` = the Note's ``id`` URL, ``author_id`` = ``attributedTo`` (the actor URL),
    ``text`` = ``content`` turned from HTML into plain text (tags stripped, ``<br>`` and
    ``</p>`` become line breaks, entities unescaped; the content warning ``summary`` is left
    out), ``created_at`` = ``published``, ``url`` = the Note's ``url`` (else its ``id``).
    ``inReplyTo`` makes it a ``reply`` with ``parent_id`` = that URL/id; a quote (``quote``,
    ``quoteUri``, ``quoteUrl`` or ``_misskey_quote``) sets ``quoted_id``. ``thread_id`` stays
    null: Mastodon's ``conversation`` is an opaque tag, not the root post, so staging climbs
    the reply links instead.
  - Each ``tag[]`` entry of type ``Mention`` -> a ``mention`` action, ``target_account_id`` =
    its ``href`` and ``target_handle`` = its ``name`` without the leading ``@``. Mastodon writes
    local accounts as ``@user``: the host of the ``href`` is appended (``user@instance``).
  - ``Announce`` (a boost) -> a ``share``: ``action_id`` = the activity id, ``actor_id`` = its
    ``actor`` (the export owner), ``target_message_id`` = the boosted object's URL/id.
  - ``Like`` and ``Follow`` activities (other servers' outboxes) -> ``like`` / ``follow``.
    Other activity types (``Update``, ``Delete``, ``Undo``...) are rejected as not mapped.
* ``likes.json`` (an ``OrderedCollection`` of liked post URLs) -> ``like`` actions by the
  owner, ``action_id`` = ``<owner>:like:<post URL>``, ``created_at`` null (the export has no
  time). The owner comes from ``actor.json`` beside the file, else from the first activity of
  ``outbox.json`` beside it; with neither, the file is one reject.
* ``actor.json`` (the owner's ``Person``) -> the owner's account: ``account_id`` = its ``id``
  URL, ``handle`` = ``preferredUsername@<host of the id>`` (how others mention them),
  ``display_name`` = ``name``; ``followers_count`` stays null (the export does not say).
* ``bookmarks.json`` is recognised and deliberately yields nothing: bookmarks are private and
  are not engagement anyone else can see.

Whose post a boost, like or reply targets: the export names the post, not its author. The
author is taken from the ``Announce``'s ``cc`` (Mastodon addresses the boosted author there),
else from the URL when it follows Mastodon's ``https://host/users/NAME/statuses/ID`` scheme
(the account is ``https://host/users/NAME``, handle ``NAME@host``); other URL schemes leave it
null. Handles named by a Mention or by ``actor.json`` win over handles derived from URLs; no
handle is guessed from a bare actor URL (Misskey's ``/users/<id>`` is not a user name), except
the owner's when ``actor.json`` is absent.

Positions: ``source_line`` and reject ``position`` are the 1-based index of the item in the
collection's ``orderedItems``. A document that is not valid JSON is read item by item up to
the point where it breaks (a truncated download keeps every item before the cut); the broken
item is one reject. An item that repeats an earlier one (the same note, boost or liked URL) is
rejected as a repeat. Platform: ``mastodon``; all ids are ActivityPub id URLs.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import polars as pl

from pipelines.formats.common import Head, excerpt, parsed_file
from pipelines.formats.common import frame_from_rows as _frame
from pipelines.formats.common import iso_time_utc as _time
from pipelines.formats.common import json_kind as _kind_name
from pipelines.model import UTC_DATETIME, ParsedFile

NAME = "mastodon"
DESCRIPTION = "Mastodon account export (outbox.json, likes.json, actor.json)"
PLATFORM = "mastodon"

ACTOR_TYPES = ("Person", "Service", "Application", "Group", "Organization")
COLLECTION_TYPES = ("OrderedCollection", "OrderedCollectionPage")
NOTE_TYPES = ("Note", "Question", "Article", "Page")
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
QUOTE_KEYS = ("quote", "quoteUri", "quoteUrl", "_misskey_quote")
OWNER_FILE = "actor.json"
OUTBOX_FILE = "outbox.json"
OWNER_FILE_LIMIT = 16 * 1024 * 1024

_CONTEXT = re.compile(r'"@context"\s*:')
_AS_CONTEXT = '"https://www.w3.org/ns/activitystreams"'
_TOP_TYPE = re.compile(r'"type"\s*:\s*"(' + "|".join(COLLECTION_TYPES + ACTOR_TYPES) + r')"')
_ITEMS = re.compile(r'"orderedItems"\s*:\s*\[')
_ID = re.compile(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"')
_ACTOR = re.compile(r'"(?:actor|attributedTo)"\s*:\s*"(https?://(?:[^"\\]|\\.)+)"')
_STATUS_URL = re.compile(r"^(https?://([^/\s]+)/users/([^/\s]+))/statuses/[^/\s]+/?$")
_ACTOR_URL = re.compile(r"^https?://([^/\s]+)/users/([^/\s]+)/?$")


def sniff(head: Head) -> bool:
    """A JSON document (not JSON lines) with an ActivityStreams ``@context`` whose type is an
    ordered collection or an actor."""
    text = head.text.lstrip()
    if not text.startswith("{"):
        return False
    return bool(_CONTEXT.search(text) and _AS_CONTEXT in text and _TOP_TYPE.search(text))


# --------------------------------------------------------------------------------------------
# Values


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _ref(value: object) -> str | None:
    """An object reference: a URL string, or an embedded object's ``id``/``href``."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        return _str(value.get("id")) or _str(value.get("href"))
    if isinstance(value, list):
        for item in value:
            ref = _ref(item)
            if ref is not None:
                return ref
    return None


def _url(value: object) -> str | None:
    """A Note's ``url``: a string, a Link object or a list of either."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        return _str(value.get("href"))
    if isinstance(value, list):
        for item in value:
            url = _url(item)
            if url is not None:
                return url
    return None


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host or None


def author_of_status(url: str | None) -> tuple[str, str] | None:
    """(account URL, handle) of a post URL in Mastodon's ``/users/NAME/statuses/ID`` scheme."""
    if not url:
        return None
    m = _STATUS_URL.match(url)
    if m is None:
        return None
    return m.group(1), f"{m.group(3)}@{m.group(2).lower()}"


def handle_of_actor(url: str | None) -> str | None:
    """``NAME@host`` for an actor URL in Mastodon's ``https://host/users/NAME`` scheme."""
    if not url:
        return None
    m = _ACTOR_URL.match(url)
    return f"{m.group(2)}@{m.group(1).lower()}" if m else None


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    """Mastodon's HTML ``content`` as plain text: tags stripped, ``<br>`` and ``</p>`` as line
    breaks, entities unescaped, trailing line breaks removed."""
    parser = _HtmlText()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts).rstrip()


# --------------------------------------------------------------------------------------------
# The owner of an export


def _read_owner(folder: Path) -> tuple[str, str | None, str | None] | None:
    """(id, handle, display name) from ``actor.json`` in ``folder``, else the actor of the
    first activity in ``outbox.json`` there; None when neither says."""
    actor = folder / OWNER_FILE
    try:
        if actor.is_file() and actor.stat().st_size <= OWNER_FILE_LIMIT:
            doc = orjson.loads(actor.read_bytes().removeprefix(b"\xef\xbb\xbf"))
            if isinstance(doc, dict) and doc.get("type") in ACTOR_TYPES:
                owner = _owner_of(doc)
                if owner is not None:
                    return owner
    except (OSError, orjson.JSONDecodeError):
        pass
    outbox = folder / OUTBOX_FILE
    try:
        with open(outbox, "rb") as f:
            head = f.read(256 * 1024).decode("utf-8", errors="replace")
    except OSError:
        return None
    m = _ITEMS.search(head)
    found = _ACTOR.search(head, m.end() if m else 0)
    if found is None:
        return None
    owner_id = found.group(1)
    return owner_id, handle_of_actor(owner_id), None


def _owner_of(doc: dict) -> tuple[str, str | None, str | None] | None:
    owner_id = _str(doc.get("id"))
    if owner_id is None:
        return None
    username = _str(doc.get("preferredUsername"))
    host = _host(owner_id)
    handle = f"{username}@{host.lower()}" if username and host else handle_of_actor(owner_id)
    return owner_id, handle, _str(doc.get("name"))


# --------------------------------------------------------------------------------------------
# Rows


class _Collector:
    def __init__(self, source: str) -> None:
        self.source = source
        # message_id, author_id, kind, text, created_at, parent_id, parent_author_id,
        # quoted_id, url, source_line
        self.messages: list[tuple] = []
        # action_id, kind, actor_id, target_account_id, target_handle, target_message_id,
        # created_at, source_line
        self.actions: list[tuple] = []
        self.action_ids: set[str] = set()
        self.first_item: dict[str, int] = {}  # note / activity / liked URL -> its item number
        # account_id -> [handle, display_name, rank]; rank 2: declared, 1: derived from a URL
        self.accounts: dict[str, list] = {}
        self.rejects: list[tuple[int | None, str, str | None]] = []

    def account(
        self, aid: str | None, handle: str | None = None, name: str | None = None, rank: int = 1
    ) -> None:
        if aid is None:
            return
        known = self.accounts.get(aid)
        if known is None:
            self.accounts[aid] = [handle, name, rank if handle else 0]
            return
        if handle is not None and rank > known[2]:
            known[0], known[2] = handle, rank
        if known[1] is None and name is not None:
            known[1] = name

    def reject(self, position: int | None, reason: str, obj: object) -> None:
        if isinstance(obj, bytes) or obj is None:  # the document's own text
            raw = obj
        else:
            try:
                raw = orjson.dumps(obj)[:1200]
            except TypeError:
                raw = repr(obj)[:1200]
        where = f"item {position}: " if position is not None else f"{self.source}: "
        self.rejects.append((position, where + reason, excerpt(raw)))

    def is_repeat(self, key: str, k: int, what: str, obj: object) -> bool:
        """Whether ``key`` was loaded from an earlier item (then this item is rejected)."""
        first = self.first_item.setdefault(key, k)
        if first != k:
            self.reject(k, f"{what} repeats item {first}", obj)
            return True
        return False

    def action(self, row: tuple) -> None:
        if row[0] in self.action_ids:
            return
        self.action_ids.add(row[0])
        self.actions.append(row)

    # -- outbox -----------------------------------------------------------------------------

    def activity(self, item: object, k: int, owner: str | None) -> None:
        if not isinstance(item, dict):
            self.reject(k, f"is {_kind_name(item)}, not an activity object", item)
            return
        kind = item.get("type")
        if kind == "Create":
            obj = item.get("object")
            if isinstance(obj, dict):
                self.note(obj, k, item, owner)
            elif isinstance(obj, str):
                self.reject(k, f"Create of {obj!r}: the object is a link, not embedded", item)
            else:
                self.reject(k, f"Create whose object is {_kind_name(obj)}", item)
        elif kind in NOTE_TYPES:
            self.note(item, k, None, owner)
        elif kind == "Announce":
            self.announce(item, k, owner)
        elif kind in ("Like", "Follow"):
            self.like_or_follow(item, k, owner)
        elif isinstance(kind, str):
            self.reject(
                k, f"a {kind!r} activity: only Create, Announce, Like and Follow are mapped", item
            )
        else:
            self.reject(k, "an object without a 'type'", item)

    def note(self, obj: dict, k: int, activity: dict | None, owner: str | None) -> None:
        kind_name = obj.get("type")
        if kind_name not in NOTE_TYPES:
            self.reject(k, f"Create of a {kind_name!r}: only Note-like objects are mapped", obj)
            return
        nid = _str(obj.get("id"))
        if nid is None:
            self.reject(k, "the note has no id", activity or obj)
            return
        author = _ref(obj.get("attributedTo"))
        if author is None and activity is not None:
            author = _ref(activity.get("actor"))
        author = author or owner
        if author is None:
            self.reject(k, f"note {nid} has no attributedTo (no author)", activity or obj)
            return
        raw_time = obj.get("published")
        if raw_time is None and activity is not None:
            raw_time = activity.get("published")
        created = _time(raw_time)
        if created is None:
            if raw_time is None:
                reason = f"note {nid} has no published time"
            else:
                reason = f"note {nid} has published {raw_time!r}, not an ISO 8601 time"
            self.reject(k, reason, activity or obj)
            return
        content = obj.get("content")
        text = html_to_text(content) if isinstance(content, str) else None
        parent = _ref(obj.get("inReplyTo"))
        quoted = next((q for q in (_ref(obj.get(key)) for key in QUOTE_KEYS) if q), None)
        parent_author = author_of_status(parent)
        kind = "reply" if parent else "quote" if quoted else "post"
        url = _url(obj.get("url")) or nid

        mentions: list[tuple[str | None, str | None]] = []
        tags = obj.get("tag")
        if isinstance(tags, dict):
            tags = [tags]
        seen: set[str] = set()
        for tag in tags if isinstance(tags, list) else []:
            if not isinstance(tag, dict) or tag.get("type") != "Mention":
                continue
            href = _str(tag.get("href"))
            handle = _str(tag.get("name"))
            if handle is not None:
                handle = handle.lstrip("@") or None
            if handle is not None and "@" not in handle:
                host = _host(href)
                handle = f"{handle}@{host.lower()}" if host else handle
            key = href or handle
            if key is None or key in seen:
                continue
            seen.add(key)
            mentions.append((href, handle))

        if self.is_repeat(nid, k, f"note {nid}", activity or obj):
            return
        self.account(author)
        if parent_author is not None:
            self.account(parent_author[0], parent_author[1])
        self.messages.append(
            (
                nid,
                author,
                kind,
                text,
                created,
                parent,
                parent_author[0] if parent_author else None,
                quoted,
                url,
                k,
            )
        )
        for href, handle in mentions:
            self.account(href, handle, rank=2)
            self.action(
                (
                    f"{nid}:mention:{handle or href}",
                    "mention",
                    author,
                    href,
                    handle,
                    nid,
                    created,
                    k,
                )
            )

    def _action_time(self, item: dict, k: int, what: str) -> tuple[bool, datetime | None]:
        raw_time = item.get("published")
        if raw_time is None:
            return True, None
        created = _time(raw_time)
        if created is None:
            self.reject(k, f"{what} has published {raw_time!r}, not an ISO 8601 time", item)
            return False, None
        return True, created

    def announce(self, item: dict, k: int, owner: str | None) -> None:
        aid = _str(item.get("id"))
        if aid is None:
            self.reject(k, "the Announce (boost) has no id", item)
            return
        actor = _ref(item.get("actor")) or owner
        if actor is None:
            self.reject(k, f"boost {aid} has no actor", item)
            return
        obj = item.get("object")
        target = _ref(obj)
        if target is None:
            self.reject(k, f"boost {aid} has no object (what was boosted)", item)
            return
        ok, created = self._action_time(item, k, f"boost {aid}")
        if not ok:
            return
        author = _ref(obj.get("attributedTo")) if isinstance(obj, dict) else None
        derived = author_of_status(target)
        if author is None:
            cc = item.get("cc")
            cc = [cc] if isinstance(cc, str) else cc if isinstance(cc, list) else []
            candidates = {
                c
                for c in cc
                if isinstance(c, str)
                and c
                and c != PUBLIC
                and c != actor
                and not c.rstrip("/").endswith("/followers")
            }
            if len(candidates) == 1:
                author = candidates.pop()
        if author is None and derived is not None:
            author = derived[0]
        handle = derived[1] if derived is not None and derived[0] == author else None
        if self.is_repeat(aid, k, f"boost {aid}", item):
            return
        self.account(actor)
        self.account(author, handle)
        self.action((aid, "share", actor, author, None, target, created, k))

    def like_or_follow(self, item: dict, k: int, owner: str | None) -> None:
        kind = item["type"]
        actor = _ref(item.get("actor")) or owner
        target = _ref(item.get("object"))
        what = f"{kind} activity"
        if actor is None or target is None:
            missing = "actor" if actor is None else "object"
            self.reject(k, f"{what} has no {missing}", item)
            return
        ok, created = self._action_time(item, k, what)
        if not ok:
            return
        aid = _str(item.get("id")) or f"{actor}:{kind.lower()}:{target}"
        if self.is_repeat(aid, k, f"{what} {aid}", item):
            return
        self.account(actor)
        if kind == "Follow":
            self.account(target)
            self.action((aid, "follow", actor, target, None, None, created, k))
        else:
            author = author_of_status(target)
            if author is not None:
                self.account(*author)
            self.action(
                (aid, "like", actor, author[0] if author else None, None, target, created, k)
            )

    # -- likes ------------------------------------------------------------------------------

    def liked(self, item: object, k: int, owner: str) -> None:
        if isinstance(item, dict) and item.get("type") == "Like":
            self.like_or_follow(item, k, owner)
            return
        target = _ref(item)
        if target is None:
            self.reject(k, f"is {_kind_name(item)}, not the URL of a liked post", item)
            return
        if self.is_repeat(f"{owner}:like:{target}", k, f"the like of {target}", item):
            return
        author = author_of_status(target)
        if author is not None:
            self.account(*author)
        self.action(
            (
                f"{owner}:like:{target}",
                "like",
                owner,
                author[0] if author else None,
                None,
                target,
                None,
                k,
            )
        )


# --------------------------------------------------------------------------------------------
# Reading the document


def _salvage(text: str) -> tuple[dict, list[tuple[object, str]], tuple | None] | None:
    """Read a document that is not valid JSON item by item: the collection's id and type (from
    the text before ``orderedItems``), each readable item with its text, and where the items
    break off ((item number, reason, excerpt), None when the array closes). None when there is
    no ``orderedItems`` array to read."""
    matches = list(_ITEMS.finditer(text))
    if not matches:
        return None
    start = matches[-1]
    prefix = text[: start.start()]
    meta: dict = {}
    m = _ID.search(prefix)
    if m is not None:
        try:
            meta["id"] = json.loads(f'"{m.group(1)}"')
        except ValueError:
            meta["id"] = m.group(1)
    t = _TOP_TYPE.search(prefix)
    if t is not None:
        meta["type"] = t.group(1)
    decoder = json.JSONDecoder()
    items: list[tuple[object, str]] = []
    pos, n = start.end(), len(text)

    def skip(pos: int) -> int:
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        return pos

    pos = skip(pos)
    if pos < n and text[pos] == "]":
        return meta, items, None
    while True:
        begin = pos
        if pos >= n:
            k = len(items) + 1
            return meta, items, (k, "the file ends before this item (it was cut short)", None)
        try:
            item, pos = decoder.raw_decode(text, pos)
        except ValueError as err:
            return (
                meta,
                items,
                (
                    len(items) + 1,
                    f"the document breaks in this item ({err})",
                    text[begin : begin + 1200],
                ),
            )
        items.append((item, text[begin:pos]))
        pos = skip(pos)
        if pos < n and text[pos] == ",":
            pos = skip(pos + 1)
        elif pos < n and text[pos] == "]":
            return meta, items, None
        else:
            where = "the file ends" if pos >= n else f"unexpected {text[pos]!r} at char {pos}"
            return (
                meta,
                items,
                (
                    len(items) + 1,
                    f"the document breaks after item {len(items)} "
                    f"({where}): nothing after it can be read",
                    text[pos : pos + 1200],
                ),
            )


def _collection_kind(doc_id: str | None, items: list) -> str | None:
    name = (doc_id or "").split("?")[0].split("#")[0].rstrip("/").rsplit("/", 1)[-1].lower()
    name = name.removesuffix(".json")
    if name == "bookmarks":
        return "bookmarks"
    if name in ("likes", "liked", "favourites", "favorites"):
        return "likes"
    if name == "outbox":
        return "outbox"
    if any(isinstance(i, dict) and i.get("type") != "Like" for i in items):
        return "outbox"
    return None


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
            "quoted_id": s,
            "url": s,
            "source_line": pl.Int64,
        },
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
    accounts = _frame(
        [(aid, v[0], v[1]) for aid, v in c.accounts.items()],
        {"account_id": s, "handle": s, "display_name": s},
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


def parse(path: Path, source: str, head: Head | None = None) -> ParsedFile:
    c = _Collector(source)
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    broken: tuple | None = None
    bad_items: dict[int, tuple[str, str]] = {}
    json_error: orjson.JSONDecodeError | None = None
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        json_error = exc
        salvaged = _salvage(data.decode("utf-8", errors="surrogateescape"))
        if salvaged is None:
            c.reject(None, f"not valid JSON ({exc})", data[:1200])
            return _result(c, source)
        meta, read, broken = salvaged
        items = []
        for k, (item, raw) in enumerate(read, start=1):
            try:  # what orjson refused: bytes that are not UTF-8, lone surrogates, huge numbers
                orjson.dumps(item)
            except TypeError as err:
                raw_bytes = raw[:1200].encode("utf-8", errors="surrogateescape")
                bad_items[k] = (f"the item cannot be read ({err})", raw_bytes)
                item = None
            items.append(item)
        if broken is None and not bad_items:
            c.reject(None, f"not valid JSON ({exc}); its items were read one by one", None)
        doc = {**meta, "orderedItems": items}
    if not isinstance(doc, dict):
        c.reject(None, f"the document is {_kind_name(doc)}, not an ActivityStreams object", data)
        return _result(c, source)

    kind = doc.get("type")
    if kind in ACTOR_TYPES:
        owner = _owner_of(doc)
        if owner is None:
            c.reject(None, f"the {kind} (actor.json) has no id", data)
        else:
            c.account(owner[0], owner[1], owner[2], rank=2)
        return _result(c, source)

    items = doc.get("orderedItems")
    if items is None:
        items = doc.get("items")
    if not isinstance(items, list):
        what = "no orderedItems" if items is None else f"orderedItems that is {_kind_name(items)}"
        c.reject(None, f"a {kind or 'document'} with {what}: nothing to load", data)
        return _result(c, source)

    collection = _collection_kind(_str(doc.get("id")), items)
    if collection == "bookmarks":
        return _result(c, source)  # private, not engagement: recognised, deliberately empty
    owner_info = _read_owner(path.parent)
    owner = owner_info[0] if owner_info else None
    if owner_info is not None:
        c.account(owner_info[0], owner_info[1], owner_info[2], rank=2)
    if collection == "likes":
        if owner is None:
            c.reject(
                None,
                f"whose likes these are is unknown: no {OWNER_FILE} (nor {OUTBOX_FILE}) "
                f"beside the file names the account",
                data,
            )
            return _result(c, source)
        handler = c.liked
    elif collection == "outbox":
        handler = c.activity
    else:
        if json_error is not None:
            if not c.rejects:
                c.reject(None, f"not valid JSON ({json_error})", data[:1200])
        elif items:
            c.reject(
                None,
                f"a collection of {len(items)} links whose id {doc.get('id')!r} names neither "
                "likes nor bookmarks: not mapped",
                data,
            )
        return _result(c, source)
    for k, item in enumerate(items, start=1):
        if k in bad_items:
            c.reject(k, *bad_items[k])
        else:
            _guarded(c, handler, item, k, owner)
    if broken is not None:
        k, reason, text = broken
        c.reject(k, reason, text.encode("utf-8", errors="surrogateescape") if text else None)
    return _result(c, source)


def _guarded(c: _Collector, handler, item: object, k: int, owner: str | None) -> None:
    try:
        handler(item, k, owner)
    except Exception as exc:  # a structure no rule foresaw: reject the item, go on
        c.reject(k, f"unexpected structure ({exc!r})", item)
