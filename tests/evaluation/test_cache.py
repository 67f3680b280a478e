"""Scores remembered by audio content (stage 7's reference audio is scored once)."""

from __future__ import annotations

import logging

import numpy as np

from glowtts.evaluation.cache import ScoreCache


class _Counting:
    """A scorer that records what it was asked to score."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def __call__(self, wavs: list[np.ndarray]) -> list[str]:
        self.seen += [len(w) for w in wavs]
        return [f"len{len(w)} sum{float(np.sum(w)):.3f}" for w in wavs]


def _wavs(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=n).astype(np.float32) for n in (100, 250, 80)]


def test_scores_come_back_from_the_file_and_only_new_audio_is_scored(tmp_path):
    path = tmp_path / "sub" / "cache.jsonl"
    wavs = _wavs()
    first = _Counting()
    a = ScoreCache(path, "asr v1").map(wavs, 16000, first)
    assert first.seen == [100, 250, 80] and path.is_file()

    second, changed = _Counting(), [w.copy() for w in wavs]
    changed[1][7] += 1e-3  # another waveform: another key
    cache = ScoreCache(path, "asr v1")
    b = cache.map(changed, 16000, second)
    assert second.seen == [250] and cache.hits == 2
    assert b[0] == a[0] and b[2] == a[2] and b[1] != a[1]

    for other in (ScoreCache(path, "asr v2"), ScoreCache(path, "asr v1")):
        counting = _Counting()
        rate = 16000 if other.scorer == "asr v2" else 22050  # another scorer or rate: missed
        assert other.map(wavs, rate, counting) == a and counting.seen == [100, 250, 80]


def test_no_path_keeps_nothing_and_a_broken_line_is_skipped(tmp_path, caplog):
    wavs = _wavs(1)
    counting = _Counting()
    ScoreCache(None, "s").map(wavs, 16000, counting)
    ScoreCache(None, "s").map(wavs, 16000, counting)
    assert len(counting.seen) == 6 and not list(tmp_path.iterdir())

    path = tmp_path / "cache.jsonl"
    ScoreCache(path, "s").map(wavs, 16000, _Counting())
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"key": "abc", "val')  # a run killed mid-write
    with caplog.at_level(logging.WARNING, logger="glowtts.evaluation.cache"):
        cache = ScoreCache(path, "s")
    assert "1 unreadable line" in caplog.text
    again = _Counting()
    cache.map(wavs, 16000, again)
    assert again.seen == [] and cache.hits == 3


def test_an_unwritable_cache_warns_and_still_scores(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = ScoreCache(blocker / "cache.jsonl", "s")  # its parent is a file
    with caplog.at_level(logging.WARNING, logger="glowtts.evaluation.cache"):
        out = cache.map(_wavs(), 16000, _Counting())
    assert len(out) == 3 and "not written" in caplog.text and cache.path is None
