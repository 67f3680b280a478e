"""Griffin-Lim over every log-mel of a feats.scp: ``<out_dir>/<utt>.wav`` plus ``wav.scp``."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import kaldiio
import numpy as np
import torch
from tqdm import tqdm

from glowtts.audio.features import MelConfig
from glowtts.audio.griffin_lim import griffin_lim_batch
from glowtts.audio.io import save_wav

__all__ = ["synthesize_scp"]

log = logging.getLogger(__name__)


def synthesize_scp(
    feats_scp: str | Path,
    conf: MelConfig,
    out_dir: str | Path,
    *,
    out_scp: str | Path | None = None,
    n_iter: int = 60,
    momentum: float = 0.99,
    power: float = 1.0,
    batch_size: int = 8,
    device: str = "cpu",
    seed: int = 0,
    progress: bool = True,
) -> int:
    """Vocode every ``(T, n_mels)`` log-mel of ``feats_scp`` with Griffin-Lim.

    Utterances are batched by similar length (``batch_size`` per batch). Writes 16-bit PCM
    ``<out_dir>/<utt>.wav`` and ``out_scp`` (default ``<out_dir>/wav.scp``, ``utt path``,
    sorted). Returns the number of utterances written.
    """
    feats_scp, out_dir = Path(feats_scp), Path(out_dir)
    if not feats_scp.is_file():
        raise FileNotFoundError(f"features scp '{feats_scp}' does not exist")
    out_dir.mkdir(parents=True, exist_ok=True)
    out_scp = Path(out_scp) if out_scp is not None else out_dir / "wav.scp"
    feats = {}
    for utt, mat in kaldiio.load_scp_sequential(str(feats_scp)):
        mat = np.asarray(mat, dtype=np.float32)
        if mat.ndim != 2 or mat.shape[1] != conf.n_mels:
            raise ValueError(
                f"{feats_scp}: '{utt}' has shape {mat.shape}, expected (T, {conf.n_mels}); "
                "is --config the one the features were made with?"
            )
        if mat.shape[0] < 2:
            raise ValueError(f"{feats_scp}: '{utt}' has {mat.shape[0]} frame(s); need >= 2")
        feats[utt] = mat
    order = sorted(feats, key=lambda u: feats[u].shape[0])
    entries = {}
    batches = [order[i : i + batch_size] for i in range(0, len(order), max(1, batch_size))]
    bar = tqdm(
        total=len(order),
        desc="griffin-lim",
        unit="utt",
        disable=not progress,
        mininterval=1.0 if sys.stderr.isatty() else 30.0,
    )
    for utts in batches:
        lens = [feats[u].shape[0] for u in utts]
        x = np.zeros((len(utts), max(lens), conf.n_mels), dtype=np.float32)
        for b, u in enumerate(utts):
            x[b, : lens[b]] = feats[u]
        wavs = griffin_lim_batch(
            torch.from_numpy(x), lens, conf, n_iter, momentum, power, seed, device
        )
        for u, w in zip(utts, wavs):
            peak = float(np.max(np.abs(w))) if w.size else 0.0
            if peak > 1.0:
                # Griffin-Lim does not bound amplitude; scale rather than clip.
                w = w / peak * 0.999
            path = out_dir / f"{u}.wav"
            save_wav(path, w, conf.fs)
            entries[u] = str(path)
        bar.update(len(utts))
    bar.close()
    out_scp.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_scp.with_name(out_scp.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for u in sorted(entries, key=lambda k: k.encode("utf-8")):
            f.write(f"{u} {entries[u]}\n")
    os.replace(tmp, out_scp)
    return len(entries)
