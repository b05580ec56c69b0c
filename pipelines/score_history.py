"""``marts.advocate_score_history``: a snapshot of ``marts.advocate_scores`` per as-of date,
kept within bounds, stored as one Parquet file per date beside the published database.

A snapshot is the whole scores table (about 1.8M rows at ten million interactions: 109 MB
inside DuckDB, 73 MB as Parquet). Kept inside the database, 90 daily snapshots would add
about 10 GB to a 1.3 GB file, and every nightly run copies the whole file when it publishes.
So each snapshot is a file, ``<as-of date>.parquet``, in a folder named after the database
(``out/advocates.history/`` for ``out/advocates.duckdb``), and ``marts.advocate_score_history``
is a view that reads the kept files: analysts query it like any other table.

A run writes its snapshot into its *pending* folder (beside the working database) and points
the view at the published snapshots plus its own; only when the run publishes does the file
move into the published folder (``publish_snapshots``), so a failed run changes nothing that
analysts read. Snapshots of the last ``ScoringSettings.history_daily_days`` days before the
newest are all kept; older ones are thinned to the first snapshot of each calendar month, which
keeps a monthly trend. The snapshot a run has just written is always kept, so a backfill of an
old day can still be compared with the snapshot before it (``pipelines.movement``); the next
run thins it. Thinned files are deleted once the new database is published.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

VIEW = "marts.advocate_score_history"


@dataclass(frozen=True)
class SnapshotFolders:
    """``published``: the snapshots the published database reads; ``pending``: the snapshot
    of the run under way, until it publishes."""

    published: Path
    pending: Path


def history_folder(database: Path) -> Path:
    """The folder of a database's score snapshots: ``<database name>.history/`` beside it."""
    return database.with_name(database.stem + ".history")


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def snapshot_files(folder: Path) -> dict[date, Path]:
    """The snapshot files in ``folder``, by their as-of date (other files are ignored)."""
    files = {}
    for path in folder.glob("*.parquet") if folder.is_dir() else ():
        try:
            files[date.fromisoformat(path.stem)] = path.resolve()
        except ValueError:
            continue
    return files


def snapshots_to_drop(dates: list[date], daily_days: int | None, keep: date) -> list[date]:
    """Which of the snapshot ``dates`` to drop: those more than ``daily_days`` days before the
    newest that are not the first of their month, never ``keep``. ``None`` keeps them all."""
    if daily_days is None or not dates:
        return []
    newest = max(dates)
    first_of_month: dict[tuple[int, int], date] = {}
    for day in sorted(dates):
        first_of_month.setdefault((day.year, day.month), day)
    kept_months = set(first_of_month.values())
    return sorted(
        day for day in set(dates)
        if (newest - day).days > daily_days and day not in kept_months and day != keep
    )


def _point_view(con: duckdb.DuckDBPyConnection, files: list[Path]) -> None:
    """``marts.advocate_score_history`` as the union of ``files`` (absolute paths)."""
    listed = ", ".join(_quote(f) for f in sorted(files))
    con.execute(f"CREATE OR REPLACE VIEW {VIEW} AS"
                f" SELECT * FROM read_parquet([{listed}], union_by_name = true)")


def _move_table_out(con: duckdb.DuckDBPyConnection, pending: Path) -> None:
    """A database written before the snapshots moved to files has them in a table: each of
    its dates becomes a pending file, published with the run, and the table is dropped."""
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables"
        " WHERE table_schema = 'marts' AND table_name = 'advocate_score_history'"
    ).fetchone()
    if kind is None or kind[0] != "BASE TABLE":
        return
    days = [r[0] for r in con.execute(f"SELECT DISTINCT as_of_date FROM {VIEW}").fetchall()]
    for day in days:
        _write(con, f"SELECT * FROM {VIEW} WHERE as_of_date = DATE '{day.isoformat()}'",
               pending / f"{day.isoformat()}.parquet")
    con.execute(f"DROP TABLE {VIEW}")


def _write(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    """Write ``query`` to ``path`` through a temporary name, so a file is whole or absent.
    (zstd's fastest level: 10% faster than its default and as small, for these tables.)"""
    tmp = path.with_name(f".{path.name}.tmp")
    con.execute(f"COPY ({query}) TO {_quote(tmp)}"
                " (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)")
    os.replace(tmp, path)


def record_snapshot(
    con: duckdb.DuckDBPyConnection, folders: SnapshotFolders, as_of_date: str,
    daily_days: int | None,
) -> int:
    """Write ``marts.advocate_scores`` as the pending snapshot of ``as_of_date`` (replacing
    one written before for that date) and point ``marts.advocate_score_history`` at it and the
    published snapshots that are kept; returns how many are thinned out."""
    day = date.fromisoformat(as_of_date)  # also: the date is safe to write into the SQL
    folders.pending.mkdir(parents=True, exist_ok=True)
    for stale in folders.pending.glob("*.parquet"):  # a failed run's: this run supersedes it
        stale.unlink()
    _move_table_out(con, folders.pending)
    _write(con, f"SELECT DATE '{day.isoformat()}' AS as_of_date,"
                " * EXCLUDE (evidence_message_ids) FROM marts.advocate_scores",
           folders.pending / f"{day.isoformat()}.parquet")
    files = {**snapshot_files(folders.published), **snapshot_files(folders.pending)}
    drop = set(snapshots_to_drop(list(files), daily_days, day))
    _point_view(con, [path for d, path in files.items() if d not in drop])
    return len(drop)


def publish_snapshots(
    cons: Sequence[duckdb.DuckDBPyConnection], folders: SnapshotFolders,
    daily_days: int | None,
) -> list[Path]:
    """Move the pending snapshots into the published folder and point the view of each
    database in ``cons`` at the kept ones there; returns the thinned files, to delete once the
    database that no longer reads them is published. Does nothing when no snapshot was ever
    written."""
    pending = snapshot_files(folders.pending)
    folders.published.mkdir(parents=True, exist_ok=True)
    for path in pending.values():
        os.replace(path, folders.published / path.name)
    files = snapshot_files(folders.published)
    if not files:
        return []
    # the run's own snapshot (and any moved out of an older database's table) is kept
    drop = set(snapshots_to_drop(list(files), daily_days, max(files))) - set(pending)
    for con in cons:
        _point_view(con, [path for d, path in files.items() if d not in drop])
    return [files[d] for d in sorted(drop)]
