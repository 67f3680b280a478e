"""Stage 4: token durations by Monotonic Alignment Search (MAS) and their file format.

:func:`extract_durations` runs a trained Glow-TTS model in eval mode over a dump
dir and writes the hard alignment MAS finds, as integer frame counts per token.
The separate duration-predictor stage that trains on them is
:mod:`glowtts.durations.predictor`.

Durations format (``exp/<tag>/durations/<set>/``)
--------------------------------------------------

``durations``
    One line per utterance, sorted by utterance id, Kaldi style::

        utt_id d1 d2 ... dN

    ``d_i`` is the number of mel frames aligned to the model's ``i``-th input
    token (an integer >= 0; with ``add_blank`` a blank may get 0 frames, a real
    token always gets >= 1 unless it is adjacent to blanks that took its frames).
    ``N`` is the number of tokens the *model* reads: the ids of
    ``dump/<set>/token`` (``n`` ids), or, when the experiment uses
    ``text.add_blank: true``, the interspersed sequence ``[b, t1, b, ..., tn, b]``
    (``N = 2n + 1``, blank id 0; see :mod:`glowtts.text.blanks`). This is exactly
    what ``glowtts-decode --durations`` accepts for teacher forcing.

    The durations sum to the frame count the model used: the utterance's
    ``utt2num_frames`` value (frames of ``dump/<set>/feats.scp``) rounded *down*
    to a multiple of the model's squeeze factor ``model.n_sqz`` (2 by default);
    e.g. 833 frames -> durations summing to 832. The dropped frames (at most
    ``n_sqz - 1``) are the last ones. A model that needs the full length can add
    them to the last token.

``durations.per_token``
    The same, with one entry per token of ``dump/<set>/token`` (no blanks): each
    blank's frames are merged into the token that follows it and the last blank's
    into the last token (:func:`glowtts.text.strip_blank_durations` with
    ``"merge"``), so the sum is unchanged. Without ``add_blank`` it is identical
    to ``durations``. This is the file to give another model (FastSpeech-style
    teacher durations) that reads the token ids without blanks.

``info.yaml``
    ``add_blank``, ``blank_id``, ``squeeze``, the frame shift (``hop_length``,
    ``fs``, ``frame_shift_s``) and the checkpoint the alignment came from.

``plots/<utt>.png``
    Mel and alignment of the first ``n_plots`` utterances (per job when sharded).

Utterances with fewer frames than tokens are not aligned (MAS needs one frame
per token): they are listed in ``skipped`` and have no line in ``durations``.

Frame ``j`` covers samples ``[j * hop_length, j * hop_length + win_length)`` of the
waveform at ``fs`` Hz (feats section of ``config.yaml``), so token ``i`` spans
``sum(d[:i]) * hop_length / fs`` to ``sum(d[:i+1]) * hop_length / fs`` seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from glowtts.data.collate import collate_tts
from glowtts.data.dataset import TTSDataset, find_utt2spk, read_spk_list
from glowtts.data.kaldi import atomic_write_text, iter_fields
from glowtts.nets import GlowTTS
from glowtts.synthesis.loading import Experiment, load_experiment
from glowtts.text.blanks import strip_blank_durations

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------- file formats
def read_durations(path: str | Path) -> dict[str, list[int]]:
    """Read a ``utt d1 ... dN`` file into ``{utt: [d1, ..., dN]}``.

    Raises ``ValueError`` naming the file and utterance on a non-integer or
    negative value or a duplicate utterance.
    """
    out: dict[str, list[int]] = {}
    for utt, fields in iter_fields(path):
        if utt in out:
            raise ValueError(f"{path}: duplicate utterance {utt!r}")
        try:
            d = [int(x) for x in fields]
        except ValueError:
            raise ValueError(f"{path}: utterance {utt!r} has a non-integer duration") from None
        if any(x < 0 for x in d):
            raise ValueError(f"{path}: utterance {utt!r} has a negative duration")
        out[utt] = d
    return out


def write_durations(path: str | Path, durations: dict[str, Sequence[int]]) -> None:
    """Write ``{utt: durations}`` as ``utt d1 ... dN`` lines sorted by utterance id (atomic)."""
    text = "".join(
        f"{u} {' '.join(str(int(x)) for x in durations[u])}\n" for u in sorted(durations)
    )
    atomic_write_text(path, text)


def _speakers(
    model: GlowTTS, exp_dir: str | Path, data_dir: str | Path, utt2spk: str | Path | None
) -> tuple[Path | None, list[str] | None]:
    if model.emb_g is None:
        return None, None
    spk_file = Path(exp_dir) / "spk_list.txt"
    if not spk_file.is_file():
        raise FileNotFoundError(f"{spk_file} missing: a multi-speaker experiment writes it")
    return find_utt2spk(data_dir, utt2spk), read_spk_list(spk_file)


# ------------------------------------------------------------------ extraction
@torch.no_grad()
def mas_durations(model: GlowTTS, batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """MAS durations of one :func:`~glowtts.data.collate.collate_tts` batch.

    Returns ``durations`` ``(B, T_text)`` long, ``path`` ``(B, T_text, T_mel)`` and
    ``n_frames`` ``(B,)`` (feature lengths rounded down to the squeeze factor), on CPU.
    """
    spk = batch["spk"].to(device) if batch.get("spk") is not None else None
    out = model(
        batch["tokens"].to(device),
        batch["token_lengths"].to(device),
        batch["feats"].to(device),
        batch["feat_lengths"].to(device),
        spk,
    )
    n_frames = batch["feat_lengths"] // model.n_sqz * model.n_sqz
    return {"durations": out["durations"].cpu(), "path": out["path"].cpu(), "n_frames": n_frames}


def _batches_by_frames(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Index batches of similar feature length (longest first) to limit padding."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def extract_durations(
    exp_dir: str | Path,
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    checkpoint: str | Path | None = None,
    device: str | torch.device = "cpu",
    batch_size: int = 16,
    utt_list: str | Path | None = None,
    n_plots: int = 4,
    utt2spk: str | Path | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Align every utterance of ``data_dir`` (or those of ``utt_list``) with MAS.

    Writes ``durations``, ``durations.per_token``, ``info.yaml``, ``skipped`` and
    ``plots/*.png`` into ``out_dir`` (format: module docstring).

    Args:
        utt_list: a Kaldi-style file whose first column selects utterances (e.g. a
            ``split_scp`` part of ``dump/<set>/token``); an empty file gives empty outputs.

    Returns:
        ``{"n_utts", "n_skipped", "checkpoint"}``.
    """
    device = torch.device(device)
    out_dir = Path(out_dir)
    exp = load_experiment(exp_dir, checkpoint, device, trainable=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    u2s, spk_list = _speakers(exp.model, exp_dir, data_dir, utt2spk)
    wanted: list[str] | None = None
    if utt_list is not None:
        wanted = [u for u, _ in iter_fields(utt_list)]
    durations: dict[str, list[int]] = {}
    skipped: dict[str, str] = {}
    plots: list[tuple[str, np.ndarray, np.ndarray]] = []
    if wanted is None or wanted:
        dataset = TTSDataset(
            data_dir,
            int(exp.config["n_vocab"]),
            add_blank=exp.add_blank,
            utt2spk=u2s,
            spk_list=spk_list,
            squeeze=exp.model.n_sqz,
        )
        keep, skipped = _select(dataset, Path(data_dir), wanted)
        durations, plots = _align(
            exp.model, dataset, keep, device, batch_size, set(keep[: max(0, n_plots)]), progress
        )
    _write_outputs(exp, out_dir, durations, skipped, plots)
    logger.info("aligned %d utterances with %s -> %s", len(durations), exp.checkpoint, out_dir)
    return {"n_utts": len(durations), "n_skipped": len(skipped), "checkpoint": str(exp.checkpoint)}


def _select(
    dataset: TTSDataset, data_dir: Path, wanted: list[str] | None
) -> tuple[list[str], dict[str, str]]:
    """The utterances to align (sorted) and the unusable ones with the reason."""
    index = set(dataset.utt_ids)
    asked = _all_utts(data_dir) if wanted is None else set(wanted)
    why = "not usable in the dump dir (no feats/token, or fewer frames than tokens)"
    skipped = {u: why for u in sorted(asked - index)}
    keep = sorted(index) if wanted is None else sorted(asked & index)
    return keep, skipped


def _align(
    model: GlowTTS,
    dataset: TTSDataset,
    keep: list[str],
    device: torch.device,
    batch_size: int,
    plot_utts: set[str],
    progress: bool,
) -> tuple[dict[str, list[int]], list[tuple[str, np.ndarray, np.ndarray]]]:
    """MAS durations of the ``keep`` utterances, and the mel/alignment of ``plot_utts``."""
    from tqdm import tqdm

    index = {u: i for i, u in enumerate(dataset.utt_ids)}
    idx = [index[u] for u in keep]
    durations: dict[str, list[int]] = {}
    plots: list[tuple[str, np.ndarray, np.ndarray]] = []
    with tqdm(total=len(idx), desc="MAS", unit="utt", disable=not progress) as bar:
        for b in _batches_by_frames([dataset.feat_lengths[i] for i in idx], batch_size):
            items = [dataset[idx[j]] for j in b]
            batch = collate_tts(items)
            res = mas_durations(model, batch, device)
            for k, utt in enumerate(batch["utt_ids"]):
                n_tok = int(batch["token_lengths"][k])
                n_frm = int(res["n_frames"][k])
                d = res["durations"][k, :n_tok].tolist()
                if sum(d) != n_frm:  # MAS is surjective: anything else is a bug
                    raise RuntimeError(f"{utt}: durations sum to {sum(d)}, not {n_frm} frames")
                durations[utt] = d
                if utt in plot_utts:
                    mel = items[k]["feats"][:n_frm].numpy()
                    plots.append((utt, mel, res["path"][k, :n_tok, :n_frm].numpy()))
            bar.update(len(b))
    return durations, plots


def _write_outputs(
    exp: Experiment,
    out_dir: Path,
    durations: dict[str, list[int]],
    skipped: dict[str, str],
    plots: list[tuple[str, np.ndarray, np.ndarray]],
) -> None:
    """``durations``, ``durations.per_token``, ``skipped``, ``info.yaml`` and the plots."""
    write_durations(out_dir / "durations", durations)
    per_token = (
        {u: strip_blank_durations(d, "merge") for u, d in durations.items()}
        if exp.add_blank
        else durations
    )
    write_durations(out_dir / "durations.per_token", per_token)
    atomic_write_text(
        out_dir / "skipped", "".join(f"{u} {r}\n" for u, r in sorted(skipped.items()))
    )
    feats_conf = exp.config.get("feats") or {}
    hop, fs = feats_conf.get("hop_length"), feats_conf.get("fs")
    info = {
        "format": "utt d1 ... dN: integer frames per model input token, summing to the "
        "utterance's frame count rounded down to a multiple of squeeze",
        "add_blank": exp.add_blank,
        "blank_id": 0,
        "squeeze": int(exp.model.n_sqz),
        "hop_length": hop,
        "fs": fs,
        "frame_shift_s": (float(hop) / float(fs)) if hop and fs else None,
        "checkpoint": str(exp.checkpoint),
        "step": int(exp.state.get("step") or 0),
    }
    atomic_write_text(out_dir / "info.yaml", yaml.safe_dump(info, sort_keys=False))
    if plots:
        from glowtts.train.plots import plot_mel_alignment

        (out_dir / "plots").mkdir(exist_ok=True)
        for utt, mel, path in sorted(plots, key=lambda p: p[0]):
            plot_mel_alignment(mel, path, out_dir / "plots" / f"{utt}.png", title=utt)
    if skipped:
        logger.warning(
            "%d utterance(s) not aligned (listed in %s), e.g. %s",
            len(skipped),
            out_dir / "skipped",
            ", ".join(sorted(skipped)[:5]),
        )


def _all_utts(data_dir: Path) -> set[str]:
    utts: set[str] = set()
    for name in ("feats.scp", "token"):
        if (data_dir / name).is_file():
            utts |= {u for u, _ in iter_fields(data_dir / name)}
    return utts
