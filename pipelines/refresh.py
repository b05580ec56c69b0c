"""What the steps that bring a layer up to date share: how they say what they did, a
fingerprint of what they were built with, and whether a table is there yet.

Used by ``pipelines.staging_refresh`` (staging) and ``pipelines.stance_refresh``
(``marts.message_stance``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Update:
    mode: str  # 'unchanged' | 'incremental' | 'rebuilt'
    reason: str
    counts: dict[str, int]


def inputs_fingerprint(inputs: object, modules: Sequence[str]) -> str:
    """A hash of ``repr(inputs)`` and the source of ``modules`` (file names in this package):
    when it changes, what was built from them must be built again."""
    digest = hashlib.sha1(repr(inputs).encode())
    for module in modules:
        digest.update((HERE / module).read_bytes())
    return digest.hexdigest()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND"
        " table_name = ?", [schema, table]).fetchall()[0][0] > 0
