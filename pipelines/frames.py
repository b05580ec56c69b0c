"""Handing Polars frames to DuckDB.

DuckDB reads a Polars frame through Arrow. By default Polars exports its strings as Arrow
``large_string``, which copies every string (ten million actions: 1.6 GB more memory and
time to copy them); exported as ``string_view``, the Arrow columns share Polars' own buffers
and DuckDB reads them as they are.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa


def for_duckdb(frame: pl.DataFrame) -> pa.Table:
    """``frame`` as an Arrow table that shares its buffers (strings as ``string_view``), to
    register in DuckDB or to read by name in a query."""
    return frame.to_arrow(compat_level=pl.CompatLevel.newest())
