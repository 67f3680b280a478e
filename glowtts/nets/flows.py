"""The flow decoder f_dec (Glow-TTS Sec. 2.4): squeeze, then ``n_blocks`` x
(ActNorm -> invertible 1x1 conv over channel groups -> affine coupling), unsqueeze.

Every flow maps ``(x, mask)`` to ``(z, logdet)`` with ``logdet`` ``(B,)`` the log
|det| of its Jacobian over the valid frames, and has ``reverse=True`` for the
inverse (``logdet`` then None).
"""

from __future__ import annotations

import torch
from torch import nn

from .commons import squeeze, unsqueeze
from .layers import WN


def _acc(x: torch.Tensor) -> torch.dtype:
    """Dtype for reductions: float32 for half types, else the input's own."""
    return torch.promote_types(x.dtype, torch.float32)


class ActNorm(nn.Module):
    """Per-channel affine ``z = b + exp(s) * x`` with data-dependent initialisation:
    after :meth:`data_dependent_init` the next forward pass sets ``b``, ``s`` so
    that its output has zero mean and unit variance per channel over valid frames."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.logs = nn.Parameter(torch.zeros(1, channels, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1))
        self.register_buffer("initialized", torch.tensor(False))
        self._ddi = False

    def data_dependent_init(self) -> None:
        self._ddi = True

    @torch.no_grad()
    def _initialize(self, x: torch.Tensor, mask: torch.Tensor) -> None:
        denom = mask.sum((0, 2)).clamp_min(1.0)
        m = (x * mask).sum((0, 2)) / denom
        v = (x * x * mask).sum((0, 2)) / denom - m * m
        logs = 0.5 * torch.log(v.clamp_min(1e-6))
        self.logs.data.copy_((-logs).view_as(self.logs))
        self.bias.data.copy_((-m * torch.exp(-logs)).view_as(self.bias))
        self.initialized.fill_(True)
        self._ddi = False

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g=None, reverse: bool = False):
        if reverse:
            return (x - self.bias) * torch.exp(-self.logs) * mask, None
        if self._ddi:
            self._initialize(x.float(), mask.float())
        z = (self.bias + torch.exp(self.logs) * x) * mask
        dt = _acc(x)
        logdet = self.logs.to(dt).sum() * mask.to(dt).sum((1, 2))
        return z, logdet


class InvConvNear(nn.Module):
    """Invertible 1x1 convolution over groups of ``n_split`` channels (Glow-TTS: 4).

    The ``C`` channels are viewed as ``(2, C / n_split, n_split / 2)``: each group
    ``k`` takes ``n_split / 2`` channels from each half of the coupling split, and
    one shared ``n_split x n_split`` matrix mixes every group. This keeps the
    cost of the 1x1 conv small while still mixing the two coupling halves.
    """

    def __init__(self, channels: int, n_split: int = 4) -> None:
        super().__init__()
        assert channels % n_split == 0 and n_split % 2 == 0
        self.channels, self.n_split = channels, n_split
        w = torch.linalg.qr(torch.randn(n_split, n_split))[0]
        if torch.det(w) < 0:
            w[:, 0] = -w[:, 0]
        self.weight = nn.Parameter(w)
        # cached inverse for inference: a buffer, so .to(device) moves it; not saved
        self.register_buffer("_w_inv", None, persistent=False)

    def _to_groups(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t = x.shape
        s = self.n_split
        return x.view(b, 2, c // s, s // 2, t).permute(0, 1, 3, 2, 4).reshape(b, s, c // s, t)

    def _from_groups(self, x: torch.Tensor) -> torch.Tensor:
        b, s, g, t = x.shape
        return x.view(b, 2, s // 2, g, t).permute(0, 1, 3, 2, 4).reshape(b, s * g, t)

    def cache_inverse(self) -> None:
        """Store W^-1 once (inference only; call again after changing the weights)."""
        self._w_inv = torch.linalg.inv(self.weight.detach().float()).to(self.weight.dtype)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g=None, reverse: bool = False):
        if reverse:
            w = (
                self._w_inv
                if self._w_inv is not None
                else torch.linalg.inv(self.weight.to(_acc(x)))
            )
        else:
            w = self.weight
        z = torch.einsum("ij,bjgt->bigt", w.to(x.dtype), self._to_groups(x))
        z = self._from_groups(z) * mask
        if reverse:
            return z, None
        dt = _acc(x)
        n_groups = self.channels // self.n_split
        logdet = torch.linalg.slogdet(self.weight.to(dt))[1] * n_groups * mask.to(dt).sum((1, 2))
        return z, logdet


class AffineCoupling(nn.Module):
    """``x = (x_a, x_b)``; ``(m, log s) = NN(x_a)``; ``z_b = m + exp(log s) * x_b``.

    NN is a weight-normed 1x1 conv, the WaveNet-like :class:`WN`, and a 1x1
    conv that starts at zero so each coupling starts as the identity.
    """

    def __init__(
        self,
        channels: int,
        hidden: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        gin_channels: int = 0,
        p_dropout: float = 0.0,
        sigmoid_scale: bool = False,
    ) -> None:
        super().__init__()
        self.half = channels // 2
        self.sigmoid_scale = sigmoid_scale
        self.start = nn.utils.parametrizations.weight_norm(
            nn.Conv1d(self.half, hidden, 1), name="weight"
        )
        self.wn = WN(hidden, kernel_size, dilation_rate, n_layers, gin_channels, p_dropout)
        self.end = nn.Conv1d(hidden, 2 * self.half, 1)
        nn.init.zeros_(self.end.weight)
        nn.init.zeros_(self.end.bias)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor,
        g: torch.Tensor | None = None,
        reverse: bool = False,
    ):
        x_a, x_b = x[:, : self.half], x[:, self.half :]
        h = self.wn(self.start(x_a) * mask, mask, g)
        out = self.end(h)
        m, logs = out[:, : self.half], out[:, self.half :]
        if self.sigmoid_scale:
            logs = torch.log(1e-6 + torch.sigmoid(logs + 2))
        if reverse:
            z_b = (x_b - m) * torch.exp(-logs) * mask
            return torch.cat([x_a, z_b], 1), None
        z_b = (m + torch.exp(logs) * x_b) * mask
        dt = _acc(x)
        logdet = (logs.to(dt) * mask.to(dt)).sum((1, 2))
        return torch.cat([x_a, z_b], 1), logdet


class FlowDecoder(nn.Module):
    """Mel ``(B, n_mels, T)`` <-> latent ``z`` of the same shape (T a multiple of ``n_sqz``)."""

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int = 192,
        kernel_size: int = 5,
        dilation_rate: int = 1,
        n_blocks: int = 12,
        n_layers: int = 4,
        p_dropout: float = 0.05,
        n_split: int = 4,
        n_sqz: int = 2,
        sigmoid_scale: bool = False,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.n_sqz = n_sqz
        c = in_channels * n_sqz
        self.flows = nn.ModuleList()
        for _ in range(n_blocks):
            self.flows.append(ActNorm(c))
            self.flows.append(InvConvNear(c, n_split))
            self.flows.append(
                AffineCoupling(
                    c,
                    hidden_channels,
                    kernel_size,
                    dilation_rate,
                    n_layers,
                    gin_channels,
                    p_dropout,
                    sigmoid_scale,
                )
            )

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor,
        g: torch.Tensor | None = None,
        reverse: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x`` ``(B, C, T)``, ``mask`` ``(B, 1, T)``. Returns ``(z, logdet (B,) or None)``."""
        x, m = squeeze(x, mask, self.n_sqz)
        logdet = None if reverse else torch.zeros(x.shape[0], device=x.device, dtype=_acc(x))
        for flow in reversed(self.flows) if reverse else self.flows:
            x, ld = flow(x, m, g=g, reverse=reverse)
            if ld is not None:
                logdet = logdet + ld
        x, _ = unsqueeze(x, m, self.n_sqz)
        return x, logdet

    def prepare_for_inference(self) -> None:
        """Remove weight norm and cache the inverse 1x1 convs (call once after loading)."""
        for mod in self.modules():
            if isinstance(mod, InvConvNear):
                mod.cache_inverse()
            if nn.utils.parametrize.is_parametrized(mod, "weight"):
                nn.utils.parametrize.remove_parametrizations(mod, "weight", leave_parametrized=True)
