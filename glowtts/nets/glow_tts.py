"""Glow-TTS (Kim et al., NeurIPS 2020): text encoder prior + flow decoder trained by
exact likelihood under the hard alignment found by Monotonic Alignment Search.

Symbols follow the paper: ``mu``, ``log_sigma`` are the per-token prior
statistics from f_enc, ``z = f_dec(x)`` the latent of mel ``x``, ``A`` the
alignment (``path``), ``log_w`` the predicted log-durations.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..monotonic_align import maximum_path
from .commons import convs_to_channels_last, path_from_durations, sequence_mask
from .encoder import TextEncoder
from .flows import ActNorm, FlowDecoder

LOG_2PI = math.log(2 * math.pi)


def log_likelihood_matrix(
    mu: torch.Tensor, log_sigma: torch.Tensor, z: torch.Tensor
) -> torch.Tensor:
    """``log N(z_j; mu_i, sigma_i)`` summed over channels for every (token i, frame j).

    The quadratic expands into matrix products (paper, App. A):
    ``sum_c [-0.5 log 2pi - log s - 0.5 z^2/s^2 + z mu/s^2 - 0.5 mu^2/s^2]``,
    i.e. one ``(T_text, 2C) @ (2C, T_mel)`` product plus per-token constants.
    Computed in float32 whatever the training dtype: MAS compares sums of
    hundreds of such scores, and bf16 rounding would change its decisions.

    Args:
        mu, log_sigma: ``(B, C, T_text)``.
        z: ``(B, C, T_mel)``.

    Returns:
        ``(B, T_text, T_mel)`` float32.
    """
    mu, log_sigma, z = mu.float(), log_sigma.float(), z.float()
    inv_var = torch.exp(-2 * log_sigma)  # (B, C, T_text)
    const = (-0.5 * LOG_2PI - log_sigma - 0.5 * mu * mu * inv_var).sum(1)  # (B, T_text)
    lhs = torch.cat([inv_var, mu * inv_var], dim=1).transpose(1, 2)  # (B, T_text, 2C)
    rhs = torch.cat([-0.5 * z * z, z], dim=1)  # (B, 2C, T_mel)
    with torch.autocast(device_type=z.device.type, enabled=False):
        return torch.bmm(lhs, rhs) + const.unsqueeze(-1)


class GlowTTS(nn.Module):
    """The text-to-mel model. See :func:`build_model` for the configuration keys."""

    def __init__(
        self,
        n_vocab: int,
        n_mels: int = 80,
        hidden_channels: int = 192,
        filter_channels: int = 768,
        filter_channels_dp: int = 256,
        n_heads: int = 2,
        n_layers_enc: int = 6,
        kernel_size: int = 3,
        p_dropout: float = 0.1,
        window_size: int = 4,
        prenet: bool = True,
        mean_only: bool = True,
        hidden_channels_dec: int = 192,
        kernel_size_dec: int = 5,
        dilation_rate: int = 1,
        n_blocks_dec: int = 12,
        n_block_layers: int = 4,
        p_dropout_dec: float = 0.05,
        n_split: int = 4,
        n_sqz: int = 2,
        sigmoid_scale: bool = False,
        n_speakers: int = 0,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.n_vocab, self.n_mels, self.n_sqz = n_vocab, n_mels, n_sqz
        self.n_speakers = n_speakers
        if n_speakers > 1 and gin_channels <= 0:
            raise ValueError(
                "model: n_speakers > 1 needs gin_channels > 0 (the speaker vector size)"
            )
        g = gin_channels if n_speakers > 1 else 0
        self.encoder = TextEncoder(
            n_vocab, n_mels, hidden_channels, filter_channels, filter_channels_dp, n_heads,
            n_layers_enc, kernel_size, p_dropout, window_size, prenet, mean_only, g,
        )  # fmt: skip
        self.decoder = FlowDecoder(
            n_mels, hidden_channels_dec, kernel_size_dec, dilation_rate, n_blocks_dec,
            n_block_layers, p_dropout_dec, n_split, n_sqz, sigmoid_scale, g,
        )  # fmt: skip
        self.emb_g = None
        if g:
            self.emb_g = nn.Embedding(n_speakers, g)
            nn.init.uniform_(self.emb_g.weight, -0.1, 0.1)

    @property
    def squeeze(self) -> int:
        return self.n_sqz

    # ------------------------------------------------------------------ helpers
    def _speaker(self, spk: torch.Tensor | None) -> torch.Tensor | None:
        """Unit-norm speaker vector ``(B, gin, 1)`` or None for a single-speaker model."""
        if self.emb_g is None:
            return None
        if spk is None:
            raise ValueError("this is a multi-speaker model: pass speaker ids `spk` (B,)")
        return F.normalize(self.emb_g(spk)).unsqueeze(-1)

    def _encode(self, tokens: torch.Tensor, token_lengths: torch.Tensor, g: torch.Tensor | None):
        if tokens.dim() != 2 or token_lengths.shape != tokens.shape[:1]:
            raise ValueError(
                f"tokens must be (B, T_text) with token_lengths (B,); got {tuple(tokens.shape)}"
            )
        if bool((token_lengths < 1).any()):
            n = int((token_lengths < 1).nonzero()[0, 0])
            raise ValueError(f"batch item {n} has an empty token sequence")
        x_mask = sequence_mask(token_lengths, tokens.shape[1]).unsqueeze(1).to(torch.float32)
        mu, log_sigma, log_w = self.encoder(tokens, x_mask.to(self.encoder.emb.weight.dtype), g)
        return mu, log_sigma, log_w, x_mask

    @staticmethod
    def _expand(path: torch.Tensor, stats: torch.Tensor) -> torch.Tensor:
        """Per-token statistics ``(B, C, T_text)`` -> per-frame ``(B, C, T_mel)`` along ``path`` ``(B, T_text, T_mel)``."""
        return torch.bmm(stats, path.to(stats.dtype))

    # ----------------------------------------------------------------- training
    def forward(
        self,
        tokens: torch.Tensor,
        token_lengths: torch.Tensor,
        feats: torch.Tensor,
        feat_lengths: torch.Tensor,
        spk: torch.Tensor | None = None,
    ) -> dict[str, Any]:
        """Maximum-likelihood training step.

        Args:
            tokens: ``(B, T_text)`` token ids; token_lengths ``(B,)``.
            feats: ``(B, T_mel, n_mels)`` log-mel; feat_lengths ``(B,)``. Frames past
                the last multiple of the squeeze factor are dropped.
            spk: ``(B,)`` speaker ids for a multi-speaker model.

        Returns:
            dict with ``loss`` (= ``mle_loss + dur_loss``), ``mle_loss`` (negative
            log-likelihood per frame and channel, with the 0.5 log 2pi constant),
            ``dur_loss`` (MSE of log-durations), ``path`` ``(B, T_text, T_mel)``,
            ``durations`` ``(B, T_text)`` from MAS, ``log_w`` ``(B, T_text)``
            predicted, ``logdet`` ``(B,)``, ``n_frames`` (valid frames after trimming).
        """
        if feats.dim() != 3 or feats.shape[-1] != self.n_mels:
            raise ValueError(f"feats must be (B, T_mel, {self.n_mels}); got {tuple(feats.shape)}")
        if not bool(torch.isfinite(feats).all()):
            n = int((~torch.isfinite(feats)).flatten(1).any(1).nonzero()[0, 0])
            raise ValueError(f"batch item {n} has NaN or Inf in its features")
        g = self._speaker(spk)
        mu, log_sigma, log_w, x_mask = self._encode(tokens, token_lengths, g)
        feat_lengths = torch.div(feat_lengths, self.n_sqz, rounding_mode="floor") * self.n_sqz
        t_max = feats.shape[1] // self.n_sqz * self.n_sqz
        x = feats[:, :t_max].transpose(1, 2)  # (B, n_mels, T_mel)
        y_mask = sequence_mask(feat_lengths, t_max).unsqueeze(1).to(torch.float32)
        z, logdet = self.decoder(x, y_mask.to(x.dtype), g)

        attn_mask = x_mask.transpose(1, 2) * y_mask  # (B, T_text, T_mel)
        with torch.no_grad():
            log_p = log_likelihood_matrix(mu, log_sigma, z)
            path = maximum_path(log_p, attn_mask).detach()  # float32 (B, T_text, T_mel)

        z_mu = self._expand(path, mu.float())  # (B, n_mels, T_mel)
        z_log_sigma = self._expand(path, log_sigma.float())
        zf = z.float()
        n_elems = y_mask.sum() * self.n_mels
        nll = (
            (z_log_sigma * y_mask).sum()
            + 0.5 * (torch.exp(-2 * z_log_sigma) * (zf - z_mu) ** 2 * y_mask).sum()
            - logdet.sum()
        )
        mle_loss = nll / n_elems + 0.5 * LOG_2PI

        durations = path.sum(-1)  # (B, T_text)
        log_w_target = torch.log(durations + 1e-8) * x_mask.squeeze(1)
        log_w = log_w.float().squeeze(1)
        dur_loss = ((log_w - log_w_target) ** 2 * x_mask.squeeze(1)).sum() / x_mask.sum()
        return {
            "loss": mle_loss + dur_loss,
            "mle_loss": mle_loss,
            "dur_loss": dur_loss,
            "path": path,
            "durations": durations.long(),
            "log_w": log_w,
            "logdet": logdet,
            "n_frames": y_mask.sum(),
        }

    @torch.no_grad()
    def data_dependent_init(
        self,
        tokens: torch.Tensor,
        token_lengths: torch.Tensor,
        feats: torch.Tensor,
        feat_lengths: torch.Tensor,
        spk: torch.Tensor | None = None,
    ) -> None:
        """Initialise every ActNorm not yet initialised from one batch (the official
        recipe's explicit step before training; skipping it leaves the flow badly
        scaled). Layers loaded from a trained model (fine-tuning, an imported
        checkpoint) say they are initialised and keep their weights."""
        fresh = [m for m in self.modules() if isinstance(m, ActNorm) and not bool(m.initialized)]
        if not fresh:
            return
        for m in fresh:
            m.data_dependent_init()
        was_training = self.training
        self.eval()
        try:
            self.forward(tokens, token_lengths, feats, feat_lengths, spk)
        finally:
            self.train(was_training)

    @property
    def actnorm_initialized(self) -> bool:
        return all(bool(m.initialized) for m in self.modules() if isinstance(m, ActNorm))

    # ---------------------------------------------------------------- inference
    @torch.no_grad()
    def inference(
        self,
        tokens: torch.Tensor,
        token_lengths: torch.Tensor,
        *,
        noise_scale: float = 0.667,
        length_scale: float = 1.0,
        durations: torch.Tensor | None = None,
        spk: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        seeds: list[int] | None = None,
    ) -> dict[str, torch.Tensor]:
        """Parallel synthesis.

        Durations are ``ceil(exp(log_w) * length_scale)`` (at least 0), or the
        given ``durations`` ``(B, T_text)`` (teacher forcing; ``length_scale``
        is then not applied). The frame total is rounded up to a multiple of the
        squeeze factor by giving the extra frame(s) to the last token, so the
        returned durations always sum to ``mel_lengths`` (the official code
        truncates instead). The noise comes from ``generator``, or with ``seeds``
        (one per item) from a CPU generator per item, so an utterance gets the
        same noise whatever batch it is decoded in.

        Returns:
            dict with ``mel`` ``(B, T_mel, n_mels)``, ``mel_lengths`` ``(B,)``,
            ``durations`` ``(B, T_text)`` long, ``path`` ``(B, T_text, T_mel)``.
        """
        g = self._speaker(spk)
        mu, log_sigma, log_w, x_mask = self._encode(tokens, token_lengths, g)
        dur = self.frame_durations(log_w, x_mask, token_lengths, length_scale, durations)
        y_lengths = dur.sum(1)
        t_max = int(y_lengths.max())
        y_mask = sequence_mask(y_lengths, t_max).unsqueeze(1).to(torch.float32)
        path = path_from_durations(dur, x_mask.transpose(1, 2) * y_mask)
        z = self.sample_latent(
            self._expand(path, mu.float()),
            self._expand(path, log_sigma.float()),
            y_mask,
            noise_scale,
            generator=generator,
            seeds=seeds,
        )
        dtype = next(self.decoder.parameters()).dtype
        y, _ = self.decoder(z.to(dtype), y_mask.to(dtype), g, reverse=True)
        return {
            "mel": y.float().transpose(1, 2),
            "mel_lengths": y_lengths,
            "durations": dur,
            "path": path,
        }

    def frame_durations(
        self,
        log_w: torch.Tensor,
        x_mask: torch.Tensor,
        token_lengths: torch.Tensor,
        length_scale: float = 1.0,
        durations: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Integer frames per token ``(B, T_text)`` for inference.

        ``ceil(exp(log_w) * length_scale)`` from ``log_w`` ``(B, 1, T_text)``, or the
        given ``durations`` (teacher forcing); then the total is rounded up to a
        multiple of the squeeze factor on the last token (see :meth:`inference`).
        """
        xm = x_mask.squeeze(1)
        if durations is None:
            dur = torch.ceil(torch.exp(log_w.float().squeeze(1)) * xm * length_scale).long()
        else:
            if durations.shape != xm.shape:
                raise ValueError(
                    f"durations must be (B, T_text) = {tuple(xm.shape)}; got {tuple(durations.shape)}"
                )
            dur = durations.long() * xm.long()
        total = dur.sum(1).clamp_min(1)
        target = (total + self.n_sqz - 1) // self.n_sqz * self.n_sqz
        last = (token_lengths - 1).unsqueeze(1)
        return dur.scatter_add(1, last, (target - dur.sum(1)).unsqueeze(1))

    @staticmethod
    def sample_latent(
        z_mu: torch.Tensor,
        z_log_sigma: torch.Tensor,
        y_mask: torch.Tensor,
        noise_scale: float,
        *,
        generator: torch.Generator | None = None,
        seeds: list[int] | None = None,
    ) -> torch.Tensor:
        """``z = mu + sigma * eps * noise_scale`` on valid frames; all ``(B, n_mels, T_mel)``.

        With ``seeds`` each item draws its noise from its own CPU generator over its
        own length, so it is independent of the batch it is in.
        """
        if seeds is not None:
            lengths = y_mask.sum((1, 2)).long().tolist()
            eps = torch.zeros_like(z_mu)
            for i, seed in enumerate(seeds):
                gen = torch.Generator().manual_seed(int(seed))
                eps[i, :, : lengths[i]] = torch.randn(z_mu.shape[1], lengths[i], generator=gen).to(
                    eps
                )
        else:
            eps = torch.randn(z_mu.shape, generator=generator, device=z_mu.device, dtype=z_mu.dtype)
        return (z_mu + torch.exp(z_log_sigma) * eps * noise_scale) * y_mask

    def prepare_for_inference(self) -> GlowTTS:
        """Fold weight norm and cache inverse 1x1 convs; returns self in eval mode."""
        self.eval()
        self.decoder.prepare_for_inference()
        return self

    def use_channels_last_convs(self) -> GlowTTS:
        """Run every conv as a channels-last 2-D conv (:class:`ChannelsLastConv1d`), the
        fast layout of CPU bf16 kernels; same function. Inference only, after
        :meth:`prepare_for_inference`; in place, returns self."""
        convs_to_channels_last(self)
        return self


# the ``model:`` keys and defaults: GlowTTS.__init__'s signature is their one source
MODEL_DEFAULTS: dict[str, Any] = {
    name: p.default
    for name, p in inspect.signature(GlowTTS.__init__).parameters.items()
    if p.default is not inspect.Parameter.empty
}


def build_model(config: dict[str, Any], n_vocab: int) -> GlowTTS:
    """Build :class:`GlowTTS` from the ``model`` section of a YAML.

    Missing keys take the official LJSpeech values; unknown keys raise
    ``ValueError`` naming them and the valid ones.
    """
    config = dict(config or {})
    unknown = sorted(set(config) - set(MODEL_DEFAULTS))
    if unknown:
        raise ValueError(f"model: unknown key(s) {unknown}; valid keys: {sorted(MODEL_DEFAULTS)}")
    if n_vocab < 1:
        raise ValueError(f"n_vocab must be positive, got {n_vocab}")
    return GlowTTS(n_vocab=n_vocab, **config)  # the signature fills the rest
