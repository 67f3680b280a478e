"""The YAML ``train:`` section: defaults, documentation, validation.

Every key, its default and its meaning (the official LJSpeech recipe's values):

.. code-block:: yaml

    train:
      seed: 1234                # seeds python/numpy/torch and the batch shuffle
      precision: fp32           # fp32 | bf16 | fp16 (autocast; fp16 adds a GradScaler)
      batch_size: 32            # max utterances per batch and rank (official: 32 per GPU)
      batch_frames: 28000       # max padded mel frames (max_len * n) per batch and rank; 0 = no budget
      shuffle: true             # reshuffle the bucketed batches every epoch (seeded)
      num_workers: 2            # DataLoader worker processes per rank
      accum_grad: 1             # micro-batches summed per optimizer step
      max_steps: 240000         # stop after this many optimizer steps (0 = no limit)
      max_epochs: 0             # stop after this many epochs (0 = no limit)
      learning_rate: 1.0        # Noam scale: lr = learning_rate * d_model^-0.5 * min(s^-0.5, s * warmup^-1.5)
      warmup_steps: 4000        # Noam warm-up; peak lr ~1.1e-3 at step 4000 with d_model 192
      noam_d_model: null        # d_model of the Noam formula; null = model.hidden_channels (192)
      betas: [0.9, 0.98]        # Adam betas
      eps: 1.0e-9               # Adam epsilon
      weight_decay: 0.0         # Adam (L2) weight decay
      grad_clip_value: 5.0      # clip every gradient element to [-v, v]; 0 = off
      save_interval_steps: 1000 # checkpoint every N optimizer steps (and at the end)
      keep_last: 5              # step checkpoints kept (best.pth is kept apart)
      log_interval_steps: 50    # train.log / TensorBoard scalars every N steps
      eval_interval_steps: 0    # extra dev passes every N steps; 0 = once per epoch only
      image_interval_steps: 1000  # mel / alignment images to TensorBoard every N steps
      tensorboard: true         # write TensorBoard events when tensorboard is installed
      progress_bar: true        # tqdm bar with loss and frames/s (rank 0)
      max_bad_steps: 50         # non-finite losses/gradients skip the step; abort after this many
      data_dependent_init: true # ActNorm data-dependent init on the first batch before training
      ddp_backend: auto         # auto (nccl on CUDA, gloo on CPU) | nccl | gloo
      ddp_find_unused_parameters: false  # DistributedDataParallel's find_unused_parameters
      pad_multiple_tokens: 1    # pad each batch's token axis to a multiple of this
      pad_multiple_frames: 1    # ... and its frame axis (rounded up to the model's squeeze)
      compile: none             # torch.compile the encoder and flow decoder: none | default |
                                #   reduce-overhead (CUDA graphs) | max-autotune | max-autotune-no-cudagraphs
      compile_backend: inductor # torch.compile backend (inductor, cudagraphs, aot_eager, eager, ...)

Padding is exact (every layer masks padded positions and the losses are normalised
by the true lengths), so ``pad_multiple_*`` changes no result, only the number of
distinct batch shapes: with ``compile`` each new shape costs a recompilation (or a
new CUDA graph), so bucket them, e.g. 8 tokens and 32 frames.
"""

from __future__ import annotations

import copy
from typing import Any

TRAIN_DEFAULTS: dict[str, Any] = {
    "seed": 1234,
    "precision": "fp32",
    "batch_size": 32,
    "batch_frames": 28000,
    "shuffle": True,
    "num_workers": 2,
    "accum_grad": 1,
    "max_steps": 240000,
    "max_epochs": 0,
    "learning_rate": 1.0,
    "warmup_steps": 4000,
    "noam_d_model": None,
    "betas": [0.9, 0.98],
    "eps": 1.0e-9,
    "weight_decay": 0.0,
    "grad_clip_value": 5.0,
    "save_interval_steps": 1000,
    "keep_last": 5,
    "log_interval_steps": 50,
    "eval_interval_steps": 0,
    "image_interval_steps": 1000,
    "tensorboard": True,
    "progress_bar": True,
    "max_bad_steps": 50,
    "data_dependent_init": True,
    "ddp_backend": "auto",
    "ddp_find_unused_parameters": False,
    "pad_multiple_tokens": 1,
    "pad_multiple_frames": 1,
    "compile": "none",
    "compile_backend": "inductor",
}

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
    "precision": ("fp32", "bf16", "fp16"),
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
