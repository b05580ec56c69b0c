"""Signals and scores on small hand-made threads, loaded straight into the raw layer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl
import pytest

from pipelines.brands import Brand
from pipelines.graph import build_graph_metrics
from pipelines.model import ParsedFile, conform
from pipelines.score_history import SnapshotFolders, record_snapshot
from pipelines.scoring import build_scores
from pipelines.settings import DEFAULT_SETTINGS
from pipelines.signals import (
    build_defense_events,
    build_message_stance,
    build_reciprocal_conversations,
    build_share_events,
    build_talk_back,
)
from pipelines.staging import build_staging
from pipelines.warehouse import create_raw_schema, store_parsed_file

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
AS_OF = "2026-10-31 00:00:00+00"
ACME = Brand(name="Acme Air", keywords=("acme air",), accounts={"twitter": ("acme",)})

ACCOUNTS = {
    "1": ("acme", 90_000),
    "10": ("critic", 300),
    "11": ("critic2", 150),
    "20": ("defender", 400),
    "30": ("sharer", 250),
    "40": ("chatty", 120),
    "50": ("asker", 80),
    "60": ("bigvoice", 400_000),
    "70": ("fan", 50),
    "80": ("clockwork", 10),
    "90": ("flooder", 10),
}


def _msg(mid, author, text, minutes, parent=None, parent_author=None, quoted=None):
    return {
        "platform": "twitter", "message_id": mid, "author_id": author,
        "kind": "reply" if parent else ("quote" if quoted else "post"),
        "text": text, "created_at": T0 + timedelta(minutes=minutes),
        "parent_id": parent, "parent_author_id": parent_author, "quoted_id": quoted,
        "url": f"https://x.test/{mid}",
        "source_format": "test", "source_file": "threads", "source_line": minutes,
    }


def _mention(mid, actor, handle, minutes):
    return {
        "platform": "twitter", "action_id": f"{mid}:mention:{handle}", "kind": "mention",
        "actor_id": actor, "target_handle": handle, "target_message_id": mid,
        "created_at": T0 + timedelta(minutes=minutes), "source_format": "test",
        "source_file": "threads", "source_line": minutes,
    }


def _share(aid, actor, target_mid, target_author, minutes):
    return {
        "platform": "twitter", "action_id": aid, "kind": "share", "actor_id": actor,
        "target_account_id": target_author, "target_message_id": target_mid,
        "created_at": T0 + timedelta(minutes=minutes), "source_format": "test",
        "source_file": "threads", "source_line": minutes,
    }


MESSAGES = [
    _msg("100", "1", "Our autumn timetable is live: new routes to Lisbon and Porto.", 0),
    _msg("101", "10", "@acme lost my bag again, worst airline ever", 10),
    _msg("102", "20", "@critic not my experience at all, they rebooked me in minutes", 20,
         parent="101", parent_author="10"),
    # the critic going on under their own complaint: not an answer to a criticism
    _msg("105", "10", "@acme you are the worst, never again", 12, parent="101",
         parent_author="10"),
    _msg("103", "11", "@acme cancelled my flight and still no refund after 3 weeks", 30),
    _msg("104", "20", "@critic2 that's not fair, their crew have always been great to me", 40,
         parent="103", parent_author="11"),
    _msg("110", "40", "@acme what a lovely crew on my flight today, thank you!", 50),
    _msg("111", "1", "@chatty thank you so much, we'll pass it on to the crew!", 55,
         parent="110", parent_author="40"),
    _msg("112", "40", "@acme you're welcome, see you on the next trip", 60,
         parent="111", parent_author="1"),
    _msg("113", "1", "@chatty can't wait to have you on board again", 65,
         parent="112", parent_author="40"),
    _msg("120", "50", "@acme how do I change my seat on an existing booking?", 70),
    _msg("130", "60", "Travel tip thread: what I pack for a long weekend", 80),
    _msg("140", "70", "Acme Air has the friendliest cabin crew, love flying with them", 90),
    # a deleted account's praise: judged like any message, but no one to score or thank
    _msg("141", "[deleted]", "Acme Air crew were wonderful, love flying with them", 92),
    # a bot: a different cheerful line about the brand every 60 minutes, on the minute
    *[_msg(f"5{i:02d}", "80", f"Acme Air deal number {i}: great fares, love it!", 200 + 60 * i)
      for i in range(12)],
    # a mention flooder: seven accounts named in every message
    *[_msg(f"6{i:02d}", "90", f"@acme @a{i} @b @c @d @e @f wow thank you acme air {i}", 300 + i)
      for i in range(3)],
]
ACTIONS = [
    *[_mention(f"6{i:02d}", "90", h, 300 + i) for i in range(3)
      for h in ("acme", f"a{i}", "b", "c", "d", "e", "f")],
    _mention("101", "10", "acme", 10),
    _mention("103", "11", "acme", 30),
    _mention("110", "40", "acme", 50),
    _mention("112", "40", "acme", 60),
    _mention("120", "50", "acme", 70),
    _mention("140", "70", "someone_unknown", 90),  # a handle no account in the data has
    _share("200", "30", "100", "1", 5),
    _share("201", "30", "100", "1", 6),
    _share("202", "30", "100", "1", 7),
    _share("203", "30", "100", "1", 8),
    *[_share(f"3{i:02d}", str(i + 1000), "130", "60", 85 + i) for i in range(30)],
    _share("400", "60", "130", "60", 95),  # sharing its own post is not an edge
]


def staged(accounts: list[dict], messages: list[dict], actions: list[dict],
           brands: list[Brand]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with these rows loaded as one file ("threads") and staged."""
    con = duckdb.connect()
    create_raw_schema(con)
    parsed = ParsedFile(
        source_file="threads", source_format="test",
        accounts=conform(pl.DataFrame(
            [{**a, "source_format": "test", "source_file": "threads"} for a in accounts]),
            "accounts"),
        messages=conform(pl.DataFrame(messages), "messages"),
        actions=conform(pl.DataFrame(actions), "actions"),
    )
    store_parsed_file(con, parsed, "hash", 0)
    build_staging(con, brands)
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    return con


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    con = staged(
        [{"platform": "twitter", "account_id": k, "handle": h, "followers_count": f}
         for k, (h, f) in ACCOUNTS.items()],
        MESSAGES, ACTIONS, [ACME],
    )
    build_message_stance(con, {ACME.name: ACME.terms()}, workers=1)
    build_defense_events(con)
    build_share_events(con)
    build_reciprocal_conversations(con)
    build_talk_back(con, AS_OF)
    build_graph_metrics(con, AS_OF, DEFAULT_SETTINGS)
    build_scores(con, AS_OF, DEFAULT_SETTINGS)
    history = tmp_path_factory.mktemp("history")
    record_snapshot(con, SnapshotFolders(history / "published", history / "pending"),
                    "2026-10-30", DEFAULT_SETTINGS.history_daily_days)
    yield con
    con.close()


def _one(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()


def test_thread_roots_follow_parent_links(warehouse):
    roots = dict(_one(warehouse, "SELECT message_id, thread_id FROM staging.messages"))
    assert roots["113"] == roots["112"] == roots["111"] == "110"
    assert roots["102"] == "101"


def test_unresolved_mention_has_no_target(warehouse):
    rows = _one(warehouse, "SELECT target_account_id, target_handle FROM staging.actions"
                " WHERE action_id = '140:mention:someone_unknown'")
    assert rows == [(None, "someone_unknown")]  # never the mentioner itself


def test_criticism_and_defense_are_linked(warehouse):
    stance = {
        mid: (s, d, dm)
        for mid, s, d, dm in _one(
            warehouse,
            "SELECT message_id, stance, is_defense, defended_message_id"
            " FROM marts.message_stance",
        )
    }
    assert stance["101"][0] == "against"
    assert stance["105"][0] == "against"  # judged as a message to the brand, not a rebuttal
    assert stance["103"][0] == "against"
    assert stance["102"] == ("favor", True, "101")
    assert stance["104"] == ("favor", True, "103")
    assert stance["120"][0] == "neutral"
    events = _one(
        warehouse,
        "SELECT defender_id, critic_id, criticism_message_id FROM marts.defense_events"
        " ORDER BY 3",
    )
    assert events == [("20", "10", "101"), ("20", "11", "103")]


def test_brand_messages_are_not_judged(warehouse):
    judged = {r[0] for r in _one(warehouse, "SELECT author_id FROM marts.message_stance")}
    assert "1" not in judged


def test_shares_and_reciprocal_conversation(warehouse):
    shares = _one(warehouse, "SELECT account_id, count(*) FROM marts.share_events GROUP BY 1")
    assert shares == [("30", 4)]
    convo = _one(
        warehouse,
        "SELECT account_id, thread_id, account_turns, brand_turns, turns"
        " FROM marts.reciprocal_conversations",
    )
    assert convo == [("40", "110", 2, 2, 4)]
    # the account's last message in it: id, link and excerpt all of that one message
    last = _one(
        warehouse,
        "SELECT last_account_message_id, last_account_url, last_account_excerpt"
        " FROM marts.reciprocal_conversations",
    )
    assert last == [("112", "https://x.test/112",
                     "@acme you're welcome, see you on the next trip")]


def test_talk_back_lists_unanswered_messages(warehouse):
    waiting = {r[0] for r in _one(warehouse, "SELECT account_id FROM marts.talk_back")}
    assert "50" in waiting  # asked a question, got no answer
    assert "40" not in waiting  # the brand answered


def test_report_talk_back_leaves_out_accounts_excluded_from_the_ranking(warehouse):
    """The mention flooder's messages to the brand went unanswered, so it is in the table,
    but the report does not ask a community manager to answer an excluded account."""
    from pipelines.movement import build_movement
    from pipelines.report_data import brand_reports

    waiting = {r[0] for r in _one(warehouse, "SELECT account_id FROM marts.talk_back")}
    excluded = {r[0] for r in _one(warehouse, "SELECT account_id FROM marts.advocate_scores"
                                              " WHERE excluded_reason IS NOT NULL")}
    assert "90" in waiting & excluded
    build_movement(warehouse, "2026-10-30", DEFAULT_SETTINGS)
    (report,) = brand_reports(warehouse, DEFAULT_SETTINGS)
    shown = {row.account_id for row in report.talk_back}
    assert shown == waiting - excluded
    assert "50" in shown and "90" not in shown


def test_report_talk_back_shows_the_newest_waiting_messages_first_with_handles(warehouse):
    """Of the messages still waiting for an answer (the critics' at 12:10 and 12:30, the
    seat question at 13:10), the report lists the newest first, as many as it is told to,
    with the handle to answer."""
    from dataclasses import replace

    from pipelines.movement import build_movement
    from pipelines.report_data import brand_reports

    build_movement(warehouse, "2026-10-30", DEFAULT_SETTINGS)
    (report,) = brand_reports(warehouse, replace(DEFAULT_SETTINGS, report_talk_back=2))
    assert [(r.handle, r.message_id) for r in report.talk_back] == [
        ("asker", "120"), ("critic2", "103")]


def test_talk_back_as_of_a_past_moment(warehouse):
    """As of 12:57 on the first day: chatty's thank-you (12:50) has its answer (12:55), the
    question of 13:10 has not been asked yet, and nothing waits a negative time."""
    try:
        build_talk_back(warehouse, "2026-10-01 12:57:00+00")
        rows = _one(warehouse, "SELECT account_id, message_id, waiting_days, created_at"
                               " FROM marts.talk_back ORDER BY account_id")
        assert [r[0] for r in rows] == ["10", "11"]  # the two critics, before anyone else
        assert all(r[2] >= 0 for r in rows)
        assert max(r[3] for r in rows) < T0 + timedelta(minutes=57)
        build_talk_back(warehouse, "2026-10-01 12:52:00+00")  # before the brand answered
        assert "40" in {r[0] for r in _one(warehouse, "SELECT account_id FROM marts.talk_back")}
    finally:
        build_talk_back(warehouse, AS_OF)


def test_roles_and_ranks(warehouse):
    rows = {
        r[0]: r[1:]
        for r in _one(
            warehouse,
            "SELECT account_id, role, rank, advocacy_score, influence_score"
            " FROM marts.advocate_scores",
        )
    }
    assert "1" not in rows  # the brand is never its own advocate
    assert rows["20"][0] in ("advocate", "champion")
    assert rows["20"][1] == 1  # two defenses beat everything else here
    assert rows["40"][0] in ("advocate", "champion")
    assert rows["30"][0] in ("advocate", "champion")
    assert rows["10"][0] == "detractor" and rows["11"][0] == "detractor"
    assert rows["50"][0] == "casual"
    assert rows["70"][0] == "casual"  # one favourable remark is not advocacy
    for _role, _rank, advocacy, influence in rows.values():
        assert 0 <= advocacy <= 100 and 0 <= influence <= 100
    top3 = {k for k, v in rows.items() if v[1] in (1, 2, 3)}
    assert top3 == {"20", "30", "40"}


def test_bots_and_mention_flooders_are_left_out_of_the_ranking(warehouse):
    rows = dict(_one(
        warehouse,
        "SELECT account_id, excluded_reason FROM marts.advocate_scores WHERE rank IS NULL",
    ))
    assert rows == {
        "80": "posts at machine-regular intervals (suspected bot)",
        "90": "floods messages with mentions (suspected spam)",
    }
    roles = dict(_one(warehouse, "SELECT account_id, role FROM marts.advocate_scores"))
    assert roles["80"] == roles["90"] == "casual"


def test_influence_comes_from_amplification_and_reach(warehouse):
    scores = dict(_one(warehouse, "SELECT account_id, influence_score FROM marts.advocate_scores"))
    # bigvoice never engaged the brand, so it is not scored for it at all
    assert "60" not in scores
    metrics = dict(_one(
        warehouse, "SELECT account_id, amplification FROM marts.account_graph_metrics"))
    assert metrics["60"] == 30  # 30 other accounts shared its post; its own share is no edge


def test_evidence_points_at_real_messages(warehouse):
    evidence = _one(
        warehouse,
        "SELECT kind, message_id FROM marts.score_evidence WHERE account_id = '20'"
        " ORDER BY evidence_rank",
    )
    assert evidence[:2] == [("defense", "104"), ("defense", "102")]
    ids = _one(
        warehouse,
        "SELECT evidence_message_ids FROM marts.advocate_scores WHERE account_id = '20'",
    )[0][0]
    assert ids[:2] == ["104", "102"]


def test_accounts_left_unscored_keep_no_evidence(warehouse):
    """A deleted account's favourable message is judged, but the account is not scored, so
    no evidence is kept for it either: every evidence row belongs to a scored account."""
    judged = _one(warehouse, "SELECT stance FROM marts.message_stance WHERE message_id = '141'")
    assert judged == [("favor",)]
    assert _one(warehouse, "SELECT count(*) FROM marts.advocate_scores"
                           " WHERE account_id = '[deleted]'") == [(0,)]
    assert _one(warehouse, "SELECT count(*) FROM marts.score_evidence"
                           " WHERE account_id = '[deleted]'") == [(0,)]
    orphans = _one(warehouse, """
        SELECT count(*) FROM marts.score_evidence e
        ANTI JOIN marts.advocate_scores s USING (brand, platform, account_id)""")
    assert orphans == [(0,)]


def test_scoring_puts_the_connections_optimizer_settings_back(warehouse, monkeypatch):
    """The scores query switches one DuckDB optimizer off for itself (it picks the wrong side
    of its joins to hash); what the connection had switched off before is back after, when
    the query succeeds and when it fails, and the scores are the same."""
    from pipelines import scoring

    def setting():
        return _one(warehouse, "SELECT current_setting('disabled_optimizers')")[0][0]

    ranks = "SELECT account_id, role, rank, advocacy_score FROM marts.advocate_scores"
    before = sorted(_one(warehouse, ranks))
    warehouse.execute("SET disabled_optimizers = 'late_materialization'")
    seen, create = [], scoring._create_scores

    def watched(con, params):
        seen.append(setting())
        create(con, params)

    monkeypatch.setattr(scoring, "_create_scores", watched)
    try:
        build_scores(warehouse, AS_OF, DEFAULT_SETTINGS)
        assert [set(names.split(",")) for names in seen] == [
            {"late_materialization", "build_side_probe_side"}]
        assert setting() == "late_materialization"
        assert sorted(_one(warehouse, ranks)) == before

        def failing(con, params):
            raise duckdb.InterruptException("cancelled")

        monkeypatch.setattr(scoring, "_create_scores", failing)
        with pytest.raises(duckdb.InterruptException):
            build_scores(warehouse, AS_OF, DEFAULT_SETTINGS)
        assert setting() == "late_materialization"
    finally:
        warehouse.execute("RESET disabled_optimizers")
        monkeypatch.setattr(scoring, "_create_scores", create)
        build_scores(warehouse, AS_OF, DEFAULT_SETTINGS)  # the tables as the others expect
    assert setting() == ""


def test_each_message_is_scored_once_across_runs(warehouse):
    """Runs last in this module: it edits a message. A second run scores nothing again; a
    message whose text changed is scored again, alone."""
    terms = {ACME.name: ACME.terms()}
    again = build_message_stance(warehouse, terms, workers=1)
    assert again["scored_this_run"] == 0
    assert again["messages_judged"] > 20
    warehouse.execute(
        "UPDATE staging.messages SET text = '@acme honestly the best airline, thank you!'"
        " WHERE message_id = '120'"
    )
    changed = build_message_stance(warehouse, terms, workers=1)
    assert changed["scored_this_run"] == 1
    stance = _one(warehouse, "SELECT stance FROM marts.message_stance WHERE message_id = '120'")
    assert stance == [("favor",)]
    # a classifier judges everything once; switching back and forth judges nothing twice
    from pipelines.stance_classifier import StanceClassifier
    from tests.test_stance_classifier import FakeEncoder, _head

    classifier = StanceClassifier(_head(), FakeEncoder())
    first = build_message_stance(warehouse, terms, workers=1, classifier=classifier)
    assert first["scored_this_run"] == first["messages_judged"] > 20
    assert _one(warehouse, "SELECT DISTINCT stance_model FROM marts.message_stance") == [
        (classifier.version,)]
    assert build_message_stance(warehouse, terms, workers=1)["scored_this_run"] == 0
    assert build_message_stance(warehouse, terms, workers=1,
                                 classifier=classifier)["scored_this_run"] == 0
    # a newer head: its judgements replace the older head's, the lexicon's stay
    retrained = StanceClassifier(
        type(_head())(_head().classes, _head().coef * 2, _head().intercept, {}), FakeEncoder())
    build_message_stance(warehouse, terms, workers=1, classifier=retrained)
    versions = {v for (v,) in _one(warehouse,
                                   "SELECT DISTINCT model_version FROM state.stance_cache")}
    assert versions == {"rules-2", retrained.version}
