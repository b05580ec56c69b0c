"""An optional sensor: start a run when files in the input folder are added or changed.

It compares a fingerprint of the folder listing (path, size, modification time of every
export file) with the one it saw last (kept as the sensor's cursor), so it costs one directory
walk per tick and never opens the database a run may be writing. Turn it on in the Dagster UI
(it is off by default); the run it starts scores today's partition, and only the new or
changed files are parsed (``raw.files`` keeps their content hashes).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import dagster as dg

from pipelines.formats import iter_input_files
from pipelines.resources import AdvocatesConfig


def folder_fingerprint(folder: str) -> str:
    """A short hash of every export file's path, size and modification time."""
    digest = hashlib.sha256()
    for path in iter_input_files(folder):
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def build_new_files_sensor(job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        job=job,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Runs the pipeline for today when export files are added or changed.",
    )
    def new_export_files(context: dg.SensorEvaluationContext, config: AdvocatesConfig):
        try:
            fingerprint = folder_fingerprint(config.input_dir)
        except FileNotFoundError:
            return dg.SkipReason(f"input folder {config.input_dir} does not exist")
        if fingerprint == context.cursor:
            return dg.SkipReason("no new or changed export files")
        context.update_cursor(fingerprint)
        today = datetime.now(UTC).date().isoformat()
        return dg.RunRequest(run_key=f"files-{fingerprint}", partition_key=today)

    return new_export_files
