"""The benchmark: generate N interactions, run the whole Dagster job, report time and memory.

The generated data set is a generic CSV (``docs/formats.md``) over several platforms' worth of
accounts: 20% messages (posts naming a brand, replies, quotes), 50% likes, 25% shares, 5%
follows, among N/10 accounts and 5 brands, spread over 90 days. Texts come from templates with
fillers; by default every message's text is unique (the stance model's worst case), and
``--unique-text-share`` lowers that.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import polars as pl
from rich import box
from rich.console import Console
from rich.table import Table

from pipelines.publishing import wal_of

N_BRANDS = 5
START = datetime(2026, 8, 1, tzinfo=UTC)
DAYS = 90

_OPENERS = [
    "{b} rebooked me in minutes, great service",
    "thanks {b} for sorting my order so fast",
    "{b} is the worst, still waiting on my refund",
    "why does {b} keep cancelling on me",
    "anyone else tried the new thing from {b}?",
    "honestly {b} has been solid for me this year",
    "{b} lost my booking again, unbelievable",
    "question for {b}: how do I change my plan",
    "love the new {b} app update",
    "{b} support has not replied in three days",
]
_FILLERS = [
    "today", "again", "this morning", "last week", "on my trip", "at the airport",
    "with the kids", "for the third time", "yesterday", "this weekend", "after work",
    "before my meeting", "in the rain", "on the train", "at lunch", "", "!!", "lol",
    "seriously", "tbh",
]


def generate_interactions(
    n: int,
    out_dir: Path,
    seed: int = 1,
    unique_text_share: float = 1.0,
    *,
    start: datetime = START,
    days: float = DAYS,
    first_id: int = 10_000_000,
    n_accounts: int | None = None,
    file_name: str = "interactions.csv",
) -> dict[str, int]:
    """Write ``file_name`` (generic CSV, N rows from ``start`` over ``days``, ids from
    ``first_id``) and ``brands.toml`` into ``out_dir``.

    ``unique_text_share`` of the messages get a text no other message has (a reference
    number appended), so the stance model cannot reuse its work; the rest repeat one of the
    template texts, as copies, bots and campaigns do."""
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_accounts = n_accounts or max(n // 10, 100)
    brand_ids = np.arange(N_BRANDS)
    kinds = rng.choice(
        np.array(["msg", "like", "share", "follow"]), size=n, p=[0.2, 0.5, 0.25, 0.05]
    )
    # heavy-tailed activity: a few accounts are very active, most engage a few times
    author = (n_accounts * rng.random(n) ** 3).astype(np.int64) + N_BRANDS
    created = start.timestamp() + rng.uniform(0, days * 86400, size=n)
    order = np.argsort(created, kind="stable")
    kinds, author, created = kinds[order], author[order], created[order]
    ids = np.arange(n, dtype=np.int64) + first_id
    is_msg = kinds == "msg"
    msg_idx = np.flatnonzero(is_msg)
    # Brand accounts post 3% of messages; the rest are the public.
    brand_author = rng.random(n) < 0.03
    author = np.where(is_msg & brand_author, rng.integers(0, N_BRANDS, size=n), author)
    # Targets: an earlier message (the last 100k messages, to keep threads plausible).
    pos_in_msgs = np.searchsorted(msg_idx, np.arange(n))
    back = rng.integers(1, 100_000, size=n)
    target_pos = np.clip(pos_in_msgs - back, 0, None)
    has_target = pos_in_msgs > 0
    target_row = np.where(has_target, msg_idx[np.minimum(target_pos, len(msg_idx) - 1)], -1)
    msg_kind = np.where(rng.random(n) < 0.45, "reply", np.where(rng.random(n) < 0.15,
                                                                 "quote", "post"))
    msg_kind = np.where(has_target, msg_kind, "post")
    brand_of = rng.integers(0, N_BRANDS, size=n)
    opener = rng.integers(0, len(_OPENERS), size=n)
    filler = rng.integers(0, len(_FILLERS), size=n)
    unique_text = rng.random(n) < unique_text_share
    frame = pl.DataFrame(
        {
            "kind": kinds, "msg_kind": msg_kind, "author": author, "created": created,
            "id": ids, "target_row": target_row, "brand": brand_of, "opener": opener,
            "filler": filler, "unique_text": unique_text,
        }
    )
    target_lookup = frame.select(
        pl.int_range(0, pl.len()).alias("target_row"),
        pl.col("id").alias("target_id"),
        pl.col("author").alias("target_author"),
    )
    frame = frame.join(target_lookup, on="target_row", how="left")
    record_type = (
        pl.when(pl.col("kind") == "msg").then(pl.col("msg_kind"))
        .when(pl.col("target_id").is_null() & (pl.col("kind") != "follow")).then(pl.lit("post"))
        .otherwise(pl.col("kind"))
    )
    frame = frame.with_columns(
        record_type.alias("record_type"),
        pl.format("u{}", pl.col("author")).alias("author_id"),
        pl.format("user{}", pl.col("author")).alias("author_handle"),
        (pl.col("author") * 7919 % 5000).alias("author_followers"),
        pl.from_epoch((pl.col("created") * 1_000_000).cast(pl.Int64), time_unit="us")
        .dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("created_at"),
    )
    frame = frame.with_columns(
        pl.when(pl.col("author") < N_BRANDS)
        .then(pl.format("Brand{}", pl.col("author")))
        .otherwise(pl.col("author_handle")).alias("author_handle"),
        pl.when(pl.col("author") < N_BRANDS)
        .then(pl.lit(250_000)).otherwise(pl.col("author_followers")).alias("author_followers"),
    )
    handle = pl.lit([f"Brand{b}" for b in brand_ids]).list.get(pl.col("brand"))
    text = pl.concat_str(
        [
            pl.lit(_OPENERS).list.get(pl.col("opener")).str.replace(
                "{b}", pl.lit("@") + handle, literal=True
            ),
            pl.lit(_FILLERS).list.get(pl.col("filler")),
        ],
        separator=" ",
    )
    is_text = pl.col("record_type").is_in(["post", "reply", "quote"])
    target_author_id = pl.format("u{}", pl.col("target_author"))
    csv = frame.with_columns(
        pl.lit("benchnet").alias("platform"),
        pl.when(is_text & pl.col("unique_text"))
        .then(pl.format("{} (ref {})", text, pl.col("id")))
        .when(is_text).then(text).otherwise(None).alias("text"),
        pl.when(pl.col("record_type") == "reply").then(pl.col("target_id").cast(pl.String))
        .otherwise(None).alias("parent_id"),
        pl.when(pl.col("record_type") == "quote").then(pl.col("target_id").cast(pl.String))
        .otherwise(None).alias("quoted_id"),
        pl.when(pl.col("record_type").is_in(["share", "like"]))
        .then(pl.col("target_id").cast(pl.String)).otherwise(None).alias("target_id"),
        pl.when(pl.col("record_type") == "follow")
        .then(pl.format("u{}", pl.col("brand")))
        .when(pl.col("record_type").is_in(["share", "like"])).then(target_author_id)
        .otherwise(None).alias("target_author_id"),
        pl.col("id").cast(pl.String),
    ).select(
        "platform", "record_type", "id", "author_id", "author_handle", "author_followers",
        "created_at", "text", "parent_id", "quoted_id", "target_id", "target_author_id",
    )
    csv.write_csv(out_dir / file_name)
    brands = "\n".join(
        f'[[brand]]\nname = "Brand {b}"\nkeywords = ["brand{b}"]\n'
        f'[brand.accounts]\nbenchnet = ["Brand{b}"]\n'
        for b in brand_ids
    )
    (out_dir / "brands.toml").write_text(brands, encoding="utf-8")
    return {
        "interactions": n,
        "accounts": n_accounts,
        "messages": int(csv.filter(pl.col("text").is_not_null()).height),
    }


class TreeMemorySampler(threading.Thread):
    """Samples the resident memory of this process and all its descendants (the stance
    workers) every ``interval`` seconds from /proc, keeping the peak of their sum (Linux)."""

    def __init__(self, interval: float = 0.2):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_bytes = 0
        self._stop_event = threading.Event()

    @staticmethod
    def _tree(pid: int) -> list[int]:
        pids, todo = [], [pid]
        while todo:
            current = todo.pop()
            pids.append(current)
            for task in Path(f"/proc/{current}/task").glob("*/children"):
                try:
                    todo.extend(int(c) for c in task.read_text().split())
                except OSError:
                    continue
        return pids

    @staticmethod
    def _rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            total = sum(self._rss(p) for p in self._tree(os.getpid()))
            self.peak_bytes = max(self.peak_bytes, total)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return max(self.peak_bytes, own) / 1024**3


def _timed_run(data_dir: Path, out: Path, as_of: date, workers: int, stance_model: str,
               ) -> dict[str, float]:
    """One run of the job, timed, in a process of its own as a scheduled or command-line run
    is (Dagster's run launcher and ``advocates run`` start one per run): what an earlier run
    left in this process (its heap, its peak memory) does not count against it. Returns
    seconds per stage, ``total_s`` and ``peak_gib``."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_run_here, data_dir, out, as_of, workers, stance_model).result()


def _usage() -> tuple[float, float, int]:
    """Of this process and of its children that have ended (the stance workers): CPU seconds
    (user + system), the system part of them, and minor page faults. The kernel's part is
    mostly faulting memory in (zeroed pages DuckDB's allocator asks for again after handing
    them back)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    system = own.ru_stime + children.ru_stime
    return (own.ru_utime + children.ru_utime + system, system,
            own.ru_minflt + children.ru_minflt)


def _cpu_seconds() -> float:
    return _usage()[0]


def _run_here(data_dir: Path, out: Path, as_of: date, workers: int, stance_model: str,
              ) -> dict[str, float]:
    from pipelines import progress
    from pipelines.cli import run_pipeline, step_seconds
    from pipelines.definitions import advocates_job  # noqa: F401 (Dagster's import is not the run)

    # CPU seconds at the end of each step: the steps run one after another in this process
    step_ends: list[tuple[str, float]] = []

    def on_progress(event: str, name: str, done, total) -> None:
        if event == "step_done":
            step_ends.append((name, _cpu_seconds()))

    sampler = TreeMemorySampler()
    sampler.start()
    started, (cpu_started, system_started, faults_started) = time.perf_counter(), _usage()
    with progress.listening(on_progress):
        result = run_pipeline(
            data_dir, data_dir / "brands.toml", out / "advocates.duckdb", out / "report",
            as_of, workers, quiet=True, stance_model=stance_model,
        )
    total, (cpu_ended, system, faults) = time.perf_counter() - started, _usage()
    cpu_total = cpu_ended - cpu_started
    peak = sampler.stop()
    if not result.success:
        raise SystemExit("benchmark run failed")
    cpu, before = {}, cpu_started
    for step, at in step_ends:
        cpu[f"{step} cpu_s"], before = at - before, at
    return {**step_seconds(result), **cpu, "total_s": total, "cpu_s": cpu_total,
            "system_s": system - system_started, "minor_faults": faults - faults_started,
            "peak_gib": peak}


# figures of a whole run, not of a stage
_RUN_FIGURES = ("total_s", "cpu_s", "system_s", "minor_faults", "peak_gib")


def _repeated(runs: int, reset, run, console: Console, title: str) -> dict[str, float]:
    """``run()`` ``runs`` times, each after ``reset()``; prints the seconds per stage (the
    median, and the range when there are several runs), the CPU seconds per stage where the
    run measured them, and returns the medians."""
    timings = []
    for _ in range(runs):
        reset()
        timings.append(run())
    medians = {key: statistics.median(t[key] for t in timings) for key in timings[0]}
    with_cpu = "cpu_s" in medians
    table = Table(title=title + (f" (median of {runs} runs)" if runs > 1 else ""))
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    if runs > 1:
        table.add_column("range", justify="right")
    if with_cpu:
        table.add_column("CPU s", justify="right")

    def row(label: str, key: str, cpu_key: str) -> list[str]:
        cells = [label, f"{medians[key]:.1f}"]
        if runs > 1:
            cells.append(f"{min(t[key] for t in timings):.1f}-{max(t[key] for t in timings):.1f}")
        if with_cpu:
            cells.append(f"{medians[cpu_key]:.1f}" if cpu_key in medians else "")
        return cells

    steps = [k for k in timings[0] if k not in _RUN_FIGURES and not k.endswith(" cpu_s")]
    for step in steps:
        table.add_row(*row(step, step, f"{step} cpu_s"))
    table.add_row(*(f"[bold]{c}[/bold]" for c in row("end to end", "total_s", "cpu_s")))
    console.print(table)
    peak = max(t["peak_gib"] for t in timings)
    console.print(f"Peak memory: {peak:.2f} GiB (the pipeline and its stance workers together)")
    if with_cpu:
        cores = os.cpu_count() or 1
        console.print(
            f"CPU: {medians['cpu_s']:.1f} s (user + system) in {medians['total_s']:.1f} s, "
            f"{medians['cpu_s'] / medians['total_s']:.2f} of {cores} cores busy on average; "
            f"this much work takes at least {medians['cpu_s'] / cores:.1f} s on {cores} cores")
    if "system_s" in medians:
        console.print(
            f"Kernel: {medians['system_s']:.1f} s of that CPU time (system), "
            f"{medians['minor_faults'] / 1e6:.2f}M minor page faults")
    return {**medians, "peak_gib": peak}


def run_benchmark(
    n: int, out: Path, workers: int, console: Console, unique_text_share: float = 1.0,
    then_add: int = 0, stance_model: str = "lexicon", repeat: int = 1, verify: bool = False,
) -> dict[str, float]:
    """Generate N interactions and run the whole job on them; with ``then_add``, then drop a
    file of that many new interactions (one more day, the same accounts) and time the
    nightly run that follows. ``stance_model`` is the run's ``--stance-model``. With
    ``repeat`` > 1 each run is timed that many times from the same starting point (nothing
    for the first run, the first run's database for the nightly one) and the medians are
    reported: single runs on a shared machine vary by 10-20%. With ``verify`` (and
    ``then_add``), the same files are then run from scratch and every table of the nightly
    run's database is compared with that run's (``pipelines.db_compare``); ``differing_rows``
    counts the rows that differ."""
    data_dir = out / "data"
    published = out / "advocates.duckdb"
    working = out / ".work" / "advocates.duckdb"
    wal = wal_of(working)
    saved = out / ".work" / "before-nightly.duckdb"
    next_day = data_dir / "next_day.csv"
    from pipelines.resources import AdvocatesConfig

    snapshots = AdvocatesConfig(database=str(published)).history_folders

    def forget_snapshots() -> None:
        for folder in (snapshots.published, snapshots.pending):
            shutil.rmtree(folder, ignore_errors=True)

    for stale in (published, working, wal, saved, next_day):
        stale.unlink(missing_ok=True)
    forget_snapshots()
    started = time.perf_counter()
    info = generate_interactions(n, data_dir, unique_text_share=unique_text_share)
    console.print(f"Generated {info} in {time.perf_counter() - started:.1f} s")
    last_day = (START + timedelta(days=DAYS - 1)).date()  # the data ends with this day

    def fresh() -> None:
        for path in (published, working, wal):
            path.unlink(missing_ok=True)
        forget_snapshots()

    figures = _repeated(
        repeat, fresh, lambda: _timed_run(data_dir, out, last_day, workers, stance_model),
        console, f"Benchmark: {n:,} interactions (stance model: {stance_model})",
    )
    if then_add:
        shutil.copyfile(working, saved)
        extra = generate_interactions(
            then_add, data_dir, seed=2, unique_text_share=unique_text_share,
            start=START + timedelta(days=DAYS), days=1, first_id=10_000_000 + n,
            n_accounts=max(n // 10, 100), file_name=next_day.name,
        )
        console.print(f"Added one day: {extra}")

        def back_to_the_first_run() -> None:
            shutil.copyfile(saved, working)
            wal.unlink(missing_ok=True)

        nightly = _repeated(
            repeat, back_to_the_first_run,
            lambda: _timed_run(data_dir, out, last_day + timedelta(days=1), workers,
                               stance_model),
            console, f"Nightly run: {then_add:,} new interactions on top of {n:,}",
        )
        saved.unlink()
        figures["nightly"] = nightly["total_s"]
        if verify:
            figures["differing_rows"] = _verify_nightly(
                data_dir, out, published, last_day + timedelta(days=1), workers, stance_model,
                console)
    return figures


def _verify_nightly(data_dir: Path, out: Path, nightly: Path, as_of: date, workers: int,
                    stance_model: str, console: Console) -> int:
    """Run the same files from scratch as of the nightly run's day, compare every table with
    the nightly run's, print the comparison and return how many rows differ."""
    from pipelines.db_compare import compare_databases

    scratch = out / "from-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    took = _timed_run(data_dir, scratch, as_of, workers, stance_model)["total_s"]
    console.print(f"The same files run from scratch in {took:.1f} s; comparing the tables")
    comparisons = compare_databases(nightly, scratch / "advocates.duckdb")
    table = Table(title="Nightly run against a run from scratch over the same files",
                  box=box.SIMPLE_HEAD, pad_edge=False,
                  caption="nightly / scratch: rows that only the nightly run's table, or only "
                  "the run from scratch's, holds; rel. diff: the largest relative difference "
                  "of the PageRank sums")
    table.add_column("table", no_wrap=True)
    for column in ("rows", "nightly", "scratch", "rel. diff"):
        table.add_column(column, justify="right", no_wrap=True)
    for c in comparisons:
        style = "" if c.same else "[bold red]"
        table.add_row(f"{style}{c.table}", f"{c.rows:,}", f"{style}{c.only_checked:,}",
                      f"{style}{c.only_reference:,}",
                      "" if c.largest_relative_difference is None
                      else f"{c.largest_relative_difference:.1e}")
    console.print(table)
    differing = sum(c.only_checked + c.only_reference for c in comparisons)
    console.print("The nightly run's tables hold what a run from scratch holds." if not differing
                  else f"[bold red]{differing:,} rows differ from a run from scratch.[/bold red]")
    shutil.rmtree(scratch)
    return differing
