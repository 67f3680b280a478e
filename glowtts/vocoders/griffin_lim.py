"""The default vocoder: fast Griffin-Lim from the log-mel (no training, no download).

The algorithm lives in :mod:`glowtts.audio.griffin_lim`; this wraps it in the vocoder slot.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..audio import MelConfig, griffin_lim_batch
from ..synthesis.batch_decode import pack_by_length

# Padded STFT size per Griffin-Lim call: a complex (B, F, T) tensor and its temporaries of
# this size are reused from the heap; over glibc's 32 MiB mmap ceiling each of them is
# fresh zeroed pages on each of the 60 iterations (measured: sys time above user time).
MAX_STFT_BYTES = 16 * 2**20


class GriffinLimVocoder:
    """Log-mel ``(T, n_mels)`` -> waveform with the mel definition of the experiment.

    Options: ``n_iter`` (default 60), ``momentum`` (0.99, fast Griffin-Lim),
    ``power`` (magnitude exponent before phase recovery, 1.0), ``seed`` (of the random
    initial phase of each batch, 0), ``batch_frames`` (padded frames per Griffin-Lim
    call; default: what keeps a complex STFT under :data:`MAX_STFT_BYTES`, 4088 frames
    at ``n_fft`` 1024).
    """

    name = "griffin_lim"

    def __init__(
        self,
        feats: dict[str, Any] | MelConfig,
        n_iter: int = 60,
        momentum: float = 0.99,
        power: float = 1.0,
        seed: int = 0,
        batch_frames: int | None = None,
    ) -> None:
        self.conf = feats if isinstance(feats, MelConfig) else MelConfig.from_dict(feats)
        self.n_iter, self.momentum, self.power, self.seed = n_iter, momentum, power, seed
        if batch_frames is None:
            batch_frames = MAX_STFT_BYTES // ((self.conf.n_fft // 2 + 1) * 8)
        if batch_frames < 1:
            raise ValueError(f"batch_frames must be >= 1, got {batch_frames}")
        self.batch_frames = int(batch_frames)

    @property
    def sample_rate(self) -> int:
        return self.conf.fs

    def __call__(
        self, mels: list[np.ndarray | torch.Tensor], device: str | torch.device | None = None
    ) -> list[np.ndarray]:
        """Waveforms for a list of ``(T_i, n_mels)`` log-mels, in length-sorted padded
        batches of at most ``batch_frames`` frames."""
        lengths = [int(m.shape[0]) for m in mels]
        wavs: list[np.ndarray | None] = [None] * len(mels)
        for group in pack_by_length(lengths, max_padded=self.batch_frames):
            # the caller's order inside a batch: a list that fits is one batch, as before
            idx = sorted(group)
            batch = torch.zeros(len(idx), max(lengths[i] for i in idx), self.conf.n_mels)
            for b, i in enumerate(idx):
                batch[b, : lengths[i]] = torch.as_tensor(mels[i])
            out = griffin_lim_batch(
                batch,
                [lengths[i] for i in idx],
                self.conf,
                self.n_iter,
                self.momentum,
                self.power,
                self.seed,
                device,
            )
            for i, w in zip(idx, out):
                wavs[i] = w
        return wavs  # type: ignore[return-value]
