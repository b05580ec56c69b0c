"""Discord channel exports by DiscordChatExporter (JSON).

No real export is available to the project, so the fixtures below are written here, after
DiscordChatExporter's JSON writer (Tyrrrz/DiscordChatExporter,
DiscordChatExporter.Core/Exporting/JsonMessageWriter.cs: indented output, header
``guild``/``channel``/``dateRange``/``exportedAt``, ``messages[]`` with ``type`` names from
MessageKind, reactions with ``users``, ``reference`` with ``type`` Default/Forward,
``messageCount``) and the Discord API's message types.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.formats import discord, parse_file
from pipelines.formats.common import read_head
from pipelines.model import TABLE_SCHEMAS
from tests.conftest import REAL_DATA, SAMPLE_DIR

GUILD, CHANNEL = "869237470565392384", "869237470565392387"


def _schemas_ok(parsed) -> None:
    for table, schema in TABLE_SCHEMAS.items():
        assert dict(getattr(parsed, table).schema) == schema, table


def _user(uid: str, name: str, nickname: str | None = None, bot: bool = False, roles=True) -> dict:
    user = {
        "id": uid,
        "name": name,
        "discriminator": "0000",
        "nickname": nickname or name,
        "color": None,
        "isBot": bot,
        "avatarUrl": f"https://cdn.discordapp.com/avatars/{uid}/0f1e2d3c4b5a.png?size=512",
    }
    if roles:
        user["roles"] = []
    return user


ALICE = _user("310000000000000001", "alice.w", "Alice W")
BOB = _user("310000000000000002", "bobthebuilder", "Bob")
CAROL = _user("310000000000000003", "carol", "Carol (mod)")
BRAND = _user("310000000000000009", "northwind", "Northwind Support")
BOT = _user("310000000000000666", "Carl-bot", "Carl-bot", bot=True)


def _message(mid: str, author: dict, content: str, ts: str, mtype: str = "Default", **extra):
    message = {
        "id": mid,
        "type": mtype,
        "timestamp": ts,
        "timestampEdited": None,
        "callEndedTimestamp": None,
        "isPinned": False,
        "content": content,
        "author": copy.deepcopy(author),
        "attachments": [],
        "components": [],
        "embeds": [],
        "stickers": [],
        "reactions": [],
        "mentions": [],
        "inlineEmojis": [],
    }
    message.update(extra)
    return message


def _reaction(name: str, code: str, users: list[dict] | None, count: int | None = None) -> dict:
    reaction = {
        "emoji": {
            "id": "",
            "name": name,
            "code": code,
            "isAnimated": False,
            "imageUrl": "https://cdn.jsdelivr.net/gh/twitter/twemoji@latest/assets/svg/1f44d.svg",
        },
        "count": count if count is not None else len(users or []),
    }
    if users is not None:
        reaction["users"] = [_strip_roles(u) for u in users]
    return reaction


def _strip_roles(user: dict) -> dict:
    return {k: v for k, v in user.items() if k != "roles"}


def _export(messages: list[dict], channel_type: str = "GuildTextChat", guild=GUILD) -> dict:
    return {
        "guild": {
            "id": guild,
            "name": "Northwind Community" if guild != "0" else "Direct Messages",
            "iconUrl": "https://cdn.discordapp.com/icons/869237470565392384/a1b2.png?size=512",
        },
        "channel": {
            "id": CHANNEL,
            "type": channel_type,
            "categoryId": "869237470565392385",
            "category": "Support",
            "name": "help-desk",
            "topic": "Ask about your Northwind gear",
        },
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2024-03-01T09:00:00.1234567+00:00",
        "messages": messages,
        "messageCount": len(messages),
    }


def _channel_messages() -> list[dict]:
    """A realistic help-desk channel: posts, replies, a join, a pin, a thread, a forward,
    reactions with and without users, mentions, a bot, local-time offsets."""
    return [
        _message(  # 1
            "1100000000000000001",
            ALICE,
            "My Northwind kettle stopped heating, anyone else? @Northwind Support",
            "2024-02-10T08:15:42.123-05:00",
            mentions=[_user(BRAND["id"], BRAND["name"], BRAND["nickname"])],
            reactions=[
                _reaction("👀", "eyes", [CAROL]),
                _reaction("👎", "thumbsdown", [BOB]),
            ],
        ),
        _message(  # 2: a member joins (system notification)
            "1100000000000000002",
            _user("310000000000000077", "newbie"),
            "Joined the server.",
            "2024-02-10T13:20:00.000+00:00",
            "GuildMemberJoin",
        ),
        _message(  # 3: the brand replies, pinging alice
            "1100000000000000003",
            BRAND,
            "Sorry to hear that! Can you DM us your order number?",
            "2024-02-10T13:25:07.5+00:00",
            "Reply",
            mentions=[_user(ALICE["id"], ALICE["name"], ALICE["nickname"])],
            reference={
                "type": "Default",
                "messageId": "1100000000000000001",
                "channelId": CHANNEL,
                "guildId": GUILD,
            },
        ),
        _message(  # 4: bob defends the brand, replying to the brand; 👍 from alice and carol
            "1100000000000000004",
            BOB,
            "Their support sorted mine in a day, they're great",
            "2024-02-10T14:00:00.0000000+01:00",
            "Reply",
            reference={"messageId": "1100000000000000003", "channelId": CHANNEL},
            reactions=[
                _reaction("👍", "thumbsup", [ALICE, CAROL]),
                _reaction("❤️", "heart", [ALICE]),  # same user twice: one like
                _reaction("🎉", "tada", None, count=4),  # older export: count only
            ],
        ),
        _message(  # 5: a pin notification
            "1100000000000000005",
            CAROL,
            "Pinned a message.",
            "2024-02-10T14:05:00+00:00",
            "ChannelPinnedMessage",
            reference={"messageId": "1100000000000000004", "channelId": CHANNEL},
        ),
        _message(  # 6: a thread is started
            "1100000000000000006",
            CAROL,
            "Kettle troubleshooting",
            "2024-02-10T14:06:00+00:00",
            "ThreadCreated",
            reference={"messageId": None, "channelId": "1100000000000000099", "guildId": GUILD},
        ),
        _message(  # 7: a forwarded message
            "1100000000000000007",
            ALICE,
            "",
            "2024-02-10T15:00:00+00:00",
            reference={
                "type": "Forward",
                "messageId": "1090000000000000042",
                "channelId": "1090000000000000001",
                "guildId": GUILD,
            },
            forwardedMessage={"timestamp": "2024-02-01T10:00:00+00:00", "content": "Sale!"},
        ),
        _message(  # 8: a bot answers a command; plain message, attachment only
            "1100000000000000008",
            BOT,
            "",
            "2024-02-10T15:01:00+00:00",
            attachments=[
                {
                    "id": "1100000000000000080",
                    "url": "https://cdn.discordapp.com/attachments/1/2/manual.pdf",
                    "fileName": "manual.pdf",
                    "fileSizeBytes": 48213,
                }
            ],
        ),
        _message(  # 9: a crossposted announcement (reference into another channel)
            "1100000000000000009",
            BRAND,
            "New firmware is out",
            "2024-02-11T09:00:00+00:00",
            reference={"messageId": "1080000000000000001", "channelId": "1080000000000000000"},
        ),
    ]


def _write(path: Path, doc: object, indent: int | None = 2) -> Path:
    path.write_text(json.dumps(doc, indent=indent, ensure_ascii=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# A whole channel


def test_channel_export_maps_messages_actions_accounts(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "Northwind - help-desk [869237470565392387].json", _export(_channel_messages())
    )
    parsed = parse_file(path)
    assert parsed.source_format == "discord"
    _schemas_ok(parsed)
    assert parsed.rejects.height == 0

    messages = {row["message_id"]: row for row in parsed.messages.iter_rows(named=True)}
    # the join (2) and the pin (5) are skipped; the forward (7) is a share, not a message
    assert list(messages) == [
        "1100000000000000001",
        "1100000000000000003",
        "1100000000000000004",
        "1100000000000000006",
        "1100000000000000008",
        "1100000000000000009",
    ]
    first = messages["1100000000000000001"]
    assert first["kind"] == "post"
    assert first["author_id"] == ALICE["id"]
    assert first["created_at"] == datetime(2024, 2, 10, 13, 15, 42, 123000, tzinfo=UTC)
    assert first["url"] == f"https://discord.com/channels/{GUILD}/{CHANNEL}/1100000000000000001"
    assert first["thread_id"] is None and first["parent_id"] is None
    assert first["source_line"] == 1
    assert first["platform"] == "discord"

    reply = messages["1100000000000000003"]
    assert (reply["kind"], reply["parent_id"], reply["parent_author_id"]) == (
        "reply",
        "1100000000000000001",
        ALICE["id"],
    )
    assert reply["created_at"] == datetime(2024, 2, 10, 13, 25, 7, 500000, tzinfo=UTC)
    assert reply["source_line"] == 3
    defense = messages["1100000000000000004"]
    assert defense["parent_id"] == "1100000000000000003"
    assert defense["parent_author_id"] == BRAND["id"]
    assert defense["created_at"] == datetime(2024, 2, 10, 13, 0, 0, tzinfo=UTC)  # 7 digits, +01
    assert messages["1100000000000000006"]["kind"] == "post"  # ThreadCreated kept
    assert messages["1100000000000000008"]["text"] == ""  # attachment only
    crosspost = messages["1100000000000000009"]
    assert (crosspost["kind"], crosspost["parent_id"]) == ("post", None)

    actions = parsed.actions.sort("source_line", "action_id")
    assert actions.select(
        "action_id",
        "kind",
        "actor_id",
        "target_account_id",
        "target_handle",
        "target_message_id",
        "source_line",
    ).rows() == [
        (
            "1100000000000000001:like:310000000000000003",
            "like",
            CAROL["id"],
            ALICE["id"],
            None,
            "1100000000000000001",
            1,
        ),
        (
            "1100000000000000001:mention:northwind",
            "mention",
            ALICE["id"],
            BRAND["id"],
            "northwind",
            "1100000000000000001",
            1,
        ),
        (
            "1100000000000000003:mention:alice.w",
            "mention",
            BRAND["id"],
            ALICE["id"],
            "alice.w",
            "1100000000000000003",
            3,
        ),
        (
            "1100000000000000004:like:310000000000000001",
            "like",
            ALICE["id"],
            BOB["id"],
            None,
            "1100000000000000004",
            4,
        ),
        (
            "1100000000000000004:like:310000000000000003",
            "like",
            CAROL["id"],
            BOB["id"],
            None,
            "1100000000000000004",
            4,
        ),
        (
            "1100000000000000007",
            "share",
            ALICE["id"],
            None,
            None,
            "1090000000000000042",
            7,
        ),
    ]
    likes = parsed.actions.filter(pl.col("kind") == "like")
    assert likes["created_at"].null_count() == likes.height  # Discord does not say when
    mention = parsed.actions.filter(pl.col("kind") == "mention").row(0, named=True)
    assert mention["created_at"] == first["created_at"]
    share = parsed.actions.filter(pl.col("kind") == "share").row(0, named=True)
    assert share["created_at"] == datetime(2024, 2, 10, 15, 0, tzinfo=UTC)

    accounts = {row["account_id"]: row for row in parsed.accounts.iter_rows(named=True)}
    assert accounts[ALICE["id"]]["handle"] == "alice.w"
    assert accounts[ALICE["id"]]["display_name"] == "Alice W"
    assert accounts[BRAND["id"]]["display_name"] == "Northwind Support"
    assert BOT["id"] in accounts  # bots are kept
    assert BOB["id"] in accounts  # his 👎 is not a like, but he wrote message 4
    assert "310000000000000077" not in accounts  # only seen in a skipped join
    assert set(parsed.accounts["followers_count"]) == {None}
    assert set(parsed.accounts["platform"]) == {"discord"}


def test_counts_match_an_independent_reading(tmp_path: Path) -> None:
    doc = _export(_channel_messages())
    parsed = parse_file(_write(tmp_path / "c.json", doc))
    kept = [
        m
        for m in doc["messages"]
        if m["type"] not in discord.SYSTEM_TYPES
        and (m.get("reference") or {}).get("type") != "Forward"
    ]
    assert parsed.messages.height == len(kept)
    mentions = sum(len({u["id"] for u in m["mentions"]}) for m in kept)
    assert parsed.actions.filter(pl.col("kind") == "mention").height == mentions
    assert parsed.actions.filter(pl.col("kind") == "share").height == 1


def test_thread_export_declares_the_thread_and_dm_urls_use_me(tmp_path: Path) -> None:
    messages = _channel_messages()[:1]
    parsed = parse_file(_write(tmp_path / "t.json", _export(messages, "GuildPublicThread")))
    assert parsed.messages["thread_id"].to_list() == [CHANNEL]
    parsed = parse_file(_write(tmp_path / "dm.json", _export(messages, "DirectTextChat", "0")))
    assert parsed.messages["url"].item() == (
        f"https://discord.com/channels/@me/{CHANNEL}/1100000000000000001"
    )


def test_compact_and_bom_files_are_detected(tmp_path: Path) -> None:
    doc = _export(_channel_messages())
    path = _write(tmp_path / "compact.bin", doc, indent=None)
    assert parse_file(path).source_format == "discord"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc, indent=2).encode())
    parsed = parse_file(path)
    assert parsed.source_format == "discord"
    assert parsed.messages.height == 6


# ---------------------------------------------------------------------------------------------
# Malformed input


def test_bad_records_are_rejected_and_the_others_load(tmp_path: Path) -> None:
    good = _channel_messages()[0]
    no_author = _message("1200000000000000002", ALICE, "x", "2024-01-01T00:00:00+00:00")
    del no_author["author"]["id"]
    bad_time = _message("1200000000000000003", ALICE, "x", "10/02/2024 08:15")
    no_time = _message("1200000000000000004", ALICE, "x", "2024-01-01T00:00:00+00:00")
    del no_time["timestamp"]
    no_id = _message("", ALICE, "x", "2024-01-01T00:00:00+00:00")
    odd_type = _message("1200000000000000006", ALICE, "x", "2024-01-01T00:00:00+00:00", [1])
    duplicate = copy.deepcopy(good)
    messages = [good, no_author, bad_time, no_time, no_id, "oops", odd_type, duplicate]
    parsed = parse_file(_write(tmp_path / "bad.json", _export(messages)))
    assert parsed.source_format == "discord"
    assert parsed.messages["message_id"].to_list() == ["1100000000000000001"]
    reasons = dict(parsed.rejects.select("position", "reason").iter_rows())
    assert reasons == {
        2: "message 2: message 1200000000000000002 has no author id",
        3: "message 3: message 1200000000000000003 has timestamp '10/02/2024 08:15', "
        "not an ISO 8601 time",
        4: "message 4: message 1200000000000000004 has no timestamp",
        5: "message 5: the message has no id",
        6: "message 6: is a string, not a message object",
        7: "message 7: message 1200000000000000006 has type [1], not a message type name",
    }
    excerpt = parsed.rejects.filter(pl.col("position") == 2)["raw_excerpt"].item()
    assert excerpt.startswith('{"id":"1200000000000000002"')
    assert set(parsed.rejects["source_format"]) == {"discord"}


def test_cut_short_export_keeps_the_messages_before(tmp_path: Path) -> None:
    doc = _export(_channel_messages())
    text = json.dumps(doc, indent=2)
    cut = text.index('"id": "1100000000000000004"') + 40  # inside message 4
    path = tmp_path / "cut.json"
    path.write_text(text[:cut], encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.source_format == "discord"
    assert parsed.messages["message_id"].to_list() == [
        "1100000000000000001",
        "1100000000000000003",
    ]
    assert parsed.rejects.select("position", "reason").rows() == [
        (4, "message 4: the file ends inside this record (cut short)")
    ]
    # cut right after a complete message: the missing rest is said, at the next position
    end = text.index("\n    }", text.index('"id": "1100000000000000004"')) + 6
    path.write_text(text[:end], encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.messages.height == 3
    assert parsed.rejects.select("position", "reason").rows() == [
        (5, "message 5: the file ends after message 4 (cut short): any later messages are missing")
    ]


def test_damaged_record_in_the_middle_is_skipped(tmp_path: Path) -> None:
    doc = _export(_channel_messages())
    text = json.dumps(doc, indent=2)
    start = text.index('"id": "1100000000000000003"')
    damaged = text[:start] + '"id": "1100000000000000003" "type": ' + text[start + 40 :]
    path = tmp_path / "damaged.json"
    path.write_text(damaged, encoding="utf-8")
    parsed = parse_file(path)
    assert "1100000000000000003" not in parsed.messages["message_id"].to_list()
    assert parsed.messages.height == 5
    reject = parsed.rejects.row(0, named=True)
    assert parsed.rejects.height == 1
    assert reject["position"] == 3
    assert reject["reason"].startswith("message 3: not valid JSON: Expecting ',' delimiter")
    # positions after the damage are still right
    row = parsed.messages.filter(pl.col("message_id") == "1100000000000000004").row(0, named=True)
    assert row["source_line"] == 4
    assert row["parent_author_id"] is None  # its parent was lost


def test_bytes_that_are_not_utf8_reject_only_their_message(tmp_path: Path) -> None:
    doc = _export(_channel_messages())
    raw = json.dumps(doc, indent=2, ensure_ascii=False).encode()
    raw = raw.replace(b"Sorry to hear", b"Sorry \xff hear")
    path = tmp_path / "latin.json"
    path.write_bytes(raw)
    parsed = parse_file(path)
    assert parsed.messages.height == 5
    assert parsed.rejects.select("position", "reason").rows() == [
        (3, "message 3: not valid UTF-8 text")
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            '{"guild": {"id": "1"}, "channel": {"id": "2"}, "exportedAt": "", "messages": {}}',
            "'messages' is an object",
        ),
        ('{"guild": {"id": "1"}, "channel": {"id": "2"}, "exportedAt": "x"}', "no 'messages'"),
        ('{"guild": {"id": "1"}, "channel": {"id": "2"}, "dateRange": {', "not a DiscordChat"),
    ],
)
def test_whole_file_failures_are_one_reject(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(content, encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.source_format == "discord"
    assert parsed.rejects.height == 1
    row = parsed.rejects.row(0, named=True)
    assert row["position"] is None
    assert reason in row["reason"]
    assert row["reason"].startswith(str(path))
    _schemas_ok(parsed)


# ---------------------------------------------------------------------------------------------
# Detection


def _other_files() -> list[Path]:
    files = sorted(p for p in SAMPLE_DIR.iterdir() if p.is_file())
    if REAL_DATA.is_dir():
        files += sorted(p for p in REAL_DATA.rglob("*") if p.is_file())
    return files


@pytest.mark.parametrize("path", _other_files(), ids=lambda p: p.name)
def test_sniff_rejects_other_formats(path: Path) -> None:
    assert not discord.sniff(read_head(path))


def test_sniff_rejects_near_misses(tmp_path: Path) -> None:
    for content in (
        json.dumps({"data": [{"id": "1", "text": "a tweet", "author_id": "2"}]}),
        json.dumps({"guild": "x", "messages": []}),
        json.dumps([_export([])]),
        "guild channel messages",
    ):
        path = tmp_path / "n.json"
        path.write_text(content, encoding="utf-8")
        assert not discord.sniff(read_head(path)), content


# ---------------------------------------------------------------------------------------------
# Property: whatever the records, nothing raises and every record is loaded, skipped or rejected

_base = _channel_messages()
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@st.composite
def _records(draw) -> list[object]:
    records: list[object] = []
    for i in range(draw(st.integers(1, 9))):
        record = copy.deepcopy(_base[i % len(_base)])
        record["id"] = f"13{i:017d}"
        how = draw(st.sampled_from(["keep", "drop", "replace", "value"]))
        if how == "drop":
            del record[draw(st.sampled_from(sorted(record)))]
        elif how == "replace":
            record[draw(st.sampled_from(sorted(record)))] = draw(_json_values)
        elif how == "value":
            record = draw(_json_values)
        records.append(record)
    return records


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=_records())
def test_property_every_record_loaded_skipped_or_rejected(tmp_path_factory, records) -> None:
    path = _write(tmp_path_factory.mktemp("prop") / "c.json", _export(records))
    parsed = parse_file(path)
    _schemas_ok(parsed)
    assert parsed.source_format == "discord"
    loaded = set(parsed.messages["source_line"]) | set(parsed.actions["source_line"])
    rejected = set(parsed.rejects["position"])
    for i, record in enumerate(records, start=1):
        if isinstance(record, dict) and str(record.get("type")) in discord.SYSTEM_TYPES:
            continue
        assert i in loaded or i in rejected, (i, record)
    assert rejected <= set(range(1, len(records) + 1))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_property_damaged_bytes_never_raise(tmp_path_factory, data) -> None:
    raw = json.dumps(_export(_channel_messages()), indent=2).encode()
    how = data.draw(st.sampled_from(["cut", "delete", "insert"]))
    a = data.draw(st.integers(200, len(raw) - 1))
    if how == "cut":
        raw = raw[:a]
    elif how == "delete":
        raw = raw[:a] + raw[a + data.draw(st.integers(1, 40)) :]
    else:
        raw = raw[:a] + data.draw(st.binary(min_size=1, max_size=8)) + raw[a:]
    path = tmp_path_factory.mktemp("bytes") / "c.json"
    path.write_bytes(raw)
    parsed = parse_file(path)
    _schemas_ok(parsed)
    if parsed.source_format != "discord":
        return  # the header itself was damaged
    n = len(_channel_messages())
    positions = set(parsed.rejects["position"].drop_nulls())
    assert positions <= set(range(1, n + 2))
    assert set(parsed.messages["source_line"]) <= set(range(1, n + 1))
    # at most one message per record: the intact file loads 6 of its n records (the rest
    # are system records), a damaged one can load a system record whose "type" key was hit
    assert parsed.messages.height <= n
    assert parsed.messages["message_id"].n_unique() == parsed.messages.height


def test_a_system_record_whose_type_key_is_damaged_loads_as_a_message(tmp_path) -> None:
    """Found by the property test above: deleting the "t" of a member-join record's "type"
    key leaves valid JSON with no type, which the parser reads as an ordinary message."""
    raw = json.dumps(_export(_channel_messages()), indent=2).encode()
    at = raw.index(b'"type": "GuildMemberJoin"') + 1
    path = tmp_path / "c.json"
    path.write_bytes(raw[:at] + raw[at + 1 :])
    parsed = parse_file(path)
    assert parsed.source_format == "discord"
    assert parsed.messages.height == 7 and parsed.rejects.height == 0
    assert "Joined the server." in parsed.messages["text"].to_list()
