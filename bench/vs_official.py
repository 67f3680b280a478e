"""The official Glow-TTS model beside ours, for the ``--official`` modes of the benchmarks.

The official code (``../shared/anchors/glow-tts``, jaywalnut310/glow-tts) is imported at
run time through the tests' one loader, ``tests/official_anchor.py`` (its folder on
``sys.path`` for the import only, inert mel modules, our MAS standing in for its
uncompiled Cython ``monotonic_align``); nothing of it is copied here.

:func:`build_pair` builds the official ``FlowGenerator`` from its ``configs/base.json``,
runs its data-dependent ActNorm init on a batch, and converts its weights into our
model with :mod:`glowtts.convert.official`: both models hold identical weights (ours has
two extra, unused embedding rows: ``<blank>`` and ``<unk>``).
"""

from __future__ import annotations

import json
import math
import sys
import types
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "tests"))  # official_anchor, shared_paths (last: no shadowing)

from glowtts.convert.official import convert_state_dict, translate_config  # noqa: E402
from glowtts.nets import build_model  # noqa: E402
from glowtts.text.official import N_RESERVED, OFFICIAL_SYMBOLS  # noqa: E402
from glowtts.utils import cpu_model_and_flags  # noqa: E402

RATIO_MEANS = "speedup = official time / our time (> 1: ours is faster)"


def load_official_code() -> tuple[types.ModuleType, types.ModuleType, Path]:
    """The official ``models`` and ``commons`` modules and the source folder.

    Raises:
        SystemExit: ``../shared/anchors/glow-tts`` is missing (or pytest is not installed).
    """
    try:
        import pytest
        from official_anchor import anchor_dir, load_official
    except ImportError as e:
        raise SystemExit(f"--official needs the test helpers and pytest: {e}") from e
    try:
        mods = load_official("models", "commons")
        return mods["models"], mods["commons"], anchor_dir()
    except (pytest.skip.Exception, pytest.fail.Exception) as e:
        raise SystemExit(f"--official: {e}") from e


def cpu_info() -> dict[str, Any]:
    """CPU model name, whether it has native bf16 / AMX, and torch's thread count."""
    name, flags = cpu_model_and_flags()
    return {
        "model_name": name,
        **{f: f in flags for f in ("avx512_bf16", "amx_bf16", "amx_tile")},
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }


def official_ids_to_ours(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Official symbol ids ``(B, T_text)`` -> our ids (``+ N_RESERVED``, padding 0)."""
    mask = torch.arange(x.shape[1])[None] < lengths[:, None]
    return (x + N_RESERVED) * mask


def _ddi(theirs: torch.nn.Module, x, x_lengths, y, y_lengths) -> None:
    """The official data-dependent init (its ``init.py``): every ActNorm set to initialise
    itself from the first batch it sees, then one forward pass."""
    for m in theirs.modules():
        if hasattr(m, "set_ddi"):
            m.set_ddi(True)
    with torch.no_grad():
        theirs(x, x_lengths, y, y_lengths)


def build_pair(
    models: types.ModuleType,
    anchor: Path,
    ddi_batch: tuple[torch.Tensor, ...],
    *,
    seed: int = 0,
    log_duration: float | None = None,
) -> tuple[torch.nn.Module, torch.nn.Module, dict]:
    """The official model from ``configs/base.json`` and ours with its weights.

    Args:
        ddi_batch: official-layout ``(x (B, T_text), x_lengths, y (B, n_mels, T_mel),
            y_lengths)`` for the ActNorm init.
        log_duration: when given, both duration predictors output this log-duration for
            every token (the predictor's last 1x1 conv zeroed, its bias set), so that the
            official ``gen=True`` path, which cannot take given durations, makes known
            lengths.

    Returns:
        ``(theirs, ours, conf)``: both in train mode; ``conf`` the official config.
    """
    conf = json.loads((anchor / "configs" / "base.json").read_text())
    if conf["data"].get("add_blank"):
        raise ValueError("configs/base.json has add_blank; these benchmarks assume none")
    torch.manual_seed(seed)
    theirs = models.FlowGenerator(
        len(OFFICIAL_SYMBOLS), out_channels=conf["data"]["n_mel_channels"], **conf["model"]
    )
    _ddi(theirs, *ddi_batch)
    if log_duration is not None:
        with torch.no_grad():
            theirs.encoder.proj_w.proj.weight.zero_()
            theirs.encoder.proj_w.proj.bias.fill_(log_duration)
    ours = build_model(translate_config(conf)["model"], len(OFFICIAL_SYMBOLS) + N_RESERVED)
    ours.load_state_dict(convert_state_dict(theirs.state_dict(), ours, False))
    return theirs.train(), ours.train(), conf


def constant_log_duration(frames_per_token: int) -> float:
    """A log-duration whose ``ceil(exp(.))`` is exactly ``frames_per_token`` (half a frame
    below it, so float rounding of exp cannot push the ceiling one frame up)."""
    if frames_per_token < 1:
        raise ValueError(f"frames per token must be >= 1, got {frames_per_token}")
    return math.log(frames_per_token - 0.5)


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
