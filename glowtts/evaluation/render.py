"""The stage-7 report as files: ``report.json``, ``report.md`` and PNG plots under
``exp/<tag>/report/`` (the report dict comes from :func:`glowtts.evaluation.driver.evaluate`)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["render_markdown", "write_report"]


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return "nan" if math.isnan(x) else f"{x:.{digits}f}"
    return str(x)


def _plots(report: dict[str, Any], out_dir: Path) -> dict[str, dict[str, str]]:
    """PNG plots (matplotlib, Agg canvas, no pyplot state); returns {set: {kind: path}}."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    out_dir.mkdir(parents=True, exist_ok=True)

    def save(fig: Any, name: str) -> str:
        FigureCanvasAgg(fig)
        path = out_dir / name
        fig.savefig(path, dpi=100, bbox_inches="tight")
        return str(path)

    plots: dict[str, dict[str, str]] = {}
    for s, res in report["sets"].items():
        plots[s] = {}
        mcd = res.get("mcd", {})
        if "per_utt" in mcd:
            plots[s]["mcd"] = save(_mcd_histogram(s, mcd), f"mcd_{s}.png")
        dur = res.get("durations", {})
        if "_pairs" in dur:
            plots[s]["durations"] = save(_duration_scatter(s, dur), f"durations_{s}.png")
    wer = _wer_bars(report)
    if wer is not None:
        plots["_all"] = {"wer": save(wer, "wer.png")}
    return plots


def _mcd_histogram(s: str, mcd: dict[str, Any]) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.5))
    ax = fig.add_subplot()
    ax.hist([v["mcd"] for v in mcd["per_utt"].values()], bins=20, color="tab:blue")
    ax.axvline(mcd["mean"], color="k", ls="--", label=f"mean {mcd['mean']:.2f} dB")
    ax.set(xlabel="MCD (dB, DTW)", ylabel="utterances", title=f"{s}: mel-cepstral distortion")
    ax.legend()
    return fig


def _duration_scatter(s: str, dur: dict[str, Any]) -> Any:
    from matplotlib.figure import Figure

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
    return fig


def _wer_bars(report: dict[str, Any]) -> Any:
    """WER bars: one group per set (and per long subset), three systems; None without WER."""
    from matplotlib.figure import Figure

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
    if not groups:
        return None
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
    return fig


_METHODS = (
    "NLL: the training `mle_loss` (with 0.5 log 2π) of the reference features. "
    "MCD: orthonormal DCT-II of the log-mel, (10/ln 10)·sqrt(2·Σ_{d=1..D} Δc_d²), averaged over "
    "DTW-aligned frame pairs, then over utterances. WER: pocketsphinx (16 kHz) against the "
    "normalised transcript; the reference recordings and the vocoder applied to the reference mels "
    "go through the same recogniser, so synthesized − vocoded(ref) is the acoustic model's share "
    "and vocoded(ref) − ref the vocoder's. DistillMOS: predicted mean opinion score "
    "(1 = bad .. 5 = excellent; Stahl & Gamper 2025, 16 kHz) of every audio set."
)


def _status_or(d: dict[str, Any], fn: Any) -> str:
    return d["status"] if "status" in d else fn(d)


def _metric_rows(options: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(row title, set result -> cell)`` of the table, WER rows excluded."""

    def on(key: str, fn: Any) -> Any:
        return lambda r: _status_or(r[key], fn)

    def rtf(key: str, fn: Any) -> Any:
        return lambda r: _status_or(r["rtf"][key], fn)

    return [
        (
            "NLL per frame and channel (ref. feats)",
            on("nll", lambda d: _fmt(d["nll_per_frame_channel"], 4)),
        ),
        (
            f"MCD, dB (DTW, c1..c{options.get('n_coeffs', 24)}) mean ± std",
            on("mcd", lambda d: f"{d['mean']:.2f} ± {d['std']:.2f}"),
        ),
        ("length ratio decoded / reference", on("mcd", lambda d: _fmt(d["length_ratio_mean"]))),
        ("duration MAE, frames per token", on("durations", lambda d: _fmt(d["mae_frames"], 2))),
        ("duration RMSE of log(1+d)", on("durations", lambda d: _fmt(d["log_rmse"]))),
        ("duration Pearson r", on("durations", lambda d: _fmt(d["pearson_r"]))),
        ("utterance length rel. error", on("durations", lambda d: _fmt(d["utt_length_rel_error"]))),
        ("RTF mel generation", rtf("mel", lambda d: _fmt(d["rtf"], 4))),
        ("RTF vocoder", rtf("vocoder", lambda d: f"{_fmt(d['rtf'], 4)} ({d['vocoder']})")),
    ]


_VOCODER_NAMES = {"griffin_lim": "Griffin-Lim", "hifigan": "HiFi-GAN"}


def _vocoder_name(v: str) -> str:
    return _VOCODER_NAMES.get(v, v)


def _systems(options: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """``(system key, row label, compared vocoder or None)`` of every audio set."""
    vocoders = options.get("vocoders") or []
    voc = options.get("vocoder", "vocoder")
    out: list[tuple[str, str, str | None]] = [
        ("synth", "synthesized (stage-6 wavs)" if vocoders else "synthesized", None),
        ("ref", "reference recordings", None),
    ]
    if voc not in vocoders:  # else its row is the compared vocoder's vocoded_ref_<v>
        out.append(("vocoded_ref", f"{_vocoder_name(voc)} of ref. mels", None))
    for v in vocoders:
        name = _vocoder_name(v)
        out += [
            (f"synth_{v}", f"synthesized, {name}", v),
            (f"vocoded_ref_{v}", f"{name} of ref. mels", v),
        ]
    return out


def _skipped(r: dict[str, Any], vocoder: str | None) -> str | None:
    state = (r.get("vocoders") or {}).get(vocoder) if vocoder else None
    return state if state and state != "ok" else None


def _not_scored(r: dict[str, Any], part: str, vocoder: str | None) -> str | None:
    """Why ``r[part]`` ("wer", "mos") has no score for ``vocoder``: its status, else the
    vocoder's skip state; None when it has scores."""
    return r[part].get("status") or _skipped(r, vocoder)


def _wer_cell(key: str, system: str, vocoder: str | None = None) -> Any:
    def fn(r: dict[str, Any]) -> str:
        if why := _not_scored(r, "wer", vocoder):
            return why
        sub = r["wer"].get(key)
        if not sub:
            return "n/a"
        v = sub.get(system)
        return "n/a" if v is None else f"{100 * v['wer']:.1f} % ({sub['n_utts']} utts)"

    return fn


def _mos_cell(system: str, vocoder: str | None) -> Any:
    def fn(r: dict[str, Any]) -> str:
        if why := _not_scored(r, "mos", vocoder):
            return why
        v = r["mos"].get(system)
        return "n/a" if v is None else f"{v['mean']:.2f} ± {v['std']:.2f} ({v['n_utts']} utts)"

    return fn


def _wer_rows(report: dict[str, Any], options: dict[str, Any]) -> list[tuple[str, Any]]:
    subsets = [("all", "WER")]
    if any((r.get("wer") or {}).get("long") for r in report["sets"].values()):
        subsets.append(("long", f"WER long (> {options.get('long_chars', 250)} chars)"))
    return [
        (f"{title}, {name}", _wer_cell(key, system, voc))
        for key, title in subsets
        for system, name, voc in _systems(options)
    ]


def _mos_rows(report: dict[str, Any], options: dict[str, Any]) -> list[tuple[str, Any]]:
    if not any("mos" in r for r in report["sets"].values()):
        return []  # a report from before the naturalness estimate
    return [
        (f"DistillMOS mean ± std, {name}", _mos_cell(system, voc))
        for system, name, voc in _systems(options)
    ]


def _table_row(report: dict[str, Any], sets: list[str], name: str, fn: Any) -> str:
    cells = []
    for s in sets:
        try:
            cells.append(fn(report["sets"][s]))
        except (KeyError, TypeError):
            cells.append("n/a")
    return f"| {name} | " + " | ".join(cells) + " |"


def _plot_links(plots: dict[str, dict[str, str]], md_dir: Path) -> list[str]:
    lines = ["", "## Plots", ""]
    for group, kinds in plots.items():
        for kind, path in kinds.items():
            rel = (
                Path(path).relative_to(md_dir) if Path(path).is_relative_to(md_dir) else Path(path)
            )
            lines.append(f"![{kind} {group.strip('_')}]({rel.as_posix()})")
    return lines


def render_markdown(report: dict[str, Any], md_dir: Path) -> str:
    """The human-readable report; plot paths are written relative to ``md_dir``."""
    sets = list(report["sets"])
    options = report.get("options", {})
    lines = [
        f"# Evaluation report: {Path(report['exp_dir']).name}",
        "",
        f"- created: {report['created']}",
        f"- checkpoint: {report.get('checkpoint', 'n/a')}",
        f"- sets: {', '.join(sets)}; utterances per set: "
        + ", ".join(f"{s} {report['sets'][s]['n_utts']}" for s in sets),
    ]
    stage6 = {s: r["vocoders"]["stage6"] for s, r in report["sets"].items() if "vocoders" in r}
    if stage6:
        lines.append("- stage-6 vocoder: " + ", ".join(f"{s} {v}" for s, v in stage6.items()))
    lines += [
        "",
        "| metric | " + " | ".join(sets) + " |",
        "|---|" + "---|" * len(sets),
    ]
    for name, fn in _metric_rows(options) + _wer_rows(report, options) + _mos_rows(report, options):
        lines.append(_table_row(report, sets, name, fn))
    lines += ["", _METHODS]
    dur_sources = {
        s: r["durations"].get("source")
        for s, r in report["sets"].items()
        if "source" in r["durations"]
    }
    if dur_sources:
        lines += ["", "MAS durations: " + "; ".join(f"{s}: {v}" for s, v in dur_sources.items())]
    if report.get("plots"):
        lines += _plot_links(report["plots"], md_dir)
    return "\n".join(lines) + "\n"


def write_report(
    report: dict[str, Any], exp_dir: str | Path, name: str = "report"
) -> tuple[Path, Path]:
    """Plots into ``<exp_dir>/<name>/``, then ``<name>.json`` and ``<name>.md`` (atomic
    writes); ``name`` is ``report`` plus the decode suffix of the evaluated dirs."""
    from glowtts.data.kaldi import atomic_write_text

    exp_dir = Path(exp_dir)
    report["plots"] = _plots(report, exp_dir / name)
    for res in report["sets"].values():
        res.get("durations", {}).pop("_pairs", None)
    json_path, md_path = exp_dir / f"{name}.json", exp_dir / f"{name}.md"

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
