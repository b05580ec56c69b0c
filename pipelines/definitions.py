"""The whole pipeline in one place: assets in the order data moves, the job, the schedule."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from assets import marts, raw, reports, staging
from pipelines import progress
from pipelines.resources import AdvocatesConfig, config_from_env
from pipelines.sensors import build_new_files_sensor

ALL_ASSETS = [
    raw.raw_exports,
    staging.staging_tables,
    marts.message_stance,
    marts.engagement_signals,
    marts.daily_activity,
    marts.account_graph_metrics,
    marts.advocate_scores,
    reports.advocate_report,
    reports.published_database,
]

@dg.success_hook
def report_progress(context: dg.HookContext) -> None:
    """Tell a watching CLI that a step finished (no-op in Dagster's own runs)."""
    progress.step_done(context.step_key)


advocates_job = dg.define_asset_job(
    "advocates_job",
    selection=dg.AssetSelection.assets(*ALL_ASSETS),
    description="Load the exports, score every account that engaged with a brand, write the "
    "report and publish the database.",
    executor_def=dg.in_process_executor,  # DuckDB takes one writer at a time
    hooks={report_progress},
)


@dg.schedule(job=advocates_job, cron_schedule="0 2 * * *", execution_timezone="UTC")
def nightly_advocates(context: dg.ScheduleEvaluationContext):
    """At 02:00 UTC, score the day that just ended (yesterday's partition)."""
    yesterday = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    return dg.RunRequest(run_key=f"nightly-{yesterday}", partition_key=yesterday)


new_export_files = build_new_files_sensor(advocates_job)


def build_definitions(
    config: AdvocatesConfig | None = None, loggers: dict | None = None
) -> dg.Definitions:
    """The definitions with run settings from ``config`` (default: environment variables)
    and, optionally, loggers that replace Dagster's console logger."""
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[advocates_job],
        schedules=[nightly_advocates],
        sensors=[new_export_files],
        resources={"config": config or config_from_env()},
        loggers=loggers,
    )


defs = build_definitions()
