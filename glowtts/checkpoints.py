"""Reading glowtts checkpoints: the one home shared by training (resume) and inference.

Training writes checkpoints (:mod:`glowtts.train.checkpoint`: atomic saves, pruning,
``best.pth``); everything that only reads them lives here, so that synthesis, export
and the server never import the training package. Checkpoints hold only tensors and
primitive containers and are read with ``torch.load(weights_only=True)``: nothing is
unpickled.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import torch

logger = logging.getLogger(__name__)

STEP_RE = re.compile(r"^step_(\d{8,})\.pth$")


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """``torch.load(weights_only=True)``; raises on a corrupt or truncated file."""
    obj = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(obj, dict) or "model" not in obj or "step" not in obj:
        raise ValueError(f"{path}: not a glowtts training checkpoint")
    return obj


def list_step_checkpoints(ckpt_dir: str | Path) -> list[tuple[int, Path]]:
    """``[(step, path)]`` of ``step_*.pth`` files, newest first."""
    d = Path(ckpt_dir)
    if not d.is_dir():
        return []
    out = []
    for p in d.iterdir():
        m = STEP_RE.match(p.name)
        if m:
            out.append((int(m.group(1)), p))
    return sorted(out, reverse=True)


def find_latest_valid(
    ckpt_dir: str | Path, map_location: str | torch.device = "cpu"
) -> tuple[Path, dict] | None:
    """Newest step checkpoint that loads; corrupt ones are skipped with a warning."""
    for _, p in list_step_checkpoints(ckpt_dir):
        try:
            return p, load_checkpoint(p, map_location)
        except Exception as e:  # noqa: BLE001 - any failure means "unusable", try older
            logger.warning("skipping unreadable checkpoint %s (%s: %s)", p, type(e).__name__, e)
    return None
