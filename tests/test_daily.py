"""marts.daily_activity: each message counted on its own day, only changed rows rewritten."""

from __future__ import annotations

import duckdb

from pipelines.daily import refresh_daily_activity


def _warehouse():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE SCHEMA marts")
    con.execute("""CREATE TABLE marts.message_stance (brand VARCHAR, platform VARCHAR,
        author_id VARCHAR, created_at TIMESTAMPTZ, addressed_to_brand BOOLEAN,
        stance VARCHAR, is_defense BOOLEAN)""")
    con.execute("""CREATE TABLE marts.share_events (brand VARCHAR, platform VARCHAR,
        account_id VARCHAR, created_at TIMESTAMPTZ)""")
    return con


def _said(con, author, when, stance, defense=False):
    con.execute("INSERT INTO marts.message_stance VALUES ('Acme', 'x', ?, ?, true, ?, ?)",
                [author, when, stance, defense])


def _rows(con):
    return con.execute("SELECT account_id, day::VARCHAR, messages_about_brand, favor_messages,"
                       " criticisms, defenses, shares FROM marts.daily_activity"
                       " ORDER BY ALL").fetchall()


def test_each_message_counts_on_its_own_day_and_reruns_change_nothing():
    con = _warehouse()
    _said(con, "ann", "2026-10-01 23:30:00+00", "favor")
    _said(con, "ann", "2026-10-02 00:30:00+00", "against")
    _said(con, "bob", "2026-10-02 08:00:00+00", "favor", defense=True)
    con.execute("INSERT INTO marts.share_events VALUES ('Acme', 'x', 'bob',"
                " '2026-10-01 10:00:00+00'), ('Acme', 'x', 'bob', NULL)")
    assert refresh_daily_activity(con) == {"rows_removed": 0, "rows_added": 4,
                                           "days_changed": 2}
    expected = [("ann", "2026-10-01", 1, 1, 0, 0, 0), ("ann", "2026-10-02", 1, 0, 1, 0, 0),
                ("bob", "2026-10-01", 0, 0, 0, 0, 1), ("bob", "2026-10-02", 1, 0, 0, 1, 0)]
    assert _rows(con) == expected
    assert refresh_daily_activity(con) == {"rows_removed": 0, "rows_added": 0,
                                           "days_changed": 0}
    assert _rows(con) == expected


def test_only_changed_days_are_rewritten_and_late_or_moved_records_land_right():
    con = _warehouse()
    _said(con, "ann", "2026-10-01 12:00:00+00", "favor")
    _said(con, "cat", "2026-10-03 12:00:00+00", "favor")
    refresh_daily_activity(con)
    # a late message for the 1st, and cat's message re-judged as against
    _said(con, "dan", "2026-10-01 13:00:00+00", "against")
    con.execute("UPDATE marts.message_stance SET stance = 'against' WHERE author_id = 'cat'")
    assert refresh_daily_activity(con) == {"rows_removed": 1, "rows_added": 2,
                                           "days_changed": 2}
    assert _rows(con) == [("ann", "2026-10-01", 1, 1, 0, 0, 0),
                          ("cat", "2026-10-03", 1, 0, 1, 0, 0),
                          ("dan", "2026-10-01", 1, 0, 1, 0, 0)]
    # a message that moved to another day, and one that is gone
    con.execute("UPDATE marts.message_stance SET created_at = '2026-10-02 09:00:00+00'"
                " WHERE author_id = 'ann'")
    con.execute("DELETE FROM marts.message_stance WHERE author_id = 'dan'")
    refresh_daily_activity(con)
    assert _rows(con) == [("ann", "2026-10-02", 1, 1, 0, 0, 0),
                          ("cat", "2026-10-03", 1, 0, 1, 0, 0)]
