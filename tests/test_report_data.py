"""What the report reads from the marts, for two brands side by side: each brand's own
activity (posts, promotion, replies, the messages it answered) is counted apart."""

from __future__ import annotations

import pytest

from pipelines.brands import Brand
from pipelines.report_data import NO_ACTIVITY, brand_activity
from pipelines.signals import build_message_stance
from tests.test_scoring_threads import _mention, _msg, staged

ACME = Brand(name="Acme Air", keywords=("acme air",), accounts={"twitter": ("acme",)})
BETA = Brand(name="Beta Bank", keywords=("beta bank",), accounts={"twitter": ("beta",)})
QUIET = Brand(name="Quiet Co", keywords=("quiet co",), accounts={"twitter": ("quiet",)})

ACCOUNTS = {"1": "acme", "2": "beta", "3": "quiet", "10": "traveller", "11": "saver"}
MESSAGES = [
    _msg("100", "1", "Big sale: 20% off every flight this week", 0),  # promotion
    _msg("101", "1", "Good morning from the crew in Lisbon", 1),
    _msg("200", "2", "Launch day: our new savings plan is here", 2),  # promotion
    _msg("300", "10", "@acme where is my bag?", 10),
    _msg("301", "1", "@traveller sorry about that, we are looking into it", 11,
         parent="300", parent_author="10"),
    _msg("302", "11", "@beta the app is great", 12),
    _msg("303", "11", "@acme @beta you are both great", 13),
    _msg("304", "2", "@saver thank you!", 14, parent="303", parent_author="11"),
]
ACTIONS = [
    _mention("300", "10", "acme", 10),
    _mention("302", "11", "beta", 12),
    _mention("303", "11", "acme", 13),
    _mention("303", "11", "beta", 13),
]


@pytest.fixture(scope="module")
def warehouse():
    brands = [ACME, BETA, QUIET]
    con = staged([{"platform": "twitter", "account_id": k, "handle": h}
                  for k, h in ACCOUNTS.items()], MESSAGES, ACTIONS, brands)
    build_message_stance(con, {b.name: b.terms() for b in brands}, workers=1)
    yield con
    con.close()


def test_each_brands_activity_is_counted_apart(warehouse):
    activity = brand_activity(warehouse)
    # Acme: two posts (one a sale), one reply; the bag question and the joint praise reached
    # it, and it answered the bag question only
    assert activity["Acme Air"] == {
        "brand_posts": 2, "promotional_share": 0.5, "replies_sent": 1,
        "messages_received": 2, "reply_rate": 0.5,
    }
    # Beta: one post (a launch), one reply; the app praise and the joint praise reached it,
    # and it answered the joint praise (Acme did not: that answer is Beta's, not Acme's)
    assert activity["Beta Bank"] == {
        "brand_posts": 1, "promotional_share": 1.0, "replies_sent": 1,
        "messages_received": 2, "reply_rate": 0.5,
    }
    assert "Quiet Co" not in activity  # said and heard nothing: the report shows NO_ACTIVITY
    assert set(NO_ACTIVITY.values()) == {0}
