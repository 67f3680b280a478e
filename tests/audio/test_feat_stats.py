"""Running feature statistics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from glowtts.audio import RunningStats, load_stats, save_stats


def test_running_stats_match_numpy_and_merge(tmp_path) -> None:
    rng = np.random.default_rng(0)
    mats = [rng.normal(5.0, 3.0, size=(n, 4)) + np.arange(4) * 100 for n in (7, 1, 0, 30, 12)]
    allx = np.concatenate(mats)
    s = RunningStats()
    for m in mats:
        s.update(m.astype(np.float32))
    np.testing.assert_allclose(s.mean, allx.mean(0), rtol=1e-6)
    np.testing.assert_allclose(s.std, allx.std(0), rtol=1e-5)
    assert (s.n_utts, s.n_frames) == (5, 50)
    a, b = RunningStats(), RunningStats()
    for m in mats[:2]:
        a.update(m)
    for m in mats[2:]:
        b.update(m)
    a.merge(b)
    np.testing.assert_allclose(a.as_array(), np.stack([allx.mean(0), allx.std(0)]), rtol=1e-9)
    path = tmp_path / "stats.npy"
    save_stats(path, s)
    arr = np.load(path)
    assert arr.shape == (2, 4) and arr.dtype == np.float64
    mean, std = load_stats(path)
    np.testing.assert_allclose(std, allx.std(0), rtol=1e-5)
    info = json.loads((tmp_path / "stats.json").read_text())
    assert info["n_frames"] == 50 and info["n_utts"] == 5 and info["dim"] == 4


def test_dimension_mismatch() -> None:
    s = RunningStats()
    s.update(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="dimension"):
        s.update(np.zeros((3, 5)))
