"""Starting a run: resume from the newest valid checkpoint, or start afresh.

A training loop calls :func:`open_run` before its first step; when it returns a
checkpoint, the loop restores its own state from it, then calls :func:`resumed_rng`
for this rank's RNG streams and :func:`trim_loss_log` (rank 0) so that the loss log
holds no record the resumed run writes again.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from glowtts.checkpoints import config_differences
from glowtts.data.dataset import read_spk_list, read_token_list
from glowtts.train import checkpoint as ckpt
from glowtts.train.distributed import DistInfo
from glowtts.train.logs import LossLog

logger = logging.getLogger("glowtts.train")


# the experiment files that describe the checkpoints: copied into a backup with them
EXPERIMENT_FILES = (
    "config.yaml",
    "version.json",
    "tokens.txt",
    "frontend.yaml",
    "spk_list.txt",
    "stats.npy",
)


def move_aside_run(ckpt_dir: Path, loss_log: LossLog) -> Path | None:
    """Move the checkpoints and the loss log of a previous run into
    ``checkpoints.old_<time>`` (with a copy of the experiment files that describe them);
    returns it, or None when there was nothing to keep. Moved, not deleted: a stale
    higher step number would otherwise win the next resume."""
    has_ckpts = ckpt_dir.is_dir() and any(ckpt_dir.iterdir())
    if not has_ckpts and not loss_log.records():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = ckpt_dir.with_name(f"checkpoints.old_{stamp}")
    n = 1
    while aside.exists():  # two restarts within a second
        aside, n = ckpt_dir.with_name(f"checkpoints.old_{stamp}.{n}"), n + 1
    if has_ckpts:
        ckpt_dir.rename(aside)
    aside.mkdir(parents=True, exist_ok=True)
    if loss_log.path.exists():
        loss_log.path.rename(aside / loss_log.path.name)
    for name in EXPERIMENT_FILES:
        if (ckpt_dir.parent / name).is_file():
            shutil.copy2(ckpt_dir.parent / name, aside / name)
    return aside


@dataclasses.dataclass(frozen=True)
class Opened:
    """What :func:`open_run` returned, for a trainer whose caller opened the run itself
    (``glowtts-train`` checks the checkpoint before it writes the experiment files)."""

    found: tuple[Path, dict[str, Any]] | None


def open_run(
    ckpt_dir: Path,
    loss_log: LossLog,
    *,
    resume: bool,
    is_main: bool,
    check: Callable[[Path, dict[str, Any]], None] | None = None,
) -> tuple[Path, dict[str, Any]] | None:
    """The ``(path, state)`` to resume from, or None to train from scratch.

    Resuming: the newest step checkpoint that loads, or ``best.pth`` when it is newer
    (when the step checkpoints are unreadable). Rank 0 renames the unreadable step
    checkpoints newer than that to ``*.unreadable`` (kept, never deleted; left in place
    they would outrank the new ones when old checkpoints are pruned). When checkpoints
    exist but none loads, training refuses to start (raises ``ValueError`` naming the
    files and the fix) rather than silently starting over.

    ``check(path, state)`` raises when the checkpoint cannot continue this run; it runs
    before anything is changed on disk. Starting from scratch, the loss log starts empty.
    ``resume`` False: rank 0 moves the previous run aside (:func:`move_aside_run`).
    """
    if not resume:
        if is_main:
            aside = move_aside_run(ckpt_dir, loss_log)
            if aside is not None:
                logger.warning(
                    "--resume false: the previous run's checkpoints and loss log are "
                    "kept in %s (with its config)",
                    aside,
                )
        return None
    found, unreadable = ckpt.scan_checkpoints(ckpt_dir)
    if unreadable or found is None:
        found = _newer_best(ckpt_dir, found, unreadable)
    if found is not None and check is not None:
        check(*found)
    if is_main:
        for p in unreadable:
            aside = p.with_name(p.name + ".unreadable")
            p.rename(aside)
            logger.warning("unreadable checkpoint %s renamed to %s", p, aside.name)
    if found is None and is_main:
        logger.info("no checkpoint in %s: training from scratch", ckpt_dir)
        if loss_log.records():
            # records of a run killed before its first checkpoint: redone from step 1
            logger.info("%s: records without a checkpoint dropped", loss_log.path)
            loss_log.clear()
    return found


def _newer_best(
    ckpt_dir: Path, found: tuple[Path, dict[str, Any]] | None, unreadable: list[Path]
) -> tuple[Path, dict[str, Any]] | None:
    """``best.pth`` when it loads and is newer than ``found``; raise when neither loads
    but unreadable checkpoints exist."""
    best = ckpt.load_best(ckpt_dir)
    if best is not None and (found is None or int(best["step"]) > int(found[1]["step"])):
        logger.warning(
            "no readable step checkpoint from step %d on (%s): resuming from best.pth",
            int(best["step"]),
            ", ".join(p.name for p in unreadable) or "none left",
        )
        return ckpt_dir / "best.pth", best
    if found is None and (unreadable or (ckpt_dir / "best.pth").exists()):
        raise ValueError(
            f"every checkpoint in {ckpt_dir} is unreadable "
            f"({', '.join(p.name for p in unreadable)}"
            f"{' and best.pth' if (ckpt_dir / 'best.pth').exists() else ''}), so training "
            "cannot resume. Nothing was changed. To train from scratch, move them out of "
            f"{ckpt_dir}, or run with --resume false (which moves {ckpt_dir} aside to "
            "checkpoints.old_<time>); to keep the training done, restore them from a backup"
        )
    return found


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


# ---------------------------------------------------------------- compatibility
def _list_differences(what: str, old: list[str], new: list[str]) -> list[str]:
    if old == new:
        return []
    gone = [t for t in old if t not in set(new)]
    added = [t for t in new if t not in set(old)]
    detail = []
    if gone:
        detail.append(f"missing {gone[:10]}")
    if added:
        detail.append(f"new {added[:10]}")
    if not detail:
        detail.append("same entries in another order")
    return [f"{what}: {len(old)} -> {len(new)} entries ({', '.join(detail)})"]


def check_resumable(
    path: Path,
    state: dict[str, Any],
    *,
    meta: dict[str, Any],
    exp_dir: Path,
    tokens: list[str],
    speakers: list[str] | None,
) -> None:
    """Raise ``ValueError`` when the checkpoint ``path`` was trained with another model,
    front-end, feature, token-list or speaker configuration than this run's ``meta``,
    ``tokens`` and ``speakers``; names the keys and the ways forward."""
    diffs = config_differences(state.get("meta") or {}, meta)
    old_tokens = exp_dir / "tokens.txt"
    if old_tokens.is_file():
        diffs += _list_differences("token list", read_token_list(old_tokens), tokens)
    old_spk = exp_dir / "spk_list.txt"
    if old_spk.is_file() and speakers is not None:
        diffs += _list_differences("speaker list", read_spk_list(old_spk), speakers)
    if not diffs:
        return
    raise ValueError(
        f"cannot resume {exp_dir} from {path}: the configuration changed since that "
        f"checkpoint was written ({'; '.join(diffs)}). Nothing was changed in {exp_dir}. "
        "To continue this experiment, go back to its config (its config.yaml); to train "
        "the new config from scratch, give it a new --exp (recipes: another --tag); "
        f"to start the new config from this model's weights, fine-tune: "
        f"--init_from {exp_dir} with a new --exp"
    )
