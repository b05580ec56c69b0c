"""Marts: what analysts query. Stance per message, engagement signals, graph metrics, scores."""

import dagster as dg

from assets.checks import unique_keys
from pipelines.daily import refresh_daily_activity
from pipelines.graph import build_graph_metrics
from pipelines.movement import build_movement
from pipelines.partitions import daily_partitions
from pipelines.resources import AdvocatesConfig, as_of_bounds
from pipelines.score_history import record_snapshot
from pipelines.scoring import build_scores
from pipelines.settings import DEFAULT_SETTINGS
from pipelines.signals import (
    build_defense_events,
    build_reciprocal_conversations,
    build_share_events,
    build_talk_back,
)
from pipelines.stance import MODEL_VERSION as LEXICON_VERSION
from pipelines.stance_refresh import refresh_message_stance


def _count(con, sql: str) -> int:
    return con.execute(sql).fetchone()[0]


@dg.asset(
    group_name="marts",
    deps=["staging_tables"],
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    check_specs=[
        dg.AssetCheckSpec("no_orphan_defenses", asset="message_stance", blocking=True,
                          description="every defense points at a criticism in the table"),
        dg.AssetCheckSpec("unique_stance_keys", asset="message_stance", blocking=True,
                          description="one row per (brand, platform, message_id)"),
    ],
    description="marts.message_stance: stance toward the brand (favor/against/neutral, "
    "-1..1) of every non-brand message that addresses or concerns it, with criticism and "
    "defense flags. After a fold-in, only the threads of the changed messages are built "
    "again.",
)
def message_stance(context: dg.AssetExecutionContext, config: AdvocatesConfig):
    brands = config.brands() or []
    terms = {b.name: b.terms() for b in brands}
    with config.connect() as con:
        classifier = config.classifier()
        if classifier is None and config.stance_model == "classifier":
            context.log.warning("stance classifier not installed: using the lexicon model")
        update = refresh_message_stance(con, terms, workers=config.workers(),
                                        classifier=classifier)
        by_stance = dict(con.execute(
            "SELECT stance, count(*) FROM marts.message_stance GROUP BY ALL").fetchall())
        orphans = _count(con, """
            SELECT count(*) FROM marts.message_stance d
            ANTI JOIN marts.message_stance c
              ON c.brand = d.brand AND c.platform = d.platform
             AND c.message_id = d.defended_message_id AND c.stance = 'against'
            WHERE d.is_defense""")
        unique = unique_keys(con, "unique_stance_keys", "marts.message_stance",
                             "brand, platform, message_id")
    model = classifier.version if classifier is not None else f"lexicon {LEXICON_VERSION}"
    yield dg.MaterializeResult(metadata={
        "update": update.mode, "update_reason": update.reason, **update.counts, **by_stance,
        "stance_model": model,
    })
    yield dg.AssetCheckResult(check_name="no_orphan_defenses", passed=orphans == 0,
                              metadata={"orphans": orphans})
    yield unique


@dg.asset(
    group_name="marts",
    deps=["message_stance"],
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    check_specs=[
        dg.AssetCheckSpec("no_orphan_events", asset="engagement_signals", blocking=True,
                          description="every defense, conversation and talk-back row points "
                          "at a message that exists in staging.messages"),
    ],
    description="marts.defense_events, marts.share_events, marts.reciprocal_conversations "
    "and marts.talk_back.",
)
def engagement_signals(context: dg.AssetExecutionContext, config: AdvocatesConfig):
    as_of, _ = as_of_bounds(context.partition_key)
    with config.connect() as con:
        con.execute("BEGIN TRANSACTION")
        build_defense_events(con)
        build_share_events(con)
        build_reciprocal_conversations(con)
        build_talk_back(con, as_of)
        con.execute("COMMIT")
        counts = {
            t: _count(con, f"SELECT count(*) FROM marts.{t}")
            for t in ("defense_events", "share_events", "reciprocal_conversations", "talk_back")
        }
        orphans = _count(con, """
            SELECT count(*) FROM (
                SELECT platform, defense_message_id AS message_id FROM marts.defense_events
                UNION ALL
                SELECT platform, criticism_message_id FROM marts.defense_events
                UNION ALL
                SELECT platform, last_account_message_id FROM marts.reciprocal_conversations
                UNION ALL
                SELECT platform, message_id FROM marts.talk_back
            ) e ANTI JOIN staging.messages m USING (platform, message_id)""")
    yield dg.MaterializeResult(metadata=counts)
    yield dg.AssetCheckResult(check_name="no_orphan_events", passed=orphans == 0,
                              metadata={"orphans": orphans})


@dg.asset(
    group_name="marts",
    deps=["engagement_signals"],
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    check_specs=[
        dg.AssetCheckSpec("unique_daily_keys", asset="daily_activity", blocking=True,
                          description="one row per (brand, platform, account_id, day)"),
    ],
    description="marts.daily_activity: per brand, account and day (each message's own UTC "
    "date), messages about and to the brand, favourable ones, criticisms, defenses and "
    "shares. Only the rows whose counts changed are rewritten.",
)
def daily_activity(context: dg.AssetExecutionContext, config: AdvocatesConfig):
    with config.connect() as con:
        changed = refresh_daily_activity(con)
        rows = _count(con, "SELECT count(*) FROM marts.daily_activity")
        unique = unique_keys(con, "unique_daily_keys", "marts.daily_activity",
                             "brand, platform, account_id, day")
    yield dg.MaterializeResult(metadata={**changed, "rows": rows})
    yield unique


@dg.asset(
    group_name="marts",
    deps=["staging_tables"],
    partitions_def=daily_partitions,
    kinds={"duckdb", "networkx"},
    description="marts.account_graph_metrics: PageRank, weighted in-degree, distinct "
    "engagers, reciprocity and amplification per account in the engagement graph.",
)
def account_graph_metrics(context: dg.AssetExecutionContext, config: AdvocatesConfig):
    as_of, _ = as_of_bounds(context.partition_key)
    with config.connect() as con:
        stats = build_graph_metrics(con, as_of, DEFAULT_SETTINGS)
    return dg.MaterializeResult(metadata=stats)


@dg.asset(
    group_name="marts",
    deps=["engagement_signals", "daily_activity", "account_graph_metrics"],
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    check_specs=[
        dg.AssetCheckSpec("scores_not_empty", asset="advocate_scores", blocking=True),
        dg.AssetCheckSpec("unique_score_keys", asset="advocate_scores", blocking=True,
                          description="one row per (brand, platform, account_id)"),
        dg.AssetCheckSpec("brand_accounts_not_scored", asset="advocate_scores", blocking=True),
    ],
    description="marts.advocate_scores (role, advocacy and influence 0-100, rank, components, "
    "reasons, evidence ids), marts.score_evidence, this partition's snapshot of the scores "
    "(a Parquet file that marts.advocate_score_history reads; it joins the published ones "
    "when the run publishes), and marts.advocate_movement since the previous snapshot.",
)
def advocate_scores(context: dg.AssetExecutionContext, config: AdvocatesConfig):
    as_of, as_of_date = as_of_bounds(context.partition_key)
    with config.connect() as con:
        rows = build_scores(con, as_of, DEFAULT_SETTINGS)
        record_snapshot(con, config.history_folders, as_of_date,
                        DEFAULT_SETTINGS.history_daily_days)
        moved = dict(con.execute(
            "SELECT 'moved_' || movement, count(*) FROM marts.advocate_movement GROUP BY ALL"
        ).fetchall()) if build_movement(con, as_of_date, DEFAULT_SETTINGS) else {}
        roles = dict(con.execute(
            "SELECT role, count(*) FROM marts.advocate_scores GROUP BY ALL").fetchall())
        unique = unique_keys(con, "unique_score_keys", "marts.advocate_scores",
                             "brand, platform, account_id")
        self_scored = _count(con, """SELECT count(*) FROM marts.advocate_scores
            SEMI JOIN staging.brand_accounts USING (brand, platform, account_id)""")
    yield dg.MaterializeResult(metadata={"accounts_scored": rows, **roles, **moved})
    yield dg.AssetCheckResult(check_name="scores_not_empty", passed=rows > 0,
                              metadata={"rows": rows})
    yield unique
    yield dg.AssetCheckResult(check_name="brand_accounts_not_scored", passed=self_scored == 0,
                              metadata={"brand_rows": self_scored})
