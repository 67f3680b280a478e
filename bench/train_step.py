"""Benchmark one Glow-TTS training step; prints one JSON object on stdout.

Model: the ``model:`` section of ``egs/ljspeech/tts1/conf/train.yaml`` (the official
LJSpeech configuration; the builder's defaults when that file is absent). Batch:
synthetic, ``--batch`` items with token lengths uniform in [60, 180] and about 5 frames
per token (4-6, random), random log-mel-like features. A step is forward (incl. MAS)
+ backward + value clipping at 5 + Adam/Noam update, as in the trainer.

Reported per device and precision: median step time, frames/s (valid mel frames per
second), peak memory (CUDA: ``max_memory_allocated``; CPU: process max RSS), and the
time inside ``maximum_path`` (MAS) and its share of the step.

Usage: ``python bench/train_step.py [--device auto|cpu|cuda] [--steps N] [--batch B]
[--precisions fp32,bf16,fp16] [--compile MODE] [--eager-gate]``. On CPU the default
batch is 8 (32 takes minutes per step on a laptop); the JSON states the batch used.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import glowtts.nets.glow_tts as glow_mod  # noqa: E402
from glowtts.nets import build_model, gate  # noqa: E402
from glowtts.train.config import COMPILE_MODES, resolve_train_config  # noqa: E402
from glowtts.train.schedule import build_optimizer, build_scheduler  # noqa: E402
from glowtts.train.trainer import compile_model  # noqa: E402

CONFIG = REPO / "egs/ljspeech/tts1/conf/train.yaml"
N_VOCAB = 148  # about the official English symbol set


class MasTimer:
    """Wraps ``maximum_path`` as the model module sees it; sums wall time per call."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.total = 0.0
        self.orig = glow_mod.maximum_path

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def __call__(self, log_p, mask):
        self._sync()
        t = time.perf_counter()
        out = self.orig(log_p, mask)
        self._sync()
        self.total += time.perf_counter() - t
        return out

    def __enter__(self):
        glow_mod.maximum_path = self
        return self

    def __exit__(self, *exc):
        glow_mod.maximum_path = self.orig


def synthetic_batch(b: int, n_mels: int, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    tl = torch.randint(60, 181, (b,), generator=g)
    fl = torch.stack([torch.randint(4, 7, (int(n),), generator=g).sum() for n in tl])
    tokens = torch.randint(1, N_VOCAB, (b, int(tl.max())), generator=g)
    tokens *= torch.arange(tokens.shape[1])[None] < tl[:, None]
    feats = torch.randn(b, int(fl.max()), n_mels, generator=g) * 2 - 5
    feats *= (torch.arange(feats.shape[1])[None] < fl[:, None])[..., None]
    return {"tokens": tokens, "token_lengths": tl, "feats": feats, "feat_lengths": fl}


def bench_one(
    model_conf, train_conf, device, precision, batch, steps, warmup, compile_mode="none"
) -> dict:
    torch.manual_seed(0)
    model = build_model(model_conf, N_VOCAB).to(device)
    opt = build_optimizer(model, train_conf)
    sched = build_scheduler(opt, model_conf.get("hidden_channels", 192), train_conf["warmup_steps"])
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None
    b = {k: v.to(device) for k, v in synthetic_batch(batch, model_conf.get("n_mels", 80)).items()}
    model.data_dependent_init(b["tokens"], b["token_lengths"], b["feats"], b["feat_lengths"])
    model.train()
    if compile_mode != "none":  # as the trainer does (train.compile)
        compile_model(model, compile_mode, train_conf["compile_backend"])
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    times, mas, losses = [], [], []
    for i in range(warmup + steps):
        with MasTimer(device) as mt:
            sync()
            t = time.perf_counter()
            ctx = (
                torch.autocast(device_type=device.type, dtype=dtype)
                if dtype
                else contextlib.nullcontext()
            )
            if compile_mode == "reduce-overhead":
                torch.compiler.cudagraph_mark_step_begin()
            with ctx:
                out = model(b["tokens"], b["token_lengths"], b["feats"], b["feat_lengths"])
            loss = out["loss"].float()
            (scaler.scale(loss) if scaler else loss).backward()
            if scaler:
                scaler.unscale_(opt)
            torch.nn.utils.clip_grad_value_(model.parameters(), train_conf["grad_clip_value"])
            if scaler:
                scaler.step(opt)
                scaler.update()
            else:
                opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            sync()
            dt = time.perf_counter() - t
        if i >= warmup:
            times.append(dt)
            mas.append(mt.total)
            losses.append(float(loss.detach()))
    frames = int((b["feat_lengths"] // 2 * 2).sum())
    step = statistics.median(times)
    mas_t = statistics.median(mas)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        peak_kind = "cuda_max_memory_allocated_mib"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_kind = "process_max_rss_mib"
    return {
        "step_time_s": round(step, 4),
        "step_times_s": [round(t, 4) for t in times],
        "frames_per_s": round(frames / step, 1),
        "frames_per_step": frames,
        "peak_memory_mib": round(peak, 1),
        "peak_memory_kind": peak_kind,
        "mas_time_s": round(mas_t, 4),
        "mas_share": round(mas_t / step, 4),
        "losses_finite": all(map(lambda x: x == x and abs(x) != float("inf"), losses)),
    }


def _config_label(path: str) -> str:
    """The config as a repo-relative path (absolute if outside the repo)."""
    p = Path(path).resolve()
    if not p.is_file():
        return "builder defaults"
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="auto", help="auto (all present) | cpu | cuda")
    p.add_argument("--steps", type=int, default=None, help="timed steps (default 5 CUDA, 2 CPU)")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    p.add_argument("--batch", type=int, default=None, help="batch size (default 32 CUDA, 8 CPU)")
    p.add_argument("--precisions", default=None, help="comma list; default fp32,bf16 (+fp16 CUDA)")
    p.add_argument("--config", default=str(CONFIG), help="YAML whose model: section is used")
    p.add_argument(
        "--compile",
        default="none",
        choices=COMPILE_MODES,
        help="torch.compile the encoder and decoder (as train.compile); raise --warmup to "
        "keep compilation out of the timing",
    )
    p.add_argument("--compile-backend", default="inductor", help="torch.compile backend")
    p.add_argument(
        "--eager-gate",
        action="store_true",
        help="run the WaveNet gate as eager ops instead of the fused Triton kernels (A/B)",
    )
    args = p.parse_args(argv)
    gate.FUSED = not args.eager_gate

    conf = yaml.safe_load(Path(args.config).read_text()) if Path(args.config).is_file() else {}
    model_conf = dict(conf.get("model") or {})
    train_conf = resolve_train_config(
        {**(conf.get("train") or {}), "compile_backend": args.compile_backend}
    )
    if args.device == "auto":
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    else:
        devices = [args.device]
    result = {
        "bench": "train_step",
        "config": _config_label(args.config),
        "n_vocab": N_VOCAB,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_threads": torch.get_num_threads(),
        "token_lengths": "uniform 60-180, 4-6 frames per token",
        "compile": args.compile,
        "compile_backend": args.compile_backend if args.compile != "none" else None,
        "fused_gate_on_cuda": gate.FUSED and gate.fused_available(),
        "results": {},
    }
    for dev in devices:
        device = torch.device(dev)
        if dev == "cuda":
            result["cuda_device"] = torch.cuda.get_device_name(device)
        batch = args.batch or (32 if dev == "cuda" else 8)
        steps = args.steps or (5 if dev == "cuda" else 2)
        precs = (
            args.precisions.split(",")
            if args.precisions
            else ["fp32", "bf16"] + (["fp16"] if dev == "cuda" else [])
        )
        for prec in precs:
            key = f"{dev}/{prec}"
            try:
                r = bench_one(
                    model_conf, train_conf, device, prec, batch, steps, args.warmup, args.compile
                )
            except Exception as e:  # noqa: BLE001 - report, continue with the next setting
                r = {"error": f"{type(e).__name__}: {e}"}
            r.update({"batch": batch, "steps": steps})
            if dev == "cpu" and args.batch is None:
                r["note"] = "CPU default batch 8 (32 on CUDA); pass --batch 32 to match"
            result["results"][key] = r
            print(f"{key}: {r}", file=sys.stderr)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
