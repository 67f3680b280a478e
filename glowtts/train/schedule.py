"""Optimiser and learning-rate schedule of the official recipe: Adam + Noam warm-up."""

from __future__ import annotations

import math

import torch


def noam_factor(step: int, d_model: int, warmup_steps: int) -> float:
    """``d_model^-0.5 * min(step^-0.5, step * warmup^-1.5)`` for ``step >= 1``.

    Rises linearly to its peak ``(d_model * warmup)^-0.5`` at ``step == warmup_steps``,
    then decays as ``step^-0.5``.
    """
    step = max(int(step), 1)
    return d_model**-0.5 * min(step**-0.5, step * warmup_steps**-1.5)


def build_optimizer(model: torch.nn.Module, conf: dict) -> torch.optim.Adam:
    """Adam over all trainable parameters; ``lr`` is the Noam scale ``learning_rate``.

    On CUDA the fused implementation (a few kernels for all ~300 tensors instead of
    a dozen per tensor group) is used: same update to float rounding, same state
    dict. Build it after the model is on its device.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    fused = bool(params) and all(p.is_cuda for p in params)
    return torch.optim.Adam(
        params,
        lr=conf["learning_rate"],
        betas=tuple(conf["betas"]),
        eps=conf["eps"],
        weight_decay=conf["weight_decay"],
        fused=fused or None,
    )


def build_scheduler(
    optimizer: torch.optim.Optimizer, d_model: int, warmup_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Noam schedule as a ``LambdaLR``; optimizer step ``k`` (0-based) uses ``noam(k + 1)``.

    The lambda is a plain closure, so the scheduler's ``state_dict`` holds only numbers.
    """
    if d_model < 1 or warmup_steps < 1:
        raise ValueError(f"noam: d_model ({d_model}) and warmup ({warmup_steps}) must be >= 1")

    def factor(k: int) -> float:
        return noam_factor(k + 1, d_model, warmup_steps)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def peak_lr(learning_rate: float, d_model: int, warmup_steps: int) -> float:
    """The Noam peak ``learning_rate / sqrt(d_model * warmup)`` (1.14e-3 for 1.0, 192, 4000)."""
    return learning_rate / math.sqrt(d_model * warmup_steps)
