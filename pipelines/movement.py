"""Movement between two runs: who became an advocate, who is rising, who is lapsing, and who
turned critical, comparing this as-of date's snapshot with the previous one in
``marts.advocate_score_history``.

``marts.advocate_movement``: one row per (brand, platform, account_id) that moved, with
``movement`` one of

- ``new_advocate``: an advocate or champion now, not at the previous snapshot;
- ``rising``: advocacy up by at least ``movement_score_change`` points (and not new);
- ``turned_critical``: an advocate or champion before, a detractor now, or criticising the
  brand since (criticisms up) with advocacy down;
- ``lapsing``: an advocate or champion before, neither now (and not turned critical), or
  advocacy down by at least ``movement_score_change`` points.

Community managers thank the first two, answer the third, and re-engage the fourth.
"""

from __future__ import annotations

import duckdb

from pipelines.settings import ScoringSettings

ADVOCATE_ROLES = ("champion", "advocate")


def build_movement(
    con: duckdb.DuckDBPyConnection, as_of_date: str, settings: ScoringSettings
) -> int:
    """Rebuild ``marts.advocate_movement`` for ``as_of_date``; returns its row count (0 when
    there is no earlier snapshot to compare with)."""
    con.execute(
        """
        CREATE OR REPLACE TABLE marts.advocate_movement AS
        WITH now AS (
            SELECT * FROM marts.advocate_score_history WHERE as_of_date = $as_of::DATE
        ),
        previous_date AS (
            SELECT brand, max(as_of_date) AS as_of_date FROM marts.advocate_score_history
            WHERE as_of_date < $as_of::DATE GROUP BY ALL
        ),
        before AS (
            SELECT h.* FROM marts.advocate_score_history h
            JOIN previous_date p USING (brand, as_of_date)
        ),
        paired AS (
            SELECT coalesce(n.brand, b.brand) AS brand,
                   coalesce(n.platform, b.platform) AS platform,
                   coalesce(n.account_id, b.account_id) AS account_id,
                   coalesce(n.handle, b.handle) AS handle,
                   b.as_of_date AS previous_as_of_date, $as_of::DATE AS as_of_date,
                   b.role AS previous_role, coalesce(n.role, 'casual') AS role,
                   coalesce(b.advocacy_score, 0) AS previous_advocacy,
                   coalesce(n.advocacy_score, 0) AS advocacy,
                   coalesce(b.criticisms, 0) AS previous_criticisms,
                   coalesce(n.criticisms, 0) AS criticisms,
                   coalesce(b.role IN $roles, false) AS was_advocate,
                   coalesce(n.role IN $roles, false) AS is_advocate
            FROM now n
            FULL JOIN before b USING (brand, platform, account_id)
            WHERE EXISTS (SELECT 1 FROM previous_date p WHERE p.brand = coalesce(n.brand, b.brand))
        ),
        classified AS (
            SELECT *,
                   CASE
                     WHEN was_advocate AND (role = 'detractor'
                          OR (criticisms > previous_criticisms AND advocacy < previous_advocacy))
                       THEN 'turned_critical'
                     WHEN is_advocate AND NOT was_advocate THEN 'new_advocate'
                     WHEN advocacy - previous_advocacy >= $change THEN 'rising'
                     WHEN (was_advocate AND NOT is_advocate)
                          OR previous_advocacy - advocacy >= $change THEN 'lapsing'
                   END AS movement
            FROM paired
        )
        SELECT brand, platform, account_id, handle, movement, previous_role, role,
               previous_advocacy, advocacy, round(advocacy - previous_advocacy, 2) AS change,
               previous_criticisms, criticisms, previous_as_of_date, as_of_date
        FROM classified WHERE movement IS NOT NULL
        ORDER BY brand, movement, abs(advocacy - previous_advocacy) DESC, account_id
        """,
        {"as_of": as_of_date, "roles": list(ADVOCATE_ROLES),
         "change": settings.movement_score_change},
    )
    return con.execute("SELECT count(*) FROM marts.advocate_movement").fetchone()[0]
