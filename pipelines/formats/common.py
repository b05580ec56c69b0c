"""Helpers shared by the format parsers: rejects, the file head used for detection, the
mention pattern, and the DuckDB CSV loading that gives every loaded row its line number."""

from __future__ import annotations

import csv
import mmap
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import polars as pl

from pipelines.model import ParsedFile, conform

HEAD_BYTES = 64 * 1024
EXCERPT_CHARS = 300
UTF8_BOM = b"\xef\xbb\xbf"

# A mention: '@name' (letters, digits, '_'), optionally '@name@instance.domain' (fediverse),
# not preceded by a word character or '@' (so e-mail addresses are not mentions).
# RE2 syntax (DuckDB) that Python's re understands too; group 1 is the handle.
MENTION_RE2 = r"(?:^|[^A-Za-z0-9_@])@([A-Za-z0-9_]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)"


JSON_SNIFF_LINES = 5  # non-blank lines a JSON-lines sniff looks at
JSON_SNIFF_LINE_LIMIT = 64 * 1024 * 1024  # a twarc or listing page is one long line


def frame_from_rows(rows: list[tuple | None], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A frame from row tuples in ``schema`` order (None rows are skipped): parsers collect
    plain tuples while reading and build each table once at the end."""
    rows = [r for r in rows if r is not None]
    names = list(schema)
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return pl.DataFrame(
        [
            pl.Series(name, list(col), dtype=schema[name])
            for name, col in zip(names, columns, strict=True)
        ]
    )


def parsed_file(
    fmt: str,
    platform: str,
    source: str,
    *,
    accounts: pl.DataFrame,
    messages: pl.DataFrame,
    actions: pl.DataFrame,
    rejects: list[tuple[int | None, str, str | None]],
) -> ParsedFile:
    """The ParsedFile of a JSON parser: its frames stamped with platform, format and file,
    conformed to the canonical model."""
    stamp = {
        "platform": pl.lit(platform),
        "source_format": pl.lit(fmt),
        "source_file": pl.lit(source),
    }
    return ParsedFile(
        source_file=source,
        source_format=fmt,
        accounts=conform(accounts.with_columns(**stamp), "accounts"),
        messages=conform(messages.with_columns(**stamp), "messages"),
        actions=conform(actions.with_columns(**stamp), "actions"),
        rejects=rejects_frame(fmt, source, rejects),
    )


def iso_time_utc(value: object) -> datetime | None:
    """An ISO 8601 time ('2021-09-22T16:37:29.000Z', '...+02:00') as an aware UTC datetime;
    a time without an offset is taken as UTC; anything else is None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def json_kind(value: object) -> str:
    """What a JSON value is, for reject reasons ('an object', 'a list', 'null', ...)."""
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else "null"
    )


def first_json_line(head: Head) -> tuple[bool, object]:
    """For JSON-lines sniffing: among the first few non-blank lines of the file, the first
    that is valid JSON, decoded, as ``(True, value)``; ``(False, None)`` when there is none.
    Whole lines are read (one page can be a line of megabytes), a broken first line does not
    hide the format, and a UTF-8 byte order mark is ignored."""
    if "{" not in head.text:
        return False, None
    with open(head.path, "rb") as f:
        tried = 0
        while tried < JSON_SNIFF_LINES:
            line = f.readline(JSON_SNIFF_LINE_LIMIT)
            if not line:
                return False, None
            if not line.strip():
                continue
            tried += 1
            try:
                return True, orjson.loads(line.removeprefix(UTF8_BOM))
            except orjson.JSONDecodeError:
                continue
    return False, None


def excerpt(raw: bytes | str | None) -> str | None:
    """The first EXCERPT_CHARS characters of a record, decoded leniently."""
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    return raw.rstrip("\r\n")[:EXCERPT_CHARS]


def rejects_frame(
    fmt: str, source: str, rows: list[tuple[int | None, str, str | None]]
) -> pl.DataFrame:
    """Rejects as a canonical frame from (position, reason, raw_excerpt) tuples."""
    if not rows:
        positions, reasons, excerpts = [], [], []
    else:
        positions, reasons, excerpts = (list(col) for col in zip(*rows, strict=True))
    frame = pl.DataFrame(
        {
            "position": pl.Series(positions, dtype=pl.Int64),
            "reason": pl.Series(reasons, dtype=pl.String),
            "raw_excerpt": pl.Series(excerpts, dtype=pl.String),
        }
    ).with_columns(source_format=pl.lit(fmt), source_file=pl.lit(source))
    return conform(frame, "rejects")


# --------------------------------------------------------------------------------------------
# The head of a file, as detection sees it


@dataclass
class Head:
    """The first HEAD_BYTES bytes of a file (a UTF-8 BOM removed), for format detection."""

    path: Path
    raw: bytes
    text: str  # decoded, undecodable bytes replaced
    utf8_error: str | None  # why the head is not UTF-8, None when it is
    size: int
    _header: list[str] | None = field(default=None, repr=False)

    @property
    def first_line(self) -> str:
        end = len(self.text)
        for sep in ("\n", "\r"):
            i = self.text.find(sep)
            if i != -1:
                end = min(end, i)
        return self.text[:end]

    def csv_header(self) -> list[str]:
        """The cells of the first line read as a comma-separated header, trimmed and lower
        case ([] when the first line is empty)."""
        if self._header is None:
            line = self.first_line
            try:
                cells = next(csv.reader([line]), [])
            except csv.Error:
                cells = []
            self._header = [c.strip().strip('"').strip().lower() for c in cells]
        return self._header


def read_head(path: Path) -> Head:
    """Read the head of ``path``; OSError when it cannot be read."""
    with open(path, "rb") as f:
        raw = f.read(HEAD_BYTES)
        size = f.seek(0, 2)
    bom = 0
    if raw.startswith(UTF8_BOM):
        raw, bom = raw[len(UTF8_BOM) :], len(UTF8_BOM)
    utf8_error = None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        truncated = exc.reason == "unexpected end of data" and len(raw) + bom == HEAD_BYTES
        if not truncated:
            if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
                utf8_error = "it looks like UTF-16 (byte order mark)"
            else:
                utf8_error = f"byte 0x{raw[exc.start]:02x} at offset {exc.start + bom} is not UTF-8"
        text = raw.decode("utf-8", errors="replace")
    return Head(path=path, raw=raw, text=text, utf8_error=utf8_error, size=size)


# --------------------------------------------------------------------------------------------
# CSV through DuckDB


# A parse holds a whole file in memory (a CSV of ten million rows takes about 3 GB before it
# is typed); past this it spills to a folder of its own under the system's temp directory,
# which DuckDB removes when the connection closes. The pipeline's budget is 6 GiB in all.
PARSE_MEMORY_LIMIT = "2GB"


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory connection (its reject tables are its own) that reads and prints
    timestamps in UTC and spills to disk past ``PARSE_MEMORY_LIMIT``."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{PARSE_MEMORY_LIMIT}'")
    spill = Path(tempfile.gettempdir()) / f"advocates-parse-{uuid.uuid4().hex}"
    con.execute(f"SET temp_directory = {sql_str(str(spill))}")
    return con


def _read_csv_sql(ncols: int, rejects_table: str) -> str:
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(ncols))
    return (
        "read_csv(?, header = true, delim = ',', quote = '\"', escape = '\"', "
        "auto_detect = false, strict_mode = false, store_rejects = true, "
        f"rejects_table = '{rejects_table}', rejects_scan = '{rejects_table}_scans', "
        f"columns = {{{columns}}})"
    )


def _may_hold_blank_lines(path: Path) -> bool:
    """Whether two line breaks follow each other anywhere (possibly a blank line, which
    DuckDB counts but skips); a byte search, run beside DuckDB's scan."""
    with open(path, "rb") as f:
        try:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # empty file
            return False
        with mm:
            patterns = [b"\n\n", b"\r\r", b"\n\r"] if mm.find(b"\r") != -1 else [b"\n\n"]
            return any(mm.find(pattern) != -1 for pattern in patterns)


def load_csv(con: duckdb.DuckDBPyConnection, path: Path, ncols: int, fmt: str, source: str):
    """Load a headed CSV of ``ncols`` columns into the temp table ``raw`` (VARCHAR columns
    c0..c{ncols-1} plus ``line``) and return the rejects of malformed records.

    ``line`` is DuckDB's line number of the record, the same number its reject table gives:
    the header is line 1, a line break inside a quoted field does not count, a bare carriage
    return does. Loaded rows get theirs by counting past the rejected (and blank) lines.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        may_hold_blank_lines = pool.submit(_may_hold_blank_lines, path)
        con.execute(
            f"CREATE TEMP TABLE scan AS SELECT * FROM {_read_csv_sql(ncols, 'errors_main')}",
            [str(path)],
        )
        check_blank_lines = may_hold_blank_lines.result()
    con.execute(
        """
        CREATE TEMP TABLE bad AS
        SELECT line, arg_min(error_message, coalesce(column_idx, -1)) AS message,
               arg_min(error_type, coalesce(column_idx, -1)) AS error_type,
               arg_min(csv_line, coalesce(column_idx, -1)) AS csv_line
        FROM errors_main GROUP BY line
        """
    )
    con.execute("CREATE TEMP TABLE skipped AS SELECT line FROM bad")
    if check_blank_lines:
        blank = _blank_lines(con, path)
        if blank:
            con.execute("INSERT INTO skipped SELECT * FROM unnest(?::BIGINT[])", [sorted(blank)])
    _number_rows(con, "scan", "skipped", "raw")
    rejects = con.sql(
        f"""
        SELECT line AS position,
               'line ' || line || ': malformed CSV record: '
                   || coalesce(message, 'unreadable') || ' (' || coalesce(error_type, '?') || ')'
                   AS reason,
               left(rtrim(csv_line, chr(13) || chr(10)), {EXCERPT_CHARS}) AS raw_excerpt,
               {sql_str(fmt)} AS source_format, {sql_str(source)} AS source_file
        FROM bad ORDER BY line
        """
    ).pl()
    con.execute("DROP TABLE bad")
    return conform(rejects, "rejects")


def release_raw(con: duckdb.DuckDBPyConnection) -> None:
    """Free the scanned CSV (``raw`` and what it is built on) once it has been used."""
    is_view = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = 'raw' AND temporary"
    ).fetchone()[0]
    con.execute("DROP VIEW raw" if is_view else "DROP TABLE raw")
    con.execute("DROP TABLE scan")


def record_excerpt(ncols: int) -> str:
    """SQL for a record's excerpt rebuilt from its fields c0..c{ncols-1} (quotes are lost)."""
    fields = " || ',' || ".join(f"coalesce(c{i}, '')" for i in range(ncols))
    return f"left({fields}, {EXCERPT_CHARS})"


def with_source(frame: pl.DataFrame, fmt: str, source: str, table: str) -> pl.DataFrame:
    """Add source_format/source_file (as literals: cheap for millions of rows) and conform."""
    return conform(frame.with_columns(source_format=pl.lit(fmt), source_file=pl.lit(source)), table)


def _number_rows(con: duckdb.DuckDBPyConnection, scan: str, skipped: str, out: str) -> str:
    """Create ``out`` as ``scan`` plus ``line``: the k-th row (0-based) of a scan whose
    first data line is 2 sits on line 2 + k + (lines of ``skipped`` before it). The j-th
    skipped line L (1-based) has g = L - 1 - j scanned rows before it."""
    if not con.execute(f"SELECT count(*) FROM {skipped}").fetchone()[0]:
        con.execute(f"CREATE TEMP VIEW {out} AS SELECT *, 2 + rowid AS line FROM {scan}")
        return "VIEW"
    con.execute(
        f"""
        CREATE TEMP TABLE {out} AS
        WITH gaps AS (
            SELECT g, max(n) AS n FROM (
                SELECT line - 1 - row_number() OVER (ORDER BY line) AS g,
                       row_number() OVER (ORDER BY line) AS n
                FROM (SELECT DISTINCT line FROM {skipped}))
            GROUP BY g)
        SELECT s.*, 2 + s.rowid + coalesce(gaps.n, 0) AS line
        FROM {scan} s ASOF LEFT JOIN gaps ON s.rowid >= gaps.g
        ORDER BY s.rowid
        """
    )
    return "TABLE"


def _blank_lines(con: duckdb.DuckDBPyConnection, path: Path) -> set[int]:
    """Lines DuckDB counted as blank. A one-column scan keeps blank lines (as NULL rows), so
    its rows can be numbered; an empty first field looks the same, so when some loaded row of
    the main scan has one, blank lines cannot be told apart and none are returned."""
    if con.execute("SELECT count(*) FROM scan WHERE c0 IS NULL").fetchone()[0]:
        return set()
    con.execute(
        f"CREATE TEMP TABLE scan1 AS SELECT c0 FROM {_read_csv_sql(1, 'errors_first')}",
        [str(path)],
    )
    # The one-column scan only rejects what breaks any record (encoding, quotes, size).
    con.execute(
        """
        CREATE TEMP TABLE skipped1 AS SELECT line FROM errors_first
        """
    )
    kind = _number_rows(con, "scan1", "skipped1", "numbered1")
    blank = {
        r[0]
        for r in con.execute(
            "SELECT line FROM numbered1 WHERE c0 IS NULL AND line NOT IN (SELECT line FROM bad)"
        ).fetchall()
    }
    con.execute(f"DROP {kind} numbered1")
    con.execute("DROP TABLE scan1")
    con.execute("DROP TABLE skipped1")
    return blank


def sql_str(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"
