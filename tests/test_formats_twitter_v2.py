"""X/Twitter API v2 JSON lines (twarc): real files and hand-written edge cases."""

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
from pipelines.model import TABLE_SCHEMAS

TWARC = ("twitter_v2", "twarc-csv")
REAL_FILES = [
    "brexit.jsonl",
    "cotweet.jsonl",
    "flat.jsonl",
    "kpop.jsonl",
    "mentions_tweet.jsonl",
    "noflat.jsonl",
    "quoted_edit.jsonl",
    "two_tweets.jsonl",
    "users.jsonl",
]


def _schemas_ok(parsed) -> None:
    for table, schema in TABLE_SCHEMAS.items():
        assert dict(getattr(parsed, table).schema) == schema, table


# ---------------------------------------------------------------------------------------------
# Real files: expectations counted here with the json module, not with the parser


def _expected(path: Path) -> dict:
    """Count what the file holds, independently of the parser."""
    tweets: dict[str, tuple[dict, int]] = {}  # id -> (tweet, line), first occurrence
    user_ids: set[str] = set()

    def add_tweet(t: dict, line: int) -> None:
        tweets.setdefault(t["id"], (t, line))
        for key in ("author", "in_reply_to_user"):
            if isinstance(t.get(key), dict):
                user_ids.add(t[key]["id"])
        for m in t.get("entities", {}).get("mentions", []):
            if "id" in m and "username" in m:
                user_ids.add(m["id"])
        for ref in t.get("referenced_tweets", []):
            if "created_at" in ref:  # expanded in flat files
                add_tweet(ref, line)

    with open(path, encoding="utf-8") as f:
        for line, text in enumerate(f, start=1):
            obj = json.loads(text)
            if "data" in obj:
                for item in obj["data"]:
                    if "username" in item and "text" not in item:
                        user_ids.add(item["id"])
                    else:
                        add_tweet(item, line)
                user_ids.update(u["id"] for u in obj.get("includes", {}).get("users", []))
                for t in obj.get("includes", {}).get("tweets", []):
                    add_tweet(t, line)
            else:
                add_tweet(obj, line)

    def is_retweet(t: dict) -> bool:
        return any(r["type"] == "retweeted" for r in t.get("referenced_tweets", []))

    retweets = {i for i, (t, _) in tweets.items() if is_retweet(t)}
    messages = set(tweets) - retweets
    mentions = sum(
        len({m.get("username") or m.get("id") for m in t.get("entities", {}).get("mentions", [])})
        for i, (t, _) in tweets.items()
        if i in messages
    )
    replies = {
        i
        for i in messages
        if any(r["type"] == "replied_to" for r in tweets[i][0].get("referenced_tweets", []))
    }
    quotes = {
        i
        for i in messages - replies
        if any(r["type"] == "quoted" for r in tweets[i][0].get("referenced_tweets", []))
    }
    return {
        "messages": messages,
        "retweets": retweets,
        "mentions": mentions,
        "replies": replies,
        "quotes": quotes,
        "accounts": user_ids,
        "lines": {i: line for i, (_, line) in tweets.items()},
    }


@pytest.mark.real_data
@pytest.mark.parametrize("name", REAL_FILES)
def test_real_file_counts(real_data: Path, name: str) -> None:
    path = real_data.joinpath(*TWARC, name)
    expected = _expected(path)
    parsed = parse_file(path)

    assert parsed.source_format == "twitter_v2"
    assert parsed.rejects.height == 0, parsed.rejects["reason"].to_list()
    _schemas_ok(parsed)
    assert set(parsed.messages["message_id"]) == expected["messages"]
    assert parsed.messages["message_id"].n_unique() == parsed.messages.height
    shares = parsed.actions.filter(pl.col("kind") == "share")
    assert set(shares["action_id"]) == expected["retweets"]
    assert shares.height == len(expected["retweets"])
    assert parsed.actions.filter(pl.col("kind") == "mention").height == expected["mentions"]
    kinds = dict(parsed.messages.group_by("kind").len().iter_rows())
    assert kinds.get("reply", 0) == len(expected["replies"])
    assert kinds.get("quote", 0) == len(expected["quotes"])
    assert set(parsed.accounts["account_id"]) == expected["accounts"]
    assert parsed.accounts["account_id"].n_unique() == parsed.accounts.height
    lines = dict(parsed.messages.select("message_id", "source_line").iter_rows())
    assert lines == {i: expected["lines"][i] for i in expected["messages"]}
    assert set(parsed.messages["source_file"]) == {str(path)}
    assert set(parsed.messages["platform"]) == {"twitter"}


@pytest.mark.real_data
def test_real_retweet_becomes_share(real_data: Path) -> None:
    parsed = parse_file(real_data.joinpath(*TWARC, "two_tweets.jsonl"))
    share = parsed.actions.filter(pl.col("kind") == "share").row(0, named=True)
    assert share["action_id"] == "1394735776701816833"
    assert share["actor_id"] == "1379899464345923590"
    assert share["target_message_id"] == "1391677057810288641"
    assert share["target_account_id"] == "1380086327023169540"  # from includes.tweets
    assert share["created_at"] == datetime(2021, 5, 18, 19, 24, 56, tzinfo=UTC)
    # the retweet is not a message, and its "RT @bibaigna96" is not a mention
    assert "1394735776701816833" not in parsed.messages["message_id"].to_list()
    assert parsed.actions.filter(pl.col("kind") == "mention").height == 0
    original = parsed.messages.row(0, named=True)
    assert original["message_id"] == "1391677057810288641"
    assert original["url"] == "https://x.com/bibaigna96/status/1391677057810288641"


@pytest.mark.real_data
def test_real_reply_that_quotes(real_data: Path) -> None:
    parsed = parse_file(real_data.joinpath(*TWARC, "quoted_edit.jsonl"))
    msg = parsed.messages.filter(pl.col("message_id") == "1576995594388000768").row(0, named=True)
    assert msg["kind"] == "reply"
    assert msg["parent_id"] == "1576994789110992896"
    assert msg["quoted_id"] == "1576994746135764992"
    assert msg["parent_author_id"] == "337119125"
    assert msg["thread_id"] == "1576994789110992896"
    assert msg["author_id"] == "1494167419413094401"
    assert msg["created_at"] == datetime(2022, 10, 3, 18, 0, 23, tzinfo=UTC)
    assert msg["url"] == "https://x.com/dappdavid99/status/1576995594388000768"
    mention = parsed.actions.filter(pl.col("kind") == "mention").row(0, named=True)
    assert mention["action_id"] == "1576995594388000768:mention:wongmjane"
    assert mention["target_account_id"] == "337119125"
    assert mention["target_handle"] == "wongmjane"
    assert mention["actor_id"] == "1494167419413094401"


@pytest.mark.real_data
def test_real_users_lookup(real_data: Path) -> None:
    parsed = parse_file(real_data.joinpath(*TWARC, "users.jsonl"))
    user = parsed.accounts.filter(pl.col("account_id") == "119369819").row(0, named=True)
    assert user["handle"] == "DoDirty78"
    assert user["display_name"] == "DoDirtysHouse"
    assert user["followers_count"] == 580
    assert parsed.messages.height > 0  # the pinned tweets in includes.tweets


@pytest.mark.real_data
def test_real_flat_file_lines_and_share_targets(real_data: Path) -> None:
    path = real_data.joinpath(*TWARC, "flat.jsonl")
    parsed = parse_file(path)
    with open(path, encoding="utf-8") as f:
        first = json.loads(f.readline())
    shares = parsed.actions.filter(pl.col("kind") == "share")
    # every retweet in a flat file carries its original expanded, author included
    assert shares["target_account_id"].null_count() == 0
    row = shares.filter(pl.col("action_id") == first["id"]).row(0, named=True)
    assert row["source_line"] == 1
    assert row["target_account_id"] == first["referenced_tweets"][0]["author_id"]
    assert parsed.messages["source_line"].min() >= 1
    assert parsed.messages["source_line"].max() <= 100


# ---------------------------------------------------------------------------------------------
# Hand-written fixtures


def _tweet(i: int, **extra) -> dict:
    tweet = {
        "id": f"9{i:06d}8",
        "author_id": "42",
        "text": f"hello @brand number {i}",
        "created_at": "2023-01-02T03:04:05.000Z",
        "conversation_id": f"9{i:06d}8",
        "entities": {"mentions": [{"start": 6, "end": 12, "username": "brand", "id": "7"}]},
        "author": {"id": "42", "username": "fan", "name": "A Fan"},
    }
    tweet.update(extra)
    return tweet


def _write_lines(path: Path, lines: list[bytes | str | dict]) -> Path:
    with open(path, "wb") as f:
        for line in lines:
            if isinstance(line, dict):
                line = orjson.dumps(line)
            if isinstance(line, str):
                line = line.encode()
            f.write(line + b"\n")
    return path


def test_bad_json_line_in_the_middle(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path / "t.jsonl", [_tweet(1), '{"id": "2", "text": "cut', _tweet(3), _tweet(4)]
    )
    parsed = parse_file(path)
    assert parsed.source_format == "twitter_v2"
    assert parsed.messages["source_line"].to_list() == [1, 3, 4]
    assert parsed.rejects.height == 1
    reject = parsed.rejects.row(0, named=True)
    assert reject["position"] == 2
    assert reject["reason"].startswith("line 2: not valid JSON")
    assert reject["raw_excerpt"] == '{"id": "2", "text": "cut'
    assert reject["source_file"] == str(path)


def test_tweet_missing_fields_is_rejected(tmp_path: Path) -> None:
    no_author = _tweet(2)
    del no_author["author_id"]
    bad_time = _tweet(3, created_at="yesterday")
    no_time = _tweet(4)
    del no_time["created_at"]
    path = _write_lines(
        tmp_path / "t.jsonl", [_tweet(1), no_author, bad_time, no_time, "[1, 2]", '{"a": 1}']
    )
    parsed = parse_file(path)
    assert parsed.messages.height == 1
    reasons = dict(parsed.rejects.select("position", "reason").iter_rows())
    assert reasons[2] == "line 2: tweet: tweet 90000028 has no author_id"
    assert "'yesterday', not an ISO 8601 time" in reasons[3]
    assert reasons[4] == "line 4: tweet: tweet 90000048 has no created_at"
    assert reasons[5] == "line 5: a list, not a JSON object"
    assert "neither a twarc page" in reasons[6]


def test_page_with_a_bad_tweet_keeps_the_others(tmp_path: Path) -> None:
    broken = _tweet(2)
    del broken["author_id"]
    page = {
        "data": [_tweet(1, author_id="5"), broken, "not a tweet"],
        "includes": {
            "users": [{"id": "5", "username": "five", "name": "Five"}, {"username": "noid"}],
            "tweets": [_tweet(3, author_id="6")],
        },
        "meta": {"result_count": 3},
    }
    parsed = parse_file(_write_lines(tmp_path / "p.jsonl", ["", page]))
    assert sorted(parsed.messages["message_id"]) == ["90000018", "90000038"]
    assert set(parsed.messages["source_line"]) == {2}
    reasons = parsed.rejects["reason"].to_list()
    assert reasons == [
        "line 2: includes.users[1]: user has no id",
        "line 2: data[1]: tweet 90000028 has no author_id",
        "line 2: data[2] is a string, not a tweet object",
    ]
    url = parsed.messages.filter(pl.col("message_id") == "90000018")["url"].item()
    assert url == "https://x.com/five/status/90000018"


def test_timestamp_with_offset_is_converted_to_utc(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "t.jsonl", [_tweet(1, created_at="2023-01-02T03:04:05+02:00")])
    parsed = parse_file(path)
    assert parsed.messages["created_at"].item() == datetime(2023, 1, 2, 1, 4, 5, tzinfo=UTC)


def test_share_target_falls_back_to_first_mention(tmp_path: Path) -> None:
    retweet = _tweet(
        1,
        text="RT @orig: something",
        referenced_tweets=[{"type": "retweeted", "id": "123"}],
        entities={"mentions": [{"username": "orig", "id": "77"}]},
    )
    parsed = parse_file(_write_lines(tmp_path / "t.jsonl", [retweet]))
    assert parsed.messages.height == 0
    assert parsed.actions.select("kind", "target_account_id", "target_message_id").rows() == [
        ("share", "77", "123")
    ]


def test_unknown_author_gets_web_url(tmp_path: Path) -> None:
    tweet = _tweet(1, author_id="99")
    del tweet["author"]
    parsed = parse_file(_write_lines(tmp_path / "t.jsonl", [tweet]))
    assert parsed.messages["url"].item() == "https://x.com/i/web/status/90000018"


def test_line_that_is_not_utf8(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "t.jsonl", [_tweet(1), b'{"id": "caf\xe9"}', _tweet(3)])
    parsed = parse_file(path)
    assert parsed.messages.height == 2
    assert parsed.rejects["position"].to_list() == [2]
    assert "not valid JSON" in parsed.rejects["reason"].item()


# ---------------------------------------------------------------------------------------------
# Property: whatever the lines, parse_file does not raise, and each line is loaded or rejected

_valid = [orjson.dumps(_tweet(i)) for i in range(8)]


@st.composite
def _lines(draw) -> list[bytes]:
    lines = []
    for i in range(draw(st.integers(1, 8))):
        line = _valid[i]
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
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=_lines())
def test_property_every_line_loaded_or_rejected(tmp_path_factory, lines: list[bytes]) -> None:
    path = tmp_path_factory.mktemp("prop") / "t.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    parsed = parse_file(path)
    _schemas_ok(parsed)
    if parsed.source_format != "twitter_v2":  # garbage first lines: nothing recognised
        assert parsed.source_format == "unknown"
        assert parsed.rejects.height == 1 and parsed.rejects["position"].item() is None
        return
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
        if isinstance(obj, dict) and "id" not in obj and ("includes" in obj or "meta" in obj):
            continue  # a page without data: nothing to load, nothing wrong
        assert number in loaded or number in rejected, (number, line)


def test_odd_values_do_not_break_the_file(tmp_path: Path) -> None:
    huge = _tweet(
        1, author={"id": "42", "username": "fan", "public_metrics": {"followers_count": 2**64 - 1}}
    )
    odd = _tweet(2, id=90000028, text=None, referenced_tweets="nope", entities=[1])
    parsed = parse_file(_write_lines(tmp_path / "t.jsonl", [huge, odd]))
    assert parsed.rejects.height == 0
    fan = parsed.accounts.filter(pl.col("account_id") == "42").row(0, named=True)
    assert (fan["handle"], fan["followers_count"]) == ("fan", None)
    assert parsed.messages["message_id"].to_list() == ["90000018", "90000028"]
    assert parsed.messages["text"].to_list() == ["hello @brand number 1", None]
