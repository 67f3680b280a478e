"""The stage-7 driver: :func:`evaluate` checks the inputs of every set, then runs the
metrics of :mod:`glowtts.evaluation.metrics` on each; :mod:`glowtts.evaluation.render`
writes the result.

Per evaluated set (``dev``, ``eval``, ...):

- ``nll``: negative log-likelihood per frame and mel channel (with the ``0.5 log 2 pi``
  constant; the training ``mle_loss``) of the reference features under the trained model,
  averaged over all frames of the set.
- ``mcd``: mel-cepstral distortion with DTW between decoded and reference log-mels
  (:mod:`glowtts.evaluation.mcd`), mean / std / median over utterances.
- ``durations``: decoded (predicted) durations against MAS durations: per-token mean absolute
  error in frames, RMSE of ``log(1 + d)``, Pearson correlation, mean relative error of the
  utterance length. MAS durations come from stage 4 (``exp/<tag>/durations/<set>/durations``)
  or, failing that, from the evaluator's own NLL pass (the same MAS on the same model); the
  report's ``source`` says which.
- ``rtf``: real-time factor of mel generation (decode ``timing``: seconds / audio seconds)
  and of the vocoder (measured here on a few decoded mels).
- ``wer``: pocketsphinx WER of the synthesized wavs, of the reference recordings, and of
  the reference mels through the vocoder (Griffin-Lim by default; key ``vocoded_ref``), so
  the vocoder's share of the errors is visible; the same for the decoded and the reference
  mels through each compared vocoder (``synth_<v>``, ``vocoded_ref_<v>``; see
  :mod:`glowtts.evaluation.listening`); all on the long-sentence subset (text longer than
  ``long_chars``) too when it exists.
- ``mos``: naturalness estimate (DistillMOS mean / std) of each of those audio sets, or
  ``status: skipped: <reason>``; ``vocoders``: the stage-6 vocoder and each compared
  vocoder's ``ok`` or ``skipped: <reason>``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from glowtts.audio.features import MelConfig
from glowtts.data.kaldi import FeatsReader, iter_fields, read_int_table, read_lines
from glowtts.evaluation.listening import build_audio_sets, mos_summary, stage6_vocoder
from glowtts.evaluation.metrics import (
    EvalOptions,
    MissingInputError,
    NLLModel,
    duration_errors,
    mcd_stats,
    mel_rtf,
    nll_and_mas,
    require,
    vocoder_rtf,
    wer_summary,
)
from glowtts.utils import read_yaml_mapping

__all__ = ["EvalOptions", "MissingInputError", "evaluate"]

log = logging.getLogger(__name__)


@dataclass
class _Run:
    """What every set shares: the directories, options and the loaded tools."""

    exp_dir: Path
    data_dir: Path
    dump_dir: Path
    opts: EvalOptions
    conf: MelConfig
    config: dict[str, Any]
    vocoder: Any
    asr: Any
    nll: NLLModel | None

    @property
    def dur_root(self) -> Path:
        return (
            Path(self.opts.durations_dir) if self.opts.durations_dir else self.exp_dir / "durations"
        )


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
    ``<exp>/decode_<set>/wav/`` (stage 6; both in ``decode_<set><opts.decode_suffix>``),
    optionally ``<exp>/durations/<set>/durations`` (stage 4). A set without ``data/<set>/wav.scp`` (text only, e.g. long sentences) gets
    the synthesized-speech WER only.

    Raises:
        MissingInputError: a needed file is missing; the message names it and its stage.
    """
    opts = opts or EvalOptions()
    exp_dir, data_dir, dump_dir = Path(exp_dir), Path(data_dir), Path(dump_dir)
    config = read_yaml_mapping(require(exp_dir / "config.yaml", "stage 3 (training)"))
    conf = MelConfig.from_dict(config.get("feats"))
    for s in sets:  # every input is checked before the slow parts start
        _check_inputs(exp_dir, data_dir, dump_dir, s, opts)
    run = _Run(exp_dir, data_dir, dump_dir, opts, conf, config, *_load_tools(exp_dir, conf, opts))
    report = _report_header(run)
    for s in sets:
        log.info("evaluating %s", s)
        report["sets"][s] = _evaluate_set(run, s)
    return report


def _decode_dir(exp_dir: Path, s: str, opts: EvalOptions) -> Path:
    """Stages 5-6 of set ``s``: ``<exp>/decode_<s><opts.decode_suffix>``."""
    return exp_dir / f"decode_{s}{opts.decode_suffix}"


def _check_inputs(exp_dir: Path, data_dir: Path, dump_dir: Path, s: str, opts: EvalOptions) -> None:
    require(data_dir / s / "text", "stage 0 (data preparation)")
    dec = _decode_dir(exp_dir, s, opts)
    require(dec / "feats.scp", "stage 5 (decoding)")
    require(dec / "durations", "stage 5 (decoding)")
    if (data_dir / s / "wav.scp").is_file():
        require(dump_dir / s / "feats.scp", "stage 1 (feature extraction)")
        if opts.nll:
            require(dump_dir / s / "token", "stage 2 (tokenization)")
    if opts.asr and not (dec / "wav").is_dir():
        raise MissingInputError(
            f"{dec / 'wav'} is missing: it is made by stage 6 (waveform synthesis); run that stage first"
        )


def _load_tools(exp_dir: Path, conf: MelConfig, opts: EvalOptions) -> tuple[Any, Any, Any]:
    """The vocoder, the recogniser (or None) and the NLL model (or None)."""
    from glowtts.registry import build_vocoder

    vocoder = build_vocoder(opts.vocoder, conf.to_dict(), **(opts.vocoder_options or {}))
    asr = None
    if opts.asr:
        from glowtts.evaluation.asr import PocketSphinxASR

        asr = PocketSphinxASR()
    return vocoder, asr, NLLModel(exp_dir, opts) if opts.nll else None


def _report_header(run: _Run) -> dict[str, Any]:
    report: dict[str, Any] = {
        "exp_dir": str(run.exp_dir),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "options": {k: v for k, v in asdict(run.opts).items() if k != "progress"},
        "feats": run.conf.to_dict(),
        "sets": {},
    }
    try:
        import glowtts

        report["glowtts_version"] = glowtts.__version__
    except AttributeError:  # pragma: no cover
        pass
    if run.nll is not None:
        report["checkpoint"] = str(run.nll.checkpoint)
    return report


def _evaluate_set(run: _Run, s: str) -> dict[str, Any]:
    """The metrics of one set."""
    opts, dec = run.opts, _decode_dir(run.exp_dir, s, run.opts)
    text = {ln.key: ln.rest for ln in read_lines(run.data_dir / s / "text")}
    hyp_feats = FeatsReader(dec / "feats.scp")
    has_ref = (run.data_dir / s / "wav.scp").is_file()
    ref_feats = FeatsReader(run.dump_dir / s / "feats.scp") if has_ref else {}
    utts = sorted(u for u in hyp_feats if u in text and (not has_ref or u in ref_feats))
    if not utts:
        raise ValueError(
            f"no utterance of {dec / 'feats.scp'} is in {run.data_dir / s / 'text'}"
            + (f" and {run.dump_dir / s / 'feats.scp'}" if has_ref else "")
        )
    if opts.max_utts > 0:
        utts = utts[: opts.max_utts]
    res: dict[str, Any] = {"n_utts": len(utts), "has_reference_audio": has_ref}
    res["mcd"] = (
        mcd_stats(ref_feats, hyp_feats, utts, opts)
        if has_ref
        else {"status": "n/a (no reference audio)"}
    )
    res["nll"], res["durations"] = _nll_and_durations(run, s, utts, ref_feats, has_ref)
    mels = [np.array(hyp_feats[u], dtype=np.float32) for u in utts[: opts.vocoder_rtf_utts]]
    res["rtf"] = {
        "mel": mel_rtf(dec / "timing", run.conf),
        "vocoder": vocoder_rtf(run.vocoder, mels, run.conf, opts.vocoder, opts.device),
    }
    if run.asr is None and not opts.mos:
        res["wer"] = {"status": "n/a (--asr false)"}
        res["mos"] = {"status": "n/a (--mos false)"}
        return res
    ref_wavs = None
    if has_ref:
        ref_wavs = {u: " ".join(f) for u, f in iter_fields(run.data_dir / s / "wav.scp")}
    synth_vocoder = stage6_vocoder(dec / "wav")
    sets, skipped = build_audio_sets(
        run.vocoder,
        utts,
        _wav_paths(dec / "wav", utts),
        ref_wavs,
        hyp_feats,
        ref_feats,
        synth_vocoder,
        run.conf,
        opts,
    )
    res["vocoders"] = {"stage6": synth_vocoder or "unknown (no wav/vocoder file)"} | {
        v: skipped.get(v, "ok") for v in opts.vocoders
    }
    res["wer"] = (
        wer_summary(run.asr, sets, utts, text, opts)
        if run.asr is not None
        else {"status": "n/a (--asr false)"}
    )
    res["mos"] = mos_summary(sets, opts)
    return res


def _nll_and_durations(
    run: _Run, s: str, utts: list[str], ref_feats: Any, has_ref: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The NLL summary and the duration errors; MAS durations from stage 4 when its file
    exists, else from the NLL pass."""
    mas_source, mas = None, None
    stage4 = run.dur_root / s / "durations"
    if stage4.is_file():
        mas_source = str(stage4)
        mas = read_int_table(stage4)
    if run.nll is not None and has_ref:
        spk = _load_spk(run.exp_dir, run.data_dir / s, run.nll.config)
        nll, own_mas = nll_and_mas(
            run.nll, run.dump_dir / s / "token", ref_feats, utts, spk, run.opts
        )
        if mas is None:
            mas_source, mas = "MAS in the evaluator's NLL pass (stage 4 output absent)", own_mas
    else:
        nll = {"status": "n/a (" + ("disabled" if run.nll is None else "no reference audio") + ")"}
    if mas is None:
        return nll, {"status": "n/a (run stage 4)"}
    dec = _decode_dir(run.exp_dir, s, run.opts)
    pred = read_int_table(dec / "durations")
    token_path = run.dump_dir / s / "token"
    n_tok = {u: len(f) for u, f in iter_fields(token_path)} if token_path.is_file() else None
    add_blank = bool((run.config.get("text") or {}).get("add_blank", False))
    return nll, duration_errors(pred, mas, utts, mas_source, n_tok, add_blank)


def _load_spk(exp_dir: Path, data_set: Path, config: dict[str, Any]) -> dict[str, int] | None:
    if int((config.get("model") or {}).get("n_speakers", 0) or 0) <= 1:
        return None
    spk_list = require(exp_dir / "spk_list.txt", "stage 3 (training)").read_text().split()
    spk_id = {s: i for i, s in enumerate(spk_list)}
    utt2spk = require(data_set / "utt2spk", "stage 0 (data preparation)")
    return {u: spk_id[f[0]] for u, f in iter_fields(utt2spk)}


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
