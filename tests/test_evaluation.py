"""Quality floors for the stance model on the project's hand labels: a change that lowers a
figure below the one recorded here fails. Update the floor when a change raises the figure."""

import csv
from pathlib import Path

import pytest

from pipelines.evaluation import (
    LABELS_DIR,
    load_social_labels,
    load_twcs_labels,
    model_predictor,
    score,
    vader_predictor,
)

# Recorded 2026-11-23 with `advocates evaluate` (320 TWCS labels).
FLOORS = {
    "macro_f_favor_against": 0.58,
    "favor_recall": 0.80,
    "against_precision": 0.66,
    "neutral_recall": 0.59,
}


def test_label_files_hold_ids_and_labels_only():
    with (LABELS_DIR / "stance_twcs.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 300
    assert set(rows[0]) == {"source", "message_id", "target", "stance", "is_defense", "note"}
    assert {r["stance"] for r in rows} == {"favor", "against", "neutral"}
    assert len({(r["source"], r["message_id"]) for r in rows}) == len(rows)


@pytest.fixture(scope="module")
def twcs_labels(request):
    from tests.conftest import REAL_DATA

    if not REAL_DATA.is_dir():
        pytest.skip(f"real exports not found at {REAL_DATA}")
    return load_twcs_labels(Path(REAL_DATA))


def test_every_label_finds_its_message(twcs_labels):
    assert len(twcs_labels) >= 300
    assert all(m.text for m in twcs_labels)


def test_model_stays_above_recorded_figures(twcs_labels):
    report = score(twcs_labels, model_predictor())
    assert report.macro_f_favor_against >= FLOORS["macro_f_favor_against"]
    assert report.per_class["favor"]["recall"] >= FLOORS["favor_recall"]
    assert report.per_class["against"]["precision"] >= FLOORS["against_precision"]
    assert report.per_class["neutral"]["recall"] >= FLOORS["neutral_recall"]


SOCIAL_FLOORS = {"macro_f_favor_against": 0.36, "against_precision": 0.68}


def test_social_labels_all_found_and_above_recorded_figures():
    from tests.conftest import REAL_DATA

    if not REAL_DATA.is_dir():
        pytest.skip(f"real exports not found at {REAL_DATA}")
    messages = load_social_labels(Path(REAL_DATA))
    assert len(messages) == 200
    assert {m.source for m in messages} == {"twitter_v2", "reddit", "mastodon"}
    report = score(messages, model_predictor())
    assert report.macro_f_favor_against >= SOCIAL_FLOORS["macro_f_favor_against"]
    assert report.per_class["against"]["precision"] >= SOCIAL_FLOORS["against_precision"]


def test_model_beats_plain_vader(twcs_labels):
    ours = score(twcs_labels, model_predictor()).macro_f_favor_against
    baseline = score(twcs_labels, vader_predictor()).macro_f_favor_against
    assert ours > baseline
