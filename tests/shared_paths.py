"""Where the read-only test data beside the checkout lives (``../shared``), and the one rule
for its absence: skip, or fail under ``GLOWTTS_REQUIRE_SHARED=1`` (set by .ci/run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def need_shared(path: Path, what: str) -> Path:
    """``path`` when it exists; else skip the test (fail under GLOWTTS_REQUIRE_SHARED=1)."""
    if path.exists():
        return path
    msg = f"{what} not found at {path} (it lives in ../shared beside the checkout)"
    if os.environ.get("GLOWTTS_REQUIRE_SHARED") == "1":
        pytest.fail(msg + "; GLOWTTS_REQUIRE_SHARED=1 makes this an error")
    pytest.skip(msg)
