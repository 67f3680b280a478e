"""Process-group setup for training under ``torchrun`` (or a single process)."""

from __future__ import annotations

import datetime
import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from glowtts.utils import resolve_device

logger = logging.getLogger(__name__)


@dataclass
class DistInfo:
    """Where this process sits: ``rank`` of ``world_size``, its ``device``."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    initialized_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup_distributed(device: str = "auto", backend: str = "auto") -> DistInfo:
    """Read ``WORLD_SIZE``/``RANK``/``LOCAL_RANK`` (set by torchrun) and init the group.

    Backend ``auto``: NCCL for CUDA devices, gloo for CPU.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local_rank)
    info = DistInfo(rank=rank, local_rank=local_rank, world_size=world, device=dev)
    if world > 1 and not dist.is_initialized():
        if backend == "auto":
            backend = "nccl" if dev.type == "cuda" else "gloo"
        kw: dict[str, Any] = {"backend": backend, "timeout": datetime.timedelta(minutes=30)}
        if dev.type == "cuda" and backend == "nccl":
            kw["device_id"] = dev
        dist.init_process_group(**kw)
        info.initialized_here = True
        logger.info("rank %d/%d on %s (%s)", rank, world, dev, backend)
    return info


def cleanup_distributed(info: DistInfo, barrier: bool = True) -> None:
    """Destroy the group this module created. ``barrier``: first wait for every rank
    (rank 0 may still be writing plots); tearing gloo down while a peer is busy can abort
    that peer. Pass False after an error, when the peers may never arrive."""
    if info.initialized_here and dist.is_initialized():
        if barrier:
            dist.barrier()
        dist.destroy_process_group()
