"""New loads folded into the staging layer, without rebuilding it from all of raw.

A nightly run adds a day of files to a long history. Rebuilding staging costs time in
proportion to the history; folding in only the new loads' rows costs time in proportion to
the day. The result is the same as a rebuild (the tests build both ways and compare), as long
as the new loads only add records, or repeat existing ones with nothing that other rows
depend on changed. When a new copy of a record changes who wrote it, what it answers, quotes
or says, an account's handle, or which accounts are the brands', ``apply_new_loads`` says why
and the caller rebuilds instead.

Work tables (``_d_*`` for the new loads' rows, ``_aff_*`` for existing rows they touch) are
temporary and dropped at the end. One is kept for the caller: ``_changed_messages`` (platform,
message_id), every message whose row or brand relations the fold-in added or changed, so
that the marts built on them can be brought up to date for those alone.
"""

from __future__ import annotations

import duckdb

from pipelines.brands import Brand
from pipelines.staging import (
    ACTION_COLUMNS,
    ACTION_RECORDS,
    DECLARED_ACCOUNTS,
    HANDLES,
    INTERACTIONS,
    MESSAGE_COLUMNS,
    MESSAGE_EDGE_KINDS,
    MESSAGE_RECORDS,
    NEWEST_COPY,
    SEEN_ACCOUNTS,
    build_brand_accounts,
    build_message_brands,
    resolve_new_threads,
    resolve_threads,
    scoped,
)
from pipelines.warehouse import duplicated_keys

NEW_LOADS = "AND load_id IN (SELECT load_id FROM _d_loads)"
_WORK_TABLES = ("_d_loads", "_d_accounts", "_d_new_accounts", "_d_messages", "_d_actions",
                "_authors", "_d_rows", "_handles", "_found", "_aff_messages", "_aff_actions",
                "_aff_brand_messages", "_old_concerns", "_old_brand_accounts")


def _first(con: duckdb.DuckDBPyConnection, sql: str) -> tuple | None:
    return con.execute(sql).fetchone()


def _changed_message(con: duckdb.DuckDBPyConnection) -> str | None:
    """A new copy of a message with another author (its replies' parent author), parent (the
    reply chains under it) or text (what the replies under it are about). Changes to
    anything else only touch the message's own rows, which are folded in anyway."""
    row = _first(con, """
        SELECT n.platform, n.message_id, n.source_file
        FROM _d_messages n JOIN staging.messages s USING (platform, message_id)
        WHERE n.author_id IS DISTINCT FROM s.author_id
           OR n.parent_id IS DISTINCT FROM s.parent_id
           OR n.text IS DISTINCT FROM s.text
        LIMIT 1""")
    if row:
        return f"{row[2]} changes the author, parent or text of message {row[1]} ({row[0]})"
    return None


def _changed_action(con: duckdb.DuckDBPyConnection) -> str | None:
    row = _first(con, """
        SELECT n.platform, n.action_id, n.source_file
        FROM _d_actions n JOIN staging.actions s USING (platform, action_id)
        WHERE n.kind IS DISTINCT FROM s.kind OR n.actor_id IS DISTINCT FROM s.actor_id
           OR n.target_handle IS DISTINCT FROM s.target_handle
           OR n.target_message_id IS DISTINCT FROM s.target_message_id
           OR (n.target_account_id IS NOT NULL
               AND n.target_account_id IS DISTINCT FROM s.target_account_id)
        LIMIT 1""")
    if row:
        return f"{row[2]} changes action {row[1]} ({row[0]}): its kind, actor or target"
    return None


def _changed_handle(con: duckdb.DuckDBPyConnection) -> str | None:
    """A renamed account, a handle that another account already holds, or a handle that
    names another account than an action that names it was resolved to (through its
    message), changes which account old actions point at."""
    row = _first(con, """
        SELECT d.platform, d.account_id, s.handle, d.handle
        FROM _d_accounts d JOIN staging.accounts s USING (platform, account_id)
        WHERE d.handle IS NOT NULL AND s.handle IS NOT NULL
          AND lower(d.handle) <> lower(s.handle)
        LIMIT 1""")
    if row:
        return f"account {row[1]} ({row[0]}) was renamed from {row[2]!r} to {row[3]!r}"
    row = _first(con, """
        SELECT d.platform, d.handle, s.account_id
        FROM _d_accounts d JOIN staging.accounts s
          ON s.platform = d.platform AND lower(s.handle) = lower(d.handle)
         AND s.account_id <> d.account_id
        LIMIT 1""")
    if row:
        return f"handle {row[1]!r} ({row[0]}) is also held by account {row[2]}"
    row = _first(con, """
        SELECT a.platform, a.action_id, d.handle
        FROM staging.actions a
        JOIN (SELECT d.* FROM _d_accounts d
              LEFT JOIN staging.accounts s USING (platform, account_id)
              WHERE d.handle IS NOT NULL AND s.handle IS NULL) d
          ON d.platform = a.platform AND lower(d.handle) = lower(a.target_handle)
        WHERE a.target_account_id IS NOT NULL AND a.target_account_id <> d.account_id
        LIMIT 1""")
    if row:
        return (f"handle {row[2]!r} ({row[0]}) first seen now names another account than "
                f"the one action {row[1]} was given")
    return None


def _apply_accounts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        UPDATE staging.accounts AS a SET
            handle = coalesce(d.handle, a.handle),
            display_name = coalesce(d.display_name, a.display_name),
            followers_count = coalesce(d.followers_count, a.followers_count),
            is_brand_hint = a.is_brand_hint OR d.is_brand_hint
        FROM _d_accounts d
        WHERE d.platform = a.platform AND d.account_id = a.account_id""")
    con.execute(f"""
        CREATE TEMP TABLE _d_new_accounts AS
        WITH seen AS ({SEEN_ACCOUNTS.format(scope=NEW_LOADS)}),
        fresh AS (
            SELECT d.* FROM _d_accounts d
            UNION ALL
            SELECT s.platform, s.account_id, NULL, NULL, NULL, false
            FROM seen s ANTI JOIN _d_accounts d USING (platform, account_id)
        )
        SELECT f.* FROM fresh f ANTI JOIN staging.accounts a USING (platform, account_id)""")
    con.execute("""
        INSERT INTO staging.accounts
        SELECT (SELECT coalesce(max(account_key), -1) FROM staging.accounts)
                   + row_number() OVER (ORDER BY platform, account_id),
               platform, account_id, handle, display_name, followers_count, is_brand_hint
        FROM _d_new_accounts""")


def _apply_messages(con: duckdb.DuckDBPyConnection) -> None:
    """Upsert the new copies; give existing replies and quotes whose parent or quoted
    message just arrived its author; re-root the threads."""
    # The authors of only the messages the new ones answer or quote: joining the new rows to
    # every message's author would build two hash tables on the whole history.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _authors AS
        WITH named AS (
            SELECT platform, parent_id AS message_id FROM _d_messages
            WHERE parent_id IS NOT NULL
            UNION
            SELECT platform, quoted_id FROM _d_messages WHERE quoted_id IS NOT NULL
        )
        SELECT platform, message_id, author_id FROM staging.messages
        SEMI JOIN named USING (platform, message_id)
        ANTI JOIN _d_messages USING (platform, message_id)
        UNION ALL
        SELECT platform, message_id, author_id FROM _d_messages
        SEMI JOIN named USING (platform, message_id)""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _d_rows AS
        SELECT {MESSAGE_COLUMNS}
        FROM _d_messages m
        LEFT JOIN _authors p ON p.platform = m.platform AND p.message_id = m.parent_id
        LEFT JOIN _authors q ON q.platform = m.platform AND q.message_id = m.quoted_id""")
    con.execute("DROP TABLE _authors")
    con.execute("""
        CREATE TEMP TABLE _aff_messages AS
        SELECT platform, message_id FROM _d_messages
        UNION
        SELECT s.platform, s.message_id FROM staging.messages s
        JOIN _d_messages n ON n.platform = s.platform AND n.message_id = s.parent_id
        WHERE s.parent_author_id IS NULL
        UNION
        SELECT s.platform, s.message_id FROM staging.messages s
        JOIN _d_messages n ON n.platform = s.platform AND n.message_id = s.quoted_id
        WHERE s.quoted_author_id IS NULL""")
    con.execute("""
        DELETE FROM staging.messages s USING _d_messages n
        WHERE s.platform = n.platform AND s.message_id = n.message_id""")
    con.execute("INSERT INTO staging.messages SELECT * FROM _d_rows")
    con.execute("DROP TABLE _d_rows")
    con.execute("""
        UPDATE staging.messages AS s SET parent_author_id = n.author_id
        FROM _d_messages n
        WHERE n.platform = s.platform AND n.message_id = s.parent_id
          AND s.parent_author_id IS NULL""")
    con.execute("""
        UPDATE staging.messages AS s SET quoted_author_id = n.author_id
        FROM _d_messages n
        WHERE n.platform = s.platform AND n.message_id = s.quoted_id
          AND s.quoted_author_id IS NULL""")
    if resolve_new_threads(con, "_d_messages", record="_changed_messages") is None:
        resolve_threads(con, record="_changed_messages")
    # replies and quotes of accounts that had no row until now had no edge either
    for column in ("parent_author_id", "quoted_author_id"):
        con.execute(f"""
            INSERT INTO _aff_messages
            SELECT s.platform, s.message_id FROM staging.messages s
            SEMI JOIN _d_new_accounts a
              ON a.platform = s.platform AND a.account_id = s.{column}
            ANTI JOIN _aff_messages x
              ON x.platform = s.platform AND x.message_id = s.message_id""")


def _apply_actions(con: duckdb.DuckDBPyConnection) -> None:
    """Upsert the new copies; resolve existing actions whose target account is found now,
    by a handle that just appeared or a message that just arrived."""
    con.execute(f"CREATE TEMP TABLE _handles AS {HANDLES}")
    con.execute("""
        DELETE FROM staging.actions s USING _d_actions n
        WHERE s.platform = n.platform AND s.action_id = n.action_id""")
    con.execute(f"""
        INSERT INTO staging.actions
        SELECT {ACTION_COLUMNS}
        FROM _d_actions a
        LEFT JOIN _handles h
               ON h.platform = a.platform AND h.handle_key = lower(a.target_handle)
        LEFT JOIN staging.messages t
               ON t.platform = a.platform AND t.message_id = a.target_message_id""")
    con.execute("""
        CREATE TEMP TABLE _aff_actions AS
        SELECT platform, action_id FROM _d_actions
        UNION ALL
        SELECT a.platform, a.action_id FROM staging.actions a
        SEMI JOIN _d_new_accounts n
          ON n.platform = a.platform AND n.account_id = a.target_account_id
        ANTI JOIN _d_actions d ON d.platform = a.platform AND d.action_id = a.action_id""")
    con.execute(f"""
        CREATE TEMP TABLE _found AS
        SELECT a.platform, a.action_id, coalesce(
                   h.account_id, CASE WHEN a.kind IN ('share', 'like') THEN t.author_id END
               ) AS target_account_id
        FROM (SELECT * FROM staging.actions WHERE target_account_id IS NULL) a
        LEFT JOIN (SELECT h.* FROM _handles h SEMI JOIN _d_accounts d
                     ON d.platform = h.platform AND lower(d.handle) = h.handle_key) h
               ON h.platform = a.platform AND h.handle_key = lower(a.target_handle)
        LEFT JOIN {scoped("staging.messages", "_d_messages")} t
               ON t.platform = a.platform AND t.message_id = a.target_message_id
        WHERE coalesce(
                  h.account_id, CASE WHEN a.kind IN ('share', 'like') THEN t.author_id END
              ) IS NOT NULL""")
    con.execute("""
        UPDATE staging.actions AS a SET target_account_id = f.target_account_id
        FROM _found f WHERE f.platform = a.platform AND f.action_id = a.action_id""")
    con.execute("INSERT INTO _aff_actions SELECT platform, action_id FROM _found")
    con.execute("DROP TABLE _found")


def _brand_accounts_only_grew(con: duckdb.DuckDBPyConnection,
                              brands: list[Brand] | None) -> bool:
    """Rebuild ``staging.brand_accounts``; True when the only change is brand accounts that
    first appear in the new loads. Their messages are all new, and the existing replies,
    quotes and mentions that point at them are among the affected rows; an existing account
    becoming a brand's, or ceasing to be, changes rows no new load touches."""
    con.execute("CREATE TEMP TABLE _old_brand_accounts AS SELECT * FROM staging.brand_accounts")
    build_brand_accounts(con, brands)
    changed = _first(con, """
        WITH added AS (
            SELECT * FROM staging.brand_accounts EXCEPT SELECT * FROM _old_brand_accounts
        ),
        removed AS (
            SELECT * FROM _old_brand_accounts EXCEPT SELECT * FROM staging.brand_accounts
        )
        SELECT (SELECT count(*) FROM added ANTI JOIN _d_new_accounts USING (platform, account_id))
             + (SELECT count(*) FROM removed)""")
    return not changed[0]


def _apply_interactions(con: duckdb.DuckDBPyConnection) -> None:
    kinds = ", ".join(f"'{k}'" for k in MESSAGE_EDGE_KINDS)
    con.execute(f"""
        DELETE FROM staging.interactions i USING _aff_messages a
        WHERE i.kind IN ({kinds}) AND i.platform = a.platform AND i.via_id = a.message_id""")
    con.execute(f"""
        DELETE FROM staging.interactions i USING _aff_actions a
        WHERE i.kind NOT IN ({kinds}) AND i.platform = a.platform AND i.via_id = a.action_id""")
    con.execute("INSERT INTO staging.interactions " + INTERACTIONS.format(
        messages=scoped("staging.messages", "_aff_messages"),
        actions=scoped("staging.actions", "_aff_actions", "action_id"),
    ))


def _apply_message_brands(con: duckdb.DuckDBPyConnection, brands: list[Brand] | None) -> bool:
    """Every affected message's relations to brands again: its own, mentions of a brand made
    by affected actions, and the reply chains under it. Returns False when a message lost a
    brand it concerned: the replies under it may only have concerned that brand through it,
    and only a rebuild can tell."""
    con.execute("""
        CREATE TEMP TABLE _aff_brand_messages AS
        SELECT platform, message_id FROM _aff_messages
        UNION
        SELECT a.platform, a.target_message_id FROM staging.actions a
        SEMI JOIN _aff_actions x USING (platform, action_id)
        WHERE a.kind = 'mention' AND a.target_message_id IS NOT NULL""")
    con.execute("""
        CREATE TEMP TABLE _old_concerns AS
        SELECT DISTINCT b.platform, b.message_id, b.brand FROM staging.message_brands b
        SEMI JOIN _aff_brand_messages a USING (platform, message_id)""")
    con.execute("""
        DELETE FROM staging.message_brands b USING _aff_brand_messages a
        WHERE b.platform = a.platform AND b.message_id = a.message_id""")
    build_message_brands(con, brands, scope="_aff_brand_messages", record="_changed_messages")
    lost = _first(con, """
        SELECT count(*) FROM _old_concerns o
        ANTI JOIN staging.message_brands b USING (platform, message_id, brand)""")
    return not lost[0]


def apply_new_loads(
    con: duckdb.DuckDBPyConnection, brands: list[Brand] | None, load_ids: list[int]
) -> str | None:
    """Fold the raw rows of ``load_ids`` into the staging tables. Returns None when done, or
    why they cannot be folded in, in which case staging may be half updated and the caller
    must rebuild it."""
    con.execute("CREATE OR REPLACE TEMP TABLE _d_loads (load_id BIGINT)")
    con.execute("CREATE OR REPLACE TEMP TABLE _changed_messages"
                " (platform VARCHAR, message_id VARCHAR)")
    con.executemany("INSERT INTO _d_loads VALUES (?)", [[i] for i in load_ids])
    try:
        con.execute(f"CREATE TEMP TABLE _d_accounts AS {DECLARED_ACCOUNTS.format(scope=NEW_LOADS)}")
        for table, records, key in (("_d_messages", MESSAGE_RECORDS, "message_id"),
                                    ("_d_actions", ACTION_RECORDS, "action_id")):
            con.execute(f"CREATE TEMP TABLE {table} AS {records} {NEW_LOADS}")
            # the newest copy of each record, when the new loads hold a record twice
            if duplicated_keys(con, table, f"platform, {key}"):
                con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table}"
                            + NEWEST_COPY.format(key=key))
        reason = _changed_message(con) or _changed_action(con) or _changed_handle(con)
        if reason:
            return reason
        _apply_accounts(con)
        if not _brand_accounts_only_grew(con, brands):
            return "the new loads make an existing account a brand's, or no longer one"
        _apply_messages(con)
        _apply_actions(con)
        _apply_interactions(con)
        if not _apply_message_brands(con, brands):
            return "a message no longer concerns a brand it concerned"
        con.execute("INSERT INTO _changed_messages"
                    " SELECT platform, message_id FROM _aff_brand_messages")
        return None
    finally:
        for table in _WORK_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
