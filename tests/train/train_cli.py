"""glowtts-train's command line for a tinytts corpus: ``root/dump/{train,dev}`` and
``root/tokens.txt`` (one home for the argument list the CLI tests share)."""

from __future__ import annotations

import sys
from pathlib import Path


def train_argv(
    config: Path,
    root: Path,
    exp: Path,
    *extra: str,
    token_list: Path | None = None,
    dev: bool = True,
    device: str = "cpu",
) -> list[str]:
    """Arguments of ``glowtts-train`` (``extra`` appended)."""
    argv = ["--config", str(config), "--train_dir", str(root / "dump/train")]
    if dev:
        argv += ["--dev_dir", str(root / "dump/dev")]
    argv += ["--token_list", str(token_list or root / "tokens.txt")]
    return [*argv, "--exp", str(exp), "--device", device, *extra]


def train_cmd(config: Path, root: Path, exp: Path, *extra: str) -> list[str]:
    """``train_argv`` as a subprocess command (this interpreter, ``-m glowtts.bin.train``)."""
    return [sys.executable, "-m", "glowtts.bin.train", *train_argv(config, root, exp, *extra)]
