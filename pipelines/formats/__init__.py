"""Input formats: detect a file's format from its content and parse it into the canonical
model (:mod:`pipelines.model`). See docs/formats.md.

Public API: :func:`parse_file`, :func:`parse_folder`, :func:`iter_input_files`, ``FORMATS``.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.formats.detect import REGISTRY, Format, detect, formats, parse_file
from pipelines.model import ParsedFile

FORMATS: tuple[tuple[str, str], ...] = formats()

# Configuration and notes beside the exports, and the pictures, video and sound that platform
# archives carry (a Mastodon or X archive holds hundreds): none of them hold records.
MEDIA_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".heic", ".bmp", ".svg", ".ico",
                  ".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v", ".mp3", ".m4a", ".ogg",
                  ".oga", ".opus", ".wav", ".flac")
SKIPPED_SUFFIXES = (".toml", ".md", ".txt", *MEDIA_SUFFIXES)
SKIPPED_PREFIXES = ("readme", "license")

__all__ = [
    "FORMATS",
    "REGISTRY",
    "Format",
    "detect",
    "iter_input_files",
    "parse_file",
    "parse_folder",
]


def _skipped(name: str) -> bool:
    lower = name.lower()
    return (
        name.startswith((".", "_"))
        or lower.endswith(SKIPPED_SUFFIXES)
        or lower.startswith(SKIPPED_PREFIXES)
    )


def iter_input_files(folder: str | Path) -> list[Path]:
    """Every regular file under ``folder`` (recursively), sorted. Skips hidden files and
    folders ('.'), names starting with '_' (ground truth kept beside sample data, caches),
    *.toml, *.md, *.txt, README*, LICENSE*, and pictures, video and sound
    (``MEDIA_SUFFIXES``). A file given instead of a folder is returned
    alone; a folder that does not exist raises FileNotFoundError."""
    root = Path(folder)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"input folder not found: {root}")
    found = []
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if any(part.startswith((".", "_")) for part in parts[:-1]) or _skipped(parts[-1]):
            continue
        if path.is_file():
            found.append(path)
    return sorted(found)


def parse_folder(folder: str | Path) -> list[ParsedFile]:
    """parse_file for every file iter_input_files finds."""
    return [parse_file(path) for path in iter_input_files(folder)]
