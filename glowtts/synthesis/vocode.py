"""Stage 6: every log-mel of a feats.scp through a vocoder -> ``<out_dir>/<utt>.wav`` + ``wav.scp``.

The vocoder is chosen by name from :data:`glowtts.registry.VOCODERS`; the default ``auto``
is HiFi-GAN universal where it is installed and fits the mel, else Griffin-Lim
(:func:`glowtts.registry.choose_vocoder`).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from glowtts.audio.features import MelConfig
from glowtts.audio.io import save_wav
from glowtts.data.kaldi import FeatsReader, atomic_write_text
from glowtts.registry import AUTO_VOCODER, build_vocoder

__all__ = ["read_mels", "vocode_scp"]

log = logging.getLogger(__name__)


def read_mels(feats_scp: str | Path, conf: MelConfig) -> dict[str, np.ndarray]:
    """``{utt: (T, n_mels) float32}`` of ``feats_scp``, checked against the mel definition.

    Read through :class:`~glowtts.data.kaldi.FeatsReader`: a pipe entry or a pickled record
    is refused (naming the line), never run or unpickled."""
    feats_scp = Path(feats_scp)
    if not feats_scp.is_file():
        raise FileNotFoundError(f"features scp '{feats_scp}' does not exist")
    feats = {}
    for utt, mat in FeatsReader(feats_scp).iter_items():
        mat = np.array(mat, dtype=np.float32)  # a writable copy: torch warns on read-only arrays
        if mat.ndim != 2 or mat.shape[1] != conf.n_mels:
            raise ValueError(
                f"{feats_scp}: '{utt}' has shape {mat.shape}, expected (T, {conf.n_mels}); "
                "is --config the one the features were made with?"
            )
        if mat.shape[0] < 2:
            raise ValueError(f"{feats_scp}: '{utt}' has {mat.shape[0]} frame(s); need >= 2")
        feats[utt] = mat
    return feats


def vocode_scp(
    feats_scp: str | Path,
    conf: MelConfig,
    out_dir: str | Path,
    *,
    vocoder: str = AUTO_VOCODER,
    vocoder_options: dict[str, Any] | None = None,
    out_scp: str | Path | None = None,
    batch_size: int = 8,
    device: str = "cpu",
    progress: bool = True,
) -> int:
    """Vocode every ``(T, n_mels)`` log-mel of ``feats_scp`` with the vocoder ``vocoder``
    built with ``vocoder_options`` (for ``griffin_lim``: ``n_iter``, ``momentum``, ``power``,
    ``seed``).

    Utterances are batched by similar length (``batch_size`` per batch). Writes 16-bit PCM
    ``<out_dir>/<utt>.wav`` and ``out_scp`` (default ``<out_dir>/wav.scp``, ``utt path``,
    sorted). Returns the number of utterances written.
    """
    feats = read_mels(feats_scp, conf)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_scp = Path(out_scp) if out_scp is not None else out_dir / "wav.scp"
    voc = build_vocoder(vocoder, conf.to_dict(), device, **(vocoder_options or {}))
    order = sorted(feats, key=lambda u: feats[u].shape[0])
    entries = {}
    batches = [order[i : i + batch_size] for i in range(0, len(order), max(1, batch_size))]
    bar = tqdm(
        total=len(order),
        desc=getattr(voc, "name", vocoder).replace("_", "-"),
        unit="utt",
        disable=not progress,
        mininterval=1.0 if sys.stderr.isatty() else 30.0,
    )
    for utts in batches:
        for u, w in zip(utts, voc([feats[u] for u in utts], device=device)):
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
    ordered = sorted(entries, key=lambda k: k.encode("utf-8"))
    atomic_write_text(out_scp, "".join(f"{u} {entries[u]}\n" for u in ordered))
    return len(entries)
