"""The stage-7 evaluation report of an experiment: ``exp/<tag>/report.json``, ``report.md``
and PNG plots under ``exp/<tag>/report/``.

Per evaluated set (``dev``, ``eval``, ...):

- ``nll``: negative log-likelihood per frame and mel channel (with the ``0.5 log 2 pi``
  constant; the training ``mle_loss``) of the reference features under the trained model,
  averaged over all frames of the set.
- ``mcd``: mel-cepstral distortion with DTW between decoded and reference log-mels
  (:mod:`glowtts.evaluation.mcd`), mean / std / median over utterances.
- ``durations``: decoded (predicted) durations against MAS durations: per-token mean absolute
  error in frames, RMSE of ``log(1 + d)``, Pearson correlation, mean relative error of the
  utterance length. MAS durations come from stage 4 (``exp/<tag>/durations/<set>/durations``)
  or, failing that, from the evaluator's own NLL pass (the same MAS on the same model).
- ``rtf``: real-time factor of mel generation (decode ``timing``: seconds / audio seconds)
  and of the vocoder (measured here on a few decoded mels).
- ``wer``: pocketsphinx WER of the synthesized wavs, of the reference recordings, and of
  the reference mels through the vocoder (Griffin-Lim by default; key ``vocoded_ref``), so
  the vocoder's share of the errors is visible; the
  same triple on the long-sentence subset (text longer than ``long_chars``) when it exists.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import kaldiio
import numpy as np

from glowtts.audio.features import MelConfig
from glowtts.audio.io import load_wav
from glowtts.evaluation.mcd import mel_cepstral_distortion
from glowtts.text.blanks import strip_blank_durations
from glowtts.utils import read_kaldi_lines

__all__ = ["EvalOptions", "MissingInputError", "evaluate", "write_report", "render_markdown"]

log = logging.getLogger(__name__)


class MissingInputError(FileNotFoundError):
    """An input of the evaluation is missing; the message names the file and the stage."""


def _require(path: Path, made_by: str) -> Path:
    if not path.is_file():
        raise MissingInputError(f"{path} is missing: it is made by {made_by}; run that stage first")
    return path


@dataclass
class EvalOptions:
    """What to compute. ``max_utts`` (0 = all) limits the utterances per set (the first in
    sorted order) for MCD, durations, NLL and WER; RTFs use the whole decode timing."""

    asr: bool = True
    nll: bool = True
    max_utts: int = 0
    n_coeffs: int = 24
    long_chars: int = 250
    vocoder: str = "griffin_lim"
    vocoder_rtf_utts: int = 3
    vocoder_options: dict[str, Any] | None = None  # e.g. {"checkpoint": ...} for hifigan
    batch_size: int = 8
    device: str = "cpu"
    checkpoint: str | None = None
    durations_dir: str | None = None  # default <exp_dir>/durations
    progress: bool = True


def _tqdm(it: Any, opts: EvalOptions, desc: str, total: int | None = None) -> Any:
    from tqdm import tqdm

    return tqdm(
        it,
        desc=desc,
        total=total,
        unit="utt",
        disable=not opts.progress,
        mininterval=1.0 if sys.stderr.isatty() else 30.0,
    )


def _read_table(path: Path) -> dict[str, list[str]]:
    return dict(read_kaldi_lines(path))


def _read_text(path: Path) -> dict[str, str]:
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split(maxsplit=1)
            if parts:
                out[parts[0]] = parts[1] if len(parts) > 1 else ""
    return out


def _stats(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(a.mean()),
        "std": float(a.std()),
        "median": float(np.median(a)),
        "min": float(a.min()),
        "max": float(a.max()),
    }


# ---------------------------------------------------------------- per-set pieces


def _mcd(ref_feats: Any, hyp_feats: Any, utts: list[str], opts: EvalOptions) -> dict[str, Any]:
    per_utt = {}
    for utt in _tqdm(utts, opts, "mcd"):
        r = mel_cepstral_distortion(ref_feats[utt], hyp_feats[utt], n_coeffs=opts.n_coeffs)
        per_utt[utt] = {"mcd": r.mcd, "n_pairs": r.n_pairs, "n_ref": r.n_ref, "n_hyp": r.n_hyp}
    vals = [v["mcd"] for v in per_utt.values()]
    ratio = [v["n_hyp"] / v["n_ref"] for v in per_utt.values()]
    return {
        "n_utts": len(per_utt),
        "n_coeffs": opts.n_coeffs,
        **_stats(vals),
        "length_ratio_mean": float(np.mean(ratio)),
        "per_utt": per_utt,
    }


def _per_token(d: list[int], n_tokens: int | None) -> list[int] | None:
    """Durations per original token: as they are (``n``), or with the blanks of an
    interspersed input (``2n + 1``) merged into the following token. ``None`` if neither."""
    if n_tokens is None:  # token count unknown: judge by parity alone
        return strip_blank_durations(d, "merge") if len(d) % 2 == 1 and len(d) > 1 else d
    if len(d) == n_tokens:
        return d
    if len(d) == 2 * n_tokens + 1:
        return strip_blank_durations(d, "merge")
    return None


def _durations(
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
            p, r = _per_token(pred[utt], n), _per_token(mas[utt], n)
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


def _mel_rtf(timing_path: Path, conf: MelConfig) -> dict[str, Any]:
    if not timing_path.is_file():
        return {"status": f"n/a ({timing_path} missing; stage 5 writes it)"}
    secs = frames = 0.0
    for _, fields in read_kaldi_lines(timing_path):
        secs += float(fields[0])
        frames += float(fields[1])
    audio = frames * conf.hop_length / conf.fs
    return {
        "rtf": secs / audio if audio > 0 else float("nan"),
        "compute_seconds": secs,
        "audio_seconds": audio,
    }


def _vocoder_rtf(
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


class _NLLComputer:
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


def _nll_and_mas(
    nll: Any,
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
    bar = _tqdm(None, opts, "nll", total=len(order))
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


def _load_spk(exp_dir: Path, data_set: Path, config: dict[str, Any]) -> dict[str, int] | None:
    if int((config.get("model") or {}).get("n_speakers", 0) or 0) <= 1:
        return None
    spk_list = _require(exp_dir / "spk_list.txt", "stage 3 (training)").read_text().split()
    spk_id = {s: i for i, s in enumerate(spk_list)}
    utt2spk = _require(data_set / "utt2spk", "stage 0 (data preparation)")
    return {u: spk_id[f[0]] for u, f in read_kaldi_lines(utt2spk)}


def _wav_paths(wav_dir: Path, utts: list[str]) -> dict[str, str]:
    scp = wav_dir / "wav.scp"
    if scp.is_file():
        table = {}
        with open(scp, encoding="utf-8") as f:
            for line in f:
                parts = line.strip().split(maxsplit=1)
                if len(parts) == 2:
                    table[parts[0]] = parts[1]
        return table
    return {u: str(wav_dir / f"{u}.wav") for u in utts}


def _wer(
    asr: Any,
    vocoder: Any,
    utts: list[str],
    text: dict[str, str],
    synth_wavs: dict[str, str],
    ref_wavs: dict[str, str] | None,
    ref_feats: Any,
    conf: MelConfig,
    opts: EvalOptions,
) -> dict[str, Any]:
    """Hypotheses of the three systems and their WERs (all utterances, long subset)."""
    from glowtts.evaluation.asr import word_error_rate

    hyps: dict[str, dict[str, str]] = {"synth": {}, "ref": {}, "vocoded_ref": {}}
    for utt in _tqdm(utts, opts, "asr"):
        if utt not in synth_wavs:
            raise MissingInputError(f"no synthesized wav for {utt} (stage 6 writes them)")
        hyps["synth"][utt] = asr.transcribe(load_wav(synth_wavs[utt], conf.fs), conf.fs)
        if ref_wavs is not None:
            hyps["ref"][utt] = asr.transcribe(load_wav(ref_wavs[utt], conf.fs), conf.fs)
            gl = vocoder([np.array(ref_feats[utt], dtype=np.float32)], device=opts.device)[0]
            hyps["vocoded_ref"][utt] = asr.transcribe(gl, getattr(vocoder, "sample_rate", conf.fs))

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


# ---------------------------------------------------------------- driver


def evaluate(
    exp_dir: str | Path,
    sets: list[str],
    data_dir: str | Path = "data",
    dump_dir: str | Path = "dump",
    opts: EvalOptions | None = None,
) -> dict[str, Any]:
    """Compute the report of ``exp_dir`` over ``sets``; returns the report dict.

    Inputs (relative to the recipe dir): ``data/<set>/{text,wav.scp}`` (stage 0),
    ``dump/<set>/{feats.scp,token}`` (stages 1, 2), ``<exp>/config.yaml`` and a checkpoint
    (stage 3), ``<exp>/decode_<set>/{feats.scp,durations,timing}`` (stage 5),
    ``<exp>/decode_<set>/wav/`` (stage 6), optionally ``<exp>/durations/<set>/durations``
    (stage 4). A set without ``data/<set>/wav.scp`` (text only, e.g. long sentences) gets
    the synthesized-speech WER only.

    Raises:
        MissingInputError: a needed file is missing; the message names it and its stage.
    """
    import yaml

    opts = opts or EvalOptions()
    exp_dir, data_dir, dump_dir = Path(exp_dir), Path(data_dir), Path(dump_dir)
    config = yaml.safe_load(_require(exp_dir / "config.yaml", "stage 3 (training)").read_text())
    conf = MelConfig.from_dict(config.get("feats"))
    dur_root = Path(opts.durations_dir) if opts.durations_dir else exp_dir / "durations"
    add_blank = bool((config.get("text") or {}).get("add_blank", False))

    # Check every input before the slow parts start.
    for s in sets:
        _require(data_dir / s / "text", "stage 0 (data preparation)")
        dec = exp_dir / f"decode_{s}"
        _require(dec / "feats.scp", "stage 5 (decoding)")
        _require(dec / "durations", "stage 5 (decoding)")
        if (data_dir / s / "wav.scp").is_file():
            _require(dump_dir / s / "feats.scp", "stage 1 (feature extraction)")
            if opts.nll:
                _require(dump_dir / s / "token", "stage 2 (tokenization)")
        if opts.asr and not (dec / "wav").is_dir():
            raise MissingInputError(
                f"{dec / 'wav'} is missing: it is made by stage 6 (waveform synthesis); run that stage first"
            )

    from glowtts.registry import build_vocoder

    vocoder = build_vocoder(opts.vocoder, conf.to_dict(), **(opts.vocoder_options or {}))
    asr = None
    if opts.asr:
        from glowtts.evaluation.asr import PocketSphinxASR

        asr = PocketSphinxASR()
    nll = _NLLComputer(exp_dir, opts) if opts.nll else None

    report: dict[str, Any] = {
        "exp_dir": str(exp_dir),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "options": {k: v for k, v in asdict(opts).items() if k != "progress"},
        "feats": conf.to_dict(),
        "sets": {},
    }
    try:
        import glowtts

        report["glowtts_version"] = glowtts.__version__
    except AttributeError:  # pragma: no cover
        pass
    if nll is not None:
        report["checkpoint"] = str(nll.checkpoint)

    for s in sets:
        log.info("evaluating %s", s)
        dec = exp_dir / f"decode_{s}"
        text = _read_text(data_dir / s / "text")
        hyp_feats = kaldiio.load_scp(str(dec / "feats.scp"))
        has_ref = (data_dir / s / "wav.scp").is_file()
        ref_feats = kaldiio.load_scp(str(dump_dir / s / "feats.scp")) if has_ref else {}
        utts = sorted(u for u in hyp_feats if u in text and (not has_ref or u in ref_feats))
        if not utts:
            raise ValueError(
                f"no utterance of {dec / 'feats.scp'} is in {data_dir / s / 'text'}"
                + (f" and {dump_dir / s / 'feats.scp'}" if has_ref else "")
            )
        if opts.max_utts > 0:
            utts = utts[: opts.max_utts]
        res: dict[str, Any] = {"n_utts": len(utts), "has_reference_audio": has_ref}

        res["mcd"] = (
            _mcd(ref_feats, hyp_feats, utts, opts)
            if has_ref
            else {"status": "n/a (no reference audio)"}
        )

        mas_source, mas = None, None
        stage4 = dur_root / s / "durations"
        if stage4.is_file():
            mas_source = str(stage4)
            mas = {u: [int(x) for x in f] for u, f in read_kaldi_lines(stage4)}
        if nll is not None and has_ref:
            spk = _load_spk(exp_dir, data_dir / s, nll.config)
            res["nll"], own_mas = _nll_and_mas(
                nll, dump_dir / s / "token", ref_feats, utts, spk, opts
            )
            if mas is None:
                mas_source, mas = "MAS in the evaluator's NLL pass (stage 4 output absent)", own_mas
        else:
            res["nll"] = {
                "status": "n/a (" + ("disabled" if nll is None else "no reference audio") + ")"
            }
        if mas is None:
            res["durations"] = {"status": "n/a (run stage 4)"}
        else:
            pred = {u: [int(x) for x in f] for u, f in read_kaldi_lines(dec / "durations")}
            token_path = dump_dir / s / "token"
            n_tok = (
                {u: len(f) for u, f in read_kaldi_lines(token_path)}
                if token_path.is_file()
                else None
            )
            res["durations"] = _durations(pred, mas, utts, mas_source, n_tok, add_blank)

        res["rtf"] = {
            "mel": _mel_rtf(dec / "timing", conf),
            "vocoder": _vocoder_rtf(
                vocoder,
                [np.array(hyp_feats[u], dtype=np.float32) for u in utts[: opts.vocoder_rtf_utts]],
                conf,
                opts.vocoder,
                opts.device,
            ),
        }

        if asr is not None:
            ref_wavs = None
            if has_ref:
                ref_wavs = {u: " ".join(f) for u, f in read_kaldi_lines(data_dir / s / "wav.scp")}
            res["wer"] = _wer(
                asr,
                vocoder,
                utts,
                text,
                _wav_paths(dec / "wav", utts),
                ref_wavs,
                ref_feats,
                conf,
                opts,
            )
        else:
            res["wer"] = {"status": "n/a (--asr false)"}
        report["sets"][s] = res
    return report


# ---------------------------------------------------------------- output


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return "nan" if math.isnan(x) else f"{x:.{digits}f}"
    return str(x)


def _plots(report: dict[str, Any], out_dir: Path) -> dict[str, dict[str, str]]:
    """PNG plots (matplotlib, Agg canvas, no pyplot state); returns {set: {kind: path}}."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out_dir.mkdir(parents=True, exist_ok=True)
    plots: dict[str, dict[str, str]] = {}

    def save(fig: Figure, name: str) -> str:
        FigureCanvasAgg(fig)
        path = out_dir / name
        fig.savefig(path, dpi=100, bbox_inches="tight")
        return str(path)

    for s, res in report["sets"].items():
        plots[s] = {}
        mcd = res.get("mcd", {})
        if "per_utt" in mcd:
            fig = Figure(figsize=(5, 3.5))
            ax = fig.add_subplot()
            ax.hist([v["mcd"] for v in mcd["per_utt"].values()], bins=20, color="tab:blue")
            ax.axvline(mcd["mean"], color="k", ls="--", label=f"mean {mcd['mean']:.2f} dB")
            ax.set(
                xlabel="MCD (dB, DTW)", ylabel="utterances", title=f"{s}: mel-cepstral distortion"
            )
            ax.legend()
            plots[s]["mcd"] = save(fig, f"mcd_{s}.png")
        dur = res.get("durations", {})
        if "_pairs" in dur:
            p, r = dur["_pairs"]
            fig = Figure(figsize=(4.5, 4.5))
            ax = fig.add_subplot()
            jitter = np.random.default_rng(0).uniform(-0.2, 0.2, size=(2, len(p)))
            ax.scatter(r + jitter[0], p + jitter[1], s=4, alpha=0.3)
            hi = float(max(p.max(), r.max())) + 1
            ax.plot([0, hi], [0, hi], "k--", lw=1)
            ax.set(
                xlabel="MAS duration (frames)",
                ylabel="predicted duration (frames)",
                title=f"{s}: durations (r={dur['pearson_r']:.2f})",
            )
            plots[s]["durations"] = save(fig, f"durations_{s}.png")
    # WER bars: one group per set (and per long subset), three systems.
    groups, values = [], {"synth": [], "ref": [], "vocoded_ref": []}
    for s, res in report["sets"].items():
        wer = res.get("wer", {})
        for key, label in (("all", s), ("long", f"{s} (long)")):
            sub = wer.get(key)
            if not sub:
                continue
            groups.append(label)
            for system in values:
                values[system].append(sub[system]["wer"] if sub.get(system) else np.nan)
    if groups:
        fig = Figure(figsize=(1.8 * len(groups) + 2, 3.5))
        ax = fig.add_subplot()
        x = np.arange(len(groups))
        voc = report.get("options", {}).get("vocoder", "vocoder")
        labels = {"synth": "synthesized", "ref": "reference", "vocoded_ref": f"{voc}(ref mel)"}
        for k, system in enumerate(values):
            ax.bar(x + (k - 1) * 0.27, values[system], width=0.27, label=labels[system])
        ax.set_xticks(x, groups)
        ax.set(ylabel="WER (pocketsphinx)", title="intelligibility")
        ax.legend(fontsize=8)
        plots["_all"] = {"wer": save(fig, "wer.png")}
    return plots


def render_markdown(report: dict[str, Any], md_dir: Path) -> str:
    """The human-readable report; plot paths are written relative to ``md_dir``."""
    sets = list(report["sets"])
    lines = [
        f"# Evaluation report: {Path(report['exp_dir']).name}",
        "",
        f"- created: {report['created']}",
        f"- checkpoint: {report.get('checkpoint', 'n/a')}",
        f"- sets: {', '.join(sets)}; utterances per set: "
        + ", ".join(f"{s} {report['sets'][s]['n_utts']}" for s in sets),
        "",
        "| metric | " + " | ".join(sets) + " |",
        "|---|" + "---|" * len(sets),
    ]

    def row(name: str, fn: Any) -> None:
        cells = []
        for s in sets:
            try:
                cells.append(fn(report["sets"][s]))
            except (KeyError, TypeError):
                cells.append("n/a")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    def status_or(d: dict[str, Any], fn: Any) -> str:
        return d["status"] if "status" in d else fn(d)

    row(
        "NLL per frame and channel (ref. feats)",
        lambda r: status_or(r["nll"], lambda d: _fmt(d["nll_per_frame_channel"], 4)),
    )
    options = report.get("options", {})
    row(
        f"MCD, dB (DTW, c1..c{options.get('n_coeffs', 24)}) mean ± std",
        lambda r: status_or(r["mcd"], lambda d: f"{d['mean']:.2f} ± {d['std']:.2f}"),
    )
    row(
        "length ratio decoded / reference",
        lambda r: status_or(r["mcd"], lambda d: _fmt(d["length_ratio_mean"])),
    )
    row(
        "duration MAE, frames per token",
        lambda r: status_or(r["durations"], lambda d: _fmt(d["mae_frames"], 2)),
    )
    row(
        "duration RMSE of log(1+d)",
        lambda r: status_or(r["durations"], lambda d: _fmt(d["log_rmse"])),
    )
    row("duration Pearson r", lambda r: status_or(r["durations"], lambda d: _fmt(d["pearson_r"])))
    row(
        "utterance length rel. error",
        lambda r: status_or(r["durations"], lambda d: _fmt(d["utt_length_rel_error"])),
    )
    row("RTF mel generation", lambda r: status_or(r["rtf"]["mel"], lambda d: _fmt(d["rtf"], 4)))
    row(
        "RTF vocoder",
        lambda r: status_or(r["rtf"]["vocoder"], lambda d: f"{_fmt(d['rtf'], 4)} ({d['vocoder']})"),
    )

    def wer_cell(key: str, system: str) -> Any:
        def fn(r: dict[str, Any]) -> str:
            w = r["wer"]
            if "status" in w:
                return w["status"]
            sub = w.get(key)
            if not sub:
                return "n/a"
            v = sub.get(system)
            return "n/a" if v is None else f"{100 * v['wer']:.1f} % ({sub['n_utts']} utts)"

        return fn

    subsets = [("all", "WER")]
    if any(r["wer"].get("long") for r in report["sets"].values()):
        subsets.append(("long", f"WER long (> {options.get('long_chars', 250)} chars)"))
    for key, title in subsets:
        for system, name in (
            ("synth", "synthesized"),
            ("ref", "reference recordings"),
            ("vocoded_ref", f"{options.get('vocoder', 'vocoder')} of ref. mels"),
        ):
            row(f"{title}, {name}", wer_cell(key, system))
    dur_sources = {
        s: r["durations"].get("source")
        for s, r in report["sets"].items()
        if "source" in r["durations"]
    }
    lines += [
        "",
        "NLL: the training `mle_loss` (with 0.5 log 2π) of the reference features. "
        "MCD: orthonormal DCT-II of the log-mel, (10/ln 10)·sqrt(2·Σ_{d=1..D} Δc_d²), averaged over "
        "DTW-aligned frame pairs, then over utterances. WER: pocketsphinx (16 kHz) against the "
        "normalised transcript; the reference recordings and the vocoder applied to the reference mels "
        "go through the same recogniser, so synthesized − vocoded(ref) is the acoustic model's share "
        "and vocoded(ref) − ref the vocoder's.",
    ]
    if dur_sources:
        lines += ["", "MAS durations: " + "; ".join(f"{s}: {v}" for s, v in dur_sources.items())]
    plots = report.get("plots", {})
    if plots:
        lines += ["", "## Plots", ""]
        for group, kinds in plots.items():
            for kind, path in kinds.items():
                rel = (
                    Path(path).relative_to(md_dir)
                    if Path(path).is_relative_to(md_dir)
                    else Path(path)
                )
                lines.append(f"![{kind} {group.strip('_')}]({rel.as_posix()})")
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], exp_dir: str | Path) -> tuple[Path, Path]:
    """Plots into ``<exp_dir>/report/``, then ``report.json`` and ``report.md`` (atomic writes)."""
    from glowtts.utils import atomic_write_text

    exp_dir = Path(exp_dir)
    report["plots"] = _plots(report, exp_dir / "report")
    for res in report["sets"].values():
        res.get("durations", {}).pop("_pairs", None)
    json_path, md_path = exp_dir / "report.json", exp_dir / "report.md"

    def clean(x: Any) -> Any:  # NaN is not JSON
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x

    atomic_write_text(json_path, json.dumps(clean(report), indent=1, ensure_ascii=False) + "\n")
    atomic_write_text(md_path, render_markdown(report, exp_dir))
    return json_path, md_path
