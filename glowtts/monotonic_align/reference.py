"""Numpy reference MAS: the slow, obviously-correct version the tests compare against."""

from __future__ import annotations

import numpy as np


def maximum_path_numpy(log_p: np.ndarray, t_xs: np.ndarray, t_ys: np.ndarray) -> np.ndarray:
    """MAS for a batch. ``log_p`` ``(B, T_text, T_mel)`` float; ``t_xs``, ``t_ys`` ``(B,)``.

    Returns a uint8 path ``(B, T_text, T_mel)``. The DP is vectorised over
    tokens and runs frame by frame; arithmetic stays in ``log_p``'s dtype so
    results match the compiled kernels bit for bit.
    """
    b, tx_max, ty_max = log_p.shape
    path = np.zeros((b, tx_max, ty_max), dtype=np.uint8)
    neg = np.array(-np.inf, dtype=log_p.dtype)
    for n in range(b):
        t_x, t_y = int(t_xs[n]), int(t_ys[n])
        lp = log_p[n, :t_x, :t_y]
        q = np.full((t_x, t_y), neg, dtype=log_p.dtype)
        q[0, 0] = lp[0, 0]
        for j in range(1, t_y):
            stay = q[:, j - 1]
            adv = np.concatenate([[neg], q[:-1, j - 1]])
            stay = np.where(np.arange(t_x) == j, neg, stay)  # the diagonal must advance
            q[:, j] = np.where(adv > stay, adv, stay) + lp[:, j]
            # cells outside the feasible band stay -inf
            lo, hi = max(0, j - (t_y - t_x)), min(j, t_x - 1)
            q[:lo, j] = neg
            q[hi + 1 :, j] = neg
        i = t_x - 1
        for j in range(t_y - 1, -1, -1):
            path[n, i, j] = 1
            if i != 0 and (i == j or q[i, j - 1] < q[i - 1, j - 1]):
                i -= 1
    return path
