"""Training: the ``train:`` config, Adam + Noam, checkpoints, the DDP/AMP trainer loop."""

from glowtts.train.config import TRAIN_DEFAULTS, resolve_train_config
from glowtts.train.schedule import build_optimizer, build_scheduler, noam_factor, peak_lr
from glowtts.train.trainer import NonFiniteLossError, Trainer

__all__ = [
    "TRAIN_DEFAULTS",
    "NonFiniteLossError",
    "Trainer",
    "build_optimizer",
    "build_scheduler",
    "noam_factor",
    "peak_lr",
    "resolve_train_config",
]
