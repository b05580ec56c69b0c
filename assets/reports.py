"""What people read: the ranked advocate report, and the published database for analysts."""

from datetime import date

import dagster as dg

from pipelines.partitions import daily_partitions
from pipelines.report import write_report
from pipelines.report_data import brand_reports, run_summary
from pipelines.resources import AdvocatesConfig
from pipelines.settings import DEFAULT_SETTINGS


@dg.asset(
    group_name="reports",
    deps=["advocate_scores"],
    partitions_def=daily_partitions,
    kinds={"html", "csv"},
    description="advocates.html (self-contained, for community managers) and advocates.csv "
    "in the report folder: per brand, ranked advocates with reasons and evidence, top "
    "influencers, detractors to watch and a talk-back list.",
)
def advocate_report(context: dg.AssetExecutionContext, config: AdvocatesConfig):
    # the database is complete: the copy that publish_database moves into place is made
    # while the report reads it
    config.start_publish_copy()
    try:
        with config.connect(read_only=True) as con:
            summary = run_summary(con, date.fromisoformat(context.partition_key),
                                  config.input_dir, config.database)
            brands = brand_reports(con, DEFAULT_SETTINGS)
        paths = write_report(summary, brands, config.report_dir_path())
    except BaseException:
        config.discard_publish_copy()
        raise
    return dg.MaterializeResult(
        metadata={
            "html": dg.MetadataValue.path(str(paths["html"])),
            "csv": dg.MetadataValue.path(str(paths["csv"])),
            "brands": len(brands),
            "records_rejected": summary.records_rejected,
        }
    )


@dg.asset(
    group_name="reports",
    deps=["advocate_report"],
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    description="The published DuckDB file analysts query: a copy of the working database, "
    "replaced atomically only after every earlier asset of the run succeeded.",
)
def published_database(context: dg.AssetExecutionContext, config: AdvocatesConfig):
    path = config.publish()
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})
