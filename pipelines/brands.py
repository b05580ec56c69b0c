"""The brand configuration: which accounts are the brand on each platform, and which words
mean the brand.

The file is TOML (``brands.toml``)::

    # One [[brand]] table per brand.
    [[brand]]
    name = "Northwind Air"                    # shown in reports; also the brand key
    keywords = ["northwind", "#flynorthwind"] # words or hashtags that mean the brand
    [brand.accounts]                          # the brand's own accounts, per platform:
    twitter = ["NorthwindAir", "NorthwindHelp"]  # handles (without '@') or native ids
    mastodon = ["northwind@airline.social"]
    [brand.staff]                             # optional: employees, never scored
    twitter = ["jane_at_northwind"]

Handles and ids are matched case-insensitively. When no file is given, accounts that an export
itself marks as a company (TWCS's ``inbound = False``) become one brand each, named after the
handle, with the handle as its keyword.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl


class BrandConfigError(ValueError):
    """The brand file is missing, unreadable or does not follow the documented shape."""


BRAND_KEYS = ("name", "keywords", "accounts", "staff")


def _unknown_keys(table: dict, allowed: tuple[str, ...], where: str) -> None:
    """A misspelt key ("acounts") would otherwise be ignored without a word."""
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise BrandConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                               f"expected {', '.join(allowed)}")


@dataclass(frozen=True)
class Brand:
    name: str
    keywords: tuple[str, ...] = ()
    accounts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    staff: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def terms(self) -> tuple[str, ...]:
        """Everything that names the brand in text: keywords, the name, and '@handle's."""
        handles = {f"@{h}" for hs in self.accounts.values() for h in hs}
        return tuple(dict.fromkeys([self.name, *self.keywords, *sorted(handles)]))


def _platform_lists(table: object, where: str) -> dict[str, tuple[str, ...]]:
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise BrandConfigError(f"{where} must be a table of platform = [accounts]")
    out: dict[str, tuple[str, ...]] = {}
    for platform, names in table.items():
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise BrandConfigError(f"{where}.{platform} must be a list of handles or ids")
        out[platform.lower()] = tuple(n.lstrip("@") for n in names)
    return out


def load_brands(path: str | Path) -> list[Brand]:
    """Read and validate a brands file; errors name the file and the offending brand."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BrandConfigError(f"{path}: brand file not found") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BrandConfigError(f"{path}: not valid TOML: {exc}") from exc
    _unknown_keys(data, ("brand",), str(path))
    entries = data.get("brand")
    if not isinstance(entries, list) or not entries:
        raise BrandConfigError(f"{path}: expected at least one [[brand]] table")
    brands: list[Brand] = []
    for i, entry in enumerate(entries, start=1):
        where = f"{path}: brand #{i}"
        if not isinstance(entry, dict):
            raise BrandConfigError(f"{where} must be a [[brand]] table")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BrandConfigError(f"{where} has no name")
        _unknown_keys(entry, BRAND_KEYS, f"{where} ({name})")
        keywords = entry.get("keywords", [])
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise BrandConfigError(f"{where} ({name}): keywords must be a list of strings")
        brands.append(
            Brand(
                name=name.strip(),
                keywords=tuple(k for k in keywords if k.strip()),
                accounts=_platform_lists(entry.get("accounts"), f"{where} ({name}).accounts"),
                staff=_platform_lists(entry.get("staff"), f"{where} ({name}).staff"),
            )
        )
    names = [b.name for b in brands]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise BrandConfigError(f"{path}: brand names must be unique, repeated: {sorted(dupes)}")
    return brands


def brand_account_rows(brands: list[Brand]) -> pl.DataFrame:
    """One row per configured account: brand, platform, lower-cased handle or id, role."""
    rows = [
        {"brand": b.name, "platform": platform, "account_key": name.lower(), "role": role}
        for b in brands
        for role, table in (("brand", b.accounts), ("staff", b.staff))
        for platform, names in table.items()
        for name in names
    ]
    return pl.DataFrame(
        rows,
        schema={"brand": pl.String, "platform": pl.String, "account_key": pl.String,
                "role": pl.String},
    )


def brand_keyword_rows(brands: list[Brand]) -> pl.DataFrame:
    """One row per (brand, lower-cased term) that names the brand in text."""
    rows = [{"brand": b.name, "term": t.lower()} for b in brands for t in b.terms()]
    return pl.DataFrame(rows, schema={"brand": pl.String, "term": pl.String})
