"""Which format a file is in, judged from its content (never its name).

``REGISTRY`` lists the formats in the order they are tried: each has a name, a one-line
description, a sniff function (``Head -> bool``, looking at the first 64 KiB, or the first
lines for JSON lines) and a parse function (``(path, source, head) -> ParsedFile``). To add a
format, write a module with those and append a :class:`Format` here; put more specific
formats before more general ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from pipelines.formats import (
    bluesky,
    discord,
    facebook,
    generic_csv,
    mastodon,
    reddit,
    twcs,
    twitter_archive,
    twitter_v1,
    twitter_v2,
    youtube,
)
from pipelines.formats.common import Head, excerpt, read_head, rejects_frame
from pipelines.model import ParsedFile

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Format:
    name: str
    description: str
    sniff: Callable[[Head], bool]
    parse: Callable[[Path, str, Head], ParsedFile]
    escapes_text: bool = False  # text comes with &amp; &lt; &gt; for & < >


REGISTRY: list[Format] = [
    Format(m.NAME, m.DESCRIPTION, m.sniff, m.parse, getattr(m, "ESCAPES_TEXT", False))
    for m in (
        twitter_v2,
        twitter_archive,
        twitter_v1,
        mastodon,
        bluesky,
        reddit,
        youtube,
        facebook,
        discord,
        twcs,
        generic_csv,
    )
]


def formats() -> tuple[tuple[str, str], ...]:
    return tuple((f.name, f.description) for f in REGISTRY)


def understood() -> str:
    return "; ".join(f"{f.name} ({f.description})" for f in REGISTRY)


def detect(head: Head) -> Format | None:
    """The first registered format whose sniff accepts the head, else None."""
    for fmt in REGISTRY:
        try:
            if fmt.sniff(head):
                return fmt
        except Exception:  # a sniff that trips over odd content just says no
            continue
    return None


_MAGIC = (
    (b"PK\x03\x04", "ZIP"),  # how X, Mastodon and Facebook deliver their archives
    (b"\x1f\x8b", "gzip-compressed"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed"),  # Pushshift's Reddit dumps
    (b"BZh", "bzip2-compressed"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
    (b"Rar!", "RAR"),
)


def _packed(raw: bytes) -> str | None:
    """The kind of archive or compression ``raw`` starts with, if any."""
    return next((kind for magic, kind in _MAGIC if raw.startswith(magic)), None)


def _whole_file_reject(
    source: str, reason: str, raw: bytes | str | None, fmt: str = UNKNOWN
) -> ParsedFile:
    return ParsedFile(
        source_file=source,
        source_format=fmt,
        rejects=rejects_frame(fmt, source, [(None, reason, excerpt(raw))]),
    )


def parse_file(path: str | Path) -> ParsedFile:
    """Detect the format of ``path`` from its content and parse it. Never raises for bad
    content: an unreadable or unrecognised file comes back as one reject."""
    source = str(path)
    path = Path(path)
    try:
        head = read_head(path)
    except OSError as exc:
        reason = f"{source}: cannot read the file ({exc.strerror or exc})"
        return _whole_file_reject(source, reason, None)
    fmt = detect(head)
    if fmt is None:
        packed = _packed(head.raw)
        if head.size == 0:
            why = "the file is empty"
        elif packed:
            why = f"a {packed} file: unpack it and put what it holds in the input folder"
        elif head.utf8_error:
            why = f"the file is not UTF-8 text ({head.utf8_error})"
        else:
            why = "not in any format this pipeline understands"
        reason = f"{source}: {why}; formats understood: {understood()}"
        return _whole_file_reject(source, reason, head.raw)
    try:
        parsed = fmt.parse(path, source, head)
    except Exception as exc:  # the parser gave up on the whole file: say so, do not raise
        reason = f"{source}: could not be parsed as {fmt.name}: {type(exc).__name__}: {exc}"
        return _whole_file_reject(source, reason[:2000], head.raw, fmt.name)
    if fmt.escapes_text and parsed.messages.height:
        parsed = replace(parsed, messages=parsed.messages.with_columns(
            unescape_text(pl.col("text"))))
    return parsed


def unescape_text(text: pl.Expr) -> pl.Expr:
    """&lt; &gt; &amp; back to < > &, once: "&amp;lt;" (a user who typed "&lt;") stays
    "&lt;". Other entities are left alone: the platforms escape only these three."""
    return (text.str.replace_all("&lt;", "<", literal=True)
            .str.replace_all("&gt;", ">", literal=True)
            .str.replace_all("&amp;", "&", literal=True))
