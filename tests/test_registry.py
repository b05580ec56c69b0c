"""The file registry (``raw.files``): what a run reads again, and what it leaves unread."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from pipelines import warehouse
from pipelines.formats.detect import parse_file
from pipelines.staging import build_staging
from pipelines.warehouse import load_files

HEADER = ("platform,record_type,id,author_id,author_handle,author_followers,created_at,text,"
          "parent_id,quoted_id,target_id,target_author_id\n")
ROW = "benchnet,post,{id},u1,user1,10,2026-10-30T10:00:00Z,{text},,,,\n"


@pytest.fixture()
def counted(monkeypatch):
    """Counts of files hashed and parsed."""
    counts = {"hashed": 0, "parsed": 0}
    real_hash = warehouse.file_hash

    def hashing(path, *args):
        counts["hashed"] += 1
        return real_hash(path, *args)

    def parsing(path):
        counts["parsed"] += 1
        return parse_file(path)

    monkeypatch.setattr(warehouse, "file_hash", hashing)
    counts["parse"] = parsing
    return counts


def _write(path, texts, mtime_ns=None):
    path.write_text(HEADER + "".join(ROW.format(id=i + 1, text=t) for i, t in enumerate(texts)))
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def _messages(con):
    return sorted(r[0] for r in con.execute("SELECT text FROM raw.messages").fetchall())


def test_an_unchanged_file_is_not_read_again(tmp_path, counted):
    path = tmp_path / "export.csv"
    _write(path, ["hello", "again"], mtime_ns=1_700_000_000_000_000_000)
    con = duckdb.connect()
    first = load_files(con, [path], counted["parse"])
    assert not first[0].skipped and (counted["hashed"], counted["parsed"]) == (1, 1)
    second = load_files(con, [path], counted["parse"])
    assert second[0].skipped and second[0].counts["messages"] == 2
    assert (counted["hashed"], counted["parsed"]) == (1, 1)  # one stat, no read
    assert _messages(con) == ["again", "hello"]


def test_a_touched_file_is_hashed_once_and_not_parsed(tmp_path, counted):
    path = tmp_path / "export.csv"
    _write(path, ["hello"], mtime_ns=1_700_000_000_000_000_000)
    con = duckdb.connect()
    load_files(con, [path], counted["parse"])
    os.utime(path, ns=(1_700_000_100_000_000_000, 1_700_000_100_000_000_000))
    assert load_files(con, [path], counted["parse"])[0].skipped
    assert (counted["hashed"], counted["parsed"]) == (2, 1)
    assert load_files(con, [path], counted["parse"])[0].skipped  # the new time was recorded
    assert (counted["hashed"], counted["parsed"]) == (2, 1)


def test_a_rewritten_file_replaces_what_it_gave_before(tmp_path, counted):
    path = tmp_path / "export.csv"
    _write(path, ["hello", "again"], mtime_ns=1_700_000_000_000_000_000)
    con = duckdb.connect()
    load_files(con, [path], counted["parse"])
    _write(path, ["hello edited", "again"], mtime_ns=1_700_000_000_000_000_000)  # same time
    result = load_files(con, [path], counted["parse"])[0]
    assert not result.skipped and counted["parsed"] == 2  # the size differs: read again
    assert _messages(con) == ["again", "hello edited"]
    assert con.execute("SELECT count(*) FROM raw.files").fetchone()[0] == 1


def test_a_registry_without_modification_times_hashes_once(tmp_path, counted):
    """A database written before the registry kept modification times."""
    path = tmp_path / "export.csv"
    _write(path, ["hello"], mtime_ns=1_700_000_000_000_000_000)
    con = duckdb.connect()
    load_files(con, [path], counted["parse"])
    con.execute("ALTER TABLE raw.files DROP COLUMN modified_ns")
    assert load_files(con, [path], counted["parse"])[0].skipped
    assert load_files(con, [path], counted["parse"])[0].skipped
    assert (counted["hashed"], counted["parsed"]) == (2, 1)
    assert con.execute("SELECT modified_ns FROM raw.files").fetchone()[0] == (
        1_700_000_000_000_000_000)


def test_a_file_written_as_it_was_loaded_is_always_hashed(tmp_path, counted):
    """Rewritten in the same instant with the same size: the time alone cannot tell."""
    path = tmp_path / "export.csv"
    _write(path, ["hello"])
    written = path.stat().st_mtime_ns
    con = duckdb.connect()
    load_files(con, [path], counted["parse"])
    _write(path, ["jello"], mtime_ns=written)  # same size, same time
    result = load_files(con, [path], counted["parse"])[0]
    assert not result.skipped and _messages(con) == ["jello"]
    assert (counted["hashed"], counted["parsed"]) == (2, 2)


@pytest.fixture()
def clock(monkeypatch):
    """The registry's clock, set by the test (ns since the epoch)."""
    now = {"ns": 1_700_000_000_000_000_000}
    monkeypatch.setattr(warehouse, "_now_ns", lambda: now["ns"])
    return now


def test_a_file_touched_after_its_load_is_hashed_until_it_is_older(tmp_path, counted, clock):
    path = tmp_path / "export.csv"
    _write(path, ["hello"], mtime_ns=clock["ns"] - 60_000_000_000)
    con = duckdb.connect()
    load_files(con, [path], counted["parse"])
    clock["ns"] += 10_000_000_000
    os.utime(path, ns=(clock["ns"], clock["ns"]))  # touched as the next run looks at it
    assert load_files(con, [path], counted["parse"])[0].skipped
    assert (counted["hashed"], counted["parsed"]) == (2, 1)
    clock["ns"] += 10_000_000_000  # the next night: the touch is well in the past
    assert load_files(con, [path], counted["parse"])[0].skipped
    assert load_files(con, [path], counted["parse"])[0].skipped
    assert (counted["hashed"], counted["parsed"]) == (3, 1)  # hashed once more, then not


def test_a_rewrite_during_a_long_parse_is_seen_next_time(tmp_path, counted, clock):
    """On a file system keeping whole seconds, a same-size rewrite in the second the file was
    looked at keeps its modification time: the load must not count it as seen."""
    path = tmp_path / "export.csv"
    tick = clock["ns"] - 500_000_000  # the file's whole-second time, just before the look
    _write(path, ["hello"], mtime_ns=tick)

    def slow_parse(p):
        parsed = counted["parse"](p)
        _write(path, ["jello"], mtime_ns=tick)  # rewritten while the parse ran
        clock["ns"] += 5_000_000_000
        return parsed

    con = duckdb.connect()
    load_files(con, [path], slow_parse)
    clock["ns"] += 60_000_000_000
    result = load_files(con, [path], counted["parse"])[0]
    assert not result.skipped and _messages(con) == ["jello"]


def test_a_relative_and_an_absolute_path_are_one_file(tmp_path, counted, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    _write(folder / "export.csv", ["hello"], mtime_ns=1_700_000_000_000_000_000)
    con = duckdb.connect()
    load_files(con, [folder / "export.csv"], counted["parse"])
    monkeypatch.chdir(tmp_path)
    again = load_files(con, [os.path.join("..", tmp_path.name, "in", "export.csv")],
                       counted["parse"])
    assert again[0].skipped and counted["parsed"] == 1
    assert con.execute("SELECT count(*) FROM raw.files").fetchone()[0] == 1


def test_a_moved_file_is_relabelled_not_read_again(tmp_path, counted):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    _write(old / "export.csv", ["hello", "again"])
    con = duckdb.connect()
    load_files(con, [old / "export.csv"], counted["parse"])
    con.execute("CREATE SCHEMA state")
    con.execute("CREATE TABLE state.staged_files AS SELECT source_file, content_hash, load_id"
                " FROM raw.files")
    old.rename(new)
    moved = load_files(con, [new / "export.csv"], counted["parse"])
    assert moved[0].skipped and moved[0].counts["messages"] == 2
    assert counted["parsed"] == 1
    for table in ("raw.files", "raw.messages", "state.staged_files"):
        assert con.execute(f"SELECT DISTINCT source_file FROM {table}").fetchall() == [
            (str(new / "export.csv"),)], table
    # a copy beside a file that still exists is a file of its own
    (tmp_path / "copy.csv").write_bytes((new / "export.csv").read_bytes())
    copy = load_files(con, [tmp_path / "copy.csv"], counted["parse"])
    assert not copy[0].skipped and counted["parsed"] == 2


def test_the_copy_from_the_file_written_last_wins(tmp_path, counted):
    """Two exports hold message 1; "a_new.csv" sorts first by name but was written last."""
    _write(tmp_path / "z_old.csv", ["the old text"], mtime_ns=1_600_000_000_000_000_000)
    _write(tmp_path / "a_new.csv", ["the edited text"], mtime_ns=1_700_000_000_000_000_000)
    con = duckdb.connect()
    results = load_files(con, sorted(tmp_path.iterdir()), counted["parse"])
    assert [Path(r.source_file).name for r in results] == ["z_old.csv", "a_new.csv"]
    build_staging(con, None)
    assert con.execute("SELECT text FROM staging.messages").fetchall() == [("the edited text",)]
