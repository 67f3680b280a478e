"""Small helpers shared by the command-line mains, and by train and synthesis (which must
not import train)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch is imported lazily: most mains here run without a model
    import torch

__all__ = [
    "command_parser",
    "read_yaml_mapping",
    "resolve_device",
    "str2bool",
]


def command_parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of a ``glowtts-*`` main: its name, and its module docstring as the help,
    line breaks kept."""
    return argparse.ArgumentParser(
        prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def str2bool(value: str | bool) -> bool:
    """argparse type for Kaldi-style ``true``/``false`` options."""
    if isinstance(value, bool):
        return value
    v = value.lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """A YAML file whose top level is a mapping (an empty file reads as ``{}``)."""
    import yaml

    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level")
    return data


def resolve_device(device: str, local_rank: int = 0) -> torch.device:
    """``cpu`` | ``cuda`` | ``cuda:N`` | ``auto`` (CUDA when available) -> a torch device.

    Plain ``cuda`` means this process's GPU (``local_rank`` modulo the GPU count, as torchrun
    places ranks); a CUDA device also becomes the current one.
    """
    import torch

    if device not in ("cpu", "cuda", "auto") and not device.startswith("cuda:"):
        raise ValueError(f"--device must be cpu, cuda, cuda:N or auto, got {device!r}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"--device {device}: torch sees no CUDA device (CPU build of torch?)"
            )
        if device == "cuda":
            device = f"cuda:{local_rank % torch.cuda.device_count()}"
        torch.cuda.set_device(torch.device(device))
    return torch.device(device)
