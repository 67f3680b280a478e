"""Decoding batches of token sequences (``glowtts-decode``, stage 5) and the decode defaults.

The experiment is loaded by :func:`glowtts.synthesis.loading.load_experiment`.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

from ..data.collate import pad_tokens
from ..nets import GlowTTS
from ..utils import check_inference_precision, resolve_precision

# The ``decode`` section of config.yaml: defaults of glowtts-decode and the Synthesizer.
# ``max_seconds`` caps the audio of one Synthesizer request (all its chunks), checked on
# the predicted durations before the decoder allocates anything. ``precision``: the
# acoustic model's, fp32 | bf16 | auto (bf16 autocast on CPUs with native bf16).
DECODE_DEFAULTS: dict[str, Any] = {
    "noise_scale": 0.667,
    "length_scale": 1.0,
    "batch_size": 16,
    "max_seconds": 600.0,
    "precision": "fp32",
}

# Allowed ranges, inclusive; the one check used by the API, the CLIs and the server.
# noise_scale is the prior temperature: training samples at 1.0 and the official
# inference uses 0.333-0.667, so 5 leaves room to experiment while 1e30 (NaN audio) is out.
# length_scale multiplies every duration: 0.1-10 spans 10x faster to 10x slower speech,
# beyond which the output is no longer speech but costs up to 10x the frames per token.
SCALE_RANGES: dict[str, tuple[float, float]] = {
    "noise_scale": (0.0, 5.0),
    "length_scale": (0.1, 10.0),
}


def check_scale(name: str, value: Any) -> float:
    """``value`` of the option ``name`` (a key of :data:`SCALE_RANGES`) as a float.

    Raises:
        ValueError: not a finite number in the allowed range; the message names the
            option and the range.
    """
    lo, hi = SCALE_RANGES[name]
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, bool) or not (math.isfinite(v) and lo <= v <= hi):
        raise ValueError(f"{name} must be a number in [{lo:g}, {hi:g}], got {value!r}")
    return v


def option_type(name: str) -> Callable[[str], float]:
    """An argparse ``type`` for ``--<name>`` (``max_seconds`` or a key of
    :data:`SCALE_RANGES`): the same checks as the API, reported by argparse."""

    def parse(text: str) -> float:
        try:
            if name == "max_seconds":
                return check_max_seconds(float(text))
            return check_scale(name, float(text))
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = name  # argparse names the type in its messages
    return parse


def check_max_seconds(value: Any) -> float:
    """``max_seconds`` (the output cap of one request) as a float > 0, else ValueError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, bool) or not (math.isfinite(v) and v > 0):
        raise ValueError(f"max_seconds must be a number > 0, got {value!r}")
    return v


def model_autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """The autocast the acoustic model runs under: none at fp32, bf16 autocast at bf16 (and
    at ``auto`` on a CPU with native bf16). Likelihood terms and durations stay float32."""
    if resolve_precision(check_inference_precision(precision), device) == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def utt_seed(utt: str, seed: int) -> int:
    """Per-utterance noise seed: the same utterance gets the same noise in any batch or job."""
    return (zlib.crc32(utt.encode()) + seed) % (2**63)


def batches_by_length(
    items: list[tuple[str, list[int]]], batch_size: int
) -> Iterable[list[tuple[str, list[int]]]]:
    """Sort by token length (longest first) and cut into batches of ``batch_size``."""
    order = sorted(items, key=lambda it: (-len(it[1]), it[0]))
    for i in range(0, len(order), batch_size):
        yield order[i : i + batch_size]


def pack_by_length(
    lengths: Sequence[int], max_items: int | None = None, max_padded: int | None = None
) -> list[list[int]]:
    """Indices of ``lengths`` in batches, longest first: at most ``max_items`` per batch
    and ``len(batch) * longest <= max_padded`` (an item longer than that goes alone).

    A padded-size budget keeps each batch's tensors small: big ones are served by fresh
    mmap'd pages that fault on every use, which made long text cost more per word.
    """
    order = sorted(range(len(lengths)), key=lambda i: -int(lengths[i]))
    batches: list[list[int]] = []
    for i in order:
        cur = batches[-1] if batches else None
        # longest first, so the first item of a batch is its padded length
        fits = (
            cur is not None
            and (not max_items or len(cur) < max_items)
            and (not max_padded or int(lengths[cur[0]]) * (len(cur) + 1) <= max_padded)
        )
        if fits:
            cur.append(i)
        else:
            batches.append([i])
    return batches


@torch.no_grad()
def decode_batch(
    model: GlowTTS,
    batch: list[tuple[str, list[int]]],
    *,
    device: torch.device,
    noise_scale: float,
    length_scale: float,
    seed: int = 0,
    durations: dict[str, list[int]] | None = None,
    spk: dict[str, int] | None = None,
    precision: str = "fp32",
) -> list[dict[str, Any]]:
    """Decode one batch of ``(utt, token ids)``; returns per-utterance mel ``(T, n_mels)``,
    durations and the seconds spent (the batch time split by frames). ``precision``: see
    :func:`model_autocast`."""
    noise_scale = check_scale("noise_scale", noise_scale)
    length_scale = check_scale("length_scale", length_scale)
    tokens, lengths = pad_tokens([ids for _, ids in batch])
    dur = None
    if durations is not None:
        for utt, ids in batch:
            if utt not in durations:
                raise KeyError(f"no teacher durations for utterance {utt}")
            if len(durations[utt]) != len(ids):
                raise ValueError(f"{utt}: {len(durations[utt])} durations for {len(ids)} tokens")
        dur = pad_tokens([durations[utt] for utt, _ in batch])[0].to(device)
    spk_t = torch.tensor([spk[u] for u, _ in batch], device=device) if spk else None
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    with model_autocast(precision, device):
        out = model.inference(
            tokens.to(device),
            lengths.to(device),
            noise_scale=noise_scale,
            length_scale=length_scale,
            durations=dur,
            spk=spk_t,
            seeds=[utt_seed(u, seed) for u, _ in batch],
        )
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - t0
    mel, mel_lengths, d = out["mel"].cpu(), out["mel_lengths"].cpu(), out["durations"].cpu()
    total = float(mel_lengths.sum())
    results = []
    for i, (utt, ids) in enumerate(batch):
        n = int(mel_lengths[i])
        results.append(
            {
                "utt": utt,
                "mel": mel[i, :n].numpy(),
                "durations": d[i, : len(ids)].tolist(),
                "seconds": elapsed * n / total,
            }
        )
    return results
