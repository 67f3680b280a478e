"""Tiny synthetic dump dirs, configs and a stand-in model for the trainer tests."""

from __future__ import annotations

import math
from pathlib import Path

import kaldiio
import numpy as np
import torch
import yaml
from torch import nn

N_MELS = 8
N_VOCAB = 12

TINY_MODEL = {
    "n_mels": N_MELS,
    "hidden_channels": 16,
    "filter_channels": 32,
    "filter_channels_dp": 16,
    "n_heads": 2,
    "n_layers_enc": 1,
    "hidden_channels_dec": 16,
    "n_blocks_dec": 2,
    "n_block_layers": 2,
    "kernel_size_dec": 3,
}


def tiny_model(**overrides) -> dict:
    """``TINY_MODEL`` with some keys changed (e.g. ``n_mels``): the one tiny shape tests share."""
    return {**TINY_MODEL, **overrides}


def write_dump(
    d: Path,
    n_utts: int,
    *,
    seed: int = 0,
    token_lengths: list[int] | None = None,
    frames_per_token: int = 4,
    prefix: str = "utt",
    with_num_frames: bool = True,
) -> list[str]:
    """Write ``feats.scp/ark``, ``utt2num_frames``, ``token`` under ``d``; returns utt ids.

    Feats are smooth functions of the token ids (learnable), plus noise.
    """
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    if token_lengths is None:
        token_lengths = rng.integers(3, 9, size=n_utts).tolist()
    proto = rng.normal(size=(N_VOCAB, N_MELS)).astype(np.float32)
    utts = [f"{prefix}{i:04d}" for i in range(n_utts)]
    toks = {}
    with kaldiio.WriteHelper(f"ark,scp:{d / 'feats.ark'},{d / 'feats.scp'}") as w:
        for u, n in zip(utts, token_lengths):
            ids = rng.integers(1, N_VOCAB, size=n)
            reps = np.full(n, frames_per_token)
            frames = np.repeat(proto[ids], reps, axis=0)
            frames += 0.1 * rng.normal(size=frames.shape).astype(np.float32)
            w[u] = frames.astype(np.float32)
            toks[u] = ids
    if with_num_frames:
        with open(d / "utt2num_frames", "w") as f:
            for u, n in zip(utts, token_lengths):
                f.write(f"{u} {n * frames_per_token}\n")
    with open(d / "token", "w") as f:
        for u in utts:
            f.write(u + " " + " ".join(map(str, toks[u])) + "\n")
    return utts


def write_token_list(path: Path, n_vocab: int = N_VOCAB) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"t{i}\n" for i in range(n_vocab)))
    return path


def write_config(path: Path, train: dict, model: dict | None = None, **sections) -> Path:
    conf = {"model": dict(TINY_MODEL if model is None else model), "train": train, **sections}
    path.write_text(yaml.safe_dump(conf))
    return path


def base_train(**over) -> dict:
    """A small, fast ``train:`` section (no workers, no bar)."""
    conf = {
        "seed": 3,
        "batch_size": 4,
        "batch_frames": 0,
        "num_workers": 0,
        "max_steps": 6,
        "warmup_steps": 10,
        "save_interval_steps": 2,
        "keep_last": 3,
        "log_interval_steps": 1,
        "progress_bar": False,
        "tensorboard": False,
    }
    conf.update(over)
    return conf


class StandIn(nn.Module):
    """A very small model with Glow-TTS's training interface (for failure injection)."""

    squeeze = 2

    def __init__(self, n_vocab: int = N_VOCAB, n_mels: int = N_MELS, nan: bool = False) -> None:
        super().__init__()
        self.emb = nn.Embedding(n_vocab, 8)
        self.proj = nn.Linear(8, n_mels)
        self.dp = nn.Linear(8, 1)
        self.drop = nn.Dropout(0.1)
        self.nan = nan
        self.register_buffer("bias", torch.zeros(n_mels))

    def forward(self, tokens, token_lengths, feats, feat_lengths, spk=None):
        t = feats.shape[1] // 2 * 2
        feats, fl = feats[:, :t], torch.div(feat_lengths, 2, rounding_mode="floor") * 2
        h = self.drop(self.emb(tokens))
        mu = self.proj(h) + self.bias  # (B, T_text, n_mels)
        tmask = torch.arange(tokens.shape[1])[None] < token_lengths[:, None]
        fmask = torch.arange(t)[None] < fl[:, None]
        # uniform alignment: frame j -> token floor(j * T_text / T_mel)
        idx = (torch.arange(t)[None] * token_lengths[:, None]) // fl.clamp_min(1)[:, None]
        idx = idx.clamp(max=tokens.shape[1] - 1)
        path = nn.functional.one_hot(idx, tokens.shape[1]).transpose(1, 2).float()
        path = path * tmask[:, :, None] * fmask[:, None, :]
        mu_y = torch.bmm(path.transpose(1, 2), mu)
        n_frames = fmask.sum()
        sq = ((feats - mu_y) ** 2 * fmask[..., None]).sum()
        mle = 0.5 * sq / (n_frames * feats.shape[2]) + 0.5 * math.log(2 * math.pi)
        if self.nan:
            mle = mle * float("nan")
        durations = path.sum(-1)
        logw = self.dp(h.detach()).squeeze(-1)
        dur = (((logw - torch.log(durations + 1e-8)) ** 2) * tmask).sum() / tmask.sum()
        return {
            "loss": mle + dur,
            "mle_loss": mle,
            "dur_loss": dur,
            "path": path,
            "durations": durations.long(),
            "n_frames": n_frames,
        }

    @torch.no_grad()
    def data_dependent_init(self, tokens, token_lengths, feats, feat_lengths, spk=None):
        mask = torch.arange(feats.shape[1])[None] < feat_lengths[:, None]
        self.bias.copy_((feats * mask[..., None]).sum((0, 1)) / mask.sum())

    @torch.no_grad()
    def inference(self, tokens, token_lengths, *, noise_scale=0.667, spk=None, **kw):
        h = self.emb(tokens)
        d = torch.ceil(torch.exp(self.dp(h).squeeze(-1))).long().clamp_min(1)
        mel = torch.repeat_interleave(self.proj(h)[0], d[0], dim=0)[None]
        return {"mel": mel, "mel_lengths": d.sum(1), "durations": d, "path": None}
