"""Small tensor helpers shared by the networks."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


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


class ChannelsLastConv1d(nn.Module):
    """Inference stand-in for an ``nn.Conv1d``: the same convolution, run as its 2-D twin
    (:func:`conv2d_twin`) on channels-last data. Input and output stay ``(B, C, T)``.

    Why: oneDNN's CPU convolutions (AMX and AVX-512 bf16 kernels) compute in
    channels-last layout, and 3-D tensors have none, so every 1-D conv reorders its
    input and output. Here the output keeps the channels-minor strides ``(C * T, 1, C)``;
    elementwise ops preserve them, so the next conv's reorder is a no-op. Under autocast
    the weights are cast once, on the first call, not on every call as autocast does
    (the cache assumes frozen weights: inference only).
    """

    def __init__(self, conv: nn.Conv1d) -> None:
        super().__init__()
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ValueError(f"ChannelsLastConv1d: only numeric zero padding, got {conv}")
        self.conv = conv2d_twin(conv).to(memory_format=torch.channels_last)
        self._cast: dict[torch.dtype, tuple[torch.Tensor, torch.Tensor | None]] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, C_in, T)`` -> ``(B, C_out, T_out)``."""
        w, b = self.conv.weight, self.conv.bias
        kind = x.device.type
        if torch.is_autocast_enabled(kind):
            dt = torch.get_autocast_dtype(kind)
            if dt not in self._cast:
                self._cast[dt] = (w.detach().to(dt), None if b is None else b.detach().to(dt))
            (w, b), x = self._cast[dt], x.to(dt)
        x = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        c = self.conv
        y = F.conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups)
        return y.squeeze(2)


def convs_to_channels_last(module: nn.Module) -> nn.Module:
    """``module`` (in place) with every ``nn.Conv1d`` replaced by a
    :class:`ChannelsLastConv1d` (same function). Weight norm must be folded first."""
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Conv1d):
                if nn.utils.parametrize.is_parametrized(child):
                    raise ValueError(f"{name}: fold its weight norm before (prepare_for_inference)")
                setattr(parent, name, ChannelsLastConv1d(child))
    return module
