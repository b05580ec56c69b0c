"""Per-message stance toward a brand: does this message *favor* the brand, speak *against* it,
or take no position (*neutral*)?

Why not plain sentiment
-----------------------
Sentiment asks "is the wording positive?"; stance asks "what does the author think of the
brand?". They disagree exactly where advocate discovery cares most:

* "the storm cancelled my flight but @Delta rebooked me in minutes" is negative wording about
  the weather and positive about the brand (VADER alone scores it mildly negative).
* "great, another 2 hour delay, thanks @Delta" is positive wording and a complaint (sarcasm;
  VADER alone scores it clearly positive).
* "@Delta please help me change my seat" is polite wording and no stance at all.
* a reply to a critic saying "you're wrong, they've always been great to me" is negative
  wording toward the critic and a defence of the brand.

How a message is scored
-----------------------
1. **Normalise**: drop URLs, decode the common HTML entities, straighten quotes. A block of
   ``@handles`` at the very start is addressing, not content: it is removed, and if it names the
   brand the message counts as addressed to the brand.
2. **Split into clauses**: sentences (``. ! ? ; newline``), then contrast markers. After
   "but / however / nevertheless / that said" the *later* clause carries the stance and every
   earlier clause becomes a concession (weight 0.25); a clause opened by
   "although / even though / though / despite" is a concession up to its first comma.
3. **Relevance of each clause** (whom is it about?):
   ``direct`` (1.0) names a target term, or - when the message is addressed to the brand -
   speaks in the second person ("you", "your", "you guys") or is the first clause after the
   brand's @handle; ``context`` (0.7 when the message is about the brand, else 0.5) names
   nobody in particular; ``off-target`` (0.15) is about someone or something else (the weather,
   traffic, another passenger, "the guy next to me") and carries no brand-specific complaint.
   In a reply to a critic, "you" is the critic (off-target) while "they" is the brand (direct).
4. **Score each clause**: VADER compound on the clause with handles and brand names masked
   (so a brand called "Best Buy" is not praise), plus the curated cues below. With cues the
   clause score is ``0.5 * vader + sum(cues)``; when every cue points the same way VADER may
   only agree with them ("I've been a loyal customer and this is how you treat me?" stays a
   complaint despite "loyal"). Without cues it is VADER alone. Clipped to -1..1.
   Requests and questions with no other cue keep only a quarter of VADER's score and half of
   any soft "service problem" cue, so polite or worried help requests stay neutral.
   Sarcasm (a fixed ironic phrase; a positive exclamation beside a service problem with
   nothing in the clause saying it was fixed or praising it; a bare "Great." in a message that
   reports a problem) drops the positive cues and turns VADER's positivity negative.
5. **Combine**: ``sum(weight * score) / max(1, sum(weight of clauses that say something))``,
   so a single weak off-target clause cannot carry the message, while several on-target
   clauses average. Scores within ``neutral_band`` of 0 are neutral.

The cue lists live in :data:`CUES` (one table, grouped by meaning, each group a score, a
human-readable reason and the phrases that trigger it); the other vocabularies (second person,
other subjects, sarcasm parts, contrast markers) sit right next to it.

Known weaknesses
----------------
* Cue lists are English and hand-curated: unseen phrasings fall back to (target-weighted)
  VADER; other languages are mostly neutral.
* Whom a clause is about is decided by surface cues: "Delta staff were rude to the lady next
  to me" names both the brand and a third party and is only half-weighted; pronouns other
  than "you" (and "they" in replies to critics) are not resolved.
* Sarcasm without a fixed phrase or a service-problem word ("wow, stellar work as always")
  is read literally; sincere praise next to a problem word ("great crew on my delayed
  flight") is protected only when a praise or fix cue is present.
* A polite concession before a neutral main clause ("I appreciate your point but this was
  not the case") still counts, weakly, as favor.
* Messages that never name or address the brand are scored with reduced weight, not skipped:
  the caller decides which messages concern which brand.

Speed: one ``SentimentIntensityAnalyzer`` per process, every regular expression compiled once at
import (target-term patterns are cached per term list), and :func:`score_stance_frame` scores
each distinct message once and uses a process pool for large inputs. Work that cannot change
a judgement is skipped, each skip tested against doing the work (``tests/test_cue_screening.py``):

* cue screening: a cue group is searched only in messages that contain one of the literals
  every match of its pattern must contain (found in bulk by Polars; see "Cue screening");
* VADER is not asked about a clause without a single lexicon word, nor about one whose cues
  alone take its score past the -1..1 clip;
* for ASCII text, VADER's per-character emoji rewriting is skipped (no emoji is ASCII), and
  its compound score is computed by ``pipelines.vader_compound``, the same arithmetic on the
  words lower-cased once.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import string
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from pipelines import progress
from pipelines.regex_literals import required_literals
from pipelines.vader_compound import compound

LABELS = ("favor", "against", "neutral")  # the values of StanceResult.label

# --------------------------------------------------------------------------------------------
# Weights (see the module docstring for what they mean)
# --------------------------------------------------------------------------------------------
DIRECT_WEIGHT = 1.0
CONTEXT_WEIGHT = 0.7  # clause about nobody in particular, in a message about the brand
UNANCHORED_WEIGHT = 0.5  # same, in a message that never names or addresses the brand
OFF_TARGET_WEIGHT = 0.15
CONCESSION_WEIGHT = 0.25  # clause before "but", or inside "although ..."
REQUEST_VADER_FACTOR = 0.25
REQUEST_SOFT_CUE_FACTOR = 0.5
SIGNAL_EPSILON = 0.05  # a clause "says something" when |score| exceeds this

# Bump when a change to the rules or cue lists changes results: cached stances of another
# version are scored again (``pipelines.signals`` keeps one stance per message and version).
MODEL_VERSION = "rules-2"
# A message whose main clause says the brand fixed things, after a conceded setback ("the
# storm cancelled my flight but @Delta rebooked me in minutes"), gets its own cue: the
# classifier lets the lexicon decide it (``stance_classifier.LEXICON_WINS``).
FIXED_CUE = "brand fixed the problem"
SETBACK_CUE = "brand fixed the problem after a setback"

PARALLEL_THRESHOLD = 20_000
CHUNK_ROWS = 50_000  # distinct texts sent to a worker at a time

# --------------------------------------------------------------------------------------------
# Cue table: every curated phrase lives here. Phrases are regular-expression fragments matched
# case-insensitively against a lower-cased clause, at word boundaries.
# kind:
#   gratitude  positive, not checked for negation ("can't thank you enough" is thanks)
#   praise/fix positive; if negated ("not helpful", "still not fixed") it becomes a small
#              complaint instead
#   complaint  negative, strong: kept even in questions ("why is no one responding?")
#   soft       negative situation (delay, on hold, outage): mild, halved in help requests,
#              and not evidence against the brand on its own (a storm can cause a delay)
#   sarcasm    fixed ironic phrases
#   disagree / agree   only in replies to a criticism of the brand
#   request    marks a help request or question (score 0)
# brand_specific: the complaint can only be about the service (no response, refund, leaving),
#   so it keeps the clause on-target even when the clause also mentions someone else.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CueGroup:
    name: str
    kind: str
    score: float
    brand_specific: bool
    phrases: tuple[str, ...]


CUES: tuple[CueGroup, ...] = (
    # ---- positive toward the brand -----------------------------------------------------
    CueGroup(
        "thanks the brand",
        "gratitude",
        0.6,
        False,
        (
            r"thank(?:s|\s+you|\s+u|\s+ya)?(?!\s+(?:to|in\s+advance)\b)(?!\s+for\s+nothing)",
            r"thx(?!\s+in\s+advance)",
            r"thnx",
            r"tysm",
            r"ty",
            r"much\s+appreciated",
            r"(?:i|we)\s+(?:really\s+|truly\s+|do\s+)?appreciate",
            r"appreciate\s+(?:it|you|that|the)",
            r"grateful",
            r"kudos",
            r"shout\s*-?\s*out",
            r"props\s+to",
            r"cheers",
            r"can'?t\s+thank\s+you\s+enough",
            r"bless\s+you",
        ),
    ),
    CueGroup(
        "praises the brand",
        "praise",
        0.6,
        False,
        (
            r"doing\s+(?:your|their|a|an)\s+(?:very\s+)?(?:best|great|good|amazing|awesome|"
            r"fantastic|wonderful|brilliant|excellent|outstanding)(?:\s+(?:job|work))?",
            r"(?:great|good|excellent|amazing|awesome|fantastic|outstanding|superb|brilliant|"
            r"wonderful|quick|fast|speedy|prompt|friendly|helpful|lovely|stellar|top\s*notch)\s+"
            r"(?:customer\s+)?(?:service|support|response|reply|help|job|staff|crew|team|"
            r"experience|flight|agent|people|folks|care)",
            r"above\s+and\s+beyond",
            r"(?:so|very|super|really|extremely|incredibly)?\s*helpful",
            r"(?:you|u)\s+(?:guys\s+|all\s+)?(?:rock|rule)",
            r"rocks",
            r"(?:you|u)(?:'re|\s+are|\s+r)\s+(?:the\s+best|awesome|amazing|great|fantastic|"
            r"wonderful|the\s+greatest|brilliant|a\s+star)",
            r"(?:i|we)\s+(?:just\s+|really\s+|absolutely\s+|still\s+)?(?:love|adore)\s+"
            r"(?:you|u|ya|this|it|my|the\s+new|your)",
            r"best\s+(?:airline|company|coffee|customer\s+service|service|carrier|network|store|"
            r"brand|app|support|experience|ever)",
            r"(?:never|hasn'?t|haven'?t|has\s+not|have\s+not)\s+(?:once\s+)?(?:let|failed)\s+"
            r"(?:me|us)(?:\s+down)?",
            r"never\s+(?:had|have)\s+(?:a|an|any)\s+(?:problem|issue|complaint)s?",
            r"no\s+(?:complaints|issues|problems)",
            r"(?:can'?t|cannot)\s+complain",
            r"(?:couldn'?t|could\s+not)\s+be\s+happier",
            r"highly\s+recommend",
            r"(?:would|will|always)\s+recommend",
            r"(?:my|our)\s+fav(?:ou?rite)?\s+\w+",
            r"loyal\s+(?:for\s+life|forever)",
            r"well\s+done",
            r"nothing\s+but\s+\w+",
        ),
    ),
    CueGroup(
        "brand fixed the problem",
        "fix",
        0.6,
        False,
        (
            r"re-?book(?:ed|ing)?",
            r"(?:got|get|getting)\s+(?:me|us)\s+(?:re-?)?booked",
            r"(?:got|get|getting)\s+(?:me|us)\s+(?:home|there|on\s+(?:a|an|the)\s+\w+|"
            r"back\s+on)",
            r"sorted(?:\s+(?:it|me|out))?",
            r"fixed",
            r"resolved",
            r"solved",
            r"handled",
            r"took\s+care\s+of",
            r"taken\s+care\s+of",
            r"in\s+(?:minutes|no\s+time|seconds)",
            r"right\s+away",
            r"(?:so|super|really)\s+(?:quick(?:ly)?|fast)",
            r"quick(?:ly)?\s+(?:fix|response|reply|turnaround)",
            r"upgraded\s+(?:me|us)",
            r"refunded",
            r"replaced\s+(?:it|my)",
            r"all\s+good\s+now",
            r"(?:works|working)\s+(?:now|again|perfectly|fine\s+now)",
            r"got\s+back\s+to\s+(?:me|us)",
            r"(?:kept|keeping)\s+(?:me|us)\s+(?:updated|informed)",
        ),
    ),
    # ---- against the brand ---------------------------------------------------------------
    CueGroup(
        "complaint: no response",
        "complaint",
        -0.6,
        True,
        (
            r"(?:no\s*one|nobody|no\s+body)\s+(?:is\s+|has\s+|have\s+|ever\s+|will\s+|)"
            r"(?:respond|answer|repl|help|call|got\s+back|get\s+back|contact|reach|know|"
            r"care|seem)\w*",
            r"no\s+(?:response|reply|replies|answer|call\s*-?\s*back|follow\s*-?\s*up)",
            r"(?:haven'?t|have\s+not|hasn'?t|has\s+not|never|didn'?t|did\s+not)\s+"
            r"(?:heard|hear|gotten|got|received|get)\s+(?:back|a\s+(?:response|reply|call|answer))",
            r"ignor(?:ed|ing|e)\s+(?:me|us|my|our)",
            r"(?:not|isn'?t|aren'?t)\s+(?:responding|"
            r"answering|replying)",
            r"left\s+on\s+read",
            r"(?:still|been)\s+waiting\s+(?:for|on)\s+(?:a\s+|an\s+|my\s+|your\s+)?(?:response|"
            r"reply|call|answer|someone|update|callback)",
        ),
    ),
    CueGroup(
        "complaint: refund",
        "complaint",
        -0.5,
        True,
        (
            r"(?:still\s+)?no\s+refund",
            r"(?:where\s+is|waiting\s+(?:for|on)|want|need|demand)\s+"
            r"(?:my|a|our)\s+(?:refund|money)",
            r"(?:my\s+)?money\s+back",
            r"(?:double|over|wrongly|incorrectly)\s*-?\s*charged",
            r"charged\s+(?:me\s+)?twice",
            r"refuse[sd]?\s+to\s+refund",
            r"stole\s+my\s+money",
        ),
    ),
    CueGroup(
        "complaint: leaving the brand",
        "complaint",
        -0.7,
        True,
        (
            r"cancel(?:l?ing)?\s+(?:my|our)\s+(?:account|service|subscription|contract|"
            r"membership|plan|card)",
            r"switch(?:ing|ed)?\s+(?:to|carriers|providers|airlines)",
            r"never\s+(?:again|flying|using|buying|shopping|ordering|coming\s+back|going\s+back)",
            r"(?:won'?t|will\s+not|not)\s+(?:be\s+)?(?:flying|using|buying|shopping|ordering|"
            r"coming\s+back|going\s+back)(?:\s+(?:with|from|at))?\s+(?:you|them|again)",
            r"last\s+time\s+i\s+(?:fly|use|buy|shop|order)",
            r"done\s+with\s+(?:you|them|this)",
            r"tak(?:e|ing)\s+my\s+(?:business|money)\s+elsewhere",
            r"lost\s+a\s+(?:loyal\s+)?customer",
            r"#?neveragain",
            r"(?:leaving|left)\s+(?:you|for)\b",
            r"(?:don'?t|do\s+not|wouldn'?t|would\s+not|can'?t|cannot|never|won'?t)\s+"
            r"(?:ever\s+)?recommend",
            r"(?:thinking\s+(?:of|about)|going\s+to|about\s+to|gonna|ready\s+to)\s+"
            r"(?:leave|leaving|switch|switching|cancel|cancell?ing|drop|dropping)",
        ),
    ),
    CueGroup(
        "complaint: bad service",
        "complaint",
        -0.6,
        False,
        (
            r"worst",
            r"terrible",
            r"horrible",
            r"horrendous",
            r"awful",
            r"useless",
            r"pathetic",
            r"(?:a|what\s+a|such\s+a|is\s+a)\s+joke",
            r"ridiculous",
            r"unacceptable",
            r"disgusting",
            r"disgrace(?:ful)?",
            r"rip\s*-?\s*off",
            r"scam(?:med|mers?)?",
            r"incompetent",
            r"shameful",
            r"appalling",
            r"sucks?",
            r"clowns",
            r"#fail",
            r"fed\s+up",
            r"(?:sick|tired)\s+of",
            r"(?:so|very|really|extremely|beyond)\s+(?:disappointed|"
            r"frustrated|annoyed|upset|angry|mad|pissed)",
            r"(?:poor|bad|lousy|crap|crappy|shit|shitty|trash|rubbish|garbage|awful)\s+"
            r"(?:customer\s+)?(?:service|support|experience|company|airline|network|app|care)",
            r"(?:not|never)\s+(?:impressed|happy|satisfied)",
            r"had\s+enough",
            r"disappoint(?:ed|ing|ment)",
            r"mediocr\w*",
            r"(?:has|had)\s+(?:one|1)\s+job",
            r"garbage",
            r"trash",
            r"crap(?:py)?",
            r"shitty",
            r"junk",
            r"(?:is\s+)?this\s+is\s+how\s+(?:you|they)\s+treat",
        ),
    ),
    CueGroup(
        "complaint: repeated failure",
        "complaint",
        -0.4,
        True,
        (
            r"as\s+usual",
            r"(?:yet|once)\s+again",
            r"every\s+(?:single\s+)?time",
            r"(?:second|2nd|third|3rd|fourth|4th|fifth|5th|nth|\d+th)\s+time",
            r"how\s+many\s+(?:more\s+)?times",
            r"(?:too|so)\s+many\s+times",
            r"(?:keeps?|kept)\s+(?:crashing|freezing|dropping|failing|happening|cancell?ing|"
            r"losing|charging|breaking|delaying)",
            r"again\s+and\s+again",
        ),
    ),
    CueGroup(
        "complaint: still unresolved",
        "complaint",
        -0.5,
        True,
        (
            r"still\s+(?:no|not|nothing|waiting|haven'?t|hasn'?t|didn'?t|don'?t|doesn'?t|can'?t|"
            r"broken|down|missing|unresolved|charging)",
            r"(?:never|hasn'?t|has\s+not|didn'?t|did\s+not|not\s+yet)\s+(?:arrived|came|come|"
            r"delivered|shown\s+up|showed\s+up|been\s+(?:fixed|resolved|delivered|refunded))",
            r"(?:for|after|over)\s+(?:\d+|two|three|four|five|six|several|many|multiple)\s+"
            r"(?:days|weeks|months)",
        ),
    ),
    CueGroup(
        "service problem",
        "soft",
        -0.3,
        False,
        (
            r"on\s+hold",
            r"delay(?:s|ed)?",
            r"cancell?ed\s+(?:my|our|the)?\s*(?:flight|order|train)",
            r"lost\s+(?:my|our)\s+(?:bag|bags|luggage|package|order|suitcase|booking)",
            r"(?:not|isn'?t|doesn'?t|don'?t|won'?t|stopped)\s+work(?:ing|s)?",
            r"(?:is|was|keeps|went|still)\s+(?:down|crashing|broken)",
            r"outage",
            r"no\s+(?:service|signal|wifi|wi-fi|internet|power|coverage)",
            r"dropped\s+calls?",
            r"overbooked",
            r"bumped",
            r"missed\s+(?:my|our)\s+(?:connection|flight)",
            r"stuck\s+(?:on|at|in)",
            r"wrong\s+(?:order|item|size|drink|address)",
            r"waited?\s+(?:for\s+)?(?:\d+|an?|two|three|over\s+an?)\s+(?:hours?|hrs?|mins?|"
            r"minutes|days)",
            r"broken",
            r"disconnected",
            r"cut\s+off",
            r"barely\s+work\w*",
            r"(?:very|so|too|super|painfully|really)\s+slow",
            r"same\s+(?:problem|issue|error)",
            r"(?:problem|issue|error)\s+(?:persists|continues|is\s+back)",
            r"(?:took|taking|takes|take)\s+forever",
            r"(?:was|is|were|are|arrived)\s+(?:cold|stale|"
            r"burnt|soggy|raw|expired|missing|damaged|smashed|leaking)",
        ),
    ),
    CueGroup(
        "sarcasm",
        "sarcasm",
        -0.7,
        True,
        (
            r"thanks\s+for\s+nothing",
            r"(?:oh|just)\s+(?:great|perfect|wonderful|fantastic|"
            r"brilliant|lovely|awesome)",
            r"(?:great|perfect|wonderful|fantastic|brilliant|lovely|awesome|nice|yay)\W+"
            r"(?:yet\s+)?(?:another|more|again)",
            r"(?:love|loving|enjoy|enjoying)\s+(?:waiting|sitting|being\s+(?:on\s+hold|stuck|"
            r"ignored|charged|lied)|spending|paying|getting\s+(?:charged|cut\s+off|disconnected)|"
            r"standing|wasting|losing)",
            r"(?:gotta|got\s+to|have\s+to|don'?t\s+you\s+(?:just\s+)?)\s*love",
            r"nothing\s+(?:like|better\s+than)\s+(?:a|an|waiting|being|sitting|another)",
            r"just\s+what\s+i\s+(?:needed|wanted)",
            r"my\s+fav(?:ou?rite)\s+(?:thing|part)\s+(?:is|about)",
            # "thanks for the 3 dropped calls": thanks for <up to 3 words, no "help"> <problem>
            r"thank(?:s|\s+you)\W+(?:@\w+\W+)?for\s+(?:the|a|an|another|my|our|yet|all)?\s*"
            r"(?:(?!help|assist|fix|sort|rebook|quick|fast|support|updat|info)[\w'-]+\s+){0,3}"
            r"(?:delay\w*|wait\w*|hold|ruin\w*|wast\w*|los\w+|lost|charg\w+|overcharg\w+|"
            r"cancell?\w*|dropped|outage\w*|runaround|nothing|broken|late|stranding|stranded)",
            r"(?:way\s+to\s+go|good\s+job|well\s+done)\W+(?:another|again|you\s+lost|losing)",
            r"oh\s+wait",
            r"not!",
        ),
    ),
    # ---- replies to a criticism of the brand -----------------------------------------------
    CueGroup(
        "reply disagrees with a critic",
        "disagree",
        0.7,
        True,
        (
            r"(?:that'?s|that\s+is|this\s+is|it'?s|it\s+is|simply|just|so)\s+(?:not|nt)\s+true",
            r"not\s+true",
            r"(?:not|never\s+been|isn'?t|wasn'?t)\s+(?:my|our)\s+experience",
            r"(?:you'?re|you\s+are|ur|u\s+r|youre)\s+(?:so\s+|just\s+|dead\s+)?wrong",
            r"wrong",
            r"disagree",
            r"(?:not|never)\s+(?:what\s+happened|the\s+case)",
            r"lies",
            r"lying",
            r"liar",
            r"nonsense",
            r"rubbish",
            r"bs",
            r"bull(?:shit)?",
            r"fake\s+news",
            r"false",
            r"(?:never|haven'?t|have\s+not|hasn'?t|has\s+not)\s+(?:had|have)\s+(?:a|an|any)\s+"
            r"(?:problem|issue|complaint)s?",
            r"(?:they'?ve|they\s+have|they'?re|they\s+are|they)\s+(?:always|never)\s+(?:been|let)",
            r"(?:always\s+)?been\s+(?:great|good|amazing|fine|awesome|excellent|nothing\s+but|"
            r"wonderful|helpful)",
            r"(?:works|worked|working)\s+(?:fine|great|perfectly)\s+for\s+me",
            r"no\s+(?:issues|problems)\s+(?:here|for\s+me)",
            r"stop\s+(?:complaining|whining|"
            r"lying|exaggerating)",
            r"exaggerat\w+",
            r"get\s+over\s+it",
            r"first\s+world\s+problem",
            r"(?:your|ur)\s+(?:own\s+)?(?:fault|problem)",
            r"to\s+be\s+fair",
            r"tbf",
            r"in\s+(?:their|its)\s+defen[cs]e",
            r"(?:be|have\s+some)\s+patien(?:t|ce)",
        ),
    ),
    CueGroup(
        "reply agrees with a critic",
        "agree",
        -0.6,
        True,
        (
            r"(?:so|very|100%|totally|absolutely|sad\s+but|too)\s+true",
            r"^(?:true|exactly|agreed|same|this|yep|yup|facts|preach|ikr|truth)\b",
            r"same\s+(?:here|thing|happened|experience|with\s+me|for\s+me)",
            r"me\s+too",
            r"happened\s+to\s+me\s+(?:too|as\s+well)",
            r"(?:i|totally|completely)\s+agree",
            r"couldn'?t\s+agree\s+more",
            r"tell\s+me\s+about\s+it",
            r"not\s+just\s+you",
            r"you'?re\s+not\s+(?:alone|the\s+only\s+one)",
        ),
    ),
    CueGroup(
        "help request",
        "request",
        0.0,
        False,
        (
            r"how\s+(?:do|can|should|would|could)\s+(?:i|we)",
            r"(?:can|could|would|will)\s+"
            r"(?:you|u|someone|somebody|anyone)",
            r"please\s+(?:help|advise|dm|check|let|send|"
            r"look|contact|confirm|assist|call|get)",
            r"d\.?m\.?\s+(?:me|us)",
            r"(?:sent|send|sending)\s+(?:you\s+|u\s+)?(?:a\s+)?(?:dm|pm|d\.m\.|private\s+message)",
            r"(?:order|confirmation|booking|reference|ref|case|ticket|account|tracking|"
            r"flight|conf)\s*(?:number|no\.?|num|#)",
            r"#\s?\d{3,}",
            r"\d{6,}",
            r"is\s+there\s+(?:a|any)\s+way",
            r"let\s+(?:me|us)\s+know",
            r"need\s+(?:some\s+)?help",
            r"help\s+me",
            r"(?:thanks|thank\s+you|thx)\s+in\s+advance",
            r"any\s+updates?",
            r"(?:i|we)\s+(?:need\s+to|want\s+to|wanna|would\s+like\s+to|'d\s+like\s+to)\s+(?:change|update|know|cancel|book|check|add|"
            r"transfer|speak)",
            r"who\s+(?:do|can|should)\s+i",
        ),
    ),
)

#: Words that make "you" the brand when a message is addressed to it.
SECOND_PERSON = r"you|your|yours|yourself|yourselves|u|ur|ya|y'all|yall"
#: In a reply to a critic, "they" is usually the brand.
THIRD_PERSON = r"they|them|their|theirs|they'?re|they'?ve|they'?ll"
#: Someone or something other than the brand. "customer" is excluded before "service" etc.
OTHER_SUBJECTS = (
    r"weather|storm|snow(?:storm)?|blizzard|rain|ice|fog|hurricane|thunder\w*|tornado|wind|"
    r"traffic|tsa|security\s+line|customs|"
    r"(?:the|this|that|some|a|an|one)\s+(?:guy|lady|woman|man|kid|child|baby|passenger|"
    r"customer(?!\s+(?:service|support|care|experience))|person|dude|girl|boy|family|couple|"
    r"idiot|jerk|drunk)|passengers|other\s+(?:customers|people|passengers|travell?ers)|"
    r"some\s+people|people\s+(?:who|that)|"
    r"my\s+(?:boss|husband|wife|kid|kids|son|daughter|mom|dad|mum|friend|neighbou?r|"
    r"roommate|bf|gf|boyfriend|girlfriend)|uber|taxi|cab"
)
#: Positive exclamations that, next to a service problem, usually mean the opposite.
SARCASM_POSITIVE = (
    r"great|love|loving|awesome|fantastic|wonderful|perfect|brilliant|lovely|amazing|nice|yay|"
    r"excellent|fun|fab|superb|thrilled|delighted|wow|bravo|impressive|stellar"
)
#: Service problems for the sarcasm rule (no "again"/"hours": "great flight again" is praise).
SARCASM_PROBLEM = (
    r"delay(?:s|ed)?|on\s+hold|hold\s+for|waiting|waited|cancell?ed|cancell?ation|lost|broken|"
    r"stuck|outage|(?:is|was|went|still)\s+down|no\s+(?:wifi|wi-fi|signal|service|internet)|"
    r"late|overbooked|ignored|disconnected|dropped|crash(?:ed|ing|es)|"
    r"charged|overcharged|missed\s+(?:my|our)|runaround"
)
#: A sentence that is only a positive exclamation ("Great.") is sarcastic when the message
#: also reports a service problem or a complaint.
BARE_EXCLAMATION = (
    r"(?:oh\s+|just\s+|well\s+|wow\s+)?(?:great|awesome|perfect|wonderful|fantastic|brilliant|"
    r"lovely|nice|super|cool|yay|terrific|splendid|amazing|excellent)(?:\s+(?:job|work))?"
)
#: "X but Y": Y carries the stance. ("not only ... but also" is no contrast; "nothing but" is
#: handled in the splitter.)
CONTRAST_AFTER = r"but(?!\s+also)|however|nevertheless|nonetheless|that\s+said"
#: "although X, Y": X is a concession.
CONTRAST_BEFORE = r"although|even\s+though|though|despite|in\s+spite\s+of"
#: Words that negate a positive cue when they come at most two words before it.
NEGATORS = (
    r"not|no|never|nothing|nobody|isn'?t|wasn'?t|aren'?t|weren'?t|hasn'?t|haven'?t|hadn'?t|"
    r"didn'?t|don'?t|doesn'?t|won'?t|wouldn'?t|can'?t|cannot|couldn'?t|shouldn'?t|nt|without|"
    r"hardly|barely|zero|still\s+not|yet\s+to"
)
#: Sentiment words VADER mis-reads in customer support: "please"/"help" are politeness in
#: requests, and "joke" is an insult here ("your service is a joke"), not humour;
#: "yes", "ok", "sure" are acknowledgements in support threads ("ok, I restarted it"), not
#: praise, and a customer's "sorry to bother you again" is politeness, not a complaint.
LEXICON_OVERRIDES: dict[str, float | None] = {
    "please": None,
    "help": None,
    "joke": -1.5,
    "sorry": None,
    "yes": None,
    "yeah": None,
    "yea": None,
    "yep": None,
    "ok": None,
    "okay": None,
    "sure": None,
}

NEGATED_PRAISE_SCORE = -0.3
# A clause whose cues alone put it past -1 or 1 once VADER's share is added is scored without
# asking VADER (the same score, for less work); tests switch this off to check that.
_CUES_SETTLE = True
NEGATED_PRAISE_CUE = "complaint: negated praise"


# --------------------------------------------------------------------------------------------
# Compiled patterns (once, at import)
# --------------------------------------------------------------------------------------------
def _group_pattern(phrases: Sequence[str]) -> re.Pattern[str]:
    # Matched against lower-cased text: no IGNORECASE, which halves the cost of each search.
    return re.compile(r"(?<![\w'])(?:" + "|".join(phrases) + r")(?![\w'])")


_COMPILED_CUES: tuple[tuple[CueGroup, re.Pattern[str]], ...] = tuple(
    (group, _group_pattern(group.phrases)) for group in CUES
)
_REQUEST_RE = next(p for g, p in _COMPILED_CUES if g.kind == "request")
_SARCASM_GROUP = next(g for g in CUES if g.kind == "sarcasm")

# All of these run on lower-cased text.
_SECOND_PERSON_RE = re.compile(rf"(?<![\w'])(?:{SECOND_PERSON})(?![\w'])")
_THIRD_PERSON_RE = re.compile(rf"(?<![\w'])(?:{THIRD_PERSON})(?![\w'])")
_OTHER_SUBJECT_RE = re.compile(rf"\b(?:{OTHER_SUBJECTS})\b")
_SARCASM_POSITIVE_RE = re.compile(rf"\b(?:{SARCASM_POSITIVE})\b")
_SARCASM_PROBLEM_RE = re.compile(rf"\b(?:{SARCASM_PROBLEM})\b")
_BARE_EXCLAMATION_RE = re.compile(rf"^\W*(?:{BARE_EXCLAMATION})\W*$")
_NEGATED_BEFORE_RE = re.compile(rf"\b(?:{NEGATORS})\b(?:\W+[\w']+){{0,2}}\W*$")
_NOTHING_BUT_RE = re.compile(r"\b(?:nothing|anything)\s+$")

# Cue screening. Each cue group and vocabulary above has a bit; a message's *cue mask* has the
# bit set when its lower-cased text contains one of the literals that every match of that
# pattern must contain (``pipelines.regex_literals``). A clause of a message whose bit is clear
# cannot match, so its search is skipped: the same result for less work. The masks of many
# messages are computed at once by ``cue_mask_expr`` (Polars, before the texts go to the
# workers); a message judged alone gets ``ALL_CUES`` and searches everything.
# Literals never span characters that ``_normalize`` rewrites (quotes, entities, spaces), so
# the raw text contains every literal that its normalised clauses do.
_SCREEN_BREAKS = "'\"&<>\u2018\u2019\u201c\u201d"
_SCREENED: list[tuple[str, re.Pattern[str]]] = [
    *((g.name, p) for g, p in _COMPILED_CUES),
    ("second person", _SECOND_PERSON_RE),
    ("third person", _THIRD_PERSON_RE),
    ("other subjects", _OTHER_SUBJECT_RE),
    ("sarcasm: positive word", _SARCASM_POSITIVE_RE),
    ("sarcasm: problem word", _SARCASM_PROBLEM_RE),
]
CUE_LITERALS: tuple[frozenset[str] | None, ...] = tuple(
    required_literals(p, breaks=_SCREEN_BREAKS) for _, p in _SCREENED
)
ALL_CUES = (1 << len(_SCREENED)) - 1
_BIT = {name: 1 << i for i, (name, _) in enumerate(_SCREENED)}
_GENERAL_CUES = tuple(
    (g, p, _BIT[g.name])
    for g, p in _COMPILED_CUES
    if g.kind not in ("disagree", "agree", "request")
)
_REPLY_CUES = tuple(
    (g, p, _BIT[g.name]) for g, p in _COMPILED_CUES if g.kind in ("disagree", "agree")
)
_ANY_GENERAL_CUE_RE = _group_pattern([p for g, _, _ in _GENERAL_CUES for p in g.phrases])
_REQUEST_BIT = _BIT[next(g.name for g in CUES if g.kind == "request")]
_SECOND_PERSON_BIT = _BIT["second person"]
_THIRD_PERSON_BIT = _BIT["third person"]
_OTHER_BIT = _BIT["other subjects"]
_SARCASM_POSITIVE_BIT = _BIT["sarcasm: positive word"]
_SARCASM_PROBLEM_BIT = _BIT["sarcasm: problem word"]


def cue_mask_expr(text: pl.Expr) -> pl.Expr:
    """Polars expression: the cue mask (Int64) of each text (see "Cue screening" above)."""
    low = text.fill_null("").str.to_lowercase()
    mask = pl.lit(0, dtype=pl.Int64)
    for i, literals in enumerate(CUE_LITERALS):
        bit = pl.lit(1 << i, dtype=pl.Int64)
        if literals is None:
            mask = mask + bit
        else:
            mask = mask + pl.when(low.str.contains_any(sorted(literals))).then(bit).otherwise(0)
    return mask


def cue_mask(text: str) -> int:
    """The cue mask of one text, as ``cue_mask_expr`` computes it (for tests and checks)."""
    low = text.lower()
    mask = 0
    for i, literals in enumerate(CUE_LITERALS):
        if literals is None or any(lit in low for lit in literals):
            mask |= 1 << i
    return mask


# These keep the original case (VADER reads CAPS as emphasis).
_CONTRAST_RE = re.compile(rf"\b({CONTRAST_AFTER}|{CONTRAST_BEFORE})\b", re.IGNORECASE)
_CONTRAST_AFTER_RE = re.compile(rf"(?:{CONTRAST_AFTER})$", re.IGNORECASE)
_CONTRAST_WORDS = (
    "but",
    "however",
    "neverthe",
    "nonethe",
    "that said",
    "though",
    "despite",
    "spite",
)
_URL_RE = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_LEADING_HANDLES_RE = re.compile(r"^\s*(?:[.]?@[\w.]+[\s,:]*)+")
_HANDLE_RE = re.compile(r"[.]?@\w+")
_SENTENCE_RE = re.compile(r"[^\n\r;]+?(?:[.!?…]+(?=\s|$)|(?=[\n\r;])|$)")
_COMPARE_LIKE_RE = re.compile(
    r"\b(look|looks|seem|seems|feel|feels|sound|sounds|smells?)\s+like\b", re.IGNORECASE
)
_AS_WELL_RE = re.compile(r"\bas\s+well\b", re.IGNORECASE)
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'"}
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_PUNCT = string.punctuation
_NEVER = re.compile(r"(?!x)x")


@lru_cache(maxsize=4096)
def _target_regex(terms: tuple[str, ...]) -> re.Pattern[str]:
    """Case-insensitive, word-bounded pattern for a brand's terms; cached per term list.

    A plain term also matches as a handle or hashtag ("Delta" finds "@Delta", "#Delta") but
    not inside another word ("@DeltaAssist", "Deltas").
    """
    parts = []
    for term in terms:
        term = (term or "").strip()
        if not term:
            continue
        body = r"\s+".join(re.escape(word) for word in term.split())
        parts.append(body if term[0] in "@#" else r"[@#]?" + body)
    if not parts:
        return _NEVER
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<![\w@#])(?:" + "|".join(parts) + r")(?![\w])", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# VADER, one analyzer per process
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    for word, value in LEXICON_OVERRIDES.items():
        if value is None:
            analyzer.lexicon.pop(word, None)
        else:
            analyzer.lexicon[word] = value
    return analyzer


@lru_cache(maxsize=1)
def _emoji_free_ascii() -> bool:
    """True when no emoji VADER knows is ASCII, so an ASCII text holds none."""
    return not any(emoji.isascii() for emoji in _analyzer().emojis)


@lru_cache(maxsize=65536)
def _vader(text: str) -> float:
    """VADER compound score, skipping the analyzer when no token can be in its lexicon."""
    analyzer = _analyzer()
    if text.isascii():
        lexicon = analyzer.lexicon
        for token in text.lower().split():
            if token in lexicon or token.strip(_PUNCT) in lexicon:
                break
        else:
            return 0.0
        if _emoji_free_ascii():
            return _compound_without_emoji(analyzer, text)
    return analyzer.polarity_scores(text)["compound"]


def _compound_without_emoji(analyzer, text: str) -> float:
    """``analyzer.polarity_scores(text)["compound"]`` for a text without emoji.

    ``polarity_scores`` first rewrites emoji as words, one character at a time in Python,
    and then lower-cases the words again for every check; ``pipelines.vader_compound`` does
    the same arithmetic without either (``tests/test_stance.py`` checks that they agree)."""
    return compound(analyzer.lexicon, text)


def plain_vader(text: str | None) -> float:
    """Unmodified VADER compound score of the whole text: the baseline stance improves on."""
    return _plain_analyzer().polarity_scores(text or "")["compound"]


@lru_cache(maxsize=1)
def _plain_analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StanceResult:
    label: str  # 'favor' | 'against' | 'neutral'
    score: float  # -1..1, negative = against
    cue: str  # short human-readable reason


@dataclass
class _Clause:
    text: str  # original case, for VADER and target terms
    low: str  # lower-cased, for every cue pattern
    position_weight: float
    is_question: bool
    first: bool


@dataclass
class _Scored:
    score: float
    weight: float
    cue: str | None
    relevance: str
    is_request: bool
    conceded: bool = False  # a clause before "but" or inside "although ..."


def _normalize(text: str) -> str:
    text = text.translate(_QUOTES)
    if "&" in text:
        for entity, char in _ENTITIES.items():
            text = text.replace(entity, char)
    if "http" in text or "www." in text:
        text = _URL_RE.sub(" ", text)
    return text


_WORD_CHAR_RE = re.compile(r"[^\W_]")  # a letter or digit: what str.isalnum() accepts


def _has_words(text: str) -> bool:
    return _WORD_CHAR_RE.search(text) is not None


def _split_clauses(text: str) -> list[_Clause]:
    """Sentences, then contrast clauses, each with its position weight (see module doc)."""
    clauses: list[_Clause] = []
    for match in _SENTENCE_RE.finditer(text):
        sentence = match.group(0).strip()
        if not sentence or not _has_words(sentence):
            if sentence.startswith("?") and clauses:
                clauses[-1].is_question = True
            continue
        is_question = "?" in sentence[-3:]
        low = sentence.lower()
        if any(word in low for word in _CONTRAST_WORDS):
            pieces = _CONTRAST_RE.split(sentence)  # [text, marker, text, marker, text, ...]
        else:
            pieces = [sentence]
        pending: list[list] = [[pieces[0], 1.0]]
        for i in range(1, len(pieces), 2):
            marker, after = pieces[i], pieces[i + 1]
            if not after.strip(" ,.!?") or (
                marker.lower() == "but" and _NOTHING_BUT_RE.search(pending[-1][0].lower())
            ):
                pending[-1][0] += marker + after  # "nothing but", or a trailing "though"
                continue
            if _CONTRAST_AFTER_RE.match(marker):
                for clause in clauses:
                    clause.position_weight = CONCESSION_WEIGHT
                for item in pending:
                    item[1] = CONCESSION_WEIGHT
                pending.append([after, 1.0])
            else:  # "although X, Y": X concession, Y main; "Y although X": X concession
                head, comma, tail = after.partition(",")
                pending.append([head, CONCESSION_WEIGHT])
                if comma and tail.strip():
                    pending.append([tail, 1.0])
        for piece, weight in pending:
            piece = piece.strip(" ,")
            if piece and _has_words(piece):
                clauses.append(_Clause(piece, piece.lower(), weight, is_question, not clauses))
    return clauses


@dataclass
class _Cues:
    """Cue matches of one clause."""

    negative: list[tuple[float, str, CueGroup]]  # complaints, soft problems, negated praise
    positive: list[tuple[float, str, CueGroup]]  # gratitude, praise, fix
    reply: tuple[float, str, CueGroup] | None  # disagree/agree with a critic

    @property
    def has_problem(self) -> bool:
        return any(g.kind in ("complaint", "soft", "sarcasm") for _, _, g in self.negative)


def _match_cues(low: str, replying: bool, mask: int = ALL_CUES) -> _Cues:
    negative: list[tuple[float, str, CueGroup]] = []
    positive: list[tuple[float, str, CueGroup]] = []
    # Without a mask (all bits set) one search for any cue at all lets most clauses skip the
    # search per group (the union matches wherever one of its groups does).
    general = _GENERAL_CUES if mask != ALL_CUES or _ANY_GENERAL_CUE_RE.search(low) else ()
    for group, pattern, bit in general:
        match = pattern.search(low) if mask & bit else None
        if match is None:
            continue
        if group.kind in ("praise", "fix") and _negated(low, match.start()):
            negative.append((NEGATED_PRAISE_SCORE, NEGATED_PRAISE_CUE, group))
        elif group.score > 0:
            positive.append((group.score, group.name, group))
        else:
            negative.append((group.score, group.name, group))
    reply = None
    if replying:
        for group, pattern, bit in _REPLY_CUES:
            if mask & bit and pattern.search(low):
                reply = (group.score, group.name, group)
                break
    return _Cues(negative, positive, reply)


def _negated(low: str, start: int) -> bool:
    """A negator at most two words before a positive cue ("not helpful", "still not fixed")."""
    before = low[max(0, start - 40) : start]
    if before.endswith(("nothing but ", "nothing but")):
        return False
    return _NEGATED_BEFORE_RE.search(before) is not None


class StanceModel:
    """Target-aware stance of one message toward a brand; see the module docstring for rules.

    ``neutral_band``: scores with ``abs(score) < neutral_band`` are labelled neutral.
    The model holds no analyzer (that is per process), so it pickles cheaply for worker pools.
    """

    def __init__(self, neutral_band: float = 0.2):
        if not 0.0 <= neutral_band < 1.0:
            raise ValueError("neutral_band must be in [0, 1)")
        self.neutral_band = neutral_band

    def __repr__(self) -> str:
        return f"StanceModel(neutral_band={self.neutral_band})"

    # -- public -------------------------------------------------------------------------------
    def classify(
        self,
        text: str,
        target_terms: Sequence[str],
        *,
        addressed_to_brand: bool = False,
        replying_to_criticism: bool = False,
        cue_mask: int = ALL_CUES,
    ) -> StanceResult:
        """Stance of ``text`` toward the brand named by ``target_terms``.

        ``addressed_to_brand``: the message replies to or mentions the brand account, so "you"
        is the brand. ``replying_to_criticism``: it answers a message criticising the brand, so
        "you" is the critic and disagreeing with the critic favours the brand.
        ``cue_mask``: the text's ``cue_mask`` when known; it only spares searches that cannot
        match, so the result is the same with or without it.
        """
        if not text or not text.strip():
            return StanceResult("neutral", 0.0, "empty text")
        if isinstance(target_terms, str):
            target_terms = (target_terms,)
        target_re = _target_regex(tuple(target_terms))
        text = _normalize(text)

        # A block of @handles at the start is addressing, not content.
        addressed = addressed_to_brand
        leading = _LEADING_HANDLES_RE.match(text) if text.lstrip()[:1] in "@." else None
        if leading:
            if target_re.search(leading.group(0)):
                addressed = True
            text = text[leading.end() :]
        clauses = _split_clauses(text)
        if not clauses:
            return StanceResult("neutral", 0.0, "no text besides handles and links")

        about_brand = addressed or replying_to_criticism or target_re.search(text) is not None
        context_weight = CONTEXT_WEIGHT if about_brand else UNANCHORED_WEIGHT
        mask = cue_mask
        if mask != ALL_CUES:
            # The mask was read from the raw text, so it only holds for clauses that are pieces
            # of it; the splitter glues words across a dropped comma in rare cases.
            low_text = text.lower()
            if any(c.low not in low_text for c in clauses):
                mask = ALL_CUES
        cues = [_match_cues(c.low, replying_to_criticism, mask) for c in clauses]
        message_has_problem = None
        scored = []
        for clause, clause_cues in zip(clauses, cues, strict=True):
            bare = len(clause.low) < 24 and _BARE_EXCLAMATION_RE.match(clause.low) is not None
            if bare and message_has_problem is None:
                message_has_problem = any(
                    c.has_problem
                    or mask & _SARCASM_PROBLEM_BIT
                    and _SARCASM_PROBLEM_RE.search(cl.low)
                    for cl, c in zip(clauses, cues, strict=True)
                    if cl is not clause
                )
            scored.append(
                self._score_clause(
                    clause,
                    clause_cues,
                    target_re,
                    addressed,
                    replying_to_criticism,
                    context_weight,
                    leading is not None,
                    bare and bool(message_has_problem),
                    mask,
                )
            )
        return self._combine(scored)

    # -- internals ----------------------------------------------------------------------------
    def _score_clause(
        self,
        clause: _Clause,
        cues: _Cues,
        target_re: re.Pattern[str],
        addressed: bool,
        replying: bool,
        context_weight: float,
        had_leading_handle: bool,
        bare_sarcasm: bool,
        mask: int,
    ) -> _Scored:
        low = clause.low
        hits = list(cues.negative)
        if cues.reply:
            hits.append(cues.reply)
        positive = cues.positive

        # Sarcasm: a fixed ironic phrase, a positive exclamation beside a service problem with
        # nothing saying it was fixed or praising it, or a bare "Great." in a complaining message.
        sarcastic = any(g.kind == "sarcasm" for _, _, g in hits)
        if not sarcastic and (
            bare_sarcasm
            or not any(g.kind in ("fix", "praise") for _, _, g in positive)
            and mask & _SARCASM_POSITIVE_BIT
            and mask & _SARCASM_PROBLEM_BIT
            and _SARCASM_POSITIVE_RE.search(low)
            and _SARCASM_PROBLEM_RE.search(low)
        ):
            sarcastic = True
            hits.append((_SARCASM_GROUP.score, _SARCASM_GROUP.name, _SARCASM_GROUP))
        if not sarcastic:
            hits.extend(positive)

        is_request = clause.is_question or (
            mask & _REQUEST_BIT and _REQUEST_RE.search(low) is not None
        )
        strong = any(g.kind != "soft" for _, _, g in hits)
        weak_request = is_request and not strong
        soft_factor = REQUEST_SOFT_CUE_FACTOR if weak_request else 1.0

        def vader() -> float:
            base = _vader(self._vader_text(clause.text, target_re))
            if sarcastic:
                base = -abs(base)
            if weak_request:
                base *= REQUEST_VADER_FACTOR
            return base

        if hits:
            total = sum(s * (soft_factor if g.kind == "soft" else 1.0) for s, _, g in hits)
            # Cues that all point one way are not contradicted by VADER: "I've been a loyal
            # customer and this is how you treat me?" is a complaint despite "loyal".
            one_way = 0
            if all(s < 0 for s, _, _ in hits):
                one_way = -1
            elif all(s > 0 for s, _, _ in hits):
                one_way = 1
            # VADER's half moves the score by at most 0.5, and never against cues that all
            # point one way; past these totals the clip to -1..1 decides without it.
            if _CUES_SETTLE and total >= (1.0 if one_way > 0 else 1.5):
                score = 1.0
            elif _CUES_SETTLE and total <= (-1.0 if one_way < 0 else -1.5):
                score = -1.0
            else:
                base = vader()
                if one_way < 0:
                    base = min(base, 0.0)
                elif one_way > 0:
                    base = max(base, 0.0)
                score = max(-1.0, min(1.0, 0.5 * base + total))
        else:
            score = max(-1.0, min(1.0, vader()))

        # Relevance: whom is this clause about?
        names_target = target_re.search(clause.text) is not None

        def second_person() -> bool:
            return bool(mask & _SECOND_PERSON_BIT) and _SECOND_PERSON_RE.search(low) is not None

        def third_person() -> bool:
            return bool(mask & _THIRD_PERSON_BIT) and _THIRD_PERSON_RE.search(low) is not None

        if replying and (cues.reply or (third_person() and not _other(low, mask))):
            relevance, weight = "direct", DIRECT_WEIGHT
        elif replying and not names_target and second_person():
            relevance, weight = "off-target", OFF_TARGET_WEIGHT  # "you" is the critic
        elif not any(g.brand_specific for _, _, g in hits) and _other(low, mask):
            # About a third party; naming the brand too makes it ambiguous, not direct.
            if names_target:
                relevance, weight = "context", context_weight
            else:
                relevance, weight = "off-target", OFF_TARGET_WEIGHT
        elif names_target or (
            addressed and (clause.first and had_leading_handle or second_person())
        ):
            relevance, weight = "direct", DIRECT_WEIGHT
        else:
            relevance, weight = "context", context_weight

        cue = None
        if sarcastic:
            cue = "sarcasm"
        elif cues.reply:
            cue = cues.reply[1]
        elif hits:
            cue = max(hits, key=lambda h: abs(h[0]))[1]
        return _Scored(score, weight * clause.position_weight, cue, relevance, is_request,
                       clause.position_weight < 1.0)

    @staticmethod
    def _vader_text(text: str, target_re: re.Pattern[str]) -> str:
        """Clause text for VADER: brand names and handles masked (a brand called "Best Buy"
        is not praise); "looks like" and "as well" made neutral ("like" and "well" are
        positive words in VADER's lexicon)."""
        text = target_re.sub(" ", text)
        if "@" in text:
            text = _HANDLE_RE.sub(" ", text)
        if "like" in text:
            text = _COMPARE_LIKE_RE.sub(r"\1 as", text)
        if "well" in text:
            text = _AS_WELL_RE.sub("too", text)
        return text

    def _combine(self, scored: list[_Scored]) -> StanceResult:
        signal = [s for s in scored if abs(s.score) > SIGNAL_EPSILON]
        if not signal:
            cue = "help request" if any(s.is_request for s in scored) else "no stance"
            return StanceResult("neutral", 0.0, cue)
        total = sum(s.weight * s.score for s in signal)
        score = total / max(1.0, sum(s.weight for s in signal))
        score = round(max(-1.0, min(1.0, score)), 4)
        if score >= self.neutral_band:
            label = "favor"
        elif score <= -self.neutral_band:
            label = "against"
        else:
            label = "neutral"
        if label == "neutral":
            if any(s.is_request for s in scored):
                cue = "help request"
            elif any(s.relevance == "off-target" and abs(s.score) >= 0.2 for s in signal):
                cue = "about something else"
            elif any(s.score > 0 for s in signal) and any(s.score < 0 for s in signal):
                cue = "mixed"
            else:
                cue = "weak stance"
            return StanceResult(label, score, cue)
        sign = 1.0 if score > 0 else -1.0
        top = max((s for s in signal if s.score * sign > 0), key=lambda s: s.weight * abs(s.score))
        cue = top.cue or ("positive wording" if sign > 0 else "negative wording")
        if cue == FIXED_CUE and not top.conceded and any(s.conceded and s.score < 0
                                                          for s in signal):
            cue = SETBACK_CUE  # "the storm cancelled my flight but @Delta rebooked me"
        return StanceResult(label, score, cue)


def _other(low: str, mask: int = ALL_CUES) -> bool:
    return bool(mask & _OTHER_BIT) and _OTHER_SUBJECT_RE.search(low) is not None


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------
_FLAG_COLUMNS = ("addressed_to_brand", "replying_to_criticism")
_DEDUP_COLUMNS = ("brand", "text", *_FLAG_COLUMNS)

_WORKER_MODEL: StanceModel | None = None


def _worker_init(model: StanceModel) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = model
    _analyzer()


_Row = tuple[str, tuple[str, ...], bool, bool, int]  # text, terms, flags, cue mask


def _score_rows(rows: list[_Row], model: StanceModel | None = None) -> list[tuple[str, float, str]]:
    model = model or _WORKER_MODEL or StanceModel()
    out = []
    for text, terms, addressed, replying, mask in rows:
        result = model.classify(
            text,
            terms,
            addressed_to_brand=addressed,
            replying_to_criticism=replying,
            cue_mask=mask,
        )
        out.append((result.label, result.score, result.cue))
    return out


class StanceWorkers:
    """Worker processes for ``score_stance_frame``, started when first needed and shared by
    the calls made inside one ``with`` block (starting them costs a few tenths of a second;
    a run judges its pairs in two or three calls)."""

    def __init__(self, model: StanceModel | None = None, workers: int | None = None):
        self.model = model or StanceModel()
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),  # polars is threaded: no fork
                initializer=_worker_init,
                initargs=(self.model,),
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> StanceWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def score_stance_frame(
    frame: pl.DataFrame,
    terms_by_brand: Mapping[str, Sequence[str]],
    model: StanceModel | None = None,
    workers: int | None = None,
    *,
    parallel_threshold: int = PARALLEL_THRESHOLD,
    pool: StanceWorkers | None = None,
) -> pl.DataFrame:
    """Stance of every message toward its brand.

    Input columns: key (Int64), brand (str), text (str), addressed_to_brand (bool),
    replying_to_criticism (bool). Output: key, brand, stance (str), stance_score (Float64),
    stance_cue (str), one row per input row, in input order.

    Each distinct (brand, text, flags) is scored once (retweets, spam and copies repeat text).
    With more than ``parallel_threshold`` distinct rows and ``workers`` != 1 the work is spread
    over ``workers`` processes (default ``os.cpu_count()``), each with its own VADER analyzer.
    Null text scores as empty (neutral), null flags as False; a brand missing from
    ``terms_by_brand`` uses its own name as its only term.

    Workers are *spawned* (forking a process that runs polars' thread pool can deadlock), so a
    script that calls this at import time needs the usual ``if __name__ == "__main__":`` guard.
    ``pool``: workers shared with other calls (its model and worker count are used, and
    ``model`` and ``workers`` must be left out); without it, each call starts its own.
    """
    if pool is not None:
        if model is not None or workers is not None:
            raise ValueError("give either a pool or a model and workers, not both")
        model, workers = pool.model, pool.workers
    model = model or StanceModel()
    prepared = frame.select(
        pl.col("key").cast(pl.Int64),
        pl.col("brand").cast(pl.String),
        pl.col("text").cast(pl.String).fill_null(""),
        *(pl.col(c).cast(pl.Boolean).fill_null(False) for c in _FLAG_COLUMNS),
    )
    distinct = prepared.select(_DEDUP_COLUMNS).unique(maintain_order=True)

    terms_cache: dict[str | None, tuple[str, ...]] = {}

    def terms_for(brand: str | None) -> tuple[str, ...]:
        if brand not in terms_cache:
            terms = terms_by_brand.get(brand) if brand is not None else None
            if terms is None:
                terms = (brand,) if brand else ()
            terms_cache[brand] = (terms,) if isinstance(terms, str) else tuple(terms)
        return terms_cache[brand]

    def rows_of(part: pl.DataFrame) -> list[_Row]:
        # each text's cue mask, computed here for the whole part at once
        part = part.with_columns(cue_mask_expr(pl.col("text")).alias("cue_mask"))
        return [
            (text, terms_for(brand), addressed, replying, mask)
            for brand, text, addressed, replying, mask in part.iter_rows()
        ]

    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers > 1 and distinct.height > parallel_threshold:
        # Chunks are cut from the frame as workers free up (at most two per worker in flight),
        # so neither the rows nor their results sit in memory as Python objects all at once.
        size = min(CHUNK_ROWS, max(100, math.ceil(distinct.height / (workers * 4))))
        offsets = list(range(0, distinct.height, size))
        parts: dict[int, tuple[list, list, list]] = {}
        judged = 0
        own = pool is None
        shared = StanceWorkers(model, min(workers, len(offsets))) if own else pool
        pending: dict = {}
        try:
            executor = shared.pool()
            queue = iter(offsets)
            while True:
                while len(pending) < 2 * workers:
                    offset = next(queue, None)
                    if offset is None:
                        break
                    part = rows_of(distinct.slice(offset, size))
                    pending[executor.submit(_score_rows, part)] = offset
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    labels, scores, cues = zip(*future.result(), strict=True)
                    parts[pending.pop(future)] = (labels, scores, cues)
                    judged += len(labels)
                    progress.work("judging stance (lexicon)", judged, distinct.height)
        except BaseException:
            for future in pending:  # chunks not started yet are dropped, not judged in vain
                future.cancel()
            raise
        finally:
            if own:
                shared.close()
        ordered = [parts[o] for o in offsets]
        labels = [x for p in ordered for x in p[0]]
        scores = [x for p in ordered for x in p[1]]
        cues = [x for p in ordered for x in p[2]]
    else:
        results = _score_rows(rows_of(distinct), model)
        labels = [r[0] for r in results]
        scores = [r[1] for r in results]
        cues = [r[2] for r in results]

    scored = distinct.with_columns(
        pl.Series("stance", labels, dtype=pl.String),
        pl.Series("stance_score", scores, dtype=pl.Float64),
        pl.Series("stance_cue", cues, dtype=pl.String),
    )
    joined = prepared.join(
        scored, on=list(_DEDUP_COLUMNS), how="left", nulls_equal=True, maintain_order="left"
    )
    return joined.select("key", "brand", "stance", "stance_score", "stance_cue")
