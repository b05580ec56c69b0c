"""Raw layer: every export file in the input folder, parsed into the canonical model."""

import dagster as dg

from pipelines.formats import iter_input_files, parse_file
from pipelines.partitions import daily_partitions
from pipelines.resources import AdvocatesConfig
from pipelines.warehouse import load_files


@dg.asset(
    group_name="raw",
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    description="raw.accounts/messages/actions/rejects and the raw.files registry: each new or "
    "changed file in the input folder, parsed and stored as a whole (re-loading replaces it).",
)
def raw_exports(context: dg.AssetExecutionContext, config: AdvocatesConfig) -> dg.MaterializeResult:
    files = iter_input_files(config.input_dir)
    if not files:
        raise dg.Failure(f"no export files found in {config.input_dir}")

    def report(result):
        state = "unchanged" if result.skipped else result.source_format
        context.log.info(f"{result.source_file}: {state} {result.counts}")

    with config.connect() as con:
        results = load_files(con, files, parse_file, on_file=report)
        totals = con.execute(
            "SELECT (SELECT count(*) FROM raw.messages), (SELECT count(*) FROM raw.actions),"
            " (SELECT count(*) FROM raw.accounts), (SELECT count(*) FROM raw.rejects)"
        ).fetchone()
    parsed = [r for r in results if not r.skipped]
    return dg.MaterializeResult(
        metadata={
            "files_in_folder": len(results),
            "files_parsed": len(parsed),
            "records_rejected_this_run": sum(r.counts["rejects"] for r in parsed),
            "raw_messages": totals[0],
            "raw_actions": totals[1],
            "raw_accounts": totals[2],
            "raw_rejects": totals[3],
        }
    )
