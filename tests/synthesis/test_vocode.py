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


def test_hifigan_without_a_checkpoint_is_a_clear_error(tmp_path, capsys):
    scp, _ = _write_mels(tmp_path, [5])
    rc = vocode.main(
        ["--feats_scp", str(scp), "--out_dir", str(tmp_path / "w"), "--vocoder", "hifigan"]
    )
    assert rc == 1
    assert "checkpoint" in capsys.readouterr().err
