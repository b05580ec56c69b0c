"""The score history keeps recent snapshots daily and older ones monthly, one Parquet file
per as-of date, and what analysts read changes only when a run publishes."""

from datetime import date, timedelta

import duckdb
import pytest

from pipelines.movement import build_movement
from pipelines.resources import AdvocatesConfig
from pipelines.score_history import (
    SnapshotFolders,
    publish_snapshots,
    record_snapshot,
    snapshot_files,
    snapshots_to_drop,
)
from pipelines.settings import DEFAULT_SETTINGS


def _days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def test_old_snapshots_are_thinned_to_one_a_month():
    dates = _days("2026-01-10", "2026-06-30")  # a nightly run every day
    dropped = set(snapshots_to_drop(dates, 90, keep=date(2026, 6, 30)))
    kept = sorted(set(dates) - dropped)
    # 2026-06-30 minus 90 days is 2026-04-01: from there on every day is kept
    assert kept[:4] == [date(2026, 1, 10), date(2026, 2, 1), date(2026, 3, 1),
                        date(2026, 4, 1)]
    assert kept[3:] == _days("2026-04-01", "2026-06-30")
    assert len(kept) == 3 + 91


def test_nothing_is_dropped_without_a_limit_or_within_it():
    dates = _days("2026-01-01", "2026-03-31")
    assert snapshots_to_drop(dates, None, keep=dates[-1]) == []
    assert snapshots_to_drop(dates, 90, keep=dates[-1]) == []  # 89 days: all recent
    assert snapshots_to_drop([], 90, keep=dates[-1]) == []


def test_the_snapshot_just_written_is_kept_even_when_old():
    dates = [*_days("2026-01-01", "2026-01-20"), date(2026, 6, 30)]
    dropped = snapshots_to_drop(dates, 30, keep=date(2026, 1, 15))
    assert date(2026, 1, 15) not in dropped
    assert date(2026, 1, 1) not in dropped  # the first of its month
    assert len(dropped) == 18


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.advocate_scores (brand VARCHAR, platform VARCHAR,"
        " account_id VARCHAR, handle VARCHAR, role VARCHAR, advocacy_score DOUBLE,"
        " criticisms BIGINT, evidence_message_ids VARCHAR[])"
    )
    yield con
    con.close()


@pytest.fixture
def folders(tmp_path):
    return SnapshotFolders(published=tmp_path / "a.history", pending=tmp_path / ".work" / "h")


def _score(con, role: str, advocacy: float) -> None:
    con.execute("DELETE FROM marts.advocate_scores")
    con.execute("INSERT INTO marts.advocate_scores VALUES"
                " ('Acme', 'x', '1', 'ann', ?, ?, 0, ['m1'])", [role, advocacy])


def _snapshots(con) -> list[tuple[str, str]]:
    return [(d.isoformat(), role) for d, role in con.execute(
        "SELECT as_of_date, role FROM marts.advocate_score_history ORDER BY 1").fetchall()]


def _nightly(con, folders, day: str, daily_days: int | None = 90) -> int:
    """What a run does: record its snapshot, then publish it."""
    dropped = record_snapshot(con, folders, day, daily_days)
    for path in publish_snapshots([con], folders, daily_days):
        path.unlink()
    return dropped


def test_nightly_snapshots_are_thinned_and_a_backfill_is_compared(con, folders):
    for day in _days("2026-01-01", "2026-05-10"):
        _score(con, "advocate", 60)
        _nightly(con, folders, day.isoformat())
    kept = [d for d, _ in _snapshots(con)]
    assert kept[:2] == ["2026-01-01", "2026-02-01"]  # 2026-05-10 minus 90 days: 2026-02-09
    assert kept[2:] == [d.isoformat() for d in _days("2026-02-09", "2026-05-10")]
    # one file per kept snapshot, and no other
    assert sorted(d.isoformat() for d in snapshot_files(folders.published)) == kept
    # re-running a day replaces its snapshot
    _score(con, "casual", 10)
    assert _nightly(con, folders, "2026-05-10") == 0
    assert _snapshots(con)[-1] == ("2026-05-10", "casual")
    assert len(_snapshots(con)) == len(kept)
    # a backfill of a thinned-out day is kept for its own run, and compared with the
    # snapshot before it (the month's first)
    _score(con, "casual", 10)
    _nightly(con, folders, "2026-01-20")
    assert ("2026-01-20", "casual") in _snapshots(con)
    assert build_movement(con, "2026-01-20", DEFAULT_SETTINGS) == 1
    assert con.execute("SELECT movement, previous_as_of_date::VARCHAR FROM"
                       " marts.advocate_movement").fetchall() == [("lapsing", "2026-01-01")]
    # ...and thinned by the next nightly run, its file with it
    _score(con, "advocate", 60)
    assert _nightly(con, folders, "2026-05-11") == 2  # 2026-01-20 and 2026-02-09
    assert "2026-01-20" not in [d for d, _ in _snapshots(con)]
    assert date(2026, 1, 20) not in snapshot_files(folders.published)


def test_a_snapshot_is_published_only_with_the_run(con, folders):
    _score(con, "advocate", 60)
    _nightly(con, folders, "2026-03-01")
    _score(con, "casual", 5)
    record_snapshot(con, folders, "2026-03-02", 90)
    # the run itself (movement, the report) sees its own snapshot...
    assert _snapshots(con) == [("2026-03-01", "advocate"), ("2026-03-02", "casual")]
    # ...analysts' folder does not, until the run publishes
    assert list(snapshot_files(folders.published)) == [date(2026, 3, 1)]
    # a run that failed is superseded by the next one: its pending snapshot goes
    _score(con, "champion", 90)
    record_snapshot(con, folders, "2026-03-03", 90)
    assert list(snapshot_files(folders.pending)) == [date(2026, 3, 3)]
    assert publish_snapshots([con], folders, 90) == []
    assert _snapshots(con) == [("2026-03-01", "advocate"), ("2026-03-03", "champion")]
    assert not snapshot_files(folders.pending)


def test_a_history_table_of_an_older_database_moves_to_files(con, folders):
    con.execute("CREATE TABLE marts.advocate_score_history AS"
                " SELECT DATE '2026-02-01' AS as_of_date, * EXCLUDE (evidence_message_ids)"
                " FROM marts.advocate_scores")
    _score(con, "advocate", 60)
    con.execute("INSERT INTO marts.advocate_score_history SELECT DATE '2026-02-01',"
                " * EXCLUDE (evidence_message_ids) FROM marts.advocate_scores")
    _score(con, "casual", 0)
    _nightly(con, folders, "2026-02-02")
    assert _snapshots(con) == [("2026-02-01", "advocate"), ("2026-02-02", "casual")]
    assert sorted(snapshot_files(folders.published)) == [date(2026, 2, 1), date(2026, 2, 2)]
    kind = con.execute("SELECT table_type FROM information_schema.tables"
                       " WHERE table_name = 'advocate_score_history'").fetchone()
    assert kind == ("VIEW",)


def test_the_published_database_reads_the_published_snapshots(tmp_path):
    """The whole round: a run's working database writes a snapshot, publish moves it beside
    the published database, whose view reads it (opened read-only, as analysts do)."""
    config = AdvocatesConfig(database=str(tmp_path / "out" / "a.duckdb"))
    for day, role in (("2026-04-01", "advocate"), ("2026-04-02", "detractor")):
        with config.connect() as con:
            con.execute("CREATE OR REPLACE TABLE marts.advocate_scores AS SELECT 'Acme' AS brand,"
                        " 'x' AS platform, '1' AS account_id, ? AS role, ['m'] AS"
                        " evidence_message_ids", [role])
            record_snapshot(con, config.history_folders, day, 90)
        config.publish()
    assert config.history_folders.published == (tmp_path / "out" / "a.history").resolve()
    analyst = duckdb.connect(str(tmp_path / "out" / "a.duckdb"), read_only=True)
    assert analyst.execute("SELECT as_of_date::VARCHAR, role FROM"
                           " marts.advocate_score_history ORDER BY 1").fetchall() == [
        ("2026-04-01", "advocate"), ("2026-04-02", "detractor")]
    analyst.close()
