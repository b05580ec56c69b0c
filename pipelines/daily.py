"""Daily activity: each message and share lands in the day partition of its own date (UTC).

``marts.daily_activity`` holds one row per (brand, platform, account_id, day): what the
account said about the brand that day, how, and what it shared. It is how a community manager
sees an advocate go quiet or turn critical, day by day.

Each run works the day counts out again from the message-level marts (a GROUP BY, cheap next
to judging stance) and changes only the rows that differ: a late export of last week changes
last week, a reply whose parent just arrived moves into the brand's counts on its own day,
and a day nothing touched is left as it is. Re-running or backfilling any day therefore gives
the same rows.
"""

from __future__ import annotations

import duckdb

from pipelines.sql_time import utc_day

DAILY_COLUMNS = """
    brand VARCHAR, platform VARCHAR, account_id VARCHAR, day DATE,
    messages_about_brand BIGINT, messages_to_brand BIGINT, favor_messages BIGINT,
    criticisms BIGINT, defenses BIGINT, shares BIGINT
"""
DAILY_COUNTS = f"""
    WITH said AS (
        SELECT brand, platform, author_id AS account_id, {utc_day('created_at')} AS day,
               count(*) AS messages_about_brand,
               count(*) FILTER (WHERE addressed_to_brand) AS messages_to_brand,
               count(*) FILTER (WHERE stance = 'favor' AND NOT is_defense) AS favor_messages,
               count(*) FILTER (WHERE stance = 'against') AS criticisms,
               count(*) FILTER (WHERE is_defense) AS defenses
        FROM marts.message_stance WHERE created_at IS NOT NULL
        GROUP BY ALL
    ),
    shared AS (
        SELECT brand, platform, account_id, {utc_day('created_at')} AS day, count(*) AS shares
        FROM marts.share_events WHERE created_at IS NOT NULL
        GROUP BY ALL
    )
    SELECT brand, platform, account_id, day,
           coalesce(s.messages_about_brand, 0) AS messages_about_brand,
           coalesce(s.messages_to_brand, 0) AS messages_to_brand,
           coalesce(s.favor_messages, 0) AS favor_messages,
           coalesce(s.criticisms, 0) AS criticisms,
           coalesce(s.defenses, 0) AS defenses, coalesce(h.shares, 0) AS shares
    FROM said s FULL JOIN shared h USING (brand, platform, account_id, day)
"""


def refresh_daily_activity(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Bring ``marts.daily_activity`` in line with ``marts.message_stance`` and
    ``marts.share_events``, changing only rows that differ. Returns how many rows were
    removed and added, and on how many days."""
    con.execute(f"CREATE TABLE IF NOT EXISTS marts.daily_activity ({DAILY_COLUMNS})")
    # One join of the counts with the stored rows finds both what changed and what is new
    # or gone (two EXCEPTs would hash both tables twice); a row of a side with no match is
    # all NULLs, and its key (never NULL) tells it apart.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _daily_diff AS
        WITH counted AS ({DAILY_COUNTS})
        SELECT n AS counted_row, n.day IS NOT NULL AS counted,
               o AS stored_row, o.day IS NOT NULL AS stored
        FROM counted n
        FULL JOIN marts.daily_activity o
          ON o.brand = n.brand AND o.platform = n.platform
         AND o.account_id = n.account_id AND o.day = n.day
        WHERE n IS DISTINCT FROM o""")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("""
            DELETE FROM marts.daily_activity d
            USING (SELECT unnest(stored_row) FROM _daily_diff WHERE stored) g
            WHERE d.brand = g.brand AND d.platform = g.platform
              AND d.account_id = g.account_id AND d.day = g.day""")
        con.execute("INSERT INTO marts.daily_activity BY NAME"
                    " SELECT unnest(counted_row) FROM _daily_diff WHERE counted")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    removed, added, days = con.execute("""
        SELECT count(*) FILTER (WHERE stored), count(*) FILTER (WHERE counted),
               count(DISTINCT coalesce(counted_row.day, stored_row.day))
        FROM _daily_diff
    """).fetchone()
    con.execute("DROP TABLE _daily_diff")
    return {"rows_removed": removed, "rows_added": added, "days_changed": days}
