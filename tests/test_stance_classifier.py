"""The stance classifier's pieces: text preparation, the head, refining lexicon judgements,
the fallback to the lexicon model, and the real packaged encoder."""

import json

import numpy as np
import polars as pl
import pytest

from pipelines import stance_classifier as sc
from pipelines.stance_classifier import (
    CLASSES,
    EMBEDDING_DIM,
    LEXICON_FEATURES,
    StanceClassifier,
    StanceHead,
    build_features,
    fit_head,
    prepare_text,
)

WIDTH = EMBEDDING_DIM + len(LEXICON_FEATURES)


def test_prepare_text_hides_the_brand_name_other_handles_and_links():
    text = "@Delta rebooked me fast, thanks Delta! cc @jane https://t.co/x1 #travel"
    assert prepare_text(text, ["Delta", "@Delta"]) == (
        "@brand rebooked me fast, thanks the brand! cc @user #travel")


def test_prepare_text_matches_whole_words_only_and_any_case():
    assert prepare_text("DELTA and deltas", ["Delta"]) == "the brand and deltas"
    assert prepare_text("email me: a@delta.com", ["Delta"]) == "email me: a@delta.com"
    assert prepare_text(None, ["Delta"]) == ""
    assert prepare_text("no brand here", []) == "no brand here"


def test_prepare_text_treats_regex_characters_in_names_as_text():
    assert prepare_text("I love C++ (really)", ["C++"]) == "I love the brand (really)"
    assert prepare_text("I love Cxx", ["C++"]) == "I love Cxx"
    assert prepare_text("Love AT&T", ["AT&T"]) == "Love the brand"


class FakeEncoder:
    """A vector per text: dimension 0 carries 'good', dimension 1 carries 'bad'."""

    def __init__(self):
        self.calls = []

    def encode(self, texts):
        self.calls.append(list(texts))
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i, 0] = text.count("good")
            out[i, 1] = text.count("bad")
        return out


def _head() -> StanceHead:
    coef = np.zeros((3, WIDTH), dtype=np.float32)
    coef[CLASSES.index("favor"), 0] = 4.0
    coef[CLASSES.index("against"), 1] = 4.0
    intercept = np.array([0.0, 0.0, 1.0], dtype=np.float32)  # neutral when nothing is said
    return StanceHead(CLASSES, coef, intercept, {"note": "hand-made"})


def test_head_predicts_labels_scores_and_confidence():
    features = np.zeros((3, WIDTH), dtype=np.float32)
    features[0, 0] = 1  # good
    features[1, 1] = 1  # bad
    labels, scores, confidence = _head().predict(features)
    assert labels == ["favor", "against", "neutral"]
    assert scores[0] > 0.5 and scores[1] < -0.5 and abs(scores[2]) < 1e-6
    assert np.all((confidence > 0.33) & (confidence <= 1))
    assert np.allclose(_head().probabilities(features).sum(axis=1), 1.0)


def test_head_round_trips_through_json_and_rejects_a_wrong_shape(tmp_path):
    path = tmp_path / "head.json"
    head = _head()
    head.save(path)
    again = StanceHead.load(path)
    assert again.classes == head.classes and again.meta == {"note": "hand-made"}
    assert np.allclose(again.coef, head.coef) and again.version == head.version
    payload = json.loads(path.read_text())
    payload["coef"] = [row[:10] for row in payload["coef"]]
    path.write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="head.json"):
        StanceHead.load(path)
    path.write_text("not json")
    with pytest.raises(ValueError, match="not a stance head"):
        StanceHead.load(path)


def test_version_changes_with_the_weights():
    head = _head()
    other = StanceHead(head.classes, head.coef * 2, head.intercept, {})
    assert head.version != other.version
    assert head.version.startswith("classifier-")


def test_build_features_encodes_each_prepared_text_once():
    encoder = FakeEncoder()
    features = build_features(
        encoder, ["good Acme", "good ACME", "bad"], [["Acme"], ["Acme"], ["Acme"]],
        ["favor", "favor", "against"], [0.5, 0.5, -0.4], [False, False, True],
    )
    assert encoder.calls == [["good the brand", "bad"]]
    assert features.shape == (3, WIDTH)
    assert features[0, 0] == 1 and features[2, 1] == 1
    lexicon = features[:, EMBEDDING_DIM:]
    assert lexicon[0].tolist() == pytest.approx([0.5, 1, 0, 0])
    assert lexicon[2].tolist() == pytest.approx([-0.4, 0, 1, 1])


def test_refine_overrides_the_lexicon_and_says_so_in_the_cue():
    classifier = StanceClassifier(_head(), FakeEncoder())
    frame = pl.DataFrame({
        "key": [1, 2, 3], "brand": ["Acme"] * 3,
        "text": ["good stuff", "so bad", None],
        "addressed_to_brand": [True, True, None], "replying_to_criticism": [False] * 3,
    })
    lexicon = pl.DataFrame({
        "key": [1, 2, 3], "stance": ["favor", "neutral", "neutral"],
        "stance_score": [0.6, 0.0, 0.0], "stance_cue": ["praise: good", "no cue", "empty text"],
    })
    out = classifier.refine(frame, lexicon, {"Acme": ["Acme"]}).sort("key")
    assert out["stance"].to_list() == ["favor", "against", "neutral"]
    assert out["stance_cue"][0] == "praise: good"  # agreed: the lexicon's reason stays
    assert out["stance_cue"][1].startswith("classifier: against (")
    assert out["stance_score"][1] < 0


def test_fit_head_learns_a_separable_toy_problem():
    rng = np.random.default_rng(0)
    features = np.zeros((90, WIDTH), dtype=np.float32)
    labels = ["favor"] * 30 + ["against"] * 30 + ["neutral"] * 30
    features[:30, 0] = 1 + rng.random(30)
    features[30:60, 1] = 1 + rng.random(30)
    head = fit_head(features, labels, c=1.0, meta={"n": 90})
    assert head.predict(features)[0] == labels
    assert head.meta == {"n": 90}


def test_missing_encoder_packages_fall_back_to_the_lexicon(monkeypatch, caplog):
    def missing():
        raise ImportError("No module named 'sentence_transformers'")

    monkeypatch.setattr(sc, "Encoder", missing)
    real_find_spec = sc.importlib.util.find_spec
    monkeypatch.setattr(sc.importlib.util, "find_spec",
                        lambda name: None if name == "sentence_transformers"
                        else real_find_spec(name))
    sc.load_encoder.cache_clear()
    sc.load_classifier.cache_clear()
    try:
        assert not sc.encoder_installed()
        assert sc.load_encoder() is None
        assert sc.load_classifier() is None
        assert "using the lexicon model" in caplog.text
    finally:
        sc.load_encoder.cache_clear()
        sc.load_classifier.cache_clear()


def test_encoder_is_loaded_only_when_a_message_needs_it():
    loads = []

    def factory():
        loads.append(1)
        return FakeEncoder()

    classifier = StanceClassifier(_head(), loader=factory)
    assert classifier.version == _head().version and loads == []
    frame = pl.DataFrame({"key": [1], "brand": ["Acme"], "text": ["good"],
                          "addressed_to_brand": [True], "replying_to_criticism": [False]})
    lexicon = pl.DataFrame({"key": [1], "stance": ["favor"], "stance_score": [0.5],
                            "stance_cue": ["praise"]})
    classifier.refine(frame, lexicon, {})
    classifier.refine(frame, lexicon, {})
    assert loads == [1]


def test_config_chooses_the_model_and_rejects_unknown_names():
    from pipelines.resources import AdvocatesConfig

    assert AdvocatesConfig(stance_model="lexicon").classifier() is None
    with pytest.raises(ValueError, match="stance_model"):
        AdvocatesConfig(stance_model="bert").classifier()


@pytest.fixture(scope="module")
def real_classifier():
    found = sc.load_classifier()
    if found is None:
        pytest.skip("the sentence encoder is not installed")
    return found


def test_packaged_encoder_loads_offline_and_gives_unit_vectors(real_classifier):
    vectors = real_classifier.encoder.encode(["thanks for the quick fix", "worst service"])
    assert vectors.shape == (2, EMBEDDING_DIM)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_the_issues_target_aware_example_is_favour(real_classifier):
    """The issue's own example, word for word. The head alone calls it neutral (41%); the
    lexicon's "fixed after a setback" rule decides it."""
    from pipelines.stance import SETBACK_CUE, score_stance_frame

    text = "the storm cancelled my flight but @Delta rebooked me in minutes"
    frame = pl.DataFrame({"key": [1], "brand": ["Delta"], "text": [text],
                          "addressed_to_brand": [True], "replying_to_criticism": [False]})
    terms = {"Delta": ["Delta", "@Delta"]}
    lexicon = score_stance_frame(frame, terms, workers=1)
    assert lexicon["stance_cue"][0] == SETBACK_CUE
    refined = real_classifier.refine(frame, lexicon, terms)
    assert refined["stance"][0] == "favor"
    features = sc.build_features(real_classifier.encoder, [text], [terms["Delta"]],
                                 ["favor"], [lexicon["stance_score"][0]], [False])
    assert real_classifier.head.predict(features)[0] == ["neutral"]  # why the rule is needed


@pytest.mark.parametrize(
    ("text", "expected", "replying"),
    [
        ("@Acme thank you so much, you sorted it in minutes!", "favor", False),
        ("@Acme third outage this week and nobody answers. useless", "against", False),
        ("@Acme what time does the store on Main St open tomorrow?", "neutral", False),
        ("@Acme how do I change the name on my booking?", "neutral", False),
        ("@Acme the storm cancelled my flight but you rebooked me in minutes", "favor", False),
        ("@Acme I know you're doing your best today", "favor", False),
        # the issue's target-aware cases that the lexicon's rules decide
        ("@Acme oh wonderful, my bag is lost again. love it", "against", False),
        ("@Acme great, another 2 hour delay, thanks so much", "against", False),
        ("@Acme ignore the guy above, he was rude to your staff, you handled it well",
         "neutral", False),
        ("@critic that's not true, they refunded me in a day", "favor", True),
    ],
)
def test_shipped_classifier_on_plain_cases(real_classifier, text, expected, replying):
    frame = pl.DataFrame({"key": [1], "brand": ["Acme"], "text": [text],
                          "addressed_to_brand": [True], "replying_to_criticism": [replying]})
    from pipelines.stance import score_stance_frame

    terms = {"Acme": ["Acme", "@Acme"]}
    lexicon = score_stance_frame(frame, terms, workers=1)
    assert real_classifier.refine(frame, lexicon, terms)["stance"][0] == expected
