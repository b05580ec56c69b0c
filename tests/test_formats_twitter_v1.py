"""X/Twitter API v1.1 statuses JSON: the real search response and hand-written edge cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.formats import parse_file
from pipelines.formats.common import read_head
from pipelines.formats.twitter_v1 import sniff
from pipelines.model import TABLE_SCHEMAS

REAL = ("twitter_v1", "simdjson", "twitter.json")
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"


def _schemas_ok(parsed) -> None:
    for table, schema in TABLE_SCHEMAS.items():
        assert dict(getattr(parsed, table).schema) == schema, table


# ---------------------------------------------------------------------------------------------
# The real search response: expectations counted here with the json module


def _expected(statuses: list[dict]) -> dict:
    messages: dict[str, tuple[dict, int]] = {}  # id -> (status, record), first occurrence
    shares: dict[str, dict] = {}
    users: set[str] = set()

    def visit(s: dict, record: int) -> None:
        if s["id_str"] in messages or s["id_str"] in shares:
            return
        users.add(s["user"]["id_str"])
        if "retweeted_status" in s:
            shares[s["id_str"]] = s
            visit(s["retweeted_status"], record)
            return
        messages[s["id_str"]] = (s, record)
        if s.get("in_reply_to_user_id_str"):
            users.add(s["in_reply_to_user_id_str"])
        users.update(m["id_str"] for m in s["entities"]["user_mentions"])
        if "quoted_status" in s:
            visit(s["quoted_status"], record)

    for record, s in enumerate(statuses, start=1):
        visit(s, record)
    return {"messages": messages, "shares": shares, "users": users}


@pytest.mark.real_data
def test_real_search_response_counts(real_data: Path) -> None:
    path = real_data.joinpath(*REAL)
    with open(path, encoding="utf-8") as f:
        statuses = json.load(f)["statuses"]
    expected = _expected(statuses)
    parsed = parse_file(path)

    assert parsed.source_format == "twitter_v1"
    assert parsed.rejects.height == 0, parsed.rejects["reason"].to_list()
    _schemas_ok(parsed)
    assert len(statuses) == 100
    assert set(parsed.messages["message_id"]) == set(expected["messages"])
    assert parsed.messages.height == len(expected["messages"])
    shares = parsed.actions.filter(pl.col("kind") == "share")
    assert set(shares["action_id"]) == set(expected["shares"])
    assert shares.height == sum("retweeted_status" in s for s in statuses)
    targets = {
        sid: (s["retweeted_status"]["id_str"], s["retweeted_status"]["user"]["id_str"])
        for sid, s in expected["shares"].items()
    }
    assert {
        r[0]: (r[1], r[2])
        for r in shares.select("action_id", "target_message_id", "target_account_id").rows()
    } == targets
    mentions = sum(
        len({m["screen_name"] for m in s["entities"]["user_mentions"]})
        for s, _ in expected["messages"].values()
    )
    assert parsed.actions.filter(pl.col("kind") == "mention").height == mentions
    replies = {i for i, (s, _) in expected["messages"].items() if s["in_reply_to_status_id_str"]}
    kinds = dict(parsed.messages.group_by("kind").len().iter_rows())
    assert kinds.get("reply", 0) == len(replies)
    assert kinds.get("quote", 0) == 0  # no quotes in this 2014 search
    assert set(parsed.accounts["account_id"]) == expected["users"]
    assert parsed.accounts["account_id"].n_unique() == parsed.accounts.height
    lines = dict(parsed.messages.select("message_id", "source_line").iter_rows())
    assert lines == {i: record for i, (_, record) in expected["messages"].items()}
    assert set(parsed.messages["platform"]) == {"twitter"}
    assert set(parsed.actions["source_file"]) == {str(path)}


@pytest.mark.real_data
def test_real_known_records(real_data: Path) -> None:
    path = real_data.joinpath(*REAL)
    parsed = parse_file(path)
    first = parsed.messages.filter(pl.col("message_id") == "505874924095815681").row(0, named=True)
    # it starts with "@aym0566x" and names in_reply_to_user_id, but replies to no status
    assert first["kind"] == "post"
    assert first["parent_id"] is None
    assert first["author_id"] == "1186275104"
    assert first["created_at"] == datetime(2014, 8, 31, 0, 29, 15, tzinfo=UTC)
    assert first["url"] == "https://x.com/ayuu0123/status/505874924095815681"
    assert first["source_line"] == 1
    author = parsed.accounts.filter(pl.col("account_id") == "1186275104").row(0, named=True)
    assert (author["handle"], author["display_name"], author["followers_count"]) == (
        "ayuu0123",
        "AYUMI",
        262,
    )
    mention = parsed.actions.filter(
        pl.col("action_id") == "505874924095815681:mention:aym0566x"
    ).row(0, named=True)
    assert mention["target_account_id"] == "866260188"
    assert mention["actor_id"] == "1186275104"
    assert mention["target_message_id"] == "505874924095815681"

    with open(path, encoding="utf-8") as f:
        statuses = json.load(f)["statuses"]
    record, retweet = next((i, s) for i, s in enumerate(statuses, 1) if "retweeted_status" in s)
    share = parsed.actions.filter(pl.col("action_id") == retweet["id_str"]).row(0, named=True)
    assert share["kind"] == "share"
    assert share["actor_id"] == retweet["user"]["id_str"]
    assert share["source_line"] == record
    original = retweet["retweeted_status"]
    assert share["target_message_id"] == original["id_str"]
    assert share["target_handle"] == original["user"]["screen_name"]
    # the retweet's own "RT @..." mention is not a mention action
    assert parsed.actions.filter(
        (pl.col("kind") == "mention") & (pl.col("target_message_id") == retweet["id_str"])
    ).is_empty()
    reply = parsed.messages.filter(pl.col("kind") == "reply").row(0, named=True)
    source = next(s for s in statuses if s["id_str"] == reply["message_id"])
    assert reply["parent_id"] == source["in_reply_to_status_id_str"]
    assert reply["parent_author_id"] == source["in_reply_to_user_id_str"]


# ---------------------------------------------------------------------------------------------
# Hand-written statuses, as the v1.1 documentation describes them


def _user(uid: str, handle: str, followers: int = 10) -> dict:
    return {"id": int(uid), "id_str": uid, "screen_name": handle, "name": handle.title(),
            "followers_count": followers}  # fmt: skip


def _status(i: int, **extra) -> dict:
    status = {
        "created_at": "Wed Aug 27 13:08:45 +0000 2008",
        "id": 1000 + i,
        "id_str": str(1000 + i),
        "text": f"hello @brand number {i}",
        "truncated": False,
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id_str": None,
        "user": _user("42", "fan"),
        "entities": {
            "user_mentions": [
                {
                    "screen_name": "brand",
                    "name": "Brand",
                    "id": 7,
                    "id_str": "7",
                    "indices": [6, 12],
                }
            ],  # fmt: skip
            "urls": [],
        },
    }
    status.update(extra)
    return status


def _write_lines(path: Path, lines: list) -> Path:
    with open(path, "wb") as f:
        for line in lines:
            if isinstance(line, dict | list):
                line = orjson.dumps(line)
            if isinstance(line, str):
                line = line.encode()
            f.write(line + b"\n")
    return path


SHAPES = {
    "search": lambda statuses: json.dumps(
        {"statuses": statuses, "search_metadata": {"count": len(statuses)}}, indent=2
    ),
    "search_minified": lambda statuses: json.dumps({"statuses": statuses}),
    "array": lambda statuses: json.dumps(statuses, indent=4),
    "json_lines": lambda statuses: "".join(json.dumps(s) + "\n" for s in statuses),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_is_detected_and_parsed_alike(tmp_path: Path, shape: str) -> None:
    statuses = [_status(1), _status(2), _status(3, user=_user("43", "other", 5))]
    path = tmp_path / "statuses.dat"
    path.write_text(SHAPES[shape](statuses), encoding="utf-8")
    assert sniff(read_head(path))
    parsed = parse_file(path)
    assert parsed.source_format == "twitter_v1"
    _schemas_ok(parsed)
    assert parsed.rejects.is_empty()
    assert parsed.messages.select("message_id", "source_line").rows() == [
        ("1001", 1),
        ("1002", 2),
        ("1003", 3),
    ]
    assert (
        parsed.messages["created_at"].to_list()
        == [datetime(2008, 8, 27, 13, 8, 45, tzinfo=UTC)] * 3
    )
    assert parsed.messages["url"].to_list()[2] == "https://x.com/other/status/1003"
    assert parsed.actions["action_id"].to_list() == [f"100{i}:mention:brand" for i in (1, 2, 3)]
    accounts = {r[0]: r[1:] for r in parsed.accounts.select(
        "account_id", "handle", "followers_count").rows()}  # fmt: skip
    assert accounts == {"42": ("fan", 10), "43": ("other", 5), "7": ("brand", None)}


def test_single_status_document_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_status(1), indent=2).encode())
    parsed = parse_file(path)
    assert parsed.source_format == "twitter_v1"
    assert parsed.messages.select("message_id", "source_line").rows() == [("1001", 1)]


def test_retweet_quote_reply_and_extended_text(tmp_path: Path) -> None:
    original = _status(1, user=_user("50", "brand", 9000), text="our new thing")
    retweet = _status(
        2,
        text="RT @brand: our new thing",
        retweeted_status=original,
        entities={"user_mentions": [{"screen_name": "brand", "id_str": "50"}]},
    )
    quoted = _status(3, user=_user("51", "critic"), text="meh")
    quote = _status(
        4,
        text="look at this https://t.co/x",
        quoted_status_id_str="1003",
        quoted_status=quoted,
        entities={"user_mentions": []},
    )
    reply = _status(
        5,
        truncated=True,
        text="@brand I love… https://t.co/y",
        in_reply_to_status_id_str="1001",
        in_reply_to_user_id_str="50",
        in_reply_to_screen_name="brand",
        quoted_status_id_str="999",  # a reply that also quotes
        extended_tweet={
            "full_text": "@brand I love it, and so does @pal",
            "entities": {
                "user_mentions": [
                    {"screen_name": "brand", "id_str": "50"},
                    {"screen_name": "pal", "id_str": "60"},
                ]
            },  # fmt: skip
        },
    )
    full_text = _status(6, full_text="the full text", entities={})
    del full_text["text"]
    path = _write_lines(tmp_path / "t.jsonl", [retweet, quote, reply, full_text, original])
    parsed = parse_file(path)
    assert parsed.rejects.is_empty(), parsed.rejects["reason"].to_list()
    msgs = {r["message_id"]: r for r in parsed.messages.iter_rows(named=True)}
    assert set(msgs) == {"1001", "1003", "1004", "1005", "1006"}  # not the retweet 1002
    assert msgs["1001"]["source_line"] == 1  # first seen inside the retweet on line 1
    assert msgs["1001"]["url"] == "https://x.com/brand/status/1001"
    assert (msgs["1004"]["kind"], msgs["1004"]["quoted_id"]) == ("quote", "1003")
    assert msgs["1003"]["kind"] == "post" and msgs["1003"]["source_line"] == 2
    r = msgs["1005"]
    assert (r["kind"], r["parent_id"], r["parent_author_id"], r["quoted_id"]) == (
        "reply",
        "1001",
        "50",
        "999",
    )
    assert r["text"] == "@brand I love it, and so does @pal"
    assert msgs["1006"]["text"] == "the full text"
    share = parsed.actions.filter(pl.col("kind") == "share").row(0, named=True)
    assert (share["action_id"], share["actor_id"]) == ("1002", "42")
    assert (share["target_message_id"], share["target_account_id"]) == ("1001", "50")
    mentions = parsed.actions.filter(pl.col("kind") == "mention")
    assert sorted(mentions["action_id"]) == [
        "1001:mention:brand",
        "1003:mention:brand",
        "1005:mention:brand",
        "1005:mention:pal",
    ]
    brand = parsed.accounts.filter(pl.col("account_id") == "50").row(0, named=True)
    assert (brand["handle"], brand["followers_count"]) == ("brand", 9000)


def test_streaming_control_messages_are_skipped(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path / "stream.jsonl",
        [
            {"delete": {"status": {"id": 1, "id_str": "1", "user_id": 3, "user_id_str": "3"}}},
            {"limit": {"track": 12, "timestamp_ms": "1400000000000"}},
            _status(1),
        ],
    )
    assert sniff(read_head(path))
    parsed = parse_file(path)
    assert parsed.source_format == "twitter_v1"
    assert parsed.rejects.is_empty()
    assert parsed.messages.select("message_id", "source_line").rows() == [("1001", 3)]


def test_time_with_offset_is_converted_to_utc(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path / "t.jsonl",
        [_status(1, created_at="Wed Aug 27 13:08:45 +0200 2008"), _status(2)],
    )
    parsed = parse_file(path)
    assert parsed.messages["created_at"].to_list() == [
        datetime(2008, 8, 27, 11, 8, 45, tzinfo=UTC),
        datetime(2008, 8, 27, 13, 8, 45, tzinfo=UTC),
    ]


# ---------------------------------------------------------------------------------------------
# Malformed input


def test_bad_lines_and_records_are_rejected_precisely(tmp_path: Path) -> None:
    no_user = _status(2)
    del no_user["user"]
    no_user_id = _status(3, user={"screen_name": "x"})
    bad_time = _status(4, created_at="yesterday")
    no_time = _status(5)
    del no_time["created_at"]
    no_id = _status(6)
    del no_id["id"], no_id["id_str"]
    path = _write_lines(
        tmp_path / "t.jsonl",
        [
            _status(1),
            no_user,
            no_user_id,
            bad_time,
            no_time,
            no_id,
            '{"id_str": "7", "text": "cut',
            "[1, 2]",
            b'{"id_str": "caf\xe9"}',
            _status(10),
        ],
    )
    parsed = parse_file(path)
    assert parsed.source_format == "twitter_v1"
    assert parsed.messages["source_line"].to_list() == [1, 10]
    reasons: dict[int, str] = {}
    for position, reason in parsed.rejects.select("position", "reason").iter_rows():
        reasons[position] = reasons[position] + " | " + reason if position in reasons else reason
    assert reasons[2] == "line 2: status: status 1002 has no user object"
    assert reasons[3] == "line 3: status: status 1003 has no user.id_str"
    assert reasons[4] == (
        "line 4: status: status 1004 has created_at 'yesterday', not a time like "
        "'Wed Aug 27 13:08:45 +0000 2008'"
    )
    assert reasons[5] == "line 5: status: status 1005 has no created_at"
    assert reasons[6] == "line 6: status: status has no id_str"
    assert reasons[7].startswith("line 7: not valid JSON")
    assert reasons[8] == (
        "line 8: [0] is a number, not a status object | "
        "line 8: [1] is a number, not a status object"
    )
    assert reasons[9].startswith("line 9: not valid JSON")
    assert parsed.rejects.filter(pl.col("position") == 7)["raw_excerpt"].item() == (
        '{"id_str": "7", "text": "cut'
    )
    assert set(parsed.rejects["source_file"]) == {str(path)}


def test_truncated_search_response_keeps_the_records_before(tmp_path: Path) -> None:
    text = SHAPES["search"]([_status(i) for i in range(1, 5)])
    cut = text[: text.index('"id_str": "1004"') + 5]
    path = tmp_path / "search.json"
    path.write_text(cut, encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.source_format == "twitter_v1"
    assert parsed.messages["message_id"].to_list() == ["1001", "1002", "1003"]
    reject = parsed.rejects.row(0, named=True)
    assert parsed.rejects.height == 1
    assert reject["position"] == 4
    assert reject["reason"].startswith("record 4: not valid JSON")
    assert "the file ends inside it" in reject["reason"]


def test_broken_record_in_the_middle_of_an_array(tmp_path: Path) -> None:
    records = [json.dumps(_status(i), indent=2) for i in range(1, 5)]
    records[1] = records[1].replace('"truncated": false,', '"truncated": false', 1)
    path = tmp_path / "statuses.json"
    path.write_text("[\n" + ",\n".join(records) + "\n]\n", encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.messages.select("message_id", "source_line").rows() == [
        ("1001", 1),
        ("1003", 3),
        ("1004", 4),
    ]
    assert parsed.rejects["position"].to_list() == [2]
    assert parsed.rejects["reason"].item().startswith("record 2: not valid JSON (Expecting ','")
    assert parsed.rejects["raw_excerpt"].item().startswith('{\n  "created_at"')


def test_bytes_that_are_not_utf8_reject_their_record_only(tmp_path: Path) -> None:
    records = [json.dumps(_status(i)).encode() for i in range(1, 4)]
    records[1] = records[1].replace(b"number 2", b"num\xe9ro 2")
    path = tmp_path / "statuses.json"
    path.write_bytes(b"[" + b",\n".join(records) + b"]")
    parsed = parse_file(path)
    assert parsed.messages["message_id"].to_list() == ["1001", "1003"]
    assert parsed.rejects["position"].to_list() == [2]
    assert "UTF-8" in parsed.rejects["reason"].item()


def test_not_json_after_the_array_is_one_reject(tmp_path: Path) -> None:
    text = SHAPES["search"]([_status(1)])
    path = tmp_path / "search.json"
    path.write_text(text[:-3], encoding="utf-8")  # the end of search_metadata is lost
    parsed = parse_file(path)
    assert parsed.messages.height == 1
    assert parsed.rejects["position"].to_list() == [None]
    assert parsed.rejects["reason"].item().startswith("the file is not valid JSON")


# ---------------------------------------------------------------------------------------------
# Detection: other formats' files are not claimed, and v1 files are not taken by others


def test_sniff_rejects_twarc_v2_and_others(tmp_path: Path) -> None:
    v2 = {"id": "1", "author_id": "2", "text": "hi", "created_at": "2023-01-01T00:00:00Z"}
    cases = {
        "v2.jsonl": json.dumps(v2) + "\n",
        "v2page.jsonl": json.dumps({"data": [v2], "includes": {}}) + "\n",
        "masto.json": json.dumps({"@context": "x", "orderedItems": []}),
        "reddit.jsonl": json.dumps({"id": "abc", "body": "x", "author": "y"}) + "\n",
        "misskey.json": json.dumps({"id": "9a", "user": {"id": "u"}, "text": "x"}) + "\n",
        "archive.js": 'window.YTD.tweets.part0 = [{"tweet": {"id_str": "1"}}]',
        "csv.csv": "tweet_id,author_id,inbound,created_at,text\n1,a,True,x,y\n",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        assert not sniff(read_head(path)), name


def test_sniff_rejects_sample_files() -> None:
    files = [p for p in SAMPLE_DIR.iterdir() if p.is_file()]
    assert files
    for path in files:
        assert not sniff(read_head(path)), path.name


@pytest.mark.real_data
def test_sniff_rejects_other_real_files(real_data: Path) -> None:
    checked = 0
    for path in sorted(real_data.rglob("*")):
        if not path.is_file() or "twitter_v1" in path.parts:
            continue
        assert not sniff(read_head(path)), path
        checked += 1
    assert checked > 10


@pytest.mark.real_data
def test_real_file_detected(real_data: Path) -> None:
    assert sniff(read_head(real_data.joinpath(*REAL)))


def test_large_pretty_document_is_detected_from_its_head(tmp_path: Path) -> None:
    statuses = [_status(i, text="x" * 2000) for i in range(60)]
    path = tmp_path / "big.json"
    path.write_text(SHAPES["search"](statuses), encoding="utf-8")
    assert path.stat().st_size > 64 * 1024
    parsed = parse_file(path)
    assert parsed.source_format == "twitter_v1"
    assert parsed.messages.height == 60


# ---------------------------------------------------------------------------------------------
# Properties: whatever the lines or bytes, parse_file does not raise


_valid = [orjson.dumps(_status(i)) for i in range(1, 9)]


def _mutate(draw, line: bytes, how: str) -> bytes:
    if how == "cut":
        return line[: draw(st.integers(1, len(line) - 1))]
    if how == "delete":
        a = draw(st.integers(0, len(line) - 1))
        return line[:a] + line[a + draw(st.integers(1, 5)) :]
    if how == "insert":
        a = draw(st.integers(0, len(line)))
        return line[:a] + draw(st.binary(min_size=1, max_size=5)) + line[a:]
    if how == "garbage":
        return draw(st.binary(min_size=1, max_size=40))
    return line


@st.composite
def _lines(draw) -> list[bytes]:
    lines = []
    for i in range(draw(st.integers(2, 8))):
        how = draw(st.sampled_from(["keep", "keep", "cut", "delete", "insert", "garbage"]))
        line = _mutate(draw, _valid[i], how)
        lines.append(line.replace(b"\n", b" ").replace(b"\r", b" "))
    return lines


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=_lines())
def test_property_every_line_loaded_or_rejected(tmp_path_factory, lines: list[bytes]) -> None:
    path = tmp_path_factory.mktemp("prop") / "t.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    parsed = parse_file(path)
    _schemas_ok(parsed)
    if parsed.source_format != "twitter_v1":
        return  # the first lines no longer look like v1.1: another format or none
    if parsed.rejects["reason"].str.starts_with("line ").sum() == 0 and parsed.rejects.height:
        return  # read as one document, not as lines (e.g. a single surviving line)
    loaded = set(parsed.messages["source_line"]) | set(parsed.actions["source_line"])
    rejected = set(parsed.rejects["position"])
    for number, line in enumerate(lines, start=1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")  # a BOM opening the file is not data
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and "statuses" in obj and not obj["statuses"]:
            continue
        if isinstance(obj, dict) and obj and set(obj) <= {"delete", "limit", "warning"}:
            continue
        if isinstance(obj, list) and not obj:
            continue
        assert number in loaded or number in rejected, (number, line)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_property_mutated_document_never_raises(tmp_path_factory, data) -> None:
    shape = data.draw(st.sampled_from(["search", "array", "search_minified"]))
    doc = SHAPES[shape]([_status(i) for i in range(1, 5)]).encode()
    how = data.draw(st.sampled_from(["keep", "cut", "delete", "insert"]))
    mutated = _mutate(data.draw, doc, how)
    path = tmp_path_factory.mktemp("prop") / "doc.json"
    path.write_bytes(mutated)
    parsed = parse_file(path)
    _schemas_ok(parsed)
    try:
        orjson.loads(mutated.removeprefix(b"\xef\xbb\xbf"))
        valid = True
    except orjson.JSONDecodeError:
        valid = False
    if parsed.source_format == "twitter_v1" and not valid:
        assert parsed.rejects.height >= 1  # a broken document never passes silently
    if parsed.source_format == "twitter_v1" and how == "keep":
        assert parsed.rejects.is_empty()
        assert parsed.messages.height == 4
