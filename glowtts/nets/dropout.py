"""Dropout whose mask is cheap to draw on a CPU.

``nn.Dropout`` on a CPU fills its mask with ``bernoulli_`` from PyTorch's Mersenne
Twister, one thread, about 5 ns per element: on the 2-core CPU config that is a quarter
of a bf16 training step (45 dropouts of up to ``(24, 192, 450)`` per step). Here the
mask comes from NumPy's PCG64 raw output (64 random bits give two 32-bit draws), a few
times faster, and the rest is two vectorised torch ops.

The distribution is the same: each element is kept independently with probability
``1 - p`` (``p`` resolved to 2**-32) and scaled by ``1 / (1 - p)``. The PCG64 stream is
seeded from torch's default generator for every call, so ``torch.manual_seed`` makes
training repeatable as before (the masks differ from ``nn.Dropout``'s for the same
seed). Under ``torch.compile`` on a CPU it runs eagerly (a graph break), so compiled and
eager training draw the same masks; on other devices and in a trace it is ``F.dropout``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

_SEED_HIGH = 2**63 - 1


def keep_mask(shape: torch.Size, p: float) -> torch.Tensor:
    """Bool tensor of ``shape``, each element True with probability ``1 - p`` (CPU).

    The PCG64 seed is drawn from torch's default CPU generator, so the masks follow
    ``torch.manual_seed``.
    """
    n = int(np.prod(shape)) if len(shape) else 1
    seed = int(torch.randint(_SEED_HIGH, (), dtype=torch.int64))
    raw = np.random.PCG64(seed).random_raw((n + 1) // 2)  # uint64, two int32 draws each
    bits = torch.from_numpy(raw.view(np.int32)[:n]).view(shape)
    # uniform over [-2**31, 2**31): P(bits < threshold) = p
    threshold = round(p * 2**32) - 2**31
    return bits >= threshold


def dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """``F.dropout(x, p, training)`` with the CPU mask of :func:`keep_mask`."""
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or p >= 1.0 or torch.jit.is_scripting() or torch.jit.is_tracing():
        return F.dropout(x, p, training)
    return _cpu_dropout(x, p)


@torch.compiler.disable  # under torch.compile: a graph break, so the masks match eager mode
def _cpu_dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    # the scale is applied to x in its own dtype with a float scalar (rounded once),
    # never through a bf16 copy of 1 / (1 - p)
    return torch.where(keep_mask(x.shape, p), x * (1.0 / (1.0 - p)), 0.0)


class Dropout(nn.Module):
    """``nn.Dropout(p)`` with a faster mask on the CPU (see the module docstring)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
