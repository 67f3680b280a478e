"""The mel feature definition: one YAML section ``feats:`` -> :class:`MelConfig` -> log-mel.

The default is the mel that Tacotron 2, Glow-TTS and the public HiFi-GAN vocoders use:
22050 Hz, n_fft 1024, Hann window 1024, hop 256, 80 Slaney mel bands over 0-8000 Hz with
Slaney area normalisation, magnitude (power 1) STFT with reflect padding of n_fft // 2 on each
side (so ``T = 1 + L // hop``), then ``log(max(x, 1e-5))``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "MelConfig",
    "hz_to_mel",
    "mel_to_hz",
    "mel_filterbank",
    "num_frames",
    "logmel",
    "logmel_torch",
    "load_feats_config",
]

log = logging.getLogger(__name__)

# Slaney's mel scale: linear (200/3 Hz per mel) below 1 kHz, logarithmic above, with the two
# pieces meeting at 1 kHz = 15 mel and 27 mel per factor 6.4 in frequency.
_F_SP = 200.0 / 3.0
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = math.log(6.4) / 27.0


@dataclasses.dataclass(frozen=True)
class MelConfig:
    """Log-mel feature parameters (the ``feats:`` YAML section).

    Attributes:
        fs: sample rate in Hz the wavs must have (no silent resampling).
        n_fft: FFT size.
        win_length: Hann window length (<= n_fft; zero-padded to n_fft, centred).
        hop_length: frame shift in samples.
        n_mels: number of mel bands.
        fmin: lowest band edge in Hz.
        fmax: highest band edge in Hz (<= fs / 2).
        log_floor: magnitudes are clamped to at least this before the natural log.
    """

    fs: int = 22050
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8000.0
    log_floor: float = 1e-5

    def __post_init__(self) -> None:
        problems = []
        for name in ("fs", "n_fft", "win_length", "hop_length", "n_mels"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                problems.append(f"{name} must be a positive integer, got {v!r}")
        if not problems:
            if self.win_length > self.n_fft:
                problems.append(f"win_length ({self.win_length}) must be <= n_fft ({self.n_fft})")
            if not 0 <= self.fmin < self.fmax:
                problems.append(f"need 0 <= fmin < fmax, got fmin={self.fmin} fmax={self.fmax}")
            if self.fmax > self.fs / 2:
                problems.append(f"fmax ({self.fmax}) must be <= fs / 2 ({self.fs / 2})")
        if not self.log_floor > 0:
            problems.append(f"log_floor must be > 0, got {self.log_floor!r}")
        if problems:
            raise ValueError("invalid feats config: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> MelConfig:
        """Build from a mapping; unknown keys are an error that lists the valid ones."""
        d = dict(d or {})
        valid = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(d) - set(valid))
        if unknown:
            raise ValueError(
                f"unknown key(s) in feats config: {', '.join(unknown)}; valid keys: "
                f"{', '.join(valid)}"
            )
        for k in ("fmin", "fmax", "log_floor"):
            if k in d and isinstance(d[k], int) and not isinstance(d[k], bool):
                d[k] = float(d[k])
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_feats_config(path: str | Path, section: str = "feats") -> MelConfig:
    """Read the ``feats:`` section of a YAML file (all other sections are ignored).

    A file without that section gives the defaults (the canonical Glow-TTS mel), with a warning.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file '{path}' does not exist")
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f) or {}
    if not isinstance(doc, Mapping):
        raise ValueError(f"config file '{path}' must be a YAML mapping")
    if section not in doc:
        log.warning("%s has no '%s:' section; using the default mel definition", path, section)
        return MelConfig()
    try:
        return MelConfig.from_dict(doc[section])
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path}: section '{section}': {e}") from e


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """Slaney mel of frequency ``f`` in Hz (any shape)."""
    f = np.asarray(f, dtype=np.float64)
    lin = f / _F_SP
    logpart = _MIN_LOG_MEL + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(f >= _MIN_LOG_HZ, logpart, lin)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    m = np.asarray(m, dtype=np.float64)
    lin = m * _F_SP
    logpart = _MIN_LOG_HZ * np.exp(_LOGSTEP * (np.maximum(m, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(m >= _MIN_LOG_MEL, logpart, lin)


@functools.lru_cache(maxsize=16)
def _filterbank_cached(fs: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))  # (n_mels+2,)
    freqs = np.arange(n_fft // 2 + 1, dtype=np.float64) * fs / n_fft  # (F,)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]  # (n_mels, 1)
    rising = (freqs[None, :] - lower) / (centre - lower)
    falling = (upper - freqs[None, :]) / (upper - centre)
    tri = np.clip(np.minimum(rising, falling), 0.0, None)  # (n_mels, F), peak 1 at the centre
    # Slaney area normalisation: each triangle integrates to ~1 over Hz.
    fb = tri * (2.0 / (upper - lower))
    fb.setflags(write=False)
    return fb


def mel_filterbank(conf: MelConfig) -> np.ndarray:
    """Slaney-scale, Slaney-normalised triangular filterbank ``(n_mels, n_fft // 2 + 1)`` float64.

    Applied to a magnitude spectrum ``(F,)`` as ``fb @ mag``. Read-only (cached).
    """
    return _filterbank_cached(conf.fs, conf.n_fft, conf.n_mels, float(conf.fmin), float(conf.fmax))


def num_frames(num_samples: int, conf: MelConfig) -> int:
    """Frames of a ``num_samples`` waveform: ``1 + num_samples // hop_length`` (centred STFT)."""
    return 1 + num_samples // conf.hop_length


def _window(conf: MelConfig, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    # Periodic Hann, as torch.hann_window / scipy get_window('hann') give for spectral analysis.
    return torch.hann_window(conf.win_length, periodic=True, device=device, dtype=dtype)


def logmel_torch(wav: torch.Tensor, conf: MelConfig) -> torch.Tensor:
    """Log-mel of a waveform batch with ``torch.stft`` (any device, float32 or float64).

    Args:
        wav: ``(L,)`` or ``(B, L)`` float samples; ``L > n_fft // 2`` (reflect padding).

    Returns:
        ``(T, n_mels)`` or ``(B, T, n_mels)``, same dtype/device as ``wav``, ``T = 1 + L // hop``.
        For a padded batch, frames past ``1 + len_b // hop`` are not meaningful.
    """
    squeeze = wav.dim() == 1
    if squeeze:
        wav = wav.unsqueeze(0)
    if wav.dim() != 2:
        raise ValueError(f"expected a waveform of shape (L,) or (B, L), got {tuple(wav.shape)}")
    if not wav.is_floating_point():
        raise TypeError(f"waveform must be floating point, got {wav.dtype}")
    n = wav.shape[-1]
    if n <= conf.n_fft // 2:
        raise ValueError(
            f"waveform of {n} samples is too short for n_fft={conf.n_fft}: need more than "
            f"{conf.n_fft // 2} samples ({(conf.n_fft // 2 + 1) / conf.fs * 1000:.1f} ms)"
        )
    spec = torch.stft(
        wav,
        n_fft=conf.n_fft,
        hop_length=conf.hop_length,
        win_length=conf.win_length,
        window=_window(conf, wav.device, wav.dtype),
        center=True,
        pad_mode="reflect",
        normalized=False,
        onesided=True,
        return_complex=True,
    ).abs()  # (B, F, T)
    fb = torch.tensor(mel_filterbank(conf), dtype=wav.dtype, device=wav.device)  # (M, F)
    mel = torch.matmul(fb, spec)  # (B, M, T)
    out = torch.log(torch.clamp(mel, min=conf.log_floor)).transpose(1, 2)  # (B, T, M)
    return out[0] if squeeze else out


def logmel(wav: np.ndarray, conf: MelConfig) -> np.ndarray:
    """Log-mel features of one waveform.

    Computed in float64 (so that values near the log floor are exact to float32 precision),
    returned as float32.

    Args:
        wav: ``(L,)`` samples in [-1, 1].

    Returns:
        ``(T, n_mels)`` float32 with ``T = 1 + L // hop_length``.
    """
    wav = np.asarray(wav)
    if wav.ndim != 1:
        raise ValueError(f"expected a mono waveform of shape (L,), got {wav.shape}")
    x = torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float64))
    with torch.no_grad():
        return logmel_torch(x, conf).to(torch.float32).numpy()
