"""Run settings and the DuckDB connections the assets use.

Two database files: the run writes a *working* database (it keeps the raw layer and the file
registry between runs, so nightly runs are incremental) and, only when every asset succeeded,
copies it over the *published* database that analysts query. A failed run therefore leaves the
previous published database and report untouched, and analysts never read a file being written.
The score snapshots are files beside the databases (``pipelines.score_history``), moved into
the published folder by the same publish step.
"""

from __future__ import annotations

import os
import shutil
from contextlib import ExitStack, closing, contextmanager
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.brands import Brand, load_brands
from pipelines.defaults import (
    DEFAULT_DB,
    DEFAULT_INPUT_DIR,
    DEFAULT_REPORT_DIR,
    STANCE_MODELS,
)
from pipelines.publishing import discard_copy, file_stamp, start_copy, take_copy, wal_of
from pipelines.score_history import SnapshotFolders, history_folder, publish_snapshots
from pipelines.settings import DEFAULT_SETTINGS


class AdvocatesConfig(dg.ConfigurableResource):
    """Where the run reads exports and writes its outputs (environment variables in brackets
    set the defaults for Dagster runs: ADVOCATES_INPUT_DIR, ADVOCATES_BRANDS, ADVOCATES_DB,
    ADVOCATES_REPORT_DIR, ADVOCATES_WORKERS, ADVOCATES_DUCKDB_MEMORY, ADVOCATES_STANCE_MODEL)."""

    input_dir: str = DEFAULT_INPUT_DIR
    brands_file: str = ""  # empty: <input_dir>/brands.toml if present, else inferred brands
    database: str = DEFAULT_DB  # the published database analysts query
    report_dir: str = DEFAULT_REPORT_DIR
    stance_workers: int = 0  # 0: one per CPU core
    duckdb_memory_limit: str = "3GB"  # DuckDB spills to disk beyond this
    # 'classifier': sentence embeddings + the lexicon's judgement (falls back to the lexicon
    # when the encoder is not installed); 'lexicon': the target-aware lexicon model alone
    stance_model: str = "classifier"

    @property
    def working_database(self) -> Path:
        published = Path(self.database)
        return published.parent / ".work" / published.name

    def brands_path(self) -> Path | None:
        if self.brands_file:
            return Path(self.brands_file)
        default = Path(self.input_dir) / "brands.toml"
        return default if default.is_file() else None

    def brands(self) -> list[Brand] | None:
        path = self.brands_path()
        return load_brands(path) if path else None

    def report_dir_path(self) -> Path:
        return Path(self.report_dir)

    def classifier(self):
        """The stance classifier, or None for the lexicon model (asked for, or the classifier
        is not installed)."""
        if self.stance_model not in STANCE_MODELS:
            raise ValueError(f"stance_model must be one of {STANCE_MODELS}, "
                             f"not {self.stance_model!r}")
        if self.stance_model == "lexicon":
            return None
        from pipelines.stance_classifier import load_classifier

        return load_classifier()

    def workers(self) -> int:
        return self.stance_workers or (os.cpu_count() or 1)

    @property
    def _published_mark(self) -> Path:
        """Size and modification time of the published file as this run's publish left it."""
        return self.working_database.with_name(self.working_database.name + ".published")

    def _stamp(self, path: Path) -> str:
        return " ".join(str(n) for n in file_stamp(path))

    def _start_from_published(self) -> None:
        """The working copy holds the run's state (the file registry, the staged layers). When
        it is missing (a new ``--db`` path, a deleted ``.work`` folder), or the published file
        is not the one the last run published (a backup put back), the run starts from the
        published database rather than from nothing."""
        working, published = self.working_database, Path(self.database)
        if not published.is_file():
            return
        mark = self._published_mark
        if working.is_file() and mark.is_file() and mark.read_text() == self._stamp(published):
            return
        if working.is_file() and not mark.is_file():
            return  # a working copy that has never been published: it is the newer one
        working.parent.mkdir(parents=True, exist_ok=True)
        wal_of(working).unlink(missing_ok=True)
        tmp = working.with_name(f".{working.name}.tmp")
        shutil.copyfile(published, tmp)
        os.replace(tmp, working)
        mark.write_text(self._stamp(published))

    @contextmanager
    def connect(self, read_only: bool = False):
        """A connection to the working database, in UTC (``read_only``: for steps that only
        read it, such as the report, while the publish copy is made)."""
        path = self.working_database
        path.parent.mkdir(parents=True, exist_ok=True)
        self._start_from_published()
        con = duckdb.connect(str(path), read_only=read_only)
        try:
            con.execute("SET TimeZone = 'UTC'")
            # Spill to disk rather than grow past this; row order is never relied upon.
            con.execute(f"SET memory_limit = '{self.duckdb_memory_limit}'")
            con.execute("SET preserve_insertion_order = false")
            for schema in () if read_only else ("raw", "staging", "marts"):
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            yield con
        finally:
            con.close()

    @property
    def history_folders(self) -> SnapshotFolders:
        """Where the score snapshots live: ``<database name>.history/`` beside the published
        database, and the run's own beside the working one until it publishes."""
        published, working = Path(self.database), self.working_database
        return SnapshotFolders(
            published=history_folder(published).resolve(),
            pending=history_folder(working).resolve(),
        )

    @property
    def _publish_copy(self) -> Path:
        target = Path(self.database)
        return target.with_name(f".{target.name}.tmp")

    def _checkpoint(self) -> None:
        """Everything written so far into the working database's file (none in the WAL), so
        that a byte copy of the file is the whole database."""
        with self.connect() as con:
            con.execute("CHECKPOINT")

    def start_publish_copy(self) -> None:
        """Start copying the working database for ``publish`` in the background (the report
        step does, as it only reads the database; ``pipelines.publishing``)."""
        self._checkpoint()
        start_copy(self.working_database, self._publish_copy)

    def discard_publish_copy(self) -> None:
        discard_copy(self._publish_copy)

    def publish(self) -> Path:
        """Copy the working database over the published one, atomically, with the run's score
        snapshot moved in beside it; thinned snapshots are deleted after. The copy started by
        ``start_publish_copy`` is used when the working database is as it was then."""
        target, copy = Path(self.database), self._publish_copy
        if not take_copy(self.working_database, copy):
            self._checkpoint()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.working_database, copy)
        # both the copy and the working database (where the next run starts) read the
        # snapshots from the published folder from now on
        with ExitStack() as stack:
            published = stack.enter_context(closing(duckdb.connect(str(copy))))
            working = stack.enter_context(self.connect())
            thinned = publish_snapshots([published, working], self.history_folders,
                                        DEFAULT_SETTINGS.history_daily_days)
        os.replace(copy, target)
        self._published_mark.write_text(self._stamp(target))
        for path in thinned:
            path.unlink(missing_ok=True)
        return target


def config_from_env() -> AdvocatesConfig:
    return AdvocatesConfig(
        input_dir=os.environ.get("ADVOCATES_INPUT_DIR", DEFAULT_INPUT_DIR),
        brands_file=os.environ.get("ADVOCATES_BRANDS", ""),
        database=os.environ.get("ADVOCATES_DB", DEFAULT_DB),
        report_dir=os.environ.get("ADVOCATES_REPORT_DIR", DEFAULT_REPORT_DIR),
        stance_workers=int(os.environ.get("ADVOCATES_WORKERS", "0")),
        duckdb_memory_limit=os.environ.get("ADVOCATES_DUCKDB_MEMORY", "3GB"),
        stance_model=os.environ.get("ADVOCATES_STANCE_MODEL", "classifier"),
    )


def as_of_bounds(partition_key: str) -> tuple[str, str]:
    """A daily partition ``YYYY-MM-DD`` scores everything before the end of that day (UTC).
    Returns (as-of timestamp, as-of date) as ISO strings."""
    day = date.fromisoformat(partition_key)
    return f"{day + timedelta(days=1)} 00:00:00+00", day.isoformat()
