"""Catching ``marts.message_stance`` up on a fold-in gives the same rows as building it from all
of staging.

Files are loaded one at a time; after each, staging folds it in and the stance mart builds
only the threads it touched. The mart is then compared with a full build over the same
staging (and put back, so that any error would carry on into the next load).
"""

from __future__ import annotations

import random

import duckdb
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from pipelines.brands import load_brands
from pipelines.formats import parse_file
from pipelines.signals import build_message_stance
from pipelines.staging import build_staging
from pipelines.staging_refresh import refresh_staging
from pipelines.stance_refresh import refresh_message_stance
from pipelines.warehouse import create_raw_schema, load_files, store_parsed_file
from tests.conftest import SAMPLE_DIR
from tests.test_staging_incremental import (
    ACME,
    HANDLES,
    _message,
    _parsed,
    deal_sample,
)

TERMS = {ACME.name: ACME.terms()}
CRITICISM = "acme is the worst, still waiting on my refund"
DEFENSE = "@critic you are wrong, they fixed it fast"


def _stance(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT * FROM marts.message_stance ORDER BY ALL").fetchall()


def _assert_same_as_full_build(con: duckdb.DuckDBPyConnection, terms) -> None:
    caught_up = _stance(con)
    con.execute("CREATE OR REPLACE TEMP TABLE _kept AS SELECT * FROM marts.message_stance")
    build_message_stance(con, terms, workers=1)
    full = _stance(con)
    assert caught_up == full, {"only caught up": sorted(set(caught_up) - set(full)),
                               "only full": sorted(set(full) - set(caught_up))}
    con.execute("CREATE OR REPLACE TABLE marts.message_stance AS SELECT * FROM _kept")
    con.execute("DROP TABLE _kept")


def _refresh(con, brands, terms):
    staging = refresh_staging(con, brands)
    stance = refresh_message_stance(con, terms, workers=1)
    return staging.mode, stance.mode


def test_sample_dealt_into_files_catches_up_like_a_full_build(tmp_path):
    files = deal_sample(3, random.Random(3), tmp_path)
    brands = load_brands(SAMPLE_DIR / "brands.toml")
    terms = {b.name: b.terms() for b in brands}
    con = duckdb.connect()
    modes = []
    for path in files:
        load_files(con, [path], parse_file)
        modes.append(_refresh(con, brands, terms))
        _assert_same_as_full_build(con, terms)
    assert modes[0] == ("rebuilt", "rebuilt")
    assert modes[1:] == [("incremental", "incremental")] * (len(files) - 1)
    against, defenses = con.execute(
        "SELECT count(*) FILTER (WHERE stance = 'against'), count(*) FILTER (WHERE is_defense)"
        " FROM marts.message_stance").fetchone()
    assert against > 50 and defenses > 5


def _load(con, parsed):
    store_parsed_file(con, parsed, parsed.source_file, 0)
    return _refresh(con, [ACME], TERMS)


ACCOUNTS = [{"platform": "twitter", "account_id": str(k + 1), "handle": h}
            for k, h in enumerate(HANDLES)]


def test_a_late_criticism_turns_the_replies_already_there_into_defenses():
    con = duckdb.connect()
    create_raw_schema(con)
    # 2 (fan) answers 1's criticism under it; 4 and 5 answer the critic (3) further down
    # the thread; the criticism itself arrives last
    replies = [_message("2", "2", parent="1", text=DEFENSE),
               _message("4", "4", parent="3", text="acme is great"),
               _message("3", "3", parent="2", text="hi"),
               _message("5", "2", parent="3", text=DEFENSE)]
    assert _load(con, _parsed("a", ACCOUNTS, replies)) == ("rebuilt", "rebuilt")
    assert con.execute("SELECT count(*) FROM marts.message_stance WHERE is_defense"
                       ).fetchone()[0] == 0
    late = _parsed("b", messages=[_message("1", "3", text=CRITICISM)])
    assert _load(con, late) == ("incremental", "incremental")
    defended = con.execute("SELECT message_id, defended_message_id FROM marts.message_stance"
                           " WHERE is_defense ORDER BY 1").fetchall()
    assert defended == [("2", "1"), ("4", "1"), ("5", "1")]
    _assert_same_as_full_build(con, TERMS)


def _mention(action_id, actor, message_id):
    return {"platform": "twitter", "action_id": action_id, "kind": "mention", "actor_id": actor,
            "target_handle": "acme", "target_message_id": message_id, "source_format": "test",
            "source_file": "f", "source_line": 0}


def test_a_parent_that_becomes_a_criticism_reaches_a_reply_in_another_thread():
    con = duckdb.connect()
    create_raw_schema(con)
    # 1 complains without naming the brand; 2 answers it naming the brand, in a thread its
    # export declares as another one
    messages = [_message("1", "3", text="the worst, still waiting on my refund"),
                _message("2", "2", parent="1", thread="9",
                         text="@critic you are wrong, acme fixed it fast")]
    _load(con, _parsed("a", ACCOUNTS, messages))
    assert con.execute("SELECT count(*) FROM marts.message_stance WHERE is_defense"
                       ).fetchone()[0] == 0
    # a later file says 1 mentioned the brand: 1 is a criticism now, and 2 defends it
    assert _load(con, _parsed("b", actions=[_mention("m1", "3", "1")])) == (
        "incremental", "incremental")
    assert con.execute("SELECT message_id, defended_message_id FROM marts.message_stance"
                       " WHERE is_defense").fetchall() == [("2", "1")]
    _assert_same_as_full_build(con, TERMS)


def test_a_criticism_that_moves_to_another_thread_stops_a_defense_in_the_old_one():
    con = duckdb.connect()
    create_raw_schema(con)
    # 5 criticises under 1, which has not arrived: its thread is "1". 6 answers the critic
    # in thread "1" (as declared by its export), so it defends 5.
    messages = [_message("5", "3", parent="1", text=CRITICISM),
                _message("8", "3", thread="1", text="acme, hi"),
                _message("6", "2", parent="8", thread="1", text=DEFENSE)]
    _load(con, _parsed("a", ACCOUNTS, messages))
    assert con.execute("SELECT message_id FROM marts.message_stance WHERE is_defense"
                       ).fetchall() == [("6",)]
    # 1 arrives, itself a reply to 20: 5's thread is now "20", and 6 defends nothing there
    assert _load(con, _parsed("b", messages=[_message("1", "4", parent="20")])) == (
        "incremental", "incremental")
    assert con.execute("SELECT count(*) FROM marts.message_stance WHERE is_defense"
                       ).fetchone()[0] == 0
    _assert_same_as_full_build(con, TERMS)


def test_nothing_new_leaves_the_mart_and_a_rebuilt_staging_rebuilds_it():
    con = duckdb.connect()
    create_raw_schema(con)
    _load(con, _parsed("a", ACCOUNTS, [_message("1", "3", text=CRITICISM)]))
    before = _stance(con)
    assert _refresh(con, [ACME], TERMS) == ("unchanged", "unchanged")
    assert _stance(con) == before
    # an edited text rebuilds staging, and so the mart
    edited = _parsed("b", messages=[_message("1", "3", text="acme is great")])
    store_parsed_file(con, edited, "b", 0)
    assert refresh_staging(con, [ACME]).mode == "rebuilt"
    update = refresh_message_stance(con, TERMS, workers=1)
    assert update.mode == "rebuilt" and "staging was rebuilt" in update.reason
    assert con.execute("SELECT stance FROM marts.message_stance").fetchall() == [("favor",)]
    # other brand terms: the same staging, every row judged again
    update = refresh_message_stance(con, {ACME.name: ["acme", "acme air"]}, workers=1)
    assert update.mode == "rebuilt" and "terms" in update.reason


@st.composite
def threads(draw):
    """A reply forest of criticisms, defenses and chatter, and mentions of the brand, dealt
    into files in any order."""
    n = draw(st.integers(2, 20))
    messages = []
    for i in range(1, n + 1):
        author = str(draw(st.integers(2, len(HANDLES))))
        parent = draw(st.one_of(st.none(), st.integers(1, n + 2)))
        text = draw(st.sampled_from([CRITICISM, DEFENSE, "acme is great", "hi", "@acme help"]))
        thread = draw(st.one_of(st.none(), st.just("1")))
        messages.append(_message(str(i), author, parent=str(parent) if parent else None,
                                 text=text, thread=thread))
    mentions = [_mention(f"m{j}", str(draw(st.integers(2, len(HANDLES)))),
                         str(draw(st.integers(1, n))))
                for j in range(draw(st.integers(0, 4)))]
    parts = draw(st.integers(2, 4))
    files = [([], []) for _ in range(parts)]
    for index, rows in enumerate((messages, mentions)):
        for row in rows:
            for part in draw(st.lists(st.integers(0, parts - 1), min_size=1, max_size=2,
                                      unique=True)):
                files[part][index].append(row)
    return [_parsed(f"file{i}", ACCOUNTS if i == 0 else (), *rows)
            for i, rows in enumerate(files)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(threads())
def test_random_threads_catch_up_like_a_full_build(files):
    con = duckdb.connect()
    create_raw_schema(con)
    for parsed in files:
        note(f"{parsed.source_file}: " + "; ".join(
            f"{m['message_id']} by {m['author_id']} under {m['parent_id']}"
            f" in {m['thread_id']}: {m['text']}" for m in parsed.messages.iter_rows(named=True)))
        staging_mode, stance_mode = _load(con, parsed)
        assert stance_mode == staging_mode
        _assert_same_as_full_build(con, TERMS)


def test_a_run_that_stopped_half_way_rebuilds():
    con = duckdb.connect()
    create_raw_schema(con)
    _load(con, _parsed("a", ACCOUNTS, [_message("1", "3", text=CRITICISM)]))
    con.execute("DELETE FROM state.stance_built")  # as a failed build leaves it
    store_parsed_file(con, _parsed("b", messages=[_message("2", "2", parent="1",
                                                           text=DEFENSE)]), "b", 0)
    assert refresh_staging(con, [ACME]).mode == "incremental"
    update = refresh_message_stance(con, TERMS, workers=1)
    assert update.mode == "rebuilt" and "half way" in update.reason


def test_a_mart_built_from_staging_without_a_version_is_rebuilt_next_time():
    con = duckdb.connect()
    create_raw_schema(con)
    store_parsed_file(con, _parsed("a", ACCOUNTS, [_message("1", "3", text=CRITICISM)]), "a", 0)
    build_staging(con, [ACME])  # no state.staging_log
    assert refresh_message_stance(con, TERMS, workers=1).mode == "rebuilt"
    store_parsed_file(con, _parsed("b", messages=[_message("2", "2", parent="1",
                                                           text=DEFENSE)]), "b", 0)
    assert refresh_staging(con, [ACME]).mode == "rebuilt"  # no record of what it holds
    update = refresh_message_stance(con, TERMS, workers=1)
    assert update.mode == "rebuilt"
    assert con.execute("SELECT message_id FROM marts.message_stance WHERE is_defense"
                       ).fetchall() == [("2",)]


def test_a_defense_of_a_critic_with_two_criticisms_at_once_picks_the_same_one_every_time():
    con = duckdb.connect()
    create_raw_schema(con)
    same_time = {"created_at": _message("1", "3")["created_at"]}
    messages = [{**_message("11", "3", thread="t", text=CRITICISM), **same_time},
                {**_message("12", "3", thread="t", text=CRITICISM), **same_time},
                _message("30", "3", thread="t", text="acme, hi"),
                _message("40", "2", parent="30", thread="t", text=DEFENSE)]
    _load(con, _parsed("a", ACCOUNTS, messages))
    assert con.execute("SELECT defended_message_id FROM marts.message_stance"
                       " WHERE message_id = '40'").fetchall() == [("12",)]


def test_a_critics_follow_up_is_judged_once_whoever_its_export_says_it_answers():
    con = duckdb.connect()
    create_raw_schema(con)
    # 2 is the critic's own reply under their criticism 1, but its export names account 4,
    # also a critic in the thread, as the author of what it answers
    messages = [_message("1", "3", thread="t", text=CRITICISM),
                _message("5", "4", thread="t", text="acme is terrible"),
                {**_message("2", "3", parent="1", thread="t", text="hi"),
                 "parent_author_id": "4"}]
    _load(con, _parsed("a", ACCOUNTS, messages))
    rows = con.execute("SELECT message_id, brand, count(*) FROM marts.message_stance"
                       " GROUP BY ALL ORDER BY 1").fetchall()
    assert rows == [("1", "Acme", 1), ("2", "Acme", 1), ("5", "Acme", 1)]
