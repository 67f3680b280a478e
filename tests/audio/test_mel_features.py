"""The mel feature definition against an independent numpy/scipy implementation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import torch

from glowtts.audio import (
    MelConfig,
    hz_to_mel,
    load_feats_config,
    load_wav,
    logmel,
    logmel_torch,
    mel_filterbank,
    mel_to_hz,
    num_frames,
)


def _ref_hz_to_mel(f: float) -> float:
    # Slaney (Auditory Toolbox): 3 mel per 200 Hz up to 1 kHz, then 27 mel per factor 6.4.
    return 3.0 * f / 200.0 if f < 1000.0 else 15.0 + 27.0 * math.log(f / 1000.0) / math.log(6.4)


def _ref_mel_to_hz(m: float) -> float:
    return 200.0 * m / 3.0 if m < 15.0 else 1000.0 * 6.4 ** ((m - 15.0) / 27.0)


def _ref_filterbank(fs: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    lo_m, hi_m = _ref_hz_to_mel(fmin), _ref_hz_to_mel(fmax)
    edges = [_ref_mel_to_hz(lo_m + (hi_m - lo_m) * i / (n_mels + 1)) for i in range(n_mels + 2)]
    freqs = np.fft.rfftfreq(n_fft, d=1.0 / fs)
    fb = np.zeros((n_mels, freqs.size))
    for m in range(n_mels):
        lo, c, hi = edges[m], edges[m + 1], edges[m + 2]
        # Triangle linear in Hz with unit peak, then scaled to unit area (Slaney norm).
        fb[m] = np.interp(freqs, [lo, c, hi], [0.0, 1.0, 0.0], left=0.0, right=0.0)
        fb[m] *= 2.0 / (hi - lo)
    return fb


def _ref_logmel(wav: np.ndarray, conf: MelConfig) -> np.ndarray:
    win = scipy.signal.get_window("hann", conf.win_length, fftbins=True)
    lpad = (conf.n_fft - conf.win_length) // 2
    window = np.zeros(conf.n_fft)
    window[lpad : lpad + conf.win_length] = win
    x = np.pad(wav.astype(np.float64), conf.n_fft // 2, mode="reflect")
    n_frames = 1 + (len(x) - conf.n_fft) // conf.hop_length
    frames = np.stack(
        [x[t * conf.hop_length : t * conf.hop_length + conf.n_fft] for t in range(n_frames)]
    )
    mag = np.abs(np.fft.rfft(frames * window, axis=1))  # (T, F)
    fb = _ref_filterbank(conf.fs, conf.n_fft, conf.n_mels, conf.fmin, conf.fmax)
    return np.log(np.maximum(mag @ fb.T, conf.log_floor))


def _synthetic(fs: int, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    chirp = 0.4 * scipy.signal.chirp(t, f0=100, f1=7000, t1=seconds, method="logarithmic")
    wav = chirp + 0.05 * rng.standard_normal(t.size)
    wav[: fs // 10] = 0.0  # digital silence exercises the log floor
    return wav.astype(np.float32)


def test_slaney_mel_scale_values() -> None:
    assert float(hz_to_mel(1000.0)) == pytest.approx(15.0)
    assert float(hz_to_mel(500.0)) == pytest.approx(7.5)
    assert float(hz_to_mel(8000.0)) == pytest.approx(_ref_hz_to_mel(8000.0))
    f = np.array([0.0, 300.0, 999.0, 1000.0, 4321.0, 11025.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(f)), f, rtol=1e-12, atol=1e-9)


def test_filterbank_matches_independent_construction() -> None:
    conf = MelConfig()
    fb = mel_filterbank(conf)
    assert fb.shape == (80, 513)
    np.testing.assert_allclose(fb, _ref_filterbank(22050, 1024, 80, 0.0, 8000.0), atol=1e-12)
    # No energy above fmax; every band is non-empty.
    assert np.all(fb[:, np.fft.rfftfreq(1024, 1 / 22050) > 8000.0] == 0)
    assert np.all(fb.max(axis=1) > 0)


def test_logmel_matches_reference_on_real_speech(ljspeech_mini) -> None:
    conf = MelConfig()
    wav = load_wav(ljspeech_mini / "wavs" / "LJ001-0002.wav", conf.fs)
    ours = logmel(wav, conf)
    ref = _ref_logmel(wav, conf)
    assert ours.dtype == np.float32
    assert ours.shape == (1 + len(wav) // 256, 80) == ref.shape
    np.testing.assert_allclose(ours, ref, atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"n_fft": 1024, "win_length": 800, "hop_length": 200, "n_mels": 64, "fmin": 55.0},
        {"fs": 16000, "n_fft": 512, "win_length": 400, "hop_length": 160, "fmax": 7600.0},
    ],
)
def test_logmel_matches_reference_on_synthetic(params: dict) -> None:
    conf = MelConfig.from_dict(params)
    wav = _synthetic(conf.fs, 1.3)
    ours = logmel(wav, conf)
    ref = _ref_logmel(wav, conf)
    assert ours.shape == (num_frames(len(wav), conf), conf.n_mels) == ref.shape
    np.testing.assert_allclose(ours, ref, atol=1e-4, rtol=0)
    # The silent start sits exactly on the floor.
    assert np.allclose(ours[1], np.log(conf.log_floor))


def test_frame_count_convention() -> None:
    conf = MelConfig()
    for n in (513, 1000, 2560, 2561, 22050):
        assert logmel(np.zeros(n, np.float32), conf).shape[0] == 1 + n // 256


def test_batched_torch_float32_matches_numpy() -> None:
    conf = MelConfig()
    a, b = _synthetic(conf.fs, 0.5, 1), _synthetic(conf.fs, 0.5, 2)
    batch = logmel_torch(torch.from_numpy(np.stack([a, b])), conf)
    assert batch.shape == (2, 1 + len(a) // 256, 80) and batch.dtype == torch.float32
    np.testing.assert_allclose(batch[1].numpy(), logmel(b, conf), atol=2e-3)


def test_too_short_and_bad_shapes() -> None:
    conf = MelConfig()
    with pytest.raises(ValueError, match="too short"):
        logmel(np.zeros(100, np.float32), conf)
    with pytest.raises(ValueError, match="mono"):
        logmel(np.zeros((2, 5000), np.float32), conf)


def test_config_rejects_unknown_and_invalid_keys() -> None:
    with pytest.raises(ValueError, match="unknown key.*n_mel\\b.*valid keys"):
        MelConfig.from_dict({"n_mel": 80})
    with pytest.raises(ValueError, match="fmax"):
        MelConfig.from_dict({"fmax": 12000})
    with pytest.raises(ValueError, match="win_length"):
        MelConfig.from_dict({"win_length": 2048})
    assert MelConfig.from_dict({"fmin": 0, "fmax": 8000}) == MelConfig()


def test_yaml_section(tmp_path) -> None:
    p = tmp_path / "train.yaml"
    p.write_text("model:\n  hidden: 192\nfeats:\n  n_mels: 64\n  hop_length: 200\n")
    conf = load_feats_config(p)
    assert (conf.n_mels, conf.hop_length, conf.n_fft) == (64, 200, 1024)
    p.write_text("feats:\n  nmels: 64\n")
    with pytest.raises(ValueError, match="train.yaml.*nmels"):
        load_feats_config(p)
