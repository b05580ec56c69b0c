"""The epoch arithmetic in ``pipelines.sql_time`` gives what DuckDB's calendar functions give."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.sql_time import decay, utc_day, whole_minutes_between, whole_seconds_between

STAMPS = [
    "2026-10-31 00:00:00+00",
    "2026-10-30 23:59:59.999999+00",
    "2026-10-30 12:00:00.5+00",
    "2026-01-01 00:00:00.9+00",
    "2024-02-29 23:59:59+00",
    "2000-01-01 00:00:00+00",
    "1970-01-01 00:00:00+00",
    "1969-12-31 23:59:59.2+00",
    "1969-12-31 23:00:00+00",
    "1960-06-15 08:30:00.75+00",
]


@pytest.fixture()
def con():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE t (a TIMESTAMPTZ, b TIMESTAMPTZ)")
    con.executemany("INSERT INTO t VALUES (?::TIMESTAMPTZ, ?::TIMESTAMPTZ)",
                    [[a, b] for a in STAMPS for b in STAMPS])
    con.execute("INSERT INTO t VALUES (NULL, '2026-10-31 00:00:00+00')")
    yield con
    con.close()


def test_whole_seconds_and_minutes_match_date_diff(con):
    rows = con.execute(f"""
        SELECT a, b, date_diff('second', a, b), {whole_seconds_between('a', 'b')},
               date_diff('minute', a, b), {whole_minutes_between('a', 'b')}
        FROM t WHERE a IS NOT NULL""").fetchall()
    assert len(rows) == len(STAMPS) ** 2
    for a, b, seconds, ours_s, minutes, ours_m in rows:
        assert (ours_s, ours_m) == (seconds, minutes), (a, b)


def test_utc_day_matches_a_utc_date_cast(con):
    rows = con.execute(f"SELECT a, a::DATE, {utc_day('a')} FROM t").fetchall()
    assert {r[0] for r in rows} >= {None}
    for stamp, cast, ours in rows:
        assert ours == cast, stamp


def test_decay_halves_every_half_life_and_is_one_from_the_as_of_date_on(con):
    as_of = "TIMESTAMPTZ '2026-10-31 00:00:00+00'"
    got = con.execute(f"""
        SELECT {decay("TIMESTAMPTZ '2026-10-24 00:00:00+00'", as_of, '7')},
               {decay("TIMESTAMPTZ '2026-10-17 00:00:00+00'", as_of, '7')},
               {decay("TIMESTAMPTZ '2026-10-31 00:00:00+00'", as_of, '7')},
               {decay("TIMESTAMPTZ '2026-11-05 00:00:00+00'", as_of, '7')}""").fetchone()
    assert got == pytest.approx((0.5, 0.25, 1.0, 1.0))
