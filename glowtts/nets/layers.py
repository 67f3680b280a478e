"""Building blocks: channel-wise LayerNorm, conv prenet, relative-position attention,
the convolutional feed-forward net and the WaveNet-like net of the couplings.
All tensors are channel-first, ``(B, C, T)``, with a ``(B, 1, T)`` mask."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import weight_norm

from .dropout import Dropout
from .gate import gated_tanh_sigmoid


class LayerNorm(nn.Module):
    """LayerNorm over the channel axis of ``(B, C, T)`` (official eps 1e-4)."""

    def __init__(self, channels: int, eps: float = 1e-4) -> None:
        super().__init__()
        self.channels, self.eps = channels, eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.transpose(1, 2), (self.channels,), self.gamma, self.beta, self.eps)
        return x.transpose(1, 2)


class ConvReluNorm(nn.Module):
    """Conv prenet: ``n_layers`` x (conv, LayerNorm, ReLU, dropout) with a residual
    projection that starts at zero, so the prenet is the identity at init."""

    def __init__(self, channels: int, kernel_size: int, n_layers: int, p_dropout: float) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
            for _ in range(n_layers)
        )
        self.norms = nn.ModuleList(LayerNorm(channels) for _ in range(n_layers))
        self.drop = Dropout(p_dropout)
        self.proj = nn.Conv1d(channels, channels, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = x
        for conv, norm in zip(self.convs, self.norms):
            h = self.drop(torch.relu(norm(conv(h * mask))))
        return (x + self.proj(h)) * mask


class RelativeMultiHeadAttention(nn.Module):
    """Self-attention with relative-position keys and values (Shaw et al.) inside a
    window of ``window_size`` tokens each side; farther pairs get no relative term.
    The relative embeddings are shared by the heads, as in the official model."""

    def __init__(
        self, channels: int, n_heads: int, window_size: int = 4, p_dropout: float = 0.0
    ) -> None:
        super().__init__()
        assert channels % n_heads == 0, "channels must divide by n_heads"
        self.n_heads, self.window_size = n_heads, window_size
        self.d = channels // n_heads
        self.conv_q = nn.Conv1d(channels, channels, 1)
        self.conv_k = nn.Conv1d(channels, channels, 1)
        self.conv_v = nn.Conv1d(channels, channels, 1)
        self.conv_o = nn.Conv1d(channels, channels, 1)
        for conv in (self.conv_q, self.conv_k, self.conv_v):
            nn.init.xavier_uniform_(conv.weight)
        n_rel = 2 * window_size + 1
        self.emb_rel_k = nn.Parameter(torch.randn(n_rel, self.d) * self.d**-0.5)
        self.emb_rel_v = nn.Parameter(torch.randn(n_rel, self.d) * self.d**-0.5)
        self.drop = Dropout(p_dropout)

    def _rel_index(self, t: int, device: torch.device) -> torch.Tensor:
        """``(T, T)`` bucket of each (query, key) pair: ``j - i + w`` inside the window, ``2w + 1`` outside."""
        pos = torch.arange(t, device=device)
        rel = pos.view(1, -1) - pos.view(-1, 1)
        w = self.window_size
        return torch.where(rel.abs() <= w, rel + w, torch.full_like(rel, 2 * w + 1))

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, C, T)``; ``attn_mask`` ``(B, 1, T, T)`` (1 = may attend)."""
        b, c, t = x.shape
        h, d = self.n_heads, self.d
        q = self.conv_q(x).view(b, h, d, t).transpose(2, 3) / math.sqrt(d)  # (B, H, T, d)
        k = self.conv_k(x).view(b, h, d, t).transpose(2, 3)
        v = self.conv_v(x).view(b, h, d, t).transpose(2, 3)
        idx = self._rel_index(t, x.device).expand(b, h, t, t)
        scores = q @ k.transpose(-1, -2)  # (B, H, T, T)
        rel_k = F.pad(q @ self.emb_rel_k.t(), (0, 1))  # (B, H, T, 2w + 2), last bucket = 0
        scores = scores + torch.gather(rel_k, -1, idx)
        scores = scores.masked_fill(attn_mask == 0, -1e4)
        p = self.drop(torch.softmax(scores, dim=-1))
        out = p @ v
        # relative values: total weight each query puts in each distance bucket
        buckets = torch.zeros(b, h, t, 2 * self.window_size + 2, device=x.device, dtype=p.dtype)
        buckets.scatter_add_(-1, idx, p)
        out = out + buckets[..., :-1] @ self.emb_rel_v.to(p.dtype)
        return self.conv_o(out.transpose(2, 3).reshape(b, c, t))


class FeedForward(nn.Module):
    """Conv feed-forward: conv(k) -> ReLU -> dropout -> conv(k), masked."""

    def __init__(
        self, channels: int, filter_channels: int, kernel_size: int, p_dropout: float
    ) -> None:
        super().__init__()
        self.conv_1 = nn.Conv1d(channels, filter_channels, kernel_size, padding=kernel_size // 2)
        self.conv_2 = nn.Conv1d(filter_channels, channels, kernel_size, padding=kernel_size // 2)
        self.drop = Dropout(p_dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.drop(torch.relu(self.conv_1(x * mask)))
        return self.conv_2(x * mask) * mask


class WN(nn.Module):
    """WaveNet-like stack of the affine couplings: weight-normed dilated convs with
    gated tanh/sigmoid units, residual and skip 1x1 convs, optional global
    conditioning ``g`` ``(B, gin, 1)`` (speaker)."""

    def __init__(
        self,
        hidden: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        gin_channels: int = 0,
        p_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        assert kernel_size % 2 == 1
        self.hidden, self.n_layers = hidden, n_layers
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        for i in range(n_layers):
            dil = dilation_rate**i
            self.in_layers.append(
                weight_norm(
                    nn.Conv1d(
                        hidden,
                        2 * hidden,
                        kernel_size,
                        dilation=dil,
                        padding=dil * (kernel_size - 1) // 2,
                    ),
                    name="weight",
                )
            )
            # the last layer feeds only the skip path
            out = 2 * hidden if i < n_layers - 1 else hidden
            self.res_skip_layers.append(weight_norm(nn.Conv1d(hidden, out, 1), name="weight"))
        self.cond = (
            weight_norm(nn.Conv1d(gin_channels, 2 * hidden * n_layers, 1), name="weight")
            if gin_channels
            else None
        )
        self.drop = Dropout(p_dropout)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None
    ) -> torch.Tensor:
        hd = self.hidden
        skip = torch.zeros_like(x)
        g_all = self.cond(g) if (g is not None and self.cond is not None) else None
        for i, (inl, rs) in enumerate(zip(self.in_layers, self.res_skip_layers)):
            a = self.drop(inl(x))
            if g_all is not None:
                a = a + g_all[:, 2 * hd * i : 2 * hd * (i + 1)]
            acts = gated_tanh_sigmoid(a, hd)  # one kernel each way on CUDA
            r = rs(acts)
            if i < self.n_layers - 1:
                x = (x + r[:, :hd]) * mask
                skip = skip + r[:, hd:]
            else:
                skip = skip + r
        return skip * mask
