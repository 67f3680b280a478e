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
from typing import Any

import torch

logger = logging.getLogger(__name__)

STEP_RE = re.compile(r"^step_(\d{8,})\.pth$")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file."""


def read_checkpoint(
    path: str | Path, map_location: str | torch.device = "cpu", *, training: bool = True
) -> dict:
    """``torch.load(weights_only=True)`` of ``path``, with the file named in every error.

    ``training`` True: the trainer's dict (``model`` and ``step``) is required; False: a
    bare state dict is accepted too (enough for inference).

    Raises:
        CheckpointError: the file is truncated, corrupt, a pickled object or another dict.
    """
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many types for a bad file
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise CheckpointError(
            f"{path}: unreadable checkpoint, truncated, corrupt or not a weights-only torch "
            f"file ({type(e).__name__}: {first})"
        ) from e
    ok = isinstance(obj, dict) and (not training or ("model" in obj and "step" in obj))
    if not ok:
        raise CheckpointError(f"{path}: not a glowtts training checkpoint")
    return obj


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """A training checkpoint (``model`` and ``step``); :class:`CheckpointError` otherwise."""
    return read_checkpoint(path, map_location)


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


def scan_checkpoints(
    ckpt_dir: str | Path, map_location: str | torch.device = "cpu", *, training: bool = True
) -> tuple[tuple[Path, dict] | None, list[Path]]:
    """``(newest step checkpoint that loads, the unreadable ones newer than it)``; the
    first is None when none loads. Each unreadable file is named in a warning.
    ``training``: as in :func:`read_checkpoint`."""
    unreadable = []
    for _, p in list_step_checkpoints(ckpt_dir):
        try:
            return (p, read_checkpoint(p, map_location, training=training)), unreadable
        except Exception as e:  # noqa: BLE001 - any failure means "unusable", try older
            logger.warning("skipping unreadable checkpoint %s (%s: %s)", p, type(e).__name__, e)
            unreadable.append(p)
    return None, unreadable


def find_latest_valid(
    ckpt_dir: str | Path, map_location: str | torch.device = "cpu"
) -> tuple[Path, dict] | None:
    """Newest step checkpoint that loads; corrupt ones are skipped with a warning."""
    return scan_checkpoints(ckpt_dir, map_location)[0]


# ---------------------------------------------------------------- configuration
# what a training checkpoint's ``meta`` holds (glowtts.train.setup.run_training), and
# the config.yaml section each entry was taken from
META_KEYS = ("model_conf", "n_vocab", "text", "feats")
_SECTIONS = {"model_conf": "model", "n_vocab": "n_vocab", "text": "text", "feats": "feats"}


def _resolved(key: str, value: Any) -> Any:
    """A meta entry with its defaults filled in, so that spelling out a default is no change."""
    from glowtts.audio.features import MelConfig
    from glowtts.nets.glow_tts import MODEL_DEFAULTS
    from glowtts.text.frontend import resolve_conf

    try:
        if key == "model_conf":
            return {**MODEL_DEFAULTS, **(value or {})}
        if key == "text":
            out = resolve_conf(value)
            out.pop("token_list", None)  # a path, not behaviour
            return out
        if key == "feats":
            return MelConfig.from_dict(value).to_dict()
    except (TypeError, ValueError):
        pass  # an invalid section is compared as written
    return value


def config_meta(config: dict[str, Any]) -> dict[str, Any]:
    """The :data:`META_KEYS` entries of an experiment's ``config.yaml`` (those it has)."""
    return {k: config[s] for k, s in _SECTIONS.items() if s in config}


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``["model.hidden_channels: 16 -> 32", ...]``: where two checkpoint ``meta`` dicts
    (:data:`META_KEYS`) disagree in a way that changes the model or its inputs. A key
    missing from either side (an older checkpoint) is not compared."""
    diffs = []
    for key in META_KEYS:
        if key not in old or key not in new:
            continue
        a, b = _resolved(key, old[key]), _resolved(key, new[key])
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b), key=str):
                if a.get(k) != b.get(k):
                    diffs.append(f"{_SECTIONS[key]}.{k}: {a.get(k)!r} -> {b.get(k)!r}")
        elif a != b:
            diffs.append(f"{_SECTIONS[key]}: {a!r} -> {b!r}")
    return diffs
