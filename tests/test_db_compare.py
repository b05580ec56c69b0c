"""Two warehouses compared table by table: what counts as the same, and what is reported."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.db_compare import compare_databases

ACCOUNTS = [("x", "ann", 0), ("x", "bob", 1), ("y", "cat", 2)]
PAGERANK = {"ann": 0.5, "bob": 0.3, "cat": 0.2}


def _warehouse(path, accounts=ACCOUNTS, pagerank=PAGERANK, extra_rows=(), drop_table=None):
    con = duckdb.connect(str(path))
    for schema in ("raw", "staging", "marts"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute("CREATE TABLE staging.accounts (platform VARCHAR, account_id VARCHAR,"
                " account_key BIGINT)")
    con.executemany("INSERT INTO staging.accounts VALUES (?, ?, ?)",
                    [*accounts, *extra_rows])
    con.execute("CREATE TABLE marts.account_graph_metrics (platform VARCHAR,"
                " account_id VARCHAR, account_key BIGINT, pagerank DOUBLE,"
                " pagerank_ratio DOUBLE, weighted_in_degree DOUBLE, amplification BIGINT)")
    con.executemany("INSERT INTO marts.account_graph_metrics VALUES (?, ?, ?, ?, ?, 1.0, 0)",
                    [(p, a, k, pagerank[a], pagerank[a] * 3) for p, a, k in accounts])
    con.execute("CREATE TABLE raw.files (source_file VARCHAR, loaded_at TIMESTAMP)")
    con.execute("INSERT INTO raw.files VALUES ('a.csv', now())")
    if drop_table:
        con.execute(f"DROP TABLE {drop_table}")
    con.close()
    return path


def _by_table(comparisons):
    return {c.table: c for c in comparisons}


def test_the_same_records_numbered_in_another_order_are_the_same(tmp_path):
    reference = _warehouse(tmp_path / "scratch.duckdb")
    renumbered = [(p, a, 2 - k) for p, a, k in ACCOUNTS]  # keys given in another order
    # PageRank summed in another order: the last bits differ
    nudged = {a: v * (1 + 1e-14) for a, v in PAGERANK.items()}
    checked = _warehouse(tmp_path / "nightly.duckdb", renumbered, nudged)
    result = _by_table(compare_databases(checked, reference))
    assert set(result) == {"staging.accounts", "marts.account_graph_metrics"}  # no raw.files
    assert all(c.same for c in result.values())
    assert result["staging.accounts"].rows == 3
    assert 0 < result["marts.account_graph_metrics"].largest_relative_difference < 1e-13


def test_a_doubled_a_missing_and_a_changed_row_are_reported(tmp_path):
    reference = _warehouse(tmp_path / "scratch.duckdb")
    doubled = _warehouse(tmp_path / "doubled.duckdb", extra_rows=[("x", "ann", 0)])
    accounts = _by_table(compare_databases(doubled, reference))["staging.accounts"]
    assert (accounts.only_checked, accounts.only_reference) == (1, 0)

    missing = _warehouse(tmp_path / "missing.duckdb", ACCOUNTS[:2], PAGERANK)
    result = _by_table(compare_databases(missing, reference))
    assert (result["staging.accounts"].only_checked,
            result["staging.accounts"].only_reference) == (0, 1)
    assert result["marts.account_graph_metrics"].only_reference == 1

    off = _warehouse(tmp_path / "off.duckdb", pagerank={**PAGERANK, "bob": 0.303})
    metrics = _by_table(compare_databases(off, reference))["marts.account_graph_metrics"]
    assert (metrics.only_checked, metrics.only_reference) == (1, 1)  # bob's row, both ways
    assert metrics.largest_relative_difference == pytest.approx(0.003 / 0.303)


def test_a_table_the_checked_database_lacks_counts_all_its_rows_missing(tmp_path):
    reference = _warehouse(tmp_path / "scratch.duckdb")
    checked = _warehouse(tmp_path / "nightly.duckdb", drop_table="marts.account_graph_metrics")
    metrics = _by_table(compare_databases(checked, reference))["marts.account_graph_metrics"]
    assert (metrics.rows, metrics.only_checked, metrics.only_reference) == (3, 0, 3)
    assert not metrics.same
