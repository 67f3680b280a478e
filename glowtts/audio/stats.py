"""Global feature statistics: per-dimension mean and standard deviation over all frames.

Written as ``stats.npy``: float64 array ``(2, D)`` = ``[mean; std]``, plus ``stats.json``
beside it with the counts. Accumulation merges per-utterance moments (Chan et al.), which
stays accurate in float64 over millions of frames, unlike a raw sum of squares.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__ = ["RunningStats", "save_stats", "load_stats"]


class RunningStats:
    """Running per-dimension mean/variance over frames of ``(T, D)`` matrices."""

    def __init__(self) -> None:
        self.n_frames = 0
        self.n_utts = 0
        self.mean: np.ndarray | None = None  # (D,) float64
        self.m2: np.ndarray | None = None  # (D,) sum of squared deviations

    def update(self, feats: np.ndarray) -> None:
        """Add the frames of one utterance, ``feats`` of shape ``(T, D)``."""
        x = np.asarray(feats, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"expected features of shape (T, D), got {x.shape}")
        if self.mean is not None and x.shape[1] != self.mean.shape[0]:
            raise ValueError(f"feature dimension {x.shape[1]} != {self.mean.shape[0]} seen before")
        self.n_utts += 1
        n_b = x.shape[0]
        if n_b == 0:
            return
        mean_b = x.mean(axis=0)
        m2_b = ((x - mean_b) ** 2).sum(axis=0)
        if self.mean is None or self.n_frames == 0:
            self.mean, self.m2, self.n_frames = mean_b, m2_b, n_b
            return
        n_a = self.n_frames
        n = n_a + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self.m2 = self.m2 + m2_b + delta**2 * (n_a * n_b / n)
        self.n_frames = n

    def merge(self, other: RunningStats) -> None:
        """Fold in another accumulator (e.g. from a parallel job)."""
        if other.n_frames == 0:
            self.n_utts += other.n_utts
            return
        if self.n_frames == 0:
            self.mean, self.m2 = other.mean.copy(), other.m2.copy()
            self.n_frames, self.n_utts = other.n_frames, self.n_utts + other.n_utts
            return
        n_a, n_b = self.n_frames, other.n_frames
        n = n_a + n_b
        delta = other.mean - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self.m2 = self.m2 + other.m2 + delta**2 * (n_a * n_b / n)
        self.n_frames = n
        self.n_utts += other.n_utts

    @property
    def std(self) -> np.ndarray:
        """Population standard deviation ``(D,)``."""
        if self.m2 is None or self.n_frames == 0:
            raise ValueError("no frames accumulated")
        return np.sqrt(self.m2 / self.n_frames)

    def as_array(self) -> np.ndarray:
        """``(2, D)`` float64: row 0 the mean, row 1 the standard deviation."""
        return np.stack([self.mean, self.std]).astype(np.float64)


def save_stats(path: str | Path, stats: RunningStats) -> Path:
    """Write ``stats.npy`` ``(2, D)`` and ``<stem>.json`` beside it, each atomically.

    Returns the json path.
    """
    path = Path(path)
    if path.suffix != ".npy":
        raise ValueError(f"statistics file must end in .npy, got '{path}'")
    arr = stats.as_array()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npy")
    np.save(tmp, arr)
    os.replace(tmp, path)
    info = {
        "n_utts": stats.n_utts,
        "n_frames": stats.n_frames,
        "dim": int(arr.shape[1]),
        "layout": "stats.npy is float64 (2, dim): row 0 mean, row 1 std (population)",
    }
    jpath = path.with_suffix(".json")
    jtmp = jpath.with_name(jpath.name + ".tmp")
    jtmp.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    os.replace(jtmp, jpath)
    return jpath


def load_stats(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read ``stats.npy`` -> ``(mean, std)``, each ``(D,)`` float64."""
    arr = np.load(path)
    if arr.ndim != 2 or arr.shape[0] != 2:
        raise ValueError(f"'{path}' must hold a (2, D) array [mean; std], got shape {arr.shape}")
    return arr[0], arr[1]
