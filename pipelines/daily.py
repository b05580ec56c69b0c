"""Daily activity: each message and share lands in the day partition of its own date (UTC).

``marts.daily_activity`` holds one row per (brand, platform, account_id, day): what the
account said about the brand that day, how, and what it shared. It is how a community manager
sees an advocate go quiet or turn critical, day by day.

Only days that can have changed are rebuilt, each as a whole (delete the day, insert it), so
re-running or backfilling any day gives the same rows. Which days: those of every message and
action that staging took in since the table was last refreshed (``state.pending_days``,
filled by ``pipelines.staging_refresh``; all days after a rebuild of staging) and the run's
own partition day.
"""

from __future__ import annotations

import duckdb

DAILY_COLUMNS = """
    brand VARCHAR, platform VARCHAR, account_id VARCHAR, day DATE,
    messages_about_brand BIGINT, messages_to_brand BIGINT, favor_messages BIGINT,
    criticisms BIGINT, defenses BIGINT, shares BIGINT
"""


def create_pending_days(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS state")
    con.execute("CREATE TABLE IF NOT EXISTS state.pending_days (day DATE)")


def mark_days_of_loads(con: duckdb.DuckDBPyConnection, load_ids: list[int] | None) -> None:
    """Queue the days of the messages and actions of ``load_ids`` (None: every load) for
    ``refresh_daily_activity``."""
    create_pending_days(con)
    scope = "" if load_ids is None else "WHERE load_id IN (SELECT unnest($loads))"
    con.execute(
        f"""
        INSERT INTO state.pending_days
        SELECT DISTINCT created_at::DATE FROM raw.messages {scope}
        UNION
        SELECT DISTINCT created_at::DATE FROM raw.actions {scope}
        """,
        {} if load_ids is None else {"loads": load_ids},
    )


def refresh_daily_activity(con: duckdb.DuckDBPyConnection, partition_day: str) -> int:
    """Rebuild the pending days and ``partition_day`` in ``marts.daily_activity``; return how
    many days were rebuilt. Reads ``marts.message_stance`` and ``marts.share_events``."""
    create_pending_days(con)
    con.execute(f"CREATE TABLE IF NOT EXISTS marts.daily_activity ({DAILY_COLUMNS})")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _days AS
            SELECT DISTINCT day FROM state.pending_days WHERE day IS NOT NULL
            UNION SELECT $day::DATE
            """,
            {"day": partition_day},
        )
        con.execute("DELETE FROM marts.daily_activity WHERE day IN (SELECT day FROM _days)")
        con.execute(
            """
            INSERT INTO marts.daily_activity
            WITH said AS (
                SELECT brand, platform, author_id AS account_id, created_at::DATE AS day,
                       count(*) AS messages_about_brand,
                       count(*) FILTER (WHERE addressed_to_brand) AS messages_to_brand,
                       count(*) FILTER (WHERE stance = 'favor' AND NOT is_defense)
                           AS favor_messages,
                       count(*) FILTER (WHERE stance = 'against') AS criticisms,
                       count(*) FILTER (WHERE is_defense) AS defenses
                FROM marts.message_stance
                WHERE created_at::DATE IN (SELECT day FROM _days)
                GROUP BY ALL
            ),
            shared AS (
                SELECT brand, platform, account_id, created_at::DATE AS day, count(*) AS shares
                FROM marts.share_events
                WHERE created_at::DATE IN (SELECT day FROM _days)
                GROUP BY ALL
            )
            SELECT brand, platform, account_id, day,
                   coalesce(s.messages_about_brand, 0), coalesce(s.messages_to_brand, 0),
                   coalesce(s.favor_messages, 0), coalesce(s.criticisms, 0),
                   coalesce(s.defenses, 0), coalesce(h.shares, 0)
            FROM said s FULL JOIN shared h USING (brand, platform, account_id, day)
            """
        )
        days = con.execute("SELECT count(*) FROM _days").fetchone()[0]
        con.execute("DELETE FROM state.pending_days")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    con.execute("DROP TABLE IF EXISTS _days")
    return days
