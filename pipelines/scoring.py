"""Advocacy and influence scores per (brand, account), with their components and evidence.

Advocacy (how much an account stands with the brand) adds up decayed counts of defenses,
shares, reciprocal conversations and favourable messages, and subtracts criticism. Influence
(how far the account's voice travels) combines PageRank in the engagement graph, amplification
its own messages receive and its follower count. Both are scaled 0-100 within each brand on a
log scale (the strongest account of the brand gets 100), because engagement counts are
heavy-tailed. Weights and thresholds: ``pipelines.settings``; formulas: ``docs/scoring.md``.

Tables:
``marts.advocate_scores``         one row per scored (brand, account): role, scores, rank,
                                  components, reasons and evidence message ids
``marts.score_evidence``          the messages behind each score, with excerpts and links
(the snapshot of the scores per as-of date, ``marts.advocate_score_history``, is written by
``pipelines.score_history``)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from pipelines.settings import ScoringSettings
from pipelines.sql_time import decay

ROLES = ("champion", "advocate", "influencer", "detractor", "casual")


# what ``signals`` stacks per (brand, account): counts, and their recency-weighted sums
_SIGNAL_COUNTS = ("defenses", "shares", "conversations", "conversation_turns", "favor_messages",
                  "criticisms", "messages_about_brand", "messages_to_brand", "distinct_texts",
                  "other_engagements")
_SIGNAL_WEIGHTS = ("defenses_w", "shares_w", "conversations_w", "turns_w", "favor_w",
                   "against_w")
_SIGNAL_SUMS = ", ".join(
    [f"coalesce(sum({c}), 0)::BIGINT AS {c}" for c in _SIGNAL_COUNTS]
    + [f"coalesce(sum({w}), 0) AS {w}" for w in _SIGNAL_WEIGHTS])


def _decay(column: str) -> str:
    """SQL for the recency weight of an event at ``column``: 1 at the as-of date, halving
    every half-life before it ($as_of and $half_life are bound parameters)."""
    return decay(column, "$as_of::TIMESTAMPTZ", "$half_life")


@contextmanager
def _hash_tables_as_written(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Within the block, each join builds its hash table on the side the query writes on the
    right, rather than on the side DuckDB estimates smaller.

    The scores query joins its 1.8M wide audience rows (at 10M interactions) to narrow
    per-account features: posting, mentions, graph metrics and evidence ids. DuckDB
    estimates the grouped audience at about a quarter of its size, so it builds four hash
    tables on the wide rows instead of the narrow ones. That costs the query about 1.3 s of
    its 10-11 s and 2.5 CPU-seconds (``advocates bench``, ninth to eleventh sessions' notes).
    The setting is put back after, whether the query succeeds or not. It does nothing on a
    DuckDB that has no such optimizer."""
    known = con.execute("SELECT count(*) FROM duckdb_optimizers()"
                        " WHERE name = 'build_side_probe_side'").fetchone()[0]
    if not known:
        yield
        return
    before = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0]
    disabled = ",".join(filter(None, [before, "build_side_probe_side"]))
    con.execute("SET disabled_optimizers = $names", {"names": disabled})
    try:
        yield
    finally:
        con.execute("SET disabled_optimizers = $names", {"names": before})


def build_scores(
    con: duckdb.DuckDBPyConnection, as_of: str, settings: ScoringSettings
) -> int:
    """Build ``marts.advocate_scores`` and ``marts.score_evidence`` as of ``as_of`` (the end
    of the partition's day); returns how many accounts were scored."""
    aw = settings.advocacy_weights
    iw = settings.influence_weights
    params = {
        "as_of": as_of,
        "half_life": settings.half_life_days,
        "w_def": aw["defenses"],
        "w_share": aw["shares"],
        "w_conv": aw["conversations"],
        "w_turn": aw["conversation_turns"],
        "w_favor": aw["favor_messages"],
        "w_crit": aw["criticisms"],
        "w_pr": iw["pagerank"],
        "w_amp": iw["amplification"],
        "w_fol": iw["followers"],
        "champ_adv": settings.champion_advocacy,
        "champ_inf": settings.champion_influence,
        "adv_adv": settings.advocate_advocacy,
        "adv_min_net": settings.advocate_min_net_advocacy,
        "min_turns": settings.min_conversation_turns,
        "inf_inf": settings.influencer_influence,
        "detractor_net": settings.detractor_net_advocacy,
        "spam_min": settings.spam_min_messages,
        "spam_ratio": settings.spam_max_distinct_ratio,
        "anonymous": list(settings.anonymous_account_ids),
        "bot_min": settings.bot_min_messages,
        "bot_cv": settings.bot_max_interval_cv,
        "flood_min": settings.flood_min_messages,
        "flood_mentions": settings.flood_mentions_per_message,
    }
    # The evidence first, for every account that has any; the scores are then written
    # straight into the mart with each account's evidence ids, and the evidence of accounts
    # that are not scored (brand accounts, anonymous ones) is dropped after.
    _build_evidence(con, as_of, settings.evidence_per_account, settings.min_conversation_turns)
    with _hash_tables_as_written(con):
        _create_scores(con, params)
    con.execute(
        """
        DELETE FROM marts.score_evidence e
        WHERE NOT EXISTS (SELECT 1 FROM marts.advocate_scores s WHERE s.brand = e.brand
                          AND s.platform = e.platform AND s.account_id = e.account_id)
        """
    )
    return con.execute("SELECT count(*) FROM marts.advocate_scores").fetchone()[0]


def _create_scores(con: duckdb.DuckDBPyConnection, params: dict) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TABLE marts.advocate_scores AS
        WITH texts AS (
            -- one vote per distinct text: copies and spam do not add up (is_defense marks
            -- favourable replies only, so a text's favour and criticism are its own)
            SELECT brand, platform, author_id AS account_id, lower(trim(excerpt)) AS text_key,
                   max(w) FILTER (WHERE stance = 'favor' AND NOT is_defense) AS favor_w,
                   max(w) FILTER (WHERE stance = 'against') AS against_w,
                   count(*) AS messages, count(*) FILTER (WHERE addressed_to_brand) AS to_brand
            FROM (
                SELECT *, {_decay('created_at')} AS w FROM marts.message_stance
                WHERE created_at < $as_of::TIMESTAMPTZ)
            GROUP BY ALL
        ),
        brand_accounts AS (
            SELECT b.brand, a.account_key FROM staging.brand_accounts b
            JOIN staging.accounts a USING (platform, account_id) WHERE b.role = 'brand'
        ),
        signals AS (
            -- each signal counted per (brand, account), stacked and summed in one GROUP BY
            SELECT brand, platform, defender_id AS account_id, count(*) AS defenses,
                   sum({_decay('created_at')}) AS defenses_w
            FROM marts.defense_events WHERE created_at < $as_of::TIMESTAMPTZ GROUP BY ALL
            UNION ALL BY NAME
            SELECT brand, platform, account_id, count(*) AS shares,
                   sum({_decay('created_at')}) AS shares_w
            FROM marts.share_events
            WHERE created_at IS NULL OR created_at < $as_of::TIMESTAMPTZ GROUP BY ALL
            UNION ALL BY NAME
            SELECT brand, platform, account_id, count(*) AS conversations,
                   sum(turns)::BIGINT AS conversation_turns,
                   sum({_decay('last_at')}) AS conversations_w,
                   sum(turns * {_decay('last_at')}) AS turns_w
            FROM marts.reciprocal_conversations
            WHERE first_at < $as_of::TIMESTAMPTZ AND turns >= $min_turns GROUP BY ALL
            UNION ALL BY NAME
            SELECT brand, platform, account_id,
                   count(favor_w) AS favor_messages, sum(favor_w) AS favor_w,
                   count(against_w) AS criticisms, sum(against_w) AS against_w,
                   count(*) AS distinct_texts, sum(messages) AS messages_about_brand,
                   sum(to_brand) AS messages_to_brand
            FROM texts GROUP BY ALL
            UNION ALL BY NAME
            -- likes, follows and mentions of brand accounts: these make an account part of
            -- the brand's audience even without any scored message
            SELECT b.brand, i.platform, i.actor_id AS account_id, count(*) AS other_engagements
            FROM staging.interactions i JOIN brand_accounts b ON b.account_key = i.target_key
            WHERE i.created_at IS NULL OR i.created_at < $as_of::TIMESTAMPTZ
            GROUP BY ALL
        ),
        audience AS (
            SELECT brand, platform, account_id, {_SIGNAL_SUMS}
            FROM signals GROUP BY ALL
        ),
        posting AS (
            -- how an account posts, across all its messages: bots post like clockwork
            -- (a tiny spread between consecutive posts) and flood mentions
            SELECT platform, author_id AS account_id, count(*) AS messages_total,
                   stddev_samp(gap) / nullif(avg(gap), 0) AS interval_cv
            FROM (
                SELECT platform, author_id, epoch(created_at) - lag(epoch(created_at)) OVER (
                    PARTITION BY platform, author_id ORDER BY created_at) AS gap
                FROM staging.messages WHERE created_at < $as_of::TIMESTAMPTZ
            ) GROUP BY ALL
        ),
        mentions_per_message AS (
            SELECT platform, account_id, sum(n) / count(*) AS mentions_per_message,
                   count(*) AS messages_with_mentions
            FROM (
                SELECT platform, actor_id AS account_id, target_message_id, count(*) AS n
                FROM staging.actions WHERE kind = 'mention' GROUP BY ALL)
            GROUP BY ALL
        ),
        components AS (
            -- people, not organisations: no brand's own or staff account is scored, for its
            -- own brand or for another (a competitor's account is no one's advocate)
            SELECT s.brand, s.platform, s.account_id, acc.handle, acc.display_name,
                   acc.followers_count,
                   s.defenses, s.shares, s.conversations, s.conversation_turns,
                   s.favor_messages, s.criticisms, s.messages_about_brand, s.messages_to_brand,
                   s.distinct_texts, s.other_engagements,
                   coalesce(po.messages_total, 0) AS messages_total,
                   po.interval_cv,
                   coalesce(mm.mentions_per_message, 0) AS mentions_per_message,
                   coalesce(mm.messages_with_mentions, 0) AS messages_with_mentions,
                   coalesce(g.pagerank, 0) AS pagerank,
                   coalesce(g.pagerank_ratio, 0) AS pagerank_ratio,
                   coalesce(g.amplification, 0) AS amplification,
                   coalesce(g.distinct_engagers, 0) AS distinct_engagers,
                   coalesce(g.reciprocity, 0) AS reciprocity,
                   $w_def * s.defenses_w + $w_share * s.shares_w
                     + $w_conv * s.conversations_w + $w_turn * s.turns_w
                     + $w_favor * s.favor_w + $w_crit * s.against_w AS net_advocacy
            FROM audience s
            ANTI JOIN staging.brand_accounts b
                   ON b.platform = s.platform AND b.account_id = s.account_id
            JOIN staging.accounts acc USING (platform, account_id)
            LEFT JOIN posting po USING (platform, account_id)
            LEFT JOIN mentions_per_message mm USING (platform, account_id)
            LEFT JOIN marts.account_graph_metrics g ON g.account_key = acc.account_key
            WHERE NOT list_contains($anonymous, s.account_id)
        ),
        brand_max AS (
            -- each brand's strongest value of each scale, on the log scale
            SELECT brand,
                   max(ln(1 + greatest(net_advocacy, 0))) AS advocacy_max,
                   max(ln(greatest(pagerank_ratio, 1))) AS pagerank_max,
                   max(ln(1 + amplification)) AS amplification_max,
                   max(ln(1 + followers_count)) AS followers_max
            FROM components GROUP BY brand
        ),
        scaled AS (
            SELECT c.*,
                   CASE
                     WHEN messages_to_brand >= $spam_min
                          AND distinct_texts <= $spam_ratio * messages_about_brand
                       THEN 'repeated identical messages (suspected spam)'
                     WHEN messages_total >= $bot_min AND interval_cv < $bot_cv
                       THEN 'posts at machine-regular intervals (suspected bot)'
                     WHEN messages_with_mentions >= $flood_min
                          AND mentions_per_message >= $flood_mentions
                       THEN 'floods messages with mentions (suspected spam)'
                   END AS spam_reason,
                   -- log-scaled share of the brand's strongest value, 0..1
                   coalesce(ln(1 + greatest(net_advocacy, 0)) / nullif(m.advocacy_max, 0), 0)
                       AS advocacy_unit,
                   -- PageRank above the average node's (ratio 1): the surplus counts
                   coalesce(ln(greatest(pagerank_ratio, 1)) / nullif(m.pagerank_max, 0), 0)
                       AS pr_unit,
                   coalesce(ln(1 + amplification) / nullif(m.amplification_max, 0), 0)
                       AS amp_unit,
                   ln(1 + followers_count) / nullif(m.followers_max, 0) AS fol_unit
            FROM components c JOIN brand_max m USING (brand)
        ),
        scores AS (
            SELECT *,
                   round(100 * advocacy_unit, 2) AS advocacy_score,
                   round(100 * CASE WHEN fol_unit IS NULL
                       THEN ($w_pr * pr_unit + $w_amp * amp_unit) / ($w_pr + $w_amp)
                       ELSE ($w_pr * pr_unit + $w_amp * amp_unit + $w_fol * fol_unit)
                            / ($w_pr + $w_amp + $w_fol) END, 2) AS influence_score
            FROM scaled
        ),
        roles AS (
            SELECT *,
                   CASE
                     WHEN spam_reason IS NOT NULL THEN 'casual'
                     WHEN net_advocacy <= $detractor_net THEN 'detractor'
                     WHEN advocacy_score >= $champ_adv AND influence_score >= $champ_inf
                          AND net_advocacy >= $adv_min_net THEN 'champion'
                     WHEN advocacy_score >= $adv_adv AND net_advocacy >= $adv_min_net
                       THEN 'advocate'
                     WHEN influence_score >= $inf_inf THEN 'influencer'
                     ELSE 'casual'
                   END AS role,
                   spam_reason IS NOT NULL AS suspected_spam,
                   spam_reason AS excluded_reason
            FROM scores
        ),
        ranked AS (
            -- ranked apart from the wide rows: sorting only the keys is cheaper
            SELECT brand, platform, account_id, row_number() OVER (
                       PARTITION BY brand
                       ORDER BY advocacy_score DESC, net_advocacy DESC, influence_score DESC,
                                platform, account_id) AS rank
            FROM roles WHERE excluded_reason IS NULL
        ),
        evidence_ids AS (
            -- sorting each account's few (rank, id) pairs is cheaper than an ordered
            -- aggregate, which sorts the whole table
            SELECT brand, platform, account_id,
                   list_transform(list_sort(list({{'rank': evidence_rank, 'id': message_id}})),
                                  lambda e: e.id) AS evidence_message_ids
            FROM marts.score_evidence GROUP BY ALL
        )
        SELECT brand, platform, account_id, handle, display_name, role,
               advocacy_score, influence_score,
               r.rank,
               round(net_advocacy, 3) AS net_advocacy,
               defenses, shares, conversations, conversation_turns, favor_messages, criticisms,
               messages_about_brand, messages_to_brand, distinct_texts, other_engagements,
               messages_total, round(interval_cv, 3) AS interval_cv,
               round(mentions_per_message, 2) AS mentions_per_message,
               pagerank, pagerank_ratio, amplification, distinct_engagers, reciprocity,
               followers_count, suspected_spam, excluded_reason,
               concat_ws('; ',
                   CASE WHEN defenses > 0 THEN 'defended the brand against a critic '
                        || defenses || (CASE WHEN defenses = 1 THEN ' time' ELSE ' times' END)
                   END,
                   CASE WHEN shares > 0 THEN 'shared brand posts ' || shares
                        || (CASE WHEN shares = 1 THEN ' time' ELSE ' times' END) END,
                   CASE WHEN conversations > 0 THEN conversations
                        || ' two-way conversation' || (CASE WHEN conversations = 1 THEN ''
                        ELSE 's' END) || ' with the brand (' || conversation_turns || ' turns)'
                   END,
                   CASE WHEN favor_messages > 0 THEN favor_messages || ' favourable message'
                        || (CASE WHEN favor_messages = 1 THEN '' ELSE 's' END) END,
                   CASE WHEN criticisms > 0 THEN 'criticised the brand ' || criticisms
                        || (CASE WHEN criticisms = 1 THEN ' time' ELSE ' times' END) END,
                   CASE WHEN amplification > 0 THEN 'own posts shared or quoted '
                        || amplification || ' times' END,
                   CASE WHEN followers_count IS NOT NULL THEN followers_count || ' followers'
                   END,
                   excluded_reason
               ) AS reasons,
               $as_of::TIMESTAMPTZ AS as_of,
               e.evidence_message_ids
        FROM roles
        LEFT JOIN ranked r USING (brand, platform, account_id)
        LEFT JOIN evidence_ids e USING (brand, platform, account_id)
        """,
        params,
    )


def _build_evidence(
    con: duckdb.DuckDBPyConnection, as_of: str, per_account: int, min_turns: int
) -> None:
    con.execute(
        """
        CREATE OR REPLACE TABLE marts.score_evidence AS
        WITH evidence AS (
            SELECT brand, platform, defender_id AS account_id, 'defense' AS kind,
                   defense_message_id AS message_id, defense_excerpt AS excerpt,
                   defense_url AS url, created_at, 1 AS priority
            FROM marts.defense_events
            UNION ALL
            SELECT brand, platform, account_id, 'share', share_id,
                   CASE WHEN shared_message_id IS NULL
                        THEN 'shared a brand post (the export names only its account)'
                        WHEN trim(coalesce(excerpt, '')) = ''
                        THEN 'shared a brand post without text'
                        ELSE 'shared: ' || excerpt END, url, created_at, 2
            FROM marts.share_events
            UNION ALL
            SELECT brand, platform, account_id, 'conversation', last_account_message_id,
                   last_account_excerpt, last_account_url, last_at, 3
            FROM marts.reciprocal_conversations WHERE turns >= $min_turns
            UNION ALL
            SELECT s.brand, s.platform, s.author_id,
                   CASE s.stance WHEN 'favor' THEN 'favor' ELSE 'criticism' END,
                   s.message_id, s.excerpt, s.url, s.created_at,
                   CASE s.stance WHEN 'favor' THEN 4 ELSE 5 END
            FROM marts.message_stance s
            WHERE s.stance IN ('favor', 'against') AND NOT s.is_defense
        )
        SELECT e.*, row_number() OVER (
                   PARTITION BY e.brand, e.platform, e.account_id
                   ORDER BY e.priority, e.created_at DESC NULLS LAST, e.message_id
               ) AS evidence_rank
        FROM evidence e
        WHERE e.created_at IS NULL OR e.created_at < $as_of::TIMESTAMPTZ
        QUALIFY evidence_rank <= $per_account
        """,
        {"as_of": as_of, "per_account": per_account, "min_turns": min_turns},
    )
