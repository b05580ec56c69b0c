"""The whole Dagster job on the bundled sample: tables, ranks against planted roles, re-runs,
and a failed run leaving the previous outputs alone."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app, run_pipeline
from tests.conftest import SAMPLE_DIR

AS_OF = date(2026, 10, 31)
ADVOCATE_ROLES = {"defender", "sharer", "conversationalist"}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    db, report = out / "advocates.duckdb", out / "report"
    result = run_pipeline(SAMPLE_DIR, None, db, report, AS_OF, workers=1, quiet=True)
    assert result.success
    return out, db, report


def _query(db: Path, sql: str, *params):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _planted() -> dict[tuple[str, str, str], str]:
    with (SAMPLE_DIR / "_planted_roles.csv").open(newline="", encoding="utf-8") as fh:
        return {
            (r["brand"], r["platform"], r["account_id"]): r["planted_role"]
            for r in csv.DictReader(fh)
        }


def test_documented_marts_exist(sample_run):
    _, db, _ = sample_run
    columns = {
        (t, c)
        for t, c in _query(
            db,
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'marts'",
        )
    }
    for col in ("platform", "message_id", "author_id", "brand", "stance", "stance_score",
                "is_defense", "defended_message_id", "excerpt", "url"):
        assert ("message_stance", col) in columns
    # each judged message keeps its own link, as staging has it
    linked, differ = _query(db, """
        SELECT count(s.url), count(*) FILTER (WHERE s.url IS DISTINCT FROM m.url)
        FROM marts.message_stance s JOIN staging.messages m USING (platform, message_id)""")[0]
    assert linked > 0 and differ == 0
    for col in ("brand", "platform", "account_id", "handle", "role", "advocacy_score",
                "influence_score", "rank", "defenses", "shares", "conversations",
                "favor_messages", "criticisms", "pagerank", "amplification"):
        assert ("advocate_scores", col) in columns
    for table in ("defense_events", "reciprocal_conversations", "share_events", "talk_back"):
        assert _query(db, f"SELECT count(*) FROM marts.{table}")[0][0] > 0, table


def test_every_brand_is_scored(sample_run):
    _, db, _ = sample_run
    brands = {r[0] for r in _query(db, "SELECT DISTINCT brand FROM marts.advocate_scores")}
    assert brands == {"Northwind Air", "Pixel Coffee", "Lumen Mobile"}


def test_planted_advocates_fill_the_top(sample_run):
    _, db, _ = sample_run
    planted = _planted()
    for brand in ("Northwind Air", "Pixel Coffee", "Lumen Mobile"):
        expected = [k for k, role in planted.items() if k[0] == brand and role in ADVOCATE_ROLES]
        k = min(10, len(expected))
        top = _query(
            db,
            "SELECT brand, platform, account_id FROM marts.advocate_scores"
            " WHERE brand = ? AND rank <= ? ORDER BY rank",
            brand, k,
        )
        hits = sum(planted.get(tuple(row)) in ADVOCATE_ROLES for row in top)
        assert hits / k >= 0.8, f"{brand}: precision@{k} = {hits}/{k}"


def test_no_detractor_or_spammer_is_called_an_advocate(sample_run):
    _, db, _ = sample_run
    planted = _planted()
    rows = _query(
        db,
        "SELECT brand, platform, account_id, role FROM marts.advocate_scores"
        " WHERE role IN ('champion', 'advocate')",
    )
    wrong = [r for r in rows if planted.get(tuple(r[:3])) in ("detractor", "spammer")]
    assert wrong == []
    detractors = {
        tuple(r[:3])
        for r in _query(
            db, "SELECT brand, platform, account_id FROM marts.advocate_scores"
            " WHERE role = 'detractor'")
    }
    planted_detractors = {k for k, v in planted.items() if v == "detractor"}
    assert len(detractors & planted_detractors) >= 0.8 * len(planted_detractors)


def test_malformed_records_are_set_aside(sample_run):
    _, db, _ = sample_run
    rejects = _query(db, "SELECT source_file, position, reason FROM raw.rejects")
    files = {Path(f).name for f, _, _ in rejects}
    assert {"twitter_search_northwind_pixel.jsonl", "twcs_lumen_support.csv",
            "mastodon_northwind.csv"} <= files
    assert all(pos is not None and reason for _, pos, reason in rejects)


def test_report_has_every_brand_and_escapes_text(sample_run):
    _, _, report = sample_run
    html = (report / "advocates.html").read_text(encoding="utf-8")
    for brand in ("Northwind Air", "Pixel Coffee", "Lumen Mobile"):
        assert brand in html
    assert "Talk back" in html
    assert "<script" not in html.lower()
    rows = list(csv.DictReader((report / "advocates.csv").open(encoding="utf-8")))
    assert {r["section"] for r in rows} >= {"advocate", "detractor", "talk_back"}


def test_rerun_is_idempotent(sample_run, tmp_path):
    out, db, _ = sample_run
    copy = tmp_path / "again"
    shutil.copytree(out, copy)
    before = _query(copy / "advocates.duckdb",
                    "SELECT brand, account_id, rank, advocacy_score FROM marts.advocate_scores"
                    " ORDER BY ALL")
    counts = "SELECT (SELECT count(*) FROM raw.messages), (SELECT count(*) FROM raw.actions)"
    raw_before = _query(copy / "advocates.duckdb", counts)
    result = run_pipeline(SAMPLE_DIR, None, copy / "advocates.duckdb", copy / "report", AS_OF,
                          workers=1, quiet=True)
    assert result.success
    after = _query(copy / "advocates.duckdb",
                   "SELECT brand, account_id, rank, advocacy_score FROM marts.advocate_scores"
                   " ORDER BY ALL")
    assert after == before
    assert _query(copy / "advocates.duckdb", counts) == raw_before
    # a second partition adds a snapshot without touching the first
    result = run_pipeline(SAMPLE_DIR, None, copy / "advocates.duckdb", copy / "report",
                          date(2026, 10, 15), workers=1, quiet=True)
    assert result.success
    snapshots = _query(
        copy / "advocates.duckdb",
        "SELECT as_of_date, count(*), count(DISTINCT (brand, platform, account_id))"
        " FROM marts.advocate_score_history GROUP BY 1 ORDER BY 1",
    )
    assert [s[0] for s in snapshots] == [date(2026, 10, 15), AS_OF]
    assert all(total == distinct for _, total, distinct in snapshots)


def test_failed_run_keeps_previous_outputs(sample_run, tmp_path):
    out, _, _ = sample_run
    copy = tmp_path / "failing"
    shutil.copytree(out, copy)
    db_bytes = (copy / "advocates.duckdb").read_bytes()
    html = (copy / "report" / "advocates.html").read_text(encoding="utf-8")
    wrong_brands = tmp_path / "brands.toml"
    wrong_brands.write_text('[[brand]]\nname = "Nobody"\n[brand.accounts]\ntwitter = ["nobody"]\n')
    result = run_pipeline(SAMPLE_DIR, wrong_brands, copy / "advocates.duckdb", copy / "report",
                          AS_OF, workers=1, quiet=True)
    assert not result.success
    assert (copy / "advocates.duckdb").read_bytes() == db_bytes
    assert (copy / "report" / "advocates.html").read_text(encoding="utf-8") == html


def test_a_failed_check_stops_the_run_before_it_publishes(sample_run, tmp_path, monkeypatch):
    """The checks are blocking: a duplicated score key fails the run, and analysts keep the
    previous database and report."""
    import dagster as dg

    import assets.marts

    out, _, _ = sample_run
    copy = tmp_path / "checked"
    shutil.copytree(out, copy)
    db_bytes = (copy / "advocates.duckdb").read_bytes()
    history = {p.name: (p.read_bytes(), p.stat().st_mtime_ns)
               for p in (copy / "advocates.history").iterdir()}
    assert history  # the sample run's snapshot
    real = assets.marts.unique_keys

    def broken(con, check_name, table, keys):
        if check_name != "unique_score_keys":
            return real(con, check_name, table, keys)
        return dg.AssetCheckResult(check_name=check_name, passed=False,
                                   metadata={"duplicated_keys": 3})

    monkeypatch.setattr(assets.marts, "unique_keys", broken)
    result = CliRunner().invoke(app, ["run", "--input", str(SAMPLE_DIR), "--as-of",
                                      AS_OF.isoformat(), "--db", str(copy / "advocates.duckdb"),
                                      "--report-dir", str(copy / "report"), "--workers", "1"])
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "check unique_score_keys failed: {'duplicated_keys': 3}" in output
    assert "previous database and report are unchanged" in output
    assert (copy / "advocates.duckdb").read_bytes() == db_bytes
    # the failed run's snapshot was written, but not where the published database reads
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns)
            for p in (copy / "advocates.history").iterdir()} == history


def test_cli_help_documents_every_option():
    result = CliRunner().invoke(app, ["run", "--help"])
    assert result.exit_code == 0
    for option in ("--input", "--brands", "--db", "--report-dir", "--as-of", "--workers"):
        assert option in result.output


def test_cli_rejects_missing_input(tmp_path):
    result = CliRunner().invoke(app, ["run", "--input", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "Input folder not found" in result.output


def test_cli_rejects_an_as_of_outside_the_partitions(tmp_path):
    for day in ("2003-01-01", "2999-01-01"):
        result = CliRunner().invoke(app, ["run", "--input", str(SAMPLE_DIR), "--as-of", day,
                                          "--db", str(tmp_path / "a.duckdb")])
        assert result.exit_code == 2
        assert "--as-of must be between 2005-01-01 and today" in result.output


def test_cli_scores_as_of_the_newest_message_by_default(tmp_path):
    """The sample's messages end on 2026-10-31 (``AS_OF``): without --as-of it is scored as of
    that day, not faded by the weeks since. Files it cannot read are named at the end."""
    exports = tmp_path / "exports"
    shutil.copytree(SAMPLE_DIR, exports)
    (exports / "mystery.json").write_text('{"what": 1}\n', encoding="utf-8")
    (exports / "archive.zip").write_bytes(b"PK\x03\x04" + bytes(64))
    (exports / "avatar.png").write_bytes(b"\x89PNG\r\n")
    db = tmp_path / "a.duckdb"
    result = CliRunner().invoke(app, ["run", "--input", str(exports), "--db", str(db),
                                      "--report-dir", str(tmp_path / "report"), "--workers",
                                      "1", "--stance-model", "lexicon"])
    assert result.exit_code == 0, result.output
    assert f"as of {AS_OF} (the newest" in " ".join(result.output.split())
    assert _query(db, "SELECT DISTINCT as_of FROM marts.advocate_scores")[0][0] == datetime(
        2026, 11, 1, tzinfo=UTC)
    assert _query(db, "SELECT count(*) FROM marts.advocate_scores WHERE role IN"
                      " ('advocate', 'champion')")[0][0] > 10
    output = " ".join(result.output.split())
    assert "2 file(s) not read" in output
    assert f"{exports / 'archive.zip'}: a ZIP file: unpack it" in output
    assert f"{exports / 'mystery.json'}: not in any format this pipeline understands" in output
    assert "avatar.png" not in output


def test_real_twcs_without_brand_file_infers_every_company(real_data, tmp_path):
    """TWCS holds dozens of companies; with no brand file each inbound=False author is a
    brand, and the real malformed row is set aside while the rest loads."""
    source = real_data / "twcs" / "twcs_head_monalisapatra26.csv"
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(source, exports / source.name)
    with source.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if len(r) == 8][1:]
    companies = {r[2] for r in rows if r[3] == "False"}
    result = run_pipeline(exports, None, tmp_path / "db.duckdb", tmp_path / "report",
                          date(2017, 12, 31), workers=1, quiet=True)
    assert result.success
    db = tmp_path / "db.duckdb"
    brands = {r[0] for r in _query(db, "SELECT DISTINCT brand FROM staging.brand_accounts")}
    assert brands == companies
    assert _query(db, "SELECT count(*) FROM staging.messages")[0][0] == len(rows)
    assert [r[0] for r in _query(db, "SELECT position FROM raw.rejects ORDER BY 1")] == [
        2486, 2488]
    scored = {r[0] for r in _query(db, "SELECT DISTINCT brand FROM marts.advocate_scores")}
    assert len(scored) >= 0.9 * len(companies)
    # every score row names one of the companies, and no company is scored, for itself or
    # for another (Tesco's account is no one's influencer)
    assert _query(db, """SELECT count(*) FROM marts.advocate_scores s
                         SEMI JOIN staging.brand_accounts b USING (platform, account_id)
                      """)[0][0] == 0


def test_folder_mixing_every_real_format_and_broken_files(real_data, tmp_path):
    """Every real export format side by side with broken and unknown files: the run
    succeeds, every file is registered under the right format, nothing parsed is lost on the
    way into the raw layer, and the broken records are set aside with their positions."""
    from pipelines.formats import parse_file

    exports = tmp_path / "exports"
    copies = {
        "twitter_v2/twarc-csv/brexit.jsonl": "x_v2/brexit.jsonl",
        "twitter_v1/simdjson/twitter.json": "x_v1/twitter.json",
        "twitter_archive/smithjd/tweets.js": "x_archive/tweets.js",
        "twitter_archive/smithjd/like.js": "x_archive/like.js",
        "mastodon/dealingwith/outbox.json": "mastodon/outbox.json",
        "mastodon/dealingwith/actor.json": "mastodon/actor.json",
        "mastodon/dealingwith/likes.json": "mastodon/likes.json",
        "reddit/TestSubredditStreams.test_comments.comments.ndjson": "reddit/comments.ndjson",
        "twcs/sample_yosingh1.csv": "twcs/sample.csv",
    }
    for source, target in copies.items():
        (exports / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(real_data / source, exports / target)
    youtube = sorted((real_data / "youtube_spam_uci").glob("*.csv"))[0]
    shutil.copy(youtube, exports / "youtube.csv")
    good = (real_data / "twitter_v2/twarc-csv/flat.jsonl").read_text(encoding="utf-8")
    lines = good.splitlines()
    (exports / "broken.jsonl").write_text(
        "\n".join(lines[:3] + [lines[3][:200]] + lines[4:6]) + "\n", encoding="utf-8")
    (exports / "notes.dat").write_text("meeting notes, not an export\n", encoding="utf-8")
    (exports / "binary.bin").write_bytes(bytes(range(256)) * 4)

    expected = {}
    for path in sorted(p for p in exports.rglob("*") if p.is_file()):
        expected[str(path)] = parse_file(path)
    result = run_pipeline(exports, None, tmp_path / "db.duckdb", tmp_path / "report",
                          date(2026, 1, 1), workers=1, quiet=True)
    assert result.success
    db = tmp_path / "db.duckdb"
    formats = dict(_query(db, "SELECT source_file, source_format FROM raw.files"))
    assert formats == {f: p.source_format for f, p in expected.items()}
    assert {formats[str(exports / t)] for t in copies.values()} >= {
        "twitter_v2", "twitter_v1", "twitter_archive", "mastodon", "reddit", "twcs"}
    assert formats[str(exports / "youtube.csv")] == "youtube"
    assert formats[str(exports / "notes.dat")] == "unknown"
    assert formats[str(exports / "binary.bin")] == "unknown"
    for table in ("accounts", "messages", "actions", "rejects"):
        stored = _query(db, f"SELECT count(*) FROM raw.{table}")[0][0]
        assert stored == sum(getattr(p, table).height for p in expected.values()), table
    broken = _query(db, "SELECT position, reason FROM raw.rejects WHERE source_file = ?",
                    str(exports / "broken.jsonl"))
    assert [pos for pos, _ in broken] == [4]
    good_only = tmp_path / "good.jsonl"
    good_only.write_text("\n".join(lines[:3] + lines[4:6]) + "\n", encoding="utf-8")
    assert _query(db, "SELECT count(*) FROM raw.messages WHERE source_file = ?",
                  str(exports / "broken.jsonl"))[0][0] == parse_file(good_only).messages.height
    assert _query(db, "SELECT count(*) FROM marts.advocate_scores")[0][0] > 0


def test_folder_mixing_the_documented_formats_and_broken_files(tmp_path):
    """The formats with no real sample here, built from their platforms' documentation
    (Bluesky records, a YouTube commentThreads response, a Facebook Page's comments, a
    DiscordChatExporter channel), side by side with the bundled sample's exports, a bad line
    in the middle of a file, a file in another encoding and one in no format: the run
    succeeds, every file is registered under its format, every record parsed reaches the raw
    layer, and the bad line is set aside with its position. Needs no ``../shared``."""
    import json

    from pipelines.formats import parse_file
    from tests import test_formats_bluesky as bluesky
    from tests import test_formats_discord as discord
    from tests import test_formats_facebook as facebook
    from tests import test_formats_youtube as youtube

    exports = tmp_path / "exports"
    exports.mkdir()
    for sample in SAMPLE_DIR.glob("*.*"):
        if sample.suffix in (".csv", ".jsonl") and not sample.name.startswith("_"):
            shutil.copy(sample, exports / sample.name)
    bluesky._write_lines(exports / "bluesky.jsonl", [
        bluesky._post(bluesky.FAN, "3kpost1", "love @acme.example, thank you!"),
        '{"uri": "at://did:plc:x/app.bsky.feed.post/3k", "value": {"text": "cut',
        bluesky._post(bluesky.BOB, "3kpost2", "agreed",
                      reply={"root": bluesky._ref(bluesky.BRAND_POST),
                             "parent": bluesky._ref(bluesky.BRAND_POST)}),
    ])
    (exports / "youtube.json").write_text(
        json.dumps(youtube._response(youtube._threads())), encoding="utf-8")
    (exports / "facebook.json").write_text(
        json.dumps(facebook._comments_page()), encoding="utf-8")
    discord._write(exports / "discord.json", discord._export(discord._channel_messages()))
    (exports / "latin1.csv").write_bytes(
        "platform,record_type,author_id,id,created_at,text\n"
        "x,post,u1,m1,2024-01-01,caf\u00e9 au lait\n".encode("latin-1"))
    (exports / "notes.dat").write_text("meeting notes, not an export\n", encoding="utf-8")

    expected = {str(path): parse_file(path) for path in sorted(exports.iterdir())}
    db = tmp_path / "db.duckdb"
    result = run_pipeline(exports, SAMPLE_DIR / "brands.toml", db, tmp_path / "report", AS_OF,
                          workers=1, quiet=True, stance_model="lexicon")
    assert result.success
    formats = dict(_query(db, "SELECT source_file, source_format FROM raw.files"))
    assert formats == {f: p.source_format for f, p in expected.items()}
    assert {formats[str(exports / name)] for name in (
        "bluesky.jsonl", "youtube.json", "facebook.json", "discord.json", "notes.dat")} == {
        "bluesky", "youtube", "facebook", "discord", "unknown"}
    for table in ("accounts", "messages", "actions", "rejects"):
        stored = _query(db, f"SELECT count(*) FROM raw.{table}")[0][0]
        assert stored == sum(getattr(p, table).height for p in expected.values()), table
    assert _query(db, "SELECT position FROM raw.rejects WHERE source_file = ?",
                  str(exports / "bluesky.jsonl")) == [(2,)]
    assert _query(db, "SELECT count(*) FROM raw.messages WHERE source_file = ?",
                  str(exports / "bluesky.jsonl")) == [(2,)]
    ((position, reason),) = _query(db, "SELECT position, reason FROM raw.rejects"
                                       " WHERE source_file = ?", str(exports / "latin1.csv"))
    assert position == 2 and "not utf-8 encoded" in reason
    assert _query(db, "SELECT count(*) FROM marts.advocate_scores")[0][0] > 0


def test_stance_model_is_recorded_and_named_in_the_report(sample_run):
    from pipelines.stance_classifier import load_classifier

    _, db, report = sample_run
    models = _query(db, "SELECT DISTINCT stance_model FROM marts.message_stance")
    classifier = load_classifier()
    expected = classifier.version if classifier is not None else "rules-2"
    assert models == [(expected,)]
    html = (report / "advocates.html").read_text(encoding="utf-8")
    assert f"<code>{expected}</code>" in html
    if classifier is not None:
        # the giveaway spam reads as neutral to the classifier (the lexicon said favour)
        spam = _query(db, "SELECT DISTINCT stance FROM marts.message_stance"
                          " WHERE excerpt LIKE '%FREE crypto giveaway%'")
        assert spam == [("neutral",)]


def test_lexicon_model_on_request(tmp_path):
    db = tmp_path / "advocates.duckdb"
    result = run_pipeline(SAMPLE_DIR, None, db, tmp_path / "report", AS_OF, workers=1,
                          quiet=True, stance_model="lexicon")
    assert result.success
    assert _query(db, "SELECT DISTINCT stance_model FROM marts.message_stance") == [
        ("rules-2",)]
    html = (tmp_path / "report" / "advocates.html").read_text(encoding="utf-8")
    assert "a target-aware lexicon model" in html
    # the planted advocates still lead with the faster model
    top = _query(db, "SELECT brand, platform, account_id FROM marts.advocate_scores"
                     " WHERE rank <= 5")
    planted = _planted()
    assert sum(planted.get(row) in ADVOCATE_ROLES for row in top) >= 13


def test_progress_is_told_step_by_step(tmp_path):
    from pipelines import progress

    events = []
    with progress.listening(lambda *event: events.append(event)):
        result = run_pipeline(SAMPLE_DIR, None, tmp_path / "db.duckdb", tmp_path / "report",
                              AS_OF, workers=1, quiet=True, stance_model="lexicon")
    assert result.success
    steps = [name for event, name, _, _ in events if event == "step_done"]
    assert steps == ["raw_exports", "staging_tables", "account_graph_metrics",
                     "message_stance", "engagement_signals", "daily_activity",
                     "advocate_scores",
                     "advocate_report", "published_database"]
    # nobody listens once the block is left
    progress.step_done("after")
    assert ("step_done", "after", None, None) not in events


def test_classifier_tells_how_far_it_got(monkeypatch):
    import numpy as np

    from pipelines import progress
    from pipelines import stance_classifier as sc

    class Model:
        def encode(self, texts, **_):
            return np.ones((len(texts), sc.EMBEDDING_DIM), dtype=np.float32)

    encoder = sc.Encoder.__new__(sc.Encoder)
    encoder.model = Model()
    monkeypatch.setattr(sc, "PROGRESS_EVERY", 4)
    events = []
    with progress.listening(lambda *event: events.append(event)):
        vectors = encoder.encode([f"text {i}" for i in range(10)])
    assert vectors.shape == (10, sc.EMBEDDING_DIM)
    assert [(done, total) for _, _, done, total in events] == [(4, 10), (8, 10), (10, 10)]


def _staging_update(result) -> str:
    (materialization,) = result.asset_materializations_for_node("staging_tables")
    return materialization.metadata["update"].value


def test_staging_is_updated_only_as_much_as_its_inputs_change(tmp_path):
    inputs = tmp_path / "in"
    shutil.copytree(SAMPLE_DIR, inputs)
    db, report = tmp_path / "db.duckdb", tmp_path / "report"

    def run(day=AS_OF):
        result = run_pipeline(inputs, None, db, report, day, workers=1, quiet=True,
                              stance_model="lexicon")
        assert result.success
        return result

    assert _staging_update(run()) == "rebuilt"
    before = _query(db, "SELECT brand, account_id, rank, advocacy_score"
                        " FROM marts.advocate_scores ORDER BY ALL")
    daily = _query(db, "SELECT * FROM marts.daily_activity ORDER BY ALL")
    # the same files again, and a backfill of an earlier day: staging is reused
    assert _staging_update(run()) == "unchanged"
    assert _query(db, "SELECT brand, account_id, rank, advocacy_score"
                      " FROM marts.advocate_scores ORDER BY ALL") == before
    assert _staging_update(run(date(2026, 10, 20))) == "unchanged"
    assert _query(db, "SELECT * FROM marts.daily_activity ORDER BY ALL") == daily
    # a new file: folded in, and its message is there and judged
    extra = inputs / "extra.csv"
    extra.write_text(
        "platform,record_type,id,author_id,author_handle,created_at,text\n"
        "mastodon,post,extra-1,fan-1,fan_one,2026-10-30T10:00:00Z,"
        "@northwind@airline.social thank you!\n",
        encoding="utf-8",
    )
    assert _staging_update(run()) == "incremental"
    assert _query(db, "SELECT count(*) FROM staging.messages WHERE message_id = 'extra-1'"
                  ) == [(1,)]
    assert _query(db, "SELECT stance FROM marts.message_stance WHERE message_id = 'extra-1'"
                  ) == [("favor",)]
    # it lands in the day partition of its own date, 2026-10-30, though the run is for the 31st
    assert _query(db, "SELECT brand, favor_messages FROM marts.daily_activity"
                      " WHERE account_id = 'fan-1' AND day = '2026-10-30'"
                  ) == [("Northwind Air", 1)]
    # the same file with other content: rebuilt, and the old content is gone
    extra.write_text(
        "platform,record_type,id,author_id,author_handle,created_at,text\n"
        "mastodon,post,extra-2,fan-1,fan_one,2026-10-30T11:00:00Z,hello\n",
        encoding="utf-8",
    )
    assert _staging_update(run()) == "rebuilt"
    assert _query(db, "SELECT message_id FROM staging.messages WHERE message_id LIKE 'extra-%'"
                  ) == [("extra-2",)]


def test_daily_activity_counts_each_message_on_its_own_day(sample_run):
    _, db, _ = sample_run
    # the same counts straight from the message-level mart, every day at once
    expected = _query(db, """
        SELECT brand, platform, author_id, created_at::DATE, count(*),
               count(*) FILTER (WHERE stance = 'against')
        FROM marts.message_stance GROUP BY ALL ORDER BY ALL""")
    daily = _query(db, """
        SELECT brand, platform, account_id, day, messages_about_brand, criticisms
        FROM marts.daily_activity WHERE messages_about_brand > 0 ORDER BY ALL""")
    assert daily == expected
    assert len({row[3] for row in daily}) > 30  # the sample spans two months
    shares = _query(db, "SELECT sum(shares) FROM marts.daily_activity")[0][0]
    assert shares == _query(db, "SELECT count(*) FROM marts.share_events")[0][0] > 0


def test_every_evidence_row_says_something(sample_run):
    _, db, _ = sample_run
    empty = _query(db, "SELECT count(*) FROM marts.score_evidence"
                       " WHERE trim(coalesce(excerpt, '')) IN ('', 'shared:')")
    assert empty == [(0,)]
    # shares of a brand post the export names only by its account say so
    named_only = _query(db, "SELECT count(*) FROM marts.score_evidence"
                            " WHERE excerpt LIKE 'shared a brand post (the export names only%'")
    assert named_only[0][0] > 0


def test_a_run_whose_report_fails_publishes_nothing(sample_run, tmp_path, monkeypatch):
    """The publish copy is made while the report is written: when writing the report
    fails, the copy is deleted and analysts keep the previous database."""
    import assets.reports

    out, _, _ = sample_run
    copy = tmp_path / "report-fails"
    shutil.copytree(out, copy)
    db_bytes = (copy / "advocates.duckdb").read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(assets.reports, "write_report", broken)
    result = run_pipeline(SAMPLE_DIR, None, copy / "advocates.duckdb", copy / "report",
                          AS_OF, workers=1, quiet=True)
    assert not result.success
    assert (copy / "advocates.duckdb").read_bytes() == db_bytes
    assert not (copy / ".advocates.duckdb.tmp").exists()
