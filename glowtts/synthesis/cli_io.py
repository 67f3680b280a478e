"""Input and output of ``glowtts-synthesize`` for applications: JSON lines in, raw PCM or
a WAV on stdout, timings files.

A JSON line is one object: ``{"text": "...", "speaker": "spk1", "length_scale": 1.1,
"noise_scale": 0.5, "output_file": "out/1.wav"}`` (all but ``text`` optional). Blank
lines are skipped; anything else that is not such an object is an error naming the line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import numpy as np

from .batch_decode import check_scale
from .pcm import pcm16, wav_bytes

JSON_KEYS = ("text", "speaker", "length_scale", "noise_scale", "output_file")


class JSONLineError(ValueError):
    """A JSON input line that cannot be synthesised; the message names the line."""


def parse_json_line(line: str, lineno: int) -> dict[str, Any]:
    """``{"text", "options" (spk, length_scale, noise_scale), "output_file"}`` of one line.

    Raises:
        JSONLineError: not a JSON object, an unknown key, a missing text, a bad value.
    """

    def bad(msg: str) -> JSONLineError:
        return JSONLineError(f"JSON input line {lineno}: {msg}")

    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as e:
        raise bad(f"not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise bad('expected an object like {"text": "..."}')
    unknown = sorted(set(obj) - set(JSON_KEYS))
    if unknown:
        raise bad(f"unknown key(s) {unknown}; valid: {', '.join(JSON_KEYS)}")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad("'text' (a non-empty string) is required")
    opts: dict[str, Any] = {}
    spk = obj.get("speaker")
    if spk is not None:
        if isinstance(spk, bool) or not isinstance(spk, (int, str)):
            raise bad(f"'speaker' must be an id or a name, got {spk!r}")
        opts["spk"] = spk
    for key in ("length_scale", "noise_scale"):
        if obj.get(key) is not None:
            try:
                if isinstance(obj[key], str):
                    raise ValueError(f"{key} must be a number, got {obj[key]!r}")
                opts[key] = check_scale(key, obj[key])
            except ValueError as e:
                raise bad(str(e)) from None
    out = obj.get("output_file")
    if out is not None and (not isinstance(out, str) or not out):
        raise bad(f"'output_file' must be a path, got {out!r}")
    return {"text": text, "options": opts, "output_file": out}


def read_json_lines(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, parsed line)`` as lines arrive (a pipe is answered line by line)."""
    for n, line in enumerate(lines, 1):
        if line.strip():
            yield n, parse_json_line(line, n)


def write_raw(chunks: Iterable[np.ndarray], out: BinaryIO) -> int:
    """Write each chunk as 16-bit PCM and flush it at once; the number of samples."""
    n = 0
    for chunk in chunks:
        out.write(pcm16(chunk))
        out.flush()
        n += len(chunk)
    return n


def write_wav(wav: np.ndarray, sample_rate: int, out: BinaryIO) -> None:
    """A whole WAV file to a byte stream (``--out -``)."""
    out.write(wav_bytes(wav, sample_rate))
    out.flush()


def write_timings(path: str | Path, info: dict[str, Any], text: str) -> None:
    """``--timings FILE.json``: the text and its timings, indented."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"text": text, **info}, f, indent=1, ensure_ascii=False)
        f.write("\n")


def open_text(path: str, stdin: TextIO) -> TextIO:
    """``path`` for reading, or ``stdin`` for ``-``."""
    return stdin if path == "-" else open(path, encoding="utf-8")
