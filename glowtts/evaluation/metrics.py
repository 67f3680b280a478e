"""Per-set metrics of the stage-7 report (:mod:`glowtts.evaluation.driver` runs them).

- :func:`mcd_stats`: mel-cepstral distortion with DTW (:mod:`glowtts.evaluation.mcd`),
  mean / std / median over utterances.
- :func:`duration_errors`: predicted against MAS durations per original token.
- :func:`nll_and_mas`: the training NLL of the reference features, and MAS durations.
- :func:`mel_rtf` / :func:`vocoder_rtf`: real-time factors.
- :func:`wer_summary`: pocketsphinx WER of synthesized, reference and vocoded-reference speech.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from glowtts.audio.features import MelConfig
from glowtts.data.kaldi import iter_fields
from glowtts.evaluation.cache import ScoreCache
from glowtts.evaluation.mcd import mel_cepstral_distortion
from glowtts.text.blanks import strip_blank_durations

log = logging.getLogger(__name__)


class MissingInputError(FileNotFoundError):
    """An input of the evaluation is missing; the message names the file and the stage."""


def require(path: Path, made_by: str) -> Path:
    if not path.is_file():
        raise MissingInputError(f"{path} is missing: it is made by {made_by}; run that stage first")
    return path


# the vocoders stage 7 compares on the same mels
COMPARE_VOCODERS = ("griffin_lim", "hifigan")


@dataclass
class EvalOptions:
    """What to compute. ``max_utts`` (0 = all) limits the utterances per set (the first in
    sorted order) for MCD, durations, NLL and WER; RTFs use the whole decode timing."""

    asr: bool = True
    nll: bool = True
    max_utts: int = 0
    n_coeffs: int = 24
    long_chars: int = 250
    vocoder: str = "griffin_lim"  # for the vocoder RTF and ``vocoded_ref``
    vocoders: tuple[str, ...] = COMPARE_VOCODERS  # each gets synth_<v> and vocoded_ref_<v>
    mos: bool = True  # naturalness estimate (DistillMOS) of every audio set
    vocoder_rtf_utts: int = 3
    vocoder_options: dict[str, Any] | None = None  # e.g. {"checkpoint": ...} for hifigan
    batch_size: int = 8
    device: str = "cpu"
    checkpoint: str | None = None
    durations_dir: str | None = None  # default <exp_dir>/durations
    # decode dirs read: <exp_dir>/decode_<set><decode_suffix> (stage 5-6 --decode_tag)
    decode_suffix: str = ""
    # JSON-lines file of ASR and MOS scores by audio content (evaluation.cache); None: none
    score_cache: str | None = None
    asr_jobs: int = 1  # pocketsphinx processes (it decodes on one core)
    progress: bool = True


def progress_bar(it: Any, opts: EvalOptions, desc: str, total: int | None = None) -> Any:
    from tqdm import tqdm

    return tqdm(
        it,
        desc=desc,
        total=total,
        unit="utt",
        disable=not opts.progress,
        mininterval=1.0 if sys.stderr.isatty() else 30.0,
    )


def summary_stats(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(a.mean()),
        "std": float(a.std()),
        "median": float(np.median(a)),
        "min": float(a.min()),
        "max": float(a.max()),
    }


def mcd_stats(ref_feats: Any, hyp_feats: Any, utts: list[str], opts: EvalOptions) -> dict[str, Any]:
    per_utt = {}
    for utt in progress_bar(utts, opts, "mcd"):
        r = mel_cepstral_distortion(ref_feats[utt], hyp_feats[utt], n_coeffs=opts.n_coeffs)
        per_utt[utt] = {"mcd": r.mcd, "n_pairs": r.n_pairs, "n_ref": r.n_ref, "n_hyp": r.n_hyp}
    vals = [v["mcd"] for v in per_utt.values()]
    ratio = [v["n_hyp"] / v["n_ref"] for v in per_utt.values()]
    return {
        "n_utts": len(per_utt),
        "n_coeffs": opts.n_coeffs,
        **summary_stats(vals),
        "length_ratio_mean": float(np.mean(ratio)),
        "per_utt": per_utt,
    }


def per_token_durations(d: list[int], n_tokens: int | None) -> list[int] | None:
    """Durations per original token: as they are (``n``), or with the blanks of an
    interspersed input (``2n + 1``) merged into the following token. ``None`` if neither."""
    if n_tokens is None:  # token count unknown: judge by parity alone
        return strip_blank_durations(d, "merge") if len(d) % 2 == 1 and len(d) > 1 else d
    if len(d) == n_tokens:
        return d
    if len(d) == 2 * n_tokens + 1:
        return strip_blank_durations(d, "merge")
    return None


def duration_errors(
    pred: dict[str, list[int]],
    mas: dict[str, list[int]],
    utts: list[str],
    source: str,
    n_tokens: dict[str, int] | None,
    add_blank: bool,
) -> dict[str, Any]:
    """Predicted vs MAS durations, compared per original token (blank frames merged)."""
    p_all, r_all, len_err, skipped = [], [], [], 0
    for utt in utts:
        if utt not in pred or utt not in mas:
            skipped += 1
            continue
        n = n_tokens.get(utt) if n_tokens is not None else None
        if n is None and not add_blank:
            p, r = pred[utt], mas[utt]
        else:
            p, r = per_token_durations(pred[utt], n), per_token_durations(mas[utt], n)
        if p is None or r is None or len(p) != len(r):
            skipped += 1
            continue
        p_all += p
        r_all += r
        len_err.append(abs(sum(p) - sum(r)) / max(sum(r), 1))
    if not p_all:
        return {"status": f"n/a (no utterance with matching token counts; source: {source})"}
    p, r = np.asarray(p_all, dtype=np.float64), np.asarray(r_all, dtype=np.float64)
    corr = float(np.corrcoef(p, r)[0, 1]) if p.std() > 0 and r.std() > 0 else float("nan")
    return {
        "source": source,
        "n_utts": len(len_err),
        "n_tokens": len(p_all),
        "n_skipped": skipped,
        "mae_frames": float(np.abs(p - r).mean()),
        "log_rmse": float(np.sqrt(((np.log1p(p) - np.log1p(r)) ** 2).mean())),
        "pearson_r": corr,
        "utt_length_rel_error": float(np.mean(len_err)),
        "_pairs": (p, r),  # for the plot; removed before writing JSON
    }


def mel_rtf(timing_path: Path, conf: MelConfig) -> dict[str, Any]:
    if not timing_path.is_file():
        return {"status": f"n/a ({timing_path} missing; stage 5 writes it)"}
    secs = frames = 0.0
    for _, fields in iter_fields(timing_path):
        secs += float(fields[0])
        frames += float(fields[1])
    audio = frames * conf.hop_length / conf.fs
    return {
        "rtf": secs / audio if audio > 0 else float("nan"),
        "compute_seconds": secs,
        "audio_seconds": audio,
    }


def vocoder_rtf(
    vocoder: Any, mels: list[np.ndarray], conf: MelConfig, name: str, device: str
) -> dict[str, Any]:
    if not mels:
        return {"status": "n/a (no decoded mel)"}
    vocoder([mels[0][: min(len(mels[0]), 16)]], device=device)  # warm-up: first-call setup
    secs = 0.0
    for m in mels:
        t0 = time.perf_counter()
        vocoder([m], device=device)  # returns numpy: the device work is finished
        secs += time.perf_counter() - t0
    audio = sum(len(m) for m in mels) * conf.hop_length / conf.fs
    return {
        "vocoder": name,
        "rtf": secs / audio,
        "n_utts": len(mels),
        "compute_seconds": secs,
        "audio_seconds": audio,
        "device": device,
        "note": "one utterance at a time, after a warm-up call",
    }


class NLLModel:
    """Loads the model once; per set, runs the training forward (eval mode, no grad)."""

    def __init__(self, exp_dir: Path, opts: EvalOptions) -> None:
        import torch

        from glowtts.synthesis.loading import load_experiment

        self.torch = torch
        self.device = torch.device(opts.device)
        exp = load_experiment(exp_dir, opts.checkpoint, self.device)
        self.model, self.config, self.checkpoint = exp.model, exp.config, exp.checkpoint
        self.add_blank = exp.add_blank
        self.exp_dir = exp_dir
        self.opts = opts


def nll_and_mas(
    nll: NLLModel,
    token_path: Path,
    feats: Any,
    utts: list[str],
    spk: dict[str, int] | None,
    opts: EvalOptions,
) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """Run the model's training forward over ``utts`` (batches sorted by length).

    Returns the NLL summary and the MAS durations per utterance (per model input token).
    """
    torch = nll.torch
    from glowtts.data.collate import pad_tokens
    from glowtts.text import intersperse
    from glowtts.text.stage import read_token_file

    tokens = read_token_file(str(token_path))
    missing = [u for u in utts if u not in tokens]
    if missing:
        raise ValueError(
            f"{token_path} has no tokens for {len(missing)} utterance(s), e.g. {missing[0]}"
        )
    order = sorted(utts, key=lambda u: -feats[u].shape[0])
    total_nll = total_elems = 0.0
    mas: dict[str, list[int]] = {}
    n_mels = nll.model.n_mels
    bar = progress_bar(None, opts, "nll", total=len(order))
    for i in range(0, len(order), max(1, opts.batch_size)):
        batch = order[i : i + opts.batch_size]
        ids = [intersperse(tokens[u]) if nll.add_blank else tokens[u] for u in batch]
        mats = [np.array(feats[u], dtype=np.float32) for u in batch]  # writable copy
        tok, tl = pad_tokens(ids)
        fl = torch.tensor([len(m) for m in mats])
        x = torch.zeros(len(batch), int(fl.max()), n_mels)
        for b in range(len(batch)):
            x[b, : len(mats[b])] = torch.as_tensor(mats[b])
        sp = torch.tensor([spk[u] for u in batch], device=nll.device) if spk else None
        with torch.no_grad():
            out = nll.model(
                tok.to(nll.device), tl.to(nll.device), x.to(nll.device), fl.to(nll.device), spk=sp
            )
        n_elems = float(out["n_frames"]) * n_mels
        total_nll += float(out["mle_loss"]) * n_elems
        total_elems += n_elems
        dur = out["durations"].cpu()
        for b, u in enumerate(batch):
            mas[u] = dur[b, : len(ids[b])].tolist()
        bar.update(len(batch))
    bar.close()
    summary = {
        "nll_per_frame_channel": total_nll / total_elems,
        "n_utts": len(order),
        "n_frames": int(total_elems / n_mels),
        "checkpoint": str(nll.checkpoint),
    }
    return summary, mas


def wer_summary(
    asr: Any,
    sets: dict[str, tuple[int, dict[str, np.ndarray]]],
    utts: list[str],
    text: dict[str, str],
    opts: EvalOptions,
) -> dict[str, Any]:
    """Hypotheses of every audio set (``system -> (fs, {utt: wav})``, see
    :mod:`glowtts.evaluation.listening`) and their WERs (all utterances, long subset).
    The legacy systems ``synth``, ``ref``, ``vocoded_ref`` are None when absent."""
    from glowtts.evaluation.asr import transcribe_each, word_error_rate

    hyps: dict[str, dict[str, str]] = {"synth": {}, "ref": {}, "vocoded_ref": {}}
    done: dict[int, dict[str, str]] = {}  # id(audio set) -> hyps: shared sets decode once
    name = getattr(asr, "name", None)  # an ASR without one is not cached
    cache = ScoreCache(opts.score_cache if name else None, name or "")
    for system, (fs, wavs) in sets.items():
        if id(wavs) not in done:
            desc = f"asr {system}"

            def recognise(ws: list[np.ndarray], fs: int = fs, desc: str = desc) -> list[str]:
                with progress_bar(None, opts, desc, total=len(ws)) as bar:
                    if hasattr(asr, "transcribe_many"):  # pocketsphinx: over asr_jobs processes
                        return asr.transcribe_many(ws, fs, opts.asr_jobs, bar.update)
                    return transcribe_each(asr, ws, fs, bar.update)

            found = cache.map([wavs[u] for u in utts], fs, recognise)
            done[id(wavs)] = dict(zip(utts, found))
        hyps[system] = done[id(wavs)]
    if cache.hits:
        log.info("stage 7: %d recognitions read from %s", cache.hits, cache.path)

    def triple(subset: list[str]) -> dict[str, Any]:
        res: dict[str, Any] = {"n_utts": len(subset)}
        for system, h in hyps.items():
            if h:
                res[system] = word_error_rate(
                    [text[u] for u in subset], [h[u] for u in subset]
                ).to_dict()
            else:
                res[system] = None
        return res

    out = {"all": triple(utts)}
    long_utts = [u for u in utts if len(text[u]) > opts.long_chars]
    out["long"] = triple(long_utts) if long_utts else None
    out["long_chars"] = opts.long_chars
    out["hyps"] = {u: {s: h[u] for s, h in hyps.items() if h} | {"text": text[u]} for u in utts}
    return out
