"""The benchmark: its generated data is valid input, its repeated runs start from the same
point, and each timed run is a process of its own."""

import polars as pl

from pipelines.bench import generate_interactions
from pipelines.brands import load_brands
from pipelines.formats import parse_file


def test_generated_interactions_all_load(tmp_path):
    info = generate_interactions(5_000, tmp_path, seed=3, unique_text_share=0.5)
    parsed = parse_file(tmp_path / "interactions.csv")
    assert parsed.source_format == "generic_csv"
    assert parsed.rejects.height == 0
    non_mentions = parsed.actions.filter(pl.col("kind") != "mention").height
    assert parsed.messages.height + non_mentions == info["interactions"] == 5_000
    assert parsed.messages.height == info["messages"]
    texts = parsed.messages["text"]
    with_ref = texts.str.contains(r"\(ref \d+\)$").mean()
    assert 0.4 < with_ref < 0.6  # about half the messages got a text of their own
    assert texts.filter(texts.str.contains("(ref ", literal=True)).n_unique() == (
        texts.str.contains("(ref ", literal=True).sum())
    assert len(load_brands(tmp_path / "brands.toml")) == 5


def test_repeated_runs_start_from_the_same_point_and_report_medians(tmp_path, monkeypatch):
    """Each repetition of the first run starts with no database; each repetition of the
    nightly run starts from the first run's database, not from the previous nightly's."""
    from rich.console import Console

    from pipelines import bench

    seen = []
    totals = iter([5.0, 3.0, 4.0, 2.0, 9.0, 1.0])

    def fake_run(data_dir, out, as_of, workers, stance_model):
        working = out / ".work" / "advocates.duckdb"
        before = working.read_text() if working.exists() else ""
        seen.append((as_of.isoformat(), before))
        working.parent.mkdir(parents=True, exist_ok=True)
        working.write_text(before + f"{as_of}\n")  # what this run leaves for the next
        total = next(totals)
        return {"raw_exports": 0.5, "raw_exports cpu_s": 0.75, "total_s": total,
                "cpu_s": 1.5 * total, "system_s": 0.25 * total,
                "minor_faults": 1_000_000 * total, "peak_gib": 0.25}

    monkeypatch.setattr(bench, "_timed_run", fake_run)
    console = Console(record=True, width=120)
    figures = bench.run_benchmark(2_000, tmp_path, 1, console, then_add=200, repeat=3)
    first, nightly = seen[:3], seen[3:]
    assert first == [("2026-10-29", "")] * 3
    assert nightly == [("2026-10-30", "2026-10-29\n")] * 3
    assert figures["total_s"] == 4.0 and figures["nightly"] == 2.0  # medians of 5, 3, 4 / 2, 9, 1
    assert not (tmp_path / ".work" / "before-nightly.duckdb").exists()
    text = console.export_text()
    assert "median of 3 runs" in text and "1.0-9.0" in text
    assert "CPU s" in text and figures["cpu_s"] == 6.0  # the median of 7.5, 4.5, 6
    assert "CPU: 3.0 s (user + system) in 2.0 s, 1.50 of" in text  # the nightly's
    assert "Kernel: 0.5 s of that CPU time (system), 2.00M minor page faults" in text
    assert "system_s" not in text and "minor_faults" not in text  # not shown as stages


def test_a_timed_run_runs_in_a_process_of_its_own(tmp_path, monkeypatch):
    """The pipeline runs in a fresh process, as a nightly run does (nothing patched or left
    in this one reaches it); its timings and peak memory come back from there."""
    from datetime import date

    from pipelines import bench, cli

    def not_here(*args, **kwargs):
        raise AssertionError("the benchmark ran the pipeline in the test's process")

    monkeypatch.setattr(cli, "run_pipeline", not_here)
    generate_interactions(2_000, tmp_path / "data", seed=5)
    figures = bench._timed_run(tmp_path / "data", tmp_path, date(2026, 10, 29), 1, "lexicon")
    assert {"raw_exports", "advocate_scores", "published_database"} <= figures.keys()
    assert figures["total_s"] >= figures["advocate_scores"] > 0
    # CPU seconds per step, from the process that ran them: every step has some, and
    # together they are the run's (the run's own also counts Dagster's setup)
    steps = [k for k in figures if k.endswith(" cpu_s")]
    assert {"raw_exports cpu_s", "advocate_scores cpu_s", "published_database cpu_s"} <= set(
        steps)
    assert all(figures[k] > 0 for k in steps)
    assert figures["cpu_s"] >= sum(figures[k] for k in steps) - 1e-6
    # the kernel's part of it: some, never more than all of it; a run faults memory in
    assert 0 < figures["system_s"] < figures["cpu_s"]
    assert figures["minor_faults"] > 0
    assert 0 < figures["peak_gib"] < 4
    assert (tmp_path / "advocates.duckdb").is_file()


def test_the_nightly_run_holds_what_a_run_from_scratch_holds(tmp_path):
    """--verify: after the first run and the nightly one (a day of new interactions among the
    same accounts), the same files run from scratch give the same rows in every table."""
    from rich.console import Console

    from pipelines import bench

    console = Console(record=True, width=120)
    figures = bench.run_benchmark(3_000, tmp_path, 1, console, then_add=400, verify=True)
    assert figures["differing_rows"] == 0
    text = console.export_text()
    assert "The nightly run's tables hold what a run from scratch holds." in text
    assert "marts.advocate_scores" in text and "staging.messages" in text
    assert not (tmp_path / "from-scratch").exists()
