"""``marts.advocate_score_history``: a snapshot of ``marts.advocate_scores`` per as-of date,
kept within bounds.

Each daily run writes the whole scores table again (about 90 MB a night at ten million
interactions), so keeping every snapshot would grow the database without end. Snapshots of the
last ``ScoringSettings.history_daily_days`` days before the newest are all kept; older ones are
thinned to the first snapshot of each calendar month, which keeps a monthly trend. The
snapshot a run has just written is always kept, so a backfill of an old day can still be
compared with the snapshot before it (``pipelines.movement``); the next run thins it.
"""

from __future__ import annotations

from datetime import date

import duckdb


def record_snapshot(
    con: duckdb.DuckDBPyConnection, as_of_date: str, daily_days: int | None
) -> int:
    """Write ``marts.advocate_scores`` as the snapshot of ``as_of_date`` (replacing one
    written before for that date), then thin old snapshots; returns how many were dropped."""
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS marts.advocate_score_history AS
        SELECT CAST(NULL AS DATE) AS as_of_date, * EXCLUDE (evidence_message_ids)
        FROM marts.advocate_scores WHERE false
        """
    )
    con.execute("DELETE FROM marts.advocate_score_history WHERE as_of_date = ?", [as_of_date])
    con.execute(
        """
        INSERT INTO marts.advocate_score_history BY NAME
        SELECT CAST(? AS DATE) AS as_of_date, * EXCLUDE (evidence_message_ids)
        FROM marts.advocate_scores
        """,
        [as_of_date],
    )
    return thin_snapshots(con, as_of_date, daily_days)


def snapshots_to_drop(dates: list[date], daily_days: int | None, keep: date) -> list[date]:
    """Which of the snapshot ``dates`` to drop: those more than ``daily_days`` days before the
    newest that are not the first of their month, never ``keep``. ``None`` keeps them all."""
    if daily_days is None or not dates:
        return []
    newest = max(dates)
    first_of_month: dict[tuple[int, int], date] = {}
    for day in sorted(dates):
        first_of_month.setdefault((day.year, day.month), day)
    kept_months = set(first_of_month.values())
    return sorted(
        day for day in set(dates)
        if (newest - day).days > daily_days and day not in kept_months and day != keep
    )


def thin_snapshots(
    con: duckdb.DuckDBPyConnection, keep: str, daily_days: int | None
) -> int:
    """Drop the snapshots ``snapshots_to_drop`` names (``keep``: the date just written)."""
    dates = [r[0] for r in con.execute(
        "SELECT DISTINCT as_of_date FROM marts.advocate_score_history").fetchall()]
    drop = snapshots_to_drop(dates, daily_days, date.fromisoformat(keep))
    if drop:
        con.execute("DELETE FROM marts.advocate_score_history"
                    " WHERE list_contains(?::DATE[], as_of_date)", [drop])
    return len(drop)
