"""The name -> class tables of the pluggable slots."""

import numpy as np
import pytest

from glowtts.registry import TOKEN_TYPES, VOCODERS, build_vocoder


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(
        ValueError,
        match="valid choices: char, phn, bpe, official|valid choices: bpe, char, official, phn",
    ):
        TOKEN_TYPES.get("words")
    with pytest.raises(ValueError, match="griffin_lim"):
        VOCODERS.get("wavenet")


def test_every_entry_resolves():
    for reg in (TOKEN_TYPES, VOCODERS):
        for name in reg.names():
            assert callable(reg.get(name))


def test_griffin_lim_vocoder_batches_mels_of_different_lengths():
    voc = build_vocoder("griffin_lim", {"n_mels": 80}, n_iter=4)
    rng = np.random.default_rng(0)
    mels = [rng.normal(-4, 1, (t, 80)).astype(np.float32) for t in (20, 7)]
    wavs = voc(mels)
    hop = voc.conf.hop_length
    assert [len(w) for w in wavs] == [(20 - 1) * hop, (7 - 1) * hop]
    assert all(np.isfinite(w).all() for w in wavs)
