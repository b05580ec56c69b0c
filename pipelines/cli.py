"""The ``advocates`` command: run the pipeline on a folder of exports, from the terminal."""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pipelines.defaults import (
    DEFAULT_DB,
    DEFAULT_INPUT_DIR,
    DEFAULT_REPORT_DIR,
    FIRST_DAY,
    STANCE_MODELS,
)

app = typer.Typer(
    help="Advocate discovery: find the people who defend, share and talk with a brand.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


def run_pipeline(
    input_dir: Path,
    brands: Path | None,
    db: Path,
    report_dir: Path,
    as_of: date,
    workers: int = 0,
    quiet: bool = False,
    stance_model: str = "classifier",
    only: Sequence[str] | None = None,
):
    """Run the Dagster job once, in this process, for the partition ``as_of`` (``only``: just
    these assets, by name)."""
    import dagster as dg

    from pipelines.definitions import advocates_job, build_definitions
    from pipelines.resources import AdvocatesConfig

    config = AdvocatesConfig(
        input_dir=str(input_dir),
        brands_file=str(brands) if brands else "",
        database=str(db),
        report_dir=str(report_dir),
        stance_workers=workers,
        stance_model=stance_model,
    )
    job = build_definitions(config).resolve_job_def(advocates_job.name)
    # Dagster's console log is for debugging; the CLI prints its own summary instead.
    log_level = "ERROR" if quiet else os.environ.get("ADVOCATES_LOG_LEVEL", "WARNING")
    return job.execute_in_process(
        partition_key=as_of.isoformat(),
        asset_selection=[dg.AssetKey(name) for name in only] if only else None,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )


@contextmanager
def _live_progress():
    """While the job runs: a line per finished step, and a bar for long work (stance)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    from pipelines import progress
    from pipelines.definitions import ALL_ASSETS

    bars = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeRemainingColumn(), console=console,
                    transient=True)
    steps = bars.add_task("Steps of the pipeline (load, stage, judge stance, score, report)",
                          total=len(ALL_ASSETS))
    work: dict[str, object] = {}
    last = time.perf_counter()

    def listener(event: str, name: str, done: int | None, total: int | None) -> None:
        nonlocal last
        if event == "step_done":
            now = time.perf_counter()
            bars.console.print(f"  [green]done[/green] {name} ({now - last:.1f} s)")
            last = now
            bars.advance(steps)
            for task in work.values():
                bars.remove_task(task)
            work.clear()
        elif event == "work":
            if name not in work:
                work[name] = bars.add_task(name, total=total)
            bars.update(work[name], completed=done, total=total)

    with bars, progress.listening(listener):
        yield


def _check_stance_model(name: str) -> None:
    if name not in STANCE_MODELS:
        console.print(f"[red]--stance-model must be one of {', '.join(STANCE_MODELS)}, got "
                      f"{name!r}[/red]")
        raise typer.Exit(2)


def _step_summary(result) -> Table:
    """One line per asset: how long it took and what it recorded."""
    table = Table(title="Pipeline steps", show_edge=False)
    for col in ("step", "seconds", "what it produced"):
        table.add_column(col, overflow="fold")
    notes: dict[str, list[str]] = {}
    for event in result.all_events:
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            metadata = event.event_specific_data.materialization.metadata
            notes[event.step_key] = [
                f"{k}={v.value}" for k, v in metadata.items()
                if isinstance(v.value, int | float) and not isinstance(v.value, bool)
            ]
        elif kind == "STEP_SUCCESS":
            seconds = event.event_specific_data.duration_ms / 1000
            table.add_row(event.step_key, f"{seconds:.1f}",
                          ", ".join(notes.get(event.step_key, [])))
    return table


def step_seconds(result) -> dict[str, float]:
    """Wall time of each successful step of a run, in seconds."""
    return {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS"
    }


def _check_results(result) -> tuple[int, list[tuple[str, dict]]]:
    """How many asset checks passed, and the failed ones with what they recorded."""
    passed, failed = 0, []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            passed += 1
        else:
            failed.append((evaluation.check_name,
                           {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}))
    return passed, failed


def _files_not_read(db: Path, shown: int = 10) -> None:
    """Name the files that gave nothing (an unknown format, an archive, an empty file)."""
    import duckdb

    from pipelines.report_data import files_not_read_sql

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(files_not_read_sql()).fetchall()
    finally:
        con.close()
    if not rows:
        return
    console.print(f"[yellow]{len(rows)} file(s) not read (the formats understood: "
                  "docs/formats.md):[/yellow]")
    for file, why in rows[:shown]:
        console.print(f"  {file}: {why}", soft_wrap=True)
    if len(rows) > shown:
        console.print(f"  ... and {len(rows) - shown} more (raw.rejects has them all)")


def _top_advocates(db: Path, top: int) -> None:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            """
            SELECT brand, rank, coalesce(handle, account_id), role, advocacy_score,
                   influence_score, reasons
            FROM marts.advocate_scores
            WHERE rank <= ? AND role IN ('champion', 'advocate')
            ORDER BY brand, rank
            """,
            [top],
        ).fetchall()
    finally:
        con.close()
    table = Table(title=f"Top {top} advocates per brand")
    for col in ("brand", "rank", "account", "role", "advocacy", "influence", "why"):
        table.add_column(col, overflow="fold")
    for brand, rank, handle, role, adv, inf, reasons in rows:
        table.add_row(brand, str(rank), handle, role, f"{adv:.0f}", f"{inf:.0f}",
                      textwrap.shorten(reasons or "", 90, placeholder=" …"))
    console.print(table)


def _check_brands(path: Path) -> None:
    """Read the brand file before anything runs: a mistake in it is told in one line."""
    from pipelines.brands import BrandConfigError, load_brands

    if not path.is_file():
        return
    try:
        load_brands(path)
    except BrandConfigError as exc:
        console.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None


def _newest_day(db: Path) -> date | None:
    """The UTC day of the newest message or action in the run's working database."""
    import duckdb

    from pipelines.resources import AdvocatesConfig

    working = AdvocatesConfig(database=str(db)).working_database
    con = duckdb.connect(str(working), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        newest = con.execute(
            "SELECT greatest((SELECT max(created_at) FROM raw.messages),"
            " (SELECT max(created_at) FROM raw.actions))::DATE").fetchone()[0]
    finally:
        con.close()
    return newest


@app.command()
def run(
    input: Path = typer.Option(  # noqa: A002 (the option is called --input)
        Path(DEFAULT_INPUT_DIR), "--input", "-i",
        help="Folder of export files (every file in it, recursively; format detected from "
        "content).",
    ),
    brands: Path | None = typer.Option(
        None, "--brands", "-b",
        help="Brand configuration (TOML). Default: brands.toml inside --input if present, "
        "otherwise accounts the export marks as companies (TWCS) become the brands.",
    ),
    db: Path = typer.Option(
        Path(DEFAULT_DB), "--db",
        help="Published DuckDB file for analysts; the run works on a copy beside it "
        "(.work/) and replaces this file only when everything succeeded.",
    ),
    report_dir: Path = typer.Option(
        Path(DEFAULT_REPORT_DIR), "--report-dir", help="Where advocates.html and .csv go."
    ),
    as_of: str = typer.Option(
        None, "--as-of",
        help="Score everything up to the end of this day (YYYY-MM-DD, UTC). Default: the day "
        "of the newest message in the exports (today at the latest), so that an old export is "
        "scored as of its own time rather than faded by years of recency decay.",
        show_default=False,
    ),
    workers: int = typer.Option(
        0, "--workers", help="Processes for stance scoring (0: one per CPU core)."
    ),
    stance_model: str = typer.Option(
        "classifier", "--stance-model",
        help="'classifier': sentence embeddings plus the lexicon's judgement, trained on the "
        "hand labels (about 200 messages/s on 2 cores; each message is judged once and "
        "cached); 'lexicon': the target-aware lexicon alone (thousands per second per core, "
        "less accurate).",
    ),
    top: int = typer.Option(5, "--top", help="Advocates per brand to print at the end."),
) -> None:
    """Run the whole pipeline on a folder of exports and write the database and report."""
    _check_stance_model(stance_model)
    if not input.is_dir():
        console.print(f"[red]Input folder not found: {input}[/red]")
        raise typer.Exit(2)
    if brands is not None and not brands.is_file():
        console.print(f"[red]Brand file not found: {brands}[/red]")
        raise typer.Exit(2)
    _check_brands(brands or input / "brands.toml")
    today = datetime.now(UTC).date()
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        console.print(f"[red]--as-of must be a date like 2026-11-01, got {as_of!r}[/red]")
        raise typer.Exit(2) from None
    if day is not None and not FIRST_DAY <= day <= today:
        console.print(f"[red]--as-of must be between {FIRST_DAY} and today ({today}), "
                      f"got {day}[/red]")
        raise typer.Exit(2)
    started = time.perf_counter()
    with _live_progress():
        if day is None:
            # Load first (the registry makes the full run's load a no-op), then score as of
            # the newest message's day.
            loaded = run_pipeline(input, brands, db, report_dir, today, workers,
                                  stance_model=stance_model, only=["raw_exports"])
            newest = _newest_day(db) if loaded.success else None
            day = min(newest, today) if newest else today
            console.print(f"Scoring exports in [bold]{input}[/bold] as of {day} (the newest "
                          "message's day; --as-of chooses another)")
        else:
            console.print(f"Scoring exports in [bold]{input}[/bold] as of {day}")
        result = run_pipeline(input, brands, db, report_dir, day, workers,
                              stance_model=stance_model)
    console.print(_step_summary(result))
    passed, failed = _check_results(result)
    if not result.success:
        for name, metadata in failed:
            console.print(f"[red]check {name} failed: {metadata}[/red]", soft_wrap=True)
        for event in result.all_events:
            if event.is_step_failure:
                error = event.step_failure_data.error
                console.print(f"[red]{event.step_key}: {error.message.strip()}[/red]")
        console.print("[red]The run failed; the previous database and report are unchanged."
                      "[/red]")
        raise typer.Exit(1)
    from pipelines.score_history import history_folder

    console.print(f"Done in {time.perf_counter() - started:.1f} s; {passed} asset checks "
                  "passed (unique keys, no orphan rows, non-empty scores)")
    console.print(f"Database: [bold]{db}[/bold]  (open it read-only: "
                  f"duckdb.connect({str(db)!r}, read_only=True))")
    console.print(f"History:  [bold]{history_folder(db)}[/bold]  (a Parquet file"
                  " of scores per day, read by marts.advocate_score_history: keep it beside"
                  " the database)")
    console.print(f"Report:   [bold]{report_dir / 'advocates.html'}[/bold] and advocates.csv")
    _files_not_read(db)
    _top_advocates(db, top)


@app.command()
def sample(
    out: Path = typer.Option(Path(DEFAULT_INPUT_DIR), "--out", help="Where to write."),
    seed: int = typer.Option(7, "--seed", help="Random seed (7 gives the bundled sample)."),
) -> None:
    """Regenerate the bundled sample exports (deterministic for a seed)."""
    from pipelines.sample_data import generate_sample

    counts = generate_sample(out, seed=seed)
    console.print(f"Wrote sample exports to {out}: {counts}")


@app.command()
def bench(
    interactions: int = typer.Option(1_000_000, "--interactions", "-n",
                                     help="How many interactions to generate."),
    out: Path = typer.Option(Path("bench-out"), "--out", help="Scratch folder."),
    workers: int = typer.Option(0, "--workers", help="Stance scoring processes."),
    unique_text_share: float = typer.Option(
        1.0, "--unique-text-share",
        help="Share of messages whose text is unique (the rest repeat template texts).",
    ),
    then_add: int = typer.Option(
        0, "--then-add",
        help="After the first run, add this many interactions (one more day) and time the "
        "nightly run that follows.",
    ),
    stance_model: str = typer.Option(
        "lexicon", "--stance-model",
        help="The stance model to time: 'lexicon' (default here, so that millions of "
        "messages finish in minutes) or 'classifier' (the run's default; about 150-200 "
        "messages/s on 2 cores).",
    ),
    repeat: int = typer.Option(
        1, "--repeat", min=1,
        help="Time each run this many times from the same starting point and report the "
        "median per stage with its range (the nightly run starts again from a copy of "
        "the first run's database).",
    ),
    verify: bool = typer.Option(
        False, "--verify",
        help="With --then-add: afterwards, run the same files from scratch and compare every "
        "table with the nightly run's (exit code 1 when rows differ). Not timed.",
    ),
) -> None:
    """Generate N interactions, run the full pipeline, print time per stage and peak memory."""
    from pipelines.bench import run_benchmark

    if verify and not then_add:
        raise typer.BadParameter("--verify compares a nightly run: give --then-add too")
    os.environ.setdefault("POLARS_MAX_THREADS", str(os.cpu_count() or 1))
    _check_stance_model(stance_model)
    figures = run_benchmark(interactions, out, workers, console, unique_text_share, then_add,
                            stance_model, repeat, verify)
    if figures.get("differing_rows"):
        raise typer.Exit(1)


@app.command("train-stance")
def train_stance(
    real_data: Path = typer.Option(
        Path("../shared/data/real"), "--real-data",
        help="Folder of the real exports the labels point into.",
    ),
) -> None:
    """Train the stance classifier's head on the hand labels (data/labels/) that are not held
    out, and write it to pipelines/stance_head.json."""
    from pipelines.stance_training import train

    if not real_data.is_dir():
        console.print(f"[red]Real exports not found at {real_data}[/red]")
        raise typer.Exit(2)
    result = train(real_data)
    cv = ", ".join(f"C={c}: {f:.3f}" for c, f in result.cv_macro_f.items())
    console.print(f"Trained on {result.n_train} labels (cross-validated macro-F {cv}; "
                  f"chose C={result.c}).")
    console.print(f"Held-out macro-F(favor, against) on {result.n_test} labels: "
                  f"{result.held_out_macro_f:.3f}")


@app.command()
def evaluate(
    real_data: Path = typer.Option(
        Path("../shared/data/real"), "--real-data",
        help="Folder of the real exports the labels point into.",
    ),
) -> None:
    """Measure the stance models on the hand labels (data/labels/): the classifier on the
    held-out labels, beside the lexicon model and plain VADER on the same labels; and
    advocate precision at 10 on the planted sample."""
    import tempfile

    from pipelines.evaluation import (
        classifier_predictor,
        held_out,
        load_social_labels,
        load_twcs_labels,
        model_predictor,
        planted_precision_at_k,
        score,
        vader_predictor,
    )
    from pipelines.stance_classifier import load_classifier

    if not real_data.is_dir():
        console.print(f"[red]Real exports not found at {real_data}[/red]")
        raise typer.Exit(2)
    twcs, social = load_twcs_labels(real_data), load_social_labels(real_data)
    classifier = load_classifier()
    models = [("lexicon (target-aware)", model_predictor()), ("plain VADER", vader_predictor())]
    if classifier is not None:
        models.insert(0, ("classifier", classifier_predictor(classifier)))
    else:
        console.print("[yellow]The stance classifier is not available; lexicon only.[/yellow]")
    wide = Console(width=max(console.width, 120))
    table = Table(title="Stance toward the target on hand-labelled real messages held out "
                  "from training (data/labels/)")
    for col in ("labels", "model", "favor P/R", "against P/R", "neutral P/R",
                "macro-F(fav,ag)", "msg/s"):
        table.add_column(col, justify="right")

    def pr(p, r):
        return "/".join("-" if v is None else f"{v:.2f}" for v in (p, r))

    sets = (("TWCS", held_out(twcs)), ("social", held_out(social)),
            ("all", held_out(twcs + social)))
    for name, messages in sets:
        for model_name, predictor in models:
            report = score(messages, predictor)
            c = report.per_class
            table.add_row(
                f"{name} ({len(messages)})", model_name,
                pr(c["favor"]["precision"], c["favor"]["recall"]),
                pr(c["against"]["precision"], c["against"]["recall"]),
                pr(c["neutral"]["precision"], c["neutral"]["recall"]),
                f"{report.macro_f_favor_against:.3f}",
                f"{report.messages_per_second:,.0f}",
            )
    wide.print(table)
    # A defense needs the criticism it answers: only replies whose parent is in the export
    # can be judged, and there are too few of them to hold any out, so this is measured on
    # every such reply (the classifier was trained on the train-split ones).
    replies = [m for m in twcs + social if m.parent_text is not None and m.parent_is_customer]
    defense = Table(title=f"Defense of the target: {len(replies)} replies to another "
                    f"customer or user, {sum(m.is_defense for m in replies)} labelled defense")
    for col in ("model", "defense precision", "defense recall"):
        defense.add_column(col, justify="right")
    for model_name, predictor in models:
        report = score(replies, predictor)
        defense.add_row(model_name, *(f"{v:.2f}" if v is not None else "-"
                                      for v in (report.defense_precision,
                                                report.defense_recall)))
    wide.print(defense)
    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    with tempfile.TemporaryDirectory() as tmp:
        result = run_pipeline(sample, None, Path(tmp) / "db.duckdb", Path(tmp) / "report",
                              date(2026, 10, 31), quiet=True)
        if not result.success:
            raise typer.Exit(1)
        precision = planted_precision_at_k(Path(tmp) / "db.duckdb",
                                           sample / "_planted_roles.csv")
    for brand, value in precision.items():
        console.print(f"Planted advocates in the top 10 of {brand}: {value:.0%}")


if __name__ == "__main__":
    app()
