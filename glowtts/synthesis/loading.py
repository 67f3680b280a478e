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

from ..nets import GlowTTS, build_model
from ..text import Frontend
from ..utils import read_yaml_mapping

logger = logging.getLogger(__name__)


def read_exp_config(exp_dir: str | Path) -> dict[str, Any]:
    """The resolved ``config.yaml`` of an experiment dir (written by ``glowtts-train``)."""
    path = Path(exp_dir) / "config.yaml"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: {exp_dir} is not a glowtts experiment dir (stage 3 writes it)"
        )
    return read_yaml_mapping(path)


def _choose_checkpoint(exp_dir: Path, checkpoint: str | Path | None) -> Path:
    """``checkpoint`` if given, else ``checkpoints/best.pth``, else the newest ``step_*.pth``."""
    if checkpoint:
        path = Path(checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint {path} does not exist")
        return path
    ckpt_dir = exp_dir / "checkpoints"
    best = ckpt_dir / "best.pth"
    if best.is_file():
        return best
    steps = sorted(ckpt_dir.glob("step_*.pth"))
    if not steps:
        raise FileNotFoundError(
            f"no checkpoint in {ckpt_dir}: train first (run.sh --stage 3) or pass --checkpoint"
        )
    return steps[-1]


@dataclass
class Experiment:
    """A loaded experiment.

    Attributes:
        exp_dir: the experiment dir.
        config: its resolved ``config.yaml``.
        checkpoint: the checkpoint file the weights came from.
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

    ``checkpoint`` defaults to ``checkpoints/best.pth``, else the newest ``step_*.pth``.
    By default the model is prepared for inference (weight norm folded, inverse 1x1 convs
    cached). ``trainable=True`` keeps the parameter names and parametrisation the trainer
    saved (eval mode only): what MAS alignment needs to reproduce ``forward()`` exactly
    and the duration stage needs to train the predictor and save it back; the checkpoint
    must then be a training checkpoint (``model`` and ``step``).
    """
    exp_dir = Path(exp_dir)
    config = read_exp_config(exp_dir)
    if "n_vocab" not in config:
        raise ValueError(
            f"{exp_dir / 'config.yaml'} has no n_vocab: was it written by glowtts-train?"
        )
    path = _choose_checkpoint(exp_dir, checkpoint)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if trainable and (not isinstance(state, dict) or "model" not in state or "step" not in state):
        raise ValueError(f"{path}: not a glowtts training checkpoint")
    model = build_model(config.get("model") or {}, int(config["n_vocab"]))
    model.load_state_dict(state["model"] if "model" in state else state)
    model.to(device)
    if trainable:
        model.eval()
    else:
        model.prepare_for_inference()
    return Experiment(exp_dir, config, path, model, state)
