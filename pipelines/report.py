"""The community manager's report: one self-contained HTML page and a CSV beside it.

Pure rendering: the caller builds :class:`RunSummary` and one :class:`BrandReport` per
brand (from the DuckDB marts) and hands them to :func:`render_html` or :func:`write_report`.
Nothing here reads a database or knows about Dagster.

Everything that came from an export (handles, display names, excerpts, URLs) is untrusted:

* HTML is rendered by Jinja2 with autoescaping on and ``StrictUndefined``; no value is ever
  marked safe.
* A URL becomes a link only when :func:`safe_url` accepts it (``http``/``https`` with a host).
* The page loads nothing from elsewhere: CSS is inline, there are no scripts, fonts or images,
  so it opens offline and reveals nothing about who reads it.
* CSV text cells are guarded against spreadsheet formula injection; see :func:`guard_cell`.

Both files are written atomically (temporary file in the same folder, then ``os.replace``),
and only after both have been rendered in memory, so a failed run leaves the previous report
untouched.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "report.html.j2"
HTML_NAME = "advocates.html"
CSV_NAME = "advocates.csv"

#: Above this share of promotional posts the report adds a note (rule of thumb: about a third).
PROMOTIONAL_SHARE_WARNING = 0.5

CSV_COLUMNS: tuple[str, ...] = (
    "brand",
    "section",
    "rank",
    "platform",
    "account_id",
    "handle",
    "role",
    "advocacy_score",
    "influence_score",
    "followers",
    "reasons",
    "evidence_urls",
    "top_evidence_excerpt",
)

ROLES = ("champion", "advocate", "influencer", "detractor", "casual")
EVIDENCE_KINDS: dict[str, str] = {
    "defense": "defended the brand",
    "share": "shared brand content",
    "conversation": "talked with the brand",
    "favor": "spoke well of the brand",
    "criticism": "criticised the brand",
    "mention": "mentioned the brand",
}
# Ratios in brand_activity are shown as percentages.
_RATIO_SUFFIXES = ("_share", "_rate", "_ratio")
_ACTIVITY_LABELS: dict[str, str] = {
    "brand_posts": "Posts by the brand",
    "promotional_share": "Promotional share of posts",
    "replies_sent": "Replies sent",
    "reply_rate": "Reply rate",
}
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    message_id: str
    kind: str  # 'defense' | 'share' | 'conversation' | 'favor' | 'criticism' | 'mention'
    excerpt: str  # user-written text, UNTRUSTED
    url: str | None  # link to the original post, UNTRUSTED (only http/https may become links)
    created_at: datetime | None


@dataclass(frozen=True)
class AccountRow:
    rank: int | None  # advocate rank within the brand (1 = strongest); None when not ranked
    platform: str
    account_id: str
    handle: str | None  # UNTRUSTED
    display_name: str | None  # UNTRUSTED
    role: str  # 'champion' | 'advocate' | 'influencer' | 'detractor' | 'casual'
    advocacy_score: float  # 0-100 within the brand
    influence_score: float  # 0-100 within the brand
    followers: int | None
    components: dict[str, float]  # e.g. {'defenses': 3, 'shares': 5, 'pagerank': 0.0012}
    reasons: tuple[str, ...]  # plain sentences, e.g. "defended the brand 3 times"
    evidence: tuple[Evidence, ...]
    profile_url: str | None = None


@dataclass(frozen=True)
class TalkBackRow:
    platform: str
    account_id: str
    handle: str | None
    message_id: str
    excerpt: str
    url: str | None
    created_at: datetime | None
    waiting_days: float | None


@dataclass(frozen=True)
class MovementRow:
    platform: str
    account_id: str
    handle: str | None  # UNTRUSTED
    movement: str  # 'new_advocate' | 'rising' | 'turned_critical' | 'lapsing'
    previous_role: str | None
    role: str
    previous_advocacy: float
    advocacy: float


@dataclass(frozen=True)
class BrandReport:
    brand: str
    accounts_scored: int
    advocates: tuple[AccountRow, ...]  # ranked, top N (champions and advocates first by rank)
    influencers: tuple[AccountRow, ...]  # top by influence
    detractors: tuple[AccountRow, ...]  # to watch
    talk_back: tuple[TalkBackRow, ...]  # accounts whose last message to the brand got no reply
    brand_activity: dict[str, float]  # e.g. {'brand_posts': 120, 'promotional_share': 0.36}
    movement: tuple[MovementRow, ...] = ()  # changes since the previous snapshot
    previous_as_of: date | None = None  # the snapshot movement compares with
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> accounts left out


@dataclass(frozen=True)
class RunSummary:
    generated_at: datetime
    as_of: date
    input_dir: str
    database: str
    files_read: int
    records_loaded: dict[str, int]  # {'accounts': n, 'messages': n, 'actions': n}
    records_rejected: int
    rejected_by_file: dict[str, int]
    stance_model: str | None = None  # marts.message_stance.stance_model
    # files that gave nothing but a reject (in no format understood, an archive, empty...):
    # file -> why, without the list of formats understood
    files_not_read: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Small helpers (also used as template filters)
# --------------------------------------------------------------------------------------------


def safe_url(url: str | None) -> str | None:
    """Return ``url`` (trimmed) when it may become a link, else ``None``.

    Only absolute ``http``/``https`` URLs with a host pass. Anything holding whitespace or
    control characters is refused outright, since browsers silently drop some of them
    (``java\\tscript:`` is ``javascript:`` to a browser).
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def guard_cell(value: str) -> str:
    """Neutralise spreadsheet formula injection in one CSV text cell.

    A cell that begins with ``=``, ``+``, ``-``, ``@`` (or a tab / line break, which some
    spreadsheets skip before looking for those) gets a leading apostrophe, so Excel,
    LibreOffice and Google Sheets show it as text instead of evaluating it.
    """
    if value and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_score(value: float | None) -> str:
    return "—" if _is_missing(value) else f"{value:.1f}"


def fmt_int(value: float | None) -> str:
    return "—" if _is_missing(value) else f"{int(value):,}"


def fmt_number(value: float | None) -> str:
    """Counts without decimals, small ratios (PageRank) with two significant digits."""
    if _is_missing(value):
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) < 1:
        return f"{value:.2g}"
    return f"{value:,.1f}"


def fmt_pct(value: float | None) -> str:
    return "—" if _is_missing(value) else f"{value * 100:.0f}%"


def fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return "date unknown"
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def fmt_datetime(value: datetime | None) -> str:
    if value is None:
        return "unknown"
    text = value.strftime("%Y-%m-%d %H:%M")
    if value.tzinfo is not None:
        text += " " + (value.tzname() or value.strftime("%z"))
    return text


def iso(value: date | datetime | None) -> str:
    return "" if value is None else value.isoformat()


def bar_width(value: float | None) -> str:
    """Width (percent, 0-100) of the small inline score bar."""
    if _is_missing(value):
        return "0"
    return f"{min(100.0, max(0.0, float(value))):.1f}"


def fmt_waiting(days: float | None) -> str:
    if _is_missing(days):
        return "unknown"
    if days < 1:
        return "less than a day"
    whole = int(days)
    return "1 day" if whole == 1 else f"{whole:,} days"


def role_class(role: str) -> str:
    return f"role-{role}" if role in ROLES else "role-other"


def kind_label(kind: str) -> str:
    return EVIDENCE_KINDS.get(kind, kind)


def kind_class(kind: str) -> str:
    return f"kind-{kind}" if kind in EVIDENCE_KINDS else "kind-other"


def component_label(name: str) -> str:
    return name.replace("_", " ")


def activity_label(name: str) -> str:
    return _ACTIVITY_LABELS.get(name, name.replace("_", " ").capitalize())


def fmt_activity(name: str, value: float | None) -> str:
    return fmt_pct(value) if name.endswith(_RATIO_SUFFIXES) else fmt_number(value)


def account_label(handle: str | None, display_name: str | None, account_id: str) -> str:
    """How an account is named on the page: ``@handle``, else its display name, else its id."""
    if handle:
        return handle if handle.startswith("@") else "@" + handle
    return display_name or account_id


def stance_model_label(version: str) -> str:
    """Plain words for a ``marts.message_stance.stance_model`` value."""
    if version.startswith("classifier-"):
        return ("a classifier trained on hand-labelled real messages (sentence embeddings and "
                "a target-aware lexicon)")
    return "a target-aware lexicon model (rules over VADER)"


def promotional_note(activity: Mapping[str, float]) -> str | None:
    share = activity.get("promotional_share")
    if _is_missing(share) or share <= PROMOTIONAL_SHARE_WARNING:
        return None
    return (
        f"{fmt_pct(share)} of what the brand posts is promotional. Rule of thumb: promotion "
        "should be about a third of what a brand posts; the rest is sharing others' content "
        "and talking with people."
    )


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        link_url=safe_url,
        score=fmt_score,
        int=fmt_int,
        number=fmt_number,
        pct=fmt_pct,
        date=fmt_date,
        datetime=fmt_datetime,
        iso=iso,
        bar=bar_width,
        waiting=fmt_waiting,
        role_class=role_class,
        kind_label=kind_label,
        kind_class=kind_class,
        component_label=component_label,
        activity_label=activity_label,
        stance_model_label=stance_model_label,
    )
    env.globals.update(
        account_label=account_label,
        fmt_activity=fmt_activity,
        promotional_note=promotional_note,
    )
    return env


def render_html(summary: RunSummary, brands: Sequence[BrandReport]) -> str:
    """The whole report as one self-contained HTML document."""
    template = _environment().get_template(TEMPLATE_NAME)
    return template.render(summary=summary, brands=list(brands))


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def _csv_number(value: float | None, digits: int = 2) -> str | float:
    return "" if _is_missing(value) else round(float(value), digits)


def _account_csv_row(brand: str, section: str, row: AccountRow) -> list[str | int | float]:
    urls = dict.fromkeys(u for ev in row.evidence if (u := safe_url(ev.url)))  # ordered, unique
    return [
        guard_cell(brand),
        section,
        "" if row.rank is None else row.rank,
        guard_cell(row.platform),
        guard_cell(row.account_id),
        guard_cell((row.handle or "").lstrip("@")),
        guard_cell(row.role),
        _csv_number(row.advocacy_score),
        _csv_number(row.influence_score),
        "" if row.followers is None else row.followers,
        guard_cell("; ".join(row.reasons)),
        " ".join(urls),
        guard_cell(row.evidence[0].excerpt if row.evidence else ""),
    ]


def _talk_back_csv_row(brand: str, row: TalkBackRow) -> list[str | int | float]:
    waiting = "" if _is_missing(row.waiting_days) else f"waiting {fmt_waiting(row.waiting_days)}"
    return [
        guard_cell(brand),
        "talk_back",
        "",
        guard_cell(row.platform),
        guard_cell(row.account_id),
        guard_cell((row.handle or "").lstrip("@")),
        "",
        "",
        "",
        "",
        guard_cell(waiting),
        safe_url(row.url) or "",
        guard_cell(row.excerpt),
    ]


def csv_rows(brands: Sequence[BrandReport]) -> Iterator[list[str | int | float]]:
    """Data rows (no header) in :data:`CSV_COLUMNS` order.

    Formula guard, and why it is applied per field:

    * Every free-text cell that comes from an export (``account_id``, ``handle``, ``reasons``,
      ``top_evidence_excerpt``) and the names we pass through (``brand``, ``platform``,
      ``role``) go through :func:`guard_cell`.
    * Handles are written *without* a leading ``@`` (the canonical model stores them that
      way), so a legitimate handle never trips the guard; only a crafted one such as
      ``=HYPERLINK(...)`` gets the apostrophe. Excerpts that start with ``@someone`` do get
      one: an ``@`` opening is how Lotus-style formulas start, and the text stays readable.
    * Numbers (rank, scores, followers) are written as numbers and never guarded.
    * ``evidence_urls`` holds only URLs that passed :func:`safe_url`, which all begin with
      ``http``, so it needs no guard.
    """
    for report in brands:
        for section, rows in (
            ("advocate", report.advocates),
            ("influencer", report.influencers),
            ("detractor", report.detractors),
        ):
            for row in rows:
                yield _account_csv_row(report.brand, section, row)
        for talk in report.talk_back:
            yield _talk_back_csv_row(report.brand, talk)


def render_csv(brands: Sequence[BrandReport]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(brands))
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def _write_temp(target: Path, text: str) -> Path:
    """Write ``text`` to a hidden temporary file beside ``target`` and return its path."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); keep the old report's mode, or 0644.
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_report(
    summary: RunSummary, brands: Sequence[BrandReport], out_dir: Path
) -> dict[str, Path]:
    """Write ``advocates.html`` and ``advocates.csv`` into ``out_dir``; return their paths.

    Both documents are rendered in memory and written to temporary files first; only then is
    each one moved over its target with ``os.replace`` (atomic per file). An error while
    rendering or writing leaves the previous report exactly as it was and no temporary files
    behind; only a failure between the two renames could pair a new HTML with the old CSV.
    """
    out_dir = Path(out_dir)
    brands = list(brands)
    html = render_html(summary, brands)
    table = render_csv(brands)

    out_dir.mkdir(parents=True, exist_ok=True)
    targets = {"html": out_dir / HTML_NAME, "csv": out_dir / CSV_NAME}
    temps: dict[str, Path] = {}
    try:
        temps["html"] = _write_temp(targets["html"], html)
        temps["csv"] = _write_temp(targets["csv"], table)
        for key, target in targets.items():
            os.replace(temps[key], target)
            del temps[key]
    finally:
        for leftover in temps.values():
            leftover.unlink(missing_ok=True)
    return targets
