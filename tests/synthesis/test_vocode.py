"""Stage 6 (glowtts-vocode, formerly glowtts-synthesize-wav) goes through the vocoder registry."""

from __future__ import annotations

import kaldiio
import numpy as np
import soundfile as sf
import torch

from glowtts.audio import MelConfig, griffin_lim_batch
from glowtts.bin import synthesize_wav, vocode
from glowtts.synthesis.vocode import vocode_scp

CONF = MelConfig()


def _write_mels(tmp_path, lengths):
    rng = np.random.default_rng(0)
    mels = {
        f"u{i}": (rng.standard_normal((t, 80)) - 4).astype(np.float32)
        for i, t in enumerate(lengths)
    }
    scp = tmp_path / "feats.scp"
    with kaldiio.WriteHelper(f"ark,scp:{tmp_path / 'feats.ark'},{scp}") as w:
        for u, m in mels.items():
            w(u, m)
    return scp, mels


def test_griffin_lim_through_the_registry_is_the_algorithm(tmp_path):
    scp, mels = _write_mels(tmp_path, [20, 14])
    n = vocode_scp(
        scp, CONF, tmp_path / "wav", vocoder_options={"n_iter": 4, "seed": 7}, progress=False
    )
    assert n == 2
    # one batch, shortest first (the order vocode_scp batches in)
    order = ["u1", "u0"]
    batch = torch.zeros(2, 20, 80)
    for b, u in enumerate(order):
        batch[b, : len(mels[u])] = torch.from_numpy(mels[u])
    ref = griffin_lim_batch(batch, [14, 20], CONF, n_iter=4, seed=7)
    for u, r in zip(order, ref):
        wav, fs = sf.read(tmp_path / "wav" / f"{u}.wav", dtype="float32")
        assert fs == CONF.fs and len(wav) == len(r)
        peak = max(1.0, float(np.abs(r).max()) / 0.999)
        np.testing.assert_allclose(wav, r / peak, atol=1.0 / 32768 + 1e-6)


def test_cli_and_its_former_name(tmp_path):
    assert synthesize_wav.main is vocode.main
    scp, mels = _write_mels(tmp_path, [9, 12, 7])
    rc = synthesize_wav.main(
        [
            "--feats_scp",
            str(scp),
            "--out_dir",
            str(tmp_path / "w"),
            "--n_iter",
            "2",
            "--no_progress",
        ]
    )
    assert rc == 0
    lines = (tmp_path / "w" / "wav.scp").read_text().splitlines()
    assert [ln.split()[0] for ln in lines] == ["u0", "u1", "u2"]
    for ln in lines:
        u, path = ln.split()
        assert len(sf.read(path)[0]) == (len(mels[u]) - 1) * CONF.hop_length


def test_hifigan_without_a_checkpoint_is_universal_or_says_how_to_install_it(tmp_path, capsys):
    from glowtts.vocoders import hifigan

    scp, _ = _write_mels(tmp_path, [5])
    rc = vocode.main(
        ["--feats_scp", str(scp), "--out_dir", str(tmp_path / "w"), "--vocoder", "hifigan"]
    )
    if hifigan.pretrained_dir() is None:
        assert rc == 1
        assert "'universal' is not installed" in capsys.readouterr().err
    else:
        assert rc == 0
        assert (tmp_path / "w" / "vocoder").read_text().strip() == "hifigan"
        assert len(sf.read(tmp_path / "w" / "u0.wav")[0]) == 5 * CONF.hop_length


def test_griffin_lim_vocoder_batches_by_a_padded_frame_budget(monkeypatch):
    """Long text: the vocoder never pads more than ``batch_frames`` frames into one call
    (bigger STFT tensors page-fault on every iteration), and a list that fits is one call."""
    import glowtts.vocoders.griffin_lim as gl_voc
    from glowtts.vocoders.griffin_lim import MAX_STFT_BYTES, GriffinLimVocoder

    assert GriffinLimVocoder(CONF).batch_frames == MAX_STFT_BYTES // ((CONF.n_fft // 2 + 1) * 8)
    calls = []
    real = gl_voc.griffin_lim_batch

    def spy(batch, lengths, *args, **kwargs):
        calls.append((tuple(batch.shape), list(lengths)))
        return real(batch, lengths, *args, **kwargs)

    monkeypatch.setattr(gl_voc, "griffin_lim_batch", spy)
    rng = np.random.default_rng(0)
    lens = [30, 12, 25, 40, 8, 33]
    mels = [rng.standard_normal((n, 80)).astype(np.float32) - 5 for n in lens]
    wavs = GriffinLimVocoder(CONF, n_iter=2, batch_frames=64)(mels)
    assert [len(w) for w in wavs] == [(n - 1) * CONF.hop_length for n in lens]
    assert all(b * t <= 64 or b == 1 for (b, t, _), _ in calls)
    assert sorted(n for _, ls in calls for n in ls) == sorted(lens)
    for (b, t, _), ls in calls:  # padded to the batch's longest only
        assert t == max(ls) and b == len(ls)
    # each item as if vocoded in its own batch of the same composition
    (shape, ls) = calls[0]
    calls.clear()
    one = GriffinLimVocoder(CONF, n_iter=2, batch_frames=10**6)(mels)
    assert len(calls) == 1 and calls[0][1] == lens  # fits: one call, the caller's order
    assert [len(w) for w in one] == [len(w) for w in wavs]


def test_stage6_never_runs_a_pipe_entry_of_the_feats_scp(tmp_path):
    """A decoded feats.scp is read as numbers only: a `cmd |` entry is refused, not run."""
    import pytest

    from glowtts.data.kaldi import DataDirError

    scp, _ = _write_mels(tmp_path, [20])
    marker = tmp_path / "ran"
    scp.write_text(scp.read_text() + f"evil touch {marker} |\n")
    with pytest.raises(DataDirError, match=r"feats.scp.*line 2.*evil"):
        vocode_scp(scp, CONF, tmp_path / "wav", vocoder="griffin_lim", progress=False)
    assert not marker.exists()
