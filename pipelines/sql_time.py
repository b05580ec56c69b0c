"""SQL for time arithmetic on TIMESTAMPTZ columns, without the time-zone library.

DuckDB works out ``date_diff`` and ``::DATE`` on a TIMESTAMPTZ through ICU calendars, about
ten times slower than integer arithmetic on its epoch microseconds; over the ten million
interactions of a large history that is seconds per statement. Every timestamp here is UTC,
so the epoch arithmetic gives the same values: whole seconds and days counted the way
``date_diff`` and a UTC ``::DATE`` count them (each end cut to the second or the day first).
"""

from __future__ import annotations

_US_PER_SECOND = 1_000_000
_US_PER_MINUTE = 60 * _US_PER_SECOND
_US_PER_DAY = 86_400 * _US_PER_SECOND


def _units(column: str, unit_us: int) -> str:
    # whole units since the epoch, rounded down (also before 1970, where ``//`` would round
    # toward zero); exact in doubles for any date before the year 2200
    return f"CAST(floor(epoch_us({column}) / {unit_us}) AS BIGINT)"


def whole_seconds_between(start: str, end: str) -> str:
    """``date_diff('second', start, end)``: seconds from ``start`` to ``end``."""
    return f"({_units(end, _US_PER_SECOND)} - {_units(start, _US_PER_SECOND)})"


def whole_minutes_between(start: str, end: str) -> str:
    """``date_diff('minute', start, end)``: minutes from ``start`` to ``end``."""
    return f"({_units(end, _US_PER_MINUTE)} - {_units(start, _US_PER_MINUTE)})"


def utc_day(column: str) -> str:
    """The UTC date of ``column`` (``column::DATE`` with TimeZone UTC), null stays null."""
    return f"(DATE '1970-01-01' + CAST({_units(column, _US_PER_DAY)} AS INTEGER))"


def decay(column: str, as_of: str, half_life: str) -> str:
    """The recency weight of an event at ``column``: 1 at ``as_of`` (and after it), halving
    every ``half_life`` days before it."""
    age_days = f"{whole_seconds_between(column, as_of)} / 86400.0"
    return f"pow(0.5, greatest({age_days}, 0) / {half_life})"
