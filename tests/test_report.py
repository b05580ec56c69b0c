"""The community manager's report: escaping, safe links, order, empty sections, CSV, files."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pipelines import report
from pipelines.report import (
    CSV_COLUMNS,
    AccountRow,
    BrandReport,
    Evidence,
    RunSummary,
    TalkBackRow,
    guard_cell,
    render_csv,
    render_html,
    safe_url,
    write_report,
)

NASTY = '<script>alert(1)</script> "quoted" & more'
EVIL_URL = "javascript:alert(document.cookie)"
GOOD_URL = "https://social.example/@fan/111"


def _summary(**overrides) -> RunSummary:
    values = dict(
        generated_at=datetime(2024, 6, 2, 9, 30, tzinfo=UTC),
        as_of=date(2024, 6, 1),
        input_dir="/data/exports",
        database="/data/warehouse.duckdb",
        files_read=3,
        records_loaded={"accounts": 120, "messages": 900, "actions": 450},
        records_rejected=4,
        rejected_by_file={"twcs.csv": 3, "mastodon.jsonl": 1},
    )
    values.update(overrides)
    return RunSummary(**values)


def _evidence(excerpt: str = "love this brand", url: str | None = GOOD_URL, kind="defense"):
    return Evidence(
        message_id="m1",
        kind=kind,
        excerpt=excerpt,
        url=url,
        created_at=datetime(2024, 5, 20, 12, 0, tzinfo=UTC),
    )


def _account(rank: int | None, handle: str | None = None, **overrides) -> AccountRow:
    values = dict(
        rank=rank,
        platform="twitter",
        account_id=f"id{rank}",
        handle=handle if handle is not None else f"fan{rank}",
        display_name=f"Fan number {rank}",
        role="advocate",
        advocacy_score=90.0 - (rank or 0),
        influence_score=40.5,
        followers=1234,
        components={"defenses": 3, "shares": 5, "pagerank": 0.0012},
        reasons=("defended the brand 3 times", "shared its posts 5 times"),
        evidence=(_evidence(),),
        profile_url=f"https://twitter.com/fan{rank}",
    )
    values.update(overrides)
    return AccountRow(**values)


def _brand(**overrides) -> BrandReport:
    values = dict(
        brand="AcmeCo",
        accounts_scored=57,
        advocates=(_account(1), _account(2), _account(3)),
        influencers=(_account(None, handle="bigvoice", role="influencer"),),
        detractors=(_account(None, handle="grumpy", role="detractor"),),
        talk_back=(
            TalkBackRow(
                platform="twitter",
                account_id="id9",
                handle="waiting_person",
                message_id="m9",
                excerpt="@AcmeCo my order never came",
                url="https://twitter.com/waiting_person/status/9",
                created_at=datetime(2024, 5, 28, tzinfo=UTC),
                waiting_days=4.5,
            ),
        ),
        brand_activity={
            "brand_posts": 120,
            "promotional_share": 0.36,
            "replies_sent": 80,
            "reply_rate": 0.55,
        },
    )
    values.update(overrides)
    return BrandReport(**values)


def _empty_brand() -> BrandReport:
    return _brand(brand="QuietCo", advocates=(), influencers=(), detractors=(), talk_back=())


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


# ------------------------------------------------------------------------------ safe_url


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a?b=1&c=2",
        "http://example.com",
        "HTTPS://EXAMPLE.COM/x",
        "  https://example.com/padded  ",
    ],
)
def test_safe_url_accepts_http_and_https(url):
    assert safe_url(url) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//example.com/protocol-relative",
        "/relative/path",
        "https:example.com",
        "https://",
        "https://exa mple.com",
        "http://[::1",
    ],
)
def test_safe_url_refuses_everything_else(url):
    assert safe_url(url) is None


# ------------------------------------------------------------------------------ HTML


def test_untrusted_text_is_escaped():
    row = _account(
        1,
        handle=NASTY,
        display_name=NASTY,
        reasons=(NASTY,),
        evidence=(_evidence(excerpt=NASTY),),
        components={NASTY: 1.0},
    )
    talk = TalkBackRow("twitter", NASTY, NASTY, "m", NASTY, None, None, None)
    html = render_html(
        _summary(input_dir=NASTY, rejected_by_file={NASTY: 2}),
        [_brand(brand=NASTY, advocates=(row,), talk_back=(talk,))],
    )
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;quoted&#34;" in html  # the double quote cannot close an attribute
    assert "&amp; more" in html
    assert " & more" not in html


def test_files_not_read_are_listed_apart_from_records_set_aside():
    html = render_html(
        _summary(files_not_read={"/in/archive.zip": "a ZIP file: unpack it", NASTY: "empty"}),
        [_brand()],
    )
    assert "Files not read" in html
    assert "<code>/in/archive.zip</code></th><td>a ZIP file: unpack it</td>" in html
    assert "<script" not in html.lower()
    plain = render_html(_summary(), [_brand()])
    assert "Files not read (nothing" not in plain


def test_javascript_url_never_becomes_a_link_but_https_does():
    row = _account(
        1,
        profile_url=EVIL_URL,
        evidence=(_evidence(url=EVIL_URL), _evidence(excerpt="second", url=GOOD_URL)),
    )
    talk = TalkBackRow("twitter", "x", "x", "m", "hello", "javascript:void(0)", None, 1.0)
    html = render_html(_summary(), [_brand(advocates=(row,), talk_back=(talk,))])
    hrefs = _hrefs(html)
    assert GOOD_URL in hrefs
    assert not [h for h in hrefs if "javascript" in h.lower()]
    assert "javascript:" not in html.lower()
    for href in hrefs:
        assert href.startswith(("#", "http://", "https://")), href


def test_quote_in_url_cannot_break_out_of_href():
    url = 'https://example.com/"onmouseover="alert(1)'
    html = render_html(_summary(), [_brand(advocates=(_account(1, profile_url=url),))])
    assert 'onmouseover="alert' not in html
    assert "https://example.com/&#34;onmouseover=&#34;alert(1)" in html


def test_advocates_appear_in_rank_order():
    advocates = tuple(_account(rank, handle=f"ranked_{rank}") for rank in (1, 2, 3, 4))
    html = render_html(_summary(), [_brand(advocates=advocates)])
    positions = [html.index(f"@ranked_{rank}") for rank in (1, 2, 3, 4)]
    assert positions == sorted(positions)
    cells = re.findall(r'<td class="pos">(\d+)</td>', html)
    assert cells[:4] == ["1", "2", "3", "4"]


def test_empty_sections_say_so():
    html = render_html(_summary(), [_empty_brand()])
    assert "No advocates in this period." in html
    assert "No influencers in this period." in html
    assert "No detractors in this period." in html
    assert "Nobody is waiting for an answer in this period." in html


def test_no_brands_at_all():
    html = render_html(_summary(), [])
    assert "No brands were analysed in this run." in html


def test_header_shows_run_summary_and_set_aside_per_file():
    html = render_html(_summary(), [_brand()])
    assert "2024-06-01" in html
    assert "twcs.csv" in html and "mastodon.jsonl" in html
    assert "Records set aside" in html
    # per-file counts, largest first
    assert html.index("twcs.csv") < html.index("mastodon.jsonl")


def test_table_of_contents_links_every_brand():
    html = render_html(_summary(), [_brand(), _empty_brand()])
    assert 'href="#brand-1"' in html and 'id="brand-1"' in html
    assert 'href="#brand-2"' in html and 'id="brand-2"' in html


def test_promotion_note_only_when_far_above_a_third():
    calm = render_html(_summary(), [_brand()])
    assert "about a third" not in calm
    loud = _brand(brand_activity={"brand_posts": 50, "promotional_share": 0.8})
    html = render_html(_summary(), [loud])
    assert "about a third of what a brand posts" in html
    assert "80%" in html


def test_html_is_self_contained():
    html = render_html(_summary(), [_brand(), _empty_brand()])
    lowered = html.lower()
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in html
    assert 'src="http' not in lowered
    assert "src=" not in lowered
    assert "<link" not in lowered
    assert "@import" not in lowered
    assert "url(" not in lowered
    assert "<script" not in lowered


def test_role_badges_and_scores():
    html = render_html(_summary(), [_brand()])
    assert 'class="badge role-advocate"' in html
    assert 'class="badge role-influencer"' in html
    assert 'class="badge role-detractor"' in html
    assert ">89.0<" in html  # advocacy score of rank 1
    assert 'style="width: 89.0%"' in html


def test_unknown_role_and_kind_do_not_reach_class_attributes():
    row = _account(1, role='x" onclick="y', evidence=(_evidence(kind='z" onclick="y'),))
    html = render_html(_summary(), [_brand(advocates=(row,))])
    assert "role-other" in html and "kind-other" in html
    assert 'onclick="y' not in html


# ------------------------------------------------------------------------------ CSV


def _read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_round_trips_user_text():
    tricky = 'first line, with comma\nsecond "line"'
    row = _account(1, handle="fan,one", evidence=(_evidence(excerpt=tricky),))
    text = render_csv([_brand(advocates=(row,))])
    rows = _read_csv(text)
    assert tuple(rows[0]) == CSV_COLUMNS
    first = rows[0]
    assert first["section"] == "advocate"
    assert first["rank"] == "1"
    assert first["handle"] == "fan,one"
    assert first["top_evidence_excerpt"] == tricky
    assert first["reasons"] == "defended the brand 3 times; shared its posts 5 times"
    assert first["evidence_urls"] == GOOD_URL
    assert first["followers"] == "1234"
    assert first["advocacy_score"] == "89.0"


def test_csv_has_one_row_per_brand_section_account():
    rows = _read_csv(render_csv([_brand(), _empty_brand()]))
    sections = [(r["brand"], r["section"]) for r in rows]
    assert sections == [
        ("AcmeCo", "advocate"),
        ("AcmeCo", "advocate"),
        ("AcmeCo", "advocate"),
        ("AcmeCo", "influencer"),
        ("AcmeCo", "detractor"),
        ("AcmeCo", "talk_back"),
    ]
    talk = rows[-1]
    assert talk["handle"] == "waiting_person"
    assert talk["rank"] == ""
    assert talk["reasons"] == "waiting 4 days"


def test_csv_formula_guard():
    row = _account(
        1,
        handle='=HYPERLINK("http://evil")',
        account_id="+1-555",
        reasons=("-2+3",),
        evidence=(_evidence(excerpt="@SUM(1+1)*cmd|' /C calc'!A0", url=EVIL_URL),),
    )
    first = _read_csv(render_csv([_brand(advocates=(row,))]))[0]
    assert first["handle"] == '\'=HYPERLINK("http://evil")'
    assert first["account_id"] == "'+1-555"
    assert first["reasons"] == "'-2+3"
    assert first["top_evidence_excerpt"].startswith("'@SUM")
    assert first["evidence_urls"] == ""  # the javascript: URL is dropped, not exported


def test_csv_legitimate_handles_are_not_mangled():
    row = _account(1, handle="@fan_one")
    first = _read_csv(render_csv([_brand(advocates=(row,))]))[0]
    assert first["handle"] == "fan_one"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\t=1", "'\t=1"),
        ("plain", "plain"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_guard_cell(value, expected):
    assert guard_cell(value) == expected


# ------------------------------------------------------------------------------ files


def test_write_report_writes_both_files(tmp_path: Path):
    out = tmp_path / "reports" / "latest"
    paths = write_report(_summary(), [_brand()], out)
    assert paths == {"html": out / "advocates.html", "csv": out / "advocates.csv"}
    assert paths["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    rows = _read_csv(paths["csv"].read_text(encoding="utf-8"))
    assert len(rows) == 6
    assert sorted(p.name for p in out.iterdir()) == ["advocates.csv", "advocates.html"]
    assert paths["html"].stat().st_mode & 0o777 == 0o644


def test_write_report_keeps_previous_report_when_rendering_fails(tmp_path, monkeypatch):
    write_report(_summary(), [_brand()], tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def boom(*_args, **_kwargs):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(report, "render_html", boom)
    with pytest.raises(RuntimeError, match="template exploded"):
        write_report(_summary(), [_empty_brand()], tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_write_report_keeps_previous_report_when_writing_fails(tmp_path, monkeypatch):
    write_report(_summary(), [_brand()], tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_replace = report.os.replace
    calls = []

    def flaky_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(report.os, "replace", flaky_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(_summary(), [_empty_brand()], tmp_path)
    # no temporary files are left behind; the CSV is the previous one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["advocates.csv", "advocates.html"]
    assert (tmp_path / "advocates.csv").read_bytes() == before["advocates.csv"]


def test_movement_and_exclusions_are_shown():
    from pipelines.report import MovementRow

    first = render_html(_summary(), [_brand()])
    assert "This is the first run for" in first
    moved = _brand(
        previous_as_of=date(2026, 10, 30),
        movement=(
            MovementRow("twitter", "9", "<b>newfan</b>", "new_advocate", "casual", "advocate",
                        10.0, 60.0),
            MovementRow("twitter", "8", "oldfan", "turned_critical", "advocate", "detractor",
                        70.0, 0.0),
        ),
        excluded={"repeated identical messages (suspected spam)": 3},
    )
    html = render_html(_summary(), [moved])
    assert "new advocate" in html and "turned critical" in html
    assert "casual → advocate" in html and "70 → 0" in html
    assert "&lt;b&gt;newfan&lt;/b&gt;" in html and "<b>newfan" not in html
    assert "3 accounts (repeated identical messages (suspected spam))" in html
    quiet = render_html(_summary(), [_brand(previous_as_of=date(2026, 10, 30))])
    assert "No advocate moved since" in quiet
