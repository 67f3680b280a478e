"""SIGKILL a training at a random point, resume: same trajectory as an uninterrupted run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
import tinytts
import torch
from train_cli import train_cmd

from glowtts.train.checkpoint import list_step_checkpoints, load_checkpoint
from glowtts.train.plots import read_loss_log

REPO = Path(__file__).resolve().parents[2]
MAX_STEPS = 12


def _cmd(root: Path, exp: Path) -> list[str]:
    return train_cmd(root / "train.yaml", root, exp)


def _env() -> dict:
    # one thread: identical float reduction order in every process
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }


def _start(root: Path, exp: Path, **kw) -> subprocess.Popen:
    kw.setdefault("stdout", subprocess.DEVNULL)
    kw.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen(_cmd(root, exp), cwd=REPO, env=_env(), **kw)


def _records(exp: Path, split: str) -> list[dict]:
    return [r for r in read_loss_log(exp / "loss.jsonl") if r["split"] == split]


def test_sigkill_then_resume_matches_uninterrupted(tmp_path):
    tinytts.write_dump(tmp_path / "dump/train", 12, seed=1)
    tinytts.write_dump(tmp_path / "dump/dev", 3, seed=2, prefix="dev")
    tinytts.write_token_list(tmp_path / "tokens.txt")
    # dropout on (model defaults), DataLoader worker, gradient accumulation
    train = tinytts.base_train(
        batch_size=2, accum_grad=2, num_workers=1, max_steps=MAX_STEPS, keep_last=2
    )
    tinytts.write_config(tmp_path / "train.yaml", train)

    ref = tmp_path / "ref"
    r = subprocess.run(_cmd(tmp_path, ref), cwd=REPO, env=_env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]

    exp = tmp_path / "exp"
    # steps logged before the kill; a margin of 4 steps (about a second) before the end, so
    # a loaded machine does not finish the run between the poll and the kill
    kill_after = random.randint(3, MAX_STEPS - 4)
    proc = _start(tmp_path, exp)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if len(_records(exp, "train")) >= kill_after:
            time.sleep(random.uniform(0.0, 0.1))
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.returncode != -signal.SIGKILL:
        pytest.fail(
            f"training ended (rc {proc.returncode}) before the kill after step {kill_after}"
        )
    killed_at = len(_records(exp, "train"))
    assert killed_at < MAX_STEPS

    ckpts = list_step_checkpoints(exp / "checkpoints")
    assert ckpts, "no checkpoint before the kill"
    for _, p in ckpts:  # every checkpoint on disk is complete
        load_checkpoint(p)
    resume_step = ckpts[0][0]

    r = subprocess.run(_cmd(tmp_path, exp), cwd=REPO, env=_env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"resumed from {ckpts[0][1]}: step {resume_step}" in (exp / "train.log").read_text()

    want, got = _records(ref, "train"), _records(exp, "train")
    assert [x["step"] for x in got] == list(range(1, MAX_STEPS + 1))
    for a, b in zip(want, got):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-5, abs=1e-6), (a, b, resume_step)
        assert b["lr"] == pytest.approx(a["lr"], rel=1e-9)
    assert [(x["step"], round(x["loss"], 4)) for x in _records(exp, "dev")] == [
        (x["step"], round(x["loss"], 4)) for x in _records(ref, "dev")
    ]
    a = load_checkpoint(ref / f"checkpoints/step_{MAX_STEPS:08d}.pth")["model"]
    b = load_checkpoint(exp / f"checkpoints/step_{MAX_STEPS:08d}.pth")["model"]
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-5)


def test_sigterm_saves_a_checkpoint_and_stops(tmp_path):
    """SIGTERM to the whole process group (what Slurm does at its time limit): the
    step in progress ends, a checkpoint of exactly that step is written, the status is
    128 + 15, and the same command resumes from there to the end."""
    tinytts.write_dump(tmp_path / "dump/train", 12, seed=1)
    tinytts.write_dump(tmp_path / "dump/dev", 3, seed=2, prefix="dev")
    tinytts.write_token_list(tmp_path / "tokens.txt")
    # a checkpoint interval that the stop never falls on by chance; a DataLoader worker
    train = tinytts.base_train(
        batch_size=2, num_workers=1, max_steps=400, save_interval_steps=1000, keep_last=2
    )
    tinytts.write_config(tmp_path / "train.yaml", train)
    exp = tmp_path / "exp"
    proc = _start(tmp_path, exp, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and len(_records(exp, "train")) < 3:
        time.sleep(0.01)
    assert proc.poll() is None, "training ended before the signal"
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-3000:]
    stopped = len(_records(exp, "train"))
    assert 3 <= stopped < 400
    assert [s for s, _ in list_step_checkpoints(exp / "checkpoints")] == [stopped]
    log = (exp / "train.log").read_text()
    assert f"stopped by SIGTERM at step {stopped}" in log
    assert "Traceback" not in err  # the worker ignored the signal; nothing crashed

    cmd = [*_cmd(tmp_path, exp), "--max_steps", str(stopped + 2)]
    r = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert [x["step"] for x in _records(exp, "train")] == list(range(1, stopped + 3))
