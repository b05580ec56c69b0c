"""Shared test fixtures.

Real third-party exports live outside the repository (``../shared/data/real`` beside the
clone, or wherever ``ADVOCATES_REAL_DATA`` points); tests that need them skip when absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = Path(
    os.environ.get("ADVOCATES_REAL_DATA", REPO_ROOT.parent / "shared" / "data" / "real")
)
SAMPLE_DIR = REPO_ROOT / "data" / "sample"


@pytest.fixture
def real_data() -> Path:
    """The folder of real exports; skips the test when it is not there."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real exports not found at {REAL_DATA}")
    return REAL_DATA
