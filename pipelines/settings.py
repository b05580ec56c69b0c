"""Every weight and threshold the scores use, in one documented place.

``docs/scoring.md`` explains each one and where the idea comes from; change them here only.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScoringSettings:
    # Recency: an engagement's weight halves every `half_life_days` before the as-of date
    # (Orbit's "love" decays the same way, so last year's fan is not today's advocate).
    half_life_days: float = 90.0

    # Engagement graph edge weights, by kind of engagement (actor -> target account).
    # Replies and quotes cost the most effort, follows and likes the least.
    edge_weights: dict[str, float] = field(
        default_factory=lambda: {
            "reply": 3.0,
            "quote": 3.0,
            "share": 2.0,
            "mention": 1.5,
            "like": 0.5,
            "follow": 1.0,
        }
    )
    pagerank_alpha: float = 0.85
    # NetworkX stops when the L1 change is below N * tol: its default tol (1e-6) lets a graph
    # of a million nodes stop after a change of 1.0, i.e. at once. We pass tol = this / N.
    pagerank_l1_tolerance: float = 1e-6
    pagerank_max_iter: int = 1000

    # A reciprocal thread counts as a conversation from this many turns on: a question and its
    # answer (2 turns) is customer service; the account coming back makes it a conversation.
    min_conversation_turns: int = 3

    # Advocacy: decayed counts of each signal, weighted; criticism subtracts.
    advocacy_weights: dict[str, float] = field(
        default_factory=lambda: {
            "defenses": 5.0,  # took the brand's side against a critic
            "shares": 2.0,  # retweeted / boosted / approvingly quoted brand content
            "conversations": 3.0,  # reciprocal threads with the brand
            "conversation_turns": 0.5,  # each turn in those threads
            "favor_messages": 1.5,  # distinct favourable messages about the brand
            "criticisms": -3.0,  # distinct messages against the brand
        }
    )

    # Influence: log-scaled share of the brand's maximum, combined with these weights.
    influence_weights: dict[str, float] = field(
        default_factory=lambda: {
            "pagerank": 0.4,  # centrality in the engagement graph
            "amplification": 0.3,  # shares and quotes of the account's own messages
            "followers": 0.3,  # reach, where the export gives it
        }
    )

    # Roles from the two 0-100 axes.
    champion_advocacy: float = 50.0
    champion_influence: float = 50.0
    advocate_advocacy: float = 25.0
    # ...and at least this much net advocacy in absolute terms (one defense and a favourable
    # message, three shares, or a real conversation): a single thank-you is not advocacy.
    advocate_min_net_advocacy: float = 6.0
    influencer_influence: float = 50.0
    # An account is a detractor when its net advocacy (before scaling) is below this.
    detractor_net_advocacy: float = -2.0

    # Author ids that stand for "unknown" (Reddit's deleted accounts): never scored.
    anonymous_account_ids: tuple[str, ...] = ("[deleted]", "[removed]")

    # Suspected spam and bots, excluded from ranks and counted in the report:
    # many messages to the brand with few distinct texts,
    spam_min_messages: int = 5
    spam_max_distinct_ratio: float = 0.3
    # posting like clockwork (the spread of the gaps between consecutive messages under a
    # tenth of their mean, over at least this many messages),
    bot_min_messages: int = 10
    bot_max_interval_cv: float = 0.1
    # or naming many accounts in every message.
    flood_min_messages: int = 3
    flood_mentions_per_message: float = 6.0

    # Movement between runs: a change of this many advocacy points is rising or lapsing.
    movement_score_change: float = 15.0

    # Score history: every daily snapshot of the last this many days before the newest is kept,
    # older ones only the first of each month (None keeps every snapshot). A snapshot of ten
    # million interactions takes about 90 MB.
    history_daily_days: int | None = 90

    # Report sizes.
    report_top_advocates: int = 25
    report_top_influencers: int = 10
    report_top_detractors: int = 10
    report_talk_back: int = 25
    report_movement: int = 40
    evidence_per_account: int = 5


DEFAULT_SETTINGS = ScoringSettings()
