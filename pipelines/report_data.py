"""Read the marts into the report's plain data (``pipelines.report``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import polars as pl

from pipelines.report import (
    AccountRow,
    BrandReport,
    Evidence,
    MovementRow,
    RunSummary,
    TalkBackRow,
)
from pipelines.settings import ScoringSettings

# Words that mark a brand post as promotion rather than conversation.
PROMOTION_PATTERN = (
    r"(%\s*off|\bsale\b|\bdeal|\boffer|\bdiscount|\bpromo|\bbook now|\border now|\bshop\b"
    r"|\bbuy\b|\blimited time|\bnew\b.*\b(menu|route|plan|flavou?r|launch)|\blaunch|\bfree\b)"
)

COMPONENT_COLUMNS = (
    "defenses", "shares", "conversations", "conversation_turns", "favor_messages",
    "criticisms", "messages_about_brand", "pagerank", "amplification", "distinct_engagers",
    "reciprocity",
)


def profile_url(platform: str, handle: str | None) -> str | None:
    """A link to the account's profile where the platform's URL scheme is known."""
    if not handle:
        return None
    if platform == "twitter" and not handle.isdigit():
        return f"https://x.com/{handle}"
    if platform == "mastodon" and "@" in handle.strip("@"):
        user, _, server = handle.strip("@").partition("@")
        return f"https://{server}/@{user}"
    if platform == "reddit":
        return f"https://www.reddit.com/user/{handle}"
    if platform == "bluesky":
        return f"https://bsky.app/profile/{handle}"
    return None


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _evidence(
    con: duckdb.DuckDBPyConnection, shown: dict[str, list[dict]]
) -> dict[tuple[str, str, str], list[Evidence]]:
    """Evidence for the accounts the report shows, by (brand, platform, account_id): not the
    whole brand's, which can be millions of rows. ``shown`` lists each brand's accounts; one
    query reads them all."""
    out: dict[tuple[str, str, str], list[Evidence]] = {}
    keys = sorted({(brand, a["platform"], a["account_id"])
                   for brand, accounts in shown.items() for a in accounts})
    if not keys:
        return out
    wanted = pl.DataFrame(
        keys, schema={"brand": pl.String, "platform": pl.String, "account_id": pl.String},
        orient="row",
    )
    con.register("_shown_accounts", wanted)
    rows = _rows(
        con,
        "SELECT e.* FROM marts.score_evidence e"
        " SEMI JOIN _shown_accounts USING (brand, platform, account_id)"
        " ORDER BY e.brand, e.platform, e.account_id, e.evidence_rank",
        [],
    )
    con.unregister("_shown_accounts")
    for row in rows:
        out.setdefault((row["brand"], row["platform"], row["account_id"]), []).append(
            Evidence(
                message_id=row["message_id"],
                kind=row["kind"],
                excerpt=row["excerpt"] or "",
                url=row["url"],
                created_at=row["created_at"],
            )
        )
    return out


def _account_row(row: dict, evidence: dict[tuple[str, str, str], list[Evidence]]) -> AccountRow:
    return AccountRow(
        rank=row["rank"],
        platform=row["platform"],
        account_id=row["account_id"],
        handle=row["handle"],
        display_name=row["display_name"],
        role=row["role"],
        advocacy_score=row["advocacy_score"],
        influence_score=row["influence_score"],
        followers=row["followers_count"],
        components={c: row[c] for c in COMPONENT_COLUMNS},
        reasons=tuple(r for r in (row["reasons"] or "").split("; ") if r),
        evidence=tuple(evidence.get((row["brand"], row["platform"], row["account_id"]), ())),
        profile_url=profile_url(row["platform"], row["handle"]),
    )


NO_ACTIVITY = {"brand_posts": 0, "promotional_share": 0.0, "replies_sent": 0,
               "messages_received": 0, "reply_rate": 0.0}


def brand_activity(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, float]]:
    """How each brand itself behaves: how much it posts, how much of that is promotion, and
    how often it answers the people who talk to it. One pass over the messages for all
    brands; a brand whose accounts said and heard nothing is not listed (``NO_ACTIVITY``)."""
    rows = con.execute(
        """
        WITH own AS (
            SELECT b.brand, m.platform, m.kind, m.text, m.parent_id FROM staging.messages m
            JOIN staging.brand_accounts b
              ON b.platform = m.platform AND b.account_id = m.author_id AND b.role = 'brand'
        ),
        posted AS (
            SELECT brand, count(*) FILTER (WHERE kind <> 'reply') AS brand_posts,
                   count(*) FILTER (WHERE kind <> 'reply'
                                    AND regexp_matches(lower(text), $promo))
                       AS promotional_posts,
                   count(*) FILTER (WHERE kind = 'reply') AS replies_sent
            FROM own GROUP BY brand
        ),
        answered AS (
            SELECT DISTINCT brand, platform, parent_id AS message_id FROM own
            WHERE parent_id IS NOT NULL
        ),
        received AS (
            SELECT i.brand, count(*) AS messages_received,
                   count(a.message_id) AS messages_answered
            FROM marts.message_stance i
            LEFT JOIN answered a USING (brand, platform, message_id)
            WHERE i.addressed_to_brand
            GROUP BY i.brand
        )
        SELECT brand, coalesce(brand_posts, 0), coalesce(promotional_posts, 0),
               coalesce(replies_sent, 0), coalesce(messages_received, 0),
               coalesce(messages_answered, 0)
        FROM posted FULL JOIN received USING (brand)
        """,
        {"promo": PROMOTION_PATTERN},
    ).fetchall()
    return {
        brand: {
            "brand_posts": posts,
            "promotional_share": promo / posts if posts else 0.0,
            "replies_sent": replies,
            "messages_received": received,
            "reply_rate": answered / received if received else 0.0,
        }
        for brand, posts, promo, replies, received, answered in rows
    }


def _talk_back(con: duckdb.DuckDBPyConnection, brand: str, limit: int) -> list[dict]:
    """The brand's newest unanswered messages, without the accounts excluded from the
    ranking (few, so read apart); the handles are looked up for the rows shown only."""
    return _rows(
        con,
        """WITH shown AS (
               SELECT t.* FROM marts.talk_back t
               ANTI JOIN (SELECT brand, platform, account_id FROM marts.advocate_scores
                          WHERE brand = $brand AND excluded_reason IS NOT NULL) x
                 USING (brand, platform, account_id)
               WHERE t.brand = $brand
               ORDER BY t.created_at DESC, t.platform, t.account_id LIMIT $limit
           )
           SELECT s.*, a.handle FROM shown s
           LEFT JOIN staging.accounts a USING (platform, account_id)
           ORDER BY s.created_at DESC, s.platform, s.account_id""",
        {"brand": brand, "limit": limit},
    )


def brand_reports(
    con: duckdb.DuckDBPyConnection, settings: ScoringSettings
) -> list[BrandReport]:
    brands = [r[0] for r in con.execute(
        "SELECT DISTINCT brand FROM marts.advocate_scores ORDER BY brand").fetchall()]
    base = "SELECT * FROM marts.advocate_scores WHERE brand = ?"
    ranked = {
        brand: {
            "advocates": _rows(
                con,
                f"{base} AND role IN ('champion', 'advocate') ORDER BY rank LIMIT ?",
                [brand, settings.report_top_advocates],
            ),
            "influencers": _rows(
                con,
                f"{base} AND excluded_reason IS NULL"
                " ORDER BY influence_score DESC, rank LIMIT ?",
                [brand, settings.report_top_influencers],
            ),
            "detractors": _rows(
                con,
                f"{base} AND role = 'detractor'"
                " ORDER BY net_advocacy, influence_score DESC LIMIT ?",
                [brand, settings.report_top_detractors],
            ),
        }
        for brand in brands
    }
    evidence = _evidence(con, {brand: [row for rows in lists.values() for row in rows]
                               for brand, lists in ranked.items()})
    activity = brand_activity(con)
    reports = []
    for brand in brands:
        talk_back = _talk_back(con, brand, settings.report_talk_back)
        scored = con.execute(
            "SELECT count(*) FROM marts.advocate_scores WHERE brand = ?", [brand]
        ).fetchone()[0]
        excluded = dict(con.execute(
            "SELECT excluded_reason, count(*) FROM marts.advocate_scores"
            " WHERE brand = ? AND excluded_reason IS NOT NULL GROUP BY ALL ORDER BY 2 DESC",
            [brand],
        ).fetchall())
        movement = _rows(
            con,
            # the table's own order, spelt out: a table's rows have no order of their own
            "SELECT * FROM marts.advocate_movement WHERE brand = ?"
            " ORDER BY movement, abs(advocacy - previous_advocacy) DESC, account_id LIMIT ?",
            [brand, settings.report_movement],
        )
        previous_as_of = con.execute(
            "SELECT max(as_of_date) FROM marts.advocate_score_history"
            " WHERE brand = ? AND as_of_date < (SELECT max(as_of_date)"
            " FROM marts.advocate_score_history WHERE brand = ?)",
            [brand, brand],
        ).fetchone()[0]
        reports.append(
            BrandReport(
                brand=brand,
                accounts_scored=scored,
                **{section: tuple(_account_row(r, evidence) for r in rows)
                   for section, rows in ranked[brand].items()},
                talk_back=tuple(
                    TalkBackRow(
                        platform=r["platform"],
                        account_id=r["account_id"],
                        handle=r["handle"],
                        message_id=r["message_id"],
                        excerpt=r["excerpt"] or "",
                        url=r["url"],
                        created_at=r["created_at"],
                        waiting_days=r["waiting_days"],
                    )
                    for r in talk_back
                ),
                brand_activity=activity.get(brand, NO_ACTIVITY),
                movement=tuple(
                    MovementRow(
                        platform=r["platform"], account_id=r["account_id"], handle=r["handle"],
                        movement=r["movement"], previous_role=r["previous_role"],
                        role=r["role"], previous_advocacy=r["previous_advocacy"],
                        advocacy=r["advocacy"],
                    )
                    for r in movement
                ),
                previous_as_of=previous_as_of,
                excluded=excluded,
            )
        )
    return reports


def run_summary(
    con: duckdb.DuckDBPyConnection, as_of: date, input_dir: str, database: str
) -> RunSummary:
    files = con.execute("SELECT count(*) FROM raw.files").fetchone()[0]
    loaded = {
        t: con.execute(f"SELECT count(*) FROM staging.{t}").fetchone()[0]
        for t in ("accounts", "messages", "actions")
    }
    not_read = dict(con.execute(files_not_read_sql()).fetchall())
    rejected_by_file = {
        file: n for file, n in con.execute(
            "SELECT source_file, count(*) FROM raw.rejects GROUP BY ALL ORDER BY 1").fetchall()
        if file not in not_read
    }
    models = [r[0] for r in con.execute(
        "SELECT DISTINCT stance_model FROM marts.message_stance ORDER BY 1").fetchall()]
    return RunSummary(
        generated_at=datetime.now(UTC),
        as_of=as_of,
        input_dir=input_dir,
        database=database,
        files_read=files,
        records_loaded=loaded,
        records_rejected=sum(rejected_by_file.values()),
        rejected_by_file=rejected_by_file,
        stance_model=", ".join(models) or None,
        files_not_read=not_read,
    )


def files_not_read_sql() -> str:
    """(file, why) for each file that yielded nothing but rejects, shortest reason first; the
    reason loses its leading file name and its list of formats understood."""
    return """
        SELECT f.source_file,
               regexp_replace(regexp_replace(min(r.reason), '; formats understood: .*$', ''),
                              '^' || regexp_escape(f.source_file) || ': ', '')
        FROM raw.files f JOIN raw.rejects r USING (source_file)
        WHERE f.accounts + f.messages + f.actions = 0
        GROUP BY f.source_file ORDER BY f.source_file"""
