"""Small helpers shared by the command-line mains."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


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


def read_kaldi_lines(path: str | Path) -> Iterator[tuple[str, list[str]]]:
    """``utt field1 field2 ...`` lines as ``(utt, fields)``; blank lines skipped."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            yield parts[0], parts[1:]


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file and rename, so a crash never leaves half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
