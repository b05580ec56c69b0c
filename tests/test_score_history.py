"""The score history keeps recent snapshots daily and older ones monthly."""

from datetime import date, timedelta

import duckdb
import pytest

from pipelines.movement import build_movement
from pipelines.score_history import record_snapshot, snapshots_to_drop
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


def _score(con, role: str, advocacy: float) -> None:
    con.execute("DELETE FROM marts.advocate_scores")
    con.execute("INSERT INTO marts.advocate_scores VALUES"
                " ('Acme', 'x', '1', 'ann', ?, ?, 0, ['m1'])", [role, advocacy])


def _snapshots(con) -> list[tuple[str, str]]:
    return [(d.isoformat(), role) for d, role in con.execute(
        "SELECT as_of_date, role FROM marts.advocate_score_history ORDER BY 1").fetchall()]


def test_nightly_snapshots_are_thinned_and_a_backfill_is_compared(con):
    for day in _days("2026-01-01", "2026-05-10"):
        _score(con, "advocate", 60)
        record_snapshot(con, day.isoformat(), 90)
    kept = [d for d, _ in _snapshots(con)]
    assert kept[:2] == ["2026-01-01", "2026-02-01"]  # 2026-05-10 minus 90 days: 2026-02-09
    assert kept[2:] == [d.isoformat() for d in _days("2026-02-09", "2026-05-10")]
    # re-running a day replaces its snapshot
    _score(con, "casual", 10)
    assert record_snapshot(con, "2026-05-10", 90) == 0
    assert _snapshots(con)[-1] == ("2026-05-10", "casual")
    assert len(_snapshots(con)) == len(kept)
    # a backfill of a thinned-out day is kept for its own run, and compared with the
    # snapshot before it (the month's first)
    _score(con, "casual", 10)
    record_snapshot(con, "2026-01-20", 90)
    assert ("2026-01-20", "casual") in _snapshots(con)
    assert build_movement(con, "2026-01-20", DEFAULT_SETTINGS) == 1
    assert con.execute("SELECT movement, previous_as_of_date::VARCHAR FROM"
                       " marts.advocate_movement").fetchall() == [("lapsing", "2026-01-01")]
    # ...and thinned by the next nightly run
    _score(con, "advocate", 60)
    assert record_snapshot(con, "2026-05-11", 90) == 2  # 2026-01-20 and 2026-02-09
    assert "2026-01-20" not in [d for d, _ in _snapshots(con)]
