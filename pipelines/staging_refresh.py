"""Keeping staging up to date at the least cost: leave it, fold new loads in, or rebuild it.

``state.staging_built`` records what staging was last built with (the brand configuration and
the staging code) and ``state.staged_files`` which load of each file it holds. Then:

- nothing new in ``raw.files`` (a re-run, a backfill of another day, a quiet night): staging is
  left as it is;
- only new files: their loads are folded in (``pipelines.staging_delta``);
- a file it holds was loaded again with other content, the brands or the code changed, a new
  copy of a record changes what other rows depend on, or the last build stopped half way:
  staging is rebuilt from all of raw.

Each change is numbered in ``state.staging_log`` (version, mode, when). A fold-in also lists
the messages it added or changed in ``state.staging_changes`` (version, platform,
message_id); a rebuild empties that list. A mart that remembers the version it was built
from can then catch up on just those messages, or knows it must be built again. Its one
reader, ``pipelines.stance_refresh``, trims the list once it has caught up: a second reader
would have to trim only what both have read.
"""

from __future__ import annotations

import duckdb

from pipelines.brands import Brand
from pipelines.refresh import Update, inputs_fingerprint, table_exists
from pipelines.staging import STAGING_TABLES, build_staging, staging_counts
from pipelines.staging_delta import apply_new_loads


def staging_fingerprint(brands: list[Brand] | None) -> str:
    """The brand configuration and the code staging is built by."""
    return inputs_fingerprint(sorted(brands or [], key=lambda b: b.name),
                              ("staging.py", "staging_delta.py", "brands.py"))


def _create_state(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS state")
    con.execute("CREATE TABLE IF NOT EXISTS state.staging_built"
                " (inputs VARCHAR, built_at TIMESTAMPTZ)")
    con.execute("CREATE TABLE IF NOT EXISTS state.staged_files"
                " (source_file VARCHAR, content_hash VARCHAR, load_id BIGINT)")
    con.execute("CREATE TABLE IF NOT EXISTS state.staging_log"
                " (version BIGINT, mode VARCHAR, logged_at TIMESTAMPTZ)")
    con.execute("CREATE TABLE IF NOT EXISTS state.staging_changes"
                " (version BIGINT, platform VARCHAR, message_id VARCHAR)")


def _why_rebuild(con: duckdb.DuckDBPyConnection, fingerprint: str) -> str | None:
    built = con.execute("SELECT inputs FROM state.staging_built").fetchone()
    existing = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'staging'"
    ).fetchall()}
    if built is None or not existing >= set(STAGING_TABLES):
        return "first build (or the last one stopped half way)"
    if built[0] != fingerprint:
        return "the brand configuration or the staging code changed"
    changed = con.execute("""
        SELECT s.source_file FROM state.staged_files s
        LEFT JOIN raw.files f USING (source_file)
        WHERE f.load_id IS DISTINCT FROM s.load_id
        ORDER BY 1 LIMIT 1""").fetchone()
    if changed:
        return f"{changed[0]} was loaded again with other content"
    return None


def _record(con: duckdb.DuckDBPyConnection, fingerprint: str, mode: str) -> None:
    con.execute("DELETE FROM state.staged_files")
    con.execute("INSERT INTO state.staged_files"
                " SELECT source_file, content_hash, load_id FROM raw.files")
    version = con.execute(
        "SELECT coalesce(max(version), 0) + 1 FROM state.staging_log").fetchone()[0]
    con.execute("INSERT INTO state.staging_log VALUES (?, ?, now())", [version, mode])
    if mode == "rebuilt":
        con.execute("DELETE FROM state.staging_changes")
    else:
        con.execute("INSERT INTO state.staging_changes SELECT DISTINCT ?, platform, message_id"
                    " FROM _changed_messages", [version])
    con.execute("INSERT INTO state.staging_built VALUES (?, now())", [fingerprint])


def staging_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The number of staging's last change; None when staging keeps no log of its changes
    (built before there was one, or by ``build_staging`` directly)."""
    if not table_exists(con, "state", "staging_log"):
        return None
    return con.execute("SELECT max(version) FROM state.staging_log").fetchone()[0]


def refresh_staging(
    con: duckdb.DuckDBPyConnection, brands: list[Brand] | None
) -> Update:
    """Bring staging up to date with raw (see the module's docstring)."""
    _create_state(con)
    fingerprint = staging_fingerprint(brands)
    reason = _why_rebuild(con, fingerprint)
    new_loads: list[int] = []
    if reason is None:
        new_loads = [r[0] for r in con.execute(
            "SELECT load_id FROM raw.files ANTI JOIN state.staged_files USING (source_file)"
            " ORDER BY load_id").fetchall()]
        if not new_loads:
            return Update("unchanged", "no file is new or changed", staging_counts(con))
    # From here on staging is being changed: a run that stops half way is rebuilt next time.
    con.execute("DELETE FROM state.staging_built")
    if reason is None:
        reason = apply_new_loads(con, brands, new_loads)  # leaves _changed_messages
        if reason is None:
            _record(con, fingerprint, "incremental")
            con.execute("DROP TABLE _changed_messages")
            return Update("incremental", f"{len(new_loads)} new file(s) folded in",
                          staging_counts(con))
    con.execute("DROP TABLE IF EXISTS _changed_messages")
    counts = build_staging(con, brands)
    _record(con, fingerprint, "rebuilt")
    return Update("rebuilt", reason, counts)
