"""Two warehouses compared table by table, row for row: does a database built night by night
hold what one built from scratch over the same files holds?

Every base table of the reference's ``raw``, ``staging`` and ``marts`` schemas is compared with
the same table of the database checked, on all its columns but the few that depend on the
order records arrived in rather than on the records:

- account keys (``staging.accounts`` numbers accounts as they first appear);
- load ids (one per file load);
- PageRank and the weighted in-degree. These are sums of floating-point numbers, added up in
  another order when the accounts are numbered differently, so they are compared by relative
  difference, not bit for bit.

``raw.files`` (load times) and ``marts.advocate_movement`` (it depends on the snapshots a
database has seen, not on its records) are left out. A table the checked database lacks
counts all its rows as missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.formats.common import sql_str

SCHEMAS = ("raw", "staging", "marts")
SKIPPED = {"raw.files", "marts.advocate_movement"}
ORDER_DEPENDENT = {"account_key", "actor_key", "target_key", "load_id"}
# table: (its key, its floating-point sums compared by relative difference)
CLOSE = {
    "marts.account_graph_metrics": (("platform", "account_id"),
                                    ("pagerank", "pagerank_ratio", "weighted_in_degree")),
    "marts.advocate_scores": (("brand", "platform", "account_id"),
                              ("pagerank", "pagerank_ratio")),
}


@dataclass(frozen=True)
class TableComparison:
    table: str
    rows: int  # in the reference
    only_checked: int  # rows of the database checked that the reference does not hold
    only_reference: int  # rows of the reference that the database checked does not hold
    largest_relative_difference: float | None = None  # of the CLOSE columns, if any

    @property
    def same(self) -> bool:
        return self.only_checked == 0 and self.only_reference == 0


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def compare_databases(
    checked: Path, reference: Path, tolerance: float = 1e-9
) -> list[TableComparison]:
    """Compare every table of ``reference`` with the same table of ``checked``; a CLOSE
    column whose relative difference exceeds ``tolerance`` makes its rows count as
    different. Both files are opened read-only."""
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH {sql_str(str(checked))} AS checked (READ_ONLY)")
        con.execute(f"ATTACH {sql_str(str(reference))} AS reference (READ_ONLY)")
        tables = con.execute(
            """SELECT schema_name || '.' || table_name, schema_name, table_name
               FROM duckdb_tables() WHERE database_name = 'reference'
               AND list_contains($schemas, schema_name) ORDER BY 1""",
            {"schemas": list(SCHEMAS)},
        ).fetchall()
        present = {r[0] for r in con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables()"
            " WHERE database_name = 'checked'").fetchall()}
        return [_compare_table(con, name, schema, table, name in present, tolerance)
                for name, schema, table in tables if name not in SKIPPED]
    finally:
        con.close()


def _compare_table(
    con: duckdb.DuckDBPyConnection, name: str, schema: str, table: str, present: bool,
    tolerance: float,
) -> TableComparison:
    ref = f"reference.{_ident(schema)}.{_ident(table)}"
    chk = f"checked.{_ident(schema)}.{_ident(table)}"
    rows = con.execute(f"SELECT count(*) FROM {ref}").fetchone()[0]
    if not present:
        return TableComparison(name, rows, 0, rows)
    key, close = CLOSE.get(name, ((), ()))
    columns = [r[0] for r in con.execute(
        """SELECT column_name FROM duckdb_columns() WHERE database_name = 'reference'
           AND schema_name = $schema AND table_name = $table ORDER BY column_index""",
        {"schema": schema, "table": table},
    ).fetchall()]
    exact = ", ".join(_ident(c) for c in columns
                      if c not in ORDER_DEPENDENT and c not in close)
    only_checked = con.execute(
        f"SELECT count(*) FROM (SELECT {exact} FROM {chk} EXCEPT ALL SELECT {exact} FROM {ref})"
    ).fetchone()[0]
    only_reference = con.execute(
        f"SELECT count(*) FROM (SELECT {exact} FROM {ref} EXCEPT ALL SELECT {exact} FROM {chk})"
    ).fetchone()[0]
    if not close:
        return TableComparison(name, rows, only_checked, only_reference)
    joined = " AND ".join(f"c.{_ident(k)} = r.{_ident(k)}" for k in key)
    relative = [
        f"""CASE WHEN c.{x} IS NULL OR r.{x} IS NULL
                 THEN CASE WHEN c.{x} IS NOT DISTINCT FROM r.{x} THEN 0 ELSE 1 END
                 ELSE coalesce(abs(c.{x} - r.{x}) / nullif(greatest(abs(c.{x}), abs(r.{x})), 0),
                               0) END"""
        for x in map(_ident, close)]
    largest, off = con.execute(
        f"""SELECT max(d), count(*) FILTER (WHERE d > $tolerance) FROM (
                SELECT greatest({", ".join(relative)}) AS d
                FROM {chk} c JOIN {ref} r ON {joined})""",
        {"tolerance": tolerance},
    ).fetchone()
    return TableComparison(name, rows, only_checked + off, only_reference + off,
                           largest or 0.0)
