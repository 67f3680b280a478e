"""Stop requests: SIGTERM (Slurm's time limit, ``kill``, torchrun) and SIGINT (Ctrl-C)
end the step in progress; the loop then writes a checkpoint and stops."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterable, Iterator

import torch
import torch.distributed as dist

from glowtts.train.distributed import DistInfo

logger = logging.getLogger("glowtts.train")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def ignore_stop_signals(_: int = 0) -> None:
    """A DataLoader ``worker_init_fn``: workers ignore SIGINT/SIGTERM. A scheduler signals
    the whole process group, and the main process must outlive its workers to write the
    last checkpoint (the loader ends them when it is torn down)."""
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)


@contextlib.contextmanager
def worker_iter(loader: Iterable) -> Iterator[Iterator]:
    """``iter(loader)`` whose worker processes are ended on leaving, however it is left.

    Needed because the workers ignore SIGTERM (:func:`ignore_stop_signals`): an error
    raised in a worker is re-raised in the main process with a traceback that keeps the
    iterator alive in a reference cycle, so nothing shuts its workers down before
    interpreter exit, where multiprocessing ends daemonic children with SIGTERM and then
    waits for them forever.
    """
    it = iter(loader)
    try:
        yield it
    finally:
        shutdown = getattr(it, "_shutdown_workers", None)  # absent with num_workers 0
        if shutdown is not None:
            shutdown()


class StopRequest:
    """Catches the stop signals while active (a context manager); a second SIGINT aborts
    at once with ``KeyboardInterrupt``. ``signum``: the first signal caught, or None."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict = {}

    def __enter__(self) -> StopRequest:
        self.signum = None
        # Python installs handlers only in the main thread; elsewhere nothing is caught
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handler) for s in STOP_SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _handler(self, signum, frame) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        if self.signum is None:
            self.signum = signum
            logger.warning(
                "%s received: stopping after this step with a checkpoint "
                "(press Ctrl-C again to abort without one)",
                signal.Signals(signum).name,
            )

    def agreed(self, info: DistInfo) -> bool:
        """Whether any rank got a stop signal (collective under DDP: all ranks stop at
        the same step, or the others would wait forever in the next all-reduce)."""
        if info.distributed:
            t = torch.tensor([self.signum or 0], device=info.device)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            agreed = int(t)  # one host sync per step
            if agreed:
                self.signum = self.signum or agreed
        return self.signum is not None
