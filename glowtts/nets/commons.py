"""Small tensor helpers shared by the networks."""

from __future__ import annotations

import torch
from torch import nn


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


def conv2d_twin(m: nn.Conv1d | nn.ConvTranspose1d) -> nn.Conv2d | nn.ConvTranspose2d:
    """The same convolution over ``(B, C, 1, T)``: kernel ``(1, k)``, the same weights."""
    k, pad = m.kernel_size[0], (0, m.padding[0])
    if isinstance(m, nn.ConvTranspose1d):
        out = nn.ConvTranspose2d(m.in_channels, m.out_channels, (1, k), (1, m.stride[0]), pad)
    else:
        out = nn.Conv2d(
            m.in_channels,
            m.out_channels,
            (1, k),
            stride=(1, m.stride[0]),
            padding=pad,
            dilation=(1, m.dilation[0]),
            groups=m.groups,
            bias=m.bias is not None,
        )
    out.weight = nn.Parameter(m.weight.detach().unsqueeze(2), requires_grad=False)
    out.bias = m.bias
    return out.to(m.weight.device, m.weight.dtype)
