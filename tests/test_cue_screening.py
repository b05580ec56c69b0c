"""Work the stance model skips must change no judgement.

Cue screening: the model searches each clause for every cue group; the mask computed in bulk
from the message's raw text (``cue_mask_expr``) lets it skip a group whose required literals
are not in the text. These tests check the literals (``pipelines.regex_literals``), that the
Polars and Python masks agree, and that judging with the mask gives exactly what judging
without it does.

Settled clauses: a clause whose cues alone take its score past -1 or 1 is not sent to VADER
(``_CUES_SETTLE``); judging with that switched off must give the same results.
"""

from __future__ import annotations

import re

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import stance as S
from pipelines.formats import iter_input_files, parse_file
from pipelines.regex_literals import required_literals
from tests.test_stance import CASES


# -- required_literals --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("refund", {"refund"}),
        (r"thank(?:s|\s+you)?", {"thank"}),
        (r"(?:great|good)\s+service", {"service"}),  # the longer of the two requirements
        (r"(?:great|superb)\s+(?:job|work)", {"great", "superb"}),
        (r"(?<![\w'])no\s+refund(?![\w'])", {"refund"}),  # lookarounds consume nothing
        (r"re-?book", {"book"}),  # the optional "-" ends the run "re"
        (r"(?:la)+ment", {"ment"}),
        (r"(?:very\s+)?helpful", {"helpful"}),
        (r"wait(?:ing)*", {"wait"}),
        # re factors out the shared "y"; with breaks="'" (below) the quote ends a run
        (r"y'all|you", {"all", "ou"}),
        (r"\d{6,}", None),
        (r"(?:a|)\w+", None),  # an empty branch requires nothing
        (r"[a-z]+", None),
    ],
)
def test_required_literals(pattern, expected):
    found = required_literals(pattern, breaks="'")
    if expected is None:
        assert found is None
    else:
        assert found == frozenset(expected)


def test_case_insensitive_patterns_require_nothing():
    assert required_literals(re.compile("refund", re.IGNORECASE)) is None
    assert required_literals("(?i)refund") is None
    assert required_literals("(?i:refund)") is None
    assert required_literals("no (?i:refund)") == frozenset({"no"})


def _phrases():
    for group in S.CUES:
        for phrase in group.phrases:
            yield group.name, phrase
    for name in ("SECOND_PERSON", "THIRD_PERSON", "OTHER_SUBJECTS", "SARCASM_POSITIVE",
                 "SARCASM_PROBLEM"):
        yield name, getattr(S, name)


@pytest.mark.parametrize(("group", "phrase"), list(_phrases()))
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_match_contains_a_literal(group, phrase, data):
    literals = required_literals(phrase, breaks=S._SCREEN_BREAKS)
    if literals is None:
        return
    text = data.draw(st.from_regex(phrase, fullmatch=True))
    assert any(lit in text for lit in literals), (group, phrase, text, sorted(literals))


@pytest.mark.parametrize(("group", "pattern"), S._SCREENED, ids=[n for n, _ in S._SCREENED])
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_match_of_a_whole_group_contains_one_of_its_literals(group, pattern, data):
    literals = S.CUE_LITERALS[[n for n, _ in S._SCREENED].index(group)]
    if literals is None:
        return
    text = data.draw(st.from_regex(pattern, fullmatch=True)).lower()
    if not pattern.search(text):  # lower-casing the drawn text can break the match
        return
    assert any(lit in text for lit in literals), (group, text, sorted(literals))


def test_every_cue_group_is_screened_by_a_literal_or_always_searched():
    assert len(S.CUE_LITERALS) == len(S.CUES) + 5
    # the request group has a bare number as one phrase, so it cannot be screened
    always = [name for (name, _), lits in zip(S._SCREENED, S.CUE_LITERALS, strict=True)
              if lits is None]
    assert always == ["help request"]


# -- the mask, in Polars and in Python ----------------------------------------------------------
AWKWARD = [
    "",
    "THANK YOU @Delta",
    "Thank\u212a you",  # KELVIN SIGN lower-cases to an ASCII k
    "\u0130stanbul flight DELAYED",  # dotted capital I lower-cases to two code points
    "\u039f\u0394\u039f\u03a3 thanks",  # a final sigma
    "you\u2019re the best",
    "y&#39;all rock",
    "no&nbsp;refund &amp; no reply https://t.co/thanks",
    "#fail again",
    "can\u2019t complain \U0001f600",
]


def test_polars_mask_equals_python_mask():
    frame = pl.DataFrame({"text": [*AWKWARD, None]})
    masks = frame.select(S.cue_mask_expr(pl.col("text"))).to_series().to_list()
    assert masks == [S.cue_mask(t) for t in AWKWARD] + [S.cue_mask("")]
    assert S.cue_mask("thanks for nothing") & S._BIT["thanks the brand"]
    assert not S.cue_mask("the weather") & S._BIT["complaint: refund"]


def _same_with_and_without_mask(model, texts, terms=("Delta", "@Delta")):
    masks = pl.Series(texts, dtype=pl.String).to_frame("text").select(
        S.cue_mask_expr(pl.col("text"))).to_series().to_list()
    differences = []
    for text, mask in zip(texts, masks, strict=True):
        for addressed in (False, True):
            for replying in (False, True):
                plain = model.classify(text, terms, addressed_to_brand=addressed,
                                       replying_to_criticism=replying)
                screened = model.classify(text, terms, addressed_to_brand=addressed,
                                          replying_to_criticism=replying, cue_mask=mask)
                if plain != screened:
                    differences.append((text, addressed, replying, plain, screened))
    return differences


# The splitter drops the comma after a "before" contrast clause and can glue the words around
# it ("ra, in spite of" becomes "rain spite of"), so a clause need not be a piece of the raw text
# the mask was read from; the model then searches every group.
GLUED = [
    "waited an hour. although terrible ra, in spite of",
    "although great ser, though",
    "despite the storm, however",
    "@Delta even though no ref, despite",
]


def test_glued_clauses_get_every_group_searched():
    model = S.StanceModel()
    glued = [t for t in GLUED if any(low not in S._normalize(t).lower()
                                     for low in _clause_texts(t))]
    assert glued == GLUED  # each really is glued
    assert _same_with_and_without_mask(model, GLUED) == []


def test_mask_changes_no_judgement_on_the_stance_cases():
    texts = [case[1] for case in CASES] + AWKWARD
    assert _same_with_and_without_mask(S.StanceModel(), texts) == []


_WORDS = st.sampled_from(
    ["thanks", "Thank", "you", "y'all", "y\u2019all", "they", "refund", "no", "not", "never",
     "great", "GREAT", "service", "delayed", "storm", "lady", "@Delta", "Delta", "but", "though",
     "again", "waiting", "on", "hold", "!", "?", ".", ";", "&amp;", "&#39;", "https://x.co/a",
     "love", "lost", "my", "bag", "help", "please", "dm", "123456", "wrong", "agree", "true",
     "\u212a", "\u0130", "\u03a3", "\U0001f600", "fixed", "rebooked", "me", "in", "minutes",
     "rock", "you're", "you\u2019re", "the", "best", "&quot;", "&lt;3", "#fail", "x",
     # contrast words make the splitter cut (and, rarely, glue) clauses
     "although", "though", "despite", "in spite of", "even though", "however", "terrible",
     "ra", "ter", "rible", "ser", "vice", "thank", "s"]
)


_TEXTS = st.builds(
    lambda words, seps: "".join(w + s for w, s in zip(words, seps, strict=False)),
    st.lists(_WORDS, max_size=18),
    st.lists(st.sampled_from([" ", "", ", ", "\n"]), min_size=18, max_size=18),
)


def _clause_texts(text: str, *, glued: bool = True) -> list[str]:
    """The lower-cased clauses the model searches, with and without a leading handle block;
    ``glued=False`` leaves out clauses that are not pieces of the text (the model searches
    every group in those, whatever the mask)."""
    normalized = S._normalize(text)
    leading = S._LEADING_HANDLES_RE.match(normalized)
    variants = [normalized, normalized[leading.end():]] if leading else [normalized]
    return [c.low for v in variants for c in S._split_clauses(v)
            if glued or c.low in v.lower()]


def _unscreened_matches(texts: list[str]) -> list[tuple[str, str]]:
    """(pattern name, text) wherever a clause of the text matches a pattern whose bit is clear
    in the text's mask: the one thing screening must never do."""
    masks = pl.DataFrame({"text": texts}, schema={"text": pl.String}).select(
        S.cue_mask_expr(pl.col("text"))).to_series().to_list()
    missed = []
    for text, mask in zip(texts, masks, strict=True):
        for low in _clause_texts(text, glued=False):
            for bit, (name, pattern) in enumerate(S._SCREENED):
                if pattern.search(low) and not mask >> bit & 1:
                    missed.append((name, text))
    return missed


def test_a_clause_that_matches_has_its_bit_set():
    assert _unscreened_matches(AWKWARD + [case[1] for case in CASES]) == []


@settings(max_examples=300, deadline=None)
@given(text=_TEXTS)
def test_property_a_clause_that_matches_has_its_bit_set(text):
    assert _unscreened_matches([text]) == []


@settings(max_examples=300, deadline=None)
@given(text=_TEXTS)
def test_property_mask_changes_no_judgement(text):
    assert _same_with_and_without_mask(S.StanceModel(), [text]) == []


def _same_with_and_without_settling(monkeypatch, texts):
    model = S.StanceModel()
    flags = [(a, r) for a in (False, True) for r in (False, True)]
    settled = [model.classify(t, ("Delta", "@Delta"), addressed_to_brand=a,
                              replying_to_criticism=r) for t in texts for a, r in flags]
    with monkeypatch.context() as patch:
        patch.setattr(S, "_CUES_SETTLE", False)
        S._vader.cache_clear()
        asked = [model.classify(t, ("Delta", "@Delta"), addressed_to_brand=a,
                                replying_to_criticism=r) for t in texts for a, r in flags]
    return [(t, x, y) for t, x, y in zip([t for t in texts for _ in flags], settled, asked,
                                          strict=True) if x != y]


def test_settled_clauses_score_as_with_vader(monkeypatch):
    texts = [case[1] for case in CASES] + AWKWARD + [
        "thanks @Delta, great service, you rock",  # two cues: settled at 1
        "@Delta lost my bag, no refund, worst airline",  # settled at -1
        "thank you but still no refund and nobody replied",  # one-way cues in each clause
        "great service, no refund, nobody replied",  # mixed cues in one clause
        "thanks for the upgrade, lost my bag again and still no refund",
        "you rock, worst airline ever, great crew",
    ]
    assert _same_with_and_without_settling(monkeypatch, texts) == []
    # and the shortcut is taken: these clauses are settled by their cues
    calls = []
    monkeypatch.setattr(S, "_vader", lambda text: calls.append(text) or 0.0)
    S.StanceModel().classify("thanks @Delta, great service, you rock", ("Delta", "@Delta"))
    assert calls == []


@settings(max_examples=200, deadline=None)
@given(text=_TEXTS)
def test_property_settled_clauses_score_as_with_vader(text):
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _same_with_and_without_settling(monkeypatch, [text]) == []


def test_mask_changes_no_judgement_on_real_exports(real_data):
    texts: list[str] = []
    for path in iter_input_files(real_data):
        try:
            parsed = parse_file(path)
        except Exception:  # noqa: BLE001 (files the pipeline sets aside are tested elsewhere)
            continue
        texts.extend(parsed.messages["text"].drop_nulls().head(400).to_list())
    assert len(texts) > 1000
    assert _unscreened_matches(texts) == []
    assert _same_with_and_without_mask(S.StanceModel(), texts) == []
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _same_with_and_without_settling(monkeypatch, texts) == []
