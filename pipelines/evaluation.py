"""How good the stance model is, measured on the project's own hand labels.

The labels (``data/labels/*.csv``: source, message_id, target, stance, is_defense, note) name
real messages in third-party exports by id only; their texts are read at run time from the
folder of real exports (``../shared/data/real`` beside the clone). The label guide is
``docs/labelling.md``.

Measures, for the current model and for plain VADER (the baseline):
- per-class precision and recall, and the SemEval-2016 stance measure: the mean of the F1 of
  'favor' and of 'against' (Mohammad et al. 2016);
- defense precision and recall: a reply predicted favourable under a parent predicted against,
  against the hand label ``is_defense``;
- messages scored per second.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.stance import StanceModel, StanceResult, plain_vader

LABELS_DIR = Path(__file__).resolve().parents[1] / "data" / "labels"
CLASSES = ("favor", "against", "neutral")
HELD_OUT_PERCENT = 30
TWCS_FILES = {
    "twcs_head_monalisapatra26": "twcs/twcs_head_monalisapatra26.csv",
    "twcs_sample_yosingh1": "twcs/sample_yosingh1.csv",
}


@dataclass(frozen=True)
class LabelledMessage:
    source: str
    message_id: str
    target: str
    stance: str
    is_defense: bool
    text: str
    parent_text: str | None
    # the parent is by another account that is not the brand, so the message can be a defense
    # against it (replies to one's own post are not, as in the pipeline)
    parent_is_customer: bool
    addressed_to_brand: bool


@dataclass
class Report:
    n: int
    per_class: dict[str, dict[str, float]]
    macro_f_favor_against: float
    defense_precision: float | None
    defense_recall: float | None
    messages_per_second: float
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)


def read_labels(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _twcs_rows(path: Path) -> dict[str, dict[str, str]]:
    """TWCS rows by tweet id (well-formed rows only; the index column is optional)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        offset = 1 if header[0] in ("", "Unnamed: 0") else 0
        names = header[offset:]
        rows = {}
        for row in reader:
            if len(row) != len(header):
                continue
            record = dict(zip(names, row[offset:], strict=True))
            rows[record["tweet_id"]] = record
    return rows


def load_twcs_labels(real_dir: Path, labels_path: Path | None = None) -> list[LabelledMessage]:
    """The TWCS labels joined to their texts and parents."""
    labels = read_labels(labels_path or LABELS_DIR / "stance_twcs.csv")
    tables = {src: _twcs_rows(real_dir / rel) for src, rel in TWCS_FILES.items()}
    out = []
    for label in labels:
        rows = tables[label["source"]]
        row = rows.get(label["message_id"])
        if row is None:
            raise KeyError(f"{label['source']}: tweet {label['message_id']} not found")
        parent_id = row["in_response_to_tweet_id"].removesuffix(".0")
        parent = rows.get(parent_id)
        out.append(
            LabelledMessage(
                source=label["source"],
                message_id=label["message_id"],
                target=label["target"],
                stance=label["stance"],
                is_defense=label["is_defense"].lower() == "true",
                text=row["text"],
                parent_text=parent["text"] if parent else None,
                parent_is_customer=bool(parent) and parent["inbound"] == "True"
                and parent["author_id"] != row["author_id"],
                addressed_to_brand=True,  # a TWCS customer tweet is written to the company
            )
        )
    return out


SOCIAL_FILES = {
    "twitter_v2": "twitter_v2/twarc-csv/*.jsonl",
    "reddit": "reddit/*.ndjson",
    "mastodon": "mastodon/dealingwith/outbox.json",
    "youtube": "youtube_spam_uci/*.csv",
}


def load_social_labels(real_dir: Path, labels_path: Path | None = None) -> list[LabelledMessage]:
    """The social-media labels (X v2, Reddit, Mastodon) joined to their texts and parents,
    read with the project's own parsers."""
    from pipelines.formats import parse_file

    labels = read_labels(labels_path or LABELS_DIR / "stance_social.csv")
    texts: dict[tuple[str, str], tuple[str, str | None, str]] = {}
    for source, pattern in SOCIAL_FILES.items():
        for path in sorted(real_dir.glob(pattern)):
            messages = parse_file(path).messages
            for mid, text, parent, author in messages.select(
                    "message_id", "text", "parent_id", "author_id").rows():
                texts.setdefault((source, mid), (text or "", parent, author))
    out = []
    for label in labels:
        key = (label["source"], label["message_id"])
        if key not in texts:
            raise KeyError(f"{key[0]}: message {key[1]} not found")
        text, parent_id, author = texts[key]
        parent = texts.get((label["source"], parent_id)) if parent_id else None
        out.append(
            LabelledMessage(
                source=label["source"],
                message_id=label["message_id"],
                target=label["target"],
                stance=label["stance"],
                is_defense=label["is_defense"].lower() == "true",
                text=text,
                parent_text=parent[0] if parent else None,
                parent_is_customer=parent is not None and parent[2] != author,
                addressed_to_brand=False,
            )
        )
    return out


def _target_terms(target: str) -> list[str]:
    return [target, f"@{target}"]


def _precision_recall(pairs: Iterable[tuple[bool, bool]]) -> tuple[float | None, float | None]:
    tp = fp = fn = 0
    for predicted, actual in pairs:
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return precision, recall


Predictor = Callable[[list[LabelledMessage], list[bool]], list[str]]
"""Labels for messages, given for each whether it answers a message predicted 'against'."""


def split_of(source: str, message_id: str) -> str:
    """'test' for the labels held out from training (about 30%, fixed by a hash of the id, so
    adding labels never moves an old one between the two), else 'train'."""
    digest = hashlib.md5(f"{source}:{message_id}".encode()).hexdigest()
    return "test" if int(digest[:8], 16) % 100 < HELD_OUT_PERCENT else "train"


def held_out(messages: list[LabelledMessage], split: str = "test") -> list[LabelledMessage]:
    return [m for m in messages if split_of(m.source, m.message_id) == split]


def _parent_message(m: LabelledMessage) -> LabelledMessage:
    # the parent is addressed to the brand as much as its reply is (TWCS: to the company)
    return LabelledMessage(m.source, "", m.target, "", False, m.parent_text or "", None, False,
                           m.addressed_to_brand)


def replying_flags(messages: list[LabelledMessage], predict: Predictor) -> list[bool]:
    """For each message: does it answer a customer's message that ``predict`` calls
    'against'? (The pipeline re-judges such replies knowing they answer a criticism.)"""
    asks = [i for i, m in enumerate(messages) if m.parent_text is not None
            and m.parent_is_customer]
    flags = [False] * len(messages)
    if asks:
        parents = [_parent_message(messages[i]) for i in asks]
        for i, label in zip(asks, predict(parents, [False] * len(parents)), strict=True):
            flags[i] = label == "against"
    return flags


def per_class_scores(truth: Sequence[str], predicted: Sequence[str]
                     ) -> dict[str, dict[str, float]]:
    """Precision, recall and F1 of each class (0 where undefined)."""
    per_class = {}
    for cls in CLASSES:
        p, r = _precision_recall((p == cls, t == cls)
                                 for t, p in zip(truth, predicted, strict=True))
        f = 2 * p * r / (p + r) if p and r else 0.0
        per_class[cls] = {"precision": p or 0.0, "recall": r or 0.0, "f1": f}
    return per_class


def macro_f(per_class: dict[str, dict[str, float]]) -> float:
    """The SemEval-2016 stance measure: the mean F1 of 'favor' and 'against'."""
    return (per_class["favor"]["f1"] + per_class["against"]["f1"]) / 2


def score(messages: list[LabelledMessage], predict: Predictor) -> Report:
    """Compare ``predict(messages, replying_to_criticism) -> labels`` with the hand labels."""
    if messages:
        predict(messages[:1], [False])  # load the models before timing
    started = time.perf_counter()
    replying = replying_flags(messages, predict)
    predicted = predict(messages, replying)
    elapsed = time.perf_counter() - started
    confusion: dict[tuple[str, str], int] = {}
    for m, p in zip(messages, predicted, strict=True):
        confusion[(m.stance, p)] = confusion.get((m.stance, p), 0) + 1
    per_class = per_class_scores([m.stance for m in messages], predicted)
    d_precision, d_recall = _precision_recall(
        (p == "favor" and flag, m.is_defense)
        for m, p, flag in zip(messages, predicted, replying, strict=True)
    )
    return Report(
        n=len(messages),
        per_class=per_class,
        macro_f_favor_against=macro_f(per_class),
        defense_precision=d_precision,
        defense_recall=d_recall,
        messages_per_second=(len(messages) + sum(replying)) / elapsed,
        confusion=confusion,
    )


def _lexicon_judgements(messages: list[LabelledMessage], replying: list[bool],
                        model: StanceModel) -> list[StanceResult]:
    return [
        model.classify(m.text, _target_terms(m.target), addressed_to_brand=m.addressed_to_brand,
                       replying_to_criticism=flag)
        for m, flag in zip(messages, replying, strict=True)
    ]


def model_predictor(model: StanceModel | None = None) -> Predictor:
    """The target-aware lexicon model."""
    model = model or StanceModel()

    def predict(messages: list[LabelledMessage], replying: list[bool]) -> list[str]:
        return [r.label for r in _lexicon_judgements(messages, replying, model)]

    return predict


def _classifier_inputs(encoder, messages: list[LabelledMessage], replying: list[bool]):
    """The lexicon's judgements and the classifier's features, as the pipeline builds them."""
    from pipelines.stance_classifier import build_features

    judged = _lexicon_judgements(messages, replying, StanceModel())
    features = build_features(
        encoder, [m.text for m in messages], [_target_terms(m.target) for m in messages],
        [r.label for r in judged], [r.score for r in judged], replying,
    )
    return judged, features


def classifier_features(encoder, messages: list[LabelledMessage], replying: list[bool]):
    """The classifier's feature matrix for labelled messages."""
    return _classifier_inputs(encoder, messages, replying)[1]


def classifier_predictor(classifier) -> Predictor:
    """The supervised classifier (``pipelines.stance_classifier.StanceClassifier``), with the
    lexicon's rules that win over it, as in the pipeline."""

    def predict(messages: list[LabelledMessage], replying: list[bool]) -> list[str]:
        judged, features = _classifier_inputs(classifier.encoder, messages, replying)
        labels, _, _ = classifier.judge(features, [r.label for r in judged],
                                        [r.score for r in judged], [r.cue for r in judged])
        return labels

    return predict


def vader_predictor(threshold: float = 0.05) -> Predictor:
    """Plain VADER with its authors' recommended thresholds (compound ±0.05)."""

    def label(compound: float) -> str:
        if compound >= threshold:
            return "favor"
        if compound <= -threshold:
            return "against"
        return "neutral"

    def predict(messages: list[LabelledMessage], _replying: list[bool]) -> list[str]:
        return [label(plain_vader(m.text)) for m in messages]

    return predict


def planted_precision_at_k(db: Path, planted_csv: Path, k: int = 10) -> dict[str, float]:
    """Share of each brand's top-k ranked accounts that were planted as advocates
    (defender, sharer, conversationalist) in the sample data."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute(
            "CREATE TEMP TABLE planted AS SELECT * FROM read_csv(?, all_varchar = true)",
            [str(planted_csv)],
        )
        rows = con.execute(
            """
            SELECT s.brand,
                   avg(CASE WHEN p.planted_role IN ('defender', 'sharer', 'conversationalist')
                       THEN 1 ELSE 0 END)
            FROM marts.advocate_scores s
            LEFT JOIN planted p USING (brand, platform, account_id)
            WHERE s.rank <= ?
            GROUP BY ALL ORDER BY 1
            """,
            [k],
        ).fetchall()
    finally:
        con.close()
    return dict(rows)
