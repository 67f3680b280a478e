"""Scores of audio remembered by content, so stage 7 does not score the same audio twice.

Every experiment scored on a set hears the same reference recordings and, through a
deterministic vocoder, the same vocoded reference mels; recognising them took most of a
stage-7 run (pocketsphinx on three audio sets). A :class:`ScoreCache` maps
``sha256(scorer, sample rate, float32 samples)`` to the score, so a second experiment on
the set, or a rerun, reads them back; anything that changes the audio or the scorer
changes the key. The file holds JSON lines ``{"key": ..., "value": ...}``, appended as
scores are made; a line that cannot be read (a run killed mid-write) is skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


class ScoreCache:
    """Scores of one ``scorer`` (a string naming the model and its version) by audio content.

    Args:
        path: the JSON-lines file shared by every scorer (created on first write); None
            keeps nothing (every score is computed).
        scorer: what makes the score, e.g. ``pocketsphinx 5.0.4 16000``.
    """

    def __init__(self, path: str | Path | None, scorer: str) -> None:
        self.path = None if path is None else Path(path)
        self.scorer = scorer
        self._values: dict[str, Any] = {}
        self.hits = 0
        if self.path is not None and self.path.is_file():
            self._read()

    def _read(self) -> None:
        bad = 0
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                    self._values[str(entry["key"])] = entry["value"]
                except (ValueError, KeyError, TypeError):
                    bad += 1
        if bad:
            log.warning("%s: %d unreadable line(s) skipped", self.path, bad)

    def key(self, wav: np.ndarray, fs: int) -> str:
        h = hashlib.sha256(f"{self.scorer}\0{int(fs)}\0".encode())
        h.update(np.ascontiguousarray(wav, dtype=np.float32).tobytes())
        return h.hexdigest()

    def map(
        self, wavs: Sequence[np.ndarray], fs: int, score: Callable[[list[np.ndarray]], list[Any]]
    ) -> list[Any]:
        """The score of each of ``wavs``: cached ones read back, the others computed by
        ``score`` (given the missing waveforms, in order) and stored."""
        keys = [self.key(w, fs) for w in wavs]
        missing = [i for i, k in enumerate(keys) if k not in self._values]
        self.hits += len(wavs) - len(missing)
        if missing:
            new = score([wavs[i] for i in missing])
            if len(new) != len(missing):
                raise RuntimeError(f"scorer gave {len(new)} scores for {len(missing)} waveforms")
            fresh = {keys[i]: v for i, v in zip(missing, new)}
            self._values.update(fresh)
            self._append(fresh)
        return [self._values[k] for k in keys]

    def _append(self, entries: dict[str, Any]) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(
                    "".join(json.dumps({"key": k, "value": v}) + "\n" for k, v in entries.items())
                )
        except OSError as e:  # a read-only dump dir costs time next run, not this report
            log.warning("score cache %s not written (%s); scores are not kept", self.path, e)
            self.path = None
