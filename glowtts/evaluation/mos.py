"""Naturalness estimate: DistillMOS, a compact predictor of the mean opinion score (1..5).

DistillMOS (Stahl & Gamper, Microsoft, 2025; MIT) is a 4M-parameter CNN + transformer
distilled from an XLS-R-based speech-quality model; its weights ship inside the
``distillmos`` wheel, so it runs offline. ``make install`` installs that wheel and
``xls-r-sqa`` (the model classes it imports) with ``--no-deps``.

The catch: ``distillmos/sqa.py`` imports torchaudio at module level, for its command
line only (file loading and resampling); the model itself needs torch alone. torchaudio
is not a glowtts dependency, so while ``distillmos`` is imported a stand-in module takes
its place in ``sys.modules`` (any use of it raises) and is removed right after; a real
torchaudio, when installed, is used as is. Audio is resampled here with
``scipy.signal.resample_poly`` instead.

Usage::

    from glowtts.evaluation.mos import predict_mos
    scores = predict_mos([wav1, wav2], fs=22050)   # [3.9, 4.2]
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import importlib.util
import io
import math
import sys
import types
from collections.abc import Sequence

import numpy as np
import torch
from scipy.signal import resample_poly

__all__ = ["MODEL_FS", "predict_mos", "load_model", "unavailable_reason"]

MODEL_FS = 16000
INSTALL_HINT = "install it with `make install` (or `pip install --no-deps distillmos xls-r-sqa`)"


def unavailable_reason() -> str | None:
    """Why DistillMOS cannot run here (a missing wheel), or None when it can."""
    for pkg in ("distillmos", "xls_r_sqa"):
        if importlib.util.find_spec(pkg) is None:
            return f"the {pkg} package is not installed; {INSTALL_HINT}"
    return None


def scorer_name() -> str:
    """The predictor and its version: the key of cached scores (:mod:`glowtts.evaluation.cache`)."""
    return f"DistillMOS {importlib.metadata.version('distillmos')} {MODEL_FS}"


def _torchaudio_stand_in() -> types.ModuleType:
    mod = types.ModuleType("torchaudio")

    def _absent(name: str):
        raise ImportError(
            f"torchaudio.{name}: torchaudio is not installed (glowtts runs DistillMOS without it)"
        )

    mod.__getattr__ = _absent  # type: ignore[attr-defined]
    return mod


@contextlib.contextmanager
def _without_torchaudio():
    """A stand-in ``torchaudio`` in ``sys.modules`` for the duration, unless a real one exists."""
    if "torchaudio" in sys.modules or importlib.util.find_spec("torchaudio") is not None:
        yield
        return
    sys.modules["torchaudio"] = _torchaudio_stand_in()
    try:
        yield
    finally:
        sys.modules.pop("torchaudio", None)


@functools.lru_cache(maxsize=4)
def load_model(device: str = "cpu") -> torch.nn.Module:
    """The DistillMOS model (eval mode) on ``device``; loaded once per device.

    Raises:
        ImportError: distillmos / xls-r-sqa are not installed (the message says how).
    """
    reason = unavailable_reason()
    if reason is not None:
        raise ImportError(f"DistillMOS: {reason}")
    with _without_torchaudio():
        from distillmos import ConvTransformerSQAModel
    with contextlib.redirect_stdout(io.StringIO()):  # it prints where it loaded weights from
        model = ConvTransformerSQAModel()
    return model.eval().to(device)


def _to_model_rate(wav: np.ndarray, fs: int) -> np.ndarray:
    wav = np.asarray(wav, dtype=np.float64)
    if wav.ndim != 1:
        raise ValueError(f"predict_mos: expected mono waveforms of shape (L,), got {wav.shape}")
    if fs != MODEL_FS:
        g = math.gcd(int(fs), MODEL_FS)
        wav = resample_poly(wav, MODEL_FS // g, int(fs) // g)
    return wav.astype(np.float32)


@torch.inference_mode()
def predict_mos(wavs: Sequence[np.ndarray], fs: int, device: str = "cpu") -> list[float]:
    """Predicted MOS (1 = bad .. 5 = excellent) of each waveform ``(L_i,)`` at ``fs`` Hz.

    Each waveform is resampled to 16 kHz and scored on its own (the model pads or
    averages 7.7 s windows, and normalises the peak, so loudness does not matter).

    Raises:
        ImportError: DistillMOS is not installed.
        ValueError: a waveform is not 1-D or is shorter than 20 ms.
    """
    model = load_model(str(device))
    scores = []
    for i, wav in enumerate(wavs):
        x = _to_model_rate(wav, fs)
        if len(x) < MODEL_FS // 50:
            raise ValueError(f"predict_mos: waveform {i} has {len(x)} samples at 16 kHz (< 20 ms)")
        y = model(torch.from_numpy(x).to(device).unsqueeze(0))  # (1, 1)
        scores.append(float(y.view(-1)[0]))
    return scores
