"""The generic CSV: the documented way in for any platform without a parser of its own.

One row per record; ``record_type`` says what it is (see docs/formats.md). Everything is done
in DuckDB (its CSV reader, then SQL), so files of many millions of rows load quickly.
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

NAME = "generic_csv"
DESCRIPTION = (
    "generic CSV, one record per row: platform, record_type (post, reply, quote, share, like, "
    "follow), author_id, ... (see docs/formats.md)"
)
REQUIRED = ("platform", "record_type", "author_id")
COLUMNS = (
    "platform",
    "record_type",
    "id",
    "author_id",
    "author_handle",
    "author_name",
    "author_followers",
    "created_at",
    "text",
    "parent_id",
    "parent_author_id",
    "quoted_id",
    "thread_id",
    "target_id",
    "target_author_id",
    "url",
)
RECORD_TYPES = ("post", "reply", "quote", "share", "like", "follow")
MESSAGE_TYPES = ("post", "reply", "quote")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(sql_str(v) for v in values) + ")"


def _quoted(column: str) -> str:
    """SQL for the value of ``column`` between single quotes, for a reason."""
    return f"'''' || {column} || ''''"


IS_MESSAGE = f"record_type IN {_in(MESSAGE_TYPES)}"

# (broken when, reason): checked in this order, the first broken rule is the reason.
RULES: tuple[tuple[str, str], ...] = (
    ("platform IS NULL", "'platform is empty'"),
    ("record_type IS NULL", "'record_type is empty'"),
    (
        f"record_type NOT IN {_in(RECORD_TYPES)}",
        f"'record_type ' || {_quoted('record_type_raw')} || "
        f"' is not one of {', '.join(RECORD_TYPES)}'",
    ),
    ("author_id IS NULL", "'author_id is empty'"),
    (
        "author_followers IS NOT NULL AND followers IS NULL",
        f"'author_followers ' || {_quoted('author_followers')} || ' is not a non-negative integer'",
    ),
    (
        "created_at IS NOT NULL AND ts IS NULL",
        f"'created_at ' || {_quoted('created_at')} || ' is not an ISO 8601 timestamp'",
    ),
    (f"{IS_MESSAGE} AND id IS NULL", "'id is required for a ' || record_type"),
    (f"{IS_MESSAGE} AND created_at IS NULL", "'created_at is required for a ' || record_type"),
    (f"{IS_MESSAGE} AND text IS NULL", "'text is required for a ' || record_type"),
    ("record_type = 'reply' AND parent_id IS NULL", "'parent_id is required for a reply'"),
    ("record_type = 'quote' AND quoted_id IS NULL", "'quoted_id is required for a quote'"),
    (
        "record_type IN ('share', 'like') AND target_id IS NULL",
        "'target_id is required for a ' || record_type",
    ),
    (
        "record_type = 'follow' AND target_author_id IS NULL",
        "'target_author_id is required for a follow'",
    ),
)


def sniff(head: Head) -> bool:
    return set(REQUIRED) <= set(head.csv_header())


def parse(path: Path, source: str, head: Head) -> ParsedFile:
    header = head.csv_header()
    pos: dict[str, int] = {}
    for i, name in enumerate(header):
        pos.setdefault(name, i)  # a repeated column: the first one counts

    def col(name: str, *, trim: bool = True) -> str:
        if name not in pos:
            return "NULL::VARCHAR"
        c = f"c{pos[name]}"
        if trim:
            return f"nullif(trim({c}), '')"
        return f"CASE WHEN trim({c}) = '' THEN NULL ELSE {c} END"  # text as written

    error = "CASE " + " ".join(f"WHEN {when} THEN {why}" for when, why in RULES) + " END"
    fields = ", ".join(f"c{i}" for i in range(len(header)))
    ok_messages = f"error IS NULL AND {IS_MESSAGE}"
    con = connect()
    try:
        rejects = load_csv(con, path, len(header), NAME, source)
        # parse each field once; keep the raw fields only long enough to excerpt bad rows
        con.execute(
            f"""
            CREATE TEMP TABLE rows AS
            SELECT line, platform, record_type, id, author_id, author_handle, author_name,
                followers, ts, text, parent_id, parent_author_id, quoted_id, thread_id,
                target_id, target_author_id, url, error,
                CASE WHEN error IS NOT NULL THEN {record_excerpt(len(header))} END AS excerpt
            FROM (
                SELECT *, {error} AS error
                FROM (
                    SELECT line, {fields},
                        lower({col("platform")}) AS platform,
                        {col("record_type")} AS record_type_raw,
                        lower({col("record_type")}) AS record_type,
                        {col("id")} AS id,
                        {col("author_id")} AS author_id,
                        nullif(ltrim({col("author_handle")}, '@'), '') AS author_handle,
                        {col("author_name")} AS author_name,
                        {col("author_followers")} AS author_followers,
                        CASE WHEN regexp_full_match({col("author_followers")}, '[0-9]+')
                            THEN try_cast({col("author_followers")} AS BIGINT) END AS followers,
                        {col("created_at")} AS created_at,
                        -- "10:00:00 -0500" (a space before the offset) as "10:00:00-0500"
                        try_cast(regexp_replace({col("created_at")},
                                                '\\s+([+-]\\d\\d:?\\d\\d|Z)$', '\\1')
                                 AS TIMESTAMPTZ) AS ts,
                        {col("text", trim=False)} AS text,
                        {col("parent_id")} AS parent_id,
                        {col("parent_author_id")} AS parent_author_id,
                        {col("quoted_id")} AS quoted_id,
                        {col("thread_id")} AS thread_id,
                        {col("target_id")} AS target_id,
                        {col("target_author_id")} AS target_author_id,
                        {col("url")} AS url
                    FROM raw))
            """
        )
        release_raw(con)
        messages = con.sql(
            f"""
            SELECT platform, id AS message_id, author_id, record_type AS kind, text,
                ts AS created_at, parent_id, parent_author_id, quoted_id, thread_id, url,
                line AS source_line
            FROM rows WHERE {ok_messages}
            """
        ).pl()
        actions = con.sql(
            f"""
            SELECT platform,
                coalesce(id, record_type || ':' || author_id || ':'
                    || CASE WHEN record_type = 'follow' THEN target_author_id
                            ELSE target_id END) AS action_id,
                record_type AS kind, author_id AS actor_id,
                target_author_id AS target_account_id, NULL::VARCHAR AS target_handle,
                CASE WHEN record_type = 'follow' THEN NULL ELSE target_id END
                    AS target_message_id,
                ts AS created_at, line AS source_line
            FROM rows WHERE error IS NULL AND record_type IN ('share', 'like', 'follow')
            UNION ALL
            SELECT platform, id || ':mention:' || handle AS action_id, 'mention' AS kind,
                author_id AS actor_id, NULL::VARCHAR AS target_account_id,
                handle AS target_handle, id AS target_message_id, ts AS created_at,
                line AS source_line
            FROM (
                SELECT platform, id, author_id, ts, line, unnest(list_distinct(
                    regexp_extract_all(text, {sql_str(MENTION_RE2)}, 1))) AS handle
                FROM rows WHERE {ok_messages})
            """
        ).pl()
        accounts = con.sql(
            """
            SELECT platform, author_id AS account_id,
                arg_max(author_handle, line) FILTER (WHERE author_handle IS NOT NULL)
                    AS handle,
                arg_max(author_name, line) FILTER (WHERE author_name IS NOT NULL)
                    AS display_name,
                arg_max(followers, line) FILTER (WHERE followers IS NOT NULL)
                    AS followers_count
            FROM rows WHERE error IS NULL
            GROUP BY platform, author_id ORDER BY min(line)
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
