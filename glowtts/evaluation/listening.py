"""The audio sets a stage-7 report listens to, and their naturalness estimate.

Per evaluated set the systems are (keys of the report's ``wer`` and ``mos`` sections):

- ``synth``: the stage-6 wavs (made by the vocoder named in ``decode_<set>/wav/vocoder``);
- ``ref``: the reference recordings;
- ``vocoded_ref``: the reference mels through ``EvalOptions.vocoder``;
- ``synth_<v>`` and ``vocoded_ref_<v>`` for each ``v`` of ``EvalOptions.vocoders``
  (default Griffin-Lim and HiFi-GAN): the decoded and the reference mels through ``v``.

Audio that two keys share (the stage-6 vocoder is one of the compared ones) is made and
scored once. A vocoder that cannot run here (HiFi-GAN not installed or not fit for the
mel) is reported as ``skipped: <reason>``, as is the naturalness estimate when DistillMOS
is not installed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from glowtts.audio.features import MelConfig
from glowtts.audio.io import load_wav
from glowtts.evaluation.cache import ScoreCache
from glowtts.evaluation.metrics import EvalOptions, MissingInputError, progress_bar, summary_stats

__all__ = ["AudioSet", "build_audio_sets", "mos_summary", "stage6_vocoder"]

log = logging.getLogger(__name__)

# an audio set: (sample rate, {utt: waveform (L,)})
AudioSet = tuple[int, dict[str, np.ndarray]]


def stage6_vocoder(wav_dir: Path) -> str | None:
    """The vocoder stage 6 wrote ``wav_dir`` with (its ``vocoder`` file), None if unknown."""
    path = wav_dir / "vocoder"
    return (path.read_text().strip() or None) if path.is_file() else None


def _comparison_vocoder(name: str, conf: MelConfig, opts: EvalOptions) -> tuple[Any, str | None]:
    """``(vocoder, None)`` or ``(None, why it cannot run here)``."""
    from glowtts.registry import build_vocoder

    options = dict(opts.vocoder_options or {}) if name == opts.vocoder else {}
    if name == "hifigan" and "checkpoint" not in options:
        from glowtts.vocoders import hifigan

        reason = hifigan.pretrained_unfit_reason(conf)
        if reason is not None:
            return None, reason
        options["checkpoint"] = hifigan.DEFAULT_GENERATOR
    try:
        return build_vocoder(name, conf.to_dict(), opts.device, **options), None
    except (ImportError, OSError, ValueError, KeyError) as e:
        return None, str(e)


def _vocode(
    vocoder: Any, mels: Any, utts: list[str], conf: MelConfig, opts: EvalOptions, desc: str
) -> AudioSet:
    fs = int(getattr(vocoder, "sample_rate", conf.fs))
    wavs = {}
    for u in progress_bar(utts, opts, desc):
        wavs[u] = vocoder([np.array(mels[u], dtype=np.float32)], device=opts.device)[0]
    return fs, wavs


def build_audio_sets(
    run_vocoder: Any,
    utts: list[str],
    synth_wavs: dict[str, str],
    ref_wavs: dict[str, str] | None,
    hyp_feats: Any,
    ref_feats: Any,
    synth_vocoder: str | None,
    conf: MelConfig,
    opts: EvalOptions,
) -> tuple[dict[str, AudioSet], dict[str, str]]:
    """The audio of every system (see the module doc) and ``{vocoder: skip reason}``.

    ``run_vocoder`` is the built ``opts.vocoder``; ``synth_vocoder`` the stage-6 one.
    """
    missing = [u for u in utts if u not in synth_wavs]
    if missing:
        raise MissingInputError(f"no synthesized wav for {missing[0]} (stage 6 writes them)")
    sets: dict[str, AudioSet] = {
        "synth": (conf.fs, {u: load_wav(synth_wavs[u], conf.fs) for u in utts})
    }
    if ref_wavs is not None:
        sets["ref"] = (conf.fs, {u: load_wav(ref_wavs[u], conf.fs) for u in utts})
        sets["vocoded_ref"] = _vocode(run_vocoder, ref_feats, utts, conf, opts, "vocoded ref")
    skipped = {}
    for name in opts.vocoders:
        vocoder, reason = (
            (run_vocoder, None) if name == opts.vocoder else _comparison_vocoder(name, conf, opts)
        )
        if vocoder is None:
            log.info("stage 7: %s skipped: %s", name, reason)
            skipped[name] = f"skipped: {reason}"
            continue
        sets[f"synth_{name}"] = (
            sets["synth"]
            if name == synth_vocoder
            else _vocode(vocoder, hyp_feats, utts, conf, opts, f"synth {name}")
        )
        if ref_wavs is not None:
            sets[f"vocoded_ref_{name}"] = (
                sets["vocoded_ref"]
                if name == opts.vocoder
                else _vocode(vocoder, ref_feats, utts, conf, opts, f"ref {name}")
            )
    return sets, skipped


def mos_summary(sets: dict[str, AudioSet], opts: EvalOptions) -> dict[str, Any]:
    """DistillMOS mean / std / median / n_utts of each audio set, or a ``status`` saying why
    there is none (``--mos false``, DistillMOS not installed)."""
    from glowtts.evaluation import mos

    if not opts.mos:
        return {"status": "n/a (--mos false)"}
    reason = mos.unavailable_reason()
    if reason is not None:
        return {"status": f"skipped: {reason}"}
    out: dict[str, Any] = {"predictor": "DistillMOS"}
    cache = ScoreCache(opts.score_cache, mos.scorer_name() if opts.score_cache else "")
    done: dict[int, dict[str, Any]] = {}  # id(audio set) -> its summary: shared sets score once
    for system, audio in sets.items():
        if id(audio) not in done:
            fs, wavs = audio
            scores = cache.map(
                list(wavs.values()),
                fs,
                lambda ws, fs=fs: mos.predict_mos(ws, fs, device=opts.device),
            )
            done[id(audio)] = summary_stats(scores) | {"n_utts": len(scores)}
        out[system] = done[id(audio)]
    if cache.hits:
        log.info("stage 7: %d MOS scores read from %s", cache.hits, cache.path)
    return out
