"""Text encoder f_enc and duration predictor f_dur (Glow-TTS Sec. 2.4, Fig. 2)."""

from __future__ import annotations

import math

import torch
from torch import nn

from .dropout import Dropout
from .layers import ConvReluNorm, FeedForward, LayerNorm, RelativeMultiHeadAttention


class DurationPredictor(nn.Module):
    """2 x (conv k, ReLU, LayerNorm, dropout) + 1x1 projection to log-duration ``(B, 1, T_text)``."""

    def __init__(
        self, in_channels: int, filter_channels: int, kernel_size: int, p_dropout: float
    ) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.conv_1 = nn.Conv1d(in_channels, filter_channels, kernel_size, padding=pad)
        self.norm_1 = LayerNorm(filter_channels)
        self.conv_2 = nn.Conv1d(filter_channels, filter_channels, kernel_size, padding=pad)
        self.norm_2 = LayerNorm(filter_channels)
        self.proj = nn.Conv1d(filter_channels, 1, 1)
        self.drop = Dropout(p_dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.norm_1(torch.relu(self.conv_1(x * mask))))
        x = self.drop(self.norm_2(torch.relu(self.conv_2(x * mask))))
        return self.proj(x * mask) * mask


class TextEncoder(nn.Module):
    """Tokens -> prior statistics (mu, log sigma) per token and log-durations.

    Embedding N(0, C^-1/2) scaled by sqrt(C), conv prenet, ``n_layers`` post-LN
    transformer blocks with relative-position self-attention, then 1x1
    projections. The duration predictor reads a stop-gradient copy of the
    encoder output (concatenated with the speaker vector when there is one).
    """

    def __init__(
        self,
        n_vocab: int,
        out_channels: int,
        hidden_channels: int = 192,
        filter_channels: int = 768,
        filter_channels_dp: int = 256,
        n_heads: int = 2,
        n_layers: int = 6,
        kernel_size: int = 3,
        p_dropout: float = 0.1,
        window_size: int = 4,
        prenet: bool = True,
        mean_only: bool = True,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.hidden_channels, self.mean_only = hidden_channels, mean_only
        self.emb = nn.Embedding(n_vocab, hidden_channels)
        nn.init.normal_(self.emb.weight, 0.0, hidden_channels**-0.5)
        self.prenet = ConvReluNorm(hidden_channels, 5, 3, 0.5) if prenet else None
        self.attn = nn.ModuleList(
            RelativeMultiHeadAttention(hidden_channels, n_heads, window_size, p_dropout)
            for _ in range(n_layers)
        )
        self.norm_1 = nn.ModuleList(LayerNorm(hidden_channels) for _ in range(n_layers))
        self.ffn = nn.ModuleList(
            FeedForward(hidden_channels, filter_channels, kernel_size, p_dropout)
            for _ in range(n_layers)
        )
        self.norm_2 = nn.ModuleList(LayerNorm(hidden_channels) for _ in range(n_layers))
        self.drop = Dropout(p_dropout)
        self.proj_m = nn.Conv1d(hidden_channels, out_channels, 1)
        self.proj_s = None if mean_only else nn.Conv1d(hidden_channels, out_channels, 1)
        self.proj_w = DurationPredictor(
            hidden_channels + gin_channels, filter_channels_dp, kernel_size, p_dropout
        )

    def forward(
        self, tokens: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """
        Args:
            tokens: ``(B, T_text)`` ids.
            mask: ``(B, 1, T_text)`` float mask.
            g: ``(B, gin, 1)`` speaker vector or None.

        Returns:
            ``mu`` and ``log_sigma`` ``(B, n_mels, T_text)``; ``log_w`` ``(B, 1, T_text)``.
        """
        x = self.emb(tokens).transpose(1, 2) * math.sqrt(self.hidden_channels) * mask
        if self.prenet is not None:
            x = self.prenet(x, mask)
        attn_mask = mask.unsqueeze(2) * mask.unsqueeze(-1)  # (B, 1, T, T)
        for attn, n1, ffn, n2 in zip(self.attn, self.norm_1, self.ffn, self.norm_2):
            x = x * mask
            x = n1(x + self.drop(attn(x, attn_mask)))
            x = n2(x + self.drop(ffn(x, mask)))
        x = x * mask
        mu = self.proj_m(x) * mask
        log_sigma = torch.zeros_like(mu) if self.proj_s is None else self.proj_s(x) * mask
        x_dp = x.detach()  # the duration loss must not train the encoder
        if g is not None:
            x_dp = torch.cat([x_dp, g.expand(-1, -1, x.shape[-1])], dim=1)
        log_w = self.proj_w(x_dp, mask)
        return mu, log_sigma, log_w
