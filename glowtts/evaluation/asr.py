"""Intelligibility by an offline ASR: pocketsphinx (its US-English model ships in the wheel)
at 16 kHz, scored as word error rate with jiwer.

The absolute WER of pocketsphinx on read speech is high (it is a small continuous-density
HMM system), so it is only meaningful next to the WER of the reference recordings through
the same recogniser; the report shows both (and Griffin-Lim of the reference mels).

``pocketsphinx`` and ``jiwer`` are the ``eval`` extra (``pip install glowtts[eval]``); they
are imported on first use, with an error that says how to install them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from glowtts.text.cleaners import clean_text

__all__ = ["ASR_RATE", "PocketSphinxASR", "WERResult", "normalize_for_wer", "word_error_rate"]

ASR_RATE = 16000
"""Sample rate of pocketsphinx's default acoustic model."""

_INSTALL = "install the evaluation extra: pip install 'glowtts[eval]' (pocketsphinx>=5, jiwer)"


def _import(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError as e:
        raise ImportError(f"{name} is needed for the WER evaluation; {_INSTALL}") from e


# Apostrophes inside words ("it's", "o'clock") are kept; every other non-alphanumeric
# character separates words (so "lower-case" == "lower case").
_NON_WORD = re.compile(r"[^a-z0-9']+")
_EDGE_APOS = re.compile(r"(?<![a-z0-9])'|'(?![a-z0-9])")


def normalize_for_wer(text: str) -> str:
    """Text -> lower-case words for scoring.

    The toolkit's ``english`` cleaners expand numbers, currencies and abbreviations (so
    ``"5"`` and ``"five"``, ``"Mr."`` and ``"mister"`` score as the same word), then
    everything is lower-cased and punctuation is removed (word-internal apostrophes kept).
    """
    text = clean_text(text, ["english", "lowercase"])
    text = _NON_WORD.sub(" ", text)
    text = _EDGE_APOS.sub(" ", text)
    return " ".join(text.split())


def to_asr_rate(wav: np.ndarray, fs: int) -> np.ndarray:
    """``(L,)`` float waveform at ``fs`` -> ``(L',)`` float32 at 16 kHz (polyphase resampling)."""
    wav = np.asarray(wav, dtype=np.float64)
    if fs != ASR_RATE:
        g = gcd(int(fs), ASR_RATE)
        wav = resample_poly(wav, ASR_RATE // g, int(fs) // g)
    return wav.astype(np.float32)


class PocketSphinxASR:
    """One pocketsphinx decoder, created once and reused for every utterance.

    Args:
        options: extra pocketsphinx config options (e.g. ``hmm``, ``lm``, ``dict`` to use
            another model); the default is the US-English model shipped in the wheel.
    """

    def __init__(self, **options: Any) -> None:
        ps = _import("pocketsphinx")
        opts = {"samprate": ASR_RATE, "loglevel": "FATAL", **options}
        self._decoder = ps.Decoder(**opts)

    def transcribe(self, wav: np.ndarray, fs: int) -> str:
        """Recognise one utterance.

        Args:
            wav: ``(L,)`` float waveform in [-1, 1].
            fs: its sample rate (resampled to 16 kHz here).

        Returns:
            the hypothesis as lower-case words ("" when nothing is recognised).
        """
        x = to_asr_rate(wav, fs)
        pcm = (np.clip(x, -1.0, 1.0) * 32767.0).astype("<i2")
        d = self._decoder
        # The feature front-end carries cepstral-mean state from one utterance to the next;
        # resetting it scores every utterance independently of the order of the set.
        d.reinit_feat()
        d.start_utt()
        d.process_raw(pcm.tobytes(), no_search=False, full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        return normalize_for_wer(hyp.hypstr) if hyp is not None else ""


@dataclass(frozen=True)
class WERResult:
    """Corpus-level WER (total edits / total reference words) and its parts."""

    wer: float
    n_utts: int
    n_ref_words: int
    substitutions: int
    deletions: int
    insertions: int

    def to_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def word_error_rate(refs: Sequence[str], hyps: Sequence[str]) -> WERResult:
    """WER over a set of utterances; both sides go through :func:`normalize_for_wer`.

    Utterances whose normalised reference is empty are left out (WER is undefined for them).
    """
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    pairs = [(normalize_for_wer(r), normalize_for_wer(h)) for r, h in zip(refs, hyps)]
    pairs = [(r, h) for r, h in pairs if r]
    if not pairs:
        raise ValueError("no utterance with a non-empty reference to score")
    jiwer = _import("jiwer")
    # An empty hypothesis is all deletions; counted here because some jiwer versions
    # reject empty strings.
    subs = dels = ins = 0
    scored_r, scored_h = [], []
    for r, h in pairs:
        if h:
            scored_r.append(r)
            scored_h.append(h)
        else:
            dels += len(r.split())
    if scored_r:
        out = jiwer.process_words(scored_r, scored_h)
        subs += out.substitutions
        dels += out.deletions
        ins += out.insertions
    n_ref = sum(len(r.split()) for r, _ in pairs)
    return WERResult((subs + dels + ins) / n_ref, len(pairs), n_ref, subs, dels, ins)
