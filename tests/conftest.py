"""Shared fixtures. Test data comes from ``../shared`` beside the checkout and is
never copied into the repo; without it the tests that need it skip, unless
``GLOWTTS_REQUIRE_SHARED=1`` (set by .ci/run), which turns the skip into a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def _need(path: Path, what: str) -> Path:
    if path.exists():
        return path
    msg = f"{what} not found at {path} (it lives in ../shared beside the checkout)"
    if os.environ.get("GLOWTTS_REQUIRE_SHARED") == "1":
        pytest.fail(msg + "; GLOWTTS_REQUIRE_SHARED=1 makes this an error")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def ljspeech_mini() -> Path:
    """The 32-utterance LJSpeech-1.1-layout corpus in ``../shared/data/ljspeech_mini``."""
    return _need(SHARED / "data" / "ljspeech_mini", "ljspeech_mini test corpus")
