"""Atomic checkpoints and RNG state capture; reading them is :mod:`glowtts.checkpoints`.

Checkpoints hold only tensors and primitive containers so that they load with
``torch.load(weights_only=True)`` (no arbitrary pickles): RNG states are converted to
tensors / lists before saving.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from glowtts.checkpoints import (  # noqa: F401  (the readers, re-exported for training)
    STEP_RE,
    find_latest_valid,
    list_step_checkpoints,
    load_checkpoint,
    scan_checkpoints,
)
from glowtts.data.kaldi import atomic_open, fsync_dir

logger = logging.getLogger(__name__)


def step_name(step: int) -> str:
    """``step_00001000.pth``."""
    return f"step_{step:08d}.pth"


def rng_state() -> dict[str, Any]:
    """Python, numpy, torch and CUDA RNG states as tensors / lists."""
    py = random.getstate()
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": {
            "kind": str(np_state[0]),
            "keys": torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`rng_state`."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state(
        (
            n["kind"],
            n["keys"].numpy().astype(np.uint32),
            n["pos"],
            n["has_gauss"],
            n["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        cuda = state["cuda"]
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)
        else:
            logger.warning(
                "checkpoint has %d CUDA RNG states, this machine %d devices: CUDA RNG not restored",
                len(cuda),
                torch.cuda.device_count(),
            )


def atomic_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` to a temp file in the same dir, fsync, then ``os.replace``.

    A reader (or a crash at any instant) sees either the old file or the complete new
    one, never a partial write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb", fsync=True) as f:
        torch.save(obj, f)


def atomic_copy(src: str | Path, dst: str | Path) -> None:
    """Atomically make ``dst`` a copy of ``src`` (a hard link when possible)."""
    src, dst = Path(src), Path(dst)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    if tmp.exists():
        tmp.unlink()
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
    fsync_dir(dst.parent)


def load_best(ckpt_dir: str | Path, map_location: str | torch.device = "cpu") -> dict | None:
    """``ckpt_dir/best.pth`` if it exists and loads, else None (with a warning)."""
    best = Path(ckpt_dir) / "best.pth"
    if not best.is_file():
        return None
    try:
        return load_checkpoint(best, map_location)
    except Exception as e:  # noqa: BLE001 - unusable, whatever the reason
        logger.warning("skipping unreadable checkpoint %s (%s: %s)", best, type(e).__name__, e)
        return None


def prune_checkpoints(ckpt_dir: str | Path, keep_last: int, keep: Path | None = None) -> list[Path]:
    """Delete all but the newest ``keep_last`` step checkpoints and stale temp files;
    ``keep`` (the one just written) is never deleted."""
    removed = []
    for _, p in list_step_checkpoints(ckpt_dir)[keep_last:]:
        if keep is not None and p.name == keep.name:
            continue
        p.unlink(missing_ok=True)
        removed.append(p)
    for p in Path(ckpt_dir).glob(".*.tmp"):
        p.unlink(missing_ok=True)
    return removed


def save_step_checkpoint(
    state: dict[str, Any], ckpt_dir: str | Path, step: int, keep_last: int
) -> tuple[Path, list[Path]]:
    """Write ``ckpt_dir/step_XXXXXXXX.pth`` atomically and keep the newest ``keep_last``;
    returns the path and the removed checkpoints."""
    path = Path(ckpt_dir) / step_name(step)
    atomic_save(state, path)
    return path, prune_checkpoints(ckpt_dir, keep_last, keep=path)


def mark_best(path: str | Path, ckpt_dir: str | Path) -> Path:
    """Make ``ckpt_dir/best.pth`` (atomically) a copy of the step checkpoint ``path``."""
    best = Path(ckpt_dir) / "best.pth"
    atomic_copy(path, best)
    return best
