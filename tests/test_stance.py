"""Tests for the target-aware stance model (``pipelines.stance``)."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.stance import (
    StanceModel,
    StanceResult,
    StanceWorkers,
    plain_vader,
    score_stance_frame,
)
from tests.conftest import REAL_DATA

DELTA = ("Delta", "@Delta", "#flydelta")
SPRINT = ("Sprint", "@sprintcare", "@sprint")
SBUX = ("Starbucks", "@Starbucks")
WALMART = ("Walmart", "@Walmart", "@WalmartHelp")
COMCAST = ("Comcast", "@comcastcares", "Xfinity")
TMO = ("T-Mobile", "@TMobileHelp", "@TMobile")

A = "addressed"  # addressed_to_brand=True
R = "reply"  # replying_to_criticism=True

# (behaviour, text, target terms, flag, expected label)
CASES = [
    # Negativity about something else; the clause about the brand is positive.
    (
        "target_contrast",
        "the storm cancelled my flight but @Delta rebooked me in minutes",
        DELTA,
        "",
        "favor",
    ),
    (
        "target_contrast",
        "Snowstorm ruined our trip, but Delta got us on the first flight out the next morning",
        DELTA,
        "",
        "favor",
    ),
    (
        "target_contrast",
        "the guy next to me is so rude, but the @Delta crew was amazing",
        DELTA,
        "",
        "favor",
    ),
    (
        "target_contrast",
        "Traffic was horrible this morning. At least @Starbucks had my order "
        "ready when I walked in!",
        SBUX,
        "",
        "favor",
    ),
    (
        "off_target",
        "@Delta the weather in Atlanta is terrible, will my flight still leave on time?",
        DELTA,
        A,
        "neutral",
    ),
    (
        "off_target",
        "some lady at the Walmart checkout was screaming at the cashier for 10 minutes lol",
        WALMART,
        "",
        "neutral",
    ),
    ("off_target", "the kid behind me kicked my seat for 5 hours", DELTA, A, "neutral"),
    # A delay or outage the brand then fixed.
    (
        "fixed_problem",
        "my flight was delayed 3 hours but the gate agent got us on the next one",
        DELTA,
        A,
        "favor",
    ),
    (
        "fixed_problem",
        "Flight delayed 2 hours. @Delta crew kept us updated the whole time, thank you!",
        DELTA,
        "",
        "favor",
    ),
    (
        "fixed_problem",
        "internet went down last night but @comcastcares had it fixed by 9am, impressed",
        COMCAST,
        "",
        "favor",
    ),
    ("fixed_problem", "thank you for rebooking my cancelled flight", DELTA, A, "favor"),
    # Thanks and praise.
    ("thanks", "@Delta thank you so much for the help", DELTA, "", "favor"),
    ("thanks", "@sprintcare thanks Kim, you guys are the best", SPRINT, "", "favor"),
    ("thanks", "you're doing your best, I appreciate it", DELTA, A, "favor"),
    (
        "thanks",
        "Shout out to @Starbucks on 5th street for remembering my order every single morning",
        SBUX,
        "",
        "favor",
    ),
    ("thanks", "I can't thank you enough for finding my bag!", DELTA, A, "favor"),
    ("praise", "Best coffee in town, love my Starbucks mornings", SBUX, "", "favor"),
    (
        "praise",
        "been with T-Mobile 6 years and never had a problem, highly recommend",
        TMO,
        "",
        "favor",
    ),
    ("praise", "the crew has been nothing but helpful", DELTA, A, "favor"),
    # Plain help requests.
    ("request", "@Delta how do I change my seat?", DELTA, "", "neutral"),
    ("request", "can you DM me", DELTA, A, "neutral"),
    ("request", "@Delta please help me change my seat", DELTA, "", "neutral"),
    ("request", "@WalmartHelp my order number is 2003817261, where is it?", WALMART, "", "neutral"),
    (
        "request",
        "@comcastcares Is there a way to add HBO to my plan online?",
        COMCAST,
        "",
        "neutral",
    ),
    (
        "request",
        "@TMobileHelp I need help unlocking my phone, thanks in advance",
        TMO,
        "",
        "neutral",
    ),
    (
        "request",
        "@Starbucks what time does the Pike Place store open on Sundays?",
        SBUX,
        "",
        "neutral",
    ),
    ("request", "@sprintcare sent you a DM with my account details", SPRINT, "", "neutral"),
    (
        "request",
        "Our flight got cancelled due to fog, any chance you can put us on the 6pm?",
        DELTA,
        A,
        "neutral",
    ),
    # Complaints aimed at the brand.
    ("complaint", "@sprintcare is the worst customer service", SPRINT, "", "against"),
    ("complaint", "still no refund after 3 weeks", WALMART, A, "against"),
    (
        "complaint",
        "@sprintcare I have sent several private messages and no one is responding as usual",
        SPRINT,
        "",
        "against",
    ),
    (
        "complaint",
        "@comcastcares internet down AGAIN. third time this week. cancelling my service",
        COMCAST,
        "",
        "against",
    ),
    (
        "complaint",
        "@TMobileHelp been on hold for 2 hours and still waiting for someone to pick up",
        TMO,
        "",
        "against",
    ),
    (
        "complaint",
        "@Starbucks wrong drink again and the barista didn't even care. so disappointed",
        SBUX,
        "",
        "against",
    ),
    (
        "complaint",
        "@WalmartHelp you charged me twice for the same order and nobody will call me back",
        WALMART,
        "",
        "against",
    ),
    (
        "complaint",
        "Never flying Delta again. Lost my bag and nobody at the desk could tell me anything",
        DELTA,
        "",
        "against",
    ),
    (
        "complaint",
        "why is no one answering the phone at your customer service line?",
        COMCAST,
        A,
        "against",
    ),
    ("complaint", "your app keeps crashing every time I try to pay. fix it", SBUX, A, "against"),
    ("complaint", "I love you guys but your app is garbage", SBUX, A, "against"),
    (
        "complaint",
        "I've been a loyal customer for 10 years and this is how you treat me?",
        TMO,
        A,
        "against",
    ),
    # Sarcasm that carries a complaint.
    ("sarcasm", "great, another 2 hour delay, thanks @Delta", DELTA, "", "against"),
    ("sarcasm", "love waiting on hold for an hour", COMCAST, A, "against"),
    (
        "sarcasm",
        "Thanks @sprintcare for the 3 dropped calls today, really appreciate it",
        SPRINT,
        "",
        "against",
    ),
    (
        "sarcasm",
        "Oh great, Xfinity is down again. Just what I needed before my deadline",
        COMCAST,
        "",
        "against",
    ),
    ("sarcasm", "@Delta Great. Another delay.", DELTA, "", "against"),
    (
        "sarcasm",
        "nothing like sitting on the tarmac for 3 hours, way to go @Delta",
        DELTA,
        "",
        "against",
    ),
    ("sarcasm", "thanks for losing my bag", DELTA, A, "against"),
    # Replies to a critic of the brand.
    ("defends_brand", "that's not true", DELTA, R, "favor"),
    ("defends_brand", "not my experience at all, they've always been great to me", TMO, R, "favor"),
    ("defends_brand", "you're wrong, they've always been great to me", DELTA, R, "favor"),
    (
        "defends_brand",
        "lol you're wrong. Starbucks baristas work harder than anyone",
        SBUX,
        R,
        "favor",
    ),
    (
        "defends_brand",
        "never had an issue with them in 10 years, maybe it's your phone",
        TMO,
        R,
        "favor",
    ),
    ("defends_brand", "you're an idiot, stop complaining", WALMART, R, "favor"),
    ("agrees_with_critic", "so true, same thing happened to me last week", COMCAST, R, "against"),
    ("insults_critic", "you're an idiot", DELTA, R, "neutral"),
    # Nothing to score.
    ("empty", "", DELTA, "", "neutral"),
    ("empty", "   ", DELTA, A, "neutral"),
    ("empty", "@Delta https://t.co/abc123", DELTA, "", "neutral"),
]


def _classify(model: StanceModel, text, terms, flag) -> StanceResult:
    return model.classify(
        text, terms, addressed_to_brand=flag == A, replying_to_criticism=flag == R
    )


@pytest.fixture(scope="module")
def model() -> StanceModel:
    return StanceModel()


@pytest.mark.parametrize(
    ("behaviour", "text", "terms", "flag", "expected"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_label(model, behaviour, text, terms, flag, expected):
    result = _classify(model, text, terms, flag)
    assert result.label == expected, (behaviour, text, result)


def test_at_least_forty_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_score_range_and_sign(model, case):
    _, text, terms, flag, _ = case
    result = _classify(model, text, terms, flag)
    assert -1.0 <= result.score <= 1.0
    assert result.label in ("favor", "against", "neutral")
    assert isinstance(result.cue, str) and result.cue
    if result.label == "favor":
        assert result.score >= model.neutral_band
    elif result.label == "against":
        assert result.score <= -model.neutral_band
    else:
        assert abs(result.score) < model.neutral_band


@pytest.mark.parametrize(
    ("text", "terms", "flag", "cue"),
    [
        ("@Delta thank you so much for the help", DELTA, "", "thanks the brand"),
        (
            "@sprintcare I have sent several messages and no one is responding",
            SPRINT,
            "",
            "complaint: no response",
        ),
        ("great, another 2 hour delay, thanks @Delta", DELTA, "", "sarcasm"),
        (
            "you're wrong, they've always been great to me",
            DELTA,
            R,
            "reply disagrees with a critic",
        ),
        (
            "the storm cancelled my flight but @Delta rebooked me in minutes",
            DELTA,
            "",
            "brand fixed the problem after a setback",
        ),
        ("@Delta rebooked me in minutes", DELTA, "", "brand fixed the problem"),

        ("@Delta how do I change my seat?", DELTA, "", "help request"),
        ("", DELTA, "", "empty text"),
    ],
)
def test_cue(model, text, terms, flag, cue):
    assert _classify(model, text, terms, flag).cue == cue


def test_plain_vader_baseline_is_wrong_where_stance_is_right(model):
    """The point of target-awareness: plain VADER compound reads the wording, not the
    position toward the brand. It calls the storm example negative (the weather is) and the
    sarcastic delay tweet positive ("great", "thanks")."""
    storm = "the storm cancelled my flight but @Delta rebooked me in minutes"
    sarcasm = "great, another 2 hour delay, thanks @Delta"
    assert plain_vader(storm) < 0
    assert plain_vader(sarcasm) > 0.5
    assert model.classify(storm, DELTA).label == "favor"
    assert model.classify(sarcasm, DELTA).label == "against"


def test_flags_change_the_reading(model):
    # "you" is the critic in a reply to criticism; disagreeing defends the brand ...
    assert model.classify("you're wrong", DELTA, replying_to_criticism=True).label == "favor"
    # ... but the same words addressed to the brand are not praise.
    assert model.classify("you're wrong", DELTA, addressed_to_brand=True).label != "favor"
    # Second person counts as the brand only when the message is addressed to it.
    addressed = model.classify("you guys are the worst", DELTA, addressed_to_brand=True)
    unaddressed = model.classify("you guys are the worst", DELTA)
    assert addressed.label == "against"
    assert addressed.score < unaddressed.score


def test_target_terms_match_at_word_boundaries(model):
    # "Delta" finds "@Delta" and "#delta" (any case) but not "@DeltaNews" or "Deltaville".
    for text in ("@Delta rocks", "#delta rocks", "DELTA rocks"):
        assert model.classify(text, ["Delta"]).score > 0.2, text
    plain = model.classify("the storm was awful but Deltaville was lovely", ["Delta"])
    named = model.classify("the storm was awful but Delta was lovely", ["Delta"])
    assert named.score > plain.score
    # a plain string is accepted as a single term
    assert model.classify("thanks @Delta!", "Delta").label == "favor"


def test_brand_name_is_not_sentiment(model):
    # "Best Buy": "best" is a positive VADER word, but here it is only the brand's name.
    assert (
        model.classify("@BestBuy where is Best Buy on 5th street?", ["Best Buy", "@BestBuy"]).label
        == "neutral"
    )


@pytest.mark.parametrize("text", [None, "", " \n\t ", "@Delta", "https://t.co/x"])
def test_none_and_empty_are_neutral(model, text):
    result = model.classify(text, DELTA, addressed_to_brand=True)
    assert result == StanceResult("neutral", 0.0, result.cue)


def test_neutral_band():
    text = "Delta was fine I guess"
    loose = StanceModel(neutral_band=0.05).classify(text, DELTA)
    strict = StanceModel(neutral_band=0.9).classify(text, DELTA)
    assert loose.score == strict.score
    assert strict.label == "neutral"
    with pytest.raises(ValueError):
        StanceModel(neutral_band=1.5)


def test_model_pickles():
    import pickle

    model = pickle.loads(pickle.dumps(StanceModel(neutral_band=0.3)))
    assert model.neutral_band == 0.3
    assert model.classify("thanks @Delta!", DELTA).label == "favor"


def test_has_words_is_any_alphanumeric_character():
    # the clause splitter's regular expression against str.isalnum, on every code point
    from pipelines.stance import _has_words

    differing = [c for c in map(chr, range(0x110000))
                 if not 0xD800 <= ord(c) <= 0xDFFF and _has_words(c) != c.isalnum()]
    assert differing == []
    assert _has_words("... @ !!") is False and _has_words("-- ok") is True


# ------------------------------------------------------------------------------------------
# VADER without its emoji step, for texts that hold none
# ------------------------------------------------------------------------------------------
_VADER_WORDS = st.sampled_from(
    ["good", "GOOD", "great", "bad", "BAD", "not", "no", "never", "least", "kind of", "of", "but",
     "BUT", "very", "extremely", "slightly", "without", "doubt", "so", "this", "isn't", "nt",
     "love", "hate", "okay", ":)", ":(", "<3", "lol", "!", "!!!", "?", "??", "a", "I", "x",
     "the", "flight", "sucks", "kinda", "yeah", "right", "cool", "s.o.b.", "'", "-", "you",
     # VADER's idioms and the words its other rules look for
     "shit", "bomb", "kiss", "death", "die", "for", "to", "bad ass", "badass", "bus", "stop",
     "sort of", "sorta", "at", "or", "nor", "NOT", "NEVER", "VERY", "no", "No", "least,",
     "can't", "wasn't", "uh-uh", "despite", "doubt,", "(good)", "...", "8)", "x2"]
)


def _vader_texts(words, seps):
    return "".join(w + s for w, s in zip(words, seps, strict=False))


@settings(max_examples=400, deadline=None)
@given(words=st.lists(_VADER_WORDS, max_size=16),
       seps=st.lists(st.sampled_from([" ", "  ", "", ", ", "! ", "? ", "\n"]),
                     min_size=16, max_size=16))
def test_vader_without_emoji_step_agrees(words, seps):
    from pipelines.stance import _analyzer, _compound_without_emoji

    text = " " + _vader_texts(words, seps) + " "
    analyzer = _analyzer()
    assert _compound_without_emoji(analyzer, text) == analyzer.polarity_scores(text)["compound"]


def test_vader_without_emoji_step_agrees_on_the_cases_and_real_texts(request):
    from pipelines.stance import _analyzer, _compound_without_emoji, _emoji_free_ascii

    assert _emoji_free_ascii()
    texts = [case[1] for case in CASES]
    real = request.getfixturevalue("real_data") if REAL_DATA.is_dir() else None
    if real is not None:
        from pipelines.formats import iter_input_files, parse_file

        for path in iter_input_files(real):
            try:
                texts += parse_file(path).messages["text"].drop_nulls().head(300).to_list()
            except Exception:  # noqa: BLE001 (files set aside are tested elsewhere)
                continue
    analyzer = _analyzer()
    ascii_texts = [t for t in texts if t.isascii()]
    assert len(ascii_texts) > 50
    differing = [t for t in ascii_texts if _compound_without_emoji(analyzer, t)
                 != analyzer.polarity_scores(t)["compound"]]
    assert differing == []


# ------------------------------------------------------------------------------------------
# score_stance_frame
# ------------------------------------------------------------------------------------------
TERMS = {"delta": list(DELTA), "sprint": list(SPRINT)}


def _frame(rows) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "key": pl.Int64,
            "brand": pl.String,
            "text": pl.String,
            "addressed_to_brand": pl.Boolean,
            "replying_to_criticism": pl.Boolean,
        },
        orient="row",
    )


class CountingModel(StanceModel):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def classify(self, text, target_terms, **flags):
        self.calls += 1
        return super().classify(text, target_terms, **flags)


def test_frame_one_row_per_input_and_dedup():
    storm = "the storm cancelled my flight but @Delta rebooked me in minutes"
    rows = [
        (10, "delta", storm, False, False),
        (11, "delta", storm, False, False),  # retweet copy
        (12, "delta", storm, False, False),
        (13, "delta", "you're wrong", False, True),
        (14, "delta", "you're wrong", False, False),  # same text, other flags
        (15, "sprint", "@sprintcare is the worst customer service", True, False),
        (16, "sprint", "@sprintcare is the worst customer service", True, False),
        (17, "delta", None, True, False),
        (18, "delta", "", None, None),
    ]
    model = CountingModel()
    out = score_stance_frame(_frame(rows), TERMS, model=model, workers=1)
    assert out.columns == ["key", "brand", "stance", "stance_score", "stance_cue"]
    assert out.schema["key"] == pl.Int64
    assert out.schema["stance_score"] == pl.Float64
    assert out.schema["stance"] == pl.String and out.schema["stance_cue"] == pl.String
    assert out["key"].to_list() == [r[0] for r in rows]
    assert out["brand"].to_list() == [r[1] for r in rows]
    # distinct (brand, text, flags): storm, wrong/reply, wrong/plain, worst, None-as-"",
    # "" with null flags read as False
    assert model.calls == 6
    by_key = {r["key"]: r for r in out.iter_rows(named=True)}
    assert by_key[10] == {**by_key[11], "key": 10} == {**by_key[12], "key": 10}
    assert by_key[10]["stance"] == "favor"
    assert by_key[13]["stance"] == "favor"
    assert by_key[14]["stance"] != "favor"
    assert by_key[15]["stance"] == by_key[16]["stance"] == "against"
    assert by_key[17]["stance"] == by_key[18]["stance"] == "neutral"
    assert by_key[17]["stance_score"] == 0.0


def test_frame_unknown_brand_uses_its_name_and_empty_frame():
    out = score_stance_frame(
        _frame([(1, "Acme", "thanks Acme, great support!", False, False)]), TERMS, workers=1
    )
    assert out["stance"].to_list() == ["favor"]
    empty = score_stance_frame(_frame([]), TERMS)
    assert empty.height == 0
    assert empty.columns == ["key", "brand", "stance", "stance_score", "stance_cue"]


def test_frame_parallel_matches_serial(monkeypatch):
    import pipelines.stance as stance_module

    pools = []

    class SpyPool(stance_module.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs.get("max_workers"))
            super().__init__(*args, **kwargs)

    rows = []
    for i in range(300):
        case = CASES[i % len(CASES)]
        text = f"{case[1]} #{i // len(CASES)}" if case[1].strip() else case[1]
        rows.append((i, "delta", text, case[3] == A, case[3] == R))
    rows.append((1000, "delta", None, False, False))
    frame = _frame(rows)
    assert frame.select("text", "addressed_to_brand").unique().height > 100
    serial = score_stance_frame(frame, TERMS, workers=1)
    monkeypatch.setattr(stance_module, "ProcessPoolExecutor", SpyPool)
    parallel = score_stance_frame(frame, TERMS, workers=2, parallel_threshold=100)
    assert pools == [2]  # really went through a pool of two processes
    assert parallel.height == frame.height
    assert parallel["key"].to_list() == frame["key"].to_list()
    assert parallel.equals(serial)
    assert set(serial["stance"].unique().to_list()) == {"favor", "against", "neutral"}


def test_shared_workers_serve_several_calls(monkeypatch):
    """One ``StanceWorkers`` pool, started once, judges two frames exactly as serial code does."""
    import pipelines.stance as stance_module

    pools = []

    class SpyPool(stance_module.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs.get("max_workers"))
            super().__init__(*args, **kwargs)

    frames = [
        _frame([(i, "delta", f"{CASES[i % len(CASES)][1]} #{i} {round_}",
                 CASES[i % len(CASES)][3] == A, CASES[i % len(CASES)][3] == R)
                for i in range(250)])
        for round_ in ("first", "second")
    ]
    serial = [score_stance_frame(f, TERMS, workers=1) for f in frames]
    monkeypatch.setattr(stance_module, "ProcessPoolExecutor", SpyPool)
    with StanceWorkers(workers=2) as workers:
        shared = [score_stance_frame(f, TERMS, pool=workers, parallel_threshold=100)
                  for f in frames]
        assert workers._pool is not None  # still up between the calls
    assert workers._pool is None  # and shut down when the block ends
    assert pools == [2]  # one pool for both calls
    for got, expected in zip(shared, serial, strict=True):
        assert got.equals(expected)
    with pytest.raises(ValueError, match="either a pool"):
        score_stance_frame(frames[0], TERMS, workers=2, pool=StanceWorkers())
