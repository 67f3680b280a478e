"""Benchmark Glow-TTS inference: text -> log-mel, and the vocoder; prints one JSON object.

Model: the official LJSpeech configuration (``egs/ljspeech/tts1/conf/train.yaml``
``model`` section, ``n_vocab`` 148, about 28.6 M parameters), randomly initialised
and passed through data-dependent init on a random batch, then
``prepare_for_inference()`` (weight norm folded, inverse 1x1 convs cached), batch 1,
under ``torch.inference_mode``.

Inputs of 50 / 100 / 200 random tokens. A random model predicts about one frame per
token, far fewer than a trained one, so the flow decoder (most of the cost) would be
under-measured; the timed calls therefore pass ``durations`` of ``--frames_per_token``
frames per token (default 6: LJSpeech averages about 5.7 frames per character), so
T_mel is what a trained model produces. ``predicted`` repeats the 100-token case with
the random model's own predicted durations, for reference.

On CUDA the cases run twice: eager (``cuda``) and through
:class:`glowtts.synthesis.cuda_graphs.GraphedInference` (``cuda_graphs``: encoder and decoder
replayed from CUDA graphs; captured in the warm-up calls).

On the CPU the model runs as the Synthesizer runs it there: a copy with channels-last
convs (``use_channels_last_convs()``) under the autocast of ``--cpu_precision`` (default
``auto``: bf16 on CPUs with native bf16).

Times are medians over ``--repeats`` warm calls (after ``--warmup`` calls), on the
CPU at ``--threads`` threads (default: 2, the setting the CPU target is stated for)
and on CUDA when present (``--device`` auto|cpu|cuda). Real-time factor =
time / mel seconds, with mel seconds = frames * 256 / 22050.

Vocoder (``--vocoder``, default on when the public generators are installed): the
HiFi-GAN universal generator on the 100-token case's mel (600 frames, 7.0 s), per
variant of ``--vocoder_variants`` (``fp32``, ``bf16``, ``bf16_jit``, ``bf16_1d`` ...:
precision, then ``_eager`` for no TorchScript trace (traced and frozen by default on a
CPU), ``_1d`` for the 1-D convs instead of the default 2-D channels-last form on a CPU), medians over
``--vocoder_repeats`` calls after one warm-up: wall time, user+system CPU time of the
process (other jobs on a shared machine inflate wall time, not CPU time), RTF, and the
end-to-end text-to-waveform RTF (mel generation + vocoder). Output of each variant vs
fp32: waveform SNR.

Usage: ``python bench/infer.py [--threads N] [--repeats N] [--device auto|cpu|cuda]``

``--official [--lengths 50,100,200] [--precisions fp32,bf16,bf16_1d]`` (CPU; needs
``../shared/anchors/glow-tts``): the official Glow-TTS code's ``FlowGenerator`` from its
``configs/base.json`` beside ours with the same weights (converted by
:mod:`glowtts.convert.official`), batch 1, one call of each in turn (official, ours fp32,
ours bf16, official, ...) so that load on a shared machine hits all alike. The official
``forward(..., gen=True)`` cannot take given durations, so both models' duration
predictors are made to output the same constant log-duration (the last 1x1 conv zeroed,
its bias ``log(frames_per_token - 0.5)``, whose ceiling is exactly
``--frames_per_token``) and ours is also handed those durations as above: both make the
same T_mel (checked), both still run their duration predictor. The official side runs
fp32 under ``torch.no_grad`` after ``store_inverse()`` and ``eval()`` (as its inference
notebook); ours after ``prepare_for_inference()`` under ``torch.inference_mode``, fp32 and
bf16 (CPU autocast), with its convs in channels-last 2-D layout as the Synthesizer and
``glowtts-decode`` run them on a CPU (``use_channels_last_convs()``), or with ``_1d``
(``fp32_1d``, ``bf16_1d``) as plain 1-D convs. Reported per length: medians and RTFs
of each, ``speedup_<variant>`` = official / ours (> 1: ours is faster); and the CPU model with its bf16 / AMX flags, torch
version and thread count. E.g. ``python bench/infer.py --official --repeats 5 --warmup 2``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))  # run from a checkout without `pip install -e .`

import vs_official  # noqa: E402  (bench/vs_official.py)

from glowtts.audio import MelConfig  # noqa: E402
from glowtts.nets import build_model  # noqa: E402
from glowtts.synthesis.batch_decode import DECODE_DEFAULTS, model_autocast  # noqa: E402
from glowtts.synthesis.cuda_graphs import GraphedInference  # noqa: E402
from glowtts.utils import cpu_has_native_bf16, read_yaml_mapping, resolve_precision  # noqa: E402
from glowtts.vocoders import hifigan  # noqa: E402

N_VOCAB = 148
HOP, FS = 256, 22050
LENGTHS = (50, 100, 200)
DECODING = {k: DECODE_DEFAULTS[k] for k in ("noise_scale", "length_scale")}


def build_official(seed: int = 0) -> torch.nn.Module:
    conf = read_yaml_mapping(_HERE.parent / "egs/ljspeech/tts1/conf/train.yaml")
    torch.manual_seed(seed)
    model = build_model(conf["model"], N_VOCAB)
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([60, 45])
    tokens = torch.randint(2, N_VOCAB, (2, 60), generator=g) * (torch.arange(60) < lengths[:, None])
    flen = lengths * 6
    feats = torch.randn(2, int(flen.max()), model.n_mels, generator=g) - 5.0
    model.data_dependent_init(tokens, lengths, feats, flen)
    return model.prepare_for_inference()


def _cpu_inference(model: torch.nn.Module, precision: str):
    """``inference`` as the Synthesizer runs it on a CPU: a copy with channels-last convs,
    under the autocast of ``precision`` (``auto``: bf16 on CPUs with native bf16)."""
    cpu_model = copy.deepcopy(model).use_channels_last_convs()

    def infer(*args, **kwargs):
        with model_autocast(precision, torch.device("cpu")):
            return cpu_model.inference(*args, **kwargs)

    return infer


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_inference(
    infer,
    n_tokens: int,
    device: torch.device,
    *,
    frames_per_token: int | None,
    warmup: int,
    repeats: int,
) -> dict:
    g = torch.Generator().manual_seed(n_tokens)
    tokens = torch.randint(2, N_VOCAB, (1, n_tokens), generator=g).to(device)
    lengths = torch.tensor([n_tokens], device=device)
    dur = None
    if frames_per_token is not None:
        dur = torch.full((1, n_tokens), frames_per_token, dtype=torch.long, device=device)
    times = []
    frames = 0
    with torch.inference_mode():
        for i in range(warmup + repeats):
            _sync(device)
            t0 = time.perf_counter()
            out = infer(tokens, lengths, **DECODING, durations=dur)
            _sync(device)
            if i >= warmup:
                times.append(time.perf_counter() - t0)
            frames = int(out["mel_lengths"][0])
    med = statistics.median(times)
    mel_s = frames * HOP / FS
    return {
        "tokens": n_tokens,
        "frames": frames,
        "mel_seconds": round(mel_s, 3),
        "median_ms": round(med * 1e3, 3),
        "min_ms": round(min(times) * 1e3, 3),
        "rtf": round(med / mel_s, 5),
    }


def run_device(infer, device: torch.device, args) -> dict:
    res = {
        f"{n}_tokens": time_inference(
            infer,
            n,
            device,
            frames_per_token=args.frames_per_token,
            warmup=args.warmup,
            repeats=args.repeats,
        )
        for n in LENGTHS
    }
    res["predicted_100_tokens"] = time_inference(
        infer, 100, device, frames_per_token=None, warmup=args.warmup, repeats=args.repeats
    )
    return res


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def time_vocoder(voc, mel: torch.Tensor, device: torch.device, repeats: int) -> tuple[dict, Any]:
    """Median wall / CPU seconds of ``voc([mel])`` after one warm-up call; and the output."""
    wav = voc([mel[:40]], device=device)  # warm-up (and the trace, for jit variants)
    walls, cpus = [], []
    for _ in range(repeats):
        _sync(device)
        c0, t0 = _cpu_seconds(), time.perf_counter()
        (wav,) = voc([mel], device=device)
        _sync(device)
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu_seconds() - c0)
    return {
        "median_s": round(statistics.median(walls), 3),
        "min_s": round(min(walls), 3),
        "cpu_s": round(statistics.median(cpus), 3),
    }, wav


def run_vocoder(mel_case: dict, device: torch.device, args) -> dict:
    """HiFi-GAN universal on a 100-token mel, per variant; end-to-end RTF with ``mel_case``."""
    g = torch.Generator().manual_seed(0)
    frames = mel_case["frames"]
    mel = torch.randn(frames, 80, generator=g) * 1.5 - 6.0  # (T, 80) log-mel-like levels
    audio_s = frames * HOP / FS
    out, ref = {"frames": frames, "audio_seconds": round(audio_s, 3)}, None
    for variant in args.vocoder_variants.split(","):
        precision, *flags = variant.split("_")
        voc = hifigan.HiFiGANVocoder(
            MelConfig(),
            "universal",
            device=device,
            precision=precision,
            channels_last=False if "1d" in flags else None,
            jit=False if "eager" in flags else None,
        )
        res, wav = time_vocoder(voc, mel, device, args.vocoder_repeats)
        res["rtf"] = round(res["median_s"] / audio_s, 4)
        res["cpu_rtf"] = round(res["cpu_s"] / audio_s, 4)
        res["e2e_rtf"] = round((mel_case["median_ms"] / 1e3 + res["median_s"]) / audio_s, 4)
        if ref is None:
            ref = wav
        else:
            err = float(((wav - ref) ** 2).sum())
            res["snr_db_vs_" + args.vocoder_variants.split(",")[0]] = (
                round(10 * math.log10(float((ref**2).sum()) / err), 2) if err else None
            )
        out[variant] = res
    return out


OURS_VARIANTS = ("fp32", "bf16", "fp32_1d", "bf16_1d")


def build_official_pair(frames_per_token: int) -> tuple[torch.nn.Module, torch.nn.Module, dict]:
    """The official model from its ``configs/base.json`` and ours with the same weights
    (see ``bench/vs_official.py``), both duration predictors set to ``frames_per_token``;
    each prepared as it runs inference: the official ``store_inverse()`` + ``eval()``
    (its inference notebook), ours ``prepare_for_inference()``. Also returns both
    parameter counts, taken before that preparation folds the weight norms."""
    models, _, anchor = vs_official.load_official_code()
    g = torch.Generator().manual_seed(0)
    lengths = torch.tensor([60, 45])
    x = torch.randint(1, N_VOCAB, (2, 60), generator=g) * (torch.arange(60) < lengths[:, None])
    y = torch.randn(2, 80, 360, generator=g) - 5.0
    theirs, ours, _ = vs_official.build_pair(
        models, anchor, (x, lengths, y, lengths * 6),
        log_duration=vs_official.constant_log_duration(frames_per_token),
    )  # fmt: skip
    counts = {"official": vs_official.n_params(theirs), "ours": vs_official.n_params(ours)}
    theirs.store_inverse()
    return theirs.eval(), ours.eval().prepare_for_inference(), counts


def _timed(fn, ctx) -> tuple[float, int]:
    """Seconds of one ``fn()`` under the context ``ctx()``, and the frames it made."""
    with ctx():
        t0 = time.perf_counter()
        frames = fn()
        return time.perf_counter() - t0, frames


def time_vs_official(theirs, ours: dict, n_tokens: int, args) -> dict:
    """Official (fp32, ``no_grad``) and ours per variant of ``--precisions``
    (``inference_mode``, bf16 by CPU autocast; ``ours`` maps the conv layout, ``cl`` or
    ``1d``, to a model) on the same ``n_tokens`` tokens, interleaved call by call."""
    g = torch.Generator().manual_seed(n_tokens)
    x = torch.randint(1, N_VOCAB, (1, n_tokens), generator=g)  # official ids
    x_len = torch.tensor([n_tokens])
    x_ours = vs_official.official_ids_to_ours(x, x_len)
    dur = torch.full((1, n_tokens), args.frames_per_token, dtype=torch.long)

    def official() -> int:
        (y, *_), *_ = theirs(x, x_len, gen=True, **DECODING)
        return y.shape[-1]

    def ours_call(model) -> int:
        return int(model.inference(x_ours, x_len, **DECODING, durations=dur)["mel_lengths"][0])

    sides = {"official": (official, torch.no_grad)}
    for variant in args.precisions.split(","):
        prec, _, layout = variant.partition("_")
        call = functools.partial(ours_call, ours[layout or "cl"])
        sides[f"ours_{variant}"] = (call, functools.partial(_ours_context, prec))
    times: dict[str, list[float]] = {k: [] for k in sides}
    frames = {}
    for i in range(args.warmup + args.repeats):
        for name, (fn, ctx) in sides.items():
            dt, frames[name] = _timed(fn, ctx)
            if i >= args.warmup:
                times[name].append(dt)
    return _vs_official_row(n_tokens, frames, times)


def _ours_context(precision: str) -> contextlib.ExitStack:
    """``torch.inference_mode``, with CPU bf16 autocast for ``bf16``."""
    stack = contextlib.ExitStack()
    stack.enter_context(torch.inference_mode())
    if precision == "bf16":
        stack.enter_context(torch.autocast("cpu", dtype=torch.bfloat16))
    return stack


def _vs_official_row(n_tokens: int, frames: dict, times: dict) -> dict:
    """Medians, RTFs and official/ours ratios of one length."""
    n_frames = frames["official"]
    if set(frames.values()) != {n_frames}:
        raise RuntimeError(f"{n_tokens} tokens: the models made unequal frames {frames}")
    mel_s = n_frames * HOP / FS
    row: dict[str, Any] = {"tokens": n_tokens, "frames": n_frames, "mel_seconds": round(mel_s, 3)}
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, m in med.items():
        row[f"{name}_median_ms"] = round(m * 1e3, 3)
        row[f"{name}_rtf"] = round(m / mel_s, 5)
    for name in med:
        if name != "official":
            row[f"speedup_{name.removeprefix('ours_')}"] = round(med["official"] / med[name], 3)
    return row


def main_official(args) -> None:
    """``--official``: the official model beside ours, CPU, batch 1; prints the JSON."""
    if not set(args.precisions.split(",")) <= set(OURS_VARIANTS):
        raise SystemExit(f"--precisions takes {','.join(OURS_VARIANTS)}; got {args.precisions!r}")
    torch.set_num_threads(args.threads)
    theirs, ours_1d, counts = build_official_pair(args.frames_per_token)
    ours = {"1d": ours_1d, "cl": copy.deepcopy(ours_1d).use_channels_last_convs()}
    result = {
        "bench": "mel generation vs the official glow-tts (configs/base.json, batch 1, CPU)",
        "weights": "identical: the official FlowGenerator (seed 0, ActNorm data-dependent init) "
        "converted with glowtts.convert.official",
        "durations": f"{args.frames_per_token} frames per token in both: the official "
        "duration predictor's last conv outputs a constant log-duration (same in ours, "
        "which is also handed those durations)",
        "official": "fp32 under torch.no_grad, after store_inverse() (its inference notebook)",
        "ours": "prepare_for_inference(), torch.inference_mode; bf16 = CPU autocast; "
        "channels-last 2-D convs (use_channels_last_convs) unless _1d",
        "ratio": vs_official.RATIO_MEANS,
        "cpu": vs_official.cpu_info(),
        "python": platform.python_version(),
        "n_params": counts,
        **DECODING,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "results": {},
    }
    for n in (int(v) for v in args.lengths.split(",")):
        row = time_vs_official(theirs, ours, n, args)
        result["results"][f"{n}_tokens"] = row
        print(f"{n} tokens: {row}", file=sys.stderr)
    print(json.dumps(result, indent=2))


def timing_parser(
    doc: str | None, *, repeats: int, warmup: int, threads_help: str = "torch CPU threads"
) -> argparse.ArgumentParser:
    """A benchmark's parser with ``--threads`` (default 2), ``--repeats`` and ``--warmup``."""
    p = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--threads", type=int, default=2, help=threads_help)
    p.add_argument("--repeats", type=int, default=repeats, help="timed calls per case")
    p.add_argument("--warmup", type=int, default=warmup, help="untimed calls first")
    return p


def main(argv: list[str] | None = None) -> None:
    p = timing_parser(__doc__, repeats=20, warmup=3)
    p.add_argument(
        "--frames_per_token", type=int, default=6, help="teacher durations of the timed calls"
    )
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument(
        "--cpu_precision",
        default="auto",
        choices=["auto", "fp32", "bf16"],
        help="the acoustic model's on the CPU (auto: bf16 where the CPU has native bf16)",
    )
    p.add_argument("--skip_cpu", action="store_true", help="CUDA only")
    p.add_argument(
        "--vocoder", default="auto", choices=["auto", "on", "off"], help="time HiFi-GAN too"
    )
    p.add_argument(
        "--vocoder_variants",
        default="fp32,fp32_1d,bf16,bf16_1d,bf16_jit",
        help="comma-separated, fp32 first",
    )
    p.add_argument("--vocoder_repeats", type=int, default=3, help="timed vocoder calls")
    p.add_argument(
        "--official",
        action="store_true",
        help="time the official glow-tts (../shared/anchors) beside ours, CPU, interleaved",
    )
    p.add_argument("--lengths", default="50,100,200", help="--official: token counts")
    p.add_argument(
        "--precisions",
        default="fp32,bf16,bf16_1d",
        help=f"--official: ours at each of {','.join(OURS_VARIANTS)} (_1d: plain 1-D convs)",
    )
    args = p.parse_args(argv)
    if args.official:
        return main_official(args)

    torch.set_num_threads(args.threads)
    use_vocoder = args.vocoder == "on" or (
        args.vocoder == "auto" and hifigan.pretrained_dir() is not None
    )
    model = build_official()
    result = {
        "bench": "glowtts mel generation (official LJSpeech config, batch 1)",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "n_params": sum(p.numel() for p in model.parameters()),
        "frames_per_token": args.frames_per_token,
        "repeats": args.repeats,
    }
    if args.device in ("auto", "cpu") and not args.skip_cpu:
        cpu = run_device(_cpu_inference(model, args.cpu_precision), torch.device("cpu"), args)
        cpu["threads"] = torch.get_num_threads()
        cpu["precision"] = resolve_precision(args.cpu_precision, "cpu")
        cpu["convs"] = "channels-last 2-D (use_channels_last_convs), as the Synthesizer on a CPU"
        result["cpu"] = cpu
        result["cpu_rtf_100_tokens"] = cpu["100_tokens"]["rtf"]
        result["cpu_rtf_target"] = 0.02
        if use_vocoder:
            result["cpu_vocoder"] = run_vocoder(cpu["100_tokens"], torch.device("cpu"), args)
            result["cpu_vocoder"]["threads"] = torch.get_num_threads()
            result["cpu_vocoder"]["native_bf16"] = cpu_has_native_bf16()
            result["cpu_e2e_rtf_target"] = 0.3
    if args.device in ("auto", "cuda") and torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = False  # lengths vary per call
        model = model.to("cuda").prepare_for_inference()  # re-cache the inverses on the GPU
        cuda = run_device(model.inference, torch.device("cuda"), args)
        cuda["name"] = torch.cuda.get_device_name()
        result["cuda"] = cuda
        # the same calls replayed from CUDA graphs (captured during the warm-up calls)
        graphed = run_device(GraphedInference(model), torch.device("cuda"), args)
        result["cuda_graphs"] = graphed
        result["cuda_ms_100_tokens"] = cuda["100_tokens"]["median_ms"]
        result["cuda_graphs_ms_100_tokens"] = graphed["100_tokens"]["median_ms"]
        result["cuda_ms_target"] = 5.0
        if use_vocoder:
            args.vocoder_variants = "fp32,bf16"
            result["cuda_vocoder"] = run_vocoder(cuda["100_tokens"], torch.device("cuda"), args)
    elif args.device == "cuda":
        result["cuda"] = "no CUDA device"
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
