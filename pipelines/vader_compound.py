"""VADER's compound score of a text without emoji, as vaderSentiment 3.3.2 computes it, faster.

VADER (Hutto & Gilbert 2014, "VADER: A Parsimonious Rule-based Model for Sentiment Analysis
of Social Media Text") sums a valence per word, adjusted by the three words before it
(boosters, negations, "never so", "without doubt", idioms), by ALL CAPS, by "least", "no"
and "but", then adds emphasis for "!" and "?" and squashes the sum into -1..1. Its reference
code lower-cases the whole word list again for every check of every sentiment word, and
builds its list of negation words anew for every word it tests: for a clause of ten words
that is most of the time VADER takes, which is a large part of what stance scoring costs.

``compound`` follows the same rules in the same order on a word list lower-cased once, so
it returns exactly ``SentimentIntensityAnalyzer.polarity_scores(text)["compound"]`` for any
text without emoji (the pinned vaderSentiment is 3.3.2; ``tests/test_stance.py`` compares
the two on generated texts built from VADER's special words and on real exports). The
emoji step of ``polarity_scores`` only rewrites emoji, so it is left out, and so are the
neg/neu/pos shares, which stance does not use.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    normalize,
)

_NEGATE = frozenset(NEGATE)
_SO_THIS = ("so", "this")


def _negated(word_lower: str) -> bool:
    """``vaderSentiment.negated([word])``: a negation word, or any word with "n't"."""
    return word_lower in _NEGATE or "n't" in word_lower


def _token(token: str) -> str:
    """A word with its leading and trailing punctuation removed, unless that leaves two
    characters or fewer (then it was probably an emoticon: ":)")."""
    stripped = token.strip(string.punctuation)
    return token if len(stripped) <= 2 else stripped


def compound(lexicon: Mapping[str, float], text: str) -> float:
    """The compound score, -1..1 rounded to 4 places, of ``text`` (which holds no emoji)
    under ``lexicon`` (the analyzer's word valences).

    >>> from pipelines.stance import _analyzer
    >>> compound(_analyzer().lexicon, "not bad at all!")
    0.484
    """
    text = text.strip()
    words = [_token(t) for t in text.split()]
    if not words:
        return 0.0
    low = [w.lower() for w in words]
    n = len(words)
    upper = [w.isupper() for w in words]
    capitals = sum(upper)
    cap_diff = 0 < n - capitals < n
    sentiments: list[float] = []
    for i, item in enumerate(low):
        if item in BOOSTER_DICT or (i < n - 1 and item == "kind" and low[i + 1] == "of"):
            sentiments.append(0)
            continue
        if item not in lexicon:
            sentiments.append(0)
            continue
        valence = lexicon[item]
        if item == "no" and i != n - 1 and low[i + 1] in lexicon:
            valence = 0.0
        if (i > 0 and low[i - 1] == "no") or (i > 1 and low[i - 2] == "no") or (
            i > 2 and low[i - 3] == "no" and low[i - 1] in ("or", "nor")
        ):
            valence = lexicon[item] * N_SCALAR
        if upper[i] and cap_diff:
            valence = valence + C_INCR if valence > 0 else valence - C_INCR
        for start_i in range(3):
            j = i - (start_i + 1)
            if j < 0 or low[j] in lexicon:
                continue
            # a booster before the word: dampened with its distance
            s = 0.0
            if low[j] in BOOSTER_DICT:
                s = BOOSTER_DICT[low[j]]
                if valence < 0:
                    s *= -1
                if upper[j] and cap_diff:
                    s = s + C_INCR if valence > 0 else s - C_INCR
            if start_i == 1 and s != 0:
                s = s * 0.95
            if start_i == 2 and s != 0:
                s = s * 0.9
            valence = valence + s
            valence = _negation(valence, low, start_i, i)
            if start_i == 2:
                valence = _special_idioms(valence, low, i)
        valence = _least(valence, low, i, lexicon)
        sentiments.append(valence)
    if "but" in low:
        # the reference's own loop (it looks values up by equality, which matters when two
        # words have the same valence), kept as it is
        sentiments = SentimentIntensityAnalyzer._but_check(words, sentiments)
    total = float(sum(sentiments))
    emphasis = min(text.count("!"), 4) * 0.292
    questions = text.count("?")
    if questions > 1:
        emphasis += questions * 0.18 if questions <= 3 else 0.96
    if total > 0:
        total += emphasis
    elif total < 0:
        total -= emphasis
    return round(normalize(total), 4)


def _negation(valence: float, low: list[str], start_i: int, i: int) -> float:
    """``SentimentIntensityAnalyzer._negation_check`` on lower-cased words."""
    if start_i == 0:
        if _negated(low[i - 1]):
            valence = valence * N_SCALAR
    elif start_i == 1:
        if low[i - 2] == "never" and low[i - 1] in _SO_THIS:
            valence = valence * 1.25
        elif low[i - 2] == "without" and low[i - 1] == "doubt":
            pass
        elif _negated(low[i - 2]):
            valence = valence * N_SCALAR
    else:
        if (low[i - 3] == "never" and low[i - 2] in _SO_THIS) or low[i - 1] in _SO_THIS:
            valence = valence * 1.25
        elif low[i - 3] == "without" and (low[i - 2] == "doubt" or low[i - 1] == "doubt"):
            pass
        elif _negated(low[i - 3]):
            valence = valence * N_SCALAR
    return valence


def _special_idioms(valence: float, low: list[str], i: int) -> float:
    """``SentimentIntensityAnalyzer._special_idioms_check`` on lower-cased words (only
    called with i >= 3)."""
    threetwoone = f"{low[i - 3]} {low[i - 2]} {low[i - 1]}"
    threetwo = f"{low[i - 3]} {low[i - 2]}"
    twoone = f"{low[i - 2]} {low[i - 1]}"
    for seq in (f"{low[i - 1]} {low[i]}", f"{low[i - 2]} {low[i - 1]} {low[i]}", twoone,
                threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    n = len(low)
    if n - 1 > i:
        zeroone = f"{low[i]} {low[i + 1]}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if n - 1 > i + 1:
        zeroonetwo = f"{low[i]} {low[i + 1]} {low[i + 2]}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


def _least(valence: float, low: list[str], i: int, lexicon: Mapping[str, float]) -> float:
    """``SentimentIntensityAnalyzer._least_check`` on lower-cased words: "least" before a
    word negates it, except in "at least" and "very least"."""
    if i > 1 and low[i - 1] not in lexicon and low[i - 1] == "least":
        if low[i - 2] != "at" and low[i - 2] != "very":
            valence = valence * N_SCALAR
    elif i > 0 and low[i - 1] not in lexicon and low[i - 1] == "least":
        valence = valence * N_SCALAR
    return valence
