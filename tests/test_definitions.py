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
        "daily_activity", "account_graph_metrics", "advocate_scores", "advocate_report",
        "published_database",
    }
    graph = defs.resolve_asset_graph()
    upstream = graph.get(dg.AssetKey("advocate_scores")).parent_keys
    assert {k.to_user_string() for k in upstream} == {"engagement_signals", "daily_activity",
                                                      "account_graph_metrics"}


def test_asset_checks_guard_the_marts():
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert {"unique_message_keys", "no_orphan_defenses", "scores_not_empty",
            "unique_score_keys", "brand_accounts_not_scored", "unique_daily_keys",
            "unique_stance_keys"} <= checks


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


def test_sensor_runs_only_when_files_change(tmp_path):
    from pipelines.definitions import new_export_files
    from pipelines.resources import AdvocatesConfig

    (tmp_path / "a.csv").write_text("platform,record_type,author_id\n")
    config = AdvocatesConfig(input_dir=str(tmp_path))
    context = dg.build_sensor_context(resources={"config": config})
    first = new_export_files(context)
    assert isinstance(first, dg.RunRequest)
    context = dg.build_sensor_context(cursor=context.cursor, resources={"config": config})
    assert isinstance(new_export_files(context), dg.SkipReason)
    (tmp_path / "b.csv").write_text("platform,record_type,author_id\n")
    context = dg.build_sensor_context(cursor=context.cursor, resources={"config": config})
    second = new_export_files(context)
    assert isinstance(second, dg.RunRequest) and second.run_key != first.run_key
    (tmp_path / "_notes.csv").write_text("ignored: starts with an underscore\n")
    context = dg.build_sensor_context(cursor=context.cursor, resources={"config": config})
    assert isinstance(new_export_files(context), dg.SkipReason)
