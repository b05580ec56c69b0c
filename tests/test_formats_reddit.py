"""Reddit JSON lines (API things and listings, Pushshift lines): the real PRAW comments file and
hand-written fixtures following the reddit API documentation."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.formats import parse_file, reddit
from pipelines.formats.common import read_head
from pipelines.model import TABLE_SCHEMAS

from .conftest import SAMPLE_DIR

COMMENTS = ("reddit", "TestSubredditStreams.test_comments.comments.ndjson")
CASSETTE = ("reddit", "TestSubredditStreams.test_comments.json")
OTHER_REAL = [
    ("twitter_v2", "twarc-csv", "flat.jsonl"),
    ("twitter_v2", "twarc-csv", "noflat.jsonl"),
    ("twitter_v2", "twarc-csv", "users.jsonl"),
    ("twitter_v1", "simdjson", "twitter.json"),
    ("twitter_archive", "smithjd", "tweets.js"),
    ("mastodon", "dealingwith", "outbox.json"),
    ("mastodon", "dealingwith", "likes.json"),
    ("twcs", "sample_yosingh1.csv"),
    ("youtube_spam_uci", "Youtube01-Psy.csv"),
    ("bluesky", "brianckeegan", "part08_posts.csv"),
]


def _schemas_ok(parsed) -> None:
    for table, schema in TABLE_SCHEMAS.items():
        assert dict(getattr(parsed, table).schema) == schema, table


# ---------------------------------------------------------------------------------------------
# Real file: 417 comments from r/all, recorded by PRAW's test suite (2016)


def _expected(path: Path) -> dict:
    """What the file holds, counted with the json module and a plain scan for u/ names."""
    comments = []
    with open(path, encoding="utf-8") as f:
        for line, text in enumerate(f, start=1):
            comments.append((line, json.loads(text)))
    mentions = 0
    names: dict[str, str] = {}
    for _, c in comments:
        names.setdefault(c["author"].lower(), c["author"])
    for _, c in comments:
        if c["parent_id"].startswith("t3_"):
            names.setdefault(c["link_author"].lower(), c["link_author"])
    for _, c in comments:
        seen = set()
        for word in re.split(r"[\s(\[~^>]+", c["body"]):
            m = re.match(r"/?u/([A-Za-z0-9_-]+)", word)
            if m and m.group(1).lower() not in seen:
                seen.add(m.group(1).lower())
                names.setdefault(m.group(1).lower(), m.group(1))
                mentions += 1
    names.pop("[deleted]", None)
    return {"comments": comments, "mentions": mentions, "accounts": set(names.values())}


@pytest.mark.real_data
def test_real_comments_file(real_data: Path) -> None:
    path = real_data.joinpath(*COMMENTS)
    expected = _expected(path)
    parsed = parse_file(path)

    assert parsed.source_format == "reddit"
    assert parsed.rejects.height == 0, parsed.rejects["reason"].to_list()
    _schemas_ok(parsed)
    comments = expected["comments"]
    assert len(comments) == 417
    assert parsed.messages.height == 417
    assert set(parsed.messages["kind"]) == {"reply"}
    by_id = {row["message_id"]: row for row in parsed.messages.iter_rows(named=True)}
    for line, c in comments:
        row = by_id["t1_" + c["id"]]
        assert row["message_id"] == c["name"]
        assert row["source_line"] == line
        assert row["author_id"] == c["author"]
        assert row["parent_id"] == c["parent_id"]
        assert row["thread_id"] == c["link_id"]
        assert row["text"] == c["body"]
        assert row["created_at"] == datetime.fromtimestamp(c["created_utc"], UTC)
        expected_parent_author = c["link_author"] if c["parent_id"].startswith("t3_") else None
        assert row["parent_author_id"] == expected_parent_author
        assert row["url"] == (
            f"https://www.reddit.com/r/{c['subreddit']}/comments/{c['link_id'][3:]}/_/{c['id']}/"
        )
    replies_to_posts = sum(c["parent_id"].startswith("t3_") for _, c in comments)
    assert replies_to_posts == 168
    assert parsed.messages["parent_id"].str.starts_with("t3_").sum() == 168
    mentions = parsed.actions.filter(pl.col("kind") == "mention")
    assert mentions.height == parsed.actions.height == expected["mentions"] == 9
    assert set(parsed.accounts["account_id"]) == expected["accounts"]
    assert parsed.accounts["account_id"].n_unique() == parsed.accounts.height
    assert (parsed.accounts["handle"] == parsed.accounts["account_id"]).all()
    assert parsed.accounts["followers_count"].null_count() == parsed.accounts.height
    assert parsed.accounts["is_brand_hint"].null_count() == parsed.accounts.height
    assert set(parsed.messages["platform"]) == {"reddit"}
    assert set(parsed.messages["source_file"]) == {str(path)}


@pytest.mark.real_data
def test_real_known_comment_and_mention(real_data: Path) -> None:
    parsed = parse_file(real_data.joinpath(*COMMENTS))
    first = parsed.messages.row(0, named=True)
    assert first["message_id"] == "t1_dbhn11d"
    assert first["author_id"] == "Mametaro"
    assert first["parent_id"] == "t3_5jffj1"
    assert first["parent_author_id"] == "AndrewZabar"
    assert first["created_at"] == datetime(2016, 12, 22, 2, 17, 20, tzinfo=UTC)
    assert first["url"] == "https://www.reddit.com/r/coins/comments/5jffj1/_/dbhn11d/"
    mention = parsed.actions.filter(pl.col("target_handle") == "Card-nal").row(0, named=True)
    assert mention["action_id"] == "t1_dbhn16r:mention:Card-nal"  # written '~u/Card-nal'
    assert mention["actor_id"] == "clintonbro"
    assert mention["target_account_id"] == "Card-nal"
    assert mention["target_message_id"] == "t1_dbhn16r"
    assert mention["source_line"] == 291


@pytest.mark.real_data
def test_real_cassette_is_not_claimed(real_data: Path) -> None:
    """PRAW's recorded HTTP cassette (one pretty-printed JSON document) is not a reddit
    export: the sniff says no without raising, and parse_file does not call it reddit."""
    path = real_data.joinpath(*CASSETTE)
    assert reddit.sniff(read_head(path)) is False
    parsed = parse_file(path)
    assert parsed.source_format != "reddit"
    _schemas_ok(parsed)


@pytest.mark.real_data
@pytest.mark.parametrize("parts", OTHER_REAL, ids=lambda p: "/".join(p))
def test_sniff_rejects_other_real_formats(real_data: Path, parts: tuple[str, ...]) -> None:
    path = real_data.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} not present")
    assert reddit.sniff(read_head(path)) is False


@pytest.mark.parametrize("path", sorted(SAMPLE_DIR.glob("*")), ids=lambda p: p.name)
def test_sniff_rejects_sample_files(path: Path) -> None:
    assert reddit.sniff(read_head(path)) is False


# ---------------------------------------------------------------------------------------------
# Hand-written fixtures, shaped like the reddit API documentation's things


def _comment(cid: str, parent: str = "t3_post1", **extra) -> dict:
    comment = {
        "id": cid,
        "name": f"t1_{cid}",
        "author": "fan_one",
        "author_fullname": "t2_abc",
        "body": f"comment {cid}",
        "created_utc": 1700000000,
        "parent_id": parent,
        "link_id": "t3_post1",
        "subreddit": "acme",
        "permalink": f"/r/acme/comments/post1/title/{cid}/",
        "replies": "",
    }
    comment.update(extra)
    return comment


def _submission(sid: str = "post1", **extra) -> dict:
    post = {
        "id": sid,
        "name": f"t3_{sid}",
        "author": "acme_official",
        "title": "Our new widget",
        "selftext": "Tell us what you think, u/fan_one",
        "created_utc": 1699999000.5,
        "subreddit": "acme",
        "permalink": f"/r/acme/comments/{sid}/our_new_widget/",
        "url": "https://acme.example/widget",
        "num_comments": 2,
    }
    post.update(extra)
    return post


def _write_lines(path: Path, lines: list) -> Path:
    with open(path, "wb") as f:
        for line in lines:
            if isinstance(line, dict | list):
                line = orjson.dumps(line)
            if isinstance(line, str):
                line = line.encode()
            f.write(line + b"\n")
    return path


def test_post_page_with_nested_replies(tmp_path: Path) -> None:
    """/comments/<id>.json: [listing of the submission, listing of comments with replies]."""
    nested = _comment("c2", parent="t1_c1", author="Fan_Two", body="agreed /u/FAN_ONE")
    more = {"kind": "more", "data": {"count": 3, "children": ["c4", "c5"]}}
    top = _comment(
        "c1",
        body="love it, thanks u/acme_official and u/acme_official again",
        replies={"kind": "Listing", "data": {"children": [{"kind": "t1", "data": nested}, more]}},
    )
    page = [
        {"kind": "Listing", "data": {"children": [{"kind": "t3", "data": _submission()}]}},
        {"kind": "Listing", "data": {"children": [{"kind": "t1", "data": top}]}},
    ]
    path = _write_lines(tmp_path / "page.json", [page])
    parsed = parse_file(path)
    assert parsed.source_format == "reddit"
    assert parsed.rejects.height == 0
    _schemas_ok(parsed)
    rows = {r["message_id"]: r for r in parsed.messages.iter_rows(named=True)}
    assert set(rows) == {"t3_post1", "t1_c1", "t1_c2"}
    post = rows["t3_post1"]
    assert post["kind"] == "post"
    assert post["text"] == "Our new widget\n\nTell us what you think, u/fan_one"
    assert post["thread_id"] == "t3_post1"
    assert post["created_at"] == datetime(2023, 11, 14, 21, 56, 40, 500000, tzinfo=UTC)
    assert post["url"] == "https://www.reddit.com/r/acme/comments/post1/our_new_widget/"
    assert (rows["t1_c1"]["kind"], rows["t1_c1"]["parent_id"]) == ("reply", "t3_post1")
    assert rows["t1_c1"]["parent_author_id"] is None  # the API object has no link_author
    assert (rows["t1_c2"]["parent_id"], rows["t1_c2"]["thread_id"]) == ("t1_c1", "t3_post1")
    assert set(parsed.messages["source_line"]) == {1}
    mentions = parsed.actions.select("action_id", "actor_id", "target_account_id").rows()
    assert sorted(mentions) == [
        ("t1_c1:mention:acme_official", "fan_one", "acme_official"),
        # '/u/FAN_ONE' is the author fan_one: the author's spelling is the account id
        ("t1_c2:mention:FAN_ONE", "Fan_Two", "fan_one"),
        ("t3_post1:mention:fan_one", "acme_official", "fan_one"),
    ]
    assert set(parsed.accounts["account_id"]) == {"acme_official", "fan_one", "Fan_Two"}


def test_pushshift_lines(tmp_path: Path) -> None:
    """Pushshift: bare objects, no 'name', created_utc sometimes a string, no permalink on
    old comments; deleted authors and removed bodies are kept."""
    comment = _comment("c1", created_utc="1700000000", link_author="acme_official")
    del comment["name"], comment["permalink"]
    deleted = _comment("c2", parent="t1_c1", author="[deleted]", body="[removed]")
    crosspost = _submission("post2", crosspost_parent="t3_post1", selftext="[deleted]")
    del crosspost["name"]
    path = _write_lines(tmp_path / "RC_2023-11.ndjson", [comment, deleted, crosspost])
    parsed = parse_file(path)
    assert parsed.source_format == "reddit"
    assert parsed.rejects.height == 0
    rows = {r["message_id"]: r for r in parsed.messages.iter_rows(named=True)}
    c1 = rows["t1_c1"]
    assert c1["created_at"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert c1["parent_author_id"] == "acme_official"
    assert c1["url"] == "https://www.reddit.com/r/acme/comments/post1/_/c1/"
    c2 = rows["t1_c2"]
    assert (c2["author_id"], c2["text"], c2["source_line"]) == ("[deleted]", None, 2)
    quote = rows["t3_post2"]
    assert (quote["kind"], quote["quoted_id"], quote["text"]) == (
        "quote",
        "t3_post1",
        "Our new widget",
    )
    assert "[deleted]" not in parsed.accounts["account_id"].to_list()
    assert set(parsed.accounts["account_id"]) == {"fan_one", "acme_official"}


def test_bad_lines_are_rejected_and_the_rest_loads(tmp_path: Path) -> None:
    no_author = _comment("c3")
    del no_author["author"]
    no_parent = _comment("c4")
    del no_parent["parent_id"]
    no_time = _comment("c5")
    del no_time["created_utc"]
    no_id = _comment("c9")
    del no_id["id"], no_id["name"]
    listing = {
        "kind": "Listing",
        "data": {
            "children": [
                {"kind": "t1", "data": _comment("c7")},
                {"kind": "t5", "data": {"display_name": "acme"}},
                {"kind": "t1", "data": _comment("c8", created_utc=True)},
            ]
        },
    }
    lines = [
        _comment("c1"),
        '{"id": "c2", "body": "cut',
        no_author,
        no_parent,
        no_time,
        _comment("c6", created_utc="yesterday"),
        listing,
        "[1]",
        '{"hello": "world"}',
        no_id,
        _comment("c10", created_utc=1e30),
        "",
        _comment("c11"),
    ]
    parsed = parse_file(_write_lines(tmp_path / "r.ndjson", lines))
    assert parsed.source_format == "reddit"
    assert parsed.messages.select("message_id", "source_line").rows() == [
        ("t1_c1", 1),
        ("t1_c7", 7),
        ("t1_c11", 13),
    ]
    reasons = parsed.rejects.select("position", "reason").rows()
    assert reasons[0][0] == 2 and reasons[0][1].startswith("line 2: not valid JSON")
    assert reasons[1:] == [
        (3, "line 3: comment t1_c3 has no author"),
        (4, "line 4: comment t1_c4 has no parent_id"),
        (5, "line 5: comment t1_c5 has no created_utc"),
        (6, "line 6: comment t1_c6 has created_utc 'yesterday', not epoch seconds"),
        (
            7,
            "line 7: data.children[1].kind 't5': a reddit subreddit, not a comment or submission",
        ),
        (7, "line 7: data.children[2].data: comment t1_c8 has created_utc True, not epoch seconds"),
        (8, "line 8: [0] is a number, not a reddit object"),
        (
            9,
            "line 9: a JSON object that is neither a comment (no 'body') nor a submission "
            "(no 'title') nor a listing",
        ),
        (10, "line 10: comment has no id"),
        (11, "line 11: comment t1_c10 has created_utc 1e+30, not epoch seconds"),
    ]
    assert parsed.rejects["raw_excerpt"][0] == '{"id": "c2", "body": "cut'
    assert set(parsed.rejects["source_format"]) == {"reddit"}


def test_a_thing_seen_twice_is_loaded_once(tmp_path: Path) -> None:
    parsed = parse_file(_write_lines(tmp_path / "r.ndjson", [_comment("c1"), _comment("c1")]))
    assert parsed.messages["source_line"].to_list() == [1]
    assert parsed.rejects.height == 0


def test_mentions_are_words_not_paths(tmp_path: Path) -> None:
    body = (
        "see https://www.reddit.com/u/not_me and /r/u/nope, but ping u/yes_me, (u/also-me) "
        "and /user/third_one; u/ab is too short, U/upper is no mention"
    )
    parsed = parse_file(_write_lines(tmp_path / "r.ndjson", [_comment("c1", body=body)]))
    assert parsed.actions["target_handle"].to_list() == ["yes_me", "also-me", "third_one"]


@pytest.mark.parametrize(
    "content",
    [
        json.dumps({"id": "1", "author_id": "2", "text": "x", "created_at": "2023"}) + "\n",
        json.dumps({"id": "abc", "body": "no subreddit or time", "author": "x"}) + "\n",
        json.dumps({"kind": "Listing", "data": {"children": []}}) + "\n",
        json.dumps({"kind": "youtube#commentThreadListResponse", "items": []}) + "\n",
        json.dumps({"kind": "t1", "data": "not an object"}) + "\n",
        json.dumps({"interactions": [{"request": {}}]}, indent=2),
        "COMMENT_ID,AUTHOR,DATE,CONTENT\n1,a,2013-11-07T06:20:48,hi\n",
        "",
    ],
)
def test_sniff_says_no(tmp_path: Path, content: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(content, encoding="utf-8")
    assert reddit.sniff(read_head(path)) is False


def test_sniff_finds_reddit_after_a_broken_first_line(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "x.txt", ["{broken", "", _comment("c1")])
    assert reddit.sniff(read_head(path)) is True
    parsed = parse_file(path)
    assert parsed.source_format == "reddit"
    assert parsed.messages["source_line"].to_list() == [3]
    assert parsed.rejects["position"].to_list() == [1]


# ---------------------------------------------------------------------------------------------
# Property: whatever the lines, parse_file does not raise, and each line is loaded or rejected

_valid = [orjson.dumps(_comment(f"c{i}")) for i in range(6)] + [
    orjson.dumps({"kind": "t3", "data": _submission(f"p{i}")}) for i in range(2)
]


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
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=_lines())
def test_property_every_line_loaded_or_rejected(tmp_path_factory, lines: list[bytes]) -> None:
    path = tmp_path_factory.mktemp("prop") / "r.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    parsed = parse_file(path)
    _schemas_ok(parsed)
    if parsed.source_format != "reddit":  # the first JSON line was mangled past recognition
        if parsed.source_format == "unknown":
            assert parsed.rejects.height == 1 and parsed.rejects["position"].item() is None
        return
    loaded = set(parsed.messages["source_line"])
    ids = set(parsed.messages["message_id"])
    rejected = set(parsed.rejects["position"])
    for number, line in enumerate(lines, start=1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and obj.get("kind") == "more":
            continue
        if isinstance(obj, list) and not obj:
            continue  # an empty array: nothing to load, nothing wrong
        if isinstance(obj, dict) and {f"t1_{obj.get('id')}", f"t3_{obj.get('id')}"} & ids:
            continue  # a mutation gave it the id of a comment loaded from another line
        assert number in loaded or number in rejected, (number, line)
