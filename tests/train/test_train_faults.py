"""Faults found by probing the trainer (issue 20): nothing hangs, a failed or refused
resume leaves the experiment as it was, and the loss log always matches the checkpoint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import tinytts

REPO = Path(__file__).resolve().parents[2]


def _corpus(root: Path, n_train: int = 12) -> None:
    tinytts.write_dump(root / "dump/train", n_train, seed=1)
    tinytts.write_dump(root / "dump/dev", 3, seed=2, prefix="dev")
    tinytts.write_token_list(root / "tokens.txt")


def _cmd(root: Path, exp: Path, *extra: str, config: str = "train.yaml") -> list[str]:
    return [
        sys.executable, "-m", "glowtts.bin.train",
        "--config", str(root / config),
        "--train_dir", str(root / "dump/train"),
        "--dev_dir", str(root / "dump/dev"),
        "--token_list", str(root / "tokens.txt"),
        "--exp_dir", str(exp),
        "--device", "cpu",
        *extra,
    ]  # fmt: skip


def _run(cmd: list[str], timeout: float = 180) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    try:
        return subprocess.run(
            cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        pytest.fail(f"glowtts-train did not exit within {timeout} s (hang); stderr:\n{err[-3000:]}")


def _poison(dump: Path, utt: str) -> None:
    """Rewrite ``dump/feats.ark`` with one NaN in ``utt``'s features."""
    feats = {k: np.array(v) for k, v in kaldiio.load_scp(str(dump / "feats.scp")).items()}
    feats[utt][2, 3] = np.nan
    with kaldiio.WriteHelper(f"ark,scp:{dump / 'feats.ark'},{dump / 'feats.scp'}") as w:
        for k, v in feats.items():
            w[k] = v


@pytest.mark.parametrize("num_workers", [1, 2])
def test_error_in_a_dataloader_worker_exits_nonzero(tmp_path, num_workers):
    """NaN features in an utterance outside the first batch: the worker's error is
    reported and the process exits with status 1 instead of waiting for its workers."""
    _corpus(tmp_path)
    _poison(tmp_path / "dump/train", "utt0011")  # the last batch (no shuffle)
    train = tinytts.base_train(batch_size=2, num_workers=num_workers, shuffle=False, max_steps=20)
    tinytts.write_config(tmp_path / "train.yaml", train)
    r = _run(_cmd(tmp_path, tmp_path / "exp"))
    assert r.returncode == 1, r.stderr[-3000:]
    assert "utt0011 has NaN or Inf features" in r.stderr
