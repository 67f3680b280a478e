"""Intelligibility by an offline ASR: pocketsphinx (its US-English model ships in the wheel)
at 16 kHz, scored as word error rate with jiwer.

The absolute WER of pocketsphinx on read speech is high (it is a small continuous-density
HMM system), so it is only meaningful next to the WER of the reference recordings through
the same recogniser; the report shows both (and Griffin-Lim of the reference mels).

``pocketsphinx`` and ``jiwer`` are the ``eval`` extra (``pip install glowtts[eval]``); they
are imported on first use, with an error that says how to install them.
"""

from __future__ import annotations

import json
import multiprocessing
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version as _version
from math import gcd
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from glowtts.text.cleaners import clean_text

__all__ = [
    "ASR_RATE",
    "PocketSphinxASR",
    "WERResult",
    "normalize_for_wer",
    "word_edits",
    "word_error_rate",
]

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


def transcribe_each(
    asr: Any, wavs: Sequence[np.ndarray], fs: int, progress: Any = None
) -> list[str]:
    """``asr.transcribe(wav, fs)`` of each waveform in this process, in order (any
    recogniser with that method); ``progress``: called with 1 after each utterance."""
    out = []
    for w in wavs:
        out.append(asr.transcribe(w, fs))
        if progress is not None:
            progress(1)
    return out


class PocketSphinxASR:
    """One pocketsphinx decoder, created once and reused for every utterance.

    Args:
        options: extra pocketsphinx config options (e.g. ``hmm``, ``lm``, ``dict`` to use
            another model); the default is the US-English model shipped in the wheel.
    """

    def __init__(self, **options: Any) -> None:
        ps = _import("pocketsphinx")
        self._options = dict(options)
        opts = {"samprate": ASR_RATE, "loglevel": "FATAL", **options}
        self._decoder = ps.Decoder(**opts)
        #: what makes the hypotheses (the key of cached ones): version and options
        self.name = f"pocketsphinx {_version('pocketsphinx')} " + json.dumps(opts, sort_keys=True)

    def transcribe_many(
        self, wavs: Sequence[np.ndarray], fs: int, jobs: int = 1, progress: Any = None
    ) -> list[str]:
        """:meth:`transcribe` of each waveform, in order, over ``jobs`` processes.

        pocketsphinx decodes on one core, so on a machine with more the utterances are
        shared out to worker processes (each with its own decoder of the same options;
        each utterance is decoded independently, so the result does not depend on
        ``jobs``). Fewer than 4 utterances per job run here: a worker's start (loading the
        model) costs about as much as recognising a few. ``progress``: called with the
        number of utterances just finished.
        """
        if jobs <= 1 or len(wavs) < 4 * jobs:
            return transcribe_each(self, wavs, fs, progress)
        done = progress or (lambda n: None)
        # fork, as torch's DataLoader workers: spawn would re-run the caller's main module
        # (a script without a __main__ guard would start pools recursively); the workers
        # use no OpenMP, so torch's threads in the parent do not matter
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ctx.Pool(min(jobs, len(wavs)), _worker_start, (self._options,)) as pool:
            out = []
            for hyp in pool.imap(_worker_transcribe, ((w, fs) for w in wavs), chunksize=2):
                out.append(hyp)
                done(1)
            return out

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


_worker_asr: PocketSphinxASR | None = None


def _worker_start(options: dict[str, Any]) -> None:
    global _worker_asr
    _worker_asr = PocketSphinxASR(**options)


def _worker_transcribe(item: tuple[np.ndarray, int]) -> str:
    assert _worker_asr is not None
    return _worker_asr.transcribe(*item)


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


def word_edits(refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
    """Word edits of each utterance; both sides go through :func:`normalize_for_wer`.

    Returns:
        ``(N, 4)`` int64: substitutions, deletions, insertions and reference words of each
        utterance, in the order given. A row with 0 reference words (empty normalised
        reference) has no WER; callers leave it out (:func:`word_error_rate` does).
    """
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    pairs = [(normalize_for_wer(r), normalize_for_wer(h)) for r, h in zip(refs, hyps)]
    out = np.zeros((len(pairs), 4), dtype=np.int64)
    out[:, 3] = [len(r.split()) for r, _ in pairs]
    # Empty references (insertions only) and empty hypotheses (deletions only) are counted
    # here: some jiwer versions reject empty strings.
    scored = []
    for i, (r, h) in enumerate(pairs):
        if r and h:
            scored.append(i)
        else:
            out[i, 1], out[i, 2] = len(r.split()), len(h.split())
    if scored:
        jiwer = _import("jiwer")
        res = jiwer.process_words([pairs[i][0] for i in scored], [pairs[i][1] for i in scored])
        for i, chunks in zip(scored, res.alignments):
            for c in chunks:
                if c.type == "substitute":
                    out[i, 0] += c.ref_end_idx - c.ref_start_idx
                elif c.type == "delete":
                    out[i, 1] += c.ref_end_idx - c.ref_start_idx
                elif c.type == "insert":
                    out[i, 2] += c.hyp_end_idx - c.hyp_start_idx
    return out


def word_error_rate(refs: Sequence[str], hyps: Sequence[str]) -> WERResult:
    """WER over a set of utterances; both sides go through :func:`normalize_for_wer`.

    Utterances whose normalised reference is empty are left out (WER is undefined for them).
    """
    edits = word_edits(refs, hyps)
    edits = edits[edits[:, 3] > 0]
    if not len(edits):
        raise ValueError("no utterance with a non-empty reference to score")
    subs, dels, ins, n_ref = (int(x) for x in edits.sum(axis=0))
    return WERResult((subs + dels + ins) / n_ref, len(edits), n_ref, subs, dels, ins)
