"""Training: the ``train:`` config, Adam + Noam, checkpoints, the DDP/AMP trainer loop.

Modules: :mod:`.config` (``TrainConfig``, the one source of the defaults),
:mod:`.setup` (everything ``glowtts-train`` does before the loop), :mod:`.trainer`
(the loop), and the pieces any training loop can reuse: :mod:`.logs` (train.log,
loss.jsonl), :mod:`.signals` (SIGTERM/SIGINT stop requests), :mod:`.resume`,
:mod:`.checkpoint` (atomic save, prune, best), :mod:`.images`, :mod:`.schedule`,
:mod:`.distributed`.
"""

from glowtts.train.config import TRAIN_DEFAULTS, TrainConfig, resolve_train_config
from glowtts.train.schedule import build_optimizer, build_scheduler, noam_factor, peak_lr
from glowtts.train.trainer import NonFiniteLossError, Trainer

__all__ = [
    "TRAIN_DEFAULTS",
    "NonFiniteLossError",
    "TrainConfig",
    "Trainer",
    "build_optimizer",
    "build_scheduler",
    "noam_factor",
    "peak_lr",
    "resolve_train_config",
]
