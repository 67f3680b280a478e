"""Griffin-Lim phase reconstruction from log-mel features, vectorised in torch.

Mel -> linear magnitude by the pseudo-inverse of the mel filterbank (clamped at 0), then the
fast Griffin-Lim algorithm (Perraudin, Balazs & Sondergaard, 2013): alternate projections
between "consistent STFTs" and "STFTs with the target magnitude", with an extrapolation
(momentum) step ``c_n = t_n + alpha (t_n - t_{n-1})``. All frames and all utterances of a batch
are processed at once; the only Python loop is over iterations.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from glowtts.audio.features import MelConfig, mel_filterbank

__all__ = [
    "mel_to_linear",
    "griffin_lim_linear",
    "griffin_lim",
    "griffin_lim_batch",
    "spectral_convergence",
]


@functools.lru_cache(maxsize=16)
def _pinv_cached(conf: MelConfig) -> np.ndarray:
    # (F, M); computed once per config in float64.
    fb = torch.from_numpy(np.array(mel_filterbank(conf)))
    return torch.linalg.pinv(fb).numpy()


def _stft(x: torch.Tensor, conf: MelConfig, window: torch.Tensor) -> torch.Tensor:
    return torch.stft(
        x,
        n_fft=conf.n_fft,
        hop_length=conf.hop_length,
        win_length=conf.win_length,
        window=window,
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )


def _istft(spec: torch.Tensor, conf: MelConfig, window: torch.Tensor, length: int) -> torch.Tensor:
    return torch.istft(
        spec,
        n_fft=conf.n_fft,
        hop_length=conf.hop_length,
        win_length=conf.win_length,
        window=window,
        center=True,
        length=length,
    )


def mel_to_linear(logmel: torch.Tensor, conf: MelConfig, power: float = 1.0) -> torch.Tensor:
    """Approximate linear magnitude from log-mel.

    Args:
        logmel: ``(B, T, n_mels)`` natural-log mel magnitudes.
        power: exponent applied to the recovered magnitude (1.0 = none; 1.2-1.5 sharpens the
            spectrum, which some prefer for Griffin-Lim).

    Returns:
        ``(B, n_fft // 2 + 1, T)`` non-negative magnitudes, dtype/device of ``logmel``.
    """
    pinv = torch.as_tensor(_pinv_cached(conf), dtype=logmel.dtype, device=logmel.device)
    mag = torch.matmul(pinv, torch.exp(logmel).transpose(1, 2)).clamp_(min=0.0)  # (B, F, T)
    if power != 1.0:
        mag = mag.pow(power)
    return mag


def spectral_convergence(
    wav: torch.Tensor, target_mag: torch.Tensor, conf: MelConfig
) -> torch.Tensor:
    """``||target - |STFT(wav)| ||_F / ||target||_F`` per utterance.

    Args:
        wav: ``(B, L)``; target_mag: ``(B, F, T)`` with ``T = 1 + L // hop``.

    Returns:
        ``(B,)``.
    """
    window = torch.hann_window(conf.win_length, periodic=True, dtype=wav.dtype, device=wav.device)
    mag = _stft(wav, conf, window).abs()
    num = torch.linalg.vector_norm(target_mag - mag, dim=(1, 2))
    return num / torch.linalg.vector_norm(target_mag, dim=(1, 2)).clamp(min=1e-12)


def griffin_lim_linear(
    mag: torch.Tensor,
    conf: MelConfig,
    n_iter: int = 60,
    momentum: float = 0.99,
    length: int | None = None,
    seed: int | None = 0,
) -> torch.Tensor:
    """Fast Griffin-Lim on linear magnitudes.

    Args:
        mag: ``(B, n_fft // 2 + 1, T)`` target magnitudes (zeros where a batch item is padded).
        n_iter: projection iterations (0 returns the random-phase initialisation).
        momentum: extrapolation ``alpha`` of fast Griffin-Lim; 0 gives plain Griffin-Lim.
        length: output samples; default ``(T - 1) * hop_length``, whose log-mel has ``T``
            frames again.
        seed: seed of the random initial phase (``None``: torch's global RNG).

    Returns:
        ``(B, length)`` waveforms.
    """
    if mag.dim() != 3 or mag.shape[1] != conf.n_fft // 2 + 1:
        raise ValueError(
            f"expected magnitudes (B, {conf.n_fft // 2 + 1}, T), got {tuple(mag.shape)}"
        )
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    if n_iter < 0:
        raise ValueError(f"n_iter must be >= 0, got {n_iter}")
    if length is None:
        length = (mag.shape[-1] - 1) * conf.hop_length
    window = torch.hann_window(conf.win_length, periodic=True, dtype=mag.dtype, device=mag.device)
    gen = None
    if seed is not None:
        gen = torch.Generator(device=mag.device)
        gen.manual_seed(seed)
    phase = torch.rand(mag.shape, generator=gen, dtype=mag.dtype, device=mag.device)
    angles = torch.polar(torch.ones_like(mag), 2 * torch.pi * phase)  # (B, F, T) unit complex
    # Our temporaries are preallocated and updated in place (stft/istft still allocate
    # their own): a fresh large tensor per step costs page faults on every iteration.
    spec = torch.empty_like(angles)  # mag * angles
    prev = torch.zeros_like(angles)  # the previous rebuilt STFT, then the extrapolation
    norm = torch.empty_like(mag)  # |extrapolation|
    for _ in range(n_iter):
        rebuilt = _stft(
            _istft(torch.mul(mag, angles, out=spec), conf, window, length), conf, window
        )
        # prev <- rebuilt + momentum * (rebuilt - prev), the same values as out of place
        extrapolated = prev.sub_(rebuilt).mul_(-momentum).add_(rebuilt)
        torch.abs(extrapolated, out=norm).clamp_(min=1e-16)
        torch.div(extrapolated, norm, out=angles)
        prev = rebuilt
    return _istft(torch.mul(mag, angles, out=spec), conf, window, length)


def _as_tensor(x: np.ndarray | torch.Tensor, device: str | torch.device | None) -> torch.Tensor:
    t = torch.as_tensor(x)
    if not t.is_floating_point():
        t = t.float()
    if t.dtype == torch.float16 or t.dtype == torch.bfloat16:
        t = t.float()
    return t.to(device) if device is not None else t


@torch.no_grad()
def griffin_lim(
    logmel: np.ndarray | torch.Tensor,
    conf: MelConfig,
    n_iter: int = 60,
    momentum: float = 0.99,
    power: float = 1.0,
    length: int | None = None,
    seed: int | None = 0,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Waveform from one log-mel spectrogram.

    Args:
        logmel: ``(T, n_mels)`` natural-log mel (numpy or torch).
        power: magnitude exponent, see :func:`mel_to_linear`.
        length: output samples, default ``(T - 1) * hop_length``.
        device: where to compute (default: where ``logmel`` is).

    Returns:
        ``(length,)`` float32 numpy waveform.
    """
    x = _as_tensor(logmel, device)
    if x.dim() != 2 or x.shape[1] != conf.n_mels:
        raise ValueError(f"expected log-mel (T, {conf.n_mels}), got {tuple(x.shape)}")
    if x.shape[0] < 2:
        raise ValueError(f"need at least 2 frames for Griffin-Lim, got {x.shape[0]}")
    mag = mel_to_linear(x.unsqueeze(0), conf, power)
    wav = griffin_lim_linear(mag, conf, n_iter, momentum, length, seed)
    return wav[0].to(torch.float32).cpu().numpy()


@torch.no_grad()
def griffin_lim_batch(
    logmel: np.ndarray | torch.Tensor,
    lengths: np.ndarray | torch.Tensor | list[int],
    conf: MelConfig,
    n_iter: int = 60,
    momentum: float = 0.99,
    power: float = 1.0,
    seed: int | None = 0,
    device: str | torch.device | None = None,
) -> list[np.ndarray]:
    """Griffin-Lim on a zero-padded batch.

    Args:
        logmel: ``(B, T_max, n_mels)``; frames at or after ``lengths[b]`` are ignored.
        lengths: ``(B,)`` valid frames per item (each >= 2).

    Returns:
        ``B`` float32 numpy waveforms, item ``b`` of ``(lengths[b] - 1) * hop_length`` samples.
    """
    x = _as_tensor(logmel, device)
    if x.dim() != 3 or x.shape[2] != conf.n_mels:
        raise ValueError(f"expected log-mel (B, T, {conf.n_mels}), got {tuple(x.shape)}")
    lens = torch.as_tensor(lengths, dtype=torch.long).cpu()
    if lens.shape != (x.shape[0],):
        raise ValueError(f"lengths must have shape ({x.shape[0]},), got {tuple(lens.shape)}")
    if (lens < 2).any() or (lens > x.shape[1]).any():
        raise ValueError(f"lengths must be in [2, {x.shape[1]}], got {lens.tolist()}")
    t_max = int(lens.max())
    x = x[:, :t_max]
    mag = mel_to_linear(x, conf, power)  # (B, F, T)
    # Padded frames get zero magnitude so they add nothing to the valid region.
    valid = torch.arange(t_max, device=mag.device)[None, :] < lens.to(mag.device)[:, None]
    mag = mag * valid[:, None, :].to(mag.dtype)
    wav = griffin_lim_linear(mag, conf, n_iter, momentum, None, seed).to(torch.float32).cpu()
    return [wav[b, : (int(n) - 1) * conf.hop_length].numpy() for b, n in enumerate(lens)]
