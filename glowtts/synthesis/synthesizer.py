"""Text -> waveform with a trained experiment: the user-facing synthesis API.

::

    from glowtts import Synthesizer
    syn = Synthesizer.from_exp("exp/tts_train_char")   # HiFi-GAN universal, or Griffin-Lim
    wav, sr = syn.tts("Printing, in the only sense with which we are concerned.")
    mel = syn.mel("Hello.")                                      # (T, n_mels) log-mel
    wavs = syn.tts_batch(["One.", "Two sentences. Here."])       # [(wav, sr), ...]
    for chunk in syn.stream("A long text. Of sentences.", seed=0):  # float32, as made
        ...
    wav, sr, times = syn.tts_timed("Hello.")                     # + word/token times
    syn = Synthesizer.from_exp("exp/...", vocoder="hifigan",
                               vocoder_options={"checkpoint": "g_02500000"})
    syn = Synthesizer.from_exp("exp/...", vocoder="griffin_lim")  # the old default

Everything comes from the experiment dir: ``config.yaml`` (model, ``feats``, and the
``decode`` section's ``noise_scale`` / ``length_scale`` / ``batch_size`` defaults),
``frontend.yaml`` + ``tokens.txt`` (the front-end the model trained with) and the
checkpoint (``best.pth``, else the newest ``step_*.pth``).

Text handling (:meth:`Synthesizer.plan`): SSML (``ssml=``, auto-detected from
``<speak``; :mod:`glowtts.text.ssml`) becomes text and breaks (silence), a prosody rate
divides ``length_scale`` (still inside its range); ``sentence_silence`` seconds go between
sentences; ``lexicon`` adds pronunciations for one call. :meth:`Synthesizer.tts` and
:meth:`Synthesizer.stream` make one chunk at a time (decoded and vocoded alone; chunk
``k`` seeded ``seed + k``), so the stream joined is ``tts()`` sample for sample; the first
chunk of a request is at most ``first_chunk_chars`` so audio starts early.
:meth:`Synthesizer.synthesize` batches the chunks of many texts instead:

- Long text is split at sentence ends (``. ! ?``), sentences packed into chunks of at
  most ``max_chunk_chars`` characters (a longer sentence is cut at ``, ; :``, then at
  spaces); the chunks are synthesised in length-sorted batches and joined with
  ``pause`` seconds of silence. Batches hold at most ``batch_size`` chunks and a bounded
  padded size (:data:`ENCODER_BATCH_TOKENS`, :data:`DECODER_BATCH_FRAMES`, the vocoder's
  own budget), so time per word stays flat from a sentence to a book chapter.
- Empty text, or text with no letter or digit left after cleaning (e.g. ``"?!"``),
  raises :class:`ValueError` (:class:`glowtts.text.EmptyTextError` for empty text).
- Characters outside the token list become ``<unk>`` with a logged warning (the
  front-end's behaviour).

Bounds: ``noise_scale`` and ``length_scale`` must lie in
:data:`glowtts.synthesis.batch_decode.SCALE_RANGES` (ValueError naming the option and the
range). The audio of one request is capped at ``max_seconds`` (the ``decode`` section, or
the constructor; default 600): the frames are counted from the predicted durations before
the decoder runs, and a longer request raises :class:`OutputTooLongError` (a ValueError)
without allocating its output. Non-finite mels or audio raise :class:`SynthesisError`.

Inference runs under ``torch.inference_mode`` with weight norm folded and the
inverse 1x1 convs cached; calls are serialised by a lock, so one instance can be
shared by threads (e.g. the HTTP server).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import queue
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import torch

from ..audio import MelConfig
from ..data.collate import pad_tokens
from ..nets import GlowTTS
from ..registry import AUTO_VOCODER, build_vocoder
from ..text import EmptyTextError, Frontend
from ..text.lexicon import LexiconSource
from ..text.ssml import Break, insert_sentence_breaks, to_segments
from ..utils import check_inference_precision, resolve_precision
from .batch_decode import (
    DECODE_DEFAULTS,
    check_max_seconds,
    check_scale,
    model_autocast,
    pack_by_length,
)
from .loading import load_experiment
from .timings import timings

if TYPE_CHECKING:  # typing.Unpack is 3.11+; the annotations are never evaluated
    from typing_extensions import Unpack

logger = logging.getLogger(__name__)

# Padded sizes per model call for long text: batches over these make tensors (encoder
# attention (B, heads, T_text, T_text), alignment path (B, T_text, T_mel), decoder
# activations) large enough for glibc to serve with fresh mmap'd pages, whose page faults
# made long text cost more per word (see bench/long_text.py).
ENCODER_BATCH_TOKENS = 2000
DECODER_BATCH_FRAMES = 8000

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")
_CHUNK_END = re.compile(r"[.!?,;:][\"')\]]*$")


class OutputTooLongError(ValueError):
    """The predicted output of a request is longer than ``max_seconds``."""


class SynthesisError(RuntimeError):
    """The model or vocoder produced non-finite values (never returned as audio)."""


def split_text(text: str, max_chars: int = 400) -> list[str]:
    """Split ``text`` into chunks of at most ``max_chars`` characters at sentence
    boundaries (then clause boundaries, then spaces; a single longer word is cut).

    Consecutive sentences share a chunk while they fit, so prosody across short
    sentences is kept. Whitespace is normalised; empty pieces are dropped.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return [text] if text else []

    def pieces(s: str, level: int) -> list[str]:
        if len(s) <= max_chars:
            return [s]
        if level == 0:
            parts = _SENTENCE_END.split(s)
        elif level == 1:
            parts = _CLAUSE_END.split(s)
        elif level == 2:
            parts = s.split(" ")
        else:
            return [s[i : i + max_chars] for i in range(0, len(s), max_chars)]
        out = []
        for p in parts:
            if p:
                out.extend(pieces(p, level + 1) if len(p) > max_chars else [p])
        return out

    chunks: list[str] = []
    for p in pieces(text, 0):
        if chunks and len(chunks[-1]) + 1 + len(p) <= max_chars:
            chunks[-1] += " " + p
        else:
            chunks.append(p)
    return chunks


@dataclasses.dataclass
class Utterance:
    """One synthesised text.

    Attributes:
        text: the input text.
        chunks: the pieces it was split into (see :func:`split_text`).
        mel: ``(T, n_mels)`` log-mel of all chunks joined with pause frames.
        durations: per chunk, frames per model input token (blanks included).
        wav: float32 waveform (chunks joined with ``pause`` seconds of silence), or None
            when only the mel was asked for.
        sample_rate: Hz.
    """

    text: str
    chunks: list[str]
    mel: np.ndarray
    durations: list[list[int]]
    wav: np.ndarray | None
    sample_rate: int


class ModelOptions(TypedDict, total=False):
    """The per-call model options (see :meth:`Synthesizer.synthesize`); None or absent:
    the config's ``decode`` defaults."""

    noise_scale: float | None
    length_scale: float | None
    spk: int | str | None
    durations: Sequence[int] | None
    seed: int | None


class SynthesisOptions(ModelOptions, total=False):
    """:class:`ModelOptions` plus the text options of :meth:`Synthesizer.plan`."""

    ssml: bool | None
    sentence_silence: float
    lexicon: LexiconSource | None


class Synthesizer:
    """A loaded experiment (front-end, model, vocoder) ready to synthesise.

    Build it with :meth:`from_exp`. Options per call: ``noise_scale`` (prior
    temperature), ``length_scale`` (>1 slower), ``spk`` (id or name, multi-speaker
    models), ``durations`` (frames per model input token, overriding the predictor),
    ``seed`` (reproducible noise).
    """

    def __init__(
        self,
        model: GlowTTS,
        frontend: Frontend,
        feats: MelConfig,
        vocoder: Any,
        *,
        device: str | torch.device = "cpu",
        decode: dict[str, Any] | None = None,
        speakers: list[str] | None = None,
        max_chunk_chars: int = 400,
        pause: float = 0.2,
        max_seconds: float | None = None,
        first_chunk_chars: int = 60,
        precision: str | None = None,
    ) -> None:
        self.model = model
        self.frontend = frontend
        self.feats = feats
        self.vocoder = vocoder
        self.device = torch.device(device)
        opts = {
            **DECODE_DEFAULTS,
            **{k: v for k, v in (decode or {}).items() if k in DECODE_DEFAULTS},
        }
        self.noise_scale = check_scale("noise_scale", opts["noise_scale"])
        self.length_scale = check_scale("length_scale", opts["length_scale"])
        self.batch_size = max(1, int(opts["batch_size"]))
        self.max_seconds = check_max_seconds(
            opts["max_seconds"] if max_seconds is None else max_seconds
        )
        self.speakers = speakers
        self.max_chunk_chars = max_chunk_chars
        self.pause = pause
        if first_chunk_chars < 1:
            raise ValueError(f"first_chunk_chars must be >= 1, got {first_chunk_chars}")
        self.first_chunk_chars = first_chunk_chars
        self._lock = threading.Lock()
        self._infer = model.inference
        # the acoustic model's precision (the vocoder has its own): decode.precision unless given
        asked = check_inference_precision(opts["precision"] if precision is None else precision)
        self.precision = resolve_precision(asked, self.device)
        if frontend.vocab_size > model.n_vocab:
            raise ValueError(
                f"the front-end has {frontend.vocab_size} tokens but the model only {model.n_vocab}: "
                "frontend.yaml/tokens.txt do not belong to this checkpoint"
            )

    @classmethod
    def from_exp(
        cls,
        path: str | Path,
        checkpoint: str | Path | None = None,
        device: str | torch.device = "cpu",
        vocoder: str = AUTO_VOCODER,
        vocoder_options: dict[str, Any] | None = None,
        *,
        compile: bool = False,
        cuda_graphs: bool = False,
        **options: Any,
    ) -> Synthesizer:
        """Load ``exp/<tag>``: config, front-end, checkpoint (default best.pth, else the
        newest step) and the vocoder ``vocoder`` (a name in ``glowtts.registry.VOCODERS``, or
        ``auto``: HiFi-GAN universal where installed and the mel fits, else Griffin-Lim; see
        :func:`glowtts.registry.choose_vocoder`) built with ``vocoder_options`` (e.g. ``{"checkpoint": ..., "config": ...}`` for
        hifigan; the device is passed unless given). ``compile=True`` wraps the encoder
        and decoder in ``torch.compile`` (off by default: compiling takes longer than most
        sessions save). ``cuda_graphs=True`` (CUDA only) replays the encoder and decoder
        from CUDA graphs captured per padded length bucket
        (:class:`glowtts.synthesis.cuda_graphs.GraphedInference`): the first call of each bucket
        captures, later ones skip the per-kernel launch cost. ``options`` go to the
        constructor (``max_chunk_chars``, ``pause``, ``max_seconds``, ``first_chunk_chars``,
        ``precision``: the acoustic model's, ``fp32``, ``bf16`` or ``auto`` (bf16 autocast on
        CPUs with native bf16); default: the config's ``decode.precision`` (fp32); the
        vocoder's is in ``vocoder_options``).
        """
        device = torch.device(device)
        exp = load_experiment(path, checkpoint, device)
        model, config = exp.model, exp.config
        logger.info("loaded %s", exp.checkpoint)
        frontend = exp.frontend()
        feats = MelConfig.from_dict(config.get("feats") or {})
        voc = build_vocoder(vocoder, feats.to_dict(), device, **(vocoder_options or {}))
        if compile:
            model.encoder = torch.compile(model.encoder, dynamic=True)
            model.decoder = torch.compile(model.decoder, dynamic=True)
        elif device.type == "cpu":
            model.use_channels_last_convs()  # same function, the CPU kernels' fast layout
        syn = cls(
            model,
            frontend,
            feats,
            voc,
            device=device,
            decode=config.get("decode"),
            speakers=exp.speakers(),
            **options,
        )
        if cuda_graphs:
            if device.type != "cuda":
                raise ValueError("cuda_graphs needs a CUDA device")
            from .cuda_graphs import GraphedInference

            syn._infer = GraphedInference(model)
        return syn

    @classmethod
    def from_pretrained(cls, path: str | Path, **kwargs: Any) -> Synthesizer:
        """A voice file (``NAME.glowtts``, written by ``glowtts-pack``) or an experiment
        dir alike; ``kwargs`` as in :meth:`from_exp` (``device``, ``vocoder``, ...)."""
        return cls.from_exp(path, **kwargs)

    # ------------------------------------------------------------ properties
    @property
    def sample_rate(self) -> int:
        return self.feats.fs

    @property
    def hop_length(self) -> int:
        return self.feats.hop_length

    @property
    def max_frames(self) -> int:
        """Mel frames of ``max_seconds`` of audio: the cap of one request."""
        return int(self.max_seconds * self.sample_rate / self.hop_length)

    # ------------------------------------------------------------ text
    def split(self, text: str) -> list[str]:
        """Chunks of ``text`` that carry speech (see :func:`split_text`).

        Raises:
            ValueError: the text is empty or has no letter/digit after cleaning.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if not text.strip():
            raise EmptyTextError("text is empty: nothing to synthesise")
        chunks = [c for c in split_text(text, self.max_chunk_chars) if self._speakable(c)]
        if not chunks:
            raise ValueError(f"text {text[:80]!r} has no letters or digits: nothing to synthesise")
        return chunks

    def _speakable(self, chunk: str) -> bool:
        return any(ch.isalnum() for ch in self.frontend.clean(chunk))

    def encode(self, text: str) -> list[int]:
        """Model input ids of one chunk (blanks interspersed if the model uses them)."""
        return self.frontend.encode(text)

    def _speaker_id(self, spk: int | str | None) -> int | None:
        n = self.model.n_speakers
        if self.model.emb_g is None:
            if spk not in (None, 0, "0"):
                raise ValueError(f"this is a single-speaker model; got spk={spk!r}")
            return None
        if spk is None:
            raise ValueError(f"this is a multi-speaker model ({n} speakers): pass spk (id or name)")
        if isinstance(spk, str) and not spk.lstrip("-").isdigit():
            if not self.speakers or spk not in self.speakers:
                raise ValueError(
                    f"unknown speaker {spk!r}; known: {self.speakers or '(no spk_list)'}"
                )
            return self.speakers.index(spk)
        sid = int(spk)
        if not 0 <= sid < n:
            raise ValueError(f"speaker id {sid} out of range [0, {n})")
        return sid

    # ------------------------------------------------------------ synthesis
    def synthesize(
        self,
        texts: Sequence[str],
        *,
        noise_scale: float | None = None,
        length_scale: float | None = None,
        spk: int | str | None = None,
        durations: Sequence[int] | None = None,
        seed: int | None = None,
        vocode: bool = True,
    ) -> list[Utterance]:
        """Synthesise ``texts``; the chunks of all texts go through the model in
        length-sorted batches (``batch_size`` from the config's ``decode`` section, and
        the padded-size budgets above).

        ``durations`` (one text only, not split) gives the frames of every model input
        token. ``seed`` makes the noise reproducible (chunk ``k`` of the batch uses
        ``seed + k``); None draws from torch's global generator.
        """
        if isinstance(texts, str):
            raise TypeError("synthesize takes a list of texts; use tts() for one")
        noise_scale = check_scale(
            "noise_scale", self.noise_scale if noise_scale is None else noise_scale
        )
        length_scale = check_scale(
            "length_scale", self.length_scale if length_scale is None else length_scale
        )
        sid = self._speaker_id(spk)
        chunks = [self.split(t) for t in texts]
        flat = [(i, c, self.encode(c)) for i, cs in enumerate(chunks) for c in cs]
        if durations is not None:
            if len(flat) != 1:
                raise ValueError(
                    "durations need exactly one text that is not split into chunks "
                    f"(got {len(texts)} text(s), {len(flat)} chunk(s))"
                )
            durations = _checked_durations(durations, flat[0][2], self.frontend)
        with self._lock, torch.inference_mode():
            mels, durs = self._mels(
                [ids for _, _, ids in flat],
                [i for i, _, _ in flat],
                noise_scale,
                length_scale,
                sid,
                durations,
                seed,
            )
            _check_finite("mel", mels)
            wavs = self._vocode(mels) if vocode else None
            if wavs is not None:
                _check_finite("waveform", wavs)
        return self._assemble(texts, chunks, flat, mels, durs, wavs)

    def _mels(
        self,
        items: list[list[int]],
        owners: list[int],
        noise_scale: float,
        length_scale: float,
        sid: int | None,
        durations: list[int] | None,
        seed: int | None,
    ) -> tuple[list[np.ndarray], list[list[int]]]:
        """Mels ``(T_i, n_mels)`` and durations of token sequences (``owners[i]``: the text
        item ``i`` belongs to).

        Two passes: the durations of every item first (encoder and duration predictor
        only), so :meth:`_check_length` refuses an over-long text before the decoder
        allocates anything; then the decoder with those durations, in batches of at most
        ``batch_size`` items and :data:`DECODER_BATCH_FRAMES` padded frames.
        """
        durs = [durations] if durations is not None else self._durations(items, sid, length_scale)
        frames = [sum(d) for d in durs]
        self._check_length(frames, owners)
        seeds = None if seed is None else [seed + i for i in range(len(items))]
        return self._decode(items, durs, noise_scale, sid, seeds)

    def _decode(
        self,
        items: list[list[int]],
        durs: list[list[int]],
        noise_scale: float,
        sid: int | None,
        seeds: list[int] | None,
    ) -> tuple[list[np.ndarray], list[list[int]]]:
        """Mels ``(T_i, n_mels)`` of token sequences with the given frames per token, in
        batches of at most ``batch_size`` items and :data:`DECODER_BATCH_FRAMES` padded
        frames; item ``i`` draws its noise from ``seeds[i]`` (None: the global generator)."""
        frames = [sum(d) for d in durs]
        mels: list[np.ndarray | None] = [None] * len(items)
        out_durs: list[list[int] | None] = [None] * len(items)
        for idx in pack_by_length(frames, self.batch_size, DECODER_BATCH_FRAMES):
            tokens, lengths = pad_tokens([items[i] for i in idx])
            dur, _ = pad_tokens([durs[i] for i in idx])
            with self._autocast():
                out = self._infer(
                    tokens.to(self.device),
                    lengths.to(self.device),
                    noise_scale=noise_scale,
                    durations=dur.to(self.device),
                    spk=self._spk_tensor(sid, len(idx)),
                    seeds=None if seeds is None else [seeds[i] for i in idx],
                )
            mel, mel_len, dur = out["mel"].cpu(), out["mel_lengths"].cpu(), out["durations"].cpu()
            for b, i in enumerate(idx):
                mels[i] = mel[b, : int(mel_len[b])].numpy()
                out_durs[i] = dur[b, : len(items[i])].tolist()
        return mels, out_durs  # type: ignore[return-value]

    def _autocast(self) -> contextlib.AbstractContextManager:
        """Autocast for the acoustic model at :attr:`precision` (none at fp32)."""
        return model_autocast(self.precision, self.device)

    def _spk_tensor(self, sid: int | None, n: int) -> torch.Tensor | None:
        if sid is None:
            return None
        return torch.full((n,), sid, dtype=torch.long, device=self.device)

    def _durations(
        self, items: list[list[int]], sid: int | None, length_scale: float
    ) -> list[list[int]]:
        """Predicted frames per token of every item, as :meth:`GlowTTS.inference` would
        compute them; batches of at most :data:`ENCODER_BATCH_TOKENS` padded tokens."""
        model = self.model
        out: list[list[int] | None] = [None] * len(items)
        for idx in pack_by_length([len(t) for t in items], self.batch_size, ENCODER_BATCH_TOKENS):
            tokens, lengths = pad_tokens([items[i] for i in idx])
            tokens, lengths = tokens.to(self.device), lengths.to(self.device)
            g = model._speaker(self._spk_tensor(sid, len(idx)))
            with self._autocast():
                _, _, log_w, x_mask = model._encode(tokens, lengths, g)
            dur = model.frame_durations(log_w, x_mask, lengths, length_scale).cpu()
            for b, i in enumerate(idx):
                out[i] = dur[b, : len(items[i])].tolist()
        return out  # type: ignore[return-value]

    def _check_length(self, frames: list[int], owners: list[int]) -> None:
        """Raise :class:`OutputTooLongError` if the frames of a text (its chunks
        ``frames[k]`` with ``owners[k]`` equal, and the pauses between them) exceed
        :attr:`max_frames`."""
        pause_frames = int(round(self.pause * self.sample_rate / self.hop_length))
        totals: dict[int, int] = {}
        for n, owner in zip(frames, owners):
            totals[owner] = totals.get(owner, -pause_frames) + pause_frames + n
        for owner, total in totals.items():
            self._check_total(total, f"text {owner + 1}: the output")

    def _vocode(self, mels: list[np.ndarray]) -> list[np.ndarray]:
        """Waveforms of the mels, in vocoder batches of similar length."""
        order = sorted(range(len(mels)), key=lambda i: -len(mels[i]))
        wavs: list[np.ndarray | None] = [None] * len(mels)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            for i, w in zip(idx, self.vocoder([mels[i] for i in idx], device=self.device)):
                wavs[i] = np.asarray(w, dtype=np.float32)
        return wavs  # type: ignore[return-value]

    def _assemble(self, texts, chunks, flat, mels, durs, wavs) -> list[Utterance]:
        n_pause_frames = int(round(self.pause * self.sample_rate / self.hop_length))
        silence_mel = np.full(
            (n_pause_frames, self.feats.n_mels), math.log(self.feats.log_floor), np.float32
        )
        silence_wav = np.zeros(int(round(self.pause * self.sample_rate)), np.float32)
        out = []
        for i, text in enumerate(texts):
            ks = [k for k, (j, _, _) in enumerate(flat) if j == i]
            mel_parts, wav_parts = [], []
            for n, k in enumerate(ks):
                if n:
                    mel_parts.append(silence_mel)
                    wav_parts.append(silence_wav)
                mel_parts.append(mels[k])
                if wavs is not None:
                    wav_parts.append(wavs[k])
            out.append(
                Utterance(
                    text=text,
                    chunks=chunks[i],
                    mel=np.concatenate(mel_parts).astype(np.float32),
                    durations=[durs[k] for k in ks],
                    wav=np.concatenate(wav_parts) if wavs is not None else None,
                    sample_rate=self.sample_rate,
                )
            )
        return out

    # ------------------------------------------------------------ streaming
    def plan(
        self,
        text: str,
        *,
        ssml: bool | None = None,
        sentence_silence: float = 0.0,
        lexicon: LexiconSource | None = None,
    ) -> list[Piece]:
        """The pieces of ``text`` in audio order: speech chunks and silences.

        ``text`` is SSML when ``ssml`` is true (None: when it starts with ``<speak``;
        :mod:`glowtts.text.ssml`): a break is a silence of its length, a prosody rate
        divides ``length_scale``. ``sentence_silence`` seconds separate sentences.
        Chunks of one text (:func:`split_text`) are separated by ``pause`` seconds, texts
        that no break separates (a prosody change) by none. ``lexicon`` (a path or a
        ``{"word": "PHONES"}`` mapping) adds pronunciations for this call.

        Raises:
            ValueError: empty text or nothing speakable; SSMLError (a ValueError) for bad
                markup; PronunciationError for a bad lexicon or inline phonemes.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if not text.strip():
            raise EmptyTextError("text is empty: nothing to synthesise")
        segments = insert_sentence_breaks(
            to_segments(text, ssml), check_silence("sentence_silence", sentence_silence)
        )
        frontend = self.frontend.with_lexicon(lexicon) if lexicon else self.frontend
        pieces: list[Piece] = []
        for seg in segments:
            if isinstance(seg, Break):
                _add_silence(pieces, seg.seconds)
                continue
            chunks = [c for c in split_text(seg.text, self.max_chunk_chars) if self._speakable(c)]
            if chunks and not any(p.ids for p in pieces):
                chunks = self._short_first(chunks)
            for n, chunk in enumerate(chunks):
                if n:  # no pause inside a clause cut at a space
                    _add_silence(pieces, self.pause if _CHUNK_END.search(chunks[n - 1]) else 0.0)
                pieces.append(Piece(chunk, frontend.encode(chunk), seg.length_scale_factor))
        if not any(p.ids for p in pieces):
            raise ValueError(f"text {text[:80]!r} has no letters or digits: nothing to synthesise")
        return pieces

    def _short_first(self, chunks: list[str]) -> list[str]:
        """The first chunk of a request cut to at most ``first_chunk_chars`` (at a sentence
        end, else a clause end, else a space), so :meth:`stream` has audio to give early;
        the rest of that chunk stays one chunk."""
        head = split_text(chunks[0], self.first_chunk_chars)
        if len(head) == 1:
            return chunks
        rest = [" ".join(head[1:])] if self._speakable(" ".join(head[1:])) else []
        return head[:1] + rest + chunks[1:]

    def _prepare(self, text: str, opts: dict[str, Any]) -> tuple[list[Piece], dict[str, Any]]:
        """Pieces of ``text`` with the frames of every speech chunk, checked against the
        output cap before anything is decoded; the model options of the call."""
        unknown = sorted(set(opts) - set(_MODEL_OPTIONS) - set(_TEXT_OPTIONS))
        if unknown:
            raise TypeError(
                f"unknown option(s) {unknown}; valid: {', '.join(_MODEL_OPTIONS + _TEXT_OPTIONS)}"
            )
        durations = opts.pop("durations", None)
        pieces = self.plan(text, **{k: opts.pop(k) for k in _TEXT_OPTIONS if k in opts})
        noise_scale = check_scale("noise_scale", _or(opts.get("noise_scale"), self.noise_scale))
        length_scale = check_scale("length_scale", _or(opts.get("length_scale"), self.length_scale))
        sid = self._speaker_id(opts.get("spk"))
        speech = [p for p in pieces if p.ids]
        for p in speech:  # a prosody rate scales the call's rate, within the same bounds
            p.length_scale = check_scale("length_scale", length_scale * p.scale_factor)
        if durations is not None:
            if len(speech) != 1:
                raise ValueError(
                    "durations need exactly one text that is not split into chunks "
                    f"(got {len(speech)} chunk(s))"
                )
            speech[0].durations = _checked_durations(durations, speech[0].ids, self.frontend)
        else:
            with self._lock, torch.inference_mode():
                for scale in sorted({p.length_scale for p in speech}):
                    group = [p for p in speech if p.length_scale == scale]
                    durs = self._durations([p.ids for p in group], sid, scale)
                    for p, d in zip(group, durs):
                        p.durations = d
        frames = sum(sum(p.durations) for p in speech)
        silence = sum(p.seconds for p in pieces if not p.ids)
        self._check_total(frames + silence * self.sample_rate / self.hop_length)
        return pieces, {"noise_scale": noise_scale, "sid": sid, "seed": opts.get("seed")}

    def _check_total(self, frames: float, what: str = "the output") -> None:
        """OutputTooLongError naming ``what`` if ``frames`` exceed :attr:`max_frames`."""
        if frames > self.max_frames:
            seconds = frames * self.hop_length / self.sample_rate
            raise OutputTooLongError(
                f"{what} would be {seconds:.1f} s ({frames:.0f} frames), over the limit of "
                f"max_seconds={self.max_seconds:g}; shorten the text, lower length_scale, or "
                "raise max_seconds (decode section of config.yaml, or --max_seconds)"
            )

    def _run(self, text: str, **opts: Any) -> Iterator[tuple[Piece, np.ndarray]]:
        """``(piece, audio)`` in order: each speech chunk decoded and vocoded alone (the
        lock held per chunk, so other callers interleave), each silence as zeros. Speech
        chunk ``k`` uses noise seed ``seed + k``."""
        pieces, model_opts = self._prepare(text, dict(opts))
        seed = model_opts["seed"]
        k = 0
        for p in pieces:
            if not p.ids:
                yield p, np.zeros(int(round(p.seconds * self.sample_rate)), np.float32)
                continue
            with self._lock, torch.inference_mode():
                (mel,), (p.durations,) = self._decode(
                    [p.ids],
                    [p.durations],
                    model_opts["noise_scale"],
                    model_opts["sid"],
                    None if seed is None else [seed + k],
                )
                _check_finite("mel", [mel])
                wav = self._vocode([mel])
                _check_finite("waveform", wav)
            k += 1
            yield p, wav[0]

    def stream(self, text: str, *, ahead: int = 1, **opts: Any) -> Iterator[np.ndarray]:
        """float32 audio of ``text`` chunk by chunk, as soon as each is made: speech
        chunks and the silences between them. Options as :meth:`tts`; the concatenation
        is :meth:`tts`'s waveform for the same seed, sample for sample.

        A background thread makes up to ``ahead`` chunks while the caller uses the last
        one (plays it, sends it); ``ahead=0`` makes each chunk only when asked. Closing
        the iterator early stops that thread after its current chunk.

        Bad options, bad markup and an over-long text raise at the first ``next()``.
        """
        chunks = (wav for _, wav in self._run(text, **opts))
        return _ahead(chunks, ahead) if ahead > 0 else chunks

    def tts_timed(self, text: str, **opts: Any) -> tuple[np.ndarray, int, dict[str, Any]]:
        """:meth:`tts` plus the start and end seconds of every token and word
        (:func:`glowtts.synthesis.timings.timings`)."""
        parts, pieces = [], []
        for p, wav in self._run(text, **opts):
            parts.append(wav)
            if p.ids:
                pieces.append(("speech", p.ids, p.durations, len(wav), p.text))
            else:
                pieces.append(("silence", len(wav)))
        fe = self.frontend.with_lexicon(opts["lexicon"]) if opts.get("lexicon") else self.frontend
        info = timings(
            pieces,
            self.sample_rate,
            fe.token_list.tokens_of,
            fe.tokenizer.detokenize,
            fe.tokenize,
        )
        return _join(parts), self.sample_rate, info

    # ------------------------------------------------------------ convenience
    def tts(self, text: str, **opts: Unpack[SynthesisOptions]) -> tuple[np.ndarray, int]:
        """Waveform (float32 in [-1, 1]) and sample rate for ``text``: the chunks of
        :meth:`stream` joined. Options (:class:`SynthesisOptions`): those of
        :meth:`synthesize`, and ``ssml``, ``sentence_silence`` and ``lexicon`` of
        :meth:`plan`; an unknown one raises TypeError naming the valid ones. (:meth:`synthesize` batches chunks instead: faster for long text
        on a GPU, equal up to float rounding and vocoder edge effects.)

        Raises:
            ValueError: empty text, text without letters/digits, bad options or markup.
        """
        return _join(list(self.stream(text, ahead=0, **opts))), self.sample_rate

    def mel(self, text: str, **opts: Unpack[ModelOptions]) -> np.ndarray:
        """Log-mel ``(T, n_mels)`` for ``text`` (no vocoder); options as :meth:`synthesize`."""
        (utt,) = self.synthesize([text], vocode=False, **opts)
        return utt.mel

    def tts_batch(
        self, texts: Sequence[str], **opts: Unpack[ModelOptions]
    ) -> list[tuple[np.ndarray, int]]:
        """``[(wav, sample_rate), ...]`` in the order of ``texts``, synthesised in
        length-sorted batches; options as :meth:`synthesize`."""
        utts = self.synthesize(texts, **opts)
        return [(u.wav, u.sample_rate) for u in utts]


@dataclasses.dataclass
class Piece:
    """One piece of a request's audio: a speech chunk (``text``, model input ``ids``,
    ``length_scale`` after prosody, the ``durations`` the model used) or, when ``ids`` is
    empty, ``seconds`` of silence."""

    text: str = ""
    ids: list[int] = dataclasses.field(default_factory=list)
    scale_factor: float = 1.0
    seconds: float = 0.0
    length_scale: float = 1.0
    durations: list[int] = dataclasses.field(default_factory=list)


# keyword arguments of tts()/stream() that shape the text rather than the model
_TEXT_OPTIONS = ("ssml", "sentence_silence", "lexicon")
_MODEL_OPTIONS = ("noise_scale", "length_scale", "spk", "durations", "seed")
MAX_SILENCE = 10.0  # seconds: the longest sentence_silence (as the longest SSML break)


def check_silence(name: str, value: Any) -> float:
    """A silence option in seconds, in [0, :data:`MAX_SILENCE`], else ValueError naming it."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, bool) or not (math.isfinite(v) and 0 <= v <= MAX_SILENCE):
        raise ValueError(
            f"{name} must be a number of seconds in [0, {MAX_SILENCE:g}], got {value!r}"
        )
    return v


def _add_silence(pieces: list[Piece], seconds: float) -> None:
    """Append a silence, merged into a silence just before it (breaks add up)."""
    if seconds <= 0:
        return
    if pieces and not pieces[-1].ids:
        pieces[-1].seconds += seconds
    else:
        pieces.append(Piece(seconds=seconds))


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _join(parts: list[np.ndarray]) -> np.ndarray:
    return (
        np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)
    )


def _checked_durations(durations: Sequence[int], ids: list[int], frontend: Frontend) -> list[int]:
    """``durations`` as ints, one per model input id, >= 0 with a positive sum."""
    durations = [int(d) for d in durations]
    if len(durations) != len(ids):
        raise ValueError(
            f"{len(durations)} durations for {len(ids)} model input tokens"
            + (" (blanks included: 2n+1)" if frontend.add_blank else "")
        )
    if min(durations) < 0 or sum(durations) < 1:
        raise ValueError("durations must be >= 0 with a positive sum")
    return durations


def _ahead(items: Iterator[Any], n: int) -> Iterator[Any]:
    """``items`` made by a thread up to ``n`` ahead of the consumer; its exception is
    raised where the item would have been. Started at the first ``next()``."""
    q: queue.Queue = queue.Queue(maxsize=n)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for x in items:
                if not put((True, x)):
                    return
            put((False, None))
        except BaseException as e:  # handed to the consumer
            put((False, e))

    t = threading.Thread(target=produce, name="glowtts-stream", daemon=True)
    t.start()
    try:
        while True:
            ok, x = q.get()
            if ok:
                yield x
            elif x is None:
                return
            else:
                raise x
    finally:
        stop.set()
        t.join()


def _check_finite(what: str, arrays: list[np.ndarray]) -> None:
    """Raise :class:`SynthesisError` if any array holds NaN or inf (never return it as audio)."""
    bad = [k for k, a in enumerate(arrays) if not np.isfinite(a).all()]
    if bad:
        raise SynthesisError(
            f"the {what} of chunk(s) {bad} has non-finite values; the model or vocoder is "
            "broken or the options are extreme (try a lower noise_scale)"
        )


def plot_utterance(utt: Utterance, out_png: str | Path) -> None:
    """PNG with the synthesised mel and the token x frame alignment of each chunk."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(utt.durations)
    fig, axes = plt.subplots(1 + n, 1, figsize=(10, 3 + 2.5 * n), squeeze=False)
    axes[0, 0].imshow(utt.mel.T, aspect="auto", origin="lower", interpolation="none")
    axes[0, 0].set_title(f"mel: {utt.text[:60]!r}")
    axes[0, 0].set_xlabel("frame")
    for k, dur in enumerate(utt.durations):
        cum = np.cumsum(dur)
        frames = np.arange(int(cum[-1]) if len(cum) else 0)
        owner = np.searchsorted(cum, frames, side="right")  # token that owns each frame
        align = np.zeros((len(dur), len(frames)), np.float32)
        align[owner, frames] = 1.0
        ax = axes[1 + k, 0]
        ax.imshow(align, aspect="auto", origin="lower", interpolation="none")
        ax.set_title(f"alignment, chunk {k + 1}/{n} (token x frame)")
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
