"""Two gloo processes on CPU == one process seeing both shards in one batch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import tinytts
import torch
from train_cli import train_argv

from glowtts.train.checkpoint import load_checkpoint
from glowtts.train.plots import read_loss_log

REPO = Path(__file__).resolve().parents[2]
STEPS = 3


def _train_args(root: Path, cfg: Path, exp: Path) -> list[str]:
    return train_argv(cfg, root, exp)


def test_two_rank_gloo_equals_single_big_batch(tmp_path):
    # equal lengths: each rank's per-frame loss has the same frame count, so the mean of
    # the two ranks' gradients is the gradient of the union batch
    tinytts.write_dump(tmp_path / "dump/train", 8, seed=5, token_lengths=[5] * 8)
    tinytts.write_dump(tmp_path / "dump/dev", 2, seed=6, token_lengths=[4] * 2, prefix="dev")
    tinytts.write_token_list(tmp_path / "tokens.txt")
    # dropout off everywhere (the conv prenet has a fixed dropout 0.5: leave it out)
    model = {**tinytts.TINY_MODEL, "p_dropout": 0.0, "p_dropout_dec": 0.0, "prenet": False}
    common = {"shuffle": False, "max_steps": STEPS, "save_interval_steps": STEPS}
    common["data_dependent_init"] = False  # the init batches differ (2 vs 4 utterances)
    # Adam divides by sqrt(v) + eps: with eps 1e-9 a gradient that is zero up to rounding
    # (e.g. the attention key bias, softmax-invariant) gets a full +-lr step whose sign is
    # rounding noise. A larger eps keeps such noise from masking the comparison.
    common["eps"] = 1.0e-4
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    for name, bs in (("ddp", 2), ("single", 4)):
        cfg = tinytts.write_config(
            tmp_path / f"{name}.yaml", tinytts.base_train(batch_size=bs, **common), model=model
        )
        args = _train_args(tmp_path, cfg, tmp_path / name)
        if name == "ddp":
            launcher = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
        else:
            launcher = []
        for attempt in range(2):
            r = subprocess.run(
                [sys.executable, *launcher, "-m", "glowtts.bin.train", *args],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            # Known flake, cause not yet found: on a loaded 2-core machine a gloo rank once
            # aborted at exit ("terminate called without an active exception", SIGABRT; 1 of
            # ~6 runs). Only that abort earns one fresh retry; any other failure fails here.
            if r.returncode == 0 or attempt or "SIGABRT" not in r.stderr:
                break
            shutil.rmtree(tmp_path / name, ignore_errors=True)
        assert r.returncode == 0, r.stderr[-4000:]
    ddp = load_checkpoint(tmp_path / f"ddp/checkpoints/step_{STEPS:08d}.pth")
    one = load_checkpoint(tmp_path / f"single/checkpoints/step_{STEPS:08d}.pth")
    assert len(ddp["rng"]) == 2 and ddp["world_size"] == 2
    for k, v in one["model"].items():
        torch.testing.assert_close(ddp["model"][k], v, rtol=1e-4, atol=1e-5, msg=k)
    rec = {n: read_loss_log(tmp_path / n / "loss.jsonl") for n in ("ddp", "single")}
    for a, b in zip(rec["ddp"], rec["single"]):
        assert (a["split"], a["step"]) == (b["split"], b["step"])
        assert abs(a["loss"] - b["loss"]) < 1e-4, (a, b)
    assert [r["split"] for r in rec["ddp"]].count("train") == STEPS
