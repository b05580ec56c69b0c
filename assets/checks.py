"""Asset check results the layers share."""

import dagster as dg
import duckdb

from pipelines.warehouse import duplicated_keys


def unique_keys(con: duckdb.DuckDBPyConnection, check_name: str, table: str,
                keys: str) -> dg.AssetCheckResult:
    """Passes when no value of ``keys`` (a column list) occurs twice in ``table``."""
    dupes = duplicated_keys(con, table, keys)
    return dg.AssetCheckResult(check_name=check_name, passed=dupes == 0,
                               metadata={"duplicated_keys": dupes})
