"""Staging layer: raw loads deduplicated, linked into threads, and tied to brands."""

import dagster as dg

from assets.checks import unique_keys
from pipelines.partitions import daily_partitions
from pipelines.resources import AdvocatesConfig
from pipelines.staging_refresh import refresh_staging

UNIQUE_MESSAGES = "unique_message_keys"
UNIQUE_ACCOUNTS = "unique_account_keys"


@dg.asset(
    group_name="staging",
    deps=["raw_exports"],
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    check_specs=[
        dg.AssetCheckSpec(UNIQUE_MESSAGES, asset="staging_tables", blocking=True,
                          description="one row per (platform, message_id)"),
        dg.AssetCheckSpec(UNIQUE_ACCOUNTS, asset="staging_tables", blocking=True,
                          description="one row per (platform, account_id)"),
    ],
    description="staging.accounts, messages, actions, brand_accounts, interactions and "
    "message_brands: new files' records folded in, rebuilt from raw when a loaded file or "
    "the brand configuration changed.",
)
def staging_tables(context: dg.AssetExecutionContext, config: AdvocatesConfig):
    with config.connect() as con:
        update = refresh_staging(con, config.brands())
        checks = [
            unique_keys(con, UNIQUE_MESSAGES, "staging.messages", "platform, message_id"),
            unique_keys(con, UNIQUE_ACCOUNTS, "staging.accounts", "platform, account_id"),
        ]
        brands_found = con.execute(
            "SELECT count(DISTINCT brand) FROM staging.brand_accounts"
        ).fetchone()[0]
    if not brands_found:
        raise dg.Failure(
            "no brand account found in the data: check the brand file "
            f"({config.brands_path() or 'none given'}) against the handles in the exports"
        )
    yield dg.MaterializeResult(
        metadata={**update.counts, "brands_found": brands_found, "update": update.mode,
                  "update_reason": update.reason})
    yield from checks
