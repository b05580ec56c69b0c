"""Mastodon account export (ActivityStreams JSON): the real export and hand-written cases."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.formats import mastodon, parse_file
from pipelines.formats.common import read_head
from pipelines.model import TABLE_SCHEMAS
from tests.conftest import SAMPLE_DIR

EXPORT = ("mastodon", "dealingwith")
AS = "https://www.w3.org/ns/activitystreams"


def _schemas_ok(parsed) -> None:
    for table, schema in TABLE_SCHEMAS.items():
        assert dict(getattr(parsed, table).schema) == schema, table


def _plain(content: str) -> str:
    """The expected plain text of Mastodon HTML, computed with regular expressions."""
    text = re.sub(r"<br\s*/?>", "\n", content)
    text = re.sub(r"</p>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).rstrip()


# ---------------------------------------------------------------------------------------------
# The real export: expectations counted here with the json module, not with the parser


@pytest.mark.real_data
def test_real_outbox(real_data: Path) -> None:
    folder = real_data.joinpath(*EXPORT)
    with open(folder / "outbox.json", encoding="utf-8") as f:
        items = json.load(f)["orderedItems"]  # the file repeats the key: the last one counts
    with open(folder / "actor.json", encoding="utf-8") as f:
        actor = json.load(f)
    creates = {
        i["object"]["id"]: (n, i["object"]) for n, i in enumerate(items, 1) if i["type"] == "Create"
    }
    announces = {i["id"]: (n, i) for n, i in enumerate(items, 1) if i["type"] == "Announce"}
    assert len(creates) + len(announces) == len(items)  # nothing else in this export

    parsed = parse_file(folder / "outbox.json")
    assert parsed.source_format == "mastodon"
    assert parsed.rejects.height == 0, parsed.rejects["reason"].to_list()
    _schemas_ok(parsed)

    messages = parsed.messages
    assert set(messages["message_id"]) == set(creates)
    assert messages.height == len(creates)
    replies = {i for i, (_, o) in creates.items() if o.get("inReplyTo")}
    assert set(messages.filter(pl.col("kind") == "reply")["message_id"]) == replies
    assert set(messages.filter(pl.col("kind") == "post")["message_id"]) == set(creates) - replies
    for row in messages.iter_rows(named=True):
        n, note = creates[row["message_id"]]
        assert row["source_line"] == n
        assert row["author_id"] == note["attributedTo"] == actor["id"]
        assert row["url"] == note["url"]
        assert row["parent_id"] == note["inReplyTo"]
        assert row["text"] == _plain(note["content"])
        published = datetime.fromisoformat(note["published"]).astimezone(UTC)
        assert row["created_at"] == published
        assert row["thread_id"] is None

    mentions = parsed.actions.filter(pl.col("kind") == "mention")
    expected_mentions = {
        (nid, t["href"])
        for nid, (_, note) in creates.items()
        for t in note["tag"]
        if t["type"] == "Mention"
    }
    assert mentions.height == len(expected_mentions)
    assert set(mentions.select("target_message_id", "target_account_id").rows()) == (
        expected_mentions
    )
    # every mention handle is user@instance, local ones ('@obsolete29') completed with the host
    assert mentions["target_handle"].str.count_matches("@").eq(1).all()
    local = mentions.filter(
        pl.col("target_account_id") == "https://indieweb.social/users/obsolete29"
    )
    assert set(local["target_handle"]) == {"obsolete29@indieweb.social"}

    shares = parsed.actions.filter(pl.col("kind") == "share")
    assert set(shares["action_id"]) == set(announces)
    for row in shares.iter_rows(named=True):
        n, activity = announces[row["action_id"]]
        assert row["source_line"] == n
        assert row["actor_id"] == actor["id"]
        assert row["target_message_id"] == activity["object"]
        # Mastodon addresses the boosted author in cc, beside the owner's followers
        (author,) = [c for c in activity["cc"] if not c.endswith("/followers")]
        assert row["target_account_id"] == author

    owner = parsed.accounts.filter(pl.col("account_id") == actor["id"]).row(0, named=True)
    assert owner["handle"] == "dealingwith@indieweb.social"
    assert owner["followers_count"] is None


@pytest.mark.real_data
def test_real_outbox_line_breaks(real_data: Path) -> None:
    parsed = parse_file(real_data.joinpath(*EXPORT, "outbox.json"))
    lyric = parsed.messages.filter(pl.col("text").str.starts_with("We're all so broken down"))
    assert lyric.height == 1
    assert lyric["text"].item().split("\n")[:3] == [
        "We're all so broken down",
        "Bandages on our wings",
        "I know I don't have to tell you",
    ]
    reply = parsed.messages.filter(
        pl.col("message_id")
        == "https://indieweb.social/users/dealingwith/statuses/109309145334822499"
    ).row(0, named=True)
    assert reply["kind"] == "reply"
    assert reply["parent_author_id"] == "https://social.lol/users/mcg"
    assert reply["text"] == "@mcg \N{FACE WITH STUCK-OUT TONGUE AND WINKING EYE}"


@pytest.mark.real_data
def test_real_likes(real_data: Path) -> None:
    folder = real_data.joinpath(*EXPORT)
    with open(folder / "likes.json", encoding="utf-8") as f:
        liked = json.load(f)["orderedItems"]
    with open(folder / "actor.json", encoding="utf-8") as f:
        owner = json.load(f)["id"]
    parsed = parse_file(folder / "likes.json")
    assert parsed.source_format == "mastodon"
    assert parsed.rejects.height == 0
    _schemas_ok(parsed)
    likes = parsed.actions
    assert likes.height == len(liked) == len(set(liked))
    assert set(likes["kind"]) == {"like"}
    assert likes["target_message_id"].to_list() == liked
    assert likes["source_line"].to_list() == list(range(1, len(liked) + 1))
    assert set(likes["actor_id"]) == {owner}
    assert likes["created_at"].null_count() == likes.height  # the export has no like times
    scheme = [u for u in liked if re.match(r"^https://[^/]+/users/[^/]+/statuses/\d+$", u)]
    with_author = likes.filter(pl.col("target_account_id").is_not_null())
    assert with_author.height == len(scheme)
    assert (
        with_author["target_message_id"].str.starts_with(with_author["target_account_id"] + "/")
    ).all()


@pytest.mark.real_data
def test_real_actor_and_bookmarks(real_data: Path) -> None:
    folder = real_data.joinpath(*EXPORT)
    with open(folder / "actor.json", encoding="utf-8") as f:
        actor = json.load(f)
    parsed = parse_file(folder / "actor.json")
    assert parsed.source_format == "mastodon"
    assert parsed.counts() == {"accounts": 1, "messages": 0, "actions": 0, "rejects": 0}
    row = parsed.accounts.row(0, named=True)
    assert row["account_id"] == actor["id"]
    assert row["handle"] == f"{actor['preferredUsername']}@indieweb.social"
    assert row["display_name"] == actor["name"]
    assert row["followers_count"] is None
    assert row["platform"] == "mastodon"

    bookmarks = parse_file(folder / "bookmarks.json")  # recognised, deliberately empty
    assert bookmarks.source_format == "mastodon"
    assert bookmarks.counts() == {"accounts": 0, "messages": 0, "actions": 0, "rejects": 0}


def _other_format_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.is_file() and "mastodon" not in p.relative_to(root).parts
    )


@pytest.mark.real_data
def test_sniff_leaves_other_real_files_alone(real_data: Path) -> None:
    others = _other_format_files(real_data)
    assert others
    for path in others:
        assert not mastodon.sniff(read_head(path)), path


def test_sniff_leaves_sample_files_alone() -> None:
    for path in sorted(SAMPLE_DIR.iterdir()):
        assert not mastodon.sniff(read_head(path)), path


# ---------------------------------------------------------------------------------------------
# Hand-written exports, shaped as Mastodon writes them (ActivityStreams 2.0 vocabulary)

HOST = "https://example.social"
OWNER = f"{HOST}/users/fan"


def _note(n: int, **extra) -> dict:
    note = {
        "id": f"{OWNER}/statuses/{n}",
        "type": "Note",
        "summary": None,
        "inReplyTo": None,
        "published": "2024-03-01T10:00:00Z",
        "url": f"{HOST}/@fan/{n}",
        "attributedTo": OWNER,
        "to": [f"{AS}#Public"],
        "cc": [f"{OWNER}/followers"],
        "content": f'<p>post {n} for <span class="h-card"><a href="https://brand.example/@acme" '
        f'class="u-url mention">@<span>acme</span></a></span></p>',
        "tag": [
            {
                "type": "Mention",
                "href": "https://brand.example/users/acme",
                "name": "@acme@brand.example",
            }
        ],
        "attachment": [],
    }
    note.update(extra)
    return note


def _create(n: int, **extra) -> dict:
    note = _note(n, **extra)
    return {
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": OWNER,
        "published": note["published"],
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }


def _announce(n: int, obj: object, cc: list[str] | None = None, **extra) -> dict:
    activity = {
        "id": f"{OWNER}/statuses/{n}/activity",
        "type": "Announce",
        "actor": OWNER,
        "published": "2024-03-02T10:00:00Z",
        "to": [f"{AS}#Public"],
        "cc": cc if cc is not None else [f"{OWNER}/followers"],
        "object": obj,
    }
    activity.update(extra)
    return activity


def _collection(cid: str, items: list) -> dict:
    return {
        "@context": AS,
        "id": cid,
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": items,
    }


ACTOR = {
    "@context": [AS, "https://w3id.org/security/v1"],
    "id": OWNER,
    "type": "Person",
    "preferredUsername": "fan",
    "name": "A Fan",
    "outbox": "outbox.json",
    "likes": "likes.json",
}


def _write(path: Path, doc: object, **dumps) -> Path:
    path.write_text(json.dumps(doc, **dumps), encoding="utf-8")
    return path


def test_outbox_maps_every_activity(tmp_path: Path) -> None:
    _write(tmp_path / "actor.json", ACTOR)
    items = [
        _create(1),
        _create(
            2,
            inReplyTo="https://other.example/users/bob/statuses/77",
            content="<p>@bob same &amp; here<br>twice</p><p>second &lt;para&gt;</p>",
            tag=[
                {"type": "Mention", "href": "https://other.example/users/bob", "name": "@bob"},
                {"type": "Hashtag", "href": f"{HOST}/tags/x", "name": "#x"},
                {"type": "Mention", "href": "https://other.example/users/bob", "name": "@bob"},
            ],
        ),
        _create(3, quote="https://brand.example/users/acme/statuses/5", tag=[]),
        _announce(
            4,
            "https://brand.example/users/acme/statuses/5",
            cc=["https://brand.example/users/acme", f"{OWNER}/followers"],
        ),
        _announce(5, "https://gts.example/objects/abc"),  # author unknown: no cc, no scheme
        _announce(
            6,
            {
                "id": "https://misskey.example/notes/9",
                "type": "Note",
                "attributedTo": "https://misskey.example/users/9x",
            },
        ),
        {
            "id": f"{OWNER}#likes/1",
            "type": "Like",
            "actor": OWNER,
            "object": "https://brand.example/users/acme/statuses/6",
        },
        {
            "id": f"{OWNER}#follows/1",
            "type": "Follow",
            "actor": OWNER,
            "object": "https://brand.example/users/acme",
            "published": "2024-03-03T00:00:00+01:00",
        },
    ]
    path = _write(tmp_path / "outbox.json", _collection("outbox.json", items))
    parsed = parse_file(path)
    assert parsed.source_format == "mastodon"
    assert parsed.rejects.height == 0, parsed.rejects["reason"].to_list()
    _schemas_ok(parsed)

    m = {r["message_id"]: r for r in parsed.messages.iter_rows(named=True)}
    first = m[f"{OWNER}/statuses/1"]
    assert (first["kind"], first["text"], first["url"]) == (
        "post",
        "post 1 for @acme",
        f"{HOST}/@fan/1",
    )
    assert first["created_at"] == datetime(2024, 3, 1, 10, tzinfo=UTC)
    reply = m[f"{OWNER}/statuses/2"]
    assert reply["kind"] == "reply"
    assert reply["text"] == "@bob same & here\ntwice\nsecond <para>"
    assert reply["parent_id"] == "https://other.example/users/bob/statuses/77"
    assert reply["parent_author_id"] == "https://other.example/users/bob"
    quote = m[f"{OWNER}/statuses/3"]
    assert (quote["kind"], quote["quoted_id"]) == (
        "quote",
        "https://brand.example/users/acme/statuses/5",
    )
    assert [r["source_line"] for r in m.values()] == [1, 2, 3]

    a = {r["action_id"]: r for r in parsed.actions.iter_rows(named=True)}
    mention = a[f"{OWNER}/statuses/1:mention:acme@brand.example"]
    assert mention["target_account_id"] == "https://brand.example/users/acme"
    assert mention["target_handle"] == "acme@brand.example"
    assert mention["target_message_id"] == f"{OWNER}/statuses/1"
    bob = a[f"{OWNER}/statuses/2:mention:bob@other.example"]  # repeated tag: one mention
    assert bob["target_handle"] == "bob@other.example"
    assert sum(1 for k in a if k.startswith(f"{OWNER}/statuses/2:")) == 1
    boost = a[f"{OWNER}/statuses/4/activity"]
    assert (boost["kind"], boost["actor_id"], boost["target_account_id"], boost["source_line"]) == (
        "share",
        OWNER,
        "https://brand.example/users/acme",
        4,
    )
    assert boost["created_at"] == datetime(2024, 3, 2, 10, tzinfo=UTC)
    assert a[f"{OWNER}/statuses/5/activity"]["target_account_id"] is None
    embedded = a[f"{OWNER}/statuses/6/activity"]
    assert embedded["target_message_id"] == "https://misskey.example/notes/9"
    assert embedded["target_account_id"] == "https://misskey.example/users/9x"
    like = a[f"{OWNER}#likes/1"]
    assert (like["kind"], like["target_account_id"], like["created_at"]) == (
        "like",
        "https://brand.example/users/acme",
        None,
    )
    follow = a[f"{OWNER}#follows/1"]
    assert (follow["kind"], follow["target_account_id"]) == (
        "follow",
        "https://brand.example/users/acme",
    )
    assert follow["created_at"] == datetime(2024, 3, 2, 23, tzinfo=UTC)

    accounts = {r["account_id"]: r for r in parsed.accounts.iter_rows(named=True)}
    assert accounts[OWNER]["handle"] == "fan@example.social"
    assert accounts[OWNER]["display_name"] == "A Fan"
    assert accounts["https://brand.example/users/acme"]["handle"] == "acme@brand.example"
    assert accounts["https://misskey.example/users/9x"]["handle"] is None


def test_bad_items_are_rejected_the_rest_loads(tmp_path: Path) -> None:
    no_id = _create(2)
    del no_id["object"]["id"]
    bad_time = _create(3, published="last tuesday")
    no_time = _create(4)
    del no_time["object"]["published"], no_time["published"]
    items = [
        _create(1),
        no_id,
        bad_time,
        no_time,
        "https://example.social/users/fan/statuses/1/activity",
        {"id": f"{OWNER}/statuses/1/undo", "type": "Undo", "actor": OWNER, "object": "x"},
        {"id": f"{OWNER}/x", "type": "Create", "actor": OWNER, "object": f"{OWNER}/statuses/9"},
        _announce(8, None),
        _announce(9, "https://a.example/users/b/statuses/1", published="soon"),
        _create(1),  # the same note again
        {"type": "Create", "object": {"type": "Note", "id": "n", "published": "2024-01-01"}},
        {"type": "Create", "object": {"type": "Note", "id": "n", "published": "2024-01-01"}},
        _create(12, tag="not a list", content=None),
    ]
    parsed = parse_file(_write(tmp_path / "outbox.json", _collection("outbox.json", items)))
    assert parsed.source_format == "mastodon"
    assert parsed.messages["source_line"].to_list() == [1, 11, 13]
    # no attributedTo, no actor: the note is the export owner's (the outbox's first actor)
    assert parsed.messages["author_id"].to_list()[1] == OWNER
    assert parsed.messages["text"].to_list()[2] is None
    reasons = dict(parsed.rejects.select("position", "reason").iter_rows())
    assert reasons == {
        2: "item 2: the note has no id",
        3: f"item 3: note {OWNER}/statuses/3 has published 'last tuesday', not an ISO 8601 time",
        4: f"item 4: note {OWNER}/statuses/4 has no published time",
        5: "item 5: is a string, not an activity object",
        6: "item 6: a 'Undo' activity: only Create, Announce, Like and Follow are mapped",
        7: f"item 7: Create of '{OWNER}/statuses/9': the object is a link, not embedded",
        8: f"item 8: boost {OWNER}/statuses/8/activity has no object (what was boosted)",
        9: f"item 9: boost {OWNER}/statuses/9/activity has published 'soon', not an ISO 8601 time",
        10: f"item 10: note {OWNER}/statuses/1 repeats item 1",
        12: "item 12: note n repeats item 11",
    }
    assert parsed.rejects["source_file"].unique().to_list() == [str(tmp_path / "outbox.json")]
    assert parsed.rejects.filter(pl.col("position") == 5)["raw_excerpt"].item() == (
        '"https://example.social/users/fan/statuses/1/activity"'
    )


def test_owner_comes_from_the_outbox_without_actor_json(tmp_path: Path) -> None:
    parsed = parse_file(_write(tmp_path / "outbox.json", _collection("outbox.json", [_create(1)])))
    owner = parsed.accounts.filter(pl.col("account_id") == OWNER).row(0, named=True)
    assert owner["handle"] == "fan@example.social"  # from the actor URL's scheme
    assert owner["display_name"] is None


def test_likes_need_an_owner(tmp_path: Path) -> None:
    liked = [
        "https://brand.example/users/acme/statuses/5",
        "https://x.example/objects/1",
        7,
        "https://brand.example/users/acme/statuses/5",
    ]
    path = _write(tmp_path / "likes.json", _collection("likes.json", liked))
    alone = parse_file(path)
    assert alone.source_format == "mastodon"
    assert alone.counts() == {"accounts": 0, "messages": 0, "actions": 0, "rejects": 1}
    assert alone.rejects["position"].item() is None
    assert "no actor.json (nor outbox.json) beside the file" in alone.rejects["reason"].item()

    _write(tmp_path / "outbox.json", _collection("outbox.json", [_create(1)]))
    via_outbox = parse_file(path)
    assert set(via_outbox.actions["actor_id"]) == {OWNER}

    _write(tmp_path / "actor.json", ACTOR)
    parsed = parse_file(path)
    assert parsed.actions.select("action_id", "target_account_id", "source_line").rows() == [
        (
            f"{OWNER}:like:https://brand.example/users/acme/statuses/5",
            "https://brand.example/users/acme",
            1,
        ),
        (f"{OWNER}:like:https://x.example/objects/1", None, 2),
    ]
    assert parsed.rejects.select("position", "reason").rows() == [
        (3, "item 3: is a number, not the URL of a liked post"),
        (4, "item 4: the like of https://brand.example/users/acme/statuses/5 repeats item 1"),
    ]
    assert parsed.actions["created_at"].null_count() == 2


def test_truncated_outbox_keeps_the_items_before_the_cut(tmp_path: Path) -> None:
    doc = _collection("outbox.json", [_create(1), _create(2), _create(3)])
    text = json.dumps(doc)
    cut = text.index(f'"{OWNER}/statuses/3"')
    path = tmp_path / "outbox.json"
    path.write_text(text[:cut], encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.source_format == "mastodon"
    assert parsed.messages["source_line"].to_list() == [1, 2]
    (reject,) = parsed.rejects.iter_rows(named=True)
    assert reject["position"] == 3
    assert reject["reason"].startswith("item 3: the document breaks in this item")
    assert reject["raw_excerpt"].startswith('{"id": "https://example.social/users/fan/statuses/3/')


def test_cut_between_items_and_broken_tail(tmp_path: Path) -> None:
    text = json.dumps(_collection("outbox.json", [_create(1), _create(2)]))
    path = tmp_path / "outbox.json"
    path.write_text(text[: text.index(', {"id": "' + OWNER + "/statuses/2/")] + ",", "utf-8")
    parsed = parse_file(path)
    assert parsed.messages.height == 1
    assert parsed.rejects.select("position", "reason").rows() == [
        (
            2,
            "item 2: the file ends before this item (it was cut short)",
        )
    ]
    path.write_text(text[:-1] + ', "x": }', "utf-8")  # the items are whole, the tail is not
    parsed = parse_file(path)
    assert parsed.messages.height == 2
    assert parsed.rejects["position"].to_list() == [None]
    assert "its items were read one by one" in parsed.rejects["reason"].item()


def test_item_with_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    raw = json.dumps(
        _collection("outbox.json", [_create(1), _create(2, content="caf\u00e9"), _create(3)]),
        ensure_ascii=False,
    )
    data = raw.encode("utf-8").replace("caf\u00e9".encode(), b"caf\xe9")
    path = tmp_path / "outbox.json"
    path.write_bytes(data)
    parsed = parse_file(path)
    assert parsed.source_format == "mastodon"
    assert parsed.messages["source_line"].to_list() == [1, 3]
    assert parsed.rejects["position"].to_list() == [2]
    assert "cannot be read" in parsed.rejects["reason"].item()


def test_whole_file_failures(tmp_path: Path) -> None:
    head = '{"@context": "https://www.w3.org/ns/activitystreams", "type": "OrderedCollection", '
    path = tmp_path / "outbox.json"
    path.write_text(head + '"id": "outbox.json", "orderedIt', encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.source_format == "mastodon"
    assert parsed.rejects["position"].to_list() == [None]
    assert parsed.rejects["reason"].item().startswith(f"{path}: not valid JSON")

    path.write_text(head + '"id": "https://x.example/featured", "orderedItems": ["a"]}', "utf-8")
    reason = parse_file(path).rejects["reason"].item()
    assert "names neither likes nor bookmarks" in reason

    path.write_text(head + '"id": "https://x.example/users/a/outbox", "first": "p1"}', "utf-8")
    assert "with no orderedItems: nothing to load" in parse_file(path).rejects["reason"].item()

    actor = dict(ACTOR)
    del actor["id"]
    reason = parse_file(_write(tmp_path / "actor.json", actor)).rejects["reason"].item()
    assert reason.endswith("the Person (actor.json) has no id")


def test_pretty_printed_export_with_offsets(tmp_path: Path) -> None:
    items = [_create(1, published="2024-03-01T12:00:00+02:00")]
    path = _write(tmp_path / "outbox.json", _collection("outbox.json", items), indent=2)
    parsed = parse_file(path)
    assert parsed.source_format == "mastodon"
    assert parsed.messages["created_at"].item() == datetime(2024, 3, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("html_text", "plain"),
    [
        ("<p>a</p><p>b</p>", "a\nb"),
        ("<p>one<br />two<br>three</p>", "one\ntwo\nthree"),
        ("<p>&quot;x&quot; &#39;y&#39; &amp; &lt;z&gt; &hellip;</p>", "\"x\" 'y' & <z> \u2026"),
        (
            '<p><a href="https://e.x/a"><span class="invisible">https://</span>'
            '<span class="ellipsis">e.x/lo</span><span class="invisible">ng</span></a></p>',
            "https://e.x/long",
        ),
        ("plain text", "plain text"),
        ("", ""),
    ],
)
def test_html_to_text(html_text: str, plain: str) -> None:
    assert mastodon.html_to_text(html_text) == plain


def test_detection_is_by_content(tmp_path: Path) -> None:
    for name in ("export.json", "data.bin", "x.csv"):
        path = _write(tmp_path / name, _collection("outbox.json", [_create(1)]))
        assert parse_file(path).source_format == "mastodon"
    # JSON lines, CSV and other JSON are not claimed
    for content in (
        json.dumps({"id": "1", "text": "hi", "author_id": "2"}) + "\n",
        "platform,record_type,id\nmastodon,post,1\n",
        json.dumps({"@context": AS, "type": "Note", "id": "x"}),
        json.dumps({"type": "OrderedCollection", "orderedItems": []}),  # no @context
        json.dumps({"uri": "at://did:plc:abc/app.bsky.feed.post/3k", "value": {}}) + "\n",
    ):
        path = tmp_path / "other.json"
        path.write_text(content, encoding="utf-8")
        assert not mastodon.sniff(read_head(path)), content


# ---------------------------------------------------------------------------------------------
# Property: whatever is done to the document, parsing does not raise, and while it stays
# valid JSON every item is loaded or rejected

_VALID = orjson.dumps(
    _collection(
        "outbox.json",
        [
            _create(1),
            _create(2, inReplyTo="https://o.example/users/b/statuses/1"),
            _announce(3, "https://o.example/users/b/statuses/2"),
            _create(4, quote="https://o.example/users/b/statuses/3"),
            {"id": f"{OWNER}#l", "type": "Like", "actor": OWNER, "object": "https://o.example/1"},
        ],
    )
)


@st.composite
def _mutated(draw) -> bytes:
    data = _VALID
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        how = draw(st.sampled_from(["cut", "delete", "insert", "replace"]))
        a = draw(st.integers(0, len(data) - 1))
        if how == "cut":
            data = data[: max(a, 1)]
        elif how == "delete":
            data = data[:a] + data[a + draw(st.integers(1, 8)) :]
        elif how == "insert":
            data = data[:a] + draw(st.binary(min_size=1, max_size=6)) + data[a:]
        else:
            chars = st.sampled_from([b'"', b",", b"{", b"}", b"[", b"]", b"1", b"null", b"\xff"])
            data = data[:a] + draw(chars) + data[a + 1 :]
    return data


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_mutated())
def test_property_items_loaded_or_rejected(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("prop") / "outbox.json"
    path.write_bytes(data)
    parsed = parse_file(path)
    _schemas_ok(parsed)
    if parsed.source_format == "unknown":
        assert parsed.rejects.height == 1 and parsed.rejects["position"].item() is None
        return
    if parsed.source_format != "mastodon":  # the mutation removed what makes it ActivityStreams
        assert not mastodon.sniff(read_head(path))  # no format tried earlier took it from us
        return
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        assert parsed.rejects.height >= 1  # a broken document always says so
        return
    if not (
        isinstance(doc, dict)
        and doc.get("id") == "outbox.json"
        and doc.get("type") in ("OrderedCollection", "OrderedCollectionPage")
        and isinstance(doc.get("orderedItems"), list)
    ):
        return
    loaded = set(parsed.messages["source_line"]) | set(parsed.actions["source_line"])
    rejected = set(parsed.rejects["position"])
    for k in range(1, len(doc["orderedItems"]) + 1):
        assert k in loaded or k in rejected, k
