"""A tiny experiment dir (randomly initialised Glow-TTS, char front-end) for the synthesis tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import tinytts
import torch
import yaml

from glowtts.nets import build_model
from glowtts.synthesis.server import make_server, serve_in_thread
from glowtts.text import build_frontend

N_MELS = 20
# a small mel definition so Griffin-Lim and the vocoders stay fast
FEATS = {
    "fs": 8000,
    "n_fft": 256,
    "win_length": 256,
    "hop_length": 64,
    "n_mels": N_MELS,
    "fmin": 0,
    "fmax": 4000,
}
TINY_MODEL = tinytts.tiny_model(n_mels=N_MELS)
# HiFi-GAN V3-like shape, scaled down: upsampling 8 x 8 = hop 64
HIFIGAN_CONFIG = {
    "resblock": "1",
    "upsample_rates": [8, 8],
    "upsample_kernel_sizes": [16, 16],
    "upsample_initial_channel": 32,
    "resblock_kernel_sizes": [3, 7],
    "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]],
    "num_mels": N_MELS,
    "hop_size": 64,
    "sampling_rate": 8000,
}


def make_exp(d: Path, *, add_blank: bool = False, n_speakers: int = 0, seed: int = 0) -> Path:
    """Write ``config.yaml``, ``frontend.yaml``/``tokens.txt`` and a step-0 checkpoint of a
    random model that went through data-dependent init on a random batch."""
    d.mkdir(parents=True, exist_ok=True)
    fe = build_frontend({"token_type": "char", "add_blank": add_blank})
    fe.save(str(d))
    model_conf = dict(TINY_MODEL)
    if n_speakers > 1:
        model_conf.update(n_speakers=n_speakers, gin_channels=8)
    n_vocab = fe.vocab_size
    torch.manual_seed(seed)
    model = build_model(model_conf, n_vocab)
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([12, 9, 5])
    tokens = torch.randint(2, n_vocab, (3, 12), generator=g) * (torch.arange(12) < lengths[:, None])
    flen = lengths * 4
    feats = torch.randn(3, int(flen.max()), N_MELS, generator=g) - 4.0
    spk = torch.arange(3) % n_speakers if n_speakers > 1 else None
    model.data_dependent_init(tokens, lengths, feats, flen, spk)
    config = {
        "feats": FEATS,
        "text": {"token_type": "char", "add_blank": add_blank},
        "model": model_conf,
        "train": {},
        "decode": {"noise_scale": 0.5, "length_scale": 1.0, "batch_size": 4},
        "n_vocab": n_vocab,
    }
    (d / "config.yaml").write_text(yaml.safe_dump(config))
    (d / "checkpoints").mkdir(exist_ok=True)
    torch.save({"model": model.state_dict(), "step": 0}, d / "checkpoints" / "step_00000000.pth")
    if n_speakers > 1:
        (d / "spk_list.txt").write_text("".join(f"spk{i}\n" for i in range(n_speakers)))
    return d


@pytest.fixture(scope="session")
def tiny_exp(tmp_path_factory) -> Path:
    return make_exp(tmp_path_factory.mktemp("exp") / "tiny")


@pytest.fixture(scope="session")
def hifigan_ckpt(tmp_path_factory) -> tuple[Path, torch.nn.Module]:
    """A random weight-normed generator saved in the public format; returns
    ``(checkpoint path, the original module)``."""
    from glowtts.vocoders.hifigan import HiFiGANGenerator, to_public_state_dict

    d = tmp_path_factory.mktemp("hifigan")
    torch.manual_seed(1)
    gen = HiFiGANGenerator.from_config(HIFIGAN_CONFIG).add_weight_norm()
    with torch.no_grad():  # make g differ from ||v|| so folding is really exercised
        for name, p in gen.named_parameters():
            if name.endswith("original0"):
                p.mul_(torch.rand_like(p) + 0.5)
    gen.eval()
    torch.save({"generator": to_public_state_dict(gen)}, d / "g_00000000")
    (d / "config.json").write_text(json.dumps(HIFIGAN_CONFIG))
    return d / "g_00000000", gen


@contextmanager
def running_server(syn, **options) -> Iterator:
    """A server for ``syn`` on a free loopback port, serving in a thread until the block
    ends; then shut down, its thread joined (and checked to have ended)."""
    srv = make_server(syn, "127.0.0.1", 0, **options)
    thread = serve_in_thread(srv)
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)
    assert not thread.is_alive()


def break_vocoder_call(monkeypatch, syn, n: int) -> None:
    """Make ``syn``'s ``n``-th vocoder call (from 1) return NaN audio, the others real."""
    real, calls = syn._vocode, []

    def vocode(mels):
        calls.append(1)
        wavs = real(mels)
        return [w * np.nan for w in wavs] if len(calls) == n else wavs

    monkeypatch.setattr(syn, "_vocode", vocode)
