"""Training steps on CUDA in every precision (skipped without a CUDA device)."""

from __future__ import annotations

import math

import pytest
import tinytts
import torch
from train_cli import train_argv

from glowtts.bin.train import main
from glowtts.train.plots import read_loss_log

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def _args(root, cfg, token_list, *extra: str) -> list[str]:
    return train_argv(
        cfg, root, root / "exp", *extra, token_list=token_list, dev=False, device="cuda"
    )


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_cuda_steps_finite_and_resume(tmp_path, precision):
    tinytts.write_dump(tmp_path / "dump/train", 8, seed=1)
    tinytts.write_dump(tmp_path / "dump/dev", 2, seed=2, prefix="dev")
    tl = tinytts.write_token_list(tmp_path / "tokens.txt")
    train = tinytts.base_train(max_steps=3, precision=precision, num_workers=1, tensorboard=True)
    cfg = tinytts.write_config(tmp_path / "c.yaml", train)
    args = _args(tmp_path, cfg, tl, "--dev_dir", str(tmp_path / "dump/dev"))
    assert main(args) == 0
    assert main([*args, "--max_steps", "5"]) == 0  # resume on the GPU
    recs = [r for r in read_loss_log(tmp_path / "exp/loss.jsonl") if r["split"] == "train"]
    assert [r["step"] for r in recs] == [1, 2, 3, 4, 5]
    assert all(math.isfinite(r["loss"]) for r in recs)


def test_cuda_compiled_reduce_overhead_trains(tmp_path):
    """train.compile reduce-overhead (inductor + CUDA graphs) with bucketed shapes."""
    tinytts.write_dump(tmp_path / "dump/train", 8, seed=1)
    tl = tinytts.write_token_list(tmp_path / "tokens.txt")
    train = tinytts.base_train(
        max_steps=4, compile="reduce-overhead", pad_multiple_tokens=8, pad_multiple_frames=32
    )
    cfg = tinytts.write_config(tmp_path / "c.yaml", train)
    assert main(_args(tmp_path, cfg, tl)) == 0
    recs = [r for r in read_loss_log(tmp_path / "exp/loss.jsonl") if r["split"] == "train"]
    assert len(recs) == 4 and all(math.isfinite(r["loss"]) for r in recs)
    assert recs[-1]["loss"] < recs[0]["loss"]
