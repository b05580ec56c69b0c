"""Movement between two snapshots of the scores."""

import duckdb
import pytest

from pipelines.movement import build_movement
from pipelines.settings import DEFAULT_SETTINGS

COLUMNS = "as_of_date, brand, platform, account_id, handle, role, advocacy_score, criticisms"


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.advocate_score_history (as_of_date DATE, brand VARCHAR,"
        " platform VARCHAR, account_id VARCHAR, handle VARCHAR, role VARCHAR,"
        " advocacy_score DOUBLE, criticisms BIGINT)"
    )
    rows = [
        # before (2026-10-30)                      now (2026-10-31)
        ("2026-10-30", "a", "casual", 10, 0), ("2026-10-31", "a", "advocate", 60, 0),  # new
        ("2026-10-30", "b", "advocate", 40, 0), ("2026-10-31", "b", "advocate", 70, 0),  # rising
        ("2026-10-30", "c", "advocate", 80, 0), ("2026-10-31", "c", "detractor", 0, 3),  # critical
        ("2026-10-30", "d", "champion", 70, 0), ("2026-10-31", "d", "casual", 20, 0),  # lapsing
        ("2026-10-30", "e", "advocate", 50, 0), ("2026-10-31", "e", "advocate", 52, 0),  # steady
        ("2026-10-30", "f", "advocate", 50, 0),  # gone from the brand's audience: lapsing
        ("2026-10-31", "g", "champion", 90, 0),  # new this run
    ]
    for day, account, role, advocacy, criticisms in rows:
        con.execute(
            f"INSERT INTO marts.advocate_score_history ({COLUMNS}) VALUES (?, 'Acme', 'x', ?,"
            " ?, ?, ?, ?)",
            [day, account, account, role, advocacy, criticisms],
        )
    yield con
    con.close()


def test_each_kind_of_movement(con):
    assert build_movement(con, "2026-10-31", DEFAULT_SETTINGS) == 6
    moved = dict(con.execute(
        "SELECT account_id, movement FROM marts.advocate_movement").fetchall())
    assert moved == {
        "a": "new_advocate", "g": "new_advocate", "b": "rising", "c": "turned_critical",
        "d": "lapsing", "f": "lapsing",
    }


def test_first_snapshot_has_no_movement(con):
    assert build_movement(con, "2026-10-30", DEFAULT_SETTINGS) == 0
