"""glowtts-export: TorchScript and ONNX graphs with dynamic lengths match the eager model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from glowtts.bin.export import main as export_main
from glowtts.synthesis.export import export_model
from glowtts.synthesis.loading import load_experiment

# (batch, T_text): lengths other than the trace example's, so fixed shapes would show
CASES = [(1, 4), (3, 23), (2, 57)]


def _inputs(b: int, t: int, n_vocab: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([t - 5 * i for i in range(b)]).clamp(min=1)
    tokens = torch.randint(2, n_vocab, (b, t), generator=g) * (torch.arange(t) < lengths[:, None])
    return tokens, lengths


def _check(eager, got_mel, got_len, got_dur, tokens, lengths):
    ref = eager.inference(tokens, lengths, noise_scale=0.0, length_scale=1.2)
    assert np.array_equal(np.asarray(got_len), ref["mel_lengths"].numpy())
    assert np.array_equal(np.asarray(got_dur), ref["durations"].numpy())
    got_mel = np.asarray(got_mel)
    assert got_mel.shape == tuple(ref["mel"].shape)
    assert np.allclose(got_mel, ref["mel"].numpy(), atol=1e-4), np.abs(
        got_mel - ref["mel"].numpy()
    ).max()


def test_torchscript_export_matches_eager(tiny_exp, tmp_path):
    out = tmp_path / "model.pt"
    export_main(["--exp", str(tiny_exp), "--format", "torchscript", "--out", str(out)])
    meta = json.loads((tmp_path / "model.pt.json").read_text())
    assert meta["inputs"] == ["tokens", "token_lengths", "noise_scale", "length_scale"]
    assert meta["feats"]["hop_length"] == 64 and meta["tokens"][:2] == ["<blank>", "<unk>"]
    eager = load_experiment(tiny_exp).model
    ts = torch.jit.load(str(out))
    for i, (b, t) in enumerate(CASES):
        tokens, lengths = _inputs(b, t, eager.n_vocab, i)
        mel, mel_len, dur = ts(tokens, lengths, torch.tensor(0.0), torch.tensor(1.2))
        _check(eager, mel, mel_len, dur, tokens, lengths)
    # noise is drawn inside: a positive noise_scale changes the mel, lengths stay
    tokens, lengths = _inputs(1, 10, eager.n_vocab, 9)
    a = ts(tokens, lengths, torch.tensor(0.0), torch.tensor(1.0))
    b = ts(tokens, lengths, torch.tensor(0.8), torch.tensor(1.0))
    assert torch.equal(a[1], b[1]) and not torch.allclose(a[0], b[0])


def test_onnx_export_matches_eager(tiny_exp, tmp_path):
    ort = pytest.importorskip(
        "onnxruntime", reason="onnxruntime not installed (tools/requirements-dev.txt)"
    )
    pytest.importorskip("onnx", reason="onnx not installed (tools/requirements-dev.txt)")
    out = tmp_path / "model.onnx"
    export_main(["--exp", str(tiny_exp), "--format", "onnx", "--out", str(out)])
    eager = load_experiment(tiny_exp).model
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == [
        "tokens",
        "token_lengths",
        "noise_scale",
        "length_scale",
    ]
    for i, (b, t) in enumerate(CASES):
        tokens, lengths = _inputs(b, t, eager.n_vocab, i)
        feeds = {
            "tokens": tokens.numpy(),
            "token_lengths": lengths.numpy(),
            "noise_scale": np.array(0.0, np.float32),
            "length_scale": np.array(1.2, np.float32),
        }
        mel, mel_len, dur = sess.run(None, feeds)
        _check(eager, mel, mel_len, dur, tokens, lengths)


def test_multi_speaker_export_takes_spk(tmp_path):
    from conftest import make_exp

    exp = make_exp(tmp_path / "ms", n_speakers=3)
    model = load_experiment(exp).model
    export_model(model, tmp_path / "ms.pt", "torchscript")
    ts = torch.jit.load(str(tmp_path / "ms.pt"))
    tokens, lengths = _inputs(2, 11, model.n_vocab, 0)
    spk = torch.tensor([2, 0])
    mel, mel_len, _ = ts(tokens, lengths, torch.tensor(0.0), torch.tensor(1.0), spk)
    ref = model.inference(tokens, lengths, noise_scale=0.0, spk=spk)
    assert torch.equal(mel_len, ref["mel_lengths"])
    assert torch.allclose(mel, ref["mel"], atol=1e-4)


def test_export_rejects_unknown_format(tiny_exp, tmp_path):
    model = load_experiment(tiny_exp).model
    with pytest.raises(ValueError, match="torchscript, onnx"):
        export_model(model, tmp_path / "m.x", "tflite")
