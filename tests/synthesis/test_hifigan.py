"""The hifigan vocoder: public checkpoint format, weight-norm folding, output length."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import FEATS, HIFIGAN_CONFIG, N_MELS

from glowtts.registry import VOCODERS, build_vocoder
from glowtts.synthesis.synthesizer import Synthesizer
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
    voc = build_vocoder("hifigan", FEATS, checkpoint=str(path))
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
    with pytest.raises(ValueError, match="needs a generator checkpoint"):
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
