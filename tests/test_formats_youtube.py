"""YouTube comments: the real UCI comment CSVs, and YouTube Data API v3 commentThreads /
comments responses written here after the API reference (no real API file is available)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.formats import parse_file, youtube
from pipelines.formats.common import read_head
from pipelines.model import TABLE_SCHEMAS

from .conftest import SAMPLE_DIR

UCI = "youtube_spam_uci"
UCI_FILES = [
    "Youtube01-Psy.csv",
    "Youtube02-KatyPerry.csv",
    "Youtube03-LMFAO.csv",
    "Youtube04-Eminem.csv",
    "Youtube05-Shakira.csv",
]
OTHER_REAL = [
    ("twitter_v2", "twarc-csv", "flat.jsonl"),
    ("twitter_v2", "twarc-csv", "noflat.jsonl"),
    ("twitter_v1", "simdjson", "twitter.json"),
    ("twitter_archive", "smithjd", "tweets.js"),
    ("mastodon", "dealingwith", "outbox.json"),
    ("reddit", "TestSubredditStreams.test_comments.comments.ndjson"),
    ("reddit", "TestSubredditStreams.test_comments.json"),
    ("twcs", "sample_yosingh1.csv"),
    ("twcs", "twcs_head_monalisapatra26.csv"),
    ("bluesky", "brianckeegan", "part08_posts.csv"),
    ("bluesky", "brianckeegan", "part03_edges.csv"),
]


def _schemas_ok(parsed) -> None:
    for table, schema in TABLE_SCHEMAS.items():
        assert dict(getattr(parsed, table).schema) == schema, table


# ---------------------------------------------------------------------------------------------
# Real files: the UCI YouTube Spam Collection (1,956 comments), counted here with csv


def _csv_records(path: Path) -> list[tuple[int, list[str]]]:
    """(starting physical line, fields) of every non-blank record, header included."""
    records = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return records
            if row:
                records.append((start, row))


def _expected(path: Path) -> dict:
    (_, header), *rows = _csv_records(path)
    col = {name: i for i, name in enumerate(header)}
    loaded, no_date, repeats = {}, [], []
    for line, row in rows:
        cid, date = row[col["COMMENT_ID"]], row[col["DATE"]]
        if not date:
            no_date.append(line)
        elif cid in loaded:
            repeats.append(line)
        else:
            loaded[cid] = (line, row[col["AUTHOR"]], datetime.fromisoformat(date))
    return {"rows": len(rows), "loaded": loaded, "no_date": no_date, "repeats": repeats}


@pytest.mark.real_data
@pytest.mark.parametrize("name", UCI_FILES)
def test_real_csv_counts(real_data: Path, name: str) -> None:
    path = real_data / UCI / name
    expected = _expected(path)
    parsed = parse_file(path)

    assert parsed.source_format == "youtube"
    _schemas_ok(parsed)
    assert parsed.messages.height + parsed.rejects.height == expected["rows"]
    rows = {r["message_id"]: r for r in parsed.messages.iter_rows(named=True)}
    assert set(rows) == set(expected["loaded"])
    for cid, (line, author, created) in expected["loaded"].items():
        row = rows[cid]
        assert (row["source_line"], row["author_id"]) == (line, author.strip())
        assert row["created_at"] == created.replace(tzinfo=UTC)
        assert row["kind"] == "post"
    reasons = dict(parsed.rejects.select("position", "reason").iter_rows())
    assert sorted(reasons) == sorted(expected["no_date"] + expected["repeats"])
    for line in expected["no_date"]:
        assert reasons[line] == f"line {line}: DATE is empty"
    for line in expected["repeats"]:
        assert "repeats line" in reasons[line]
    authors = {author.strip() for _, author, _ in expected["loaded"].values()}
    assert set(parsed.accounts["account_id"]) == authors
    assert parsed.accounts["display_name"].to_list() == parsed.accounts["account_id"].to_list()
    assert set(parsed.messages["platform"]) == {"youtube"}


@pytest.mark.real_data
def test_real_csv_totals(real_data: Path) -> None:
    """1,956 comments: 245 of the Eminem file's have no DATE (set aside), one Shakira comment
    repeats the line before it; 1,710 load."""
    parsed = [parse_file(real_data / UCI / name) for name in UCI_FILES]
    total = sum(p.messages.height + p.rejects.height for p in parsed)
    assert total == sum(_expected(real_data / UCI / n)["rows"] for n in UCI_FILES) == 1956
    no_date = [
        p.rejects.filter(pl.col("reason").str.ends_with("DATE is empty")).height for p in parsed
    ]
    assert no_date == [0, 0, 0, 245, 0]
    assert sum(p.messages.height for p in parsed) == 1710
    shakira = parsed[4].rejects.row(0, named=True)
    assert shakira["position"] == 214
    assert shakira["reason"] == (
        "line 214: COMMENT_ID '_2viQ_Qnc68fX3dYsfYuM-m4ELMJvxOQBmBOFHqGOk0' repeats line 213"
    )


@pytest.mark.real_data
def test_real_known_rows(real_data: Path) -> None:
    psy = parse_file(real_data / UCI / "Youtube01-Psy.csv")  # opens with a blank line
    first = psy.messages.row(0, named=True)
    assert first["message_id"] == "LZQPQhLyRh80UYxNuaDWhIGQYNQ96IuCg-AYWqNPjpU"
    assert first["author_id"] == "Julius NM"
    assert first["text"] == "Huh, anyway check out this you[tube] channel: kobyoshi02"
    assert first["created_at"] == datetime(2013, 11, 7, 6, 20, 48, tzinfo=UTC)
    assert first["source_line"] == 3
    assert first["url"] is None and first["thread_id"] is None
    mention = psy.actions.row(0, named=True)
    assert (mention["kind"], mention["target_handle"], mention["actor_id"]) == (
        "mention",
        "mscalifornia95",
        "Holly",
    )
    assert mention["target_account_id"] is None
    lmfao = parse_file(real_data / UCI / "Youtube03-LMFAO.csv")
    row = lmfao.messages.row(0, named=True)  # textDisplay HTML: a link, a trailing U+FEFF
    assert row["text"] == "2:19 best part"
    assert row["created_at"] == datetime(2015, 5, 28, 21, 39, 52, 376000, tzinfo=UTC)
    # a quote opened on line 271 and closed on line 276: one record (no DATE), then line 277
    eminem = parse_file(real_data / UCI / "Youtube04-Eminem.csv")
    positions = eminem.rejects["position"].to_list()
    assert 271 in positions and 277 in positions
    assert not set(range(272, 277)) & (set(positions) | set(eminem.messages["source_line"]))
    assert "G Belrus" in eminem.rejects.filter(pl.col("position") == 271)["raw_excerpt"].item()


@pytest.mark.real_data
@pytest.mark.parametrize("parts", OTHER_REAL, ids=lambda p: "/".join(p))
def test_sniff_rejects_other_real_formats(real_data: Path, parts: tuple[str, ...]) -> None:
    path = real_data.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} not present")
    assert youtube.sniff(read_head(path)) is False


@pytest.mark.parametrize("path", sorted(SAMPLE_DIR.glob("*")), ids=lambda p: p.name)
def test_sniff_rejects_sample_files(path: Path) -> None:
    assert youtube.sniff(read_head(path)) is False


# ---------------------------------------------------------------------------------------------
# API fixtures, shaped as the YouTube Data API v3 reference documents commentThreads and
# comments (kinds, ids, snippet fields)

VIDEO = "vid_123-abc"
BRAND = "UCbrand0000000000000000"


def _comment(cid: str, channel: str, text: str, when: str, parent: str | None = None, **extra):
    name = extra.pop("display", f"@{channel[-4:]}")
    snippet = {
        "channelId": BRAND,
        "videoId": VIDEO,
        "textDisplay": text,
        "textOriginal": text,
        "authorDisplayName": name,
        "authorProfileImageUrl": "https://yt3.ggpht.com/x=s48",
        "authorChannelUrl": f"http://www.youtube.com/channel/{channel}",
        "authorChannelId": {"value": channel},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 4,
        "publishedAt": when,
        "updatedAt": when,
    }
    if parent is not None:
        snippet["parentId"] = parent
        del snippet["videoId"]  # replies carry no videoId in the API
    snippet.update(extra)
    return {"kind": "youtube#comment", "etag": "e", "id": cid, "snippet": snippet}


def _thread(tid: str, top: dict, replies: list[dict] | None = None) -> dict:
    thread = {
        "kind": "youtube#commentThread",
        "etag": "e",
        "id": tid,
        "snippet": {
            "channelId": BRAND,
            "videoId": VIDEO,
            "topLevelComment": top,
            "canReply": True,
            "totalReplyCount": len(replies or []),
            "isPublic": True,
        },
    }
    if replies:
        thread["replies"] = {"comments": replies}
    return thread


def _response(items: list, kind: str = "youtube#commentThreadListResponse") -> dict:
    return {
        "kind": kind,
        "etag": "e",
        "nextPageToken": "QURTSl9p",
        "pageInfo": {"totalResults": len(items), "resultsPerPage": 20},
        "items": items,
    }


def _threads() -> list[dict]:
    t1 = "UgzT1aaaaaaaaaaaaaaa4AaABAg"
    t2 = "UgzT2bbbbbbbbbbbbbbb4AaABAg"
    top1 = _comment(
        t1,
        "UCfan10000000000000000001",
        "Love the new widget!",
        "2024-03-01T10:00:00Z",
        display="@fan1",
    )
    reply1 = _comment(
        f"{t1}.A1",
        BRAND,
        "@fan1 thank you! @ไสวกมลพันธ์-ฆ8จ too.",
        "2024-03-01T11:00:00Z",
        parent=t1,
        display="@AcmeOfficial",
        authorChannelUrl="http://www.youtube.com/@AcmeOfficial",
        textDisplay=(
            '<a href="https://www.youtube.com/channel/UCfan10000000000000000001">@fan1</a> '
            "thank you! @ไสวกมลพันธ์-ฆ8จ too."
        ),
    )
    reply2 = _comment(
        f"{t1}.A2",
        "UCthai00000000000000000003",
        "me too",
        "2024-03-01T13:30:00+02:00",
        parent=t1,
        display="@ไสวกมลพันธ์-ฆ8จ",
        authorChannelUrl=(
            "http://www.youtube.com/@%E0%B9%84%E0%B8%AA%E0%B8%A7%E0%B8%81%E0%B8%A1%E0%B8%A5"
            "%E0%B8%9E%E0%B8%B1%E0%B8%99%E0%B8%98%E0%B9%8C-%E0%B8%868%E0%B8%88"
        ),
    )
    top2 = _comment(
        t2, "UCold00000000000000000002", "x", "2024-03-02T09:00:00Z", display="Old Name"
    )
    del top2["snippet"]["textOriginal"]  # only returned to some callers: textDisplay then
    top2["snippet"]["textDisplay"] = "It&#39;s <b>great</b><br>really"
    return [_thread(t1, top1, [reply1, reply2]), _thread(t2, top2)]


def test_api_response_saved_whole(tmp_path: Path) -> None:
    path = tmp_path / "threads.json"
    path.write_text(json.dumps(_response(_threads()), indent=2, ensure_ascii=False))
    parsed = parse_file(path)
    assert parsed.source_format == "youtube"
    assert parsed.rejects.height == 0, parsed.rejects["reason"].to_list()
    _schemas_ok(parsed)
    rows = {r["message_id"]: r for r in parsed.messages.iter_rows(named=True)}
    t1, t2 = "UgzT1aaaaaaaaaaaaaaa4AaABAg", "UgzT2bbbbbbbbbbbbbbb4AaABAg"
    assert list(rows) == [t1, f"{t1}.A1", f"{t1}.A2", t2]
    top = rows[t1]
    assert (top["kind"], top["parent_id"], top["thread_id"]) == ("post", None, t1)
    assert top["author_id"] == "UCfan10000000000000000001"
    assert top["url"] == f"https://www.youtube.com/watch?v={VIDEO}&lc={t1}"
    assert top["created_at"] == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert top["source_line"] == 1  # record 1 of the document
    reply = rows[f"{t1}.A1"]
    assert (reply["kind"], reply["parent_id"], reply["thread_id"]) == ("reply", t1, t1)
    assert reply["parent_author_id"] == "UCfan10000000000000000001"
    assert reply["author_id"] == BRAND
    assert reply["url"] == f"https://www.youtube.com/watch?v={VIDEO}&lc={t1}.A1"
    assert rows[f"{t1}.A2"]["created_at"] == datetime(2024, 3, 1, 11, 30, tzinfo=UTC)
    assert rows[t2]["text"] == "It's great\nreally"
    assert rows[t2]["source_line"] == 2
    accounts = {r["account_id"]: r for r in parsed.accounts.iter_rows(named=True)}
    assert accounts[BRAND]["handle"] == "AcmeOfficial"
    assert accounts["UCfan10000000000000000001"]["handle"] == "fan1"  # from '@fan1'
    assert accounts["UCthai00000000000000000003"]["handle"] == "ไสวกมลพันธ์-ฆ8จ"
    old = accounts["UCold00000000000000000002"]
    assert (old["handle"], old["display_name"]) == (None, "Old Name")
    assert parsed.accounts["followers_count"].null_count() == parsed.accounts.height
    mentions = parsed.actions.select(
        "action_id", "actor_id", "target_account_id", "target_handle"
    ).rows()
    assert mentions == [
        (f"{t1}.A1:mention:fan1", BRAND, "UCfan10000000000000000001", "fan1"),
        (f"{t1}.A1:mention:ไสวกมลพันธ์-ฆ8จ", BRAND, None, "ไสวกมลพันธ์-ฆ8จ"),
    ]


def test_api_json_lines_pages_and_items(tmp_path: Path) -> None:
    threads = _threads()
    t1 = threads[0]["id"]
    more = _comment(
        f"{t1}.A3", "UCfan40000000000000000004", "late reply", "2024-03-03T00:00:00Z", t1
    )
    replies_page = _response(
        [threads[0]["replies"]["comments"][0], more], kind="youtube#commentListResponse"
    )
    lines = [
        orjson.dumps(_response(threads[:1])),
        b"",
        orjson.dumps(replies_page),  # A1 again (loaded once, at line 1) and A3
        orjson.dumps(threads[1]),  # a bare thread
        orjson.dumps(
            _comment("Ugzsolo", "UCsolo0000000000000000005", "hi", "2024-03-04T00:00:00Z")
        ),
    ]
    path = tmp_path / "threads.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    parsed = parse_file(path)
    assert parsed.source_format == "youtube"
    assert parsed.rejects.height == 0
    got = parsed.messages.select("message_id", "kind", "thread_id", "source_line").rows()
    assert got == [
        (t1, "post", t1, 1),
        (f"{t1}.A1", "reply", t1, 1),
        (f"{t1}.A2", "reply", t1, 1),
        (f"{t1}.A3", "reply", t1, 3),
        (threads[1]["id"], "post", threads[1]["id"], 4),
        ("Ugzsolo", "post", "Ugzsolo", 5),
    ]
    late = parsed.messages.filter(pl.col("message_id") == f"{t1}.A3").row(0, named=True)
    assert late["parent_id"] == t1
    assert late["parent_author_id"] is None  # not in that page: staging finds it
    assert late["url"] is None  # a comments.list reply carries no videoId


def test_api_array_of_responses_numbers_records(tmp_path: Path) -> None:
    threads = _threads()
    doc = [_response(threads[:1]), _response([threads[1], {"kind": "youtube#video", "id": "v"}])]
    path = tmp_path / "pages.json"
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False))
    parsed = parse_file(path)
    assert parsed.source_format == "youtube"
    assert set(parsed.messages.filter(pl.col("message_id") == threads[1]["id"])["source_line"]) == {
        2
    }
    assert parsed.rejects.select("position", "reason").rows() == [
        (3, "record 3: [1].items[1]: kind 'youtube#video', neither a commentThread nor a comment")
    ]


def test_api_bad_items_are_rejected_and_the_rest_loads(tmp_path: Path) -> None:
    good = _threads()[1]
    no_channel = _comment("UgzNoChan", "UCx", "t", "2024-03-01T00:00:00Z")
    del no_channel["snippet"]["authorChannelId"]
    bad_time = _comment("UgzBadTime", "UCy", "t", "March 1st")
    no_time = _comment("UgzNoTime", "UCz", "t", "2024-03-01T00:00:00Z")
    del no_time["snippet"]["publishedAt"]
    reply_without_parent = _comment("UgzT9.R1", "UCr", "hello", "2024-03-05T00:00:00Z")
    thread_no_parent = _thread(
        "UgzT9", _comment("UgzT9", "UCq", "q", "2024-03-05T00:00:00Z"), [reply_without_parent]
    )
    items = [
        good,
        _thread("UgzBad1", no_channel),
        {"kind": "youtube#commentThread", "id": "UgzBad2"},
        _thread("UgzBad3", bad_time),
        no_time,
        "just a string",
        {"kind": "youtube#commentThread", "id": "UgzBad4", "snippet": {"videoId": VIDEO}},
        thread_no_parent,
    ]
    error = {"error": {"code": 403, "message": "The video has disabled comments."}}
    lines = [
        orjson.dumps(_response(items)),
        b'{"kind": "youtube#commentThreadListResponse", "items": [',
        orjson.dumps(error),
        orjson.dumps({"kind": "youtube#commentThreadListResponse", "items": {"a": 1}}),
        b"[1, 2]",
    ]
    path = tmp_path / "threads.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    parsed = parse_file(path)
    assert parsed.source_format == "youtube"
    assert parsed.messages["message_id"].to_list() == [good["id"], "UgzT9", "UgzT9.R1"]
    assert parsed.messages["parent_id"].to_list() == [None, None, "UgzT9"]
    reasons = parsed.rejects.select("position", "reason").rows()
    assert reasons[:6] == [
        (
            1,
            "line 1: items[1].snippet.topLevelComment: comment UgzNoChan has no authorChannelId",
        ),
        (1, "line 1: items[2]: commentThread UgzBad2 has no snippet"),
        (
            1,
            "line 1: items[3].snippet.topLevelComment: comment UgzBadTime has publishedAt "
            "'March 1st', not an RFC 3339 time",
        ),
        (1, "line 1: items[4]: comment UgzNoTime has no publishedAt"),
        (1, "line 1: items[5] is a string, not a comment thread"),
        (1, "line 1: items[6]: commentThread UgzBad4 has no topLevelComment"),
    ]
    assert reasons[6][0] == 2 and reasons[6][1].startswith("line 2: not valid JSON")
    assert reasons[7:] == [
        (
            3,
            "line 3: an API error response, not comments (The video has disabled comments.)",
        ),
        (4, "line 4: response: 'items' is an object, not a list"),
        (5, "line 5: [0] is a number, not a comment thread"),
        (5, "line 5: [1] is a number, not a comment thread"),
    ]


def test_bare_items_reasons(tmp_path: Path) -> None:
    no_time = _comment("UgzNoTime", "UCz", "t", "2024-03-01T00:00:00Z")
    del no_time["snippet"]["publishedAt"]
    lines = [
        orjson.dumps(_threads()[1]),
        orjson.dumps(no_time),
        orjson.dumps({"kind": "youtube#video", "id": "v"}),
        b'"just a string"',
        orjson.dumps({"kind": "youtube#commentThreadListResponse", "pageInfo": {}}),
    ]
    path = tmp_path / "items.jsonl"
    path.write_bytes(b"\n".join(lines))
    parsed = parse_file(path)
    assert parsed.source_format == "youtube"
    assert parsed.messages["source_line"].to_list() == [1]
    assert parsed.rejects.select("position", "reason").rows() == [
        (2, "line 2: comment UgzNoTime has no publishedAt"),
        (3, "line 3: an object with kind 'youtube#video', neither a commentThread nor a comment"),
        (4, "line 4: the value is a string, not a comment thread"),
        (5, "line 5: response: a response without 'items'"),
    ]


def test_truncated_document_is_one_reject(tmp_path: Path) -> None:
    text = json.dumps(_response(_threads()), indent=2)
    path = tmp_path / "threads.json"
    path.write_text(text[: len(text) // 2])
    parsed = parse_file(path)
    assert parsed.source_format == "youtube"
    assert parsed.messages.height == 0
    assert parsed.rejects.height == 1
    reject = parsed.rejects.row(0, named=True)
    assert reject["position"] is None
    assert reject["reason"].startswith(f"{path}: not valid JSON")


def test_json_lines_with_a_broken_first_line_still_load(tmp_path: Path) -> None:
    threads = _threads()
    lines = [b'{"kind": "youtube#commentThread", "id": "cut', orjson.dumps(threads[1])]
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\n".join(lines))
    parsed = parse_file(path)
    assert parsed.source_format == "youtube"
    assert parsed.messages["source_line"].to_list() == [2]
    assert parsed.rejects["position"].to_list() == [1]


# ---------------------------------------------------------------------------------------------
# CSV edge cases


def _write_csv(path: Path, text: str, bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_csv_columns_by_name_video_id_and_offsets(tmp_path: Path) -> None:
    text = (
        "\n"
        "video_id,content,date,author,comment_id,CLASS\n"
        'abc123,"hi @acme, multi\nline",2024-01-01T10:00:00+02:00,@fan,c1,0\n'
        "abc123,Nice &amp; cheap<br />buy now\ufeff,2024-01-01,Someone,c2,1\n"
    )
    parsed = parse_file(_write_csv(tmp_path / "c.csv", text, bom=True))
    assert parsed.source_format == "youtube"
    assert parsed.rejects.height == 0
    rows = parsed.messages.select("message_id", "text", "created_at", "url", "source_line").rows()
    assert rows == [
        (
            "c1",
            "hi @acme, multi\nline",
            datetime(2024, 1, 1, 8, 0, tzinfo=UTC),
            "https://www.youtube.com/watch?v=abc123&lc=c1",
            3,
        ),
        (
            "c2",
            "Nice & cheap\nbuy now",
            datetime(2024, 1, 1, tzinfo=UTC),
            "https://www.youtube.com/watch?v=abc123&lc=c2",
            5,  # the record before spans lines 3 and 4
        ),
    ]
    accounts = parsed.accounts.select("account_id", "handle", "display_name").rows()
    assert accounts == [("@fan", "fan", "@fan"), ("Someone", None, "Someone")]
    assert parsed.actions.select("action_id", "target_handle").rows() == [
        ("c1:mention:acme", "acme")
    ]


def test_csv_bad_rows(tmp_path: Path) -> None:
    text = (
        "COMMENT_ID,AUTHOR,DATE,CONTENT\n"
        "c1,a,2013-11-07T06:20:48,fine\n"
        "c2,b,2013-11-07T06:20:48\n"
        "c3,c,2013-11-07T06:20:48,one,two\n"
        ",d,2013-11-07T06:20:48,no id\n"
        "c5,,2013-11-07T06:20:48,no author\n"
        "c6,f,,no date\n"
        "c7,g,07/11/2013,odd date\n"
        "c1,h,2013-11-07T06:20:48,again\n"
        "\n"
        "c9,i,2013-11-07T06:20:48,fine too\n"
    )
    path = _write_csv(tmp_path / "c.csv", text)
    with open(path, "ab") as f:
        f.write(b"c10,caf\xe9,2013-11-07T06:20:48,latin-1\n")
        f.write(b"c11,j,2013-11-07T06:20:48,last\n")
    parsed = parse_file(path)
    assert parsed.source_format == "youtube"
    assert parsed.messages.select("message_id", "source_line").rows() == [
        ("c1", 2),
        ("c9", 11),
        ("c11", 13),
    ]
    assert parsed.rejects.select("position", "reason").rows() == [
        (3, "line 3: 3 fields, the header has 4"),
        (4, "line 4: 5 fields, the header has 4"),
        (5, "line 5: COMMENT_ID is empty"),
        (6, "line 6: AUTHOR is empty"),
        (7, "line 7: DATE is empty"),
        (8, "line 8: DATE '07/11/2013' is not an ISO 8601 date like '2013-11-07T06:20:48'"),
        (9, "line 9: COMMENT_ID 'c1' repeats line 2"),
        (12, "line 12: not UTF-8 text"),
    ]
    assert parsed.rejects["raw_excerpt"][0] == "c2,b,2013-11-07T06:20:48"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("COMMENT_ID,AUTHOR,DATE,CONTENT\n", True),
        ("\n\n comment_id , Author,DATE,content,VIDEO_NAME\n", True),
        ("COMMENT_ID,AUTHOR,CONTENT\n", False),
        ("tweet_id,author_id,inbound,created_at,text\n", False),
        ("platform,record_type,author_id\n", False),
        (json.dumps({"kind": "youtube#commentThreadListResponse", "items": []}), True),
        ("[\n" + json.dumps({"kind": "youtube#comment", "id": "x"}) + "\n]", True),
        (json.dumps({"kind": "Listing", "data": {"children": []}}), False),
        (json.dumps({"id": "1", "text": "kind: youtube#comment", "author_id": "2"}), False),
        (json.dumps({"text": '"kind": "youtube#comment"'}), False),
        ("not json\n" + json.dumps({"kind": "youtube#comment", "id": "x"}), True),
        ('"kind": "youtube#comment"\n', False),
        ("", False),
    ],
)
def test_sniff(tmp_path: Path, content: str, expected: bool) -> None:
    path = tmp_path / "x"
    path.write_text(content, encoding="utf-8")
    assert youtube.sniff(read_head(path)) is expected


# ---------------------------------------------------------------------------------------------
# Properties: whatever the input, parse_file does not raise, and every record is loaded or
# rejected

_valid_lines = (
    [orjson.dumps(t) for t in _threads()]
    + [orjson.dumps(_response(_threads()[:1]))]
    + [
        orjson.dumps(_comment(f"Ugz{i}", f"UC{i}", f"@x{i}yz hi", "2024-01-01T00:00:00Z"))
        for i in range(3)
    ]
)


def _mutate(draw, line: bytes) -> bytes:
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
    return line


@st.composite
def _json_lines(draw) -> list[bytes]:
    n = draw(st.integers(1, len(_valid_lines)))
    return [
        _mutate(draw, _valid_lines[i]).replace(b"\n", b" ").replace(b"\r", b" ") for i in range(n)
    ]


def _ids(obj: object) -> set[str]:
    """The ids of the comments inside (objects with a snippet that is not a thread's)."""
    found: set[str] = set()
    if isinstance(obj, dict):
        snippet = obj.get("snippet")
        if isinstance(snippet, dict) and "topLevelComment" not in snippet:
            found.add(str(obj.get("id")))
        for value in obj.values():
            found |= _ids(value)
    elif isinstance(obj, list):
        for value in obj:
            found |= _ids(value)
    return found


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=_json_lines())
def test_property_json_lines(tmp_path_factory, lines: list[bytes]) -> None:
    path = tmp_path_factory.mktemp("prop") / "t.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    parsed = parse_file(path)
    _schemas_ok(parsed)
    if parsed.source_format != "youtube" or None in parsed.rejects["position"].to_list():
        assert parsed.messages.height == 0 or parsed.source_format != "youtube"
        return
    loaded = set(parsed.messages["source_line"])
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
        if obj in ([], {}) or (isinstance(obj, dict) and obj.get("items") == []):
            continue  # nothing to load, nothing wrong
        if _ids(obj) and _ids(obj) <= set(parsed.messages["message_id"]):
            continue  # its comments were loaded from an earlier line
        assert number in loaded or number in rejected, (number, line)


_csv_rows = [
    f'z{i}abc,Author {i},2015-05-2{i}T10:00:00.{i}00000,"comment, number {i} @h{i}xx"'
    for i in range(6)
]


@st.composite
def _csv_text(draw) -> bytes:
    rows = [b"COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS"]
    for i in range(draw(st.integers(1, 6))):
        row = (_csv_rows[i] + ",0").encode()
        rows.append(_mutate(draw, row))
    return b"\n".join(rows) + b"\n"


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_csv_text())
def test_property_csv_records_loaded_or_rejected(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("prop") / "c.csv"
    path.write_bytes(data)
    parsed = parse_file(path)
    _schemas_ok(parsed)
    assert parsed.source_format == "youtube"
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
        try:
            records = [r for r in csv.reader(f) if r and not (len(r) == 1 and not r[0].strip())]
        except csv.Error:  # e.g. a NUL byte: the parser rejects; nothing to count here
            return
    assert parsed.messages.height + parsed.rejects.height == len(records) - 1
    lines = data.count(b"\n") + data.count(b"\r") + 1
    positions = parsed.messages["source_line"].to_list() + parsed.rejects["position"].to_list()
    assert all(1 < p <= lines for p in positions)
