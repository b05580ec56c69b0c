"""Customer Support on Twitter (TWCS, Kaggle) CSV.

Header ``tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id``,
possibly after a pandas index column (header cell empty or ``Unnamed: 0``), which is ignored.
Everything is done in DuckDB (its CSV reader, then SQL): no per-row Python.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.formats.common import (
    MENTION_RE2,
    Head,
    connect,
    load_csv,
    record_excerpt,
    release_raw,
    sql_str,
    with_source,
)
from pipelines.model import ParsedFile

RETWEET_RE2 = r"^RT @([A-Za-z0-9_]+):"  # a retweet kept only as text

# The platform writes &, < and > in message text as &amp;, &lt; and &gt; (X's APIs and
# archive, Reddit's API and dumps): ``parse_file`` turns them back into the characters.
ESCAPES_TEXT = True
NAME = "twcs"
DESCRIPTION = (
    "Customer Support on Twitter (Kaggle TWCS) CSV: tweet_id, author_id, inbound, created_at, "
    "text, response_tweet_id, in_response_to_tweet_id"
)
PLATFORM = "twitter"
REQUIRED = ("tweet_id", "author_id", "inbound", "created_at", "text")
OPTIONAL = ("in_response_to_tweet_id", "response_tweet_id")
TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"  # Tue Oct 31 22:10:47 +0000 2017
TIME_EXAMPLE = "Tue Oct 31 22:10:47 +0000 2017"


def sniff(head: Head) -> bool:
    return set(REQUIRED) <= set(head.csv_header())


def _strip_float(expr: str) -> str:
    """pandas wrote some ids as floats ('3.0'): drop the '.0'."""
    return rf"regexp_replace({expr}, '^([0-9]+)\.0+$', '\1')"


def _quoted(column: str) -> str:
    """SQL for the value of ``column`` between single quotes, for a reason."""
    return f"'''' || {column} || ''''"


# (broken when, reason): checked in this order, the first broken rule is the reason.
RULES: tuple[tuple[str, str], ...] = (
    ("tweet_id IS NULL", "'tweet_id is empty'"),
    (
        "NOT regexp_full_match(tweet_id, '[0-9]+')",
        f"'tweet_id ' || {_quoted('tweet_id')} || ' is not a number'",
    ),
    ("author_id IS NULL", "'author_id is empty'"),
    ("inbound IS NULL", "'inbound is empty'"),
    (
        "lower(inbound) NOT IN ('true', 'false')",
        f"'inbound ' || {_quoted('inbound')} || ' is not True or False'",
    ),
    ("created_at IS NULL", "'created_at is empty'"),
    (
        "ts IS NULL",
        f"'created_at ' || {_quoted('created_at')} || ' is not a date like ' "
        f"|| {sql_str(repr(TIME_EXAMPLE))}",
    ),
    (
        "parent_id IS NOT NULL AND NOT regexp_full_match(parent_id, '[0-9]+')",
        f"'in_response_to_tweet_id ' || {_quoted('parent_id')} || ' is not a number'",
    ),
)


def parse(path: Path, source: str, head: Head) -> ParsedFile:
    header = head.csv_header()
    pos: dict[str, int] = {}
    for i, name in enumerate(header):
        pos.setdefault(name, i)  # a repeated column: the first one counts

    def col(name: str) -> str:
        return f"nullif(trim(c{pos[name]}), '')" if name in pos else "NULL::VARCHAR"

    error = "CASE " + " ".join(f"WHEN {when} THEN {why}" for when, why in RULES) + " END"
    fields = ", ".join(f"c{i}" for i in range(len(header)))
    platform = f"{sql_str(PLATFORM)} AS platform"
    con = connect()
    try:
        rejects = load_csv(con, path, len(header), NAME, source)
        # parse each field once; keep the raw fields only long enough to excerpt bad rows
        con.execute(
            f"""
            CREATE TEMP TABLE rows AS
            SELECT line, tweet_id, author_id, lower(inbound) = 'false' AS outbound, text,
                parent_id, ts, error,
                CASE WHEN error IS NOT NULL THEN {record_excerpt(len(header))} END AS excerpt
            FROM (
                SELECT *, {error} AS error
                FROM (
                    SELECT line, {fields},
                        {_strip_float(col("tweet_id"))} AS tweet_id,
                        {col("author_id")} AS author_id,
                        {col("inbound")} AS inbound,
                        {col("created_at")} AS created_at,
                        c{pos["text"]} AS text,
                        {_strip_float(col("in_response_to_tweet_id"))} AS parent_id,
                        try_strptime({col("created_at")}, '{TIME_FORMAT}') AS ts
                    FROM raw))
            """
        )
        release_raw(con)
        # A retweet survives in TWCS only as its text, "RT @handle: ...": it is a share of
        # that account's content, not a message of the retweeter's own.
        con.execute(
            f"""
            ALTER TABLE rows ADD COLUMN retweet_of VARCHAR;
            UPDATE rows SET retweet_of = regexp_extract(text, {sql_str(RETWEET_RE2)}, 1)
            WHERE parent_id IS NULL AND starts_with(text, 'RT @');
            """
        )
        messages = con.sql(
            f"""
            SELECT {platform}, tweet_id AS message_id, author_id,
                CASE WHEN parent_id IS NULL THEN 'post' ELSE 'reply' END AS kind,
                text, ts AS created_at, parent_id, line AS source_line
            FROM rows WHERE error IS NULL AND nullif(retweet_of, '') IS NULL
            """
        ).pl()
        actions = con.sql(
            f"""
            SELECT {platform}, tweet_id AS action_id, 'share' AS kind, author_id AS actor_id,
                retweet_of AS target_handle, NULL AS target_message_id, ts AS created_at,
                line AS source_line
            FROM rows WHERE error IS NULL AND nullif(retweet_of, '') IS NOT NULL
            UNION ALL
            SELECT {platform}, tweet_id || ':mention:' || handle AS action_id,
                'mention' AS kind, author_id AS actor_id, handle AS target_handle,
                tweet_id AS target_message_id, ts AS created_at, line AS source_line
            FROM (
                SELECT tweet_id, author_id, ts, line, unnest(list_distinct(
                    regexp_extract_all(text, {sql_str(MENTION_RE2)}, 1))) AS handle
                FROM rows WHERE error IS NULL AND text IS NOT NULL
                  AND nullif(retweet_of, '') IS NULL)
            """
        ).pl()
        accounts = con.sql(
            f"""
            SELECT {platform}, author_id AS account_id, author_id AS handle,
                bool_or(outbound) AS is_brand_hint
            FROM rows WHERE error IS NULL GROUP BY author_id ORDER BY min(line)
            """
        ).pl()
        bad_rows = con.sql(
            """
            SELECT line AS position, 'line ' || line || ': ' || error AS reason,
                excerpt AS raw_excerpt
            FROM rows WHERE error IS NOT NULL ORDER BY line
            """
        ).pl()
    finally:
        con.close()
    bad_rows = with_source(bad_rows, NAME, source, "rejects")
    return ParsedFile(
        source_file=source,
        source_format=NAME,
        accounts=with_source(accounts, NAME, source, "accounts"),
        messages=with_source(messages, NAME, source, "messages"),
        actions=with_source(actions, NAME, source, "actions"),
        rejects=pl.concat([rejects, bad_rows]).sort("position"),
    )
