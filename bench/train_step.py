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
[--precisions fp32,bf16,fp16] [--compile MODE] [--eager-gate] [--token-range LO,HI]``.
On CPU the default batch is 8 (32 takes minutes per step on a laptop); the JSON states
the batch used.

``--official`` (CPU, eager; needs ``../shared/anchors/glow-tts``): the official
Glow-TTS code's ``FlowGenerator`` from its ``configs/base.json``, and ours with the same
weights (converted by :mod:`glowtts.convert.official`; same architecture, ours has two
extra unused embedding rows), train on the same synthetic batch (default batch 16, 3
timed steps), interleaved step by step (official, ours, official, ...) so that load on
a shared machine hits both alike. The official step is what its ``train.py`` does: its
forward incl. MAS (our ``maximum_path`` stands in for its uncompiled Cython one, so both
share it), its ``commons.mle_loss`` + ``duration_loss``, backward, its
``clip_grad_value_(5)``, its Noam ``Adam`` wrapper; always fp32 (how it runs on a CPU).
Ours is the trainer's step at each of ``--precisions`` (fp32, bf16 = CPU autocast).
Reported per precision: both median step times, ``speedup`` = official / ours (> 1:
ours is faster), frames/s of both; and the CPU model with its avx512_bf16 / amx_bf16 /
amx_tile flags, torch version and thread count. E.g.
``python bench/train_step.py --official --batch 16 --steps 3 --warmup 1 --precisions fp32,bf16``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
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

import vs_official  # noqa: E402  (bench/vs_official.py)

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


def synthetic_batch(
    b: int, n_mels: int, seed: int = 0, token_range: tuple[int, int] = (60, 180)
) -> dict:
    """``tokens`` (B, T_text) in [1, N_VOCAB), ``feats`` (B, T_mel, n_mels), lengths (B,)."""
    g = torch.Generator().manual_seed(seed)
    tl = torch.randint(token_range[0], token_range[1] + 1, (b,), generator=g)
    fl = torch.stack([torch.randint(4, 7, (int(n),), generator=g).sum() for n in tl])
    tokens = torch.randint(1, N_VOCAB, (b, int(tl.max())), generator=g)
    tokens *= torch.arange(tokens.shape[1])[None] < tl[:, None]
    feats = torch.randn(b, int(fl.max()), n_mels, generator=g) * 2 - 5
    feats *= (torch.arange(feats.shape[1])[None] < fl[:, None])[..., None]
    return {"tokens": tokens, "token_lengths": tl, "feats": feats, "feat_lengths": fl}


def our_step(model, opt, sched, b: dict, dtype, scaler, clip: float) -> torch.Tensor:
    """One step as the trainer takes it: forward (autocast to ``dtype`` when given) incl.
    MAS, backward, value clipping, Adam and the Noam schedule. Returns the loss."""
    ctx = (
        torch.autocast(device_type=b["feats"].device.type, dtype=dtype)
        if dtype
        else contextlib.nullcontext()
    )
    with ctx:
        out = model(b["tokens"], b["token_lengths"], b["feats"], b["feat_lengths"])
    loss = out["loss"].float()
    (scaler.scale(loss) if scaler else loss).backward()
    if scaler:
        scaler.unscale_(opt)
    torch.nn.utils.clip_grad_value_(model.parameters(), clip)
    if scaler:
        scaler.step(opt)
        scaler.update()
    else:
        opt.step()
    sched.step()
    opt.zero_grad(set_to_none=True)
    return loss


def bench_one(
    model_conf,
    train_conf,
    device,
    precision,
    batch,
    steps,
    warmup,
    compile_mode="none",
    token_range=(60, 180),
) -> dict:
    torch.manual_seed(0)
    model = build_model(model_conf, N_VOCAB).to(device)
    opt = build_optimizer(model, train_conf)
    sched = build_scheduler(opt, model_conf.get("hidden_channels", 192), train_conf["warmup_steps"])
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None
    b = {
        k: v.to(device)
        for k, v in synthetic_batch(
            batch, model_conf.get("n_mels", 80), token_range=token_range
        ).items()
    }
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
            if compile_mode == "reduce-overhead":
                torch.compiler.cudagraph_mark_step_begin()
            loss = our_step(model, opt, sched, b, dtype, scaler, train_conf["grad_clip_value"])
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


def _official_step(model, commons, opt, batch: tuple) -> torch.Tensor:
    """One step of the official ``FlowGenerator`` as its ``train.py`` takes it (fp32):
    forward incl. MAS, MLE + duration loss (its ``commons`` functions), backward, its
    value clipping at 5, its Noam ``Adam`` wrapper. Returns the loss."""
    x, x_lengths, y, y_lengths = batch
    opt.zero_grad()
    (z, z_m, z_logs, logdet, z_mask), _, (_, logw, logw_) = model(x, x_lengths, y, y_lengths)
    loss = commons.mle_loss(z, z_m, z_logs, logdet, z_mask)
    loss = loss + commons.duration_loss(logw, logw_, x_lengths)
    loss.backward()
    commons.clip_grad_value_(model.parameters(), 5)
    opt.step()
    return loss


def _official_optimizers(commons, theirs, ours, conf: dict) -> tuple:
    """Each side's optimizer from the official ``train`` section: the official Noam
    ``commons.Adam`` wrapper; ours ``build_optimizer`` / ``build_scheduler``."""
    t, d_model = conf["train"], conf["model"]["hidden_channels"]
    keys = ("learning_rate", "betas", "eps", "warmup_steps")
    theirs_opt = commons.Adam(
        theirs.parameters(), scheduler=t["scheduler"], dim_model=d_model,
        **{("lr" if k == "learning_rate" else k): t[k] for k in keys},
    )  # fmt: skip
    train_conf = resolve_train_config({k: t[k] for k in keys})
    opt = build_optimizer(ours, train_conf)
    return theirs_opt, opt, build_scheduler(opt, d_model, train_conf["warmup_steps"])


def bench_vs_official(official: tuple, precision: str, b: dict, steps: int, warmup: int) -> dict:
    """Official fp32 steps and ours at ``precision`` on the same batch, interleaved.

    ``official``: ``(models, commons, source dir)`` from ``load_official_code``.
    """
    models, commons, anchor = official
    official_b = (b["tokens"], b["token_lengths"], b["feats"].transpose(1, 2).contiguous(),
                  b["feat_lengths"])  # fmt: skip
    theirs, ours, conf = vs_official.build_pair(models, anchor, official_b)
    our_b = {**b, "tokens": vs_official.official_ids_to_ours(b["tokens"], b["token_lengths"])}
    theirs_opt, opt, sched = _official_optimizers(commons, theirs, ours, conf)
    dtype = {"fp32": None, "bf16": torch.bfloat16}[precision]
    times: dict[str, list[float]] = {"official": [], "ours": []}
    losses = []
    for i in range(warmup + steps):
        for side in ("official", "ours"):  # interleaved: load hits both alike
            t = time.perf_counter()
            if side == "official":
                loss = _official_step(theirs, commons, theirs_opt, official_b)
            else:
                loss = our_step(ours, opt, sched, our_b, dtype, None, 5.0)
            dt = time.perf_counter() - t
            if i >= warmup:
                times[side].append(dt)
                losses.append(float(loss.detach()))
    frames = int((b["feat_lengths"] // 2 * 2).sum())
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "ours_step_time_s": round(med["ours"], 4),
        "official_step_time_s": round(med["official"], 4),
        "speedup": round(med["official"] / med["ours"], 3),
        "ours_frames_per_s": round(frames / med["ours"], 1),
        "official_frames_per_s": round(frames / med["official"], 1),
        "ours_step_times_s": [round(t, 4) for t in times["ours"]],
        "official_step_times_s": [round(t, 4) for t in times["official"]],
        "losses_finite": all(math.isfinite(x) for x in losses),
        "n_params": {"official": vs_official.n_params(theirs), "ours": vs_official.n_params(ours)},
    }


def main_official(args) -> int:
    """``--official``: the official model beside ours on the CPU; prints the JSON."""
    if args.device == "cuda" or args.compile != "none":
        raise SystemExit("--official runs eager on the CPU: drop --device cuda / --compile")
    official = vs_official.load_official_code()
    batch, steps = args.batch or 16, args.steps or 3
    precs = (args.precisions or "fp32,bf16").split(",")
    if not set(precs) <= {"fp32", "bf16"}:
        raise SystemExit(f"--official: --precisions takes fp32,bf16 on the CPU, got {precs}")
    b = synthetic_batch(batch, 80, token_range=args.token_range)
    result = {
        "bench": "train_step_vs_official",
        "config": "configs/base.json of the official glow-tts (../shared/anchors)",
        "weights": "identical: the official FlowGenerator (seed 0, its ActNorm data-dependent "
        "init on this batch) converted with glowtts.convert.official",
        "official": "fp32 (as it runs on a CPU); ours at each precision (torch.autocast)",
        "ratio": vs_official.RATIO_MEANS,
        "cpu": vs_official.cpu_info(),
        "python": platform.python_version(),
        "batch": batch,
        "steps": steps,
        "warmup": args.warmup,
        "token_lengths": f"uniform {args.token_range[0]}-{args.token_range[1]}, "
        "4-6 frames per token",
        "frames_per_step": int((b["feat_lengths"] // 2 * 2).sum()),
        "n_params": None,  # filled from the first pair
        "results": {},
    }
    for prec in precs:
        r = bench_vs_official(official, prec, b, steps, args.warmup)
        result["n_params"] = r.pop("n_params")
        result["results"][prec] = r
        print(f"{prec}: {r}", file=sys.stderr)
    print(json.dumps(result, indent=2))
    return 0


def _config_label(path: str) -> str:
    """The config as a repo-relative path (absolute if outside the repo)."""
    p = Path(path).resolve()
    if not p.is_file():
        return "builder defaults"
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p)


def _int_pair(text: str) -> tuple[int, int]:
    try:
        lo, hi = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI (two integers), got {text!r}") from None
    if not 1 <= lo <= hi:
        raise argparse.ArgumentTypeError(f"need 1 <= LO <= HI, got {text!r}")
    return lo, hi


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
    p.add_argument(
        "--token-range",
        type=_int_pair,
        default=(60, 180),
        help="LO,HI: token lengths uniform in [LO, HI] (default 60,180)",
    )
    p.add_argument(
        "--official",
        action="store_true",
        help="time the official glow-tts (../shared/anchors) beside ours, CPU, interleaved",
    )
    args = p.parse_args(argv)
    if args.official:
        return main_official(args)
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
        "token_lengths": f"uniform {args.token_range[0]}-{args.token_range[1]}, "
        "4-6 frames per token",
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
                    model_conf,
                    train_conf,
                    device,
                    prec,
                    batch,
                    steps,
                    args.warmup,
                    args.compile,
                    args.token_range,
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
