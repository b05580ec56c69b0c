"""Customer Support on Twitter (TWCS) CSV: real files and hand-written edge cases."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.formats import parse_file
from pipelines.model import TABLE_SCHEMAS

HEAD = ("twcs", "twcs_head_monalisapatra26.csv")
SAMPLE = ("twcs", "sample_yosingh1.csv")
HEADER = [
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
]
MENTION = re.compile(r"(?:^|[^A-Za-z0-9_@])@([A-Za-z0-9_]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)")


def _schemas_ok(parsed) -> None:
    for table, schema in TABLE_SCHEMAS.items():
        assert dict(getattr(parsed, table).schema) == schema, table


def _records(path: Path) -> list[dict]:
    """The well-formed records, read with the csv module: those with a field per header cell."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:] if len(row) == len(header)]


# ---------------------------------------------------------------------------------------------
# Real files


@pytest.mark.real_data
@pytest.mark.parametrize("parts", [HEAD, SAMPLE], ids=["head", "sample"])
def test_real_file_counts(real_data: Path, parts: tuple[str, str]) -> None:
    path = real_data.joinpath(*parts)
    records = _records(path)
    parsed = parse_file(path)
    assert parsed.source_format == "twcs"
    _schemas_ok(parsed)

    assert parsed.messages.height == len(records)
    assert set(parsed.messages["message_id"]) == {r["tweet_id"] for r in records}
    replies = [r for r in records if r["in_response_to_tweet_id"]]
    kinds = dict(parsed.messages.group_by("kind").len().iter_rows())
    assert kinds.get("reply", 0) == len(replies)
    assert kinds.get("post", 0) == len(records) - len(replies)
    assert set(parsed.messages["parent_id"].drop_nulls()) == {
        r["in_response_to_tweet_id"].removesuffix(".0") for r in replies
    }
    authors = {r["author_id"] for r in records}
    brands = {r["author_id"] for r in records if r["inbound"] == "False"}
    assert set(parsed.accounts["account_id"]) == authors
    assert set(parsed.accounts.filter(pl.col("is_brand_hint"))["account_id"]) == brands
    assert (parsed.accounts["handle"] == parsed.accounts["account_id"]).all()
    assert parsed.accounts["followers_count"].null_count() == parsed.accounts.height
    mentions = sum(len(set(MENTION.findall(r["text"]))) for r in records)
    assert parsed.actions.height == mentions
    assert set(parsed.actions["kind"]) == {"mention"}
    assert parsed.messages["url"].null_count() == parsed.messages.height
    assert parsed.messages["source_line"].n_unique() == parsed.messages.height


@pytest.mark.real_data
def test_real_head_known_records_and_rejects(real_data: Path) -> None:
    path = real_data.joinpath(*HEAD)
    parsed = parse_file(path)
    assert parsed.messages.height == 4999
    first = parsed.messages.filter(pl.col("message_id") == "1").row(0, named=True)
    assert first["author_id"] == "sprintcare"
    assert first["kind"] == "reply"
    assert first["parent_id"] == "3"
    assert first["created_at"] == datetime(2017, 10, 31, 22, 10, 47, tzinfo=UTC)
    assert first["source_line"] == 2
    assert first["text"].startswith("@115712 I understand.")
    brand = parsed.accounts.filter(pl.col("account_id") == "sprintcare").row(0, named=True)
    assert brand["is_brand_hint"] is True
    customer = parsed.accounts.filter(pl.col("account_id") == "115712").row(0, named=True)
    assert customer["is_brand_hint"] is False
    mention = parsed.actions.filter(pl.col("action_id") == "1:mention:115712").row(0, named=True)
    assert mention["actor_id"] == "sprintcare"
    assert mention["target_handle"] == "115712"
    assert mention["target_account_id"] is None
    assert mention["target_message_id"] == "1"

    # tweet 3399 holds bare carriage returns in an unquoted field: DuckDB sees lines 2486-2488
    assert parsed.rejects["position"].to_list() == [2486, 2488]
    assert all("MISSING COLUMNS" in r for r in parsed.rejects["reason"])
    assert parsed.rejects["raw_excerpt"][0].startswith("2484,3399,116510,True,")
    assert "3399" not in parsed.messages["message_id"].to_list()
    # loaded rows count past the rejected and the blank line
    lines = dict(parsed.messages.select("message_id", "source_line").iter_rows())
    assert lines["3398"] == 2485
    assert lines["3400"] == 2489


@pytest.mark.real_data
def test_real_sample_without_index_column(real_data: Path) -> None:
    parsed = parse_file(real_data.joinpath(*SAMPLE))
    assert parsed.rejects.height == 0
    row = parsed.messages.filter(pl.col("message_id") == "119238").row(0, named=True)
    assert row["author_id"] == "ChaseSupport"
    assert row["parent_id"] == "119239"
    assert row["source_line"] == 3
    assert row["created_at"] == datetime(2017, 10, 11, 13, 25, 49, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Hand-written fixtures


def _write(path: Path, rows: list[list[str]], *, header: list[str] = HEADER) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_other_time_zone_is_converted_to_utc(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.csv",
        [["10", "acme", "False", "Tue Oct 31 22:10:47 +0200 2017", "hi @bob", "", ""]],
    )
    parsed = parse_file(path)
    assert parsed.messages["created_at"].item() == datetime(2017, 10, 31, 20, 10, 47, tzinfo=UTC)


def test_rule_violations_become_rejects(tmp_path: Path) -> None:
    ok = ["1", "acme", "False", "Tue Oct 31 22:10:47 +0000 2017", "hello, @bob", "", "2.0"]
    rows = [
        ok,
        ["", "bob", "True", "Tue Oct 31 22:10:47 +0000 2017", "x", "", ""],
        ["3", "bob", "maybe", "Tue Oct 31 22:10:47 +0000 2017", "x", "", ""],
        ["4", "bob", "True", "31/10/2017", "x", "", ""],
        ["5", "", "True", "Tue Oct 31 22:10:47 +0000 2017", "x", "", ""],
        ["6", "bob", "True", "Tue Oct 31 22:10:47 +0000 2017"],
        ["7", "bob", "true", "Tue Oct 31 22:10:47 +0000 2017", "multi\nline, text", "", "1"],
    ]
    parsed = parse_file(_write(tmp_path / "t.csv", rows))
    assert parsed.messages["message_id"].to_list() == ["1", "7"]
    assert parsed.messages["parent_id"].to_list() == ["2", "1"]
    assert parsed.messages["source_line"].to_list() == [2, 8]
    reasons = dict(parsed.rejects.select("position", "reason").iter_rows())
    assert reasons == {
        3: "line 3: tweet_id is empty",
        4: "line 4: inbound 'maybe' is not True or False",
        5: "line 5: created_at '31/10/2017' is not a date like 'Tue Oct 31 22:10:47 +0000 2017'",
        6: "line 6: author_id is empty",
        7: "line 7: malformed CSV record: Expected Number of Columns: 7 Found: 4 (MISSING COLUMNS)",
    }
    assert parsed.rejects.filter(pl.col("position") == 4)["raw_excerpt"].item() == (
        "3,bob,maybe,Tue Oct 31 22:10:47 +0000 2017,x,,"
    )


def test_bom_and_index_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(
        b"\xef\xbb\xbfUnnamed: 0,tweet_id,author_id,inbound,created_at,text,"
        b"response_tweet_id,in_response_to_tweet_id\n"
        b'0,8,115712,True,Tue Oct 31 21:45:10 +0000 2017,@sprintcare is the worst,"9,6,10",\n'
    )
    parsed = parse_file(path)
    assert parsed.source_format == "twcs"
    row = parsed.messages.row(0, named=True)
    assert (row["message_id"], row["author_id"], row["kind"]) == ("8", "115712", "post")
    assert parsed.actions["target_handle"].to_list() == ["sprintcare"]


def test_latin1_rows_are_rejected_the_rest_loads(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(
        (",".join(HEADER) + "\n").encode()
        + b"1,acme,False,Tue Oct 31 22:10:47 +0000 2017,caf\xe9,,\n"
        + b"2,acme,False,Tue Oct 31 22:10:47 +0000 2017,fine,,\n"
    )
    parsed = parse_file(path)
    assert parsed.messages["message_id"].to_list() == ["2"]
    assert parsed.messages["source_line"].to_list() == [3]
    assert parsed.rejects["position"].to_list() == [2]
    assert "not utf-8" in parsed.rejects["reason"].item()


def test_blank_lines_do_not_shift_positions(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    row = "{},acme,False,Tue Oct 31 22:10:47 +0000 2017,x,,"
    path.write_text(
        ",".join(HEADER)
        + "\n"
        + row.format(1)
        + "\n\n"
        + row.format(2)
        + "\n"
        + "oops\n\n\n"
        + row.format(3)
        + "\n",
        encoding="utf-8",
    )
    parsed = parse_file(path)
    assert parsed.messages.select("message_id", "source_line").rows() == [
        ("1", 2),
        ("2", 4),
        ("3", 8),
    ]
    assert parsed.rejects["position"].to_list() == [5]


# ---------------------------------------------------------------------------------------------
# Property: well-formed rows with any text all load, on the right line; garbage lines are rejected

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(_text, min_size=1, max_size=6),
    garbage=st.lists(
        # a blank line, or a line whose first field is not empty (see docs/formats.md)
        st.one_of(
            st.just(b""),
            st.binary(max_size=30).map(
                lambda b: b"x" + b.replace(b"\n", b"").replace(b"\r", b"").replace(b'"', b"")
            ),
        ),
        max_size=4,
    ),
    data=st.data(),
)
def test_property_rows_loaded_or_rejected(tmp_path_factory, texts, garbage, data) -> None:
    lines: list[bytes] = []
    expected: dict[str, int] = {}  # tweet_id -> its DuckDB line (header = 1)
    garbage_lines: list[int] = []
    record = 1
    items = [("row", t) for t in texts] + [("junk", g) for g in garbage]
    order = data.draw(st.permutations(items))
    for i, (what, value) in enumerate(order):
        record += 1
        if what == "row":
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(
                [str(i + 1), "acme", "False", "Tue Oct 31 22:10:47 +0000 2017", value, "", ""]
            )
            lines.append(buffer.getvalue().encode())
            expected[str(i + 1)] = record
        else:
            lines.append(value + b"\n")
            if value.strip():
                garbage_lines.append(record)
    path = tmp_path_factory.mktemp("prop") / "t.csv"
    path.write_bytes((",".join(HEADER) + "\n").encode() + b"".join(lines))
    parsed = parse_file(path)
    assert parsed.source_format == "twcs"
    _schemas_ok(parsed)
    got = dict(parsed.messages.select("message_id", "source_line").iter_rows())
    rejected = set(parsed.rejects["position"])
    for tweet_id, line in expected.items():
        assert got.get(tweet_id) == line, (tweet_id, line, got)
    for line in garbage_lines:
        assert line in rejected or line in got.values()


def test_retweet_text_becomes_a_share_of_that_account(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "rt.csv",
        [
            ["10", "AcmeCare", "False", "Tue Oct 31 10:00:00 +0000 2017", "New plans!", "", ""],
            ["11", "555", "True", "Tue Oct 31 11:00:00 +0000 2017",
             "RT @AcmeCare: New plans!", "", ""],
            ["12", "556", "True", "Tue Oct 31 12:00:00 +0000 2017",
             "RT @AcmeCare is what my friend said", "", ""],
        ],
    )
    parsed = parse_file(path)
    assert parsed.messages["message_id"].to_list() == ["10", "12"]
    shares = parsed.actions.filter(pl.col("kind") == "share")
    assert shares.select("action_id", "actor_id", "target_handle").rows() == [
        ("11", "555", "AcmeCare")
    ]
    # a retweet is not a mention of the account it shares
    mentions = parsed.actions.filter(pl.col("kind") == "mention")
    assert mentions["target_message_id"].to_list() == ["12"]
