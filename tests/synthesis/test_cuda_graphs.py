"""GraphedInference: padded-bucket inference equals GlowTTS.inference (eager here; CUDA
graphs themselves are checked on a GPU when one is present)."""

from __future__ import annotations

import pytest
import torch
from conftest import make_exp

from glowtts.synthesis.cuda_graphs import GraphedInference
from glowtts.synthesis.loading import load_experiment


def _batch(n_vocab, lengths, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    t = int(lengths.max())
    return torch.randint(2, n_vocab, (len(lengths), t), generator=g) * (
        torch.arange(t) < lengths[:, None]
    ), lengths


def _compare(fast, model, tokens, lengths, **kw):
    want = model.inference(tokens, lengths, **kw)
    got = fast(tokens, lengths, **kw)
    assert torch.equal(got["mel_lengths"], want["mel_lengths"])
    assert torch.equal(got["durations"], want["durations"])
    assert torch.equal(got["path"], want["path"])
    assert got["mel"].shape == want["mel"].shape
    err = (got["mel"] - want["mel"]).abs().max().item()
    assert err < 1e-4, err


@pytest.mark.parametrize("lengths", [[5], [23, 9, 1], [40, 40]])
def test_padded_buckets_equal_eager_inference(tiny_exp, lengths):
    model = load_experiment(tiny_exp).model
    fast = GraphedInference(model, text_bucket=16, frame_bucket=32, use_graphs=False)
    tokens, lens = _batch(model.n_vocab, lengths)
    _compare(fast, model, tokens, lens, noise_scale=0.0, length_scale=1.3)
    _compare(fast, model, tokens, lens, noise_scale=0.7, seeds=list(range(len(lengths))))
    dur = torch.randint(0, 4, tokens.shape) * (tokens > 0)
    _compare(fast, model, tokens, lens, noise_scale=0.0, durations=dur)


def test_multi_speaker(tmp_path):
    model = load_experiment(make_exp(tmp_path / "ms", n_speakers=3)).model
    fast = GraphedInference(model, use_graphs=False)
    tokens, lens = _batch(model.n_vocab, [12, 7])
    _compare(fast, model, tokens, lens, noise_scale=0.0, spk=torch.tensor([2, 1]))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_graphs_equal_eager_on_gpu(tiny_exp, monkeypatch):
    # TF32 rounding depends on the conv algorithm, which depends on the (padded) shape
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    model = load_experiment(tiny_exp, device="cuda").model
    fast = GraphedInference(model)
    assert fast.use_graphs
    for lengths in ([5], [23, 9, 1], [7], [30, 2]):
        tokens, lens = _batch(model.n_vocab, lengths)
        for _ in range(2):  # capture, then replay
            _compare(fast, model, tokens.cuda(), lens.cuda(), noise_scale=0.0, length_scale=1.1)
