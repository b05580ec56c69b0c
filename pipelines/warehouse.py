"""The raw layer: parsed export files stored unchanged in DuckDB, one load per file.

Every file's rows are replaced as a whole inside one transaction (delete the file's rows, insert
the new ones), so loading a file again never duplicates anything and a failure half way leaves
the previous load intact. ``raw.files`` is the registry: path, content hash, size, modification
time, when it was loaded and what it yielded; a file whose path and hash are unchanged is not
parsed again. A file whose size and modification time (to the nanosecond) are those recorded,
that time being more than two seconds before the file was last looked at (``checked_ns``: the
time of the ``stat`` before its load, or of the last hash that found it unchanged), is not
even read: a nightly run
over years of exports then costs one ``stat`` per old file, as ``make``, ``rsync`` and ``git``
decide what changed. A file rewritten with other content keeps neither, one touched without a
change is hashed once and recorded again, and one written within two seconds of being looked
at is hashed until a later look finds it older than that.
What this cannot see is a file rewritten with the same size and then given back its old
modification time on purpose (``touch -d``, ``cp -p`` of another copy): touch such a file to
have it read again.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines.frames import for_duckdb
from pipelines.model import TABLE_SCHEMAS, ParsedFile

RAW_TABLES = ("accounts", "messages", "actions", "rejects")

_DUCK_TYPES = {
    pl.String: "VARCHAR",
    pl.Int64: "BIGINT",
    pl.Boolean: "BOOLEAN",
    pl.Float64: "DOUBLE",
}


def _duck_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ"
    return _DUCK_TYPES[dtype]


def create_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables (canonical columns plus ``load_id``) if they do not exist."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table in RAW_TABLES:
        cols = ", ".join(
            f"{name} {_duck_type(dtype)}" for name, dtype in TABLE_SCHEMAS[table].items()
        )
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{table} ({cols}, load_id BIGINT)")
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS raw.files (
            source_file VARCHAR PRIMARY KEY,
            source_format VARCHAR,
            content_hash VARCHAR,
            size_bytes BIGINT,
            load_id BIGINT,
            loaded_at TIMESTAMPTZ,
            accounts BIGINT,
            messages BIGINT,
            actions BIGINT,
            rejects BIGINT,
            modified_ns BIGINT,
            checked_ns BIGINT
        )
        """
    )
    # registries written before these were kept get the columns, empty (hashed once more)
    con.execute("ALTER TABLE raw.files ADD COLUMN IF NOT EXISTS modified_ns BIGINT")
    con.execute("ALTER TABLE raw.files ADD COLUMN IF NOT EXISTS checked_ns BIGINT")


def file_hash(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class LoadResult:
    source_file: str
    source_format: str
    skipped: bool  # unchanged since the last load
    counts: dict[str, int]


RACY_NS = 2_000_000_000  # a file changed this close to a look may have changed again unseen
_now_ns = time.time_ns  # the clock of ``checked_ns`` (tests set it)


def _known_files(
    con: duckdb.DuckDBPyConnection,
) -> dict[str, tuple[str, int, int | None, int | None]]:
    """source_file -> (content hash, size, modification time, time last checked; in ns)."""
    return {r[0]: r[1:] for r in con.execute(
        "SELECT source_file, content_hash, size_bytes, modified_ns, checked_ns"
        " FROM raw.files").fetchall()}


def _surely_unchanged(before: tuple[str, int, int | None, int | None] | None,
                      stat: os.stat_result) -> bool:
    """Same size and modification time as when last checked, and that time well before the
    check: a file written in the second it was checked (or on a file system that keeps whole
    or even seconds) could have been written again since with the same size and time, so it
    is hashed, as git does with "racily clean" files."""
    if before is None:
        return False
    _, size, modified_ns, checked_ns = before
    return ((size, modified_ns) == (stat.st_size, stat.st_mtime_ns)
            and checked_ns is not None and modified_ns < checked_ns - RACY_NS)


def store_parsed_file(
    con: duckdb.DuckDBPyConnection, parsed: ParsedFile, content_hash: str, size: int,
    modified_ns: int | None = None, checked_ns: int | None = None,
) -> LoadResult:
    """Replace everything ``parsed.source_file`` contributed before, in one transaction."""
    load_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM raw.files").fetchone()[0]
    frames = {
        "accounts": parsed.accounts,
        "messages": parsed.messages,
        "actions": parsed.actions,
        "rejects": parsed.rejects,
    }
    con.execute("BEGIN TRANSACTION")
    try:
        for table, frame in frames.items():
            con.execute(f"DELETE FROM raw.{table} WHERE source_file = ?", [parsed.source_file])
            if frame.height:
                staged = frame.with_columns(pl.lit(load_id, dtype=pl.Int64).alias("load_id"))
                con.register("_incoming", for_duckdb(staged))
                con.execute(f"INSERT INTO raw.{table} BY NAME SELECT * FROM _incoming")
                con.unregister("_incoming")
        counts = parsed.counts()
        con.execute(
            """
            INSERT OR REPLACE INTO raw.files
                (source_file, source_format, content_hash, size_bytes, load_id, loaded_at,
                 accounts, messages, actions, rejects, modified_ns, checked_ns)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                parsed.source_file,
                parsed.source_format,
                content_hash,
                size,
                load_id,
                datetime.now(UTC),
                counts["accounts"],
                counts["messages"],
                counts["actions"],
                counts["rejects"],
                modified_ns,
                checked_ns,
            ],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return LoadResult(parsed.source_file, parsed.source_format, False, counts)


def load_files(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[Path],
    parse: Callable[[Path], ParsedFile],
    on_file: Callable[[LoadResult], None] | None = None,
) -> list[LoadResult]:
    """Parse and store each file that is new or changed since its last load.

    Files are known by their absolute path (``../in/x.json`` and ``/data/in/x.json`` are one
    file). A new path whose content was loaded before from a path that no longer exists is
    the same file moved or renamed: its rows are relabelled, not read again.

    Files are loaded oldest-modified first: when two hold a copy of one record, the copy
    from the file written last is loaded last, and the newest load is the one staging keeps
    (an edited comment in this week's export wins over last month's export, whatever their
    names)."""
    create_raw_schema(con)
    paths = sorted((Path(os.path.abspath(p)) for p in paths),
                   key=lambda p: (p.stat().st_mtime_ns, str(p)))
    known = _known_files(con)
    vanished: dict[str, str] | None = None  # content hash -> a known path now gone
    results = []
    for path in paths:
        checked_ns = _now_ns()  # before the stat: a change after it is seen next time
        stat = path.stat()
        before = known.get(str(path))
        digest = None
        if _surely_unchanged(before, stat):
            unchanged = True
        else:
            digest = file_hash(path)
            unchanged = before is not None and before[0] == digest
            if before is None:
                if vanished is None:
                    vanished = {row[0]: old for old, row in known.items()
                                if not os.path.exists(old)}
                moved_from = vanished.pop(digest, None)
                if moved_from is not None:
                    _relabel_file(con, moved_from, str(path))
                    unchanged = True
            if unchanged:  # touched, not changed: remember when, to skip reading it next time
                con.execute("UPDATE raw.files SET size_bytes = ?, modified_ns = ?, checked_ns = ?"
                            " WHERE source_file = ?",
                            [stat.st_size, stat.st_mtime_ns, checked_ns, str(path)])
        if unchanged:
            row = con.execute(
                "SELECT source_format, accounts, messages, actions, rejects FROM raw.files"
                " WHERE source_file = ?",
                [str(path)],
            ).fetchone()
            result = LoadResult(
                str(path),
                row[0],
                True,
                dict(zip(("accounts", "messages", "actions", "rejects"), row[1:], strict=True)),
            )
        else:
            result = store_parsed_file(con, parse(path), digest, stat.st_size,
                                       stat.st_mtime_ns, checked_ns)
        results.append(result)
        if on_file:
            on_file(result)
    return results


def _relabel_file(con: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
    """A loaded file moved from ``old`` to ``new``: every row that names it follows it (raw,
    the staging rows taken from it, and staging's record of the files it holds)."""
    tables = con.execute(
        "SELECT DISTINCT table_schema || '.' || table_name FROM information_schema.columns"
        " WHERE column_name = 'source_file' AND table_schema IN ('raw', 'staging', 'state')"
        " AND table_catalog = current_database()").fetchall()
    con.execute("BEGIN TRANSACTION")
    try:
        for (table,) in tables:
            con.execute(f"UPDATE {table} SET source_file = ? WHERE source_file = ?", [new, old])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def duplicated_keys(con: duckdb.DuckDBPyConnection, table: str, keys: str) -> int:
    """How many values of ``keys`` (a column list) occur more than once in ``table``."""
    return con.execute(f"SELECT count(*) FROM (SELECT {keys} FROM {table}"
                       " GROUP BY ALL HAVING count(*) > 1)").fetchone()[0]
