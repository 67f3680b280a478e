"""Loading a trained experiment and decoding batches of token sequences.

An experiment dir (``exp/<tag>``) holds ``config.yaml`` (the resolved training
config, with ``n_vocab``), ``tokens.txt`` (+ ``frontend.yaml``) and
``checkpoints/``; everything needed to decode is read from there, so a model
never meets a front-end or feature definition other than the one it trained with.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
import yaml

from ..nets import GlowTTS, build_model

logger = logging.getLogger(__name__)


def find_checkpoint(exp_dir: str | Path, checkpoint: str | Path | None = None) -> Path:
    """``checkpoint`` if given, else ``checkpoints/best.pth``, else the newest ``step_*.pth``."""
    exp_dir = Path(exp_dir)
    if checkpoint:
        path = Path(checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint {path} does not exist")
        return path
    ckpt_dir = exp_dir / "checkpoints"
    best = ckpt_dir / "best.pth"
    if best.is_file():
        return best
    steps = sorted(ckpt_dir.glob("step_*.pth"))
    if not steps:
        raise FileNotFoundError(
            f"no checkpoint in {ckpt_dir}: train first (run.sh --stage 3) or pass --checkpoint"
        )
    return steps[-1]


def load_config(exp_dir: str | Path) -> dict[str, Any]:
    path = Path(exp_dir) / "config.yaml"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: {exp_dir} is not a glowtts experiment dir (stage 3 writes it)"
        )
    return yaml.safe_load(path.read_text())


def load_model(
    exp_dir: str | Path,
    checkpoint: str | Path | None = None,
    device: str | torch.device = "cpu",
) -> tuple[GlowTTS, dict[str, Any], Path]:
    """Build the model of ``exp_dir`` from its config, load weights, prepare for inference.

    Returns ``(model, config, checkpoint_path)``; the model is in eval mode with
    weight norm folded and the inverse 1x1 convs cached.
    """
    config = load_config(exp_dir)
    if "n_vocab" not in config:
        raise ValueError(
            f"{Path(exp_dir) / 'config.yaml'} has no n_vocab: was it written by glowtts-train?"
        )
    path = find_checkpoint(exp_dir, checkpoint)
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(config.get("model", {}), int(config["n_vocab"]))
    model.load_state_dict(state["model"] if "model" in state else state)
    model.to(device)
    return model.prepare_for_inference(), config, path


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
) -> list[dict[str, Any]]:
    """Decode one batch of ``(utt, token ids)``; returns per-utterance mel ``(T, n_mels)``,
    durations and the seconds spent (the batch time split by frames)."""
    lengths = torch.tensor([len(ids) for _, ids in batch])
    tokens = torch.zeros(len(batch), int(lengths.max()), dtype=torch.long)
    for i, (_, ids) in enumerate(batch):
        tokens[i, : len(ids)] = torch.tensor(ids)
    dur = None
    if durations is not None:
        dur = torch.zeros_like(tokens)
        for i, (utt, ids) in enumerate(batch):
            if utt not in durations:
                raise KeyError(f"no teacher durations for utterance {utt}")
            d = durations[utt]
            if len(d) != len(ids):
                raise ValueError(f"{utt}: {len(d)} durations for {len(ids)} tokens")
            dur[i, : len(d)] = torch.tensor(d)
        dur = dur.to(device)
    spk_t = torch.tensor([spk[u] for u, _ in batch], device=device) if spk else None
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
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
