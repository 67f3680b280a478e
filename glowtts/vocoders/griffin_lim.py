"""The default vocoder: fast Griffin-Lim from the log-mel (no training, no download).

The algorithm lives in :mod:`glowtts.audio.griffin_lim`; this wraps it in the vocoder slot.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..audio import MelConfig, griffin_lim_batch


class GriffinLimVocoder:
    """Log-mel ``(T, n_mels)`` -> waveform with the mel definition of the experiment.

    Options: ``n_iter`` (default 60), ``momentum`` (0.99, fast Griffin-Lim),
    ``power`` (magnitude exponent before phase recovery, 1.0), ``seed`` (of the random
    initial phase of each batch, 0).
    """

    name = "griffin_lim"

    def __init__(
        self,
        feats: dict[str, Any] | MelConfig,
        n_iter: int = 60,
        momentum: float = 0.99,
        power: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.conf = feats if isinstance(feats, MelConfig) else MelConfig.from_dict(feats)
        self.n_iter, self.momentum, self.power, self.seed = n_iter, momentum, power, seed

    @property
    def sample_rate(self) -> int:
        return self.conf.fs

    def __call__(
        self, mels: list[np.ndarray | torch.Tensor], device: str | torch.device | None = None
    ) -> list[np.ndarray]:
        """Waveforms for a list of ``(T_i, n_mels)`` log-mels, computed as one padded batch."""
        lengths = [int(m.shape[0]) for m in mels]
        batch = torch.zeros(len(mels), max(lengths), self.conf.n_mels)
        for i, m in enumerate(mels):
            batch[i, : lengths[i]] = torch.as_tensor(m)
        return griffin_lim_batch(
            batch, lengths, self.conf, self.n_iter, self.momentum, self.power, self.seed, device
        )
