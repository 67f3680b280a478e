"""Small tensor helpers shared by the networks."""

from __future__ import annotations

import torch


def sequence_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """Boolean mask ``(B, T)``: True where ``t < lengths[b]``."""
    if max_len is None:
        max_len = int(lengths.max())
    return torch.arange(max_len, device=lengths.device) < lengths.unsqueeze(1)


def squeeze(
    x: torch.Tensor, mask: torch.Tensor, n_sqz: int = 2
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fold time into channels: ``x`` ``(B, C, T)`` -> ``(B, C * n_sqz, T // n_sqz)``.

    Channel ``s * C + c`` of the result holds frame ``n_sqz * t + s`` of channel ``c``.
    ``mask`` ``(B, 1, T)`` becomes ``(B, 1, T // n_sqz)`` (a squeezed frame is valid
    when its last sub-frame is). ``T`` must be a multiple of ``n_sqz``.
    """
    b, c, t = x.shape
    t = (t // n_sqz) * n_sqz
    x = x[:, :, :t].reshape(b, c, t // n_sqz, n_sqz).permute(0, 3, 1, 2).reshape(b, c * n_sqz, -1)
    mask = mask[:, :, n_sqz - 1 : t : n_sqz]
    return x * mask, mask


def unsqueeze(
    x: torch.Tensor, mask: torch.Tensor, n_sqz: int = 2
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of :func:`squeeze`: ``(B, C * n_sqz, T)`` -> ``(B, C, T * n_sqz)``."""
    b, cs, t = x.shape
    x = x.reshape(b, n_sqz, cs // n_sqz, t).permute(0, 2, 3, 1).reshape(b, cs // n_sqz, t * n_sqz)
    mask = mask.unsqueeze(-1).expand(-1, -1, -1, n_sqz).reshape(b, 1, t * n_sqz)
    return x * mask, mask


def path_from_durations(durations: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Hard monotonic alignment from integer durations.

    Args:
        durations: ``(B, T_text)`` non-negative frame counts.
        mask: ``(B, T_text, T_mel)`` valid cells.

    Returns:
        ``(B, T_text, T_mel)`` 0/1 path where token ``i`` owns frames
        ``[cum[i-1], cum[i])``.
    """
    t_mel = mask.shape[-1]
    cum = torch.cumsum(durations, dim=1)  # (B, T_text)
    frames = torch.arange(t_mel, device=durations.device)
    end = frames.view(1, 1, -1) < cum.unsqueeze(-1)
    start = frames.view(1, 1, -1) < (cum - durations).unsqueeze(-1)
    return (end & ~start).to(mask.dtype) * mask
