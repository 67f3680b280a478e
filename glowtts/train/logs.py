"""Training logs: ``train.log`` (+ stderr) handlers, the loss log ``loss.jsonl``, throughput.

Reusable by any training loop (the Glow-TTS trainer, the duration stage)::

    with training_logging(exp_dir / "train.log"):
        log = LossLog(exp_dir / "loss.jsonl")
        log.append({"split": "train", "step": 1, "loss": 0.5})
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from glowtts.data.kaldi import atomic_open

LOG_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"


@contextlib.contextmanager
def training_logging(
    log_file: str | Path | None,
    *,
    logger_name: str = "glowtts",
    stderr: bool = True,
    mode: str = "a",
    fmt: str = LOG_FORMAT,
    propagate: bool | None = False,
) -> Iterator[logging.Logger]:
    """While inside, INFO records of ``logger_name`` go to ``log_file`` (and stderr).

    ``log_file`` None (a DDP rank other than 0): no handlers, only warnings pass.
    ``propagate``: set on the logger while inside (None: left alone). The logger's level,
    propagation and handlers are restored on exit.
    """
    log = logging.getLogger(logger_name)
    saved = (log.level, log.propagate)
    handlers: list[logging.Handler] = []
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode=mode, encoding="utf-8"))
        if stderr:
            handlers.append(logging.StreamHandler(sys.stderr))
        for h in handlers:
            h.setFormatter(logging.Formatter(fmt))
            log.addHandler(h)
        log.setLevel(logging.INFO)
    else:
        log.setLevel(logging.WARNING)
    if propagate is not None:
        log.propagate = propagate
    try:
        yield log
    finally:
        for h in handlers:
            log.removeHandler(h)
            h.close()
        log.setLevel(saved[0])
        log.propagate = saved[1]


def read_loss_log(path: str | Path) -> list[dict]:
    """Records of ``loss.jsonl``; a torn last line (killed writer) is ignored."""
    out = []
    p = Path(path)
    if not p.is_file():
        return out
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


class LossLog:
    """``loss.jsonl``: one JSON record per line, ``{"split": "train" | "dev", "step": ..}``.

    ``enabled`` False (DDP ranks other than 0) makes every method a no-op.
    """

    def __init__(self, path: str | Path, enabled: bool = True) -> None:
        self.path = Path(path)
        self.enabled = enabled

    def append(self, rec: dict) -> None:
        if self.enabled:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec) + "\n")

    def records(self) -> list[dict]:
        return read_loss_log(self.path)

    def clear(self) -> None:
        """Start an empty log."""
        self.truncate(0, -1)

    def remove(self) -> None:
        if self.enabled:
            self.path.unlink(missing_ok=True)

    def truncate(self, train_step: int, dev_step: int) -> None:
        """Drop train records after ``train_step`` and dev records after ``dev_step``:
        the ones a run resumed from that checkpoint writes again."""
        if not self.enabled or not self.path.exists():
            return
        keep = [
            r
            for r in self.records()
            if (r.get("split") == "train" and r["step"] <= train_step)
            or (r.get("split") == "dev" and r["step"] <= dev_step)
        ]
        # atomic and on disk: a kill now leaves the old log or the trimmed one
        with atomic_open(self.path, "w", fsync=True) as f:
            f.write("".join(json.dumps(r) + "\n" for r in keep))


class Throughput:
    """Frames per second between two :meth:`rate` calls."""

    def __init__(self) -> None:
        self.t_last, self.frames = time.perf_counter(), 0.0

    def add(self, frames: float) -> None:
        self.frames += frames

    def rate(self) -> float:
        """Frames per second since the last call (or construction); restarts the count."""
        now = time.perf_counter()
        fps = self.frames / max(now - self.t_last, 1e-9)
        self.t_last, self.frames = now, 0.0
        return fps
