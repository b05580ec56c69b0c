"""The bundled sample data: deterministic, committed as generated, with its planted flaws."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipelines.brands import load_brands
from pipelines.sample_data import (
    BRANDS_FILE,
    GENERIC_HEADER,
    MASTODON_FILE,
    ROLES,
    ROLES_FILE,
    SAMPLE_FILES,
    TWARC_FILE,
    TWCS_FILE,
    TWCS_HEADER,
    generate_sample,
)

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
DATA_FILES = (TWARC_FILE, TWCS_FILE, MASTODON_FILE, ROLES_FILE)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("sample")
    return out, generate_sample(out, seed=7)


def test_same_seed_gives_identical_bytes(fresh: tuple[Path, dict[str, int]], tmp_path: Path):
    first, counts = fresh
    again = generate_sample(tmp_path, seed=7)
    assert again == counts
    for name in SAMPLE_FILES:
        assert (first / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_other_seed_gives_other_data(fresh: tuple[Path, dict[str, int]], tmp_path: Path):
    first, _ = fresh
    generate_sample(tmp_path, seed=8)
    for name in DATA_FILES:
        assert (first / name).read_bytes() != (tmp_path / name).read_bytes(), name


def test_committed_sample_equals_seed_7(fresh: tuple[Path, dict[str, int]]):
    first, _ = fresh
    for name in SAMPLE_FILES:
        committed = SAMPLE_DIR / name
        assert committed.is_file(), f"{committed} missing: run python -m pipelines.sample_data"
        assert committed.read_bytes() == (first / name).read_bytes(), (
            f"{committed} differs from a fresh generation: edit pipelines/sample_data.py and "
            "rerun `python -m pipelines.sample_data --out data/sample --seed 7`"
        )


def test_size_is_small_but_not_trivial(fresh: tuple[Path, dict[str, int]]):
    _, counts = fresh
    records = counts["twitter_tweets"] + counts["twcs_rows"] + counts["mastodon_rows"]
    assert 3_000 <= records <= 8_000


def test_brands_file_loads(fresh: tuple[Path, dict[str, int]]):
    first, _ = fresh
    brands = {b.name: b for b in load_brands(first / BRANDS_FILE)}
    assert list(brands) == ["Northwind Air", "Pixel Coffee", "Lumen Mobile"]
    assert brands["Northwind Air"].accounts == {
        "twitter": ("NorthwindAir", "NorthwindHelp"),
        "mastodon": ("northwind@airline.social",),
    }
    assert brands["Pixel Coffee"].staff == {"twitter": ("maya_at_pixel",)}
    assert brands["Lumen Mobile"].accounts == {"twitter": ("LumenMobileCare",)}


def test_every_role_is_planted_for_every_brand(fresh: tuple[Path, dict[str, int]]):
    first, _ = fresh
    with (first / ROLES_FILE).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and list(rows[0]) == ["brand", "platform", "account_id", "handle",
                                      "planted_role"]
    assert {r["planted_role"] for r in rows} <= set(ROLES)
    keys = [(r["platform"], r["account_id"]) for r in rows]
    assert len(keys) == len(set(keys)), "an account was planted twice"
    platforms = {
        "Northwind Air": {"twitter", "mastodon"},
        "Pixel Coffee": {"twitter"},
        "Lumen Mobile": {"twitter"},
    }
    for brand, wanted in platforms.items():
        for platform in wanted:
            planted = {r["planted_role"] for r in rows
                       if r["brand"] == brand and r["platform"] == platform}
            expected = set(ROLES) - {"staff"}
            if brand == "Pixel Coffee":
                expected.add("staff")
            assert planted == expected, (brand, platform)


def test_twarc_file_has_exactly_one_bad_line(fresh: tuple[Path, dict[str, int]]):
    first, counts = fresh
    lines = (first / TWARC_FILE).read_text(encoding="utf-8").splitlines()
    bad = []
    tweets = 0
    for number, line in enumerate(lines, start=1):
        try:
            page = json.loads(line)
        except json.JSONDecodeError:
            bad.append(number)
            continue
        assert set(page) == {"data", "includes", "meta", "__twarc"}
        assert 0 < len(page["data"]) <= 100
        tweets += len(page["data"])
    assert bad == [counts["twitter_bad_line"]]
    assert 1 < bad[0] < len(lines), "the bad line should sit in the middle of the file"
    assert tweets == counts["twitter_tweets"]


def test_twcs_file_header_and_one_short_row(fresh: tuple[Path, dict[str, int]]):
    first, counts = fresh
    with (first / TWCS_FILE).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == TWCS_HEADER
    assert tuple(rows[0]) == ("tweet_id", "author_id", "inbound", "created_at", "text",
                              "response_tweet_id", "in_response_to_tweet_id")
    short = [n for n, row in enumerate(rows, start=1) if len(row) != len(TWCS_HEADER)]
    assert short == [counts["twcs_bad_line"]]
    assert {row[2] for row in rows[1:]} == {"True", "False"}
    assert {row[1] for row in rows[1:] if row[2] == "False"} == {"LumenMobileCare"}


def test_mastodon_file_has_one_rule_breaking_row(fresh: tuple[Path, dict[str, int]]):
    first, counts = fresh
    with (first / MASTODON_FILE).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == GENERIC_HEADER
    valid = {"post", "reply", "quote", "share", "like", "follow"}
    odd = [n for n, row in enumerate(rows, start=1) if n > 1 and row[1] not in valid]
    assert odd == [counts["mastodon_bad_line"]]
    assert {row[0] for row in rows[1:]} == {"mastodon"}
    assert {row[1] for row in rows[1:]} - {"retweet"} == valid
