"""Starting a run: resume from the newest valid checkpoint, or start afresh.

A training loop calls :func:`open_run` before its first step; when it returns a
checkpoint, the loop restores its own state from it, then calls :func:`resumed_rng`
for this rank's RNG streams and :func:`trim_loss_log` (rank 0) so that the loss log
holds no record the resumed run writes again.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from glowtts.train import checkpoint as ckpt
from glowtts.train.distributed import DistInfo
from glowtts.train.logs import LossLog

logger = logging.getLogger("glowtts.train")


def move_aside_checkpoints(ckpt_dir: Path) -> Path | None:
    """Rename a non-empty ``ckpt_dir`` to ``checkpoints.old_<time>``; returns the new path.
    Moved, not deleted: a stale higher step number would otherwise win the next resume."""
    if not (ckpt_dir.is_dir() and any(ckpt_dir.iterdir())):
        return None
    aside = ckpt_dir.with_name(f"checkpoints.old_{time.strftime('%Y%m%d-%H%M%S')}")
    ckpt_dir.rename(aside)
    return aside


def open_run(
    ckpt_dir: Path, loss_log: LossLog, *, resume: bool, is_main: bool
) -> tuple[Path, dict[str, Any]] | None:
    """The ``(path, state)`` to resume from, or None to train from scratch.

    ``resume`` False: rank 0 moves old checkpoints aside and removes the loss log.
    """
    found = ckpt.find_latest_valid(ckpt_dir) if resume else None
    if found is not None:
        return found
    if is_main and resume:
        logger.info("no checkpoint in %s: training from scratch", ckpt_dir)
    if is_main and not resume:
        aside = move_aside_checkpoints(ckpt_dir)
        if aside is not None:
            logger.warning("--resume false: moved old checkpoints to %s", aside)
        loss_log.remove()
    return None


def resumed_rng(state: dict[str, Any], info: DistInfo) -> dict[str, Any] | None:
    """This rank's saved RNG state, or None when the world size changed (the caller
    then reseeds; see :func:`glowtts.train.trainer.set_seed`)."""
    rngs = state["rng"]
    if len(rngs) == info.world_size:
        return rngs[info.rank]
    logger.warning(
        "checkpoint from %d ranks, now %d: RNG streams reseeded", len(rngs), info.world_size
    )
    return None


def trim_loss_log(loss_log: LossLog, step: int, last_dev_step: int) -> None:
    """Drop the loss-log records after the resumed checkpoint (rank 0; others no-op)."""
    loss_log.truncate(step, last_dev_step)
