"""Waveform I/O: read a wav (file or Kaldi ``cmd |`` pipe), write 16-bit PCM.

Every error names the file (or the pipe command) and says what to do about it, so a
stage that meets a bad utterance can report it and move on or stop cleanly.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

__all__ = ["AudioError", "is_pipe", "load_wav", "save_wav"]


class AudioError(RuntimeError):
    """A wav that cannot be used: missing, unreadable, empty, multi-channel, wrong rate."""


def is_pipe(spec: str) -> bool:
    """True for a Kaldi wav.scp pipe entry, e.g. ``"sox in.flac -t wav - |"``."""
    return spec.rstrip().endswith("|")


def _read_pipe(spec: str) -> tuple[np.ndarray, int]:
    cmd = spec.rstrip()[:-1].strip()
    if not cmd:
        raise AudioError(f"empty pipe command in wav.scp entry '{spec}'")
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()[-500:]
        raise AudioError(f"pipe command '{cmd}' failed with exit status {proc.returncode}: {err}")
    if not proc.stdout:
        raise AudioError(f"pipe command '{cmd}' wrote no audio to stdout")
    try:
        data, fs = sf.read(io.BytesIO(proc.stdout), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise AudioError(
            f"output of pipe command '{cmd}' is not a readable audio stream ({e}); "
            "make the command write a wav header to stdout (e.g. sox ... -t wav -)"
        ) from e
    return data, fs


def _check_riff_complete(path: str) -> None:
    """Refuse a RIFF/WAVE file whose ``data`` chunk is shorter than its header declares.

    libsndfile reads such a file (cut short by a failed copy or a full disk) without
    complaint, at whatever length remains; training on it would be silently wrong.
    Sizes 0 and 0xFFFFFFFF mean "unknown" (streamed headers) and are accepted.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return  # not a RIFF/WAVE file: libsndfile judges it
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk_id, chunk_len = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                have = size - pos - 8
                if chunk_len not in (0, 0xFFFFFFFF) and have < chunk_len:
                    raise AudioError(
                        f"wav file '{path}' is truncated: its header declares {chunk_len} bytes "
                        f"of samples but the file holds {have}; copy or make the file again"
                    )
                return
            pos += 8 + chunk_len + (chunk_len & 1)  # chunks are padded to even sizes


def _read_file(path: str) -> tuple[np.ndarray, int]:
    if not os.path.exists(path):
        raise AudioError(f"wav file '{path}' does not exist")
    if os.path.isdir(path):
        raise AudioError(f"wav path '{path}' is a directory, not an audio file")
    if os.path.getsize(path) == 0:
        raise AudioError(f"wav file '{path}' is empty (0 bytes)")
    _check_riff_complete(path)
    try:
        data, fs = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise AudioError(
            f"wav file '{path}' is corrupt or not a supported audio format ({e})"
        ) from e
    return data, fs


def load_wav(path: str | os.PathLike, expected_fs: int | None = None) -> np.ndarray:
    """Read a mono waveform as float32 in [-1, 1).

    Args:
        path: a file path, or a Kaldi wav.scp pipe entry ``"cmd args |"`` whose stdout is a
            wav (or any format libsndfile reads).
        expected_fs: required sample rate; a different rate is an error (never a silent
            resample). ``None`` accepts any rate.

    Returns:
        ``(L,)`` float32 samples.

    Raises:
        AudioError: missing / corrupt / empty file, failing pipe, more than one channel, or
            a sample rate other than ``expected_fs``. The message names the file.
    """
    spec = os.fspath(path)
    data, fs = _read_pipe(spec) if is_pipe(spec) else _read_file(spec)
    what = f"pipe '{spec}'" if is_pipe(spec) else f"wav file '{spec}'"
    if data.shape[0] == 0:
        raise AudioError(f"{what} contains no samples")
    if data.shape[1] != 1:
        raise AudioError(
            f"{what} has {data.shape[1]} channels; glowtts expects mono audio: "
            f"downmix it first (e.g. sox in.wav -c 1 out.wav, or a wav.scp pipe "
            f"'sox in.wav -c 1 -t wav - |')"
        )
    if expected_fs is not None and fs != expected_fs:
        raise AudioError(
            f"{what} has sample rate {fs} Hz but the feature config expects {expected_fs} Hz; "
            f"resample the corpus (e.g. sox in.wav -r {expected_fs} out.wav, or a wav.scp pipe "
            f"'sox in.wav -r {expected_fs} -t wav - |') or change feats.fs"
        )
    return np.ascontiguousarray(data[:, 0])


def save_wav(path: str | os.PathLike, wav: np.ndarray, fs: int) -> None:
    """Write ``wav`` ``(L,)`` (float in [-1, 1], clipped) as 16-bit PCM mono.

    The file is written to a temporary name and renamed, so a reader never sees half a file.
    """
    wav = np.asarray(wav, dtype=np.float32).reshape(-1)
    if not np.all(np.isfinite(wav)):
        raise AudioError(f"refusing to write '{path}': waveform contains NaN or Inf")
    wav = np.clip(wav, -1.0, 32767.0 / 32768.0)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    sf.write(str(tmp), wav, fs, subtype="PCM_16", format="WAV")
    os.replace(tmp, path)
