"""Keeping ``marts.message_stance`` up to date at the least cost.

Stance rows do not depend on the as-of date, only on staging. ``state.stance_built`` records
the staging version (``pipelines.staging_refresh``) the mart was last built from and what it
was built with (model version, brand terms, the code that builds it). Then:

- staging has not changed since: the mart is left as it is;
- staging only folded new files in since: the rows of the messages it lists as changed are
  built again, with everything they can affect (below);
- anything else (the first build, a staging rebuild, another model, other brand terms, other
  code): the mart is built again from all of staging.

What a row depends on: its own message and brand relations, its parent (a reply under a
criticism), and the criticisms in its thread (a reply to a critic elsewhere in it). So the
rows built again are those of every thread a changed message is in or was in, and of the
threads of their messages' parents and children (repeated until no thread is added: a
reply usually shares its parent's thread, but an export's declared thread may differ);
every other row depends on nothing that changed. The tests fold files in one by one and
compare with a full build.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb

from pipelines.refresh import Update, inputs_fingerprint, table_exists
from pipelines.signals import build_message_stance
from pipelines.staging_refresh import staging_version
from pipelines.stance import MODEL_VERSION, StanceModel
from pipelines.stance_classifier import StanceClassifier

SCOPE_ROUNDS = 20  # thread-to-linked-thread expansions before building everything instead


def stance_fingerprint(
    terms_by_brand: Mapping[str, Sequence[str]], classifier: StanceClassifier | None
) -> str:
    """The model, the brand terms and the code the mart is built with."""
    version = classifier.version if classifier is not None else MODEL_VERSION
    terms = sorted((brand, sorted(t)) for brand, t in terms_by_brand.items())
    return inputs_fingerprint((version, terms),
                              ("signals.py", "stance.py", "stance_refresh.py"))


def _plan(con: duckdb.DuckDBPyConnection, fingerprint: str,
          current: int | None) -> tuple[str, str, int | None]:
    """(mode, reason, the staging version the mart was built from)."""
    if current is None:
        return "rebuilt", "staging keeps no version log", None
    rows = con.execute("SELECT staging_version, inputs FROM state.stance_built").fetchall()
    built = rows[0] if rows else None
    if built is None or not table_exists(con, "marts", "message_stance"):
        return "rebuilt", "first build (or the last one stopped half way)", None
    if built[0] is None:
        return "rebuilt", "the last build was made from staging without a version", None
    staging_done = con.execute("SELECT count(*) FROM state.staging_built").fetchall()[0][0]
    if not staging_done:
        return "rebuilt", "staging's last update stopped half way", None
    if built[1] != fingerprint:
        return "rebuilt", "the stance model, brand terms or stance code changed", None
    if built[0] == current:
        return "unchanged", "staging has not changed since the last build", built[0]
    rebuilt = con.execute(
        "SELECT count(*) FROM state.staging_log WHERE version > ? AND mode <> 'incremental'",
        [built[0]]).fetchall()[0][0]
    if rebuilt or built[0] > current:
        return "rebuilt", "staging was rebuilt since the last build", None
    return "incremental", "staging folded new files in", built[0]


def _build_scope(con: duckdb.DuckDBPyConnection, since: int) -> bool:
    """``_stance_scope`` (platform, message_id): every message whose row may have changed
    since staging version ``since``. False when the scope keeps growing (then build all)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _stance_changed AS
        SELECT DISTINCT platform, message_id FROM state.staging_changes WHERE version > ?
        """,
        [since],
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _stance_threads AS
        SELECT DISTINCT m.platform, m.thread_id FROM staging.messages m
        SEMI JOIN _stance_changed USING (platform, message_id)
        UNION
        SELECT DISTINCT s.platform, s.thread_id FROM marts.message_stance s
        SEMI JOIN _stance_changed USING (platform, message_id)
        """
    )
    settled = False
    for _ in range(SCOPE_ROUNDS):
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _stance_scope AS
            SELECT platform, message_id FROM staging.messages
            SEMI JOIN _stance_threads USING (platform, thread_id)
            UNION
            SELECT platform, message_id FROM _stance_changed
            """
        )
        added = con.execute(
            """
            INSERT INTO _stance_threads
            WITH linked AS (
                -- the threads of the scope's children, and of its parents
                SELECT c.platform, c.thread_id FROM staging.messages c
                JOIN _stance_scope s ON s.platform = c.platform AND s.message_id = c.parent_id
                UNION
                SELECT p.platform, p.thread_id FROM staging.messages c
                JOIN _stance_scope s ON s.platform = c.platform AND s.message_id = c.message_id
                JOIN staging.messages p
                  ON p.platform = c.platform AND p.message_id = c.parent_id
            )
            SELECT DISTINCT l.platform, l.thread_id FROM linked l
            ANTI JOIN _stance_threads t
                   ON t.platform = l.platform AND t.thread_id = l.thread_id
            """
        ).fetchall()[0][0]
        if not added:
            settled = True
            break
    con.execute("DROP TABLE _stance_changed")
    con.execute("DROP TABLE _stance_threads")
    return settled


def refresh_message_stance(
    con: duckdb.DuckDBPyConnection,
    terms_by_brand: Mapping[str, Sequence[str]],
    model: StanceModel | None = None,
    workers: int | None = None,
    classifier: StanceClassifier | None = None,
) -> Update:
    """Bring ``marts.message_stance`` up to date with staging (see the module docstring)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS state")
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute("CREATE TABLE IF NOT EXISTS state.stance_built"
                " (staging_version BIGINT, inputs VARCHAR, built_at TIMESTAMPTZ)")
    fingerprint = stance_fingerprint(terms_by_brand, classifier)
    current = staging_version(con)
    mode, reason, since = _plan(con, fingerprint, current)
    counts = {"messages_judged": 0, "scored_this_run": 0, "messages_in_scope": 0}
    if mode == "unchanged":
        return Update(mode, reason, counts)
    # From here on the mart is being changed: a run that stops half way rebuilds it next time.
    con.execute("DELETE FROM state.stance_built")
    scope = None
    if mode == "incremental":
        if _build_scope(con, since):
            scope = "_stance_scope"
            counts["messages_in_scope"] = con.execute(
                "SELECT count(*) FROM _stance_scope").fetchall()[0][0]
        else:
            mode, reason = "rebuilt", "the changed threads kept leading to more threads"
    counts.update(build_message_stance(con, terms_by_brand, model=model, workers=workers,
                                       classifier=classifier, scope=scope))
    con.execute("DROP TABLE IF EXISTS _stance_scope")
    con.execute("INSERT INTO state.stance_built VALUES (?, ?, now())", [current, fingerprint])
    if current is not None:
        con.execute("DELETE FROM state.staging_changes WHERE version <= ?", [current])
    return Update(mode, reason, counts)
