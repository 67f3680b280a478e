"""DistillMOS naturalness estimates (glowtts.evaluation.mos), run offline from its wheel."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from scipy.signal import resample_poly

from glowtts.audio.io import load_wav
from glowtts.evaluation import mos


@pytest.fixture(scope="module")
def distillmos() -> None:
    reason = mos.unavailable_reason()
    if reason is not None:
        if os.environ.get("GLOWTTS_REQUIRE_SHARED") == "1":
            pytest.fail(reason + "; GLOWTTS_REQUIRE_SHARED=1 makes this an error")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def speech(ljspeech_mini) -> list[np.ndarray]:
    return [load_wav(ljspeech_mini / "wavs" / f"LJ001-000{i}.wav", 22050) for i in (2, 3)]


def test_clean_speech_scores_above_the_same_speech_in_noise(distillmos, speech):
    rng = np.random.default_rng(0)
    noisy = [w + rng.normal(0, 0.1, len(w)).astype(np.float32) for w in speech]  # ~0 dB SNR
    scores = mos.predict_mos(speech + noisy, 22050)
    clean, degraded = scores[:2], scores[2:]
    assert all(1.0 <= s <= 5.0 for s in scores), scores
    # measured: clean 2.8 / 3.x, noisy ~2.2; the margin leaves room for library drift
    for c, d in zip(clean, degraded):
        assert c > d + 0.3, scores
    # torchaudio was only stood in for the import, and the model uses torch alone
    assert "torchaudio" not in sys.modules or mos.importlib.util.find_spec("torchaudio")


def test_input_is_resampled_to_16k(distillmos, speech):
    w = speech[0]
    at_16k = resample_poly(w.astype(np.float64), 320, 441).astype(np.float32)
    (a,) = mos.predict_mos([w], 22050)
    (b,) = mos.predict_mos([at_16k], 16000)
    assert abs(a - b) < 1e-4
    with pytest.raises(ValueError, match="mono"):
        mos.predict_mos([np.zeros((2, 100), np.float32)], 16000)
    with pytest.raises(ValueError, match="20 ms"):
        mos.predict_mos([np.zeros(100, np.float32)], 16000)


def test_the_torchaudio_stand_in_is_removed_and_refuses_use(monkeypatch):
    monkeypatch.setattr(mos.importlib.util, "find_spec", lambda name: None)
    monkeypatch.delitem(sys.modules, "torchaudio", raising=False)
    with mos._without_torchaudio():
        import torchaudio

        with pytest.raises(ImportError, match="not installed"):
            torchaudio.load("x.wav")
    assert "torchaudio" not in sys.modules
    assert "not installed" in mos.unavailable_reason()
