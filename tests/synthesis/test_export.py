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


def _noise(b: int, n_mels: int, frames: int = 1) -> torch.Tensor:
    return torch.randn(b, n_mels, frames, generator=torch.Generator().manual_seed(5))


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
    assert meta["inputs"] == ["tokens", "token_lengths", "noise", "noise_scale", "length_scale"]
    assert meta["feats"]["hop_length"] == 64 and meta["tokens"][:2] == ["<blank>", "<unk>"]
    eager = load_experiment(tiny_exp).model
    ts = torch.jit.load(str(out))
    for i, (b, t) in enumerate(CASES):
        tokens, lengths = _inputs(b, t, eager.n_vocab, i)
        noise = _noise(b, eager.n_mels)
        mel, mel_len, dur = ts(tokens, lengths, noise, torch.tensor(0.0), torch.tensor(1.2))
        _check(eager, mel, mel_len, dur, tokens, lengths)
    # noise is an input: a positive noise_scale changes the mel, lengths stay; the same
    # noise gives the same mel (the graph draws nothing itself)
    tokens, lengths = _inputs(1, 10, eager.n_vocab, 9)
    noise = _noise(1, eager.n_mels, 200)
    a = ts(tokens, lengths, noise, torch.tensor(0.0), torch.tensor(1.0))
    b = ts(tokens, lengths, noise, torch.tensor(0.8), torch.tensor(1.0))
    c = ts(tokens, lengths, noise, torch.tensor(0.8), torch.tensor(1.0))
    assert torch.equal(a[1], b[1]) and not torch.allclose(a[0], b[0])
    assert torch.equal(b[0], c[0])


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
        "noise",
        "noise_scale",
        "length_scale",
    ]
    for i, (b, t) in enumerate(CASES):
        tokens, lengths = _inputs(b, t, eager.n_vocab, i)
        feeds = {
            "tokens": tokens.numpy(),
            "token_lengths": lengths.numpy(),
            "noise": _noise(b, eager.n_mels).numpy(),
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
    noise = _noise(2, model.n_mels)
    mel, mel_len, _ = ts(tokens, lengths, noise, torch.tensor(0.0), torch.tensor(1.0), spk)
    ref = model.inference(tokens, lengths, noise_scale=0.0, spk=spk)
    assert torch.equal(mel_len, ref["mel_lengths"])
    assert torch.allclose(mel, ref["mel"], atol=1e-4)


def test_export_rejects_unknown_format(tiny_exp, tmp_path):
    model = load_experiment(tiny_exp).model
    with pytest.raises(ValueError, match="torchscript, onnx"):
        export_model(model, tmp_path / "m.x", "tflite")


def _torch_eps(seeds: list[int], lengths: list[int], n_mels: int) -> np.ndarray:
    """The eps ``GlowTTS.sample_latent`` draws with per-item seeds, zero-padded."""
    eps = np.zeros((len(seeds), n_mels, max(lengths)), np.float32)
    for i, (s, n) in enumerate(zip(seeds, lengths)):
        eps[i, :, :n] = torch.randn(n_mels, n, generator=torch.Generator().manual_seed(s))
    return eps


def test_onnx_matches_torch_on_the_same_noise(tiny_exp, tmp_path):
    """With noise: the ONNX mels equal torch's (seeded ``GlowTTS.inference``) to 1e-4 when
    the graph is fed the eps torch drew, in a batch of different lengths."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    pytest.importorskip("onnx", reason="onnx not installed")
    eager = load_experiment(tiny_exp).model
    out = export_model(eager, tmp_path / "m.onnx", "onnx")
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    tokens, lengths = _inputs(3, 31, eager.n_vocab, 4)
    seeds = [11, 12, 13]
    ref = eager.inference(tokens, lengths, noise_scale=0.8, length_scale=1.1, seeds=seeds)
    mel_lengths = ref["mel_lengths"].tolist()
    assert len(set(mel_lengths)) > 1  # padding is exercised
    feeds = {
        "tokens": tokens.numpy(),
        "token_lengths": lengths.numpy(),
        "noise": _torch_eps(seeds, mel_lengths, eager.n_mels),
        "noise_scale": np.array(0.8, np.float32),
        "length_scale": np.array(1.1, np.float32),
    }
    mel, mel_len, dur = sess.run(None, feeds)
    assert mel_len.tolist() == mel_lengths
    assert np.array_equal(dur, ref["durations"].numpy())
    diff = np.abs(mel - ref["mel"].numpy()).max()
    assert diff < 1e-4, diff
    # noise beyond T_mel is ignored: a longer draw with the same leading frames agrees
    longer = np.concatenate([feeds["noise"], np.ones((3, eager.n_mels, 7), np.float32)], 2)
    longer[0, :, mel_lengths[0] :] = 0.0  # item 0 is shorter: its padding stays zero
    assert np.allclose(sess.run(None, {**feeds, "noise": longer})[0], mel, atol=1e-6)


@pytest.mark.parametrize("add_blank", [False, True])
def test_runtime_seed_reproduces_the_torch_synthesizer(tiny_exp, tmp_path, add_blank):
    """``torch_noise=True``: a seed gives the Synthesizer's mel for the same seed."""
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    pytest.importorskip("onnx", reason="onnx not installed")
    from conftest import make_exp

    from glowtts.synthesis.runtime import OnnxVoice
    from glowtts.synthesis.synthesizer import Synthesizer

    if add_blank:
        tiny_exp = make_exp(tmp_path / "blank", add_blank=True)

    export_main(["--exp", str(tiny_exp), "--format", "onnx", "--out", str(tmp_path / "v")])
    voice = OnnxVoice(tmp_path / "v")
    text = "the quick brown fox"
    synth = Synthesizer.from_exp(tiny_exp, device="cpu")
    ref = synth.synthesize([text], noise_scale=0.7, seed=42, vocode=False)[0].mel
    got = voice.mel(
        voice.frontend.encode(text), noise_scale=0.7, length_scale=1.0, seed=42, torch_noise=True
    )["mel"]
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() < 1e-4


def test_export_appends_hifigan(tiny_exp, hifigan_ckpt, tmp_path):
    """``--vocoder hifigan``: one graph from ids to waveform, equal to mel -> generator."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    pytest.importorskip("onnx", reason="onnx not installed")
    ckpt, _ = hifigan_ckpt
    d = tmp_path / "voice"
    export_main(
        ["--exp", str(tiny_exp), "--format", "onnx", "--out", str(d)]
        + ["--vocoder", "hifigan", "--vocoder_checkpoint", str(ckpt)]
    )
    meta = json.loads((d / "config.json").read_text())
    assert meta["outputs"][-2:] == ["wav", "wav_lengths"] and meta["vocoder"] == "hifigan"
    assert (d / "frontend.yaml").is_file() and not (d / "mel_pinv.npy").exists()
    from glowtts.vocoders.hifigan import load_generator

    gen, _ = load_generator(ckpt)
    eager = load_experiment(tiny_exp).model
    tokens, lengths = _inputs(1, 17, eager.n_vocab, 2)
    sess = ort.InferenceSession(str(d / "model.onnx"), providers=["CPUExecutionProvider"])
    feeds = {
        "tokens": tokens.numpy(),
        "token_lengths": lengths.numpy(),
        "noise": _noise(1, eager.n_mels).numpy(),
        "noise_scale": np.array(0.0, np.float32),
        "length_scale": np.array(1.0, np.float32),
    }
    mel, mel_len, _, wav, wav_len = sess.run(None, feeds)
    assert int(wav_len[0]) == int(mel_len[0]) * 64 == wav.shape[1]
    with torch.no_grad():
        ref = gen(torch.from_numpy(mel).transpose(1, 2))[0, 0].numpy()
    assert np.abs(wav[0] - ref).max() < 1e-4


def test_voice_dir_needs_onnx(tiny_exp, tmp_path):
    with pytest.raises(SystemExit, match="needs --format onnx"):
        export_main(["--exp", str(tiny_exp), "--out", str(tmp_path / "voice")])
