"""The working copy a run writes, and the published database it starts from."""

import os
import shutil

import duckdb

from pipelines import publishing
from pipelines.resources import AdvocatesConfig


def _tables(path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables"
                                          " WHERE table_schema = 'main'").fetchall()}
    finally:
        con.close()


def _make(path, table: str) -> None:
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE {table} AS SELECT 1 AS x")
    con.close()


def test_a_new_working_copy_starts_from_the_published_database(tmp_path):
    config = AdvocatesConfig(database=str(tmp_path / "out" / "a.duckdb"))
    (tmp_path / "out").mkdir()
    _make(tmp_path / "out" / "a.duckdb", "kept_history")
    assert not config.working_database.exists()
    with config.connect() as con:
        con.execute("CREATE TABLE this_run AS SELECT 2 AS y")
    assert _tables(config.working_database) == {"kept_history", "this_run"}
    config.publish()
    assert _tables(tmp_path / "out" / "a.duckdb") == {"kept_history", "this_run"}
    # the next run goes on from its own working copy
    with config.connect() as con:
        con.execute("CREATE TABLE next_run AS SELECT 3 AS z")
    assert "next_run" in _tables(config.working_database)


def test_a_backup_put_back_is_where_the_next_run_starts(tmp_path):
    config = AdvocatesConfig(database=str(tmp_path / "a.duckdb"))
    with config.connect() as con:
        con.execute("CREATE TABLE first AS SELECT 1 AS x")
    config.publish()
    shutil.copyfile(tmp_path / "a.duckdb", tmp_path / "backup.duckdb")
    with config.connect() as con:
        con.execute("CREATE TABLE second AS SELECT 2 AS x")
    config.publish()
    assert _tables(tmp_path / "a.duckdb") == {"first", "second"}
    os.replace(tmp_path / "backup.duckdb", tmp_path / "a.duckdb")
    with config.connect() as con:
        assert {r[0] for r in con.execute("SHOW TABLES").fetchall()} == {"first"}


def test_a_working_copy_never_published_is_kept(tmp_path):
    """A first run that failed before publishing left a working copy: it is newer than any
    published file a user puts beside it."""
    config = AdvocatesConfig(database=str(tmp_path / "a.duckdb"))
    with config.connect() as con:
        con.execute("CREATE TABLE half_done AS SELECT 1 AS x")
    _make(tmp_path / "a.duckdb", "other")
    with config.connect() as con:
        assert {r[0] for r in con.execute("SHOW TABLES").fetchall()} == {"half_done"}


def test_the_copy_made_while_the_report_is_written_is_what_publishes(tmp_path):
    config = AdvocatesConfig(database=str(tmp_path / "a.duckdb"))
    with config.connect() as con:
        con.execute("CREATE TABLE scores AS SELECT 1 AS x")
    config.start_publish_copy()
    with config.connect(read_only=True) as con:  # the report reads meanwhile
        assert con.execute("SELECT x FROM scores").fetchall() == [(1,)]
    assert not (tmp_path / "a.duckdb").exists()  # nothing is published before publish
    config.publish()
    assert _tables(tmp_path / "a.duckdb") == {"scores"}
    assert not (tmp_path / ".a.duckdb.tmp").exists()


def test_the_background_copy_is_on_disk_before_it_is_published(tmp_path, monkeypatch):
    """The copy made while the report is written is synced to disk by the copying thread,
    so the publish step that moves it over the published file does not wait for that."""
    synced_inodes = []
    real_fsync = os.fsync

    def fsync(fd):
        synced_inodes.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(publishing.os, "fsync", fsync)
    config = AdvocatesConfig(database=str(tmp_path / "a.duckdb"))
    with config.connect() as con:
        con.execute("CREATE TABLE scores AS SELECT 1 AS x")
    config.start_publish_copy()
    config.publish()
    # the published file is the background copy itself, synced before it was moved there
    assert os.stat(tmp_path / "a.duckdb").st_ino in synced_inodes
    assert _tables(tmp_path / "a.duckdb") == {"scores"}


def test_a_write_after_the_copy_started_is_published_too(tmp_path):
    config = AdvocatesConfig(database=str(tmp_path / "a.duckdb"))
    with config.connect() as con:
        con.execute("CREATE TABLE first AS SELECT 1 AS x")
    config.start_publish_copy()
    with config.connect() as con:
        con.execute("CREATE TABLE later AS SELECT 2 AS x")
    config.publish()
    assert _tables(tmp_path / "a.duckdb") == {"first", "later"}


def test_a_discarded_copy_leaves_the_published_database_as_it_was(tmp_path):
    config = AdvocatesConfig(database=str(tmp_path / "a.duckdb"))
    with config.connect() as con:
        con.execute("CREATE TABLE first AS SELECT 1 AS x")
    config.publish()
    before = (tmp_path / "a.duckdb").read_bytes()
    with config.connect() as con:
        con.execute("CREATE TABLE second AS SELECT 2 AS x")
    config.start_publish_copy()
    config.discard_publish_copy()
    assert (tmp_path / "a.duckdb").read_bytes() == before
    assert not (tmp_path / ".a.duckdb.tmp").exists()
