"""Bluesky (AT Protocol) records as JSON lines: repo records or Jetstream events.

How to get the file
-------------------
Bluesky has no "download your data" button that writes JSON: its account export
(Settings > Account > Export my data) is a binary CAR file. Get JSON lines in one of two ways:

* Repo records, one per line, for the accounts you study: page through
  ``com.atproto.repo.listRecords`` (``https://<pds>/xrpc/com.atproto.repo.listRecords?
  repo=<did>&collection=app.bsky.feed.post``, also ``app.bsky.feed.repost``,
  ``app.bsky.feed.like``, ``app.bsky.graph.follow``) and write each element of ``records``
  (``{"uri", "cid", "value"}``) as a line; whole response pages (``{"records": [...],
  "cursor"}``) are accepted as lines too. Tools that unpack a CAR file into JSON (records with
  ``repo``/``did``, ``collection``, ``rkey`` and ``record``) work as well.
* Jetstream: record the JSON events of ``wss://jetstream2.us-east.bsky.network/subscribe?
  wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.feed.repost&...``
  (for example ``websocat ... > events.jsonl``), one event per line.

What is mapped
--------------
* ``app.bsky.feed.post`` -> a message: ``message_id`` = the record's ``at://`` URI,
  ``author_id`` = the repo DID, ``text``, ``created_at`` = ``createdAt`` (UTC),
  ``url`` = ``https://bsky.app/profile/<did>/post/<rkey>``. ``reply.parent.uri`` makes it a
  ``reply`` (``parent_id``; ``parent_author_id`` = the DID inside that URI), ``reply.root.uri``
  is the ``thread_id``. An embedded post (``app.bsky.embed.record``, or the ``record.record`` of
  ``app.bsky.embed.recordWithMedia``) sets ``quoted_id`` (a ``quote`` unless it also replies);
  embedded feeds, lists or starter packs are not quotes. Mention facets
  (``app.bsky.richtext.facet#mention``) -> ``mention`` actions, ``target_account_id`` = the DID,
  ``target_handle`` = the ``@handle`` the facet covers in the text, ``action_id`` =
  ``<post uri>:mention:<did>``.
* ``app.bsky.feed.repost`` -> ``share``, ``app.bsky.feed.like`` -> ``like`` (both with
  ``target_message_id`` = ``subject.uri`` and ``target_account_id`` = the DID inside it), and
  ``app.bsky.graph.follow`` -> ``follow`` (``target_account_id`` = ``subject``); ``action_id`` =
  the record's URI, ``created_at`` = ``createdAt``.
* Accounts: every DID seen (authors, mentioned, replied to, quoted, reposted, liked, followed).
  ``handle`` is filled only where the data says it: a Jetstream ``identity`` event, or the
  ``@handle`` text of a mention facet; ``display_name`` from an ``app.bsky.actor.profile``
  record. ``followers_count`` stays null (records do not carry it).
* Jetstream: ``commit`` events with operation ``create`` or ``update`` are read as records
  (an update replaces an earlier version of the same record in the file). ``delete``
  operations are neither loaded nor rejected; a delete removes the record it names when that
  record appears earlier in the same file (an unliked like is no like). ``account`` events are
  ignored; ``identity`` events only give handles. A record whose ``createdAt`` is missing or
  unreadable takes the event time (``time_us``). The older Jetstream shape (``"type": "com"``,
  ``commit.type`` ``c``/``u``/``d``) is read too.
* Other collections (blocks, lists, feed generators, threadgates...) are valid records that
  carry no engagement: skipped, not rejected.

Positions: ``source_line`` and reject ``position`` are 1-based line numbers. Platform:
``bluesky``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl

from pipelines.formats.common import Head, excerpt, first_json_line, parsed_file
from pipelines.formats.common import frame_from_rows as _frame
from pipelines.formats.common import iso_time_utc as _time
from pipelines.formats.common import json_kind as _kind_name
from pipelines.model import UTC_DATETIME, ParsedFile

NAME = "bluesky"
DESCRIPTION = "Bluesky records as JSON lines (repo records or Jetstream events)"
PLATFORM = "bluesky"

POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
LIKE = "app.bsky.feed.like"
FOLLOW = "app.bsky.graph.follow"
PROFILE = "app.bsky.actor.profile"
MENTION_FEATURE = "app.bsky.richtext.facet#mention"
EMBED_RECORD = "app.bsky.embed.record"
EMBED_RECORD_WITH_MEDIA = "app.bsky.embed.recordWithMedia"
EVENT_KINDS = {"commit": "commit", "identity": "identity", "account": "account"}
OLD_EVENT_KINDS = {"com": "commit", "id": "identity", "acc": "account"}
OLD_OPERATIONS = {"c": "create", "u": "update", "d": "delete"}

_NSID = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(\.[A-Za-z0-9-]+){2,}$")
_DID = re.compile(r"^did:[a-z]+:[A-Za-z0-9._:%-]+$")
_HANDLE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")


def _is_did(value: object) -> bool:
    return isinstance(value, str) and _DID.match(value) is not None


def _is_nsid(value: object) -> bool:
    return isinstance(value, str) and _NSID.match(value) is not None


def split_at_uri(uri: object) -> tuple[str, str, str] | None:
    """(authority, collection, rkey) of ``at://authority/collection/rkey``; None otherwise."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    parts = uri[5:].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def did_of(uri: object) -> str | None:
    """The DID inside an at:// URI (None when the authority is a handle or the URI is bad)."""
    parts = split_at_uri(uri)
    if parts is None or not _is_did(parts[0]):
        return None
    return parts[0]


def looks_like_bluesky(obj: object) -> bool:
    """A repo record, a listRecords page, a record as CAR unpackers write it, or a Jetstream
    event."""
    if not isinstance(obj, dict):
        return False
    if split_at_uri(obj.get("uri")) is not None and isinstance(obj.get("value"), dict):
        return True
    kind = obj.get("kind", obj.get("type"))
    if (
        _is_did(obj.get("did"))
        and "time_us" in obj
        and (kind in EVENT_KINDS or kind in OLD_EVENT_KINDS)
    ):
        return True
    repo = obj.get("repo", obj.get("did"))
    if (
        _is_did(repo)
        and _is_nsid(obj.get("collection"))
        and isinstance(obj.get("rkey"), str)
        and isinstance(obj.get("record"), dict)
    ):
        return True
    records = obj.get("records")
    return isinstance(records, list) and bool(records) and looks_like_bluesky(records[0])


def sniff(head: Head) -> bool:
    """The first of the first few non-blank lines that is JSON decides."""
    found, obj = first_json_line(head)
    return found and looks_like_bluesky(obj)


# --------------------------------------------------------------------------------------------
# Values


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _time_us(value: object) -> datetime | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _uri_of(value: object) -> str | None:
    """``value.uri`` of a strongRef."""
    return _str(value.get("uri")) if isinstance(value, dict) else None


def _quoted_uri(embed: object) -> str | None:
    """The post an embed quotes: ``app.bsky.embed.record`` or ``recordWithMedia``."""
    if not isinstance(embed, dict):
        return None
    kind = embed.get("$type")
    record = embed.get("record")
    if kind == EMBED_RECORD_WITH_MEDIA or (
        kind is None and isinstance(record, dict) and "record" in record
    ):
        record = record.get("record") if isinstance(record, dict) else None
    elif kind not in (EMBED_RECORD, None):
        return None
    uri = _uri_of(record)
    parts = split_at_uri(uri)
    return uri if parts is not None and parts[1] == POST else None


def _facet_handle(text_bytes: bytes | None, index: object) -> str | None:
    """The ``@handle`` a mention facet covers, when its byte range holds one."""
    if text_bytes is None or not isinstance(index, dict):
        return None
    start, end = index.get("byteStart"), index.get("byteEnd")
    if not (isinstance(start, int) and isinstance(end, int)) or not 0 <= start < end:
        return None
    try:
        covered = text_bytes[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not covered.startswith("@"):
        return None
    handle = covered[1:].lower()
    return handle if _HANDLE.match(handle) else None


# --------------------------------------------------------------------------------------------
# Rows


class _Collector:
    def __init__(self) -> None:
        # message_id, author_id, kind, text, created_at, parent_id, parent_author_id,
        # quoted_id, thread_id, url, source_line
        self.messages: list[tuple | None] = []
        # action_id, kind, actor_id, target_account_id, target_handle, target_message_id,
        # created_at, source_line
        self.actions: list[tuple | None] = []
        # record uri -> rows it produced: ("m" | "a", index)
        self.rows_of: dict[str, list[tuple[str, int]]] = {}
        self.accounts: dict[str, list] = {}  # did -> [handle, display_name]
        self.rejects: list[tuple[int | None, str, str | None]] = []

    def account(self, did: str | None, handle: str | None = None, name: str | None = None):
        if did is None:
            return
        known = self.accounts.get(did)
        if known is None:
            self.accounts[did] = [handle, name]
            return
        if handle is not None:
            known[0] = handle
        if name is not None:
            known[1] = name

    def reject(self, line: int, reason: str, raw: object) -> None:
        if not isinstance(raw, bytes | str):
            try:
                raw = orjson.dumps(raw)[:1200]
            except TypeError:
                raw = repr(raw)[:1200]
        self.rejects.append((line, f"line {line}: {reason}", excerpt(raw)))

    def forget(self, uri: str) -> None:
        """Drop the rows an earlier version of a record produced (deleted or updated)."""
        for table, index in self.rows_of.pop(uri, []):
            (self.messages if table == "m" else self.actions)[index] = None

    def _keep(self, uri: str, table: str, row: tuple) -> None:
        rows = self.messages if table == "m" else self.actions
        self.rows_of.setdefault(uri, []).append((table, len(rows)))
        rows.append(row)

    # -- lines ------------------------------------------------------------------------------

    def line(self, raw: bytes, line: int) -> None:
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            self.reject(line, f"not valid JSON ({exc})", raw)
            return
        if not isinstance(obj, dict):
            self.reject(line, f"{_kind_name(obj)}, not a JSON object", raw)
            return
        try:
            self.dispatch(obj, line, raw)
        except Exception as exc:  # a structure no rule foresaw: keep the line, go on
            self.reject(line, f"unexpected structure ({exc!r})", raw)

    def dispatch(self, obj: dict, line: int, raw: bytes) -> None:
        kind = obj.get("kind", obj.get("type"))
        if (
            "time_us" in obj
            and isinstance(kind, str)
            and (kind in EVENT_KINDS or kind in OLD_EVENT_KINDS)
        ):
            self.event(obj, EVENT_KINDS.get(kind) or OLD_EVENT_KINDS[kind], line, raw)
        elif "uri" in obj and "value" in obj:
            self.listed(obj, line, "record")
        elif "collection" in obj and "record" in obj:
            self.unpacked(obj, line)
        elif isinstance(obj.get("records"), list):
            for i, item in enumerate(obj["records"]):
                where = f"records[{i}]"
                if isinstance(item, dict):
                    self.listed(item, line, where)
                else:
                    self.reject(line, f"{where} is {_kind_name(item)}, not a record", item)
        else:
            self.reject(
                line,
                "a JSON object that is neither a repo record ({uri, value}) nor a Jetstream "
                "event ({did, time_us, kind})",
                raw,
            )

    def listed(self, obj: dict, line: int, where: str) -> None:
        """``{"uri": "at://did/collection/rkey", "cid", "value": {...}}``"""
        uri = obj.get("uri")
        parts = split_at_uri(uri)
        if parts is None:
            self.reject(line, f"{where}: uri {uri!r} is not an at://did/collection/rkey URI", obj)
            return
        self.record(parts[0], parts[1], parts[2], obj.get("value"), line, None, where, obj)

    def unpacked(self, obj: dict, line: int) -> None:
        """``{"repo" | "did": ..., "collection", "rkey", "record"}``"""
        repo = obj.get("repo", obj.get("did"))
        parts = split_at_uri(obj.get("uri"))
        if repo is None and parts is not None:
            repo = parts[0]
        collection, rkey = obj.get("collection"), obj.get("rkey")
        if not isinstance(rkey, str) and parts is not None:
            rkey = parts[2]
        if not isinstance(repo, str) or not isinstance(collection, str):
            self.reject(line, "record: no repo DID or collection", obj)
            return
        if not isinstance(rkey, str) or not rkey:
            self.reject(line, f"record in {collection}: no rkey", obj)
            return
        self.record(repo, collection, rkey, obj.get("record"), line, None, "record", obj)

    def event(self, obj: dict, kind: str, line: int, raw: bytes) -> None:
        did = obj.get("did")
        if not _is_did(did):
            self.reject(line, f"{kind} event: did {did!r} is not a DID", raw)
            return
        if kind == "account":
            return
        if kind == "identity":
            identity = obj.get("identity")
            handle = _str(identity.get("handle")) if isinstance(identity, dict) else None
            if handle is not None and _HANDLE.match(handle):
                self.account(did, handle.lower())
            else:
                self.account(did)
            return
        commit = obj.get("commit")
        if not isinstance(commit, dict):
            self.reject(line, f"commit event: 'commit' is {_kind_name(commit)}", raw)
            return
        operation = commit.get("operation", commit.get("type"))
        operation = OLD_OPERATIONS.get(operation, operation)
        collection, rkey = commit.get("collection"), commit.get("rkey")
        if not isinstance(collection, str) or not isinstance(rkey, str) or not rkey:
            self.reject(line, "commit event without a collection and rkey", raw)
            return
        if operation == "delete":
            self.forget(f"at://{did}/{collection}/{rkey}")
            return
        if operation not in ("create", "update"):
            self.reject(line, f"commit event with operation {operation!r}", raw)
            return
        fallback = _time_us(obj.get("time_us"))
        self.record(did, collection, rkey, commit.get("record"), line, fallback, "commit", raw)

    # -- records ----------------------------------------------------------------------------

    def record(
        self,
        repo: str,
        collection: str,
        rkey: str,
        value: object,
        line: int,
        fallback_time: datetime | None,
        where: str,
        raw: object,
    ) -> None:
        if not _is_did(repo):
            self.reject(line, f"{where}: repo {repo!r} is not a DID", raw)
            return
        uri = f"at://{repo}/{collection}/{rkey}"
        if not isinstance(value, dict):
            self.reject(line, f"{where}: {uri} has a record that is {_kind_name(value)}", raw)
            return
        if collection == PROFILE:
            self.account(repo, name=_str(value.get("displayName")))
            return
        if collection not in (POST, REPOST, LIKE, FOLLOW):
            return  # valid, but carries no engagement
        raw_time = value.get("createdAt")
        created = _time(raw_time) or fallback_time
        if created is None:
            if raw_time is None:
                reason = f"{where}: {uri} has no createdAt"
            else:
                reason = f"{where}: {uri} has createdAt {raw_time!r}, not an ISO 8601 time"
            self.reject(line, reason, raw)
            return
        if collection == POST:
            self.post(repo, rkey, uri, value, created, line, where, raw)
            return
        subject = value.get("subject")
        if collection == FOLLOW:
            if not _is_did(subject):
                self.reject(line, f"{where}: follow {uri} has subject {subject!r}, not a DID", raw)
                return
            self.forget(uri)
            self.account(repo)
            self.account(subject)
            self._keep(uri, "a", (uri, "follow", repo, subject, None, None, created, line))
            return
        target = _uri_of(subject)
        if split_at_uri(target) is None:
            what = "repost" if collection == REPOST else "like"
            self.reject(line, f"{where}: {what} {uri} has no subject.uri (an at:// URI)", raw)
            return
        target_did = did_of(target)
        self.forget(uri)
        self.account(repo)
        self.account(target_did)
        kind = "share" if collection == REPOST else "like"
        self._keep(uri, "a", (uri, kind, repo, target_did, None, target, created, line))

    def post(
        self,
        repo: str,
        rkey: str,
        uri: str,
        value: dict,
        created: datetime,
        line: int,
        where: str,
        raw: object,
    ) -> None:
        text = value.get("text")
        text = text if isinstance(text, str) else None
        parent = root = None
        reply = value.get("reply")
        if reply is not None:
            if not isinstance(reply, dict):
                self.reject(line, f"{where}: post {uri} has a reply that is not an object", raw)
                return
            parent, root = _uri_of(reply.get("parent")), _uri_of(reply.get("root"))
            if split_at_uri(parent) is None:
                self.reject(line, f"{where}: post {uri} has a reply without parent.uri", raw)
                return
            if split_at_uri(root) is None:
                root = None
        quoted = _quoted_uri(value.get("embed"))
        kind = "reply" if parent else "quote" if quoted else "post"
        parent_author = did_of(parent)

        mentions: list[tuple[str, str | None]] = []
        facets = value.get("facets")
        text_bytes = text.encode("utf-8") if text is not None else None
        seen: set[str] = set()
        for facet in facets if isinstance(facets, list) else []:
            if not isinstance(facet, dict) or not isinstance(facet.get("features"), list):
                continue
            for feature in facet["features"]:
                if not isinstance(feature, dict) or feature.get("$type") != MENTION_FEATURE:
                    continue
                did = feature.get("did")
                if not _is_did(did) or did in seen:
                    continue
                seen.add(did)
                mentions.append((did, _facet_handle(text_bytes, facet.get("index"))))

        self.forget(uri)
        self.account(repo)
        for ref in (parent, root, quoted):
            self.account(did_of(ref))
        self._keep(
            uri,
            "m",
            (
                uri,
                repo,
                kind,
                text,
                created,
                parent,
                parent_author,
                quoted,
                root,
                f"https://bsky.app/profile/{repo}/post/{rkey}",
                line,
            ),
        )
        for did, handle in mentions:
            self.account(did, handle)
            self._keep(
                uri,
                "a",
                (f"{uri}:mention:{did}", "mention", repo, did, handle, uri, created, line),
            )


# --------------------------------------------------------------------------------------------


def parse(path: Path, source: str, head: Head | None = None) -> ParsedFile:
    c = _Collector()
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if raw.strip():
                c.line(raw, number)

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
        [(did, v[0], v[1]) for did, v in c.accounts.items()],
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
