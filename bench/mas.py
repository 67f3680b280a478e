"""Benchmark Monotonic Alignment Search; prints one JSON object on stdout.

Batch: B items, T_text uniform in [60, 200], T_mel about 5.5 frames per token
(capped at 1000), random float32 scores. Times are medians over ``--repeats``
warm calls of ``maximum_path`` (mask in, path tensor out, on the input's device).

Reported:

* ``cpu``: ours at the current thread count, at 1 thread and at all threads
  (plus ``2`` threads, the setting the target is stated for);
* ``baseline``: a serial classic kernel (``bench/mas_baseline.pyx``, compiled
  here into a temp dir) behind a wrapper doing what the usual public wrapper
  does (mask multiply, float32 copy, int32 path, device round trip);
* ``numpy_reference``: the numpy reference on the first ``--ref-items`` items,
  scaled to the full batch (it is slow);
* ``cuda`` (when a CUDA device exists and ``--device`` allows): the Triton
  kernel, and the official-style path with a GPU -> CPU -> GPU round trip.

Usage: ``python bench/mas.py [--repeats N] [--device auto|cpu|cuda] [--seed S]``
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))  # run from a checkout without `pip install -e .`

from glowtts.monotonic_align import (  # noqa: E402
    backend,
    maximum_path,
    maximum_path_cpu,
    maximum_path_numpy,
)


@contextlib.contextmanager
def _stdout_to_stderr():
    """Send everything written to fd 1 (compiler output included) to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def build_baseline(tmp: str):
    """Compile ``bench/mas_baseline.pyx`` into ``tmp`` and import it."""
    from Cython.Build import cythonize
    from setuptools import Extension
    from setuptools.dist import Distribution

    src = Path(tmp) / "mas_baseline.pyx"
    shutil.copy(_HERE / "mas_baseline.pyx", src)
    ext = Extension("mas_baseline", [str(src)], extra_compile_args=["-O3"])
    with _stdout_to_stderr():
        dist = Distribution({"ext_modules": cythonize([ext], quiet=True)})
        cmd = dist.get_command_obj("build_ext")
        cmd.build_lib = tmp
        cmd.build_temp = os.path.join(tmp, "build")
        cmd.ensure_finalized()
        cmd.run()
        so = cmd.get_ext_fullpath("mas_baseline")
    spec = importlib.util.spec_from_file_location("mas_baseline", so)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def baseline_maximum_path(mod, value: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The usual public wrapper around a serial kernel: host round trip and copies."""
    value = value * mask
    device, dtype = value.device, value.dtype
    v = value.data.cpu().numpy().astype(np.float32)
    path = np.zeros_like(v).astype(np.int32)
    m = mask.data.cpu().numpy()
    t_x = m.sum(1)[:, 0].astype(np.int32)
    t_y = m.sum(2)[:, 0].astype(np.int32)
    mod.maximum_path_baseline(path, v, t_x, t_y)
    return torch.from_numpy(path).to(device=device, dtype=dtype)


def make_batch(b: int, seed: int, device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Random ``log_p`` and ``mask`` ``(B, T_text_max, T_mel_max)`` float32."""
    g = np.random.default_rng(seed)
    t_x = g.integers(60, 201, size=b)
    t_y = np.minimum(np.round(t_x * g.uniform(5.0, 6.0, size=b)).astype(int), 1000)
    log_p = torch.from_numpy(g.standard_normal((b, t_x.max(), t_y.max()), dtype=np.float32))
    mask = (torch.arange(t_x.max())[None, :, None] < torch.from_numpy(t_x)[:, None, None]) & (
        torch.arange(t_y.max())[None, None, :] < torch.from_numpy(t_y)[:, None, None]
    )
    mask = mask.float()
    return log_p.to(device), mask.to(device)


def timeit(fn, repeats: int, sync=None) -> float:
    """Median wall time in ms over ``repeats`` calls after one warm-up call."""
    fn()
    if sync:
        sync()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if sync:
            sync()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--ref-items", type=int, default=4, help="items timed for the numpy reference")
    args = p.parse_args(argv)

    log_p, mask = make_batch(args.batch, args.seed)
    t_x = mask[:, :, 0].sum(1).long()
    t_y = mask[:, 0, :].sum(1).long()
    n_all = os.cpu_count() or 1
    cur = torch.get_num_threads()
    out: dict = {
        "batch": args.batch,
        "seed": args.seed,
        "repeats": args.repeats,
        "T_text_max": int(t_x.max()),
        "T_mel_max": int(t_y.max()),
        "cells_full": int((t_x * t_y).sum()),
        "cells_band": int((t_x * (t_y - t_x + 1)).sum()),
        "cpu_backend": backend(),
        "torch_num_threads": cur,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "cpu_count": n_all,
    }
    ref = maximum_path_cpu(log_p, mask, num_threads=1)

    cpu = {}
    for label, k in (("current", cur), ("1", 1), ("2", 2), ("all", n_all)):
        fn = lambda k=k: maximum_path_cpu(log_p, mask, num_threads=k)  # noqa: E731
        assert torch.equal(fn(), ref), "CPU paths differ between thread counts"
        cpu[f"ms_threads_{label}"] = timeit(fn, args.repeats)
    cpu["threads_current"] = cur
    cpu["threads_all"] = n_all
    cpu["ms_maximum_path_default"] = timeit(lambda: maximum_path(log_p, mask), args.repeats)
    out["cpu"] = cpu

    tmp = tempfile.mkdtemp(prefix="mas_bench_")
    try:
        mod = build_baseline(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the loaded .so stays mapped
    base = lambda: baseline_maximum_path(mod, log_p, mask)  # noqa: E731
    assert torch.equal(base(), ref), "baseline path differs from ours"
    out["baseline"] = {
        "what": "serial full-grid frame-outer kernel + official-style wrapper, 1 thread",
        "ms": timeit(base, args.repeats),
    }
    out["speedup_ours_2threads_over_baseline"] = out["baseline"]["ms"] / cpu["ms_threads_2"]
    out["speedup_ours_1thread_over_baseline"] = out["baseline"]["ms"] / cpu["ms_threads_1"]

    k = min(args.ref_items, args.batch)
    x = log_p[:k].numpy()
    tx, ty = t_x[:k].numpy(), t_y[:k].numpy()
    ms_ref = timeit(lambda: maximum_path_numpy(x, tx, ty), max(1, min(3, args.repeats)))
    share = float((t_x[:k] * t_y[:k]).sum() / (t_x * t_y).sum())
    out["numpy_reference"] = {
        "items_timed": k,
        "ms_items_timed": ms_ref,
        "ms_scaled_to_batch": ms_ref / share,
        "scaling": "by the share of T_text*T_mel cells in the timed items",
    }

    want_cuda = args.device in ("auto", "cuda")
    if want_cuda and not torch.cuda.is_available():
        if args.device == "cuda":
            raise SystemExit("--device cuda: no CUDA device")
        out["cuda"] = None
    elif want_cuda:
        out["cuda"] = bench_cuda(log_p, mask, ref, args.repeats, mod)
    print(json.dumps(out, indent=1))


def bench_cuda(log_p, mask, ref, repeats: int, mod) -> dict:
    """GPU times (ms, synchronised): the Triton kernel vs host round trips."""
    dev = torch.device("cuda")
    lp, mk = log_p.to(dev), mask.to(dev)
    sync = torch.cuda.synchronize
    res: dict = {"device": torch.cuda.get_device_name(dev)}
    try:
        import triton

        from glowtts.monotonic_align.gpu import maximum_path_gpu  # noqa: F401

        res["triton"] = triton.__version__
    except ImportError as err:
        res["triton"] = None
        res["triton_error"] = str(err)
    if res["triton"] is not None:
        ours = lambda: maximum_path(lp, mk)  # noqa: E731
        assert torch.equal(ours().cpu(), ref), "GPU path differs from the CPU path"
        res["ms_ours_triton"] = timeit(ours, repeats, sync)
        t_x = mk[:, :, 0].sum(1).long()
        t_y = mk[:, 0, :].sum(1).long()
        gpu_only = lambda: maximum_path_gpu(lp, t_x, t_y)  # noqa: E731
        res["ms_triton_no_checks"] = timeit(gpu_only, repeats, sync)
    cpu_copy = lambda: maximum_path_cpu(lp, mk)  # noqa: E731
    assert torch.equal(cpu_copy().cpu(), ref)
    res["ms_ours_cpu_kernel_with_copies"] = timeit(cpu_copy, repeats, sync)
    res["ms_ours_cpu_kernel_with_copies_1thread"] = timeit(
        lambda: maximum_path_cpu(lp, mk, num_threads=1), repeats, sync
    )
    res["ms_copy_log_p_to_host"] = timeit(lambda: lp.cpu(), repeats, sync)
    base = lambda: baseline_maximum_path(mod, lp, mk)  # noqa: E731
    assert torch.equal(base().cpu(), ref)
    res["ms_official_style_roundtrip"] = timeit(base, repeats, sync)
    if res["triton"] is not None:
        res["speedup_triton_over_official_style"] = (
            res["ms_official_style_roundtrip"] / res["ms_ours_triton"]
        )
    return res


if __name__ == "__main__":
    main()
