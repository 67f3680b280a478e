"""Atomic checkpoint writes, corrupt-checkpoint skipping, pruning, RNG state round trip."""

from __future__ import annotations

import logging
import random

import numpy as np
import pytest
import torch

from glowtts.train import checkpoint as ckpt


class _Boom:
    def __reduce__(self):
        raise RuntimeError("disk full (simulated)")


def test_atomic_save_replaces_or_keeps_old(tmp_path):
    p = tmp_path / "c" / "x.pth"
    ckpt.atomic_save({"a": torch.ones(2)}, p)
    ckpt.atomic_save({"a": torch.zeros(2)}, p)
    assert torch.equal(torch.load(p, weights_only=True)["a"], torch.zeros(2))
    with pytest.raises(RuntimeError, match="disk full"):
        ckpt.atomic_save({"a": torch.ones(2), "b": _Boom()}, p)
    # the failed write left the old file whole and no temp file behind
    assert torch.equal(torch.load(p, weights_only=True)["a"], torch.zeros(2))
    assert [f.name for f in p.parent.iterdir()] == ["x.pth"]


def _state(step):
    return {"step": step, "model": {"w": torch.full((2,), float(step))}}


def test_corrupt_newest_skipped(tmp_path, caplog):
    d = tmp_path / "checkpoints"
    for s in (1, 2, 3):
        ckpt.atomic_save(_state(s), d / ckpt.step_name(s))
    raw = (d / ckpt.step_name(3)).read_bytes()
    (d / ckpt.step_name(3)).write_bytes(raw[: len(raw) // 2])  # truncated
    (d / ckpt.step_name(4)).write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING):
        path, st = ckpt.find_latest_valid(d)
    assert path.name == "step_00000002.pth" and st["step"] == 2
    assert "step_00000004.pth" in caplog.text and "step_00000003.pth" in caplog.text
    assert ckpt.find_latest_valid(tmp_path / "none") is None


def test_prune_keeps_last_k(tmp_path):
    for s in (5, 10, 15, 20):
        ckpt.atomic_save(_state(s), tmp_path / ckpt.step_name(s))
    (tmp_path / ".step_00000025.pth.abc.tmp").write_bytes(b"partial")
    ckpt.prune_checkpoints(tmp_path, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "step_00000015.pth",
        "step_00000020.pth",
    ]


def test_rng_state_round_trip_weights_only(tmp_path):
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    np.random.normal()  # leave a cached gaussian in numpy's state
    st = ckpt.rng_state()
    ckpt.atomic_save({"rng": st}, tmp_path / "r.pth")
    want = (random.random(), np.random.normal(), torch.rand(3))
    random.seed(9)
    np.random.seed(9)
    torch.manual_seed(9)
    ckpt.set_rng_state(torch.load(tmp_path / "r.pth", weights_only=True)["rng"])
    got = (random.random(), np.random.normal(), torch.rand(3))
    assert got[0] == want[0] and got[1] == want[1] and torch.equal(got[2], want[2])
