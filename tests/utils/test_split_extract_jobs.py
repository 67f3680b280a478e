"""Stage-1 style: split_scp into more jobs than utterances, run.sh, glowtts-extract-feats."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import kaldiio

REPO = Path(__file__).resolve().parents[2]
UTTS = ["LJ001-0001", "LJ001-0002", "LJ001-0003"]


def test_more_jobs_than_utterances(tmp_path, ljspeech_mini, monkeypatch) -> None:
    d = tmp_path / "data" / "train"
    d.mkdir(parents=True)
    (d / "wav.scp").write_text("".join(f"{u} {ljspeech_mini}/wavs/{u}.wav\n" for u in UTTS))
    env = dict(os.environ, PATH=f"{REPO / 'tools' / 'venv' / 'bin'}:{os.environ['PATH']}")
    nj = 5
    cmd = (
        f"{REPO}/utils/split_scp.sh data/train/wav.scp "
        + " ".join(f"data/train/split{nj}/wav.{j}.scp" for j in range(1, nj + 1))
        + f" && {REPO}/utils/run.sh --max_jobs_run 2 JOB=1:{nj} dump/log/feats.JOB.log "
        "glowtts-extract-feats --wav_scp data/train/split5/wav.JOB.scp "
        "--out_ark dump/train/feats.JOB.ark --out_scp dump/train/feats.JOB.scp "
        "--out_utt2num_frames dump/train/utt2num_frames.JOB"
        f" && cat dump/train/feats.{{1..{nj}}}.scp > dump/train/feats.scp"
        f" && cat dump/train/utt2num_frames.{{1..{nj}}} > dump/train/utt2num_frames"
    )
    r = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "data/train/split5/wav.5.scp").read_text() == ""
    monkeypatch.chdir(tmp_path)  # ark paths in the scp are relative to the recipe dir, as in Kaldi
    feats = kaldiio.load_scp("dump/train/feats.scp")
    assert list(feats) == UTTS
    n = dict(ln.split() for ln in (tmp_path / "dump/train/utt2num_frames").read_text().splitlines())
    assert {u: feats[u].shape for u in UTTS} == {u: (int(n[u]), 80) for u in UTTS}
    assert "# Ended (code 0)" in (tmp_path / "dump/log/feats.5.log").read_text()
