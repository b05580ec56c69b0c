"""X/Twitter "Download your data" archive files (tweets.js, like.js, follower.js,
following.js, account.js).

How to get the file
-------------------
On x.com: More → Settings and privacy → Your account → Download an archive of your data;
confirm your password, wait for the e-mail (a day or more), download the ZIP and unzip it.
The files are in its ``data/`` folder: copy ``tweets.js`` (older archives: ``tweet.js``; large
ones are split into ``tweets-part1.js``, ...), ``like.js``, ``follower.js``, ``following.js``
and ``account.js`` into the input folder, keeping them together in one folder (one folder per
archive): the owner of the archive is read from ``account.js`` beside the others. Each file
starts with ``window.YTD.<name>.part<N> = `` followed by a JSON array.

What is mapped
--------------
The archive speaks for one account, its owner: every tweet is the owner's, every like is a
like by the owner. The owner is found, in this order:

1. ``account.js`` in the same folder (``accountId``, ``username``, ``accountDisplayName``);
2. else the owner's own threads in the folder's tweets files: a tweet replying to another
   tweet of the same archive replies to the owner, so its ``in_reply_to_user_id_str`` and
   ``in_reply_to_screen_name`` are the owner's id and handle (the most common pair is kept);
3. else a placeholder id ``archive:<folder name>`` (the name of the folder holding the file;
   when that folder is called ``data``, as in the unzipped archive, the name of the folder
   above it), handle unknown. Put ``account.js`` beside the files to get the real id.

* tweets (tweets.js, tweet.js, tweets-part<N>.js, and deleted-tweets.js, whose items have the
  same shape) → messages (author = the owner): ``reply`` when ``in_reply_to_status_id_str`` is
  set (``parent_author_id`` = ``in_reply_to_user_id_str``), ``quote`` when
  ``entities.urls[].expanded_url`` links to a status (``twitter.com`` or ``x.com``
  ``/<user>/status/<id>``: the archive keeps quotes only as such links; ``quoted_id`` = that
  id; a reply that links a status is a reply with ``quoted_id``), else ``post``.
  ``created_at`` ("Wed Oct 10 20:19:24 +0000 2018") is converted to UTC; no thread id.
  url = ``https://x.com/<owner handle>/status/<id>`` (``/i/web/status/<id>`` while the
  handle is unknown);
* a tweet whose text starts with ``RT @handle:`` is a retweet, kept by the archive only as
  text: a ``share`` action (action_id = the tweet id, target_handle = handle,
  target_account_id = that handle's id from ``entities.user_mentions`` when given, no target
  message id), not a message;
* ``entities.user_mentions`` of other tweets → ``mention`` actions
  (``<tweet id>:mention:<screen_name>``); the archive writes id ``-1`` for accounts it no
  longer knows: their id stays null, the handle is kept;
* like.js → ``like`` actions: actor = the owner, target_message_id = ``tweetId``,
  action_id ``<owner>:like:<tweetId>``, no time (the archive has none), target_handle only
  when ``expandedUrl`` names the author;
* follower.js → ``follow`` actions by ``accountId`` of the owner; following.js → ``follow``
  actions by the owner of ``accountId``; action_id ``<actor>:follow:<target>``, no time;
* accounts: the owner, accounts mentioned or replied to (id, handle, name), followers and
  followed accounts (id only; the handle when ``userLink`` is a profile link rather than the
  usual ``intent/user?user_id=`` link). The archive has no follower counts.

Other archive files (direct messages, profile, ad data, ...) are not mapped: each is one
reject saying so. Positions (``source_line``, reject positions) are the 1-based index of the
record in the file's array. A record that is not valid JSON, or lacks its id or a readable
time, is rejected; the records around it still load.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson

from pipelines.formats.common import UTF8_BOM, Head, excerpt
from pipelines.formats.twitter_v1 import (
    ArrayItem,
    build_parsed,
    decode_lenient,
    dumps_excerpt,
    iter_json_array,
    kind_name,
    native_id,
    raw_excerpt,
    status_url,
    text_or_none,
    twitter_time,
)
from pipelines.model import ParsedFile

# The platform writes &, < and > in message text as &amp;, &lt; and &gt; (X's APIs and
# archive, Reddit's API and dumps): ``parse_file`` turns them back into the characters.
ESCAPES_TEXT = True
NAME = "twitter_archive"
DESCRIPTION = (
    "X/Twitter 'Download your data' archive files (tweets.js, like.js, follower.js, "
    "following.js, account.js)"
)
PLATFORM = "twitter"

PREFIX = re.compile(r"[ \t\r\n]*window\.YTD\.([A-Za-z0-9_]+)\.part(\d+)[ \t]*=[ \t\r\n]*")
# archive file name (YTD name) -> the key wrapping each item
ITEM_KEYS = {
    "tweets": "tweet",
    "tweet": "tweet",
    "deleted_tweets": "tweet",
    "like": "like",
    "follower": "follower",
    "following": "following",
    "account": "account",
}
RETWEET = re.compile(r"RT @([A-Za-z0-9_]+):")
STATUS_LINK = re.compile(
    r"https?://(?:(?:www|mobile|m)\.)?(?:twitter|x)\.com/(?:#!/)?"
    r"(?:i/web|([A-Za-z0-9_]+))/status(?:es)?/(\d+)",
    re.IGNORECASE,
)
PROFILE_LINK = re.compile(r"https?://(?:www\.)?(?:twitter|x)\.com/([A-Za-z0-9_]{1,15})/?")
TWEET_FILES = re.compile(r"tweets?(?:-part\d+)?\.js")
ACCOUNT_FILES = re.compile(r"account(?:-part\d+)?\.js")


def sniff(head: Head) -> bool:
    """Any archive data file: it opens with ``window.YTD.<name>.part<N> =``."""
    return PREFIX.match(head.text) is not None


# --------------------------------------------------------------------------------------------
# Reading one archive file


@dataclass
class ArchiveFile:
    name: str | None  # the YTD name ('tweets', 'like', ...); None when the prefix is missing
    items: list[ArrayItem]
    problem: str | None  # why the file as a whole could not be read
    failure: str | None = None  # why it is not valid JSON, when it was read record by record


def read_archive(data: bytes) -> ArchiveFile:
    """The records of an archive file; never raises for bad content."""
    data = data.removeprefix(UTF8_BOM)
    m = PREFIX.match(data[:400].decode("ascii", errors="replace"))
    if m is None:
        return ArchiveFile(None, [], "it does not start with 'window.YTD.<name>.part<N> = '")
    name = m.group(1)
    body = data[m.end() :]  # the prefix is ASCII: the same offset in bytes
    try:
        doc = orjson.loads(body.rstrip().removesuffix(b";"))
    except orjson.JSONDecodeError as exc:
        failure = str(exc)
    else:
        if not isinstance(doc, list):
            return ArchiveFile(name, [], f"window.YTD.{name} is {kind_name(doc)}, not a list")
        return ArchiveFile(name, [ArrayItem(i, v, "", None) for i, v in enumerate(doc, 1)], None)
    text = decode_lenient(data)
    start = m.end()
    if not text.startswith("[", start):
        return ArchiveFile(name, [], f"window.YTD.{name} is not a JSON array ({failure})")
    keys = [ITEM_KEYS.get(name, name), *sorted(set(ITEM_KEYS.values()))]
    items = list(iter_json_array(text, start + 1, keys))
    return ArchiveFile(name, items, None, failure)


def _unwrap(value: object, key: str) -> object:
    """The inside of ``{"<key>": {...}}``; older tweet.js files hold bare tweets."""
    if isinstance(value, dict) and key in value:
        return value[key]
    if key == "tweet" and isinstance(value, dict) and "id_str" in value:
        return value
    return _MISSING


_MISSING = object()


# --------------------------------------------------------------------------------------------
# The owner of the archive


@dataclass(frozen=True)
class Owner:
    account_id: str
    handle: str | None
    display_name: str | None
    how: str  # 'account.js', 'self-replies' or 'placeholder'


def _stamp(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=64)
def _account_of(stamp: tuple[str, int, int]) -> tuple[str, str | None, str | None] | None:
    try:
        archive = read_archive(Path(stamp[0]).read_bytes())
    except OSError:
        return None
    for item in archive.items:
        account = _unwrap(item.value, "account")
        if isinstance(account, dict):
            aid = native_id(account.get("accountId"))
            if aid is not None:
                return (
                    aid,
                    text_or_none(account.get("username")) or None,
                    text_or_none(account.get("accountDisplayName")),
                )
    return None


def _thread_facts(tweets: list[object]) -> tuple[frozenset[str], tuple[tuple, ...]]:
    """The tweet ids of a tweets file and its replies as (parent id, user id, handle)."""
    ids: set[str] = set()
    replies: list[tuple[str, str, str | None]] = []
    for t in tweets:
        if not isinstance(t, dict):
            continue
        tid = native_id(t.get("id_str")) or native_id(t.get("id"))
        if tid is not None:
            ids.add(tid)
        parent = native_id(t.get("in_reply_to_status_id_str"))
        uid = native_id(t.get("in_reply_to_user_id_str"))
        if parent is not None and uid is not None:
            handle = text_or_none(t.get("in_reply_to_screen_name")) or None
            replies.append((parent, uid, handle))
    return frozenset(ids), tuple(replies)


@lru_cache(maxsize=64)
def _thread_facts_of(stamp: tuple[str, int, int]) -> tuple[frozenset[str], tuple[tuple, ...]]:
    try:
        archive = read_archive(Path(stamp[0]).read_bytes())
    except OSError:
        return frozenset(), ()
    if ITEM_KEYS.get(archive.name or "") != "tweet":
        return frozenset(), ()
    return _thread_facts([_unwrap(item.value, "tweet") for item in archive.items])


def _siblings(path: Path, pattern: re.Pattern[str]) -> list[Path]:
    try:
        entries = sorted(path.parent.iterdir())
    except OSError:
        return []
    return [p for p in entries if pattern.fullmatch(p.name.lower()) and p.is_file()]


def placeholder_id(path: Path) -> str:
    folder = path.resolve().parent
    name = folder.name
    if name.lower() == "data" and folder.parent.name:
        name = folder.parent.name
    return f"archive:{name or 'unnamed'}"


def find_owner(path: Path, own_tweets: list[object] | None = None) -> Owner:
    """The archive's owner for the file at ``path`` (see the module docstring).
    ``own_tweets``: the tweets of ``path`` itself when it is a tweets file (already read)."""
    for sibling in _siblings(path, ACCOUNT_FILES):
        try:
            found = _account_of(_stamp(sibling))
        except OSError:
            continue
        if found is not None:
            return Owner(*found, how="account.js")
    ids: set[str] = set()
    replies: list[tuple] = []
    if own_tweets is not None:
        own_ids, own_replies = _thread_facts(own_tweets)
        ids |= own_ids
        replies.extend(own_replies)
    for sibling in _siblings(path, TWEET_FILES):
        if own_tweets is not None and sibling.resolve() == path.resolve():
            continue
        try:
            sib_ids, sib_replies = _thread_facts_of(_stamp(sibling))
        except OSError:
            continue
        ids |= sib_ids
        replies.extend(sib_replies)
    owners = Counter(uid for parent, uid, _ in replies if parent in ids)
    if owners:
        uid = owners.most_common(1)[0][0]
        handles = Counter(h for parent, u, h in replies if parent in ids and u == uid and h)
        handle = handles.most_common(1)[0][0] if handles else None
        return Owner(uid, handle, None, how="self-replies")
    return Owner(placeholder_id(path), None, None, how="placeholder")


# --------------------------------------------------------------------------------------------
# Parsing


class _Collector:
    def __init__(self, owner: Owner) -> None:
        self.owner = owner
        self.messages: list[tuple] = []
        self.actions: list[tuple] = []
        self.accounts: dict[str, list] = {}  # id -> [handle, display_name, followers]
        self.seen: set[str] = set()
        self.rejects: list[tuple[int | None, str, str | None]] = []
        self.account(owner.account_id, owner.handle, owner.display_name)

    def reject(self, position: int | None, reason: str, obj: object) -> None:
        prefix = f"record {position}: " if position is not None else ""
        self.rejects.append((position, prefix + reason, dumps_excerpt(obj)))

    def account(self, uid: str | None, handle: object = None, name: object = None) -> None:
        if uid is None:
            return
        values = (text_or_none(handle) or None, text_or_none(name) or None)
        known = self.accounts.get(uid)
        if known is None:
            self.accounts[uid] = [*values, None]
        else:
            for i, value in enumerate(values):
                if known[i] is None:
                    known[i] = value

    # -- items ------------------------------------------------------------------------------

    def tweet(self, t: object, pos: int) -> None:
        if not isinstance(t, dict):
            self.reject(pos, f"tweet is {kind_name(t)}, not an object", t)
            return
        tid = native_id(t.get("id_str")) or native_id(t.get("id"))
        if tid is None:
            self.reject(pos, "tweet has no id_str", t)
            return
        if tid in self.seen:
            return
        raw_time = t.get("created_at")
        created = twitter_time(raw_time)
        if created is None:
            if raw_time is None:
                reason = f"tweet {tid} has no created_at"
            else:
                reason = (
                    f"tweet {tid} has created_at {raw_time!r}, not a time like "
                    "'Wed Oct 10 20:19:24 +0000 2018'"
                )
            self.reject(pos, reason, t)
            return
        text = text_or_none(t.get("full_text")) or text_or_none(t.get("text"))
        entities = t.get("entities")
        if not isinstance(entities, dict):
            entities = {}

        mentions: list[tuple[str | None, str | None, object]] = []
        raw_mentions = entities.get("user_mentions")
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

        owner = self.owner.account_id
        self.seen.add(tid)
        for mid, handle, name in mentions:
            self.account(mid, handle, name)
        retweet = RETWEET.match(text or "")
        if retweet:
            handle = retweet.group(1)
            target = next(
                (mid for mid, h, _ in mentions if h and h.lower() == handle.lower() and mid),
                None,
            )
            self.actions.append((tid, "share", owner, target, handle, None, created, pos))
            return

        parent = native_id(t.get("in_reply_to_status_id_str")) or native_id(
            t.get("in_reply_to_status_id")
        )
        reply_to_user = native_id(t.get("in_reply_to_user_id_str")) or native_id(
            t.get("in_reply_to_user_id")
        )
        self.account(reply_to_user, t.get("in_reply_to_screen_name"))
        quoted = None
        urls = entities.get("urls")
        if isinstance(urls, list):
            for u in urls:
                link = text_or_none(u.get("expanded_url")) if isinstance(u, dict) else None
                m = STATUS_LINK.match(link or "")
                if m and m.group(2) != tid:
                    quoted = m.group(2)
                    break
        kind = "reply" if parent is not None else "quote" if quoted is not None else "post"
        self.messages.append(
            (
                tid,
                owner,
                kind,
                text,
                created,
                parent,
                reply_to_user,
                quoted,
                None,
                status_url(self.owner.handle, tid),
                pos,
            )
        )
        for mid, handle, _ in mentions:
            self.actions.append(
                (f"{tid}:mention:{handle or mid}", "mention", owner, mid, handle, tid, created, pos)
            )

    def like(self, like: object, pos: int) -> None:
        if not isinstance(like, dict):
            self.reject(pos, f"like is {kind_name(like)}, not an object", like)
            return
        tweet_id = native_id(like.get("tweetId"))
        if tweet_id is None:
            self.reject(pos, "like has no tweetId", like)
            return
        owner = self.owner.account_id
        action_id = f"{owner}:like:{tweet_id}"
        if action_id in self.seen:
            return
        self.seen.add(action_id)
        m = STATUS_LINK.match(text_or_none(like.get("expandedUrl")) or "")
        handle = m.group(1) if m else None
        self.actions.append((action_id, "like", owner, None, handle, tweet_id, None, pos))

    def follow(self, item: object, pos: int, key: str) -> None:
        if not isinstance(item, dict):
            self.reject(pos, f"{key} is {kind_name(item)}, not an object", item)
            return
        other = native_id(item.get("accountId"))
        if other is None:
            self.reject(pos, f"{key} has no accountId", item)
            return
        owner = self.owner.account_id
        actor, target = (other, owner) if key == "follower" else (owner, other)
        action_id = f"{actor}:follow:{target}"
        if action_id in self.seen:
            return
        self.seen.add(action_id)
        link = PROFILE_LINK.fullmatch(text_or_none(item.get("userLink")) or "")
        self.account(other, link.group(1) if link and link.group(1) != "intent" else None)
        self.actions.append((action_id, "follow", actor, target, None, None, None, pos))

    def account_item(self, account: object, pos: int) -> None:
        if not isinstance(account, dict):
            self.reject(pos, f"account is {kind_name(account)}, not an object", account)
            return
        aid = native_id(account.get("accountId"))
        if aid is None:
            self.reject(pos, "account has no accountId", account)
            return
        self.account(aid, account.get("username"), account.get("accountDisplayName"))

    def item(self, value: object, pos: int, key: str) -> None:
        inner = _unwrap(value, key)
        if inner is _MISSING:
            what = (
                f"an object with keys {sorted(value)[:5]}"
                if isinstance(value, dict)
                else kind_name(value)
            )
            self.reject(pos, f"expected {{{key!r}: ...}}, found {what}", value)
            return
        try:
            if key == "tweet":
                self.tweet(inner, pos)
            elif key == "like":
                self.like(inner, pos)
            elif key in ("follower", "following"):
                self.follow(inner, pos, key)
            else:
                self.account_item(inner, pos)
        except Exception as exc:  # a structure no rule foresaw: reject only this record
            self.reject(pos, f"unexpected structure ({exc!r})", value)


def parse(path: Path, source: str, head: Head | None = None) -> ParsedFile:
    data = path.read_bytes()
    archive = read_archive(data)
    if archive.name is None or archive.problem is not None:
        reason = f"{source}: {archive.problem}"
        return build_parsed(NAME, source, {}, [], [], [(None, reason, excerpt(data[:1200]))])
    key = ITEM_KEYS.get(archive.name)
    if key is None:
        known = ", ".join(sorted(ITEM_KEYS))
        reason = (
            f"{source}: archive file window.YTD.{archive.name} is not mapped by this pipeline "
            f"(it maps {known})"
        )
        return build_parsed(NAME, source, {}, [], [], [(None, reason, excerpt(data[:300]))])

    own_tweets = None
    if key == "tweet":
        own_tweets = [_unwrap(i.value, "tweet") for i in archive.items if i.error is None]
    owner = find_owner(path, own_tweets)
    c = _Collector(owner)
    for item in archive.items:
        if item.error is not None:
            c.rejects.append((item.index, item.error, raw_excerpt(item.raw)))
        else:
            c.item(item.value, item.index, key)
    if archive.failure is not None and not any(i.error for i in archive.items):
        reason = f"{source}: the file is not valid JSON after its array ({archive.failure})"
        c.rejects.append((None, reason, excerpt(data[-300:])))
    return build_parsed(NAME, source, c.accounts, c.messages, c.actions, c.rejects)
