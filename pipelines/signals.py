"""Signals: what each message and each engagement says about an account's relation to a brand.

Built from staging, into the marts analysts query:

``marts.message_stance``            stance toward the brand of every non-brand message that
                                    addresses or concerns it; criticism and defense flags
``marts.defense_events``            a non-brand account taking the brand's side against a critic
``marts.share_events``              retweets/boosts and approving quotes of brand content
``marts.reciprocal_conversations``  threads where the brand and an account answered each other
``marts.talk_back``                 accounts whose last message to the brand got no answer
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import duckdb
import polars as pl

from pipelines.frames import for_duckdb
from pipelines.sql_time import whole_minutes_between
from pipelines.staging import scoped
from pipelines.stance import MODEL_VERSION, StanceModel, StanceWorkers, score_stance_frame
from pipelines.stance_classifier import StanceClassifier

EXCERPT_CHARS = 160
CACHE_KEY = ("brand", "platform", "message_id", "text_hash", "addressed_to_brand",
             "replying_to_criticism", "terms_hash")


def _terms_hash(terms: Sequence[str]) -> str:
    return hashlib.md5("\n".join(sorted(terms)).encode()).hexdigest()


def _create_stance_cache(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS state")
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS state.stance_cache (
            brand VARCHAR, platform VARCHAR, message_id VARCHAR, text_hash UBIGINT,
            addressed_to_brand BOOLEAN, replying_to_criticism BOOLEAN, terms_hash VARCHAR,
            model_version VARCHAR, stance VARCHAR, stance_score DOUBLE, stance_cue VARCHAR
        )
        """
    )


def _score_once(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    terms: Mapping[str, Sequence[str]],
    pool: StanceWorkers,
    classifier: StanceClassifier | None = None,
) -> tuple[pl.DataFrame, int]:
    """Stance for each row of ``frame`` (key, brand, platform, message_id, text_hash,
    addressed_to_brand, replying_to_criticism), scoring only what ``state.stance_cache`` does
    not hold for this model version, brand terms and text; returns (key, stance, stance_score,
    stance_cue) and how many rows were scored now. Only the texts of the rows scored now are
    read from ``staging.messages``. With a ``classifier`` the lexicon model's judgement is
    one of its inputs and the classifier has the last word."""
    version = classifier.version if classifier is not None else MODEL_VERSION
    _create_stance_cache(con)
    hashes = {brand: _terms_hash(t) for brand, t in terms.items()}
    keyed = frame.with_columns(
        pl.col("brand").replace_strict(hashes, default=None).alias("terms_hash")
    )
    con.register("_stance_keys", for_duckdb(keyed.select("key", *CACHE_KEY)))
    cached = con.sql(
        f"""
        SELECT k.key, c.stance, c.stance_score, c.stance_cue
        FROM _stance_keys k JOIN state.stance_cache c USING ({", ".join(CACHE_KEY)})
        WHERE c.model_version = $version
        """,
        params={"version": version},
    ).pl()
    con.unregister("_stance_keys")
    todo = keyed.join(cached.select("key"), on="key", how="anti")
    if todo.height:
        todo = _with_texts(con, todo)
        fresh = score_stance_frame(
            todo.select("key", "brand", "text", "addressed_to_brand", "replying_to_criticism"),
            terms, pool=pool,
        )
        if classifier is not None:
            fresh = classifier.refine(todo, fresh, terms)
        rows = todo.join(fresh.select("key", "stance", "stance_score", "stance_cue"),
                         on="key").select(
            *CACHE_KEY, pl.lit(version).alias("model_version"),
            "stance", "stance_score", "stance_cue",
        )
        con.register("_stance_new", for_duckdb(rows))
        # One stance per (message, brand, flags) and model: a newer text or brand terms
        # replace it. Judgements of the two current models are kept side by side (switching
        # between them judges nothing twice); those of older models are dropped.
        con.execute(
            """
            DELETE FROM state.stance_cache c USING _stance_new n
            WHERE c.brand = n.brand AND c.platform = n.platform
              AND c.message_id = n.message_id AND c.addressed_to_brand = n.addressed_to_brand
              AND c.replying_to_criticism = n.replying_to_criticism
              AND c.model_version = n.model_version
            """
        )
        con.execute("DELETE FROM state.stance_cache WHERE model_version NOT IN (?, ?)",
                    [MODEL_VERSION, version])
        con.execute("INSERT INTO state.stance_cache BY NAME SELECT * FROM _stance_new")
        con.unregister("_stance_new")
        fresh = fresh.select("key", "stance", "stance_score", "stance_cue")
    else:
        fresh = cached.clear()
    return pl.concat([cached, fresh.cast(cached.schema)]), todo.height


def _with_texts(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with each message's text from ``staging.messages``, in the same order."""
    con.register("_text_keys", for_duckdb(frame.select("key", "platform", "message_id")))
    texts = con.sql(
        """
        SELECT k.key, m.text FROM _text_keys k
        JOIN staging.messages m USING (platform, message_id)
        """
    ).pl()
    con.unregister("_text_keys")
    return frame.join(texts, on="key", how="left", maintain_order="left")


def build_message_stance(
    con: duckdb.DuckDBPyConnection,
    terms_by_brand: Mapping[str, Sequence[str]],
    model: StanceModel | None = None,
    workers: int | None = None,
    classifier: StanceClassifier | None = None,
    scope: str | None = None,
) -> dict[str, int]:
    """Judge the stance of each (message, brand) pair that matters.

    First the messages that address or name the brand. Then the replies around its critics,
    knowing they answer a criticism (disagreeing with the critic favours the brand): replies
    directly under a criticism, and replies to a critic elsewhere in the thread, including
    ones that never name the brand ("@critic that's not true"); the critic's own replies under
    their criticism are not answers to it and are judged as messages about the brand. A reply
    that only sits in a thread about the brand, under no criticism, says nothing about the
    brand and is not judged. A pair already judged by a previous run (same text, brand terms,
    flags and model version) is not judged again. Returns how many pairs were judged and how
    many were scored now.

    With ``scope`` (a table of platform, message_id) only those messages' rows are replaced.
    A row depends on its own message, its parent and the criticisms in its thread, so a
    scope must hold whole threads, with the threads of its messages' parents and children,
    and so on until no thread is added (``pipelines.stance_refresh`` builds one)."""
    candidates = con.sql(
        f"""
        WITH concerned AS (
            SELECT platform, message_id, brand,
                   bool_or(relation = 'addresses') AS addressed,
                   bool_or(relation IN ('addresses', 'keyword')) AS direct
            FROM {scoped("staging.message_brands", scope)} WHERE relation <> 'by_brand'
            GROUP BY ALL
        )
        SELECT c.brand, m.platform, m.message_id, m.author_id, m.parent_id,
               m.parent_author_id, m.thread_id, m.created_at, m.kind,
               hash(coalesce(m.text, '')) AS text_hash,
               c.addressed AS addressed_to_brand, c.direct
        FROM concerned c
        JOIN {scoped("staging.messages", scope)} m USING (platform, message_id)
        ANTI JOIN staging.brand_accounts b
               ON b.brand = c.brand AND b.platform = m.platform AND b.account_id = m.author_id
        """
    ).pl().with_row_index("key")  # texts are read only for the pairs judged now
    terms = {brand: list(t) for brand, t in terms_by_brand.items()}
    for brand in candidates["brand"].unique().to_list():
        terms.setdefault(brand, [brand, f"@{brand}"])

    scored_now = 0

    def judge(frame: pl.DataFrame, replying: bool) -> pl.DataFrame:
        """(key, stance, stance_score, stance_cue) of ``frame``'s pairs, judged knowing
        whether they answer a criticism."""
        nonlocal scored_now
        result, scored = _score_once(
            con, frame.with_columns(pl.lit(replying).alias("replying_to_criticism")),
            terms, pool, classifier,
        )
        scored_now += scored
        return result

    # one set of worker processes for every call below (started when first needed)
    with StanceWorkers(model, workers) as pool:
        direct = candidates.filter(pl.col("direct"))
        judged = direct.join(judge(direct, replying=False), on="key")
        # Replies by someone else around a criticism (same brand) are judged again knowing that.
        # A critic going on under their own complaint is not answering a criticism: they are
        # still talking about the brand, and are judged as such.
        criticism = judged.filter(pl.col("stance") == "against")
        under = candidates.join(
            criticism.select("platform", "brand", pl.col("message_id").alias("parent_id"),
                             pl.col("author_id").alias("_critic")),
            on=["platform", "brand", "parent_id"], how="inner",
        )
        under_parent = under.filter(pl.col("author_id") != pl.col("_critic")).drop("_critic")
        follow_ups = under.filter(
            (pl.col("author_id") == pl.col("_critic")) & ~pl.col("direct")
        ).drop("_critic")
        if follow_ups.height:
            again = follow_ups.join(judge(follow_ups, replying=False), on="key")
            judged = pl.concat([judged, again], how="vertical_relaxed")
        to_critic = candidates.join(
            criticism.select(
                "platform", "brand", "thread_id", pl.col("author_id").alias("parent_author_id")
            ).unique(),
            on=["platform", "brand", "thread_id", "parent_author_id"], how="semi",
        ).filter(pl.col("author_id") != pl.col("parent_author_id"))
        # a critic's own follow-up stays one, even when its export names someone else as the
        # author of what it answers
        around = pl.concat([under_parent, to_critic]).unique("key").join(
            follow_ups.select("key"), on="key", how="anti")
        if around.height:
            second = judge(around, replying=True)
            judged = judged.update(second, on="key")
            # thread-only replies around a critic join the judged messages
            judged = pl.concat(
                [judged, around.filter(~pl.col("direct")).join(second, on="key")],
                how="vertical_relaxed",
            )
    stance = for_duckdb(judged.select(  # noqa: F841 (read by DuckDB below)
        "brand", "platform", "message_id", "author_id", "parent_id", "parent_author_id",
        "thread_id", "created_at", "kind", "addressed_to_brand", "stance", "stance_score",
        "stance_cue",
    ).with_columns(
        pl.lit(classifier.version if classifier is not None else MODEL_VERSION)
        .alias("stance_model")
    ))
    if scope is None:
        write = "CREATE OR REPLACE TABLE marts.message_stance AS"
    else:
        con.execute(f"""DELETE FROM marts.message_stance s USING {scope} x
                        WHERE s.platform = x.platform AND s.message_id = x.message_id""")
        write = "INSERT INTO marts.message_stance BY NAME"
    con.execute(
        f"""
        {write}
        WITH judged AS (SELECT * FROM stance),
        criticism AS (
            SELECT * FROM judged WHERE stance = 'against'
        ),
        defended_parent AS (
            -- a favourable reply directly under a criticism
            SELECT r.brand, r.platform, r.message_id, c.message_id AS defended_message_id
            FROM judged r JOIN criticism c
              ON c.brand = r.brand AND c.platform = r.platform AND c.message_id = r.parent_id
            WHERE r.stance = 'favor' AND r.author_id <> c.author_id
        ),
        defended_critic AS (
            -- a favourable reply to the critic elsewhere in the same thread: the latest
            -- criticism that critic made there before the reply (of two at the same time,
            -- the greater id, so that every build picks the same one)
            SELECT r.brand, r.platform, r.message_id,
                   first(c.message_id ORDER BY c.created_at DESC, c.message_id DESC)
                       AS defended_message_id
            FROM judged r
            JOIN criticism c
              ON c.brand = r.brand AND c.platform = r.platform AND c.thread_id = r.thread_id
             AND c.author_id = r.parent_author_id AND c.created_at <= r.created_at
            WHERE r.stance = 'favor' AND r.author_id <> c.author_id
            GROUP BY ALL
        ),
        defended AS (
            SELECT * FROM defended_parent
            UNION ALL
            SELECT * FROM defended_critic d WHERE NOT EXISTS (
                SELECT 1 FROM defended_parent p
                WHERE p.brand = d.brand AND p.platform = d.platform
                  AND p.message_id = d.message_id)
        )
        SELECT j.platform, j.message_id, j.author_id, j.brand, j.stance,
               round(j.stance_score, 4) AS stance_score, j.stance_cue, j.stance_model,
               j.stance = 'against' AS is_criticism,
               d.defended_message_id IS NOT NULL AS is_defense, d.defended_message_id,
               j.addressed_to_brand, j.kind, j.parent_id, j.thread_id, j.created_at,
               left(m.text, {EXCERPT_CHARS}) AS excerpt, m.url
        FROM judged j
        JOIN staging.messages m USING (platform, message_id)
        LEFT JOIN defended d USING (brand, platform, message_id)
        """
    )
    return {"messages_judged": judged.height, "scored_this_run": scored_now}


def build_defense_events(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE OR REPLACE TABLE marts.defense_events AS
        SELECT s.brand, s.platform, s.author_id AS defender_id, s.message_id AS defense_message_id,
               s.defended_message_id AS criticism_message_id, c.author_id AS critic_id,
               s.thread_id, s.created_at, s.stance_score, s.excerpt AS defense_excerpt,
               c.excerpt AS criticism_excerpt, s.url AS defense_url
        FROM marts.message_stance s
        JOIN marts.message_stance c
          ON c.brand = s.brand AND c.platform = s.platform
         AND c.message_id = s.defended_message_id
        WHERE s.is_defense
        """
    )


def build_share_events(con: duckdb.DuckDBPyConnection) -> None:
    """Retweets and boosts of brand content, and quotes of it that are not against the brand
    (a quote that attacks the brand spreads it, but is not advocacy)."""
    con.execute(
        """
        CREATE OR REPLACE TABLE marts.share_events AS
        WITH brand_msg AS (
            SELECT b.brand, m.platform, m.message_id, m.url, left(m.text, 160) AS excerpt
            FROM staging.messages m
            JOIN staging.brand_accounts b
              ON b.platform = m.platform AND b.account_id = m.author_id AND b.role = 'brand'
        ),
        shares AS MATERIALIZED (
            -- every share, read once (actions are the largest table)
            SELECT platform, actor_id, action_id, target_message_id, target_account_id,
                   created_at
            FROM staging.actions WHERE kind = 'share'
        ),
        reshares AS (
            SELECT bm.brand, a.platform, a.actor_id AS account_id, 'share' AS share_kind,
                   a.action_id AS share_id, bm.message_id AS shared_message_id,
                   a.created_at, bm.excerpt, bm.url
            FROM shares a
            JOIN brand_msg bm ON bm.platform = a.platform AND bm.message_id = a.target_message_id
        ),
        account_reshares AS (
            -- shares whose export names only the account shared ("RT @brand: ..." in TWCS
            -- or an archive), not the message
            SELECT b.brand, a.platform, a.actor_id, 'share', a.action_id, a.target_message_id,
                   a.created_at, NULL, NULL
            FROM shares a
            JOIN staging.brand_accounts b
              ON b.platform = a.platform AND b.account_id = a.target_account_id
             AND b.role = 'brand'
            WHERE NOT EXISTS (
                SELECT 1 FROM brand_msg bm
                WHERE bm.platform = a.platform AND bm.message_id = a.target_message_id)
        ),
        quotes AS (
            SELECT bm.brand, m.platform, m.author_id, 'quote', m.message_id, bm.message_id,
                   m.created_at, left(m.text, 160), m.url
            FROM staging.messages m
            JOIN brand_msg bm ON bm.platform = m.platform AND bm.message_id = m.quoted_id
            LEFT JOIN marts.message_stance s
              ON s.brand = bm.brand AND s.platform = m.platform AND s.message_id = m.message_id
            WHERE coalesce(s.stance, 'neutral') <> 'against'
        )
        SELECT r.* FROM (
            SELECT * FROM reshares UNION ALL SELECT * FROM account_reshares
            UNION ALL SELECT * FROM quotes
        ) r
        ANTI JOIN staging.brand_accounts b
               ON b.brand = r.brand AND b.platform = r.platform AND b.account_id = r.account_id
        """
    )


def build_reciprocal_conversations(con: duckdb.DuckDBPyConnection) -> None:
    """Threads where an account replied to the brand and the brand replied to the account;
    turns count both directions (Kwak et al. 2010: reciprocity marks a relationship, not an
    audience)."""
    con.execute(
        """
        CREATE OR REPLACE TABLE marts.reciprocal_conversations AS
        WITH brand_acct AS (
            SELECT brand, platform, account_id FROM staging.brand_accounts WHERE role = 'brand'
        ),
        from_brand AS (
            SELECT b.brand, m.platform, m.thread_id, m.parent_author_id AS account_id,
                   m.message_id, m.created_at
            FROM staging.messages m
            JOIN brand_acct b ON b.platform = m.platform AND b.account_id = m.author_id
            ANTI JOIN brand_acct x
                   ON x.platform = m.platform AND x.account_id = m.parent_author_id
            WHERE m.parent_author_id IS NOT NULL
        ),
        brand_side AS (
            SELECT brand, platform, thread_id, account_id, count(*) AS brand_turns,
                   min(created_at) AS first_at, max(created_at) AS last_at
            FROM from_brand GROUP BY ALL
        ),
        to_brand AS (
            -- the account's messages that speak to the brand (replies to it, mentions of
            -- it), in threads where the brand answered that account
            SELECT DISTINCT mb.brand, m.platform, m.thread_id, m.author_id AS account_id,
                   m.message_id, m.created_at
            FROM staging.message_brands mb
            JOIN staging.messages m USING (platform, message_id)
            SEMI JOIN brand_side b
                   ON b.brand = mb.brand AND b.platform = m.platform
                  AND b.thread_id = m.thread_id AND b.account_id = m.author_id
            ANTI JOIN brand_acct x ON x.platform = m.platform AND x.account_id = m.author_id
            WHERE mb.relation = 'addresses'
        ),
        account_side AS (
            SELECT brand, platform, thread_id, account_id, count(*) AS account_turns,
                   min(created_at) AS first_at, max(created_at) AS last_at,
                   -- the latest; of two at the same time, the greater id
                   first(message_id ORDER BY created_at DESC, message_id DESC)
                       AS last_account_message_id
            FROM to_brand GROUP BY ALL
        )
        SELECT a.brand, a.platform, a.account_id, a.thread_id,
               a.account_turns, b.brand_turns, a.account_turns + b.brand_turns AS turns,
               least(a.first_at, b.first_at) AS first_at,
               greatest(a.last_at, b.last_at) AS last_at,
               a.last_account_message_id, m.url AS last_account_url,
               left(m.text, 160) AS last_account_excerpt
        FROM account_side a
        JOIN brand_side b USING (brand, platform, thread_id, account_id)
        JOIN staging.messages m
          ON m.platform = a.platform AND m.message_id = a.last_account_message_id
        """
    )


def build_talk_back(con: duckdb.DuckDBPyConnection, as_of: str) -> None:
    """Reciprocity in practice: for each account, its latest message to the brand (a reply to
    or a mention of a brand account) before ``as_of``, and whether any brand account had
    answered it by then (an answer without a time counts)."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE marts.talk_back AS
        WITH latest AS (
            SELECT s.brand, s.platform, s.author_id AS account_id,
                   arg_max(s.message_id, s.created_at) AS message_id,
                   max(s.created_at) AS created_at
            FROM marts.message_stance s
            WHERE s.addressed_to_brand AND s.created_at < $as_of::TIMESTAMPTZ
            GROUP BY ALL
        ),
        answered AS (
            SELECT DISTINCT b.brand, m.platform, m.parent_id AS message_id
            FROM staging.messages m
            JOIN staging.brand_accounts b
              ON b.platform = m.platform AND b.account_id = m.author_id
            WHERE m.parent_id IS NOT NULL
              AND (m.created_at IS NULL OR m.created_at < $as_of::TIMESTAMPTZ)
        )
        SELECT l.brand, l.platform, l.account_id, l.message_id, l.created_at,
               s.stance, s.excerpt, s.url,
               round({whole_minutes_between("l.created_at", "$as_of::TIMESTAMPTZ")}
                     / 1440.0, 1)
                   AS waiting_days
        FROM latest l
        JOIN marts.message_stance s USING (brand, platform, message_id)
        ANTI JOIN answered a USING (brand, platform, message_id)
        """,
        {"as_of": as_of},
    )
