"""Mel-cepstral distortion and DTW: exact values on constructed pairs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.fft import idct

from glowtts.evaluation.mcd import MCD_CONST, dtw, logmel_to_mcep, mel_cepstral_distortion


def _smooth_logmel(t: int, n_mels: int = 80, seed: int = 0) -> np.ndarray:
    """A slowly varying log-mel-like sequence ``(t, n_mels)``."""
    rng = np.random.default_rng(seed)
    time = np.linspace(0, 1, t)[:, None]
    bands = np.linspace(0, 1, n_mels)[None, :]
    x = -5 + np.sin(2 * np.pi * (time + bands * rng.uniform(1, 3)))
    x += 0.5 * np.cos(2 * np.pi * (time * bands + rng.uniform()))
    return x.astype(np.float32)


def _brute_force_dtw(cost: np.ndarray) -> float:
    t1, t2 = cost.shape
    acc = np.full((t1 + 1, t2 + 1), np.inf)
    acc[0, 0] = 0.0
    for i, j in itertools.product(range(1, t1 + 1), range(1, t2 + 1)):
        acc[i, j] = cost[i - 1, j - 1] + min(acc[i - 1, j], acc[i, j - 1], acc[i - 1, j - 1])
    return acc[-1, -1]


def test_identical_features_give_zero():
    x = np.random.default_rng(1).normal(-4, 2, size=(120, 80))
    res = mel_cepstral_distortion(x, x)
    assert res.mcd == 0.0
    assert res.n_pairs == 120


@pytest.mark.parametrize("k, delta", [(1, 0.5), (7, -0.3), (24, 1.25)])
@pytest.mark.parametrize("use_dtw", [False, True])
def test_constant_cepstral_offset_gives_expected_value(k, delta, use_dtw):
    x = np.random.default_rng(2).normal(-4, 2, size=(60, 80))
    shift = np.zeros(80)
    shift[k] = delta
    y = x + idct(shift, type=2, norm="ortho")  # adds exactly `delta` to c_k of every frame
    np.testing.assert_allclose(
        logmel_to_mcep(y) - logmel_to_mcep(x), np.outer(np.ones(60), shift[:25]), atol=1e-12
    )
    res = mel_cepstral_distortion(x, y, use_dtw=use_dtw)
    expected = 10 / np.log(10) * np.sqrt(2 * delta**2)
    assert res.mcd == pytest.approx(expected, rel=1e-9)
    assert res.mcd == pytest.approx(MCD_CONST * abs(delta), rel=1e-9)
    assert res.n_pairs == 60


def test_offset_outside_compared_coefficients_is_ignored():
    x = np.random.default_rng(3).normal(-4, 2, size=(40, 80))
    gain = x + 0.7  # a constant in every band only moves c_0
    assert mel_cepstral_distortion(x, gain).mcd == pytest.approx(0.0, abs=1e-9)
    shift = np.zeros(80)
    shift[30] = 2.0  # beyond D = 24
    y = x + idct(shift, type=2, norm="ortho")
    assert mel_cepstral_distortion(x, y, n_coeffs=24).mcd == pytest.approx(0.0, abs=1e-9)
    assert mel_cepstral_distortion(x, y, n_coeffs=30).mcd == pytest.approx(MCD_CONST * 2.0)


def test_dtw_absorbs_time_stretch():
    x = _smooth_logmel(100)
    doubled = np.repeat(x, 2, axis=0)  # every frame twice: an exact 2x stretch
    res = mel_cepstral_distortion(x, doubled)
    assert res.mcd == pytest.approx(0.0, abs=1e-9)
    assert res.n_pairs == 200
    # A 1.5x stretch by linear interpolation of a smooth sequence: close to 0 with DTW,
    # far from it when the frames are paired by position.
    t_new = np.linspace(0, 99, 150)
    stretched = np.stack([np.interp(t_new, np.arange(100), x[:, m]) for m in range(80)], 1)
    warped = mel_cepstral_distortion(x, stretched).mcd
    truncated = mel_cepstral_distortion(x, stretched[:100], use_dtw=False).mcd
    step = mel_cepstral_distortion(x[:-1], x[1:], use_dtw=False).mcd  # neighbour frames
    assert warped < 0.5 * step
    assert warped < 0.05 * truncated


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (6, 1), (7, 9), (25, 18)])
def test_dtw_matches_brute_force(shape):
    cost = np.random.default_rng(sum(shape)).random(shape)
    pi, pj, total = dtw(cost)
    assert total == pytest.approx(_brute_force_dtw(cost), rel=1e-12)
    assert cost[pi, pj].sum() == pytest.approx(total, rel=1e-12)
    assert (pi[0], pj[0]) == (0, 0) and (pi[-1], pj[-1]) == (shape[0] - 1, shape[1] - 1)
    steps = np.stack([np.diff(pi), np.diff(pj)], 1)
    assert all(tuple(s) in {(0, 1), (1, 0), (1, 1)} for s in steps)


def test_bad_inputs_are_rejected():
    x = np.zeros((10, 80))
    with pytest.raises(ValueError, match="n_mels"):
        mel_cepstral_distortion(x, np.zeros((10, 40)))
    with pytest.raises(ValueError, match="equal lengths"):
        mel_cepstral_distortion(x, np.zeros((11, 80)), use_dtw=False)
    with pytest.raises(ValueError, match="n_coeffs"):
        logmel_to_mcep(x, n_coeffs=80)
