"""Helpers shared by the MAS tests: random batches and path property checks."""

from __future__ import annotations

import numpy as np
import torch


def make_mask(t_x: np.ndarray, t_y: np.ndarray, tx_max: int, ty_max: int) -> torch.Tensor:
    """``(B, tx_max, ty_max)`` float mask, 1 on the valid ``t_x[b] x t_y[b]`` rectangle."""
    tx = torch.as_tensor(np.asarray(t_x))[:, None, None]
    ty = torch.as_tensor(np.asarray(t_y))[:, None, None]
    return (
        (torch.arange(tx_max)[None, :, None] < tx) & (torch.arange(ty_max)[None, None, :] < ty)
    ).float()


def random_batch(
    rng: np.random.Generator, b: int, tx_hi: int, ratio_hi: float = 4.0, dtype=np.float32
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
    """Random scores of mixed lengths: ``log_p``, ``mask`` ``(B, T_text, T_mel)``, ``t_x``, ``t_y``."""
    t_x = rng.integers(1, tx_hi + 1, size=b)
    t_y = np.array([rng.integers(a, int(a * ratio_hi) + 2) for a in t_x])
    tx_max, ty_max = int(t_x.max()), int(t_y.max())
    log_p = torch.from_numpy(rng.standard_normal((b, tx_max, ty_max)).astype(dtype))
    return log_p, make_mask(t_x, t_y, tx_max, ty_max), t_x, t_y


def check_path(path: torch.Tensor, t_x, t_y) -> None:
    """Assert ``path`` ``(B, T_text, T_mel)`` is a valid MAS alignment for each item."""
    p = path.detach().float().cpu().numpy()
    assert set(np.unique(p)) <= {0.0, 1.0}
    for n in range(p.shape[0]):
        tx, ty = int(t_x[n]), int(t_y[n])
        assert p[n, tx:, :].sum() == 0 and p[n, :, ty:].sum() == 0, "ones outside the mask"
        v = p[n, :tx, :ty]
        assert (v.sum(0) == 1).all(), "every valid frame needs exactly one token"
        tok = v.argmax(0)
        assert tok[0] == 0 and tok[-1] == tx - 1, "path must start at token 0 and end at the last"
        steps = np.diff(tok)
        assert ((steps == 0) | (steps == 1)).all(), "tokens must advance by 0 or 1 per frame"
        assert (v.sum(1) >= 1).all(), "every token needs at least one frame"
