"""Mel-cepstral distortion (MCD) between two log-mel sequences, with DTW alignment.

Definition used throughout the toolkit (``report.json`` key ``mcd``):

1. Cepstrum. A log-mel frame ``x`` (natural log of the mel magnitude, ``n_mels`` bands,
   the ``feats:`` definition) becomes mel-cepstral coefficients by the orthonormal DCT-II
   over the band axis::

       c_d = s_d * sum_{m=0}^{M-1} x_m cos(pi * d * (2m + 1) / (2M)),
       s_0 = sqrt(1 / M),  s_d = sqrt(2 / M) for d >= 1,

   keeping ``c_0 .. c_D`` (``D = n_coeffs``, 24 by default). ``c_0`` (overall level) is
   excluded from the distance, as is customary, so a gain change costs nothing.

2. Frame distance. For two cepstral frames ``c`` and ``c'``::

       MCD(c, c') = (10 / ln 10) * sqrt(2 * sum_{d=1}^{D} (c_d - c'_d)^2)   [dB]

   (the usual constant for natural-log cepstra).

3. Alignment. The two sequences (reference ``T1`` frames, synthesized ``T2`` frames) are
   aligned by dynamic time warping on the Euclidean distance of ``c_1 .. c_D``, steps
   ``(1, 0)``, ``(0, 1)``, ``(1, 1)`` with equal weight, both ends anchored. The utterance
   MCD is the mean of ``MCD(c, c')`` over the frame pairs on the optimal path; the number
   of pairs (the path length, ``max(T1, T2) <= L <= T1 + T2 - 1``) is returned with it.

Because the cepstra come from the (Slaney, 0-8 kHz) log-mel rather than from an SPTK /
WORLD mel-cepstral analysis, the values are comparable between systems evaluated with this
toolkit, not with MCDs in papers that use a different analysis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.fft import dct

__all__ = [
    "MCD_CONST",
    "MCDResult",
    "logmel_to_mcep",
    "dtw",
    "frame_mcd",
    "mel_cepstral_distortion",
]

MCD_CONST = 10.0 / math.log(10.0) * math.sqrt(2.0)
"""``(10 / ln 10) * sqrt(2)``: MCD in dB = MCD_CONST * Euclidean distance of c_1..c_D."""


@dataclass(frozen=True)
class MCDResult:
    """``mcd``: mean MCD in dB over the aligned pairs; ``n_pairs``: the alignment length;
    ``n_ref`` / ``n_hyp``: frame counts of the two inputs."""

    mcd: float
    n_pairs: int
    n_ref: int
    n_hyp: int


def logmel_to_mcep(logmel: np.ndarray, n_coeffs: int = 24) -> np.ndarray:
    """Orthonormal DCT-II of a log-mel over the band axis.

    Args:
        logmel: ``(T, n_mels)`` natural-log mel magnitudes.
        n_coeffs: ``D``; coefficients ``c_0 .. c_D`` are kept (``D < n_mels``).

    Returns:
        ``(T, D + 1)`` float64 mel-cepstra, column 0 is ``c_0``.
    """
    x = np.asarray(logmel, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"log-mel must be (T, n_mels), got shape {x.shape}")
    if not 1 <= n_coeffs < x.shape[1]:
        raise ValueError(f"n_coeffs must be in [1, n_mels - 1 = {x.shape[1] - 1}], got {n_coeffs}")
    return dct(x, type=2, norm="ortho", axis=1)[:, : n_coeffs + 1]


def _pairwise_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances ``(T1, T2)`` between the rows of ``a (T1, D)`` and ``b (T2, D)``."""
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(sq, 0.0))


def dtw(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Dynamic time warping over a local cost matrix.

    Each row is computed in O(T2) numpy work: with ``m_j = min(D[i-1, j], D[i-1, j-1])``
    the recursion ``D[i, j] = cost[i, j] + min(D[i, j-1], m_j)`` unrolls to
    ``D[i, j] = C_j + min_{k <= j} (m_k - C_{k-1})`` with ``C`` the running sum of
    ``cost[i]``, i.e. a cumulative minimum, so only the loop over rows is in Python.

    Args:
        cost: ``(T1, T2)`` non-negative local costs.

    Returns:
        ``(path_i, path_j, total)``: the optimal path from ``(0, 0)`` to ``(T1-1, T2-1)``
        as two index arrays of equal length ``L``, and its summed cost.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or cost.shape[0] == 0 or cost.shape[1] == 0:
        raise ValueError(f"cost must be a non-empty (T1, T2) matrix, got shape {cost.shape}")
    t1, t2 = cost.shape
    acc = np.empty((t1, t2))
    acc[0] = np.cumsum(cost[0])
    inf = np.array([np.inf])
    for i in range(1, t1):
        prev = acc[i - 1]
        m = np.minimum(prev, np.concatenate([inf, prev[:-1]]))  # best of up / diagonal
        c = np.cumsum(cost[i])
        c_before = np.concatenate([[0.0], c[:-1]])
        acc[i] = c + np.minimum.accumulate(m - c_before)
    # Backtrack: from each cell step to the cheapest of its (up to) three predecessors.
    i, j = t1 - 1, t2 - 1
    pi, pj = [i], [j]
    while i > 0 or j > 0:
        if i == 0:
            j -= 1
        elif j == 0:
            i -= 1
        else:
            diag, up, left = acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]
            if diag <= up and diag <= left:
                i, j = i - 1, j - 1
            elif up <= left:
                i -= 1
            else:
                j -= 1
        pi.append(i)
        pj.append(j)
    return np.array(pi[::-1]), np.array(pj[::-1]), float(acc[-1, -1])


def frame_mcd(ref_mcep: np.ndarray, hyp_mcep: np.ndarray) -> np.ndarray:
    """Per-frame MCD in dB of two equally long ``(T, D + 1)`` cepstra (``c_0`` ignored)."""
    diff = np.asarray(ref_mcep)[:, 1:] - np.asarray(hyp_mcep)[:, 1:]
    return MCD_CONST * np.sqrt((diff * diff).sum(1))


def mel_cepstral_distortion(
    ref: np.ndarray,
    hyp: np.ndarray,
    *,
    n_coeffs: int = 24,
    use_dtw: bool = True,
) -> MCDResult:
    """MCD between a reference and a synthesized log-mel (see the module docstring).

    Args:
        ref: ``(T1, n_mels)`` reference log-mel.
        hyp: ``(T2, n_mels)`` synthesized log-mel (same mel definition).
        n_coeffs: ``D``, cepstral coefficients ``c_1 .. c_D`` compared.
        use_dtw: align with DTW; if False the frames are paired one to one, which needs
            ``T1 == T2``.

    Returns:
        :class:`MCDResult` with the mean MCD (dB) over the aligned pairs.
    """
    ref, hyp = np.asarray(ref), np.asarray(hyp)
    if ref.ndim != 2 or hyp.ndim != 2 or ref.shape[1] != hyp.shape[1]:
        raise ValueError(
            f"need (T, n_mels) inputs with equal n_mels, got {ref.shape} and {hyp.shape}"
        )
    if len(ref) == 0 or len(hyp) == 0:
        raise ValueError("MCD of an empty sequence")
    a, b = logmel_to_mcep(ref, n_coeffs), logmel_to_mcep(hyp, n_coeffs)
    if use_dtw:
        pi, pj, _ = dtw(_pairwise_dist(a[:, 1:], b[:, 1:]))
        a, b = a[pi], b[pj]
    elif len(a) != len(b):
        raise ValueError(f"use_dtw=False needs equal lengths, got {len(a)} and {len(b)} frames")
    per_frame = frame_mcd(a, b)
    return MCDResult(float(per_frame.mean()), len(per_frame), len(ref), len(hyp))
