"""Bluesky records as JSON lines: repo records and Jetstream events.

There is no raw Bluesky record file among the real exports (the bluesky folder holds derived
CSV tables), so the fixtures are written here from the published AT Protocol lexicons
(app.bsky.feed.post, .repost, .like, app.bsky.graph.follow, app.bsky.actor.profile,
app.bsky.embed.record / recordWithMedia, app.bsky.richtext.facet), the shape of
com.atproto.repo.listRecords output ({uri, cid, value}) and Jetstream's documented events
({did, time_us, kind, commit | identity | account}).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.formats import bluesky, mastodon, parse_file
from pipelines.formats.common import read_head
from pipelines.model import TABLE_SCHEMAS
from tests.conftest import SAMPLE_DIR

FAN = "did:plc:fan2fan2fan2fan2fan2fan2"
BRAND = "did:plc:brandbrandbrandbrandbran"
BOB = "did:plc:bob7bob7bob7bob7bob7bob7"
CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
T0 = "2024-11-05T14:30:00.000Z"


def _schemas_ok(parsed) -> None:
    for table, schema in TABLE_SCHEMAS.items():
        assert dict(getattr(parsed, table).schema) == schema, table


def _uri(did: str, collection: str, rkey: str) -> str:
    return f"at://{did}/{collection}/{rkey}"


def _ref(uri: str) -> dict:
    return {"uri": uri, "cid": CID}


def _listed(did: str, collection: str, rkey: str, value: dict) -> dict:
    """A record as com.atproto.repo.listRecords returns it."""
    return {"uri": _uri(did, collection, rkey), "cid": CID, "value": {"$type": collection, **value}}


def _post(did: str, rkey: str, text: str = "hello", **extra) -> dict:
    return _listed(did, "app.bsky.feed.post", rkey, {"text": text, "createdAt": T0, **extra})


def _mention_facet(text: str, handle: str, did: str) -> dict:
    start = text.encode().index(f"@{handle}".encode())
    return {
        "index": {"byteStart": start, "byteEnd": start + len(handle.encode()) + 1},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
    }


def _subject(did: str, collection: str, rkey: str, subject: object) -> dict:
    return _listed(did, collection, rkey, {"subject": subject, "createdAt": T0})


def _event(
    did: str,
    collection: str,
    rkey: str,
    record: dict | None,
    op: str = "create",
    time_us: int = 1730817000000000,
) -> dict:
    """A Jetstream commit event."""
    commit = {"rev": "3l3qo2vutsw2b", "operation": op, "collection": collection, "rkey": rkey}
    if record is not None:
        commit["record"] = {"$type": collection, **record}
        commit["cid"] = CID
    return {"did": did, "time_us": time_us, "kind": "commit", "commit": commit}


def _write_lines(path: Path, lines: list[bytes | str | dict]) -> Path:
    with open(path, "wb") as f:
        for line in lines:
            if isinstance(line, dict):
                line = orjson.dumps(line)
            if isinstance(line, str):
                line = line.encode()
            f.write(line + b"\n")
    return path


BRAND_POST = _uri(BRAND, "app.bsky.feed.post", "3kbrandpost1")
BRAND_REPLY = _uri(BRAND, "app.bsky.feed.post", "3kbrandreply")
FEED = _uri(BRAND, "app.bsky.feed.generator", "deals")
TEXT = "\N{PARTY POPPER} love @acme.example and @Bob.bsky.social!"


def test_repo_records_are_mapped(tmp_path: Path) -> None:
    lines = [
        _post(
            FAN,
            "3kpost1",
            TEXT,
            langs=["en"],
            facets=[
                _mention_facet(TEXT, "acme.example", BRAND),
                _mention_facet(TEXT, "Bob.bsky.social", BOB),
                {
                    "index": {"byteStart": 0, "byteEnd": 4},
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://x.y"}],
                },
            ],
        ),
        _post(
            FAN, "3kreply1", "agreed", reply={"root": _ref(BRAND_POST), "parent": _ref(BRAND_REPLY)}
        ),
        _post(
            FAN,
            "3kquote1",
            "look",
            embed={"$type": "app.bsky.embed.record", "record": _ref(BRAND_POST)},
        ),
        _post(
            FAN,
            "3kquote2",
            "pic",
            embed={
                "$type": "app.bsky.embed.recordWithMedia",
                "record": {"$type": "app.bsky.embed.record", "record": _ref(BRAND_REPLY)},
                "media": {"$type": "app.bsky.embed.images", "images": []},
            },
        ),
        _post(
            FAN,
            "3kfeed1",
            "my feed",
            embed={"$type": "app.bsky.embed.record", "record": _ref(FEED)},
        ),
        _post(
            FAN,
            "3kboth1",
            "both",
            reply={"root": _ref(BRAND_POST), "parent": _ref(BRAND_POST)},
            embed={"$type": "app.bsky.embed.record", "record": _ref(BRAND_REPLY)},
        ),
        _subject(FAN, "app.bsky.feed.repost", "3krepost1", _ref(BRAND_POST)),
        _subject(FAN, "app.bsky.feed.like", "3klike1", _ref(BRAND_REPLY)),
        _subject(FAN, "app.bsky.graph.follow", "3kfollow1", BRAND),
        _listed(FAN, "app.bsky.actor.profile", "self", {"displayName": "A Fan"}),
        _listed(FAN, "app.bsky.feed.threadgate", "3kpost1", {"post": "x", "createdAt": T0}),
        {
            "records": [
                _subject(BOB, "app.bsky.feed.like", "3klike2", _ref(BRAND_POST)),
                _subject(BOB, "app.bsky.feed.like", "3klike3", _ref(BRAND_REPLY)),
            ],
            "cursor": "3klike3",
        },
        {
            "repo": BOB,
            "collection": "app.bsky.feed.post",
            "rkey": "3kbob1",
            "record": {
                "$type": "app.bsky.feed.post",
                "text": "hi",
                "createdAt": "2024-11-05T16:30:00+02:00",
            },
        },
    ]
    path = _write_lines(tmp_path / "records.jsonl", lines)
    parsed = parse_file(path)
    assert parsed.source_format == "bluesky"
    assert parsed.rejects.height == 0, parsed.rejects["reason"].to_list()
    _schemas_ok(parsed)

    m = {r["message_id"]: r for r in parsed.messages.iter_rows(named=True)}
    post = m[_uri(FAN, "app.bsky.feed.post", "3kpost1")]
    assert (post["kind"], post["author_id"], post["text"]) == ("post", FAN, TEXT)
    assert post["created_at"] == datetime(2024, 11, 5, 14, 30, tzinfo=UTC)
    assert post["url"] == f"https://bsky.app/profile/{FAN}/post/3kpost1"
    assert (post["parent_id"], post["thread_id"], post["source_line"]) == (None, None, 1)
    reply = m[_uri(FAN, "app.bsky.feed.post", "3kreply1")]
    assert (reply["kind"], reply["parent_id"], reply["parent_author_id"], reply["thread_id"]) == (
        "reply",
        BRAND_REPLY,
        BRAND,
        BRAND_POST,
    )
    quote = m[_uri(FAN, "app.bsky.feed.post", "3kquote1")]
    assert (quote["kind"], quote["quoted_id"]) == ("quote", BRAND_POST)
    with_media = m[_uri(FAN, "app.bsky.feed.post", "3kquote2")]
    assert (with_media["kind"], with_media["quoted_id"]) == ("quote", BRAND_REPLY)
    feed = m[_uri(FAN, "app.bsky.feed.post", "3kfeed1")]
    assert (feed["kind"], feed["quoted_id"]) == ("post", None)  # a feed is not a quoted post
    both = m[_uri(FAN, "app.bsky.feed.post", "3kboth1")]
    assert (both["kind"], both["parent_id"], both["quoted_id"]) == (
        "reply",
        BRAND_POST,
        BRAND_REPLY,
    )
    bob = m[_uri(BOB, "app.bsky.feed.post", "3kbob1")]
    assert bob["created_at"] == datetime(2024, 11, 5, 14, 30, tzinfo=UTC)
    assert bob["source_line"] == 13

    a = {r["action_id"]: r for r in parsed.actions.iter_rows(named=True)}
    post_uri = _uri(FAN, "app.bsky.feed.post", "3kpost1")
    mention = a[f"{post_uri}:mention:{BRAND}"]
    assert (mention["kind"], mention["actor_id"], mention["target_account_id"]) == (
        "mention",
        FAN,
        BRAND,
    )
    assert (mention["target_handle"], mention["target_message_id"]) == ("acme.example", post_uri)
    assert a[f"{post_uri}:mention:{BOB}"]["target_handle"] == "bob.bsky.social"
    assert sum(1 for r in a.values() if r["kind"] == "mention") == 2  # the link facet is not one
    repost = a[_uri(FAN, "app.bsky.feed.repost", "3krepost1")]
    assert (repost["kind"], repost["target_message_id"], repost["target_account_id"]) == (
        "share",
        BRAND_POST,
        BRAND,
    )
    like = a[_uri(FAN, "app.bsky.feed.like", "3klike1")]
    assert (like["kind"], like["target_message_id"], like["target_account_id"]) == (
        "like",
        BRAND_REPLY,
        BRAND,
    )
    assert like["created_at"] == datetime(2024, 11, 5, 14, 30, tzinfo=UTC)
    follow = a[_uri(FAN, "app.bsky.graph.follow", "3kfollow1")]
    assert (follow["kind"], follow["target_account_id"], follow["target_message_id"]) == (
        "follow",
        BRAND,
        None,
    )
    page = [r for r in a.values() if r["actor_id"] == BOB]
    assert [r["source_line"] for r in page] == [12, 12]

    accounts = {r["account_id"]: r for r in parsed.accounts.iter_rows(named=True)}
    assert set(accounts) == {FAN, BRAND, BOB}
    assert accounts[FAN]["display_name"] == "A Fan"
    assert accounts[FAN]["handle"] is None
    assert accounts[BRAND]["handle"] == "acme.example"  # what the mention facet covers
    assert all(r["followers_count"] is None for r in accounts.values())
    assert set(parsed.accounts["platform"]) == {"bluesky"}


def test_jetstream_events(tmp_path: Path) -> None:
    like_rkey = "3l3qo2vuowo2b"
    lines = [
        {
            "did": BRAND,
            "time_us": 1725516665234703,
            "kind": "identity",
            "identity": {
                "did": BRAND,
                "handle": "acme.example",
                "seq": 1409752997,
                "time": "2024-09-05T06:11:04.870Z",
            },
        },
        {
            "did": FAN,
            "time_us": 1725516665234704,
            "kind": "account",
            "account": {
                "active": True,
                "did": FAN,
                "seq": 1409753013,
                "time": "2024-09-05T06:11:04.870Z",
            },
        },
        _event(
            FAN,
            "app.bsky.feed.post",
            "3kpost1",
            {"text": "first draft", "createdAt": T0, "langs": ["en"]},
        ),
        _event(
            FAN, "app.bsky.feed.like", like_rkey, {"subject": _ref(BRAND_POST), "createdAt": T0}
        ),
        _event(FAN, "app.bsky.feed.like", like_rkey, None, op="delete"),  # unliked
        _event(FAN, "app.bsky.feed.like", "3kgone", None, op="delete"),  # not in this file
        _event(FAN, "app.bsky.actor.profile", "self", {"displayName": "A Fan"}, op="update"),
        _event(
            FAN, "app.bsky.feed.post", "3kpost1", {"text": "edited", "createdAt": T0}, op="update"
        ),
        _event(
            FAN,
            "app.bsky.feed.repost",
            "3krepost",
            {"subject": _ref(BRAND_POST)},
            time_us=1730817000000000,
        ),  # no createdAt: the event time
        {
            "did": BOB,
            "time_us": 1725911162329308,
            "type": "com",  # the older Jetstream shape
            "commit": {
                "rev": "x",
                "type": "c",
                "collection": "app.bsky.graph.follow",
                "rkey": "3kf",
                "record": {"$type": "app.bsky.graph.follow", "subject": BRAND, "createdAt": T0},
            },
        },
    ]
    parsed = parse_file(_write_lines(tmp_path / "jetstream.jsonl", lines))
    assert parsed.source_format == "bluesky"
    assert parsed.rejects.height == 0, parsed.rejects["reason"].to_list()
    _schemas_ok(parsed)
    assert parsed.messages.select("text", "source_line").rows() == [("edited", 8)]
    actions = parsed.actions.select("kind", "actor_id", "target_account_id", "created_at")
    assert actions.rows() == [
        ("share", FAN, BRAND, datetime(2024, 11, 5, 14, 30, tzinfo=UTC)),
        ("follow", BOB, BRAND, datetime(2024, 11, 5, 14, 30, tzinfo=UTC)),
    ]
    accounts = {r["account_id"]: r for r in parsed.accounts.iter_rows(named=True)}
    assert accounts[BRAND]["handle"] == "acme.example"
    assert accounts[FAN]["display_name"] == "A Fan"


def test_malformed_lines_are_rejected(tmp_path: Path) -> None:
    no_time = _post(FAN, "3k2")
    del no_time["value"]["createdAt"]
    lines = [
        _post(FAN, "3k1"),
        no_time,
        _post(FAN, "3k3", createdAt="yesterday"),
        '{"uri": "at://did:plc:x/app.bsky.feed.post/3k4", "value": {"text": "cut',
        "[1, 2]",
        '{"hello": "world"}',
        _subject(FAN, "app.bsky.feed.like", "3k7", {"cid": CID}),
        _subject(FAN, "app.bsky.graph.follow", "3k8", "acme.example"),
        _post("acme.example", "3k9"),
        _post(FAN, "3k10", reply={"root": _ref(BRAND_POST)}),
        _event(FAN, "app.bsky.feed.post", "3k11", {"text": "x", "createdAt": T0}, op="merge"),
        b'{"uri": "at://'
        + FAN.encode()
        + b'/app.bsky.feed.post/3k12", "value": {"text": "caf\xe9"}}',
        {"uri": "https://bsky.app/profile/x/post/1", "value": {"text": "x"}},
        {"did": "alice", "time_us": 1, "kind": "commit", "commit": {}},
        _listed(FAN, "app.bsky.feed.post", "3k15", {}),
        _post(FAN, "3k16"),
    ]
    lines[14]["value"] = "not an object"
    path = _write_lines(tmp_path / "records.jsonl", lines)
    parsed = parse_file(path)
    assert parsed.source_format == "bluesky"
    assert parsed.messages["source_line"].to_list() == [1, 16]
    reasons = dict(parsed.rejects.select("position", "reason").iter_rows())
    p = "at://" + FAN + "/app.bsky.feed.post/"
    assert reasons == {
        2: f"line 2: record: {p}3k2 has no createdAt",
        3: f"line 3: record: {p}3k3 has createdAt 'yesterday', not an ISO 8601 time",
        4: reasons[4],
        5: "line 5: a list, not a JSON object",
        6: "line 6: a JSON object that is neither a repo record ({uri, value}) nor a Jetstream "
        "event ({did, time_us, kind})",
        7: f"line 7: record: like at://{FAN}/app.bsky.feed.like/3k7 has no subject.uri "
        "(an at:// URI)",
        8: f"line 8: record: follow at://{FAN}/app.bsky.graph.follow/3k8 has subject "
        "'acme.example', not a DID",
        9: "line 9: record: repo 'acme.example' is not a DID",
        10: f"line 10: record: post {p}3k10 has a reply without parent.uri",
        11: "line 11: commit event with operation 'merge'",
        12: reasons[12],
        13: "line 13: record: uri 'https://bsky.app/profile/x/post/1' is not an "
        "at://did/collection/rkey URI",
        14: "line 14: commit event: did 'alice' is not a DID",
        15: f"line 15: record: {p}3k15 has a record that is a string",
    }
    assert reasons[4].startswith("line 4: not valid JSON")
    assert reasons[12].startswith("line 12: not valid JSON")
    reject = parsed.rejects.filter(pl.col("position") == 4).row(0, named=True)
    assert reject["raw_excerpt"] == lines[3]
    assert reject["source_file"] == str(path)


def test_detection_is_by_content(tmp_path: Path) -> None:
    for lines in (
        [_post(FAN, "3k1")],
        [_event(FAN, "app.bsky.feed.like", "3k", {"subject": _ref(BRAND_POST), "createdAt": T0})],
        ["not json", _post(FAN, "3k1")],
    ):
        for name in ("data.bin", "x.csv", "records.json"):
            path = _write_lines(tmp_path / name, lines)
            assert parse_file(path).source_format == "bluesky", (name, lines)
            assert not mastodon.sniff(read_head(path))
    for content in (
        # CSV tables derived from Bluesky collections (at:// URIs and DIDs in cells)
        "uri,author_handle,created_at\nat://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3m,"
        "bsky.app,2026-06-08T21:10:01.530Z\n",
        "did,handle,display_name,created_at\ndid:plc:abc,a.bsky.social,,2026-06-06T10:06:11Z\n",
        '{\n  "account": {"handle": "nytimes.com", "did": "did:plc:eclio37ymobqex2ncko63h4r"}\n}\n',
        orjson.dumps({"id": "1", "text": "hi", "author_id": "2"}).decode() + "\n",
        orjson.dumps({"did": FAN, "handle": "x"}).decode() + "\n",  # a DID is not enough
    ):
        path = tmp_path / "other.txt"
        path.write_text(content, encoding="utf-8")
        assert not bluesky.sniff(read_head(path)), content


@pytest.mark.real_data
def test_derived_bluesky_tables_are_not_claimed(real_data: Path) -> None:
    files = sorted(p for p in (real_data / "bluesky").rglob("*") if p.is_file())
    assert files
    for path in files:
        assert not bluesky.sniff(read_head(path)), path
        assert parse_file(path).source_format != "bluesky", path


@pytest.mark.real_data
def test_other_real_files_are_not_claimed(real_data: Path) -> None:
    for path in sorted(p for p in real_data.rglob("*") if p.is_file()):
        assert not bluesky.sniff(read_head(path)), path


def test_sample_files_are_not_claimed() -> None:
    for path in sorted(SAMPLE_DIR.iterdir()):
        assert not bluesky.sniff(read_head(path)), path


def test_facet_offsets_are_bytes_not_characters() -> None:
    text = "\N{GRINNING FACE}\N{GRINNING FACE} @brand.example"
    facet = _mention_facet(text, "brand.example", BRAND)
    assert facet["index"]["byteStart"] == 9  # two 4-byte emoji and a space
    assert bluesky._facet_handle(text.encode(), facet["index"]) == "brand.example"
    assert bluesky._facet_handle(text.encode(), {"byteStart": 1, "byteEnd": 5}) is None
    assert bluesky._facet_handle(text.encode(), {"byteStart": 5, "byteEnd": 2}) is None


def test_uri_helpers() -> None:
    assert bluesky.split_at_uri(BRAND_POST) == (BRAND, "app.bsky.feed.post", "3kbrandpost1")
    assert bluesky.did_of(BRAND_POST) == BRAND
    assert bluesky.did_of("at://acme.example/app.bsky.feed.post/1") is None
    for bad in ("at://x", "at://a/b", "https://a/b/c", None, 5, "at://a//c"):
        assert bluesky.split_at_uri(bad) is None


# ---------------------------------------------------------------------------------------------
# Property: whatever the lines, parse_file does not raise, and each line is loaded, rejected,
# or one of the lines documented as carrying nothing (deletes, identity/account events,
# profiles and other collections, a record a later line replaces)

_VALID = [
    orjson.dumps(line)
    for line in (
        _post(FAN, "3kp1", TEXT, facets=[_mention_facet(TEXT, "acme.example", BRAND)]),
        _post(FAN, "3kp2", reply={"root": _ref(BRAND_POST), "parent": _ref(BRAND_REPLY)}),
        _subject(FAN, "app.bsky.feed.like", "3kl1", _ref(BRAND_POST)),
        _subject(FAN, "app.bsky.graph.follow", "3kf1", BRAND),
        _event(BOB, "app.bsky.feed.repost", "3kr1", {"subject": _ref(BRAND_POST), "createdAt": T0}),
        _event(
            BOB,
            "app.bsky.feed.post",
            "3kp3",
            {
                "text": "hi",
                "createdAt": T0,
                "embed": {"$type": "app.bsky.embed.record", "record": _ref(BRAND_POST)},
            },
        ),
        {
            "repo": BOB,
            "collection": "app.bsky.feed.like",
            "rkey": "3kl2",
            "record": {"subject": _ref(BRAND_REPLY), "createdAt": T0},
        },
        _event(BOB, "app.bsky.feed.like", "3kl3", {"subject": _ref(BRAND_POST), "createdAt": T0}),
    )
]
MAPPED = {
    "app.bsky.feed.post",
    "app.bsky.feed.repost",
    "app.bsky.feed.like",
    "app.bsky.graph.follow",
}


def _record_key(obj: object) -> tuple[str | None, str | None, bool]:
    """(record uri, collection, carries nothing) of a parsed line, as the docstring defines."""
    if not isinstance(obj, dict):
        return None, None, False
    kind = obj.get("kind", obj.get("type"))
    if "time_us" in obj and kind in ("commit", "identity", "account", "com", "id", "acc"):
        if kind not in ("commit", "com"):
            return None, None, True
        commit = obj.get("commit")
        if not isinstance(commit, dict):
            return None, None, False
        op = commit.get("operation", commit.get("type"))
        uri = f"at://{obj.get('did')}/{commit.get('collection')}/{commit.get('rkey')}"
        return uri, commit.get("collection"), op in ("delete", "d")
    if "uri" in obj and "value" in obj:
        parts = bluesky.split_at_uri(obj["uri"])
        return (obj["uri"], parts[1], False) if parts else (None, None, False)
    if "collection" in obj and "record" in obj:
        repo = obj.get("repo", obj.get("did"))
        return f"at://{repo}/{obj['collection']}/{obj.get('rkey')}", obj["collection"], False
    return None, None, False


@st.composite
def _lines(draw) -> list[bytes]:
    lines = []
    for i in range(draw(st.integers(1, len(_VALID)))):
        line = _VALID[i]
        how = draw(st.sampled_from(["keep", "cut", "delete", "insert", "garbage"]))
        if how == "cut":
            line = line[: draw(st.integers(1, len(line) - 1))]
        elif how == "delete":
            a = draw(st.integers(0, len(line) - 1))
            line = line[:a] + line[a + draw(st.integers(1, 5)) :]
        elif how == "insert":
            a = draw(st.integers(0, len(line)))
            line = line[:a] + draw(st.binary(min_size=1, max_size=5)) + line[a:]
        elif how == "garbage":
            line = draw(st.binary(min_size=1, max_size=40))
        lines.append(line.replace(b"\n", b" ").replace(b"\r", b" "))
    return lines


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=_lines())
def test_property_every_line_loaded_or_rejected(tmp_path_factory, lines: list[bytes]) -> None:
    path = tmp_path_factory.mktemp("prop") / "b.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    parsed = parse_file(path)
    _schemas_ok(parsed)
    if parsed.source_format == "unknown":  # garbage first lines: nothing recognised
        assert parsed.rejects.height == 1 and parsed.rejects["position"].item() is None
        return
    if parsed.source_format != "bluesky":  # mutated into another format's shape
        assert not bluesky.sniff(read_head(path))  # no format tried earlier took it from us
        return
    loaded = set(parsed.messages["source_line"]) | set(parsed.actions["source_line"])
    rejected = set(parsed.rejects["position"])
    keys = []
    for line in lines:
        try:
            keys.append(_record_key(orjson.loads(line.removeprefix(b"\xef\xbb\xbf"))))
        except orjson.JSONDecodeError:
            keys.append((None, None, False))
    for number, line in enumerate(lines, start=1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")  # the file's encoding mark, not a record
        if not line.strip():
            continue
        uri, collection, silent = keys[number - 1]
        replaced = uri is not None and any(k[0] == uri for k in keys[number:])
        if silent or replaced or (collection is not None and collection not in MAPPED):
            continue
        assert number in loaded or number in rejected, (number, line)
