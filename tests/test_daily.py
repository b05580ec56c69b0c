"""marts.daily_activity: days rebuilt whole, only the ones new records fell on."""

from __future__ import annotations

import duckdb

from pipelines.daily import mark_days_of_loads, refresh_daily_activity
from pipelines.warehouse import create_raw_schema


def _warehouse():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    create_raw_schema(con)
    con.execute("CREATE SCHEMA marts")
    con.execute("""CREATE TABLE marts.message_stance (brand VARCHAR, platform VARCHAR,
        author_id VARCHAR, created_at TIMESTAMPTZ, addressed_to_brand BOOLEAN,
        stance VARCHAR, is_defense BOOLEAN)""")
    con.execute("""CREATE TABLE marts.share_events (brand VARCHAR, platform VARCHAR,
        account_id VARCHAR, created_at TIMESTAMPTZ)""")
    return con


def _said(con, author, when, stance, load_id, defense=False):
    con.execute("INSERT INTO marts.message_stance VALUES ('Acme', 'x', ?, ?, true, ?, ?)",
                [author, when, stance, defense])
    con.execute("INSERT INTO raw.messages (platform, message_id, author_id, created_at, load_id)"
                " VALUES ('x', ?, ?, ?, ?)", [f"{author}{when}", author, when, load_id])


def _rows(con):
    return con.execute("SELECT account_id, day::VARCHAR, messages_about_brand, favor_messages,"
                       " criticisms, defenses, shares FROM marts.daily_activity"
                       " ORDER BY ALL").fetchall()


def test_each_message_counts_on_its_own_day_and_reruns_change_nothing():
    con = _warehouse()
    _said(con, "ann", "2026-10-01 23:30:00+00", "favor", 1)
    _said(con, "ann", "2026-10-02 00:30:00+00", "against", 1)
    _said(con, "bob", "2026-10-02 08:00:00+00", "favor", 1, defense=True)
    con.execute("INSERT INTO marts.share_events VALUES ('Acme', 'x', 'bob',"
                " '2026-10-01 10:00:00+00')")
    mark_days_of_loads(con, None)
    assert refresh_daily_activity(con, "2026-10-05") == 3  # two days with records, and the 5th
    expected = [("ann", "2026-10-01", 1, 1, 0, 0, 0), ("ann", "2026-10-02", 1, 0, 1, 0, 0),
                ("bob", "2026-10-01", 0, 0, 0, 0, 1), ("bob", "2026-10-02", 1, 0, 0, 1, 0)]
    assert _rows(con) == expected
    # a re-run and a backfill of any day give the same rows
    assert refresh_daily_activity(con, "2026-10-05") == 1
    assert refresh_daily_activity(con, "2026-10-02") == 1
    assert _rows(con) == expected


def test_only_the_days_new_records_fell_on_are_rebuilt():
    con = _warehouse()
    _said(con, "ann", "2026-10-01 12:00:00+00", "favor", 1)
    mark_days_of_loads(con, None)
    refresh_daily_activity(con, "2026-10-01")
    # a late message for the 1st arrives in load 2, with the nightly run for the 3rd
    _said(con, "cat", "2026-10-01 13:00:00+00", "against", 2)
    mark_days_of_loads(con, [2])
    assert refresh_daily_activity(con, "2026-10-03") == 2
    assert _rows(con) == [("ann", "2026-10-01", 1, 1, 0, 0, 0),
                          ("cat", "2026-10-01", 1, 0, 1, 0, 0)]
    # a day nothing new fell on is left as it was
    con.execute("DELETE FROM marts.message_stance WHERE author_id = 'ann'")
    refresh_daily_activity(con, "2026-10-04")
    assert ("ann", "2026-10-01", 1, 1, 0, 0, 0) in _rows(con)
