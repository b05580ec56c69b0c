"""X/Twitter "Download your data" archive files: the real smithjd archive and fixtures written
from the archive's documented shapes (account.js, follower.js have no real example here)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.formats import parse_file
from pipelines.formats.common import read_head
from pipelines.formats.twitter_archive import sniff
from pipelines.model import TABLE_SCHEMAS

REAL = ("twitter_archive", "smithjd")
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
OWNER = "5838832"  # smithjd, as his own threads say (the real archive has no account.js)


def _schemas_ok(parsed) -> None:
    for table, schema in TABLE_SCHEMAS.items():
        assert dict(getattr(parsed, table).schema) == schema, table


def _load_js(path: Path) -> list:
    text = path.read_text(encoding="utf-8")
    return json.loads(text[text.index("=") + 1 :])


# ---------------------------------------------------------------------------------------------
# The real archive: expectations counted here with the json module


@pytest.mark.real_data
def test_real_tweets_counts(real_data: Path) -> None:
    path = real_data.joinpath(*REAL, "tweets.js")
    tweets = [item["tweet"] for item in _load_js(path)]
    parsed = parse_file(path)
    assert parsed.source_format == "twitter_archive"
    assert parsed.rejects.height == 0, parsed.rejects["reason"].to_list()
    _schemas_ok(parsed)

    # the owner: replies to tweets of the same archive reply to its owner
    ids = {t["id_str"] for t in tweets}
    self_replies = {
        (t["in_reply_to_user_id_str"], t.get("in_reply_to_screen_name"))
        for t in tweets
        if t.get("in_reply_to_status_id_str") in ids
    }
    assert self_replies == {(OWNER, "smithjd")}

    retweets = {t["id_str"]: t for t in tweets if t["full_text"].startswith("RT @")}
    originals = {
        t["id_str"]: (i, t) for i, t in enumerate(tweets, 1) if t["id_str"] not in retweets
    }
    assert len(tweets) == 1758 and len(retweets) == 128
    assert set(parsed.messages["message_id"]) == set(originals)
    assert parsed.messages.height == len(originals)
    assert set(parsed.messages["author_id"]) == {OWNER}
    shares = parsed.actions.filter(pl.col("kind") == "share")
    assert set(shares["action_id"]) == set(retweets)
    assert shares["target_message_id"].null_count() == shares.height
    assert set(shares["actor_id"]) == {OWNER}
    handles = dict(shares.select("action_id", "target_handle").iter_rows())
    assert handles == {
        i: re.match(r"RT @(\w+):", t["full_text"]).group(1) for i, t in retweets.items()
    }

    replies = {i for i, (_, t) in originals.items() if t.get("in_reply_to_status_id_str")}
    status_link = re.compile(r"https?://(www\.|mobile\.)?(twitter|x)\.com/\w+/status/(\d+)")

    def links(t: dict) -> list[str]:
        found = [status_link.match(u["expanded_url"]) for u in t["entities"]["urls"]]
        return [m.group(3) for m in found if m and m.group(3) != t["id_str"]]

    quotes = {i for i, (_, t) in originals.items() if i not in replies and links(t)}
    kinds = dict(parsed.messages.group_by("kind").len().iter_rows())
    posts = len(originals) - len(replies) - len(quotes)
    assert kinds == {"reply": len(replies), "quote": len(quotes), "post": posts}
    assert len(replies) == 160 and len(quotes) > 0

    mentions = sum(
        len({m["screen_name"] for m in t["entities"]["user_mentions"]})
        for _, t in originals.values()
    )
    assert parsed.actions.filter(pl.col("kind") == "mention").height == mentions
    accounts = {OWNER}
    for t in tweets:
        accounts.update(m["id_str"] for m in t["entities"]["user_mentions"] if m["id_str"] != "-1")
        if t["id_str"] in originals and t.get("in_reply_to_user_id_str"):
            accounts.add(t["in_reply_to_user_id_str"])
    assert set(parsed.accounts["account_id"]) == accounts
    assert parsed.accounts["account_id"].n_unique() == parsed.accounts.height
    lines = dict(parsed.messages.select("message_id", "source_line").iter_rows())
    assert lines == {i: position for i, (position, _) in originals.items()}
    owner = parsed.accounts.filter(pl.col("account_id") == OWNER).row(0, named=True)
    assert owner["handle"] == "smithjd"
    assert parsed.accounts["followers_count"].null_count() == parsed.accounts.height


@pytest.mark.real_data
def test_real_known_tweets(real_data: Path) -> None:
    parsed = parse_file(real_data.joinpath(*REAL, "tweets.js"))
    first = parsed.messages.filter(pl.col("message_id") == "1582825767519809536").row(0, named=True)
    assert first["kind"] == "reply"
    assert first["parent_id"] == "1582702502297755653"
    assert first["parent_author_id"] == "10915042"
    assert first["created_at"] == datetime(2022, 10, 19, 20, 7, 25, tzinfo=UTC)
    assert first["url"] == "https://x.com/smithjd/status/1582825767519809536"
    assert first["source_line"] == 1
    mention = parsed.actions.filter(
        pl.col("action_id") == "1582825767519809536:mention:krlmlr"
    ).row(0, named=True)
    assert (mention["actor_id"], mention["target_account_id"]) == (OWNER, "3354999513")
    rt = parsed.actions.filter(pl.col("action_id") == "1477817865344479233").row(0, named=True)
    assert (rt["kind"], rt["target_handle"], rt["target_account_id"]) == (
        "share",
        "szpak",
        "9263412",
    )
    assert rt["created_at"] == datetime(2022, 1, 3, 1, 43, 30, tzinfo=UTC)
    # a mention whose id the archive no longer knows ('-1'): the handle only
    unknown = parsed.actions.filter(pl.col("target_handle") == "hellsktchenbaby")
    assert unknown.height >= 1 and unknown["target_account_id"].null_count() == unknown.height
    assert "-1" not in parsed.accounts["account_id"].to_list()


@pytest.mark.real_data
def test_real_likes_and_following(real_data: Path) -> None:
    folder = real_data.joinpath(*REAL)
    likes = [item["like"] for item in _load_js(folder / "like.js")]
    parsed = parse_file(folder / "like.js")
    assert parsed.source_format == "twitter_archive"
    assert parsed.rejects.is_empty()
    _schemas_ok(parsed)
    assert parsed.actions.height == len(likes) == 609
    assert set(parsed.actions["kind"]) == {"like"}
    assert parsed.actions["target_message_id"].to_list() == [like["tweetId"] for like in likes]
    assert set(parsed.actions["actor_id"]) == {OWNER}
    assert parsed.actions["created_at"].null_count() == len(likes)  # the archive has no times
    assert parsed.actions["source_line"].to_list() == list(range(1, len(likes) + 1))
    assert parsed.messages.is_empty()

    following = [item["following"]["accountId"] for item in _load_js(folder / "following.js")]
    parsed = parse_file(folder / "following.js")
    assert parsed.rejects.is_empty()
    assert parsed.actions.height == len(following) == 418
    assert parsed.actions.select("kind", "actor_id").unique().rows() == [("follow", OWNER)]
    assert parsed.actions["target_account_id"].to_list() == following
    assert set(parsed.accounts["account_id"]) == {OWNER, *following}


@pytest.mark.real_data
def test_real_files_detected_and_other_real_files_not_claimed(real_data: Path) -> None:
    checked = 0
    for path in sorted(real_data.rglob("*")):
        if not path.is_file():
            continue
        is_archive = "twitter_archive" in path.parts
        assert sniff(read_head(path)) == is_archive, path
        checked += 1
    assert checked > 10


# ---------------------------------------------------------------------------------------------
# Fixtures from the documented shapes


def _js(folder: Path, file: str, name: str, items: list, part: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = json.dumps(items, indent=2, separators=(",", " : "), ensure_ascii=False)
    path = folder / file
    path.write_text(f"window.YTD.{name}.part{part} = {body}", encoding="utf-8")
    return path


def _tweet(i: int, text: str | None = None, **extra) -> dict:
    tweet = {
        "retweeted": False,
        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
        "favorite_count": "0",
        "id_str": str(2000 + i),
        "truncated": False,
        "retweet_count": "0",
        "id": str(2000 + i),
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "favorited": False,
        "full_text": text if text is not None else f"tweet number {i}",
        "lang": "en",
    }
    tweet.update(extra)
    return tweet


def _mention(handle: str, uid: str) -> dict:
    return {"name": handle.title(), "screen_name": handle, "indices": ["0", "5"],
            "id_str": uid, "id": uid}  # fmt: skip


ACCOUNT = {
    "account": {
        "email": "fan@example.com",
        "createdVia": "web",
        "username": "northwindfan",
        "accountId": "1234567",
        "createdAt": "2010-01-02T03:04:05.000Z",
        "accountDisplayName": "Northwind Fan",
    }
}


def test_full_archive_folder_with_account(tmp_path: Path) -> None:
    folder = tmp_path / "twitter-2024-01-01-abc" / "data"
    _js(folder, "account.js", "account", [ACCOUNT])
    tweets = [
        _tweet(
            1,
            "@NorthwindAir love the new seats",
            entities={"user_mentions": [_mention("NorthwindAir", "99")], "urls": []},
        ),  # fmt: skip
        _tweet(
            2,
            "RT @NorthwindAir: we fly to Lisbon now",
            entities={"user_mentions": [_mention("NorthwindAir", "99")], "urls": []},
        ),  # fmt: skip
        _tweet(
            3,
            "so true https://t.co/abc",
            entities={
                "user_mentions": [],
                "urls": [
                    {
                        "url": "https://t.co/abc",
                        "expanded_url": "https://x.com/NorthwindAir/status/555",
                        "display_url": "x.com/NorthwindAir/s…",
                        "indices": ["9", "32"],
                    }
                ],
            },
        ),  # fmt: skip
        _tweet(
            4,
            "@NorthwindAir thanks!",
            in_reply_to_status_id_str="556",
            in_reply_to_status_id="556",
            in_reply_to_user_id_str="99",
            in_reply_to_user_id="99",
            in_reply_to_screen_name="NorthwindAir",
            created_at="Thu Oct 11 01:02:03 -0500 2018",
        ),
        _tweet(5, "a link to my own tweet https://twitter.com/northwindfan/status/2005"),
    ]
    tweets_js = _js(folder, "tweets.js", "tweets", [{"tweet": t} for t in tweets])
    follower_js = _js(folder, "follower.js", "follower", [
        {"follower": {"accountId": "111", "userLink": "https://twitter.com/intent/user?user_id=111"}},
        {"follower": {"accountId": "99", "userLink": "https://twitter.com/intent/user?user_id=99"}},
    ])  # fmt: skip
    following_js = _js(folder, "following.js", "following", [
        {"following": {"accountId": "99", "userLink": "https://twitter.com/intent/user?user_id=99"}},
    ])  # fmt: skip
    like_js = _js(folder, "like.js", "like", [
        {"like": {"tweetId": "555", "fullText": "we fly to Lisbon now",
                  "expandedUrl": "https://twitter.com/i/web/status/555"}},
        {"like": {"tweetId": "777", "expandedUrl": "https://twitter.com/NorthwindAir/status/777"}},
    ])  # fmt: skip

    parsed = parse_file(tweets_js)
    assert parsed.source_format == "twitter_archive"
    assert parsed.rejects.is_empty(), parsed.rejects["reason"].to_list()
    _schemas_ok(parsed)
    msgs = {r["message_id"]: r for r in parsed.messages.iter_rows(named=True)}
    assert set(msgs) == {"2001", "2003", "2004", "2005"}
    assert {r["author_id"] for r in msgs.values()} == {"1234567"}
    assert msgs["2001"]["kind"] == "post"
    assert msgs["2001"]["url"] == "https://x.com/northwindfan/status/2001"
    assert (msgs["2003"]["kind"], msgs["2003"]["quoted_id"]) == ("quote", "555")
    r = msgs["2004"]
    assert (r["kind"], r["parent_id"], r["parent_author_id"]) == ("reply", "556", "99")
    assert r["created_at"] == datetime(2018, 10, 11, 6, 2, 3, tzinfo=UTC)  # -0500 → UTC
    assert msgs["2005"]["kind"] == "post"  # a link to itself is no quote
    share = parsed.actions.filter(pl.col("kind") == "share").row(0, named=True)
    assert (share["action_id"], share["actor_id"], share["target_account_id"]) == (
        "2002",
        "1234567",
        "99",
    )
    assert (share["target_handle"], share["target_message_id"]) == ("NorthwindAir", None)
    mentions = parsed.actions.filter(pl.col("kind") == "mention")
    assert mentions["action_id"].to_list() == ["2001:mention:NorthwindAir"]
    owner = parsed.accounts.filter(pl.col("account_id") == "1234567").row(0, named=True)
    assert (owner["handle"], owner["display_name"]) == ("northwindfan", "Northwind Fan")

    parsed = parse_file(follower_js)
    assert parsed.actions.select("action_id", "actor_id", "target_account_id").rows() == [
        ("111:follow:1234567", "111", "1234567"),
        ("99:follow:1234567", "99", "1234567"),
    ]
    parsed = parse_file(following_js)
    assert parsed.actions.select("action_id", "actor_id", "target_account_id").rows() == [
        ("1234567:follow:99", "1234567", "99")
    ]
    parsed = parse_file(like_js)
    assert parsed.actions.select("action_id", "target_message_id", "target_handle").rows() == [
        ("1234567:like:555", "555", None),
        ("1234567:like:777", "777", "NorthwindAir"),
    ]
    assert parsed.actions["created_at"].to_list() == [None, None]
    parsed = parse_file(folder / "account.js")
    assert parsed.source_format == "twitter_archive"
    assert parsed.accounts.select("account_id", "handle", "display_name").rows() == [
        ("1234567", "northwindfan", "Northwind Fan")
    ]
    assert parsed.messages.is_empty() and parsed.actions.is_empty()


def test_placeholder_owner_without_account_js(tmp_path: Path) -> None:
    path = _js(tmp_path / "my-archive" / "data", "like.js", "like", [{"like": {"tweetId": "5"}}])
    parsed = parse_file(path)
    assert parsed.actions["actor_id"].to_list() == ["archive:my-archive"]
    assert parsed.accounts.select("account_id", "handle").rows() == [("archive:my-archive", None)]
    path = _js(tmp_path / "smith", "tweets.js", "tweets", [{"tweet": _tweet(1)}])
    parsed = parse_file(path)
    assert parsed.messages.select("author_id", "url").rows() == [
        ("archive:smith", "https://x.com/i/web/status/2001")
    ]


def test_owner_from_self_replies_across_parts(tmp_path: Path) -> None:
    folder = tmp_path / "a"
    _js(folder, "tweets.js", "tweets", [{"tweet": _tweet(1)}])
    reply = _tweet(
        2,
        "and another thing",
        in_reply_to_status_id_str="2001",
        in_reply_to_user_id_str="4242",
        in_reply_to_screen_name="me",
    )
    part1 = _js(folder, "tweets-part1.js", "tweets", [{"tweet": reply}], part=1)
    likes = _js(folder, "like.js", "like", [{"like": {"tweetId": "5"}}])
    for path in (folder / "tweets.js", part1):
        parsed = parse_file(path)
        assert set(parsed.messages["author_id"]) == {"4242"}, path.name
        assert parsed.messages["url"].str.starts_with("https://x.com/me/status/").all()
    assert parse_file(likes).actions["actor_id"].to_list() == ["4242"]


def test_old_archive_with_bare_tweets(tmp_path: Path) -> None:
    path = _js(tmp_path / "old", "tweet.js", "tweet", [_tweet(1), _tweet(2)])
    parsed = parse_file(path)
    assert parsed.source_format == "twitter_archive"
    assert parsed.rejects.is_empty()
    assert parsed.messages.select("message_id", "source_line").rows() == [("2001", 1), ("2002", 2)]


def test_unmapped_archive_file_is_one_reject(tmp_path: Path) -> None:
    path = _js(tmp_path / "a", "direct-messages.js", "direct_messages", [{"dmConversation": {}}])
    parsed = parse_file(path)
    assert parsed.source_format == "twitter_archive"
    assert parsed.counts() == {"accounts": 0, "messages": 0, "actions": 0, "rejects": 1}
    reject = parsed.rejects.row(0, named=True)
    assert reject["position"] is None
    assert "window.YTD.direct_messages is not mapped" in reject["reason"]


# ---------------------------------------------------------------------------------------------
# Malformed input


def test_bad_records_are_rejected_precisely(tmp_path: Path) -> None:
    no_id = _tweet(2)
    del no_id["id_str"], no_id["id"]
    no_time = _tweet(4)
    del no_time["created_at"]
    items = [
        {"tweet": _tweet(1)},
        {"tweet": no_id},
        {"tweet": _tweet(3, created_at="2018-13-45")},
        {"tweet": no_time},
        {"like": {"tweetId": "1"}},
        "a string",
        {"tweet": _tweet(7)},
    ]
    path = _js(tmp_path / "a", "tweets.js", "tweets", items)
    parsed = parse_file(path)
    assert parsed.messages.select("message_id", "source_line").rows() == [("2001", 1), ("2007", 7)]
    reasons = dict(parsed.rejects.select("position", "reason").iter_rows())
    assert reasons == {
        2: "record 2: tweet has no id_str",
        3: "record 3: tweet 2003 has created_at '2018-13-45', not a time like "
        "'Wed Oct 10 20:19:24 +0000 2018'",
        4: "record 4: tweet 2004 has no created_at",
        5: "record 5: expected {'tweet': ...}, found an object with keys ['like']",
        6: "record 6: expected {'tweet': ...}, found a string",
    }
    likes = _js(tmp_path / "a", "like.js", "like", [{"like": {"fullText": "x"}}, {"like": []}])
    reasons = parse_file(likes).rejects["reason"].to_list()
    assert reasons == ["record 1: like has no tweetId", "record 2: like is a list, not an object"]
    follows = _js(tmp_path / "a", "follower.js", "follower", [{"follower": {"userLink": "x"}}])
    assert parse_file(follows).rejects["reason"].to_list() == [
        "record 1: follower has no accountId"
    ]


def test_truncated_file_keeps_the_records_before(tmp_path: Path) -> None:
    path = _js(tmp_path / "a", "tweets.js", "tweets", [{"tweet": _tweet(i)} for i in range(1, 5)])
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index('"id_str" : "2004"') + 10], encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.source_format == "twitter_archive"
    assert parsed.messages["message_id"].to_list() == ["2001", "2002", "2003"]
    reject = parsed.rejects.row(0, named=True)
    assert parsed.rejects.height == 1
    assert reject["position"] == 4
    assert reject["reason"].startswith("record 4: not valid JSON")
    assert "the file ends inside it" in reject["reason"]
    assert reject["raw_excerpt"].startswith('{\n    "tweet" : {')


def test_broken_record_in_the_middle(tmp_path: Path) -> None:
    path = _js(tmp_path / "a", "tweets.js", "tweets", [{"tweet": _tweet(i)} for i in range(1, 5)])
    text = path.read_text(encoding="utf-8")
    start = text.index('"id_str" : "2002"')
    path.write_text(text[:start] + text[start:].replace('"lang" : "en"\n    }', "", 1))
    parsed = parse_file(path)
    assert parsed.messages.select("message_id", "source_line").rows() == [
        ("2001", 1),
        ("2003", 3),
        ("2004", 4),
    ]
    assert parsed.rejects["position"].to_list() == [2]
    assert parsed.rejects["reason"].item().startswith("record 2: not valid JSON")


def test_bytes_that_are_not_utf8_reject_their_record_only(tmp_path: Path) -> None:
    path = _js(tmp_path / "a", "tweets.js", "tweets", [{"tweet": _tweet(i)} for i in range(1, 4)])
    data = path.read_bytes().replace(b"tweet number 2", b"tweet num\xe9ro 2")
    path.write_bytes(data)
    parsed = parse_file(path)
    assert parsed.messages["message_id"].to_list() == ["2001", "2003"]
    assert parsed.rejects["position"].to_list() == [2]
    assert "UTF-8" in parsed.rejects["reason"].item()


def test_not_an_array_and_trailing_garbage(tmp_path: Path) -> None:
    path = tmp_path / "tweets.js"
    path.write_text('window.YTD.tweets.part0 = {"tweet": {}}', encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.source_format == "twitter_archive"
    assert parsed.rejects["reason"].item().endswith("window.YTD.tweets is an object, not a list")
    path.write_text(
        "window.YTD.tweets.part0 = " + json.dumps([{"tweet": _tweet(1)}]) + " oops",
        encoding="utf-8",
    )
    parsed = parse_file(path)
    assert parsed.messages.height == 1
    assert parsed.rejects["position"].to_list() == [None]
    assert "not valid JSON after its array" in parsed.rejects["reason"].item()


# ---------------------------------------------------------------------------------------------
# Detection


def test_detected_from_content_not_name(tmp_path: Path) -> None:
    path = _js(tmp_path / "a", "export.json", "like", [{"like": {"tweetId": "5"}}])
    assert parse_file(path).source_format == "twitter_archive"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert parse_file(path).source_format == "twitter_archive"


def test_sniff_rejects_other_formats(tmp_path: Path) -> None:
    cases = {
        "v1.json": json.dumps({"statuses": [_tweet(1)]}),
        "v2.jsonl": json.dumps({"id": "1", "author_id": "2", "text": "hi"}) + "\n",
        "js.js": "var x = [1, 2];\n",
        "mention.txt": "see window.YTD.tweets.part0 = [] in the archive\n",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        assert not sniff(read_head(path)), name
    for path in SAMPLE_DIR.iterdir():
        if path.is_file():
            assert not sniff(read_head(path)), path.name


# ---------------------------------------------------------------------------------------------
# Properties: whatever happens to records, parse_file does not raise; a record that still opens
# like one ('{"tweet" :') is loaded or rejected at its own position

PREFIX = b"window.YTD.tweets.part0 = [\n"
_records = [
    json.dumps({"tweet": _tweet(i, f"hello @brand {i}")}, indent=2, separators=(",", " : "))
    for i in range(1, 9)
]
OPENING = b'{\n  "tweet" :'


def _mutated(draw, record: bytes, how: str) -> bytes:
    if how == "cut":
        return record[: draw(st.integers(1, len(record) - 1))]
    if how == "delete":
        a = draw(st.integers(0, len(record) - 1))
        return record[:a] + record[a + draw(st.integers(1, 5)) :]
    if how == "insert":
        a = draw(st.integers(0, len(record)))
        return record[:a] + draw(st.binary(min_size=1, max_size=5)) + record[a:]
    if how == "garbage":
        return draw(st.binary(min_size=1, max_size=40))
    return record


HOWS = ["keep", "keep", "cut", "delete", "insert", "garbage"]


@st.composite
def _archive(draw, keep_opening: bool) -> list[tuple[str, bytes]]:
    records = []
    for i in range(draw(st.integers(1, 8))):
        record = _records[i].encode()
        how = draw(st.sampled_from(HOWS))
        if keep_opening:
            record = OPENING + _mutated(draw, record[len(OPENING) :], how)
        else:
            record = _mutated(draw, record, how)
        records.append((how, record))
    return records


def _write(folder: Path, records: list[tuple[str, bytes]]) -> Path:
    path = folder / "tweets.js"
    path.write_bytes(PREFIX + b",\n".join(r for _, r in records) + b"\n]")
    return path


_settings = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_settings
@given(records=_archive(keep_opening=True))
def test_property_every_record_loaded_or_rejected(tmp_path_factory, records) -> None:
    parsed = parse_file(_write(tmp_path_factory.mktemp("prop"), records))
    _schemas_ok(parsed)
    assert parsed.source_format == "twitter_archive"
    loaded = set(parsed.messages["source_line"]) | set(parsed.actions["source_line"])
    rejected = set(parsed.rejects["position"])
    for index, (how, _) in enumerate(records, start=1):
        assert index in loaded or index in rejected, (index, records)
        if how == "keep":
            assert index in loaded, (index, records)


@_settings
@given(records=_archive(keep_opening=False), cut=st.integers(0, 2000))
def test_property_any_damage_never_raises(tmp_path_factory, records, cut) -> None:
    path = _write(tmp_path_factory.mktemp("prop"), records)
    data = path.read_bytes()
    if cut:
        path.write_bytes(data[: len(PREFIX) + cut])
    parsed = parse_file(path)
    _schemas_ok(parsed)
    assert parsed.source_format == "twitter_archive"
    try:
        json.loads(path.read_bytes()[len(PREFIX) - 2 :])
    except ValueError:
        assert parsed.rejects.height >= 1  # damage never passes silently
    if all(how == "keep" for how, _ in records) and not cut:
        assert parsed.rejects.is_empty()
        assert parsed.messages["source_line"].to_list() == list(range(1, len(records) + 1))
