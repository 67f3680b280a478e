"""Small helpers shared by the command-line mains."""

from __future__ import annotations

import argparse

# Kept here for the modules that still import them from glowtts.utils; the home is data/kaldi.
from glowtts.data.kaldi import atomic_write_text
from glowtts.data.kaldi import iter_fields as read_kaldi_lines

__all__ = ["atomic_write_text", "read_kaldi_lines", "str2bool"]


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
