"""The generic CSV: every rule of docs/formats.md, and a real file converted to it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.formats import parse_file
from pipelines.model import TABLE_SCHEMAS

HEADER = [
    "platform",
    "record_type",
    "id",
    "author_id",
    "author_handle",
    "author_name",
    "author_followers",
    "created_at",
    "text",
    "parent_id",
    "parent_author_id",
    "quoted_id",
    "thread_id",
    "target_id",
    "target_author_id",
    "url",
]


def _schemas_ok(parsed) -> None:
    for table, schema in TABLE_SCHEMAS.items():
        assert dict(getattr(parsed, table).schema) == schema, table


def _write(path: Path, rows: list[dict], header: list[str] = HEADER) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _row(record_type: str, **fields) -> dict:
    return {"platform": "mastodon", "record_type": record_type, **fields}


GOOD = [
    _row(
        "post",
        id="p1",
        author_id="u1",
        author_handle="@alice",
        author_name="Alice",
        author_followers="120",
        created_at="2024-03-01T10:00:00Z",
        text="Loving @acme's kettle, cc @bob@mastodon.social and me@example.com",
        url="https://example.social/@alice/p1",
        thread_id="p1",
    ),
    _row(
        "reply",
        id="p2",
        author_id="u2",
        author_handle="bob",
        created_at="2024-03-01T11:00:00+02:00",
        text="@alice same, twice @alice",
        parent_id="p1",
        parent_author_id="u1",
    ),
    _row(
        "quote",
        id="p3",
        author_id="u2",
        created_at="2024-03-01 12:00:00",
        text="so true",
        quoted_id="p1",
    ),
    _row(
        "share",
        author_id="u3",
        target_id="p1",
        target_author_id="u1",
        created_at="2024-03-01T12:30:00Z",
    ),
    _row("like", id="like-9", author_id="u2", target_id="p1"),
    _row("follow", author_id="u2", target_author_id="u1"),
    _row(
        "post",
        id="p4",
        author_id="u1",
        author_followers="130",
        created_at="2024-03-02",
        text="again",
    ),
]


def test_good_rows_map_to_the_model(tmp_path: Path) -> None:
    path = _write(tmp_path / "g.csv", GOOD)
    parsed = parse_file(path)
    assert parsed.source_format == "generic_csv"
    assert parsed.rejects.height == 0, parsed.rejects["reason"].to_list()
    _schemas_ok(parsed)

    messages = {r["message_id"]: r for r in parsed.messages.iter_rows(named=True)}
    assert set(messages) == {"p1", "p2", "p3", "p4"}
    p1 = messages["p1"]
    assert (p1["platform"], p1["kind"], p1["author_id"], p1["source_line"]) == (
        "mastodon",
        "post",
        "u1",
        2,
    )
    assert p1["url"] == "https://example.social/@alice/p1"
    assert p1["thread_id"] == "p1"
    assert messages["p2"]["kind"] == "reply"
    assert messages["p2"]["parent_id"] == "p1"
    assert messages["p2"]["parent_author_id"] == "u1"
    assert messages["p2"]["created_at"] == datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    # no zone: taken as UTC
    assert messages["p3"]["created_at"] == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    assert messages["p3"]["kind"] == "quote"
    assert messages["p3"]["quoted_id"] == "p1"
    assert messages["p4"]["created_at"] == datetime(2024, 3, 2, tzinfo=UTC)

    actions = {r["action_id"]: r for r in parsed.actions.iter_rows(named=True)}
    assert set(actions) == {
        "share:u3:p1",
        "like-9",
        "follow:u2:u1",
        "p1:mention:acme",
        "p1:mention:bob@mastodon.social",
        "p2:mention:alice",
    }
    share = actions["share:u3:p1"]
    assert (share["kind"], share["actor_id"], share["target_message_id"]) == ("share", "u3", "p1")
    assert share["target_account_id"] == "u1"
    assert share["created_at"] == datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
    assert actions["like-9"]["created_at"] is None
    assert actions["like-9"]["target_account_id"] is None
    follow = actions["follow:u2:u1"]
    assert (follow["kind"], follow["target_account_id"], follow["target_message_id"]) == (
        "follow",
        "u1",
        None,
    )
    mention = actions["p2:mention:alice"]
    assert (mention["actor_id"], mention["target_handle"], mention["target_message_id"]) == (
        "u2",
        "alice",
        "p2",
    )
    assert mention["target_account_id"] is None
    assert mention["source_line"] == 3

    accounts = {r["account_id"]: r for r in parsed.accounts.iter_rows(named=True)}
    assert set(accounts) == {"u1", "u2", "u3"}
    assert accounts["u1"]["handle"] == "alice"  # the '@' is dropped
    assert accounts["u1"]["display_name"] == "Alice"
    assert accounts["u1"]["followers_count"] == 130  # the latest row that gives one
    assert accounts["u2"]["handle"] == "bob"
    assert accounts["u3"]["handle"] is None


BAD = [
    (
        _row("retweet", id="x", author_id="u2"),
        "record_type 'retweet' is not one of post, reply, quote, share, like, follow",
    ),
    (_row("", id="x", author_id="u2"), "record_type is empty"),
    ({"platform": " ", "record_type": "post", "author_id": "u"}, "platform is empty"),
    (_row("post", id="x", created_at="2024-03-01T10:00:00Z", text="hi"), "author_id is empty"),
    (
        _row(
            "post",
            id="x",
            author_id="u",
            author_followers="12.5",
            created_at="2024-03-01T10:00:00Z",
            text="hi",
        ),
        "author_followers '12.5' is not a non-negative integer",
    ),
    (
        _row("like", author_id="u", author_followers="-3", target_id="p1"),
        "author_followers '-3' is not a non-negative integer",
    ),
    (
        _row("quote", id="x", author_id="u", created_at="yesterday", text="hi", quoted_id="p1"),
        "created_at 'yesterday' is not an ISO 8601 timestamp",
    ),
    (
        _row("post", author_id="u", created_at="2024-03-01T10:00:00Z", text="hi"),
        "id is required for a post",
    ),
    (
        _row("reply", id="x", author_id="u", text="hi", parent_id="p1"),
        "created_at is required for a reply",
    ),
    (
        _row("post", id="x", author_id="u", created_at="2024-03-01T10:00:00Z", text="   "),
        "text is required for a post",
    ),
    (
        _row("reply", id="x", author_id="u", created_at="2024-03-01T10:00:00Z", text="hi"),
        "parent_id is required for a reply",
    ),
    (
        _row("quote", id="x", author_id="u", created_at="2024-03-01T10:00:00Z", text="hi"),
        "quoted_id is required for a quote",
    ),
    (_row("share", author_id="u"), "target_id is required for a share"),
    (_row("like", author_id="u", target_author_id="u1"), "target_id is required for a like"),
    (_row("follow", author_id="u", target_id="p1"), "target_author_id is required for a follow"),
]


def test_rule_violations_become_rejects_naming_line_and_rule(tmp_path: Path) -> None:
    rows = [GOOD[0]] + [row for row, _ in BAD] + [GOOD[1]]
    parsed = parse_file(_write(tmp_path / "g.csv", rows))
    assert parsed.messages["message_id"].to_list() == ["p1", "p2"]
    assert parsed.messages["source_line"].to_list() == [2, 3 + len(BAD)]
    expected = [f"line {i + 3}: {reason}" for i, (_, reason) in enumerate(BAD)]
    assert parsed.rejects["reason"].to_list() == expected
    assert parsed.rejects["position"].to_list() == list(range(3, 3 + len(BAD)))
    assert parsed.rejects["raw_excerpt"][0].startswith("mastodon,retweet,x,u2,")
    assert set(parsed.accounts["account_id"]) == {"u1", "u2"}  # rejected rows add no account


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2024-10-11 10:00:00 -0500", "2024-10-11 15:00:00"),
        ("2024-10-11 10:00:00 -05:00", "2024-10-11 15:00:00"),
        ("2024-10-11T10:00:00+0200", "2024-10-11 08:00:00"),
        ("2024-10-11 10:00:00 Z", "2024-10-11 10:00:00"),
        ("2024-10-11 10:00:00", "2024-10-11 10:00:00"),
    ],
)
def test_times_in_other_zones_become_utc(tmp_path: Path, written: str, utc: str) -> None:
    path = _write(tmp_path / "g.csv", [_row("post", id="p1", author_id="u1",
                                            created_at=written, text="hi")])
    parsed = parse_file(path)
    assert parsed.rejects.height == 0, parsed.rejects["reason"].to_list()
    when = parsed.messages["created_at"][0]
    assert when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") == utc


def test_column_order_free_extra_columns_ignored_header_case(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text(
        "\ufeffText ,Created_At,Author_ID,note,Record_Type,ID,PLATFORM\n"
        "hello @brand,2024-01-01T00:00:00Z,a1,whatever,POST,m1,BlueSky\n"
        "too short\n",
        encoding="utf-8",
    )
    parsed = parse_file(path)
    assert parsed.source_format == "generic_csv"
    assert parsed.messages.select("platform", "message_id", "author_id", "kind", "text").rows() == [
        ("bluesky", "m1", "a1", "post", "hello @brand")
    ]
    assert parsed.actions["target_handle"].to_list() == ["brand"]
    assert parsed.rejects.select("position").to_series().to_list() == [3]
    assert "MISSING COLUMNS" in parsed.rejects["reason"].item()


def test_multiline_text_and_positions(tmp_path: Path) -> None:
    rows = [
        _row(
            "post",
            id="a",
            author_id="u",
            created_at="2024-01-01T00:00:00Z",
            text='first line\nsecond, with comma and "quotes"',
        ),
        _row("post", id="b", author_id="u", created_at="2024-01-01T00:00:00Z", text="x"),
    ]
    parsed = parse_file(_write(tmp_path / "g.csv", rows))
    assert parsed.messages["text"][0] == 'first line\nsecond, with comma and "quotes"'
    # a line break inside a quoted field does not count: positions are record numbers
    assert parsed.messages["source_line"].to_list() == [2, 3]


def test_header_only_file(tmp_path: Path) -> None:
    parsed = parse_file(_write(tmp_path / "g.csv", []))
    assert parsed.source_format == "generic_csv"
    assert parsed.counts() == {"accounts": 0, "messages": 0, "actions": 0, "rejects": 0}
    _schemas_ok(parsed)


# ---------------------------------------------------------------------------------------------
# A real file, converted to the generic CSV here: loads the same as through its own parser


@pytest.mark.real_data
def test_real_twcs_sample_converted(real_data: Path, tmp_path: Path) -> None:
    source = real_data / "twcs" / "sample_yosingh1.csv"
    with open(source, encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f))
    converted = []
    for r in records:
        when = datetime.strptime(r["created_at"], "%a %b %d %H:%M:%S %z %Y")
        parent = r["in_response_to_tweet_id"]
        converted.append(
            _row(
                "reply" if parent else "post",
                platform="Twitter",
                id=r["tweet_id"],
                author_id=r["author_id"],
                author_handle=r["author_id"],
                created_at=when.isoformat(),
                # TWCS keeps X's &amp; &lt; &gt;; the generic CSV holds plain text
                text=r["text"].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"),
                parent_id=parent,
            )
        )
    generic = parse_file(_write(tmp_path / "converted.csv", converted))
    native = parse_file(source)
    assert generic.rejects.height == 0
    assert generic.messages.height == len(records) == 93
    columns = ["message_id", "author_id", "kind", "text", "created_at", "parent_id", "source_line"]
    assert (
        generic.messages.select(columns)
        .sort("message_id")
        .equals(native.messages.select(columns).sort("message_id"))
    )
    assert (
        generic.actions.select("action_id", "target_handle")
        .sort("action_id")
        .equals(native.actions.select("action_id", "target_handle").sort("action_id"))
    )
    assert set(generic.accounts["account_id"]) == {r["author_id"] for r in records}


# ---------------------------------------------------------------------------------------------
# Property: any mix of valid rows and junk lines: valid rows load on their line, junk is rejected

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=30,
).filter(lambda t: t.strip() != "")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(_text, min_size=1, max_size=6),
    junk=st.lists(
        st.one_of(
            st.just(b""),
            st.binary(max_size=40).map(
                lambda b: b"x" + b.replace(b"\n", b"").replace(b"\r", b"").replace(b'"', b"")
            ),
            st.sampled_from(
                [b"x,retweet,1,u", b"x,post,1,u,,,,,,,,,,,,", b"x,post,1,u,,,,2024-01-01,hi,,,,,,,"]
            ),
        ),
        max_size=4,
    ),
    data=st.data(),
)
def test_property_rows_loaded_or_rejected(tmp_path_factory, texts, junk, data) -> None:
    items = [("row", t) for t in texts] + [("junk", j) for j in junk]
    order = data.draw(st.permutations(items))
    lines: list[bytes] = []
    expected: dict[str, int] = {}
    junk_lines: list[int] = []
    for i, (what, value) in enumerate(order):
        line = i + 2
        if what == "row":
            buffer = io.StringIO()
            csv.DictWriter(
                buffer, fieldnames=HEADER, lineterminator="\n", quoting=csv.QUOTE_ALL
            ).writerow(
                _row(
                    "post", id=f"m{i}", author_id="u", created_at="2024-01-01T00:00:00Z", text=value
                )
            )
            lines.append(buffer.getvalue().encode())
            expected[f"m{i}"] = line
        else:
            lines.append(value + b"\n")
            if value.strip():
                junk_lines.append(line)
    path = tmp_path_factory.mktemp("prop") / "g.csv"
    path.write_bytes((",".join(HEADER) + "\n").encode() + b"".join(lines))
    parsed = parse_file(path)
    assert parsed.source_format == "generic_csv"
    _schemas_ok(parsed)
    got = dict(parsed.messages.select("message_id", "source_line").iter_rows())
    loaded_lines = set(parsed.messages["source_line"]) | set(parsed.actions["source_line"])
    rejected = set(parsed.rejects["position"])
    for message_id, line in expected.items():
        assert got.get(message_id) == line, (message_id, line, got)
    for line in junk_lines:
        assert line in rejected or line in loaded_lines, line
    assert not (rejected & set(expected.values()))
    assert parsed.messages["source_line"].is_unique().all()


def test_documented_example_loads(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[1] / "docs" / "formats.md"
    example = docs.read_text(encoding="utf-8").split("```csv\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.csv"
    path.write_text(example, encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.source_format == "generic_csv"
    assert parsed.rejects.height == 0
    assert parsed.messages["kind"].to_list() == ["post", "reply"]
    kinds = sorted(parsed.actions["kind"])
    assert kinds == ["follow", "like", "mention", "mention", "mention", "share"]
    assert set(parsed.accounts["handle"]) == {"alice", "bob", "carol"}


def test_overlong_line_is_rejected_rest_loads(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    row = "x,post,{},u,2024-01-01,{}\n"
    path.write_text(
        "platform,record_type,id,author_id,created_at,text\n"
        + row.format(1, "hi")
        + row.format(2, "a" * 2_100_000)
        + row.format(3, "hi"),
        encoding="utf-8",
    )
    parsed = parse_file(path)
    assert parsed.messages["source_line"].to_list() == [2, 4]
    assert parsed.rejects["position"].to_list() == [3]
    assert "LINE SIZE OVER MAXIMUM" in parsed.rejects["reason"].item()
    assert len(parsed.rejects["raw_excerpt"].item()) == 300
