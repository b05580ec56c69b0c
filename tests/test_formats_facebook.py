"""Facebook Page posts and comments from the Graph API (JSON).

No real export is available to the project, so the fixtures below are written here after
the Graph API reference (developers.facebook.com/docs/graph-api/reference: Comment,
/{object-id}/comments, Page /posts, Post; paging with cursors and ``next`` URLs; times like
``2024-05-01T12:34:56+0000``; ``from`` withheld for people the token may not see).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.formats import facebook, parse_file
from pipelines.formats.common import read_head
from pipelines.model import TABLE_SCHEMAS
from tests.conftest import REAL_DATA, SAMPLE_DIR

PAGE = "104569281234567"  # the brand's Page
PAGE_FROM = {"name": "Northwind Appliances", "id": PAGE}
POST = f"{PAGE}_872340001112223"  # <page>_<post>
POST_PART = "872340001112223"
ANA = {"name": "Ana Souza", "id": "7012345678901234"}
BEN = {"name": "Ben Okafor", "id": "7012345678905678"}
CHLOE = {"name": "Chloé Martin", "id": "7012345678909999"}
GRAPH = "https://graph.facebook.com/v19.0"


def _schemas_ok(parsed) -> None:
    for table, schema in TABLE_SCHEMAS.items():
        assert dict(getattr(parsed, table).schema) == schema, table


def _cid(n: int) -> str:
    return f"{POST_PART}_{1459287614563700 + n}"


def _comment(n: int, who: dict | None, message: str, when: str, **extra) -> dict:
    comment = {"created_time": when, "message": message, "id": _cid(n)}
    if who is not None:
        comment["from"] = dict(who)
    comment.update(extra)
    return comment


def _paging(node: str, edge: str, after: bool = True) -> dict:
    """Paging as the Graph API writes it: cursors, and ``next`` unless this is the last page
    (then only ``previous``, or nothing at all for a single page)."""
    before, cursor = "QVFIUkJ1ZAXlDWVJrbE1tNjVBcFBsZA1BZA", "QVFIUlZAnMkRmZAVRjUXFoYmZAPWmZAw"
    query = "access_token=EAAB...&fields=id%2Cmessage%2Ccreated_time%2Cfrom&limit=25"
    paging: dict = {"cursors": {"before": before, "after": cursor}}
    if after:
        paging["next"] = f"{GRAPH}/{node}/{edge}?{query}&after={cursor}"
    else:
        paging["previous"] = f"{GRAPH}/{node}/{edge}?{query}&before={before}"
    return paging


def _comments_page() -> dict:
    """GET /{page-post-id}/comments?filter=toplevel&fields=id,message,created_time,from,
    message_tags,like_count,comment_count,permalink_url,comments{...}"""
    return {
        "data": [
            _comment(  # record 1: tags the Page; a reply from the Page and one from Ben
                1,
                ANA,
                "Northwind Appliances my kettle stopped heating after 2 weeks :(",
                "2024-05-01T12:34:56+0000",
                message_tags=[
                    {
                        "id": PAGE,
                        "name": "Northwind Appliances",
                        "type": "page",
                        "offset": 0,
                        "length": 20,
                    }
                ],
                like_count=3,
                comment_count=2,
                permalink_url=(
                    f"https://www.facebook.com/{PAGE}/posts/{POST_PART}?comment_id=1459287614563701"
                ),
                comments={
                    "data": [
                        _comment(
                            2,
                            PAGE_FROM,
                            "Sorry Ana! Please send us a private message.",
                            "2024-05-01T13:00:00+0000",
                            like_count=1,
                            comment_count=0,
                        ),
                        _comment(
                            3,
                            BEN,
                            "Ana Souza they replaced mine within a week, great service",
                            "2024-05-01T15:10:00+0200",
                            message_tags=[
                                {
                                    "id": ANA["id"],
                                    "name": "Ana Souza",
                                    "type": "user",
                                    "offset": 0,
                                    "length": 9,
                                }
                            ],
                            like_count=5,
                            comment_count=0,
                        ),
                    ],
                    "paging": _paging(_cid(1), "comments", after=False),
                },
            ),
            _comment(  # record 2: author hidden from this token
                4,
                None,
                "Does it come in red?",
                "2024-05-01T14:00:00+0000",
                like_count=0,
                comment_count=0,
            ),
            _comment(  # record 3: a photo-only comment, no message
                5,
                CHLOE,
                None,
                "2024-05-02T08:00:00+0000",
                like_count=0,
                comment_count=0,
                attachment={"type": "photo", "url": "https://www.facebook.com/photo.php?fbid=1"},
            ),
        ],
        "paging": _paging(POST, "comments"),
    }


def _posts_page() -> dict:
    """GET /{page-id}/posts?fields=id,message,created_time,from,permalink_url,
    reactions{id,name,type},comments{id,message,created_time,from,comments{...}}"""
    second = f"{PAGE}_872340001119999"
    return {
        "data": [
            {
                "id": POST,
                "message": "Meet the new Northwind kettle",
                "created_time": "2024-04-30T09:00:00+0000",
                "from": PAGE_FROM,
                "permalink_url": f"https://www.facebook.com/{PAGE}/posts/pfbid02abcdef",
                "reactions": {
                    "data": [
                        {"id": ANA["id"], "name": ANA["name"], "type": "LOVE"},
                        {"id": BEN["id"], "name": BEN["name"], "type": "ANGRY"},
                        {"id": CHLOE["id"], "name": CHLOE["name"], "type": "LIKE"},
                    ],
                    "paging": {"cursors": {"before": "a", "after": "b"}},
                },
                "comments": {
                    "data": [
                        {
                            "created_time": "2024-04-30T10:00:00+0000",
                            "from": BEN,
                            "message": "Finally a kettle that doesn't leak",
                            "id": _cid(10),
                            "comments": {
                                "data": [
                                    {
                                        "created_time": "2024-04-30T10:05:00+0000",
                                        "from": PAGE_FROM,
                                        "message": "Thanks Ben!",
                                        "id": _cid(11),
                                    }
                                ]
                            },
                        }
                    ],
                    "paging": {"cursors": {"before": "c", "after": "d"}},
                },
            },
            {  # 'from' not requested: the /posts edge says the Page wrote it
                "id": second,
                "message": "Spring sale: 20% off",
                "created_time": "2024-04-29T09:00:00+0000",
            },
        ],
        "paging": _paging(PAGE, "posts"),
    }


def _write(path: Path, doc: object, indent: int | None = 2) -> Path:
    path.write_text(json.dumps(doc, indent=indent, ensure_ascii=False), encoding="utf-8")
    return path


def _messages(parsed) -> dict[str, dict]:
    return {row["message_id"]: row for row in parsed.messages.iter_rows(named=True)}


# ---------------------------------------------------------------------------------------------
# Comments of a post


def test_comments_page(tmp_path: Path) -> None:
    parsed = parse_file(_write(tmp_path / "comments.json", _comments_page()))
    assert parsed.source_format == "facebook"
    _schemas_ok(parsed)
    messages = _messages(parsed)
    assert list(messages) == [_cid(1), _cid(2), _cid(3), _cid(5)]

    top = messages[_cid(1)]
    assert top["kind"] == "reply"
    assert top["author_id"] == ANA["id"]
    assert top["parent_id"] == POST  # from the paging URL /{post}/comments
    assert top["parent_author_id"] is None  # the post is not in the file
    assert top["thread_id"] == POST
    assert top["created_at"] == datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC)
    assert top["url"] == (
        f"https://www.facebook.com/{PAGE}/posts/{POST_PART}?comment_id=1459287614563701"
    )
    assert top["source_line"] == 1
    assert top["platform"] == "facebook"

    brand_reply = messages[_cid(2)]
    assert (brand_reply["parent_id"], brand_reply["parent_author_id"]) == (_cid(1), ANA["id"])
    assert brand_reply["author_id"] == PAGE
    assert brand_reply["thread_id"] == POST
    assert brand_reply["url"] == (
        f"https://www.facebook.com/{PAGE}/posts/{POST_PART}?comment_id=1459287614563702"
    )
    assert brand_reply["source_line"] == 1  # nested: the position of its top-level record
    ben = messages[_cid(3)]
    assert ben["created_at"] == datetime(2024, 5, 1, 13, 10, tzinfo=UTC)  # +0200 -> UTC
    photo = messages[_cid(5)]
    assert (photo["text"], photo["source_line"]) == (None, 3)

    assert parsed.rejects.select("position", "reason").rows() == [
        (2, f"record 2: data[1]: comment {_cid(4)} has no 'from' (author hidden by Facebook)")
    ]
    assert '"Does it come in red?"' in parsed.rejects["raw_excerpt"].item()

    mentions = parsed.actions.sort("action_id")
    assert mentions.select(
        "action_id", "kind", "actor_id", "target_account_id", "target_handle", "target_message_id"
    ).rows() == [
        (f"{_cid(1)}:mention:{PAGE}", "mention", ANA["id"], PAGE, None, _cid(1)),
        (f"{_cid(3)}:mention:{ANA['id']}", "mention", BEN["id"], ANA["id"], None, _cid(3)),
    ]
    assert mentions["created_at"].to_list() == [top["created_at"], ben["created_at"]]

    accounts = dict(parsed.accounts.select("account_id", "display_name").iter_rows())
    assert accounts == {
        ANA["id"]: "Ana Souza",
        PAGE: "Northwind Appliances",
        BEN["id"]: "Ben Okafor",
        CHLOE["id"]: "Chloé Martin",
    }
    assert set(parsed.accounts["handle"]) == {None}
    assert set(parsed.accounts["followers_count"]) == {None}


def test_comments_without_paging_url_use_the_post_part_of_their_id(tmp_path: Path) -> None:
    page = _comments_page()
    del page["paging"]
    parsed = parse_file(_write(tmp_path / "c.json", page))
    top = _messages(parsed)[_cid(1)]
    assert (top["parent_id"], top["thread_id"]) == (POST_PART, POST_PART)
    # no page id: only permalink_url gives a link
    assert _messages(parsed)[_cid(5)]["url"] is None
    assert top["url"].startswith("https://www.facebook.com/")


def test_replies_edge_of_a_comment(tmp_path: Path) -> None:
    """GET /{comment-id}/comments: the node is a comment, the items are its replies."""
    page = {
        "data": [_comment(21, BEN, "agreed", "2024-05-03T10:00:00+0000")],
        "paging": _paging(_cid(1), "comments"),
    }
    row = _messages(parse_file(_write(tmp_path / "r.json", page)))[_cid(21)]
    assert (row["parent_id"], row["thread_id"]) == (_cid(1), POST_PART)


def test_stream_filter_with_parent_fields(tmp_path: Path) -> None:
    """filter=stream: every comment flat, replies naming their parent."""
    page = {
        "data": [
            _comment(1, ANA, "first", "2024-05-01T12:00:00+0000"),
            _comment(
                2,
                BEN,
                "a reply",
                "2024-05-01T12:05:00+0000",
                parent={
                    "created_time": "2024-05-01T12:00:00+0000",
                    "from": ANA,
                    "message": "first",
                    "id": _cid(1),
                },
            ),
        ],
        "paging": _paging(POST, "comments"),
    }
    parsed = parse_file(_write(tmp_path / "s.json", page))
    reply = _messages(parsed)[_cid(2)]
    assert (reply["parent_id"], reply["parent_author_id"], reply["thread_id"]) == (
        _cid(1),
        ANA["id"],
        POST,
    )


def test_unix_times_and_old_style_message_tags(tmp_path: Path) -> None:
    page = {
        "data": [
            _comment(
                1,
                ANA,
                "Ben Okafor look",
                1714566896,
                message_tags={"0": [{"id": BEN["id"], "name": "Ben Okafor", "type": "user"}]},
                like_count=0,
            )
        ]
    }
    parsed = parse_file(_write(tmp_path / "u.json", page))
    assert parsed.messages["created_at"].item() == datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC)
    assert parsed.actions["target_account_id"].to_list() == [BEN["id"]]


# ---------------------------------------------------------------------------------------------
# Posts


def test_posts_with_comments_and_reactions(tmp_path: Path) -> None:
    parsed = parse_file(_write(tmp_path / "posts.json", _posts_page()))
    assert parsed.source_format == "facebook"
    assert parsed.rejects.height == 0
    messages = _messages(parsed)
    post = messages[POST]
    assert (post["kind"], post["author_id"], post["thread_id"], post["parent_id"]) == (
        "post",
        PAGE,
        POST,
        None,
    )
    assert post["url"] == f"https://www.facebook.com/{PAGE}/posts/pfbid02abcdef"
    assert post["source_line"] == 1
    comment = messages[_cid(10)]
    assert (comment["parent_id"], comment["parent_author_id"], comment["thread_id"]) == (
        POST,
        PAGE,
        POST,
    )
    assert comment["url"] == (
        f"https://www.facebook.com/{PAGE}/posts/{POST_PART}?comment_id=1459287614563710"
    )
    reply = messages[_cid(11)]
    assert (reply["parent_id"], reply["parent_author_id"], reply["thread_id"]) == (
        _cid(10),
        BEN["id"],
        POST,
    )
    second = messages[f"{PAGE}_872340001119999"]
    assert second["author_id"] == PAGE  # from the /{page}/posts paging URL
    assert second["url"] == f"https://www.facebook.com/{PAGE}/posts/872340001119999"
    assert second["source_line"] == 2

    likes = parsed.actions.filter(pl.col("kind") == "like").sort("actor_id")
    assert likes.select(
        "action_id", "actor_id", "target_account_id", "target_message_id"
    ).rows() == [
        (f"{POST}:like:{ANA['id']}", ANA["id"], PAGE, POST),
        (f"{POST}:like:{CHLOE['id']}", CHLOE["id"], PAGE, POST),
    ]  # Ben's ANGRY is not a like
    assert likes["created_at"].null_count() == 2


def test_feed_post_without_from_is_rejected(tmp_path: Path) -> None:
    page = _posts_page()
    page["paging"] = _paging(PAGE, "feed")  # the feed also holds visitors' posts
    parsed = parse_file(_write(tmp_path / "feed.json", page))
    assert parsed.rejects.select("position", "reason").rows() == [
        (
            2,
            f"record 2: data[1]: post {PAGE}_872340001119999 has no 'from' "
            "(request the 'from' field)",
        )
    ]


def test_single_post_object_with_comments(tmp_path: Path) -> None:
    """GET /{page-post-id}?fields=id,message,created_time,from,comments{...}"""
    post = copy.deepcopy(_posts_page()["data"][0])
    parsed = parse_file(_write(tmp_path / "post.json", post))
    assert parsed.source_format == "facebook"
    assert set(parsed.messages["message_id"]) == {POST, _cid(10), _cid(11)}
    assert set(parsed.messages["source_line"]) == {1}


def test_list_of_pages_numbers_records_across_pages(tmp_path: Path) -> None:
    second = {
        "data": [_comment(30, BEN, "page two", "2024-05-04T10:00:00+0000")],
        "paging": _paging(POST, "comments", after=False),
    }
    parsed = parse_file(_write(tmp_path / "pages.json", [_comments_page(), second]))
    row = _messages(parsed)[_cid(30)]
    assert row["source_line"] == 4  # after the three records of the first page
    assert row["parent_id"] == POST
    assert parsed.rejects["reason"].item().startswith("record 2: [0].data[1]: comment")


def test_json_lines_of_pages(tmp_path: Path) -> None:
    first = _comments_page()
    second = {
        "data": [_comment(30, BEN, "page two", "2024-05-04T10:00:00+0000")],
        "paging": _paging(POST, "comments", after=False),
    }
    lines = [
        orjson.dumps(first),
        b'{"data": [{"id": "1_2", "message": "cut',
        b"",
        orjson.dumps(second),
        orjson.dumps({"error": {"message": "(#4) Application request limit reached", "code": 4}}),
        b"[1, 2]",
        b"[]",
    ]
    path = tmp_path / "pages.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    parsed = facebook.parse(path, str(path), read_head(path))
    assert dict(parsed.messages.select("message_id", "source_line").iter_rows())[_cid(30)] == 4
    assert set(parsed.messages["source_line"]) == {1, 4}
    reasons = dict(parsed.rejects.select("position", "reason").iter_rows())
    assert (
        reasons[1]
        == f"line 1: data[1]: comment {_cid(4)} has no 'from' (author hidden by Facebook)"
    )
    assert reasons[2].startswith("line 2: not valid JSON")
    assert reasons[5] == (
        "line 5: a Graph API error response ('(#4) Application request limit reached')"
    )
    assert parsed.rejects.filter(pl.col("position") == 6)["reason"].to_list() == [
        "line 6: data[0]: is a number, not a comment object",
        "line 6: data[1]: is a number, not a comment object",
    ]
    assert reasons[7] == "line 7: is a list, not a Graph API response object"


# ---------------------------------------------------------------------------------------------
# Malformed input


def test_bad_items_are_rejected_and_the_others_load(tmp_path: Path) -> None:
    no_id = _comment(41, ANA, "x", "2024-05-01T00:00:00+0000")
    del no_id["id"]
    bad_time = _comment(42, ANA, "x", "01/05/2024")
    no_time = _comment(43, ANA, "x", "2024-05-01T00:00:00+0000")
    del no_time["created_time"]
    good = _comment(44, BEN, "fine", "2024-05-01T00:00:00+0000")
    duplicate = copy.deepcopy(good)
    odd = _comment(45, CHLOE, "odd", "2024-05-01T00:00:00+0000", message_tags="nope", comments=7)
    page = {"data": [no_id, bad_time, no_time, "text", good, duplicate, odd]}
    page["paging"] = _paging(POST, "comments")
    parsed = parse_file(_write(tmp_path / "bad.json", page))
    assert parsed.messages["message_id"].to_list() == [_cid(44), _cid(45)]
    assert dict(parsed.rejects.select("position", "reason").iter_rows()) == {
        1: "record 1: data[0]: comment has no id (Facebook gives comment ids only to tokens "
        "that may moderate the Page)",
        2: f"record 2: data[1]: comment {_cid(42)} has created_time '01/05/2024', "
        "not an ISO 8601 time or Unix seconds",
        3: f"record 3: data[2]: comment {_cid(43)} has no created_time",
        4: "record 4: data[3]: is a string, not a comment object",
        7: "record 7: data[6].comments: is a number, not a list of items",
    }


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (
            {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException"}},
            "record 1: a Graph API error response ('Invalid OAuth access token.')",
        ),
        (
            {"data": "none", "paging": {}, "created_time": "2024-05-01T00:00:00+0000", "from": {}},
            "record 1: data: is a string, not a list",
        ),
    ],
)
def test_whole_response_problems(tmp_path: Path, doc: dict, reason: str) -> None:
    path = tmp_path / "e.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    # an error response has nothing Facebook-specific to detect: parse it directly
    parsed = facebook.parse(path, str(path), read_head(path))
    assert parsed.rejects.select("position", "reason").rows() == [(1, reason)]
    _schemas_ok(parsed)


def test_cut_short_document_keeps_the_items_before(tmp_path: Path) -> None:
    text = json.dumps(_comments_page(), indent=2)
    cut = text.index(f'"id": "{_cid(5)}"') + 10
    path = tmp_path / "cut.json"
    path.write_text(text[:cut], encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.source_format == "facebook"
    assert parsed.messages["message_id"].to_list() == [_cid(1), _cid(2), _cid(3)]
    # no paging (it comes after the data): the post part of the comment id is the parent
    assert parsed.messages["parent_id"].to_list()[0] == POST_PART
    assert parsed.rejects.select("position", "reason").rows() == [
        (2, f"record 2: data[1]: comment {_cid(4)} has no 'from' (author hidden by Facebook)"),
        (3, "record 3: data[2]: the file ends inside this record (cut short)"),
    ]


def test_damaged_item_in_the_middle(tmp_path: Path) -> None:
    page = _comments_page()
    page["data"].insert(1, _comment(50, BEN, "will be damaged", "2024-05-01T00:00:00+0000"))
    text = json.dumps(page, indent=2)
    text = text.replace('"message": "will be damaged",', '"message": "will be damaged" "x",')
    path = tmp_path / "damaged.json"
    path.write_text(text, encoding="utf-8")
    parsed = parse_file(path)
    assert _cid(50) not in parsed.messages["message_id"].to_list()
    assert _cid(5) in parsed.messages["message_id"].to_list()
    row = parsed.rejects.filter(pl.col("position") == 2).row(0, named=True)
    assert row["reason"].startswith("record 2: data[1]: not valid JSON: Expecting ',' delimiter")
    assert _messages(parsed)[_cid(5)]["source_line"] == 4


def test_not_json_at_all_is_one_reject(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"data" [ "created_time": "2024-05-01T00:00:00+0000", "from": {', "utf-8")
    parsed = parse_file(path)
    assert parsed.source_format == "facebook"
    row = parsed.rejects.row(0, named=True)
    assert parsed.rejects.height == 1 and row["position"] is None
    assert row["reason"].startswith(f"{path}: not valid JSON")


# ---------------------------------------------------------------------------------------------
# Detection


def _other_files() -> list[Path]:
    files = sorted(p for p in SAMPLE_DIR.iterdir() if p.is_file())
    if REAL_DATA.is_dir():
        files += sorted(p for p in REAL_DATA.rglob("*") if p.is_file())
    return files


@pytest.mark.parametrize("path", _other_files(), ids=lambda p: p.name)
def test_sniff_rejects_other_formats(path: Path) -> None:
    assert not facebook.sniff(read_head(path))


def test_sniff_rejects_near_misses(tmp_path: Path) -> None:
    tweet = {"id": "1", "text": "x", "author_id": "2", "created_at": "2023-01-01T00:00:00Z"}
    quoted = {"id": "1", "text": '"created_time": "2024-05-01T00:00:00+0000", "from": 1'}
    for doc in (
        {"data": [tweet], "includes": {}, "meta": {}},
        {"data": [quoted]},
        {"kind": "Listing", "data": {"children": []}},
        {"guild": {"id": "1"}, "channel": {"id": "2"}, "messages": []},
        {"data": []},
    ):
        path = _write(tmp_path / "n.json", doc, indent=None)
        assert not facebook.sniff(read_head(path)), doc


@pytest.mark.parametrize("indent", [2, 4])
def test_detected_from_content(tmp_path: Path, indent: int) -> None:
    for doc in (_comments_page(), _posts_page(), [_comments_page()], _posts_page()["data"][0]):
        path = _write(tmp_path / "export.dat", doc, indent=indent)
        assert parse_file(path).source_format == "facebook"
    empty = {"data": [], "paging": {"cursors": {"before": "a", "after": "b"}}}
    assert facebook.sniff(read_head(_write(tmp_path / "empty.json", empty)))


def test_compact_one_line_response_is_detected(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.json", _comments_page(), indent=None)
    assert facebook.sniff(read_head(path))
    lines = tmp_path / "pages.jsonl"
    lines.write_bytes(orjson.dumps(_comments_page()) + b"\n" + orjson.dumps(_posts_page()) + b"\n")
    assert facebook.sniff(read_head(lines))
    assert parse_file(path).source_format == "facebook"
    assert parse_file(lines).source_format == "facebook"


# ---------------------------------------------------------------------------------------------
# Property: whatever the items, nothing raises and every record is loaded or rejected

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_base = _comments_page()["data"]


@st.composite
def _items(draw) -> list[object]:
    items: list[object] = []
    for i in range(draw(st.integers(1, 8))):
        item = copy.deepcopy(_base[i % len(_base)])
        item["id"] = f"{POST_PART}_{2000 + i}"
        item.pop("comments", None)
        how = draw(st.sampled_from(["keep", "drop", "replace", "value"]))
        if how == "drop":
            del item[draw(st.sampled_from(sorted(item)))]
        elif how == "replace":
            item[draw(st.sampled_from(sorted(item)))] = draw(_json_values)
        elif how == "value":
            item = draw(_json_values)
        items.append(item)
    return items


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=_items())
def test_property_every_record_loaded_or_rejected(tmp_path_factory, items) -> None:
    page = {"data": items, "paging": _paging(POST, "comments")}
    path = _write(tmp_path_factory.mktemp("prop") / "c.json", page)
    parsed = facebook.parse(path, str(path), read_head(path))  # must not raise
    _schemas_ok(parsed)
    loaded = set(parsed.messages["source_line"])
    rejected = set(parsed.rejects["position"])
    for i, _item in enumerate(items, start=1):
        assert i in loaded or i in rejected, (i, _item)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_property_damaged_bytes_never_raise(tmp_path_factory, data) -> None:
    raw = json.dumps(_posts_page(), indent=2).encode()
    how = data.draw(st.sampled_from(["cut", "delete", "insert"]))
    a = data.draw(st.integers(0, len(raw) - 1))
    if how == "cut":
        raw = raw[:a]
    elif how == "delete":
        raw = raw[:a] + raw[a + data.draw(st.integers(1, 40)) :]
    else:
        raw = raw[:a] + data.draw(st.binary(min_size=1, max_size=8)) + raw[a:]
    path = tmp_path_factory.mktemp("bytes") / "p.json"
    path.write_bytes(raw)
    parsed = parse_file(path)
    _schemas_ok(parsed)
    assert "could not be parsed" not in " ".join(parsed.rejects["reason"].to_list())
    if parsed.source_format == "facebook":
        assert parsed.messages.height <= 4
