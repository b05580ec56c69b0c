"""Folding new loads into staging gives the same tables as rebuilding staging from all of raw.

Each test loads files one at a time, lets ``refresh_staging`` fold each into staging, then
rebuilds staging from scratch over the same raw layer and compares every table. Account keys
are numbered differently by the two paths (new accounts are appended), so tables are compared
without them, and the keys are checked on their own: unique, dense, and agreeing with the
interactions that use them.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.brands import Brand, load_brands
from pipelines.formats import parse_file
from pipelines.model import ParsedFile, conform, empty_frame
from pipelines.staging import STAGING_TABLES, build_staging
from pipelines.staging_refresh import refresh_staging
from pipelines.warehouse import create_raw_schema, load_files, store_parsed_file
from tests.conftest import SAMPLE_DIR

KEY_COLUMNS = {"accounts": ("account_key",), "interactions": ("actor_key", "target_key")}
T0 = datetime(2026, 10, 1, tzinfo=UTC)
ACME = Brand(name="Acme", keywords=("acme",), accounts={"twitter": ("acme",)})


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    out = {}
    for table in STAGING_TABLES:
        keys = KEY_COLUMNS.get(table)
        columns = f"* EXCLUDE ({', '.join(keys)})" if keys else "*"
        out[table] = con.execute(f"SELECT {columns} FROM staging.{table} ORDER BY ALL").fetchall()
    return out


def _check_keys(con: duckdb.DuckDBPyConnection) -> None:
    n, distinct, low, high = con.execute(
        "SELECT count(*), count(DISTINCT account_key), min(account_key), max(account_key)"
        " FROM staging.accounts").fetchone()
    assert n == distinct and (n == 0 or (low, high) == (0, n - 1))
    wrong = con.execute("""
        SELECT count(*) FROM staging.interactions i
        JOIN staging.accounts s ON s.platform = i.platform AND s.account_id = i.actor_id
        JOIN staging.accounts t ON t.platform = i.platform AND t.account_id = i.target_id
        WHERE s.account_key <> i.actor_key OR t.account_key <> i.target_key""").fetchone()[0]
    assert wrong == 0


def _assert_same_as_rebuild(con: duckdb.DuckDBPyConnection, brands) -> None:
    _check_keys(con)
    folded = _tables(con)
    build_staging(con, brands)
    rebuilt = _tables(con)
    for table in STAGING_TABLES:
        assert folded[table] == rebuilt[table], table


def _split_csv(path: Path, parts: int, rng: random.Random, out: Path) -> list[Path]:
    """The rows of a CSV file dealt at random into ``parts`` files with its header."""
    with path.open(encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    buckets: list[list[list[str]]] = [[] for _ in range(parts)]
    for row in rows:
        buckets[rng.randrange(parts)].append(row)
    paths = []
    for i, bucket in enumerate(buckets):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(bucket)
        target = out / f"{path.stem}.part{i}{path.suffix}"
        target.write_text(buffer.getvalue(), encoding="utf-8")
        paths.append(target)
    return paths


def _split_lines(path: Path, parts: int, rng: random.Random, out: Path) -> list[Path]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    buckets: list[list[str]] = [[] for _ in range(parts)]
    for line in lines:
        buckets[rng.randrange(parts)].append(line)
    paths = []
    for i, bucket in enumerate(buckets):
        target = out / f"{path.stem}.part{i}{path.suffix}"
        target.write_text("".join(bucket), encoding="utf-8")
        paths.append(target)
    return paths


def deal_sample(parts: int, rng: random.Random, out: Path) -> list[Path]:
    """Each sample file's rows dealt at random into ``parts`` files, all shuffled: replies
    arrive before their parents, shares before what they share, handles after mentions."""
    files = []
    for source in sorted(SAMPLE_DIR.iterdir()):
        if source.suffix == ".csv" and not source.name.startswith("_"):
            files += _split_csv(source, parts, rng, out)
        elif source.suffix == ".jsonl":
            files += _split_lines(source, parts, rng, out)
    rng.shuffle(files)
    return files


@pytest.mark.parametrize("seed", [1, 2])
def test_sample_dealt_into_files_in_random_order_folds_in_like_a_rebuild(tmp_path, seed):
    """The sample's rows dealt at random into 12 files and loaded one by one."""
    files = deal_sample(4, random.Random(seed), tmp_path)
    brands = load_brands(SAMPLE_DIR / "brands.toml")
    con = duckdb.connect()
    modes = []
    for path in files:
        load_files(con, [path], parse_file)
        modes.append(refresh_staging(con, brands).mode)
    assert modes[0] == "rebuilt"
    assert modes[1:] == ["incremental"] * (len(files) - 1)
    assert con.execute("SELECT count(*) FROM staging.messages").fetchone()[0] > 2000
    _assert_same_as_rebuild(con, brands)


def _parsed(name: str, accounts=(), messages=(), actions=()) -> ParsedFile:
    def frame(rows, table):
        if not rows:
            return empty_frame(table)
        return conform(pl.DataFrame(list(rows)), table).with_columns(source_file=pl.lit(name))

    return ParsedFile(source_file=name, source_format="test",
                      accounts=frame(accounts, "accounts"),
                      messages=frame(messages, "messages"),
                      actions=frame(actions, "actions"))


def _message(mid, author, parent=None, quoted=None, text="hello", line=0, thread=None):
    return {"platform": "twitter", "message_id": mid, "author_id": author,
            "kind": "reply" if parent else ("quote" if quoted else "post"), "text": text,
            "created_at": T0 + timedelta(minutes=int(mid)), "parent_id": parent,
            "quoted_id": quoted, "thread_id": thread, "source_format": "test",
            "source_file": "f", "source_line": line}


def _load(con, parsed: ParsedFile, content: str | None = None):
    store_parsed_file(con, parsed, content or parsed.source_file, 0)
    return refresh_staging(con, [ACME])


def test_a_new_copy_that_changes_what_others_depend_on_rebuilds():
    con = duckdb.connect()
    create_raw_schema(con)
    accounts = [{"platform": "twitter", "account_id": "1", "handle": "acme"},
                {"platform": "twitter", "account_id": "2", "handle": "fan"}]
    first = _parsed("a", accounts, [_message("1", "1"), _message("2", "2", parent="1")])
    assert _load(con, first).mode == "rebuilt"
    # the same records again in another file: folded in
    again = _parsed("b", accounts, [_message("2", "2", parent="1")])
    assert _load(con, again).mode == "incremental"
    # an edited text changes what the message says about the brand
    edited = _parsed("c", messages=[_message("2", "2", parent="1", text="acme rocks")])
    update = _load(con, edited)
    assert update.mode == "rebuilt" and "message 2" in update.reason
    # a renamed account
    renamed = _parsed("d", [{"platform": "twitter", "account_id": "2", "handle": "fan2"}])
    update = _load(con, renamed)
    assert update.mode == "rebuilt" and "renamed" in update.reason
    # a file loaded again with other content
    update = _load(con, _parsed("a", accounts, [_message("1", "1")]), content="a2")
    assert update.mode == "rebuilt" and "a was loaded again" in update.reason
    assert con.execute("SELECT count(*) FROM staging.messages").fetchone()[0] == 2
    _assert_same_as_rebuild(con, [ACME])


def test_a_new_brand_account_rebuilds():
    con = duckdb.connect()
    create_raw_schema(con)
    _load(con, _parsed("a", [{"platform": "twitter", "account_id": "1", "handle": "acme"}],
                       [_message("1", "1"), _message("2", "3", parent="9")]))
    # account 9 appears and is Acme's second account: earlier replies to it address Acme
    with_brand = Brand(name="Acme", keywords=("acme",),
                       accounts={"twitter": ("acme", "acme_help")})
    store_parsed_file(con, _parsed("b", [{"platform": "twitter", "account_id": "9",
                                          "handle": "acme_help"}],
                                   [_message("9", "9")]), "b", 0)
    update = refresh_staging(con, [with_brand])
    assert update.mode == "rebuilt"
    relations = con.execute("SELECT message_id, relation FROM staging.message_brands"
                            " ORDER BY ALL").fetchall()
    assert ("2", "addresses") in relations


HANDLES = ["acme", "fan", "critic", "bystander", "bot"]


@st.composite
def histories(draw):
    """A random reply forest with quotes, shares, likes and mentions, dealt into files."""
    n = draw(st.integers(2, 25))
    messages, actions = [], []
    for i in range(1, n + 1):
        author = str(draw(st.integers(1, len(HANDLES))))
        parent = draw(st.one_of(st.none(), st.integers(1, n + 3)))  # may never arrive
        quoted = draw(st.one_of(st.none(), st.integers(1, n)))
        text = draw(st.sampled_from(["hi", "acme is great", "@acme help", "@fan no", "ok"]))
        thread = draw(st.one_of(st.none(), st.just("1")))
        messages.append(_message(str(i), author, parent=str(parent) if parent else None,
                                 quoted=str(quoted) if quoted else None, text=text,
                                 thread=thread))
    for j in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["share", "like", "mention", "follow"]))
        actor = str(draw(st.integers(1, len(HANDLES))))
        target_message = str(draw(st.integers(1, n + 2)))
        handle = draw(st.sampled_from([*HANDLES, "nobody"]))
        actions.append({
            "platform": "twitter", "action_id": f"a{j}", "kind": kind, "actor_id": actor,
            "target_message_id": target_message if kind != "follow" else None,
            "target_handle": handle if kind in ("mention", "follow") else None,
            "created_at": T0 + timedelta(hours=j), "source_format": "test",
            "source_file": "f", "source_line": j})
    accounts = [{"platform": "twitter", "account_id": str(k + 1), "handle": h,
                 "followers_count": k * 10} for k, h in enumerate(HANDLES)]
    parts = draw(st.integers(2, 4))
    deal = st.lists(st.integers(0, parts - 1), min_size=1, max_size=2, unique=True)
    files = [([], [], []) for _ in range(parts)]
    files[0][0].append(accounts[0])  # the brand's account is known from the start
    for index, rows in enumerate((accounts[1:], messages, actions)):
        for row in rows:
            for part in draw(deal):  # a record may come in two overlapping files
                files[part][index].append(row)
    return [_parsed(f"file{i}", *rows) for i, rows in enumerate(files)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_random_histories_fold_in_like_a_rebuild(files):
    con = duckdb.connect()
    create_raw_schema(con)
    modes = [_load(con, parsed).mode for parsed in files]
    assert modes[0] == "rebuilt" and set(modes[1:]) <= {"incremental"}
    _assert_same_as_rebuild(con, [ACME])


def test_brand_concern_runs_down_reply_chains_of_any_depth_across_loads():
    con = duckdb.connect()
    create_raw_schema(con)
    acme = {"platform": "twitter", "account_id": "1", "handle": "acme"}
    chain = [_message(str(i), "2", parent=str(i - 1) if i > 1 else None,
                      text="acme air" if i == 1 else "ok") for i in range(1, 41)]
    assert _load(con, _parsed("a", [acme], chain[:17])).mode == "rebuilt"
    assert _load(con, _parsed("b", messages=chain[17:])).mode == "incremental"
    # a mention of the brand deep in an unrelated chain reaches every reply under it
    other = [_message(str(i), "3", parent=str(i - 1) if i > 100 else None)
             for i in range(100, 140)]
    assert _load(con, _parsed("c", messages=other)).mode == "incremental"
    mention = {"platform": "twitter", "action_id": "m1", "kind": "mention", "actor_id": "3",
               "target_handle": "acme", "target_message_id": "105", "source_format": "test",
               "source_file": "d", "source_line": 0}
    assert _load(con, _parsed("d", actions=[mention])).mode == "incremental"
    concerned = con.execute("SELECT count(DISTINCT message_id) FROM staging.message_brands"
                            " WHERE brand = 'Acme'").fetchone()[0]
    assert concerned == 40 + 35  # the whole first chain, and 105..139
    _assert_same_as_rebuild(con, [ACME])


def test_a_message_that_stops_concerning_the_brand_rebuilds():
    con = duckdb.connect()
    create_raw_schema(con)
    acme = {"platform": "twitter", "account_id": "1", "handle": "acme"}
    messages = [_message("1", "1"), _message("2", "2", quoted="1"),
                _message("3", "3", parent="2")]
    _load(con, _parsed("a", [acme], messages))
    # a new copy of 2 without its quote of the brand: 3 no longer sits under a concern
    update = _load(con, _parsed("b", messages=[_message("2", "2")]))
    assert update.mode == "rebuilt" and "no longer concerns" in update.reason
    assert con.execute("SELECT count(*) FROM staging.message_brands WHERE message_id = '3'"
                       ).fetchone()[0] == 0


def test_a_rebuild_keeps_the_newest_copy_of_each_record():
    """A rebuild picks the newest copy (the latest load, then the last line) when a record
    comes more than once, and takes raw as it is when none does."""
    con = duckdb.connect()
    create_raw_schema(con)
    share = {"platform": "twitter", "action_id": "s1", "kind": "share", "actor_id": "2",
             "target_message_id": "1", "created_at": T0, "source_format": "test",
             "source_file": "f", "source_line": 0}
    store_parsed_file(con, _parsed("a", messages=[_message("1", "1", text="first"),
                                                  _message("2", "2", text="only")],
                                   actions=[share]), "a", 0)
    build_staging(con, [ACME])
    assert con.execute("SELECT message_id, text FROM staging.messages ORDER BY 1").fetchall() \
        == [("1", "first"), ("2", "only")]
    # a later load repeats message 1 twice (the last line wins) and the share with a new time
    later = {**share, "created_at": T0 + timedelta(days=1)}
    store_parsed_file(con, _parsed("b", messages=[_message("1", "1", text="second", line=1),
                                                  _message("1", "1", text="third", line=2)],
                                   actions=[later]), "b", 0)
    build_staging(con, [ACME])
    assert con.execute("SELECT message_id, text FROM staging.messages ORDER BY 1").fetchall() \
        == [("1", "third"), ("2", "only")]
    assert con.execute("SELECT action_id, created_at FROM staging.actions").fetchall() \
        == [("s1", T0 + timedelta(days=1))]


def test_a_fold_in_keeps_the_newest_copy_and_finds_the_authors_answered():
    """A new load that holds a record twice folds in its last line's copy, and its replies
    and quotes get the authors of what they answer, whether that arrived before or in the
    same load."""
    con = duckdb.connect()
    create_raw_schema(con)
    acme = {"platform": "twitter", "account_id": "1", "handle": "acme"}
    assert _load(con, _parsed("a", [acme], [_message("1", "1"), _message("2", "2")])
                 ).mode == "rebuilt"
    share = {"platform": "twitter", "action_id": "s1", "kind": "share", "actor_id": "3",
             "target_message_id": "1", "created_at": T0, "source_format": "test",
             "source_file": "b", "source_line": 3}
    later_share = {**share, "created_at": T0 + timedelta(hours=5), "source_line": 4}
    new = [_message("5", "3", parent="1", text="first draft", line=0),  # answers an old one
           _message("5", "3", parent="1", text="acme thanks", line=1),  # its newest copy
           _message("6", "4", parent="5", line=2),  # answers one of this load
           _message("7", "4", quoted="2", line=3),  # quotes an old one
           _message("8", "2", parent="404", line=4)]  # answers one that never arrived
    update = _load(con, _parsed("b", messages=new, actions=[later_share, share]))
    assert update.mode == "incremental"
    rows = con.execute("SELECT message_id, text, parent_author_id, quoted_author_id"
                       " FROM staging.messages ORDER BY message_id").fetchall()
    assert rows == [("1", "hello", None, None), ("2", "hello", None, None),
                    ("5", "acme thanks", "1", None), ("6", "hello", "3", None),
                    ("7", "hello", None, "2"), ("8", "hello", None, None)]
    assert con.execute("SELECT action_id, created_at, target_account_id FROM staging.actions"
                       ).fetchall() == [("s1", T0 + timedelta(hours=5), "1")]
    _assert_same_as_rebuild(con, [ACME])


def test_threads_of_a_fold_in_walk_only_the_new_chains_unless_in_doubt(monkeypatch):
    """New replies, and older ones whose root has only now arrived, get their root by one hop
    through the older messages' known roots; a loop or a declared thread on the way sends the
    fold-in back to walking every chain. Either way the roots are a rebuild's."""
    import pipelines.staging_delta as delta

    walked_all = []
    full = delta.resolve_threads
    monkeypatch.setattr(delta, "resolve_threads",
                        lambda con, record=None: walked_all.append(1) or full(con, record))
    con = duckdb.connect()
    create_raw_schema(con)
    acme = {"platform": "twitter", "account_id": "1", "handle": "acme"}
    first = [_message("1", "2"), _message("2", "3", parent="1"), _message("3", "3", parent="9")]
    assert _load(con, _parsed("a", [acme], first)).mode == "rebuilt"
    # 4 answers an older reply; 9, which 3 answered, arrives under 2
    assert _load(con, _parsed("b", messages=[_message("4", "2", parent="2"),
                                             _message("9", "2", parent="2")])).mode == (
        "incremental")
    roots = dict(con.execute("SELECT message_id, thread_id FROM staging.messages").fetchall())
    assert roots == {"1": "1", "2": "1", "3": "1", "4": "1", "9": "1"}
    assert walked_all == []
    _assert_same_as_rebuild(con, [ACME])
    # two new replies that answer each other
    assert _load(con, _parsed("c", messages=[_message("10", "2", parent="11"),
                                             _message("11", "3", parent="10")])).mode == (
        "incremental")
    assert walked_all == [1]
    _assert_same_as_rebuild(con, [ACME])
    # a new reply with a declared thread answers 2, whose root is sure...
    assert _load(con, _parsed("d", messages=[_message("20", "2", parent="2", thread="T")]))
    assert walked_all == [1]
    # ...but a reply under it has an older message with a declared thread on the way
    assert _load(con, _parsed("e", messages=[_message("21", "3", parent="20")])).mode == (
        "incremental")
    assert walked_all == [1, 1]
    _assert_same_as_rebuild(con, [ACME])
