"""Loading a trained experiment: the one place that turns ``exp/<tag>`` into a model.

An experiment dir holds ``config.yaml`` (the resolved training config, with ``n_vocab``),
``tokens.txt`` (+ ``frontend.yaml``), ``spk_list.txt`` for a multi-speaker model and
``checkpoints/``; everything needed to decode, align or score is read from there, so a
model never meets a front-end or feature definition other than the one it trained with.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..checkpoints import (
    CheckpointError,
    config_differences,
    config_meta,
    read_checkpoint,
    scan_checkpoints,
)
from ..nets import GlowTTS, build_model
from ..text import Frontend
from ..utils import read_yaml_mapping
from .package import is_package, read_package

logger = logging.getLogger(__name__)


def read_exp_config(exp_dir: str | Path) -> dict[str, Any]:
    """The resolved ``config.yaml`` of an experiment dir (written by ``glowtts-train``)."""
    path = Path(exp_dir) / "config.yaml"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: {exp_dir} is not a glowtts experiment dir (stage 3 writes it)"
        )
    return read_yaml_mapping(path)


def _read_default(exp_dir: Path, training: bool) -> tuple[Path, dict[str, Any]]:
    """``checkpoints/best.pth``, else (with a warning when best.pth is unreadable) the
    newest readable ``step_*.pth``."""
    ckpt_dir = exp_dir / "checkpoints"
    best = ckpt_dir / "best.pth"
    bad_best = None
    if best.is_file():
        try:
            return best, read_checkpoint(best, training=training)
        except CheckpointError as e:
            bad_best = e
            logger.warning("%s; falling back to the newest readable step_*.pth", e)
    found, unreadable = scan_checkpoints(ckpt_dir, training=training)
    if found is not None:
        if bad_best is not None:
            logger.warning("using %s instead of the unreadable %s", found[0].name, best)
        return found
    if bad_best is None and not unreadable:
        raise FileNotFoundError(
            f"no checkpoint in {ckpt_dir}: train first (run.sh --stage 3) or pass --checkpoint"
        )
    reasons = [str(bad_best)] if bad_best is not None else []
    for p in unreadable[:3]:  # the error path only: read again for the reason
        try:
            read_checkpoint(p, training=training)
        except CheckpointError as e:
            reasons.append(str(e))
    raise CheckpointError(
        f"no readable checkpoint in {ckpt_dir} ({'; '.join(reasons)}): restore them from a "
        "backup, retrain (run.sh --stage 3), or pass --checkpoint"
    )


def _read_checkpoint(
    exp_dir: Path, checkpoint: str | Path | None, training: bool
) -> tuple[Path, dict[str, Any]]:
    """``(path, state)`` of ``checkpoint`` if given (an unreadable one is an error naming
    it: it was asked for), else of :func:`_read_default`."""
    if not checkpoint:
        return _read_default(exp_dir, training)
    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    return path, read_checkpoint(path, training=training)


def check_config(
    path: Path, state: dict[str, Any], config: dict[str, Any], config_file: Path
) -> None:
    """Refuse a checkpoint whose stored configuration (its ``meta``) disagrees with the
    experiment's ``config.yaml`` in the model, text or feats section or ``n_vocab``:
    with matching shapes it would load silently and decode wrongly (e.g. without the
    blanks it was trained with)."""
    diffs = config_differences(state.get("meta") or {}, config_meta(config))
    if diffs:
        raise ValueError(
            f"{path} was trained with another configuration than {config_file} "
            f"(checkpoint -> config.yaml: {'; '.join(diffs)}): put the checkpoint's values "
            "back into config.yaml, or use the checkpoint with the experiment dir it "
            "was trained in"
        )


def _open_source(
    source: Path, checkpoint: str | Path | None
) -> tuple[Path, Path | None, dict[str, Any] | None]:
    """``(exp dir, None, None)`` for an experiment dir; ``(extracted dir, package,
    state)`` for a voice package."""
    if not source.exists():
        raise FileNotFoundError(
            f"{source} does not exist, so it is not a glowtts experiment dir (exp/<tag>) "
            "nor a voice file (NAME.glowtts, written by glowtts-pack)"
        )
    if not is_package(source):
        return source, None, None
    if checkpoint:
        raise ValueError(
            f"{source} is a packed voice with one set of weights: --checkpoint does not "
            "apply (give the experiment dir to choose a checkpoint)"
        )
    pkg = read_package(source)
    return pkg.dir, pkg.path, pkg.state()


@dataclass
class Experiment:
    """A loaded experiment.

    Attributes:
        exp_dir: the experiment dir (of a voice package: where it was extracted).
        config: its resolved ``config.yaml``.
        checkpoint: the checkpoint file (or the voice package) the weights came from.
        model: the Glow-TTS model, in eval mode on the requested device.
        state: the raw checkpoint dict (``model`` weights, ``step``, ...).
    """

    exp_dir: Path
    config: dict[str, Any]
    checkpoint: Path
    model: GlowTTS
    state: dict[str, Any] = field(repr=False)

    @property
    def add_blank(self) -> bool:
        """Whether the model reads tokens interspersed with blanks (``text.add_blank``)."""
        return bool((self.config.get("text") or {}).get("add_blank", False))

    @property
    def step(self) -> int:
        """Training step of the checkpoint (0 when it does not say)."""
        return int(self.state.get("step") or 0)

    @property
    def tokens_file(self) -> Path:
        return self.exp_dir / "tokens.txt"

    def frontend(self) -> Frontend:
        """The front-end the model trained with (``frontend.yaml`` + ``tokens.txt``)."""
        path = self.exp_dir / "frontend.yaml"
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing: {self.exp_dir} needs the front-end it was trained with "
                "(glowtts-train copies it from data/token_list/<type>/)"
            )
        return Frontend.from_file(str(path))

    def speakers(self) -> list[str] | None:
        """Speaker names by id (``spk_list.txt``), or None when the experiment has none."""
        path = self.exp_dir / "spk_list.txt"
        return path.read_text().split() if path.is_file() else None


def load_experiment(
    exp_dir: str | Path,
    checkpoint: str | Path | None = None,
    device: str | torch.device = "cpu",
    *,
    trainable: bool = False,
) -> Experiment:
    """Build the model of ``exp_dir`` from its config and load a checkpoint into it.

    ``exp_dir`` may also be a voice package (``NAME.glowtts``, written by
    ``glowtts-pack``; checked and extracted by :func:`glowtts.synthesis.package.read_package`):
    it holds one set of weights, so ``checkpoint`` must then be None, and the returned
    ``exp_dir`` is the extracted directory, ``checkpoint`` the package.

    ``checkpoint`` defaults to ``checkpoints/best.pth``, else the newest ``step_*.pth``;
    an unreadable ``best.pth`` falls back, with a warning, to the newest readable
    ``step_*.pth``, while an unreadable ``checkpoint`` given by name is an error. The
    configuration stored in the checkpoint must match ``config.yaml``
    (:func:`check_config`). Everything is read with ``torch.load(weights_only=True)``.
    By default the model is prepared for inference (weight norm folded, inverse 1x1 convs
    cached). ``trainable=True`` keeps the parameter names and parametrisation the trainer
    saved (eval mode only): what MAS alignment needs to reproduce ``forward()`` exactly
    and the duration stage needs to train the predictor and save it back; the checkpoint
    must then be a training checkpoint (``model`` and ``step``).
    """
    exp_dir, path, state = _open_source(Path(exp_dir), checkpoint)
    config = read_exp_config(exp_dir)
    if "n_vocab" not in config:
        raise ValueError(
            f"{exp_dir / 'config.yaml'} has no n_vocab: was it written by glowtts-train?"
        )
    if state is None:
        path, state = _read_checkpoint(exp_dir, checkpoint, training=trainable)
    check_config(path, state, config, exp_dir / "config.yaml")
    model = build_model(config.get("model") or {}, int(config["n_vocab"]))
    try:
        model.load_state_dict(state["model"] if "model" in state else state)
    except RuntimeError as e:  # missing / unexpected keys, other shapes
        raise CheckpointError(
            f"{path} does not fit the model of {exp_dir / 'config.yaml'}: {str(e)[:500]}"
        ) from None
    model.to(device)
    if trainable:
        model.eval()
    else:
        model.prepare_for_inference()
    return Experiment(exp_dir, config, path, model, state)
