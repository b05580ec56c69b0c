"""The Dagster wiring: every asset in the job, checks attached, the nightly schedule."""

from datetime import UTC, datetime

import dagster as dg

from pipelines.definitions import defs, nightly_advocates
from pipelines.resources import as_of_bounds


def test_job_covers_every_layer_in_order():
    job = defs.resolve_job_def("advocates_job")
    steps = set(job.graph.node_names())
    assert steps == {
        "raw_exports", "staging_tables", "message_stance", "engagement_signals",
        "account_graph_metrics", "advocate_scores", "advocate_report", "published_database",
    }
    graph = defs.resolve_asset_graph()
    upstream = graph.get(dg.AssetKey("advocate_scores")).parent_keys
    assert {k.to_user_string() for k in upstream} == {"engagement_signals",
                                                      "account_graph_metrics"}


def test_asset_checks_guard_the_marts():
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert {"unique_message_keys", "no_orphan_defenses", "scores_not_empty",
            "unique_score_keys", "brand_accounts_not_scored"} <= checks


def test_nightly_schedule_runs_yesterday_at_two():
    assert nightly_advocates.cron_schedule == "0 2 * * *"
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 2, 2, 0, tzinfo=UTC),
        repository_def=defs.get_repository_def(),
    )
    request = nightly_advocates.evaluate_tick(context).run_requests[0]
    assert request.partition_key == "2026-11-01"
    assert request.run_key == "nightly-2026-11-01"


def test_partition_scores_up_to_the_end_of_its_day():
    assert as_of_bounds("2026-10-31") == ("2026-11-01 00:00:00+00", "2026-10-31")
