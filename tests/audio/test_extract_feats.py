"""glowtts-extract-feats / glowtts-compute-stats / glowtts-synthesize-wav on a tiny data dir."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile as sf

from glowtts.audio import MelConfig, load_wav, logmel
from glowtts.bin import compute_stats, extract_feats, synthesize_wav

UTTS = ["LJ001-0001", "LJ001-0002", "LJ001-0003"]


@pytest.fixture
def datadir(tmp_path: Path, ljspeech_mini: Path) -> Path:
    d = tmp_path / "data" / "train"
    d.mkdir(parents=True)
    wavdir = tmp_path / "wavs"
    wavdir.mkdir()
    lines = []
    for u in UTTS:
        shutil.copy(ljspeech_mini / "wavs" / f"{u}.wav", wavdir / f"{u}.wav")
        lines.append(f"{u} {wavdir / (u + '.wav')}\n")
    (d / "wav.scp").write_text("".join(lines))
    return d


def _run(argv: list[str]) -> int:
    return extract_feats.main([*argv, "--no_progress"])


def _outs(tmp_path: Path) -> list[str]:
    dump = tmp_path / "dump"
    return [
        "--out_ark",
        str(dump / "feats.1.ark"),
        "--out_scp",
        str(dump / "feats.1.scp"),
        "--out_utt2num_frames",
        str(dump / "utt2num_frames.1"),
    ]


def test_extract_writes_kaldi_ark_scp(tmp_path, datadir) -> None:
    conf_yaml = tmp_path / "train.yaml"
    conf_yaml.write_text("feats:\n  fs: 22050\n  n_mels: 80\nmodel:\n  ignored: 1\n")
    rc = _run(["--config", str(conf_yaml), "--wav_scp", str(datadir / "wav.scp"), *_outs(tmp_path)])
    assert rc == 0
    dump = tmp_path / "dump"
    feats = kaldiio.load_scp(str(dump / "feats.1.scp"))
    assert list(feats.keys()) == UTTS
    n_frames = dict(ln.split() for ln in (dump / "utt2num_frames.1").read_text().splitlines())
    conf = MelConfig()
    for u in UTTS:
        wav = load_wav(datadir.parent.parent / "wavs" / f"{u}.wav", conf.fs)
        mat = feats[u]
        assert mat.dtype == np.float32 and mat.shape == (1 + len(wav) // 256, 80)
        np.testing.assert_array_equal(mat, logmel(wav, conf))
        assert int(n_frames[u]) == mat.shape[0]
    assert not list(dump.glob("*.tmp*"))


def _break(datadir: Path, kind: str) -> Path:
    """Make LJ001-0002's audio bad in one way; return the bad file."""
    bad = datadir.parent.parent / "wavs" / "LJ001-0002.wav"
    if kind == "missing":
        bad.unlink()
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind == "corrupt":
        bad.write_bytes(b"RIFF" + bytes(range(256)) * 4)
    elif kind == "rate":
        sf.write(str(bad), np.zeros(16000, np.float32), 16000, subtype="PCM_16")
    return bad


@pytest.mark.parametrize(
    "kind,reason",
    [
        ("missing", "does not exist"),
        ("empty", "is empty (0 bytes)"),
        ("corrupt", "is corrupt or not a supported audio format"),
        ("rate", "16000 Hz"),
    ],
)
def test_bad_input_stops_naming_utt_and_file(tmp_path, datadir, capsys, kind, reason) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "feats.1.scp").write_text("old output\n")  # a previous run's output must survive
    bad = _break(datadir, kind)
    rc = _run(["--wav_scp", str(datadir / "wav.scp"), *_outs(tmp_path)])
    assert rc == 1
    err = capsys.readouterr().err
    assert "LJ001-0002" in err and str(bad) in err and reason in err and "--skip_bad" in err
    assert (dump / "feats.1.scp").read_text() == "old output\n"
    assert not (dump / "feats.1.ark").exists()
    assert not list(dump.glob("*.tmp*"))


@pytest.mark.parametrize("kind", ["missing", "rate"])
def test_skip_bad_skips_and_logs(tmp_path, datadir, caplog, kind) -> None:
    bad = _break(datadir, kind)
    skipped = tmp_path / "dump" / "skipped.1"
    with caplog.at_level(logging.WARNING):
        rc = _run(["--wav_scp", str(datadir / "wav.scp"), "--skip_bad", *_outs(tmp_path)])
    assert rc == 0
    feats = kaldiio.load_scp(str(tmp_path / "dump" / "feats.1.scp"))
    assert list(feats.keys()) == ["LJ001-0001", "LJ001-0003"]
    assert "LJ001-0002" in caplog.text and str(bad) in caplog.text
    lines = skipped.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("LJ001-0002 ")
    n = (tmp_path / "dump" / "utt2num_frames.1").read_text().split()
    assert n[0::2] == ["LJ001-0001", "LJ001-0003"]


def test_empty_split_and_pipe_entries(tmp_path, datadir) -> None:
    empty = tmp_path / "wav.5.scp"
    empty.write_text("")
    assert _run(["--wav_scp", str(empty), *_outs(tmp_path)]) == 0
    assert (tmp_path / "dump" / "feats.1.scp").read_text() == ""
    pipe = tmp_path / "pipe.scp"
    wav = datadir.parent.parent / "wavs" / "LJ001-0003.wav"
    pipe.write_text(f"LJ001-0003 cat {wav} |\n")
    assert _run(["--wav_scp", str(pipe), *_outs(tmp_path)]) == 0
    mat = kaldiio.load_scp(str(tmp_path / "dump" / "feats.1.scp"))["LJ001-0003"]
    np.testing.assert_array_equal(mat, logmel(load_wav(wav, 22050), MelConfig()))


def test_segments(tmp_path, datadir) -> None:
    wav = datadir.parent.parent / "wavs" / "LJ001-0001.wav"
    scp = tmp_path / "reco.scp"
    scp.write_text(f"rec1 {wav}\n")
    seg = tmp_path / "segments"
    seg.write_text("rec1-a rec1 0.0 1.0\nrec1-b rec1 1.0 -1\n")
    assert _run(["--wav_scp", str(scp), "--segments", str(seg), *_outs(tmp_path)]) == 0
    feats = kaldiio.load_scp(str(tmp_path / "dump" / "feats.1.scp"))
    full = load_wav(wav, 22050)
    assert feats["rec1-a"].shape[0] == 1 + 22050 // 256
    assert feats["rec1-b"].shape[0] == 1 + (len(full) - 22050) // 256


def test_compute_stats_and_synthesize(tmp_path, datadir) -> None:
    assert _run(["--wav_scp", str(datadir / "wav.scp"), *_outs(tmp_path)]) == 0
    scp = tmp_path / "dump" / "feats.1.scp"
    out = tmp_path / "dump" / "stats.npy"
    assert compute_stats.main(["--feats_scp", str(scp), "--out", str(out), "--no_progress"]) == 0
    stats = np.load(out)
    allf = np.concatenate(list(kaldiio.load_scp(str(scp)).values())).astype(np.float64)
    assert stats.shape == (2, 80)
    np.testing.assert_allclose(stats, np.stack([allf.mean(0), allf.std(0)]), rtol=1e-6)
    info = json.loads((tmp_path / "dump" / "stats.json").read_text())
    assert info["n_utts"] == 3 and info["n_frames"] == allf.shape[0]

    # Vocode two of them, briefly.
    small = tmp_path / "two.scp"
    small.write_text("".join(scp.read_text().splitlines(keepends=True)[1:]))
    wav_dir = tmp_path / "wav"
    rc = synthesize_wav.main(
        ["--feats_scp", str(small), "--out_dir", str(wav_dir), "--n_iter", "3", "--no_progress"]
    )
    assert rc == 0
    entries = dict(ln.split() for ln in (wav_dir / "wav.scp").read_text().splitlines())
    assert list(entries) == ["LJ001-0002", "LJ001-0003"]
    feats = kaldiio.load_scp(str(small))
    for u, p in entries.items():
        data, fs = sf.read(p)
        assert fs == 22050 and len(data) == (feats[u].shape[0] - 1) * 256


def test_compute_stats_missing_scp(tmp_path, capsys) -> None:
    rc = compute_stats.main(["--feats_scp", str(tmp_path / "nope.scp"), "--out", "x.npy"])
    assert rc == 1 and "nope.scp" in capsys.readouterr().err
