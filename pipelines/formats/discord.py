"""Discord channel exports written by DiscordChatExporter (Tyrrrz) in its JSON format.

How to get the file
-------------------
1. Install DiscordChatExporter (https://github.com/Tyrrrz/DiscordChatExporter: the desktop
   app, or the ``DiscordChatExporter.Cli`` command line / Docker image).
2. Use a **bot token** of a bot that sits in the server and may read the channel's history
   (exporting with a personal user token breaks Discord's terms of service).
3. Export each channel (or thread) in the **JSON** format, e.g.
   ``DiscordChatExporter.Cli export -t BOT_TOKEN -c CHANNEL_ID -f Json -o general.json``
   (``exportguild -g GUILD_ID -f Json`` exports every channel of a server, one file each).
   Recent versions also write who reacted to each message; older ones only write the count.
4. Drop the ``.json`` files into the input folder; partitioned exports (``[part 2]``) are
   separate files with the same header and load the same way.

What is mapped
--------------
* ``messages[]`` -> messages: ``id``, ``author.id``, ``content`` (text), ``timestamp``
  (converted to UTC; DiscordChatExporter writes local offsets such as ``-04:00``).
  ``type`` ``Reply`` (or a plain message whose ``reference`` points into the same channel)
  -> kind ``reply`` with ``parent_id = reference.messageId`` (``parent_author_id`` filled when
  the parent is in the file); everything else -> ``post``. ``thread_id`` stays null (the
  warehouse derives roots from parents) except when the exported channel is itself a thread
  (``channel.type`` ending in ``Thread``): then it is the channel id.
  ``url`` = ``https://discord.com/channels/<guild id>/<channel id>/<message id>`` (``@me``
  for direct messages, whose guild id is ``0``).
* A message whose ``reference.type`` is ``Forward`` (a forwarded message) -> a ``share``
  action (action_id = the message id, target_message_id = the forwarded message; its author
  is not in the export, so target_account_id stays null).
* ``mentions[]`` -> ``mention`` actions (action_id ``<message id>:mention:<name>``,
  target_account_id = the user id, target_handle = the name). Mentions are taken from this
  structured list only: mentions in ``content`` are ``<@id>`` markup (or, when the export
  formatted markdown, ``@name`` for those same users).
* ``reactions[].users[]`` -> one ``like`` action per reacting user and message (action_id
  ``<message id>:like:<user id>``, created_at null: Discord does not say when). Reactions
  with a thumbs-down or angry emoji are not likes and are left out. When an older export
  gives only ``count`` and no ``users``, no row is made (who reacted is unknown).
* Authors, mentioned users and reacting users -> accounts (handle = ``name``, display_name =
  ``nickname``; no follower counts). ``author.isBot`` marks bots and webhooks; the canonical
  accounts table has no column for it, so it is not carried (spam scoring should look at it).
* System notifications (``RecipientAdd``, ``RecipientRemove``, ``Call``,
  ``ChannelNameChange``, ``ChannelIconChange``, ``ChannelPinnedMessage``, ``GuildMemberJoin``
  and the numeric system types 1-17) are skipped without a reject: they carry no text or
  engagement of their own. ``Default``, ``Reply``, ``ThreadCreated`` and any other type are
  kept.

Positions: the file is one JSON document, so ``source_line`` and reject positions are the
1-based index of the message in ``messages[]``. A file that is not valid JSON (an export
cut short, a damaged record) is read record by record: the messages before the damage load,
the damaged one is rejected, and reading resumes at the next message of the pretty-printed
file. Duplicated message ids load once (the first).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import polars as pl

from pipelines.formats.common import Head, excerpt, parsed_file, rejects_frame
from pipelines.formats.common import frame_from_rows as frame
from pipelines.formats.common import iso_time_utc as _time
from pipelines.formats.common import json_kind as kind_name
from pipelines.model import UTC_DATETIME, ParsedFile

NAME = "discord"
DESCRIPTION = "Discord channel export by DiscordChatExporter (JSON)"
PLATFORM = "discord"
UTF8_BOM = b"\xef\xbb\xbf"

SYSTEM_TYPES = frozenset(
    {
        "RecipientAdd",
        "RecipientRemove",
        "Call",
        "ChannelNameChange",
        "ChannelIconChange",
        "ChannelPinnedMessage",
        "GuildMemberJoin",
        *(str(n) for n in range(1, 18)),
    }
)
REPLY_TYPES = frozenset({"Reply", "19"})
# Reactions that are not approval (emoji name, or its code in DiscordChatExporter).
NOT_LIKES = frozenset(
    {"👎", "thumbsdown", "-1", "thumbs_down", "😠", "angry", "😡", "rage", "🤬", "pouting_face"}
)
SKIN_TONES = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")

_SNIFF_GUILD = re.compile(r'"guild"\s*:\s*\{')
_SNIFF_CHANNEL = re.compile(r'"channel"\s*:\s*\{')
_SNIFF_REST = re.compile(r'"(?:messages"\s*:\s*\[|exportedAt"\s*:|dateRange"\s*:)')


def sniff(head: Head) -> bool:
    """A JSON object whose header has DiscordChatExporter's ``guild`` and ``channel`` objects
    and its ``messages`` array (or ``dateRange`` / ``exportedAt``)."""
    text = head.text.lstrip()
    if not text.startswith("{"):
        return False
    guild = _SNIFF_GUILD.search(text)
    return bool(
        guild and guild.start() < 4096 and _SNIFF_CHANNEL.search(text) and _SNIFF_REST.search(text)
    )


# --------------------------------------------------------------------------------------------
# Reading a JSON document that may be damaged, one array element at a time

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # undecodable bytes, as surrogateescape keeps them
_SURROGATE = re.compile("[\ud800-\udfff]")


def _skip_ws(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()


_QUOTE = re.compile(r'(?<!\\)"')


def _json_error(exc: json.JSONDecodeError, text: str) -> str:
    cut = exc.pos >= len(text.rstrip()) or (
        exc.msg.startswith("Unterminated string") and not _QUOTE.search(text, exc.pos + 1)
    )
    if cut:
        return "the file ends inside this record (cut short)"
    return f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"


def decode_lenient(raw: bytes) -> str:
    """Bytes as text, undecodable bytes kept as lone surrogates (found by :func:`not_utf8`)."""
    return raw.decode("utf-8", errors="surrogateescape")


def printable(text: str) -> str:
    """Text with lone surrogates (undecodable bytes kept by :func:`decode_lenient`, or
    ``\\ud800``-style escapes) shown as U+FFFD."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def printable_members(members: dict) -> dict:
    """Header members read by :func:`root_members`, their strings made printable."""
    try:
        orjson.dumps(members)
    except TypeError:
        return json.loads(printable(json.dumps(members, ensure_ascii=False)))
    return members


def not_utf8(text: str, start: int = 0, end: int | None = None) -> bool:
    return _NOT_UTF8.search(text, start, len(text) if end is None else end) is not None


def root_members(text: str, array_key: str) -> tuple[dict, int | None, str | None]:
    """Read the members of the root object one by one until the array named ``array_key``:
    (the members read before it, the offset just after its ``[`` or None, why reading stopped
    when the array was not reached)."""
    pos = _skip_ws(text, 0)
    if not text.startswith("{", pos):
        return {}, None, "the file does not start with a JSON object"
    pos += 1
    members: dict = {}
    while True:
        pos = _skip_ws(text, pos)
        if pos >= len(text):
            return members, None, f"the file ends before '{array_key}' (cut short)"
        if text[pos] == "}":
            return members, None, f"the root object has no '{array_key}' array"
        if text[pos] == ",":
            pos += 1
            continue
        try:
            key, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            return members, None, f"in the header: {_json_error(exc, text)}"
        pos = _skip_ws(text, pos)
        if not isinstance(key, str) or not text.startswith(":", pos):
            return members, None, f"in the header: not valid JSON at char {pos}"
        pos = _skip_ws(text, pos + 1)
        if key == array_key and text.startswith("[", pos):
            return members, pos + 1, None
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            return members, None, f"in the header ('{printable(key)}'): {_json_error(exc, text)}"
        members[key] = value


def _resume_at(text: str, start: int) -> int | None:
    """Where the element after a damaged one opens: the next '{' that starts a line with the
    same indentation as the damaged element (pretty-printed files only)."""
    line_start = text.rfind("\n", 0, start) + 1
    indent = text[line_start:start]
    if (line_start == 0 and start != 0) or indent.strip(" \t"):
        return None  # the element does not open a line: the file is not pretty-printed
    found = text.find("\n" + indent + "{", start + 1)
    return None if found == -1 else found + 1 + len(indent)


def array_items(
    text: str, pos: int, outcome: list[str]
) -> Iterator[tuple[object, str | None, str]]:
    """The elements of the array whose ``[`` ends at ``pos``, one by one, as
    (value, None, raw) or, for an element that cannot be read, (None, why, raw). How the
    array ended is appended to ``outcome``: 'closed' (its ``]`` was reached), 'cut' (the text
    ends after a complete element) or 'lost' (a damaged element and no way to resume)."""
    expect_element = True
    while True:
        pos = _skip_ws(text, pos)
        if pos >= len(text):
            outcome.append("cut")
            return
        if text[pos] == "]":
            outcome.append("closed")
            return
        if not expect_element:
            if text[pos] == ",":
                pos += 1
                expect_element = True
                continue
            why = f"not valid JSON: expected ',' or ']' before this record (char {pos})"
        else:
            try:
                value, end = _DECODER.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                why = _json_error(exc, text)
            else:
                raw = printable(text[pos : min(end, pos + 1200)])
                if not_utf8(text, pos, end):
                    why = "not valid UTF-8 text"
                else:
                    try:
                        orjson.dumps(value)
                    except TypeError:
                        yield None, "holds a string that is not valid UTF-8 (lone surrogate)", raw
                    else:
                        yield value, None, raw
                    pos, expect_element = end, False
                    continue
        yield None, why, printable(text[pos : pos + 1200])
        resume = _resume_at(text, pos)
        if resume is None:
            outcome.append("lost")
            return
        pos, expect_element = resume, True


# --------------------------------------------------------------------------------------------
# Values


def native_id(value: object) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def json_excerpt(obj: object) -> str | None:
    try:
        return excerpt(orjson.dumps(obj)[:1200])
    except TypeError:
        return excerpt(repr(obj))


MESSAGE_COLUMNS: dict[str, pl.DataType] = {
    "message_id": pl.String,
    "author_id": pl.String,
    "kind": pl.String,
    "text": pl.String,
    "created_at": UTC_DATETIME,
    "parent_id": pl.String,
    "parent_author_id": pl.String,
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


# --------------------------------------------------------------------------------------------
# Parsing


class _Collector:
    def __init__(self) -> None:
        self.messages: list[tuple] = []  # MESSAGE_COLUMNS order
        self.actions: list[tuple] = []  # ACTION_COLUMNS order
        self.accounts: dict[str, list] = {}  # id -> [handle, display_name]
        self.author_of: dict[str, str] = {}
        self.seen: set[str] = set()
        self.rejects: list[tuple[int | None, str, str | None]] = []
        self.skipped = 0  # system notifications
        self.guild_id: str | None = None
        self.channel_id: str | None = None
        self.thread_id: str | None = None

    def header(self, doc: dict) -> None:
        guild, channel = doc.get("guild"), doc.get("channel")
        if isinstance(guild, dict):
            self.guild_id = native_id(guild.get("id"))
        if isinstance(channel, dict):
            self.channel_id = native_id(channel.get("id"))
            kind = _str(channel.get("type")) or ""
            if kind.endswith("Thread"):
                self.thread_id = self.channel_id

    def reject(self, position: int, reason: str, raw: str | None) -> None:
        self.rejects.append((position, f"message {position}: {reason}", raw))

    def user(self, obj: object) -> str | None:
        """Record a user object; its id, or None when it has none."""
        if not isinstance(obj, dict):
            return None
        uid = native_id(obj.get("id"))
        if uid is None:
            return None
        values = (_str(obj.get("name")), _str(obj.get("nickname")))
        known = self.accounts.get(uid)
        if known is None:
            self.accounts[uid] = list(values)
        else:
            for i, value in enumerate(values):
                if known[i] is None:
                    known[i] = value
        return uid

    def url(self, mid: str) -> str | None:
        if self.guild_id is None or self.channel_id is None:
            return None
        guild = "@me" if self.guild_id == "0" else self.guild_id
        return f"https://discord.com/channels/{guild}/{self.channel_id}/{mid}"

    def message(self, m: object, i: int) -> None:
        if not isinstance(m, dict):
            self.reject(i, f"is {kind_name(m)}, not a message object", json_excerpt(m))
            return
        mid = native_id(m.get("id"))
        if mid is None:
            self.reject(i, "the message has no id", json_excerpt(m))
            return
        mtype = m.get("type")
        if mtype is None:
            mtype = "Default"
        elif isinstance(mtype, int) and not isinstance(mtype, bool):
            mtype = str(mtype)
        if not isinstance(mtype, str):
            self.reject(
                i, f"message {mid} has type {mtype!r}, not a message type name", json_excerpt(m)
            )
            return
        if mtype in SYSTEM_TYPES:
            self.skipped += 1
            return
        if mid in self.seen:
            return
        raw_time = m.get("timestamp")
        created = _time(raw_time)
        if created is None:
            if raw_time is None:
                why = f"message {mid} has no timestamp"
            else:
                why = f"message {mid} has timestamp {raw_time!r}, not an ISO 8601 time"
            self.reject(i, why, json_excerpt(m))
            return
        author = self.user(m.get("author"))
        if author is None:
            self.reject(i, f"message {mid} has no author id", json_excerpt(m))
            return
        self.seen.add(mid)

        ref = m.get("reference")
        ref = ref if isinstance(ref, dict) else {}
        ref_id, ref_type = native_id(ref.get("messageId")), ref.get("type")
        if ref_type == "Forward" and ref_id is not None:
            self.actions.append((mid, "share", author, None, None, ref_id, created, i))
            return
        ref_channel = native_id(ref.get("channelId"))
        is_reply = mtype in REPLY_TYPES or (
            mtype == "Default"
            and ref_id is not None
            and ref_type in (None, "Default")
            and ref_channel in (None, self.channel_id)
        )
        parent = ref_id if is_reply else None
        self.author_of[mid] = author
        self.messages.append(
            (
                mid,
                author,
                "reply" if is_reply else "post",
                _str(m.get("content")),
                created,
                parent,
                None,  # parent_author_id: filled at the end, when the parent is in the file
                self.thread_id,
                self.url(mid),
                i,
            )
        )
        mentions = m.get("mentions")
        if isinstance(mentions, list):
            named = set()
            for u in mentions:
                uid = self.user(u)
                if uid is None or uid in named:
                    continue
                named.add(uid)
                name = self.accounts[uid][0]
                self.actions.append(
                    (f"{mid}:mention:{name or uid}", "mention", author, uid, name, mid, created, i)
                )
        reactions = m.get("reactions")
        if isinstance(reactions, list):
            liked = set()
            for r in reactions:
                if not isinstance(r, dict) or not isinstance(r.get("users"), list):
                    continue
                emoji = r.get("emoji")
                if isinstance(emoji, dict) and (
                    SKIN_TONES.sub("", _str(emoji.get("name")) or "") in NOT_LIKES
                    or (_str(emoji.get("code")) or "") in NOT_LIKES
                ):
                    continue
                for u in r["users"]:
                    uid = self.user(u)
                    if uid is None or uid in liked:
                        continue
                    liked.add(uid)
                    self.actions.append(
                        (f"{mid}:like:{uid}", "like", uid, author, None, mid, None, i)
                    )

    def guarded(self, m: object, i: int) -> None:
        try:
            self.message(m, i)
        except Exception as exc:  # a structure no rule foresaw: reject the record, go on
            self.reject(i, f"unexpected structure ({exc!r})", json_excerpt(m))


def _whole_file(source: str, reason: str, raw: bytes | str | None) -> ParsedFile:
    return ParsedFile(
        source_file=source,
        source_format=NAME,
        rejects=rejects_frame(NAME, source, [(None, f"{source}: {reason}", excerpt(raw))]),
    )


def parse(path: Path, source: str, head: Head | None = None) -> ParsedFile:
    raw = path.read_bytes().removeprefix(UTF8_BOM)
    c = _Collector()
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        text = decode_lenient(raw)
        members, start, why = root_members(text, "messages")
        if start is None:
            return _whole_file(source, f"not a DiscordChatExporter JSON export ({why}; {exc})", raw)
        c.header(printable_members(members))
        last, outcome = 0, []
        for i, (value, error, snippet) in enumerate(array_items(text, start, outcome), 1):
            last = i
            if error is None:
                c.guarded(value, i)
            else:
                c.reject(i, error, excerpt(snippet))
        if outcome == ["cut"]:
            c.reject(
                last + 1,
                f"the file ends after message {last} (cut short): any later messages are missing",
                excerpt(printable(text[-300:])),
            )
    else:
        if not isinstance(doc, dict):
            return _whole_file(source, f"the JSON document is {kind_name(doc)}, not an object", raw)
        messages = doc.get("messages")
        if not isinstance(messages, list):
            what = "no 'messages'" if messages is None else f"'messages' is {kind_name(messages)}"
            return _whole_file(source, f"{what}, not a list of messages", raw)
        c.header(doc)
        for i, m in enumerate(messages, start=1):
            c.guarded(m, i)

    author_of = c.author_of
    rows = [
        row[:6] + (author_of.get(row[5]) if row[5] is not None else None,) + row[7:]
        for row in c.messages
    ]
    messages_frame = frame(rows, MESSAGE_COLUMNS)
    actions = frame(c.actions, ACTION_COLUMNS)
    accounts = pl.DataFrame(
        {
            "account_id": pl.Series(list(c.accounts), dtype=pl.String),
            "handle": pl.Series([v[0] for v in c.accounts.values()], dtype=pl.String),
            "display_name": pl.Series([v[1] for v in c.accounts.values()], dtype=pl.String),
        }
    )
    return parsed_file(
        NAME,
        PLATFORM,
        source,
        accounts=accounts,
        messages=messages_frame,
        actions=actions,
        rejects=c.rejects,
    )
