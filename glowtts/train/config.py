"""The YAML ``train:`` section: defaults, documentation, validation.

Every key, its default and its meaning are the fields of :class:`TrainConfig` (the
official LJSpeech recipe's values); ``TRAIN_DEFAULTS`` is derived from it, and
``egs/ljspeech/tts1/conf/train.yaml`` documents each key (a test keeps the recipes'
YAML comments in step with the fields).

Padding is exact (every layer masks padded positions and the losses are normalised
by the true lengths), so ``pad_multiple_*`` changes no result, only the number of
distinct batch shapes: with ``compile`` each new shape costs a recompilation (or a
new CUDA graph), so bucket them, e.g. 8 tokens and 32 frames.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from glowtts.utils import PRECISIONS


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The ``train:`` section: one field per key, with its default and meaning."""

    seed: int = 1234  # seeds python/numpy/torch and the batch shuffle
    # auto (bf16 on CPUs with native bf16, else fp32) | fp32 | bf16 | fp16 (autocast;
    # fp16 adds a GradScaler)
    precision: str = "fp32"
    batch_size: int = 32  # max utterances per batch and rank (official: 32 per GPU)
    batch_frames: int = 28000  # max padded mel frames (max_len * n) per batch and rank; 0 = none
    shuffle: bool = True  # reshuffle the bucketed batches every epoch (seeded)
    num_workers: int = 2  # DataLoader worker processes per rank
    accum_grad: int = 1  # micro-batches summed per optimizer step
    max_steps: int = 240000  # stop after this many optimizer steps (0 = no limit)
    max_epochs: int = 0  # stop after this many epochs (0 = no limit)
    # Noam scale: lr = learning_rate * d_model^-0.5 * min(s^-0.5, s * warmup^-1.5)
    learning_rate: float = 1.0
    warmup_steps: int = 4000  # Noam warm-up; peak lr ~1.1e-3 at step 4000 with d_model 192
    noam_d_model: int | None = None  # d_model of the Noam formula; None = model.hidden_channels
    betas: list[float] = dataclasses.field(default_factory=lambda: [0.9, 0.98])  # Adam betas
    eps: float = 1.0e-9  # Adam epsilon
    weight_decay: float = 0.0  # Adam (L2) weight decay
    grad_clip_value: float = 5.0  # clip every gradient element to [-v, v]; 0 = off
    save_interval_steps: int = 1000  # checkpoint every N optimizer steps (and at the end)
    keep_last: int = 5  # step checkpoints kept (best.pth is kept apart)
    log_interval_steps: int = 50  # train.log / TensorBoard scalars every N steps
    eval_interval_steps: int = 0  # extra dev passes every N steps; 0 = once per epoch only
    # a dev pass at the end of every epoch; false: only every eval_interval_steps (then > 0)
    # and at the end; for small corpora, whose epochs are a few steps
    eval_every_epoch: bool = True
    image_interval_steps: int = 1000  # mel / alignment images to TensorBoard every N steps
    tensorboard: bool = True  # write TensorBoard events when tensorboard is installed
    progress_bar: bool = True  # tqdm bar with loss and frames/s (rank 0)
    max_bad_steps: int = 50  # non-finite losses/gradients skip the step; abort after this many
    data_dependent_init: bool = True  # ActNorm data-dependent init on the first batch
    ddp_backend: str = "auto"  # auto (nccl on CUDA, gloo on CPU) | nccl | gloo
    ddp_find_unused_parameters: bool = False  # DistributedDataParallel's option of that name
    pad_multiple_tokens: int = 1  # pad each batch's token axis to a multiple of this
    pad_multiple_frames: int = 1  # ... and its frame axis (rounded up to the model's squeeze)
    # torch.compile the encoder and flow decoder: none | default | reduce-overhead (CUDA
    # graphs) | max-autotune | max-autotune-no-cudagraphs
    compile: str = "none"
    compile_backend: str = "inductor"  # torch.compile backend (inductor, aot_eager, eager, ...)


TRAIN_DEFAULTS: dict[str, Any] = dataclasses.asdict(TrainConfig())

_INT_KEYS = {
    "seed": 0,
    "batch_size": 0,
    "batch_frames": 0,
    "num_workers": 0,
    "accum_grad": 1,
    "max_steps": 0,
    "max_epochs": 0,
    "warmup_steps": 1,
    "save_interval_steps": 1,
    "keep_last": 1,
    "log_interval_steps": 1,
    "eval_interval_steps": 0,
    "image_interval_steps": 0,
    "max_bad_steps": 0,
    "pad_multiple_tokens": 1,
    "pad_multiple_frames": 1,
}
_FLOAT_KEYS = {"learning_rate", "eps", "weight_decay", "grad_clip_value"}
_BOOL_KEYS = {
    "shuffle",
    "tensorboard",
    "progress_bar",
    "data_dependent_init",
    "eval_every_epoch",
    "ddp_find_unused_parameters",
}
COMPILE_MODES = (
    "none",
    "default",
    "reduce-overhead",
    "max-autotune",
    "max-autotune-no-cudagraphs",
)
_CHOICES = {
    "precision": PRECISIONS,
    "ddp_backend": ("auto", "nccl", "gloo"),
    "compile": COMPILE_MODES,
}


def resolve_train_config(conf: dict | None) -> dict[str, Any]:
    """Fill defaults into a ``train:`` section and validate it.

    Raises ``ValueError`` on unknown keys (listing the valid ones) or bad values.
    """
    conf = dict(conf or {})
    unknown = sorted(set(conf) - set(TRAIN_DEFAULTS))
    if unknown:
        raise ValueError(
            f"unknown key(s) in train: {unknown}; valid keys: {sorted(TRAIN_DEFAULTS)}"
        )
    out = copy.deepcopy(TRAIN_DEFAULTS)
    out.update(conf)
    # YAML spellings of on/off for compile
    if out["compile"] in (None, False):
        out["compile"] = "none"
    elif out["compile"] is True:
        out["compile"] = "default"
    if not isinstance(out["compile_backend"], str) or not out["compile_backend"]:
        raise ValueError(
            f"train.compile_backend must be a backend name, got {out['compile_backend']!r}"
        )
    for k, lo in _INT_KEYS.items():
        v = out[k]
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"train.{k} must be an integer >= {lo}, got {v!r}")
    for k in _FLOAT_KEYS:
        v = out[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ValueError(f"train.{k} must be a number >= 0, got {v!r}")
        out[k] = float(v)
    for k in _BOOL_KEYS:
        if not isinstance(out[k], bool):
            raise ValueError(f"train.{k} must be true or false, got {out[k]!r}")
    if not out["eval_every_epoch"] and not out["eval_interval_steps"]:
        raise ValueError(
            "train.eval_every_epoch is false and train.eval_interval_steps is 0: no dev pass "
            "would choose best.pth; set eval_interval_steps to the steps between dev passes"
        )
    for k, choices in _CHOICES.items():
        if out[k] not in choices:
            raise ValueError(f"train.{k} must be one of {list(choices)}, got {out[k]!r}")
    b = out["betas"]
    if (
        not isinstance(b, (list, tuple))
        or len(b) != 2
        or not all(isinstance(x, (int, float)) and 0 <= x < 1 for x in b)
    ):
        raise ValueError(f"train.betas must be two numbers in [0, 1), got {b!r}")
    out["betas"] = [float(x) for x in b]
    d = out["noam_d_model"]
    if d is not None and (isinstance(d, bool) or not isinstance(d, int) or d < 1):
        raise ValueError(f"train.noam_d_model must be null or a positive integer, got {d!r}")
    if not out["batch_size"] and not out["batch_frames"]:
        raise ValueError("train: set batch_size and/or batch_frames (both are 0)")
    if not out["max_steps"] and not out["max_epochs"]:
        raise ValueError("train: set max_steps and/or max_epochs (both are 0: training never ends)")
    return out
