"""Shared fixtures. Test data comes from ``../shared`` beside the checkout and is
never copied into the repo; without it the tests that need it skip, unless
``GLOWTTS_REQUIRE_SHARED=1`` (set by .ci/run), which turns the skip into a failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_paths import REPO, SHARED, need_shared


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def ljspeech_mini() -> Path:
    """The 32-utterance LJSpeech-1.1-layout corpus in ``../shared/data/ljspeech_mini``."""
    return need_shared(SHARED / "data" / "ljspeech_mini", "ljspeech_mini test corpus")


@pytest.fixture
def autocast_dtypes(monkeypatch) -> list:
    """The dtype of every ``torch.autocast`` entered while the test runs, in order."""
    import torch

    seen: list = []
    orig = torch.autocast.__init__

    def spy(self, device_type, dtype=None, *args, **kwargs):
        seen.append(dtype)
        orig(self, device_type, dtype, *args, **kwargs)

    monkeypatch.setattr(torch.autocast, "__init__", spy)
    return seen
