"""Is one system's WER really different from another's? A paired bootstrap over utterances.

Two experiments scored by stage 7 on the same set (``report.json`` keeps every
utterance's hypotheses) are compared utterance by utterance: resampling the utterances
with replacement, the same draw for both systems, gives the spread of the WER difference
that comes from which sentences happened to be in the set. Word errors come from
:func:`glowtts.evaluation.asr.word_edits`, the same scoring as the report's WER.

The layout read (written by :func:`glowtts.evaluation.metrics.wer_summary`)::

    report["sets"][set_name]["wer"]["hyps"] = {utt: {system: hypothesis, ..., "text": reference}}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "BootstrapResult",
    "ReportComparison",
    "ReportError",
    "compare_reports",
    "paired_bootstrap",
    "report_hyps",
]

# Resampled index matrices are built this many entries at a time (int64: 32 MiB) so that
# big sets do not need n_resamples * n_utts memory at once.
_BLOCK_ENTRIES = 1 << 22


class ReportError(ValueError):
    """A report that cannot be compared: a set, a system or shared utterances missing."""


@dataclass(frozen=True)
class BootstrapResult:
    """Paired-bootstrap comparison of system a and system b on the same utterances.

    ``difference`` is ``wer_b - wer_a`` on all utterances; ``ci`` the percentile interval
    of that difference over the resamples; ``p_b_worse`` the fraction of resamples in
    which b has strictly the higher WER.
    """

    wer_a: float
    wer_b: float
    difference: float
    ci: tuple[float, float]
    ci_level: float
    p_b_worse: float
    n_utts: int
    n_words: int
    n_resamples: int
    seed: int

    @property
    def same_within_ci(self) -> bool:
        """Whether a zero difference lies inside the interval."""
        return self.ci[0] <= 0.0 <= self.ci[1]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ci": list(self.ci), "same_within_ci": self.same_within_ci}


def paired_bootstrap(
    errors_a: Sequence[int] | np.ndarray,
    errors_b: Sequence[int] | np.ndarray,
    n_words: Sequence[int] | np.ndarray,
    n_resamples: int = 10000,
    seed: int = 0,
    ci: float = 0.95,
) -> BootstrapResult:
    """Paired bootstrap of the corpus WER difference ``b - a``.

    Args:
        errors_a: ``(N,)`` word errors (substitutions + deletions + insertions) of system a
            on each utterance.
        errors_b: ``(N,)`` the same for system b, utterance for utterance.
        n_words: ``(N,)`` reference words of each utterance (each > 0).
        n_resamples: bootstrap resamples; each draws N utterance indices with replacement,
            the same indices for both systems, and takes WER = sum(errors) / sum(words).
        seed: of the resampling (same seed, same numbers).
        ci: level of the percentile interval, in (0, 1).
    """
    ea, eb, w = (np.asarray(x, dtype=np.int64) for x in (errors_a, errors_b, n_words))
    if not (ea.ndim == eb.ndim == w.ndim == 1 and len(ea) == len(eb) == len(w)):
        raise ValueError(
            f"errors_a, errors_b and n_words must be 1-D of one length, got shapes "
            f"{ea.shape}, {eb.shape}, {w.shape}"
        )
    if len(w) == 0:
        raise ValueError("no utterances to compare")
    if (w <= 0).any():
        raise ValueError("every utterance needs reference words (WER is undefined without)")
    if (ea < 0).any() or (eb < 0).any():
        raise ValueError("word errors must be >= 0")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    n = len(w)
    rng = np.random.default_rng(seed)
    # Paired: one draw of utterances per resample, so only the per-utterance difference
    # of errors is resampled (sum(eb - ea) / sum(w) = WER_b - WER_a of the resample).
    d = eb - ea
    diffs = np.empty(n_resamples)
    block = max(1, _BLOCK_ENTRIES // n)
    for start in range(0, n_resamples, block):
        idx = rng.integers(0, n, size=(min(block, n_resamples - start), n))
        diffs[start : start + len(idx)] = d[idx].sum(axis=1) / w[idx].sum(axis=1)
    lo, hi = np.quantile(diffs, [(1.0 - ci) / 2.0, (1.0 + ci) / 2.0])
    wer_a, wer_b = ea.sum() / w.sum(), eb.sum() / w.sum()
    return BootstrapResult(
        wer_a=float(wer_a),
        wer_b=float(wer_b),
        difference=float(wer_b - wer_a),
        ci=(float(lo), float(hi)),
        ci_level=float(ci),
        p_b_worse=float((diffs > 0).mean()),
        n_utts=n,
        n_words=int(w.sum()),
        n_resamples=int(n_resamples),
        seed=int(seed),
    )


def report_hyps(
    report: dict[str, Any], set_name: str, system: str, label: str = "report"
) -> dict[str, tuple[str, str]]:
    """``{utt: (reference text, hypothesis of system)}`` of one set of a stage-7 report.

    ``label`` names the report (its path) in the errors.
    """
    sets = report.get("sets") if isinstance(report, dict) else None
    if not isinstance(sets, dict):
        raise ReportError(f"{label} is not a glowtts-evaluate report.json (no 'sets')")
    if set_name not in sets:
        raise ReportError(
            f"{label} has no set {set_name!r}; its sets: {', '.join(sorted(sets)) or 'none'}"
        )
    wer = sets[set_name].get("wer") or {}
    hyps = wer.get("hyps")
    if not hyps:
        why = wer.get("status", "no per-utterance hypotheses")
        raise ReportError(
            f"{label}: set {set_name!r} has no WER to compare ({why}); rerun stage 7 with --asr true"
        )
    have = sorted({s for h in hyps.values() for s in h if s != "text"})
    missing = [u for u, h in hyps.items() if system not in h]
    if missing:
        raise ReportError(
            f"{label}: set {set_name!r} has no system {system!r}"
            + (f" for {len(missing)} utterances (first {missing[0]})" if system in have else "")
            + f"; its systems: {', '.join(have)}"
        )
    return {u: (h["text"], h[system]) for u, h in hyps.items()}


def _pair(
    a: dict[str, tuple[str, str]], b: dict[str, tuple[str, str]], labels: tuple[str, str]
) -> list[str]:
    """The utterances of both, sorted; an error when none is shared or a text differs."""
    from glowtts.evaluation.asr import normalize_for_wer

    shared = sorted(set(a) & set(b))
    if not shared:
        raise ReportError(
            f"{labels[0]} and {labels[1]} share no utterance (e.g. {min(a)} against {min(b)}); "
            "compare reports of the same set"
        )
    differ = [u for u in shared if normalize_for_wer(a[u][0]) != normalize_for_wer(b[u][0])]
    if differ:
        raise ReportError(
            f"the reference text of {len(differ)} shared utterances differs between "
            f"{labels[0]} and {labels[1]} (first {differ[0]}: {a[differ[0]][0]!r} against "
            f"{b[differ[0]][0]!r}); compare reports of the same data"
        )
    return shared


@dataclass(frozen=True)
class ReportComparison:
    """``system_a`` of report A against ``system_b`` of report B on one set.

    ``only_a``/``only_b``: utterances left out because the other report lacks them;
    ``no_words``: shared utterances left out because their reference has no words.
    """

    set_name: str
    system_a: str
    system_b: str
    bootstrap: BootstrapResult
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    no_words: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """One flat JSON-able dict (the ``glowtts-compare-wer`` output)."""
        r = self.bootstrap
        return {
            "set": self.set_name,
            "system_a": self.system_a,
            "system_b": self.system_b,
            "a": r.wer_a,
            "b": r.wer_b,
            "difference": r.difference,
            "ci": list(r.ci),
            "ci_level": r.ci_level,
            "same_within_ci": r.same_within_ci,
            "p_b_worse": r.p_b_worse,
            "n_utts": r.n_utts,
            "n_words": r.n_words,
            "n_resamples": r.n_resamples,
            "seed": r.seed,
            "n_only_a": len(self.only_a),
            "n_only_b": len(self.only_b),
            "n_no_words": len(self.no_words),
        }


def compare_reports(
    report_a: dict[str, Any],
    report_b: dict[str, Any],
    set_name: str,
    system: str = "synth",
    system_b: str | None = None,
    n_resamples: int = 10000,
    seed: int = 0,
    ci: float = 0.95,
    labels: tuple[str, str] = ("report A", "report B"),
) -> ReportComparison:
    """Paired bootstrap of ``system`` in ``report_a`` against ``system_b`` (default: the same
    system) in ``report_b`` on the utterances of ``set_name`` present in both; the
    difference is b - a. ``labels`` name the reports (their paths) in the errors.
    """
    from glowtts.evaluation.asr import word_edits

    system_b = system_b or system
    a = report_hyps(report_a, set_name, system, labels[0])
    b = report_hyps(report_b, set_name, system_b, labels[1])
    utts = _pair(a, b, labels)
    refs = [a[u][0] for u in utts]
    edits_a = word_edits(refs, [a[u][1] for u in utts])
    edits_b = word_edits(refs, [b[u][1] for u in utts])
    keep = edits_a[:, 3] > 0
    if not keep.any():
        raise ReportError(f"no shared utterance of set {set_name!r} has reference words")
    res = paired_bootstrap(
        edits_a[keep, :3].sum(axis=1),
        edits_b[keep, :3].sum(axis=1),
        edits_a[keep, 3],
        n_resamples=n_resamples,
        seed=seed,
        ci=ci,
    )
    return ReportComparison(
        set_name,
        system,
        system_b,
        res,
        only_a=tuple(sorted(set(a) - set(b))),
        only_b=tuple(sorted(set(b) - set(a))),
        no_words=tuple(u for u, k in zip(utts, keep) if not k),
    )
