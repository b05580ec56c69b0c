"""Format detection, the folder walk, and files no parser can take."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.formats import FORMATS, iter_input_files, parse_file, parse_folder
from pipelines.model import TABLE_SCHEMAS

TWCS_HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"
TWCS_ROW = "1,acme,False,Tue Oct 31 22:10:47 +0000 2017,hi @bob,,"
GENERIC = "platform,record_type,author_id,id,created_at,text\nx,post,u1,m1,2024-01-01,hello\n"
TWEET = {"id": "1", "author_id": "2", "text": "hi", "created_at": "2023-01-01T00:00:00Z"}


def _schemas_ok(parsed) -> None:
    for table, schema in TABLE_SCHEMAS.items():
        assert dict(getattr(parsed, table).schema) == schema, table


def test_formats_listed() -> None:
    names = [name for name, _ in FORMATS]
    assert names == [
        "twitter_v2", "twitter_archive", "twitter_v1", "mastodon", "bluesky", "reddit",
        "youtube", "facebook", "discord", "twcs", "generic_csv",
    ]
    assert all(isinstance(d, str) and d and "\n" not in d for _, d in FORMATS)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (TWCS_HEADER + "\n" + TWCS_ROW + "\n", "twcs"),
        ("," + TWCS_HEADER + "\n0," + TWCS_ROW + "\n", "twcs"),
        ("Unnamed: 0," + TWCS_HEADER + "\n0," + TWCS_ROW + "\n", "twcs"),
        (GENERIC, "generic_csv"),
        (json.dumps(TWEET) + "\n", "twitter_v2"),
        (json.dumps({"data": [TWEET], "includes": {}}) + "\n", "twitter_v2"),
        (json.dumps({"data": TWEET}) + "\n", "twitter_v2"),
        ("\n\n" + json.dumps(TWEET) + "\n", "twitter_v2"),
        ("not json\n" + json.dumps(TWEET) + "\n", "twitter_v2"),
        (json.dumps({"id": 1, "id_str": "1", "text": "x", "user": {}}) + "\n", "twitter_v1"),
        ("window.YTD.tweets.part0 = [{}]", "twitter_archive"),
    ],
)
def test_detected_from_content_not_name(tmp_path: Path, content: str, expected: str) -> None:
    for name in ("data.bin", "export.json", "x.csv"):
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        assert parse_file(path).source_format == expected, name
        path.write_bytes(b"\xef\xbb\xbf" + content.encode())  # a UTF-8 BOM changes nothing
        assert parse_file(path).source_format == expected, name


@pytest.mark.parametrize(
    "content",
    [
        "a,b,c\n1,2,3\n",  # some other CSV
        json.dumps({"statuses": [{"id": 1, "id_str": "1", "text": "x", "user": {}}]}, indent=2),
        json.dumps({"kind": "Listing", "data": {"children": []}}) + "\n",  # reddit
        json.dumps({"id": "abc", "body": "a reddit comment", "author": "x"}) + "\n",
        "just some words\n",
    ],
)
def test_unknown_content_is_one_reject_listing_formats(tmp_path: Path, content: str) -> None:
    path = tmp_path / "thing.csv"
    path.write_text(content, encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.source_format == "unknown"
    assert parsed.counts() == {"accounts": 0, "messages": 0, "actions": 0, "rejects": 1}
    _schemas_ok(parsed)
    reject = parsed.rejects.row(0, named=True)
    assert reject["position"] is None
    assert reject["source_format"] == "unknown"
    assert reject["source_file"] == str(path)
    assert reject["reason"].startswith(f"{path}: not in any format")
    for name, _ in FORMATS:
        assert name in reject["reason"]
    assert reject["raw_excerpt"] == content[:300].rstrip("\r\n")[:300]


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"PK\x03\x04\x14\x00\x00\x00", "ZIP"),
        (b"\x1f\x8b\x08\x00\x00\x00", "gzip-compressed"),
        (b"\x28\xb5\x2f\xfd\x00", "zstd-compressed"),
    ],
)
def test_an_archive_is_named_as_one(tmp_path: Path, content: bytes, kind: str) -> None:
    path = tmp_path / "export.bin"
    path.write_bytes(content + bytes(range(256)))
    reason = parse_file(path).rejects["reason"][0]
    assert reason.startswith(f"{path}: a {kind} file: unpack it")


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes(GENERIC.encode("utf-16"))
    parsed = parse_file(path)
    assert parsed.source_format == "unknown"
    assert parsed.rejects.height == 1
    reason = parsed.rejects["reason"].item()
    assert "not UTF-8" in reason and "UTF-16" in reason and "generic_csv" in reason

    path = tmp_path / "latin1.bin"
    path.write_bytes("d\xe9j\xe0 vu, caf\xe9\n".encode("latin-1"))
    reason = parse_file(path).rejects["reason"].item()
    assert "not UTF-8 text (byte 0xe9 at offset 1" in reason


def test_unreadable_and_empty_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    parsed = parse_file(missing)
    assert parsed.source_format == "unknown"
    assert parsed.rejects["position"].item() is None
    assert parsed.rejects["reason"].item().startswith(f"{missing}: cannot read the file")

    folder = tmp_path / "a_folder"
    folder.mkdir()
    assert "cannot read" in parse_file(folder).rejects["reason"].item()

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    reason = parse_file(empty).rejects["reason"].item()
    assert "the file is empty" in reason and "twcs" in reason


def test_source_file_is_the_path_as_given(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "g.csv").write_text(GENERIC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    parsed = parse_file("g.csv")
    assert parsed.source_file == "g.csv"
    assert set(parsed.messages["source_file"]) == {"g.csv"}


def test_iter_input_files_skips_what_is_not_input(tmp_path: Path) -> None:
    files = [
        "a.csv",
        "b/c.jsonl",
        "b/d/e.json",
        "_planted_roles.csv",
        "b/_truth.csv",
        ".hidden.csv",
        ".git/config",
        "_cache/x.csv",
        "notes.md",
        "config.toml",
        "readme.txt",
        "README",
        "README.rst",
        "LICENSE",
        "b/LICENSE.txt",
        "b/license-MIT",
        "Data.MD",
        # pictures, video and sound from a platform archive
        "media_attachments/files/1/original/a.PNG",
        "avatar.jpg",
        "b/clip.mp4",
        "voice.ogg",
    ]
    for name in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    found = iter_input_files(tmp_path)
    assert found == [tmp_path / "a.csv", tmp_path / "b" / "c.jsonl", tmp_path / "b/d/e.json"]
    assert iter_input_files(str(tmp_path)) == found
    assert iter_input_files(tmp_path / "a.csv") == [tmp_path / "a.csv"]
    with pytest.raises(FileNotFoundError):
        iter_input_files(tmp_path / "missing")


def test_parse_folder(tmp_path: Path) -> None:
    (tmp_path / "1.csv").write_text(GENERIC, encoding="utf-8")
    (tmp_path / "2.jsonl").write_text(json.dumps(TWEET) + "\n", encoding="utf-8")
    (tmp_path / "3.dat").write_text("???", encoding="utf-8")
    (tmp_path / "_planted_roles.csv").write_text(GENERIC, encoding="utf-8")
    parsed = parse_folder(tmp_path)
    assert [p.source_format for p in parsed] == ["generic_csv", "twitter_v2", "unknown"]
    assert [p.source_file for p in parsed] == [
        str(tmp_path / n) for n in ("1.csv", "2.jsonl", "3.dat")
    ]


@pytest.mark.real_data
def test_real_folder_detection(real_data: Path) -> None:
    parsed = {p.source_file: p for p in parse_folder(real_data)}
    by_format: dict[str, set[str]] = {}
    for source, p in parsed.items():
        by_format.setdefault(p.source_format, set()).add(Path(source).name)
        _schemas_ok(p)
        if p.source_format == "unknown":
            assert p.rejects.height == 1
    assert by_format["twcs"] == {"twcs_head_monalisapatra26.csv", "sample_yosingh1.csv"}
    expected_v2 = {p.name for p in (real_data / "twitter_v2" / "twarc-csv").glob("*.jsonl")}
    assert by_format["twitter_v2"] == expected_v2
    assert "generic_csv" not in by_format
    assert not any(Path(s).name in {"PROVENANCE.md", "LICENSE"} for s in parsed)


# ---------------------------------------------------------------------------------------------
# Property: any bytes at all, under any name: parse_file returns, never raises


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.sampled_from(
        [
            b"",
            b"\xef\xbb\xbf",
            b"{",
            b'{"data": [',
            TWCS_HEADER.encode() + b"\n",
            b"platform,record_type,author_id\n",
        ]
    ),
    body=st.binary(max_size=300),
)
def test_property_any_bytes(tmp_path_factory, prefix: bytes, body: bytes) -> None:
    path = tmp_path_factory.mktemp("any") / "f"
    path.write_bytes(prefix + body)
    parsed = parse_file(path)
    _schemas_ok(parsed)
    assert parsed.source_format in {"unknown", *(name for name, _ in FORMATS)}
    if parsed.source_format == "unknown":
        assert parsed.rejects.height == 1
        assert parsed.rejects["position"].item() is None


def test_escaped_text_is_turned_back_into_characters(tmp_path: Path) -> None:
    """X and Reddit write & < > as entities; a user who typed "&lt;" keeps it."""
    line = {"id": "r1", "author": "ann", "body": "fish &amp; chips &lt;3 &gt; quote "
            "&amp;lt;tag&amp;gt;", "created_utc": 1700000000, "parent_id": "t3_x",
            "link_id": "t3_x", "subreddit": "acme"}
    path = tmp_path / "comments.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.source_format == "reddit"
    assert parsed.messages["text"].to_list() == ["fish & chips <3 > quote &lt;tag&gt;"]
    # a format whose text is plain is left alone
    generic = tmp_path / "g.csv"
    generic.write_text(GENERIC.replace("hello", "a &amp; b"), encoding="utf-8")
    assert parse_file(generic).messages["text"].to_list() == ["a &amp; b"]


@pytest.mark.real_data
def test_real_x_and_reddit_text_has_no_entities_left(real_data: Path) -> None:
    """Every &amp; of the raw files becomes &: counted in the files and in the parsed text."""
    for folder in ("twitter_v2", "twitter_archive", "twcs", "reddit"):
        for path in iter_input_files(real_data / folder):
            parsed = parse_file(path)
            if not parsed.messages.height:
                continue
            texts = parsed.messages["text"].drop_nulls()
            raw_has = "&amp;" in path.read_text(encoding="utf-8", errors="replace")
            left = texts.str.contains("&amp;", literal=True).sum()
            assert left == 0 or not raw_has, (path, left)
    tweets = parse_file(real_data / "twcs" / "twcs_head_monalisapatra26.csv").messages["text"]
    assert tweets.str.contains(" & ", literal=True).sum() > 0
