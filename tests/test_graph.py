"""Graph metrics on a four-account graph whose answers can be counted by hand."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.graph import build_graph_metrics
from pipelines.settings import DEFAULT_SETTINGS

AS_OF = "2026-10-31 00:00:00+00"

# (actor, target, kind, created_at); NULL times count as happening at the as-of date
EDGES = [
    (0, 1, "reply", None),
    (1, 0, "like", None),
    (0, 2, "follow", None),
    (0, 2, "mention", None),  # a second engagement of the same pair
    (3, 1, "share", None),
    (2, 1, "quote", None),
    (1, 3, "like", "2026-11-02 00:00:00+00"),  # after the as-of date: not in the graph
]


@pytest.fixture
def metrics():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging; CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE staging.accounts AS SELECT 'x' AS platform, 'a' || k AS account_id,"
        " k::BIGINT AS account_key FROM range(4) t(k)"
    )
    con.execute("CREATE TABLE staging.interactions (actor_key BIGINT, target_key BIGINT,"
                " kind VARCHAR, created_at TIMESTAMPTZ)")
    con.executemany("INSERT INTO staging.interactions VALUES (?, ?, ?, ?)", EDGES)
    stats = build_graph_metrics(con, AS_OF, DEFAULT_SETTINGS)
    rows = con.execute(
        "SELECT account_id, pagerank, weighted_in_degree, distinct_engagers, reciprocity,"
        " amplification FROM marts.account_graph_metrics ORDER BY account_id"
    ).fetchall()
    return stats, {r[0]: r[1:] for r in rows}


def test_edges_are_distinct_pairs_before_the_as_of_date(metrics):
    stats, _ = metrics
    assert stats == {"nodes": 4, "edges": 5}


def test_reciprocity_is_the_share_of_engaged_accounts_that_engage_back(metrics):
    _, m = metrics
    reciprocity = {a: row[3] for a, row in m.items()}
    # a0 engages a1 (who likes it back) and a2 (who does not); a1's like of a3 is too late
    assert reciprocity == {"a0": 0.5, "a1": 1.0, "a2": 0.0, "a3": 0.0}


def test_engagers_amplification_and_weighted_in_degree(metrics):
    _, m = metrics
    assert {a: row[2] for a, row in m.items()} == {"a0": 1, "a1": 3, "a2": 1, "a3": 0}
    assert {a: row[4] for a, row in m.items()} == {"a0": 0, "a1": 2, "a2": 0, "a3": 0}
    w = DEFAULT_SETTINGS.edge_weights
    assert m["a2"][1] == pytest.approx(w["follow"] + w["mention"])
    assert m["a1"][1] == pytest.approx(w["reply"] + w["share"] + w["quote"])


def test_pagerank_is_a_distribution_led_by_the_most_engaged(metrics):
    _, m = metrics
    pagerank = {a: row[0] for a, row in m.items()}
    assert sum(pagerank.values()) == pytest.approx(1.0)
    assert max(pagerank, key=pagerank.get) == "a1"
