"""Griffin-Lim: output length, convergence, batching."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from glowtts.audio import (
    MelConfig,
    griffin_lim,
    griffin_lim_batch,
    griffin_lim_linear,
    load_wav,
    logmel,
    spectral_convergence,
)
from glowtts.audio.griffin_lim import _stft

CONF = MelConfig()


@pytest.fixture(scope="module")
def speech(ljspeech_mini) -> np.ndarray:
    return load_wav(ljspeech_mini / "wavs" / "LJ001-0002.wav", CONF.fs)


def _magnitude(wav: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(wav).double()[None]
    win = torch.hann_window(CONF.win_length, dtype=torch.float64)
    return _stft(x, CONF, win).abs()  # (1, F, T)


def test_spectral_convergence_improves(speech) -> None:
    mag = _magnitude(speech)
    sc = {}
    for n_iter, momentum in [(1, 0.99), (30, 0.99), (30, 0.0)]:
        wav = griffin_lim_linear(mag, CONF, n_iter, momentum, length=len(speech))
        sc[n_iter, momentum] = float(spectral_convergence(wav, mag, CONF))
    assert sc[30, 0.99] < sc[30, 0.0] < sc[1, 0.99]
    assert sc[30, 0.99] < 0.1, sc


def test_from_logmel_length_and_round_trip(speech) -> None:
    mel = logmel(speech, CONF)
    wav = griffin_lim(mel, CONF, n_iter=30)
    assert wav.dtype == np.float32
    assert wav.shape == ((mel.shape[0] - 1) * CONF.hop_length,)
    again = logmel(wav, CONF)
    assert again.shape == mel.shape
    # The re-analysed mel magnitudes match the target closely (relative Frobenius error).
    err = np.linalg.norm(np.exp(again) - np.exp(mel)) / np.linalg.norm(np.exp(mel))
    assert err < 0.15, err
    noise = griffin_lim(mel, CONF, n_iter=0)
    err0 = np.linalg.norm(np.exp(logmel(noise, CONF)) - np.exp(mel)) / np.linalg.norm(np.exp(mel))
    assert err < err0


def test_numpy_and_torch_inputs_agree_and_seed_is_deterministic(speech) -> None:
    mel = logmel(speech[:20000], CONF)
    a = griffin_lim(mel, CONF, n_iter=5, seed=3)
    b = griffin_lim(torch.from_numpy(mel), CONF, n_iter=5, seed=3)
    np.testing.assert_allclose(a, b, atol=1e-5)
    c = griffin_lim(mel, CONF, n_iter=5, seed=4)
    assert not np.allclose(a, c)
    d = griffin_lim(mel, CONF, n_iter=5, seed=3, power=1.5)
    assert d.shape == a.shape and not np.allclose(a, d)


def test_batch_lengths_and_quality(speech) -> None:
    m1 = logmel(speech, CONF)
    m2 = logmel(speech[:15000], CONF)
    batch = np.full((2, m1.shape[0], CONF.n_mels), 3.0, dtype=np.float32)  # junk padding
    batch[0] = m1
    batch[1, : m2.shape[0]] = m2
    out = griffin_lim_batch(batch, [m1.shape[0], m2.shape[0]], CONF, n_iter=30)
    assert [w.shape[0] for w in out] == [(m.shape[0] - 1) * CONF.hop_length for m in (m1, m2)]
    for w, m in zip(out, (m1, m2)):
        re = np.exp(logmel(w, CONF))
        err = np.linalg.norm(re - np.exp(m)) / np.linalg.norm(np.exp(m))
        assert err < 0.2, err


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="80"):
        griffin_lim(np.zeros((10, 64), np.float32), CONF)
    with pytest.raises(ValueError, match="lengths"):
        griffin_lim_batch(np.zeros((2, 10, 80), np.float32), [10, 11], CONF)
    with pytest.raises(ValueError, match="momentum"):
        griffin_lim(np.zeros((10, 80), np.float32), CONF, momentum=1.0)


def _reference_griffin_lim(mag, conf, n_iter, momentum, seed):
    """The loop before the in-place rewrite (one fresh tensor per step), kept as the oracle."""
    from glowtts.audio.griffin_lim import _istft

    length = (mag.shape[-1] - 1) * conf.hop_length
    window = torch.hann_window(conf.win_length, periodic=True, dtype=mag.dtype)
    gen = torch.Generator().manual_seed(seed)
    phase = torch.rand(mag.shape, generator=gen, dtype=mag.dtype)
    angles = torch.polar(torch.ones_like(mag), 2 * torch.pi * phase)
    prev = torch.zeros_like(angles)
    for _ in range(n_iter):
        rebuilt = _stft(_istft(mag * angles, conf, window, length), conf, window)
        extrapolated = rebuilt + momentum * (rebuilt - prev)
        prev = rebuilt
        angles = extrapolated / extrapolated.abs().clamp(min=1e-16)
    return _istft(mag * angles, conf, window, length)


@pytest.mark.parametrize("momentum", [0.99, 0.0])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_in_place_loop_matches_the_reference(momentum, dtype) -> None:
    g = torch.Generator().manual_seed(1)
    mag = torch.rand(2, CONF.n_fft // 2 + 1, 40, generator=g, dtype=dtype) ** 3
    mag[1, :, 30:] = 0  # a padded item
    ref = _reference_griffin_lim(mag, CONF, 12, momentum, seed=5)
    out = griffin_lim_linear(mag, CONF, n_iter=12, momentum=momentum, seed=5)
    assert out.dtype == dtype
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-6)
