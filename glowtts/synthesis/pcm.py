"""16-bit PCM bytes and WAV headers for audio that is sent as it is made (stdout, HTTP).

A streamed WAV cannot know its size in its header, so :func:`wav_header` writes
``0xFFFFFFFF`` for the RIFF and data sizes when ``n_samples`` is None: players and
``ffmpeg``/``sox``/Python's ``soundfile`` read such a file to its end.
"""

from __future__ import annotations

import struct

import numpy as np

UNKNOWN_SIZE = 0xFFFFFFFF


def pcm16(wav: np.ndarray) -> bytes:
    """Little-endian 16-bit PCM of ``wav`` ``(L,)`` (float in [-1, 1], clipped)."""
    x = np.clip(np.asarray(wav, dtype=np.float32).reshape(-1), -1.0, 1.0) * 32767.0
    return x.round().astype("<i2").tobytes()


def wav_header(sample_rate: int, n_samples: int | None = None) -> bytes:
    """The 44-byte header of a mono 16-bit PCM WAV of ``n_samples`` samples (None: of
    unknown length, sizes ``0xFFFFFFFF``)."""
    data = UNKNOWN_SIZE if n_samples is None else 2 * int(n_samples)
    riff = UNKNOWN_SIZE if n_samples is None else 36 + data
    sr = int(sample_rate)
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sr, 2 * sr, 2, 16)
        + b"data"
        + struct.pack("<I", data)
    )


def wav_bytes(wav: np.ndarray, sample_rate: int) -> bytes:
    """A whole 16-bit PCM mono WAV file of ``wav``."""
    pcm = pcm16(wav)
    return wav_header(sample_rate, len(pcm) // 2) + pcm
