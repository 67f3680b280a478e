"""Benchmark the exported ONNX graph on onnxruntime beside torch (CPU); prints one JSON object.

The model of ``bench/infer.py`` (official LJSpeech configuration, random, data-dependent
init, prepared for inference) is exported with :func:`glowtts.synthesis.export.export_model`
and run at batch 1 on 100 random tokens, by torch (``GlowTTS.inference`` under
``torch.inference_mode``) and by onnxruntime (CPU provider), both at ``--threads``
threads. The graph predicts its own durations, so both use ``length_scale``
``--frames_per_token`` (default 6): the random model predicts about one frame per token,
and this gives about the T_mel a trained model produces (LJSpeech: ~5.7 frames per
character). Both get the same noise, so the frame counts agree.

Times are medians over ``--repeats`` warm calls after ``--warmup``; real-time factor =
time / mel seconds, mel seconds = frames * 256 / 22050.

Usage: ``python bench/onnx_infer.py [--threads N] [--repeats N]``
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))  # run from a checkout without `pip install -e .`
sys.path.insert(0, str(_HERE))

from infer import FS, HOP, N_VOCAB, build_official, timing_parser  # noqa: E402

from glowtts.synthesis.export import export_model  # noqa: E402

N_TOKENS = 100
NOISE_SCALE = 0.667


def _median_ms(fn, warmup: int, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for i in range(warmup + repeats):
        t0 = time.perf_counter()
        out = fn()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, out


def main(argv: list[str] | None = None) -> None:
    p = timing_parser(
        __doc__, repeats=10, warmup=2, threads_help="CPU threads (torch and onnxruntime)"
    )
    p.add_argument("--frames_per_token", type=float, default=6.0, help="length_scale")
    args = p.parse_args(argv)
    import onnxruntime as ort

    torch.set_num_threads(args.threads)
    model = build_official()
    g = torch.Generator().manual_seed(N_TOKENS)
    tokens = torch.randint(2, N_VOCAB, (1, N_TOKENS), generator=g)
    lengths = torch.tensor([N_TOKENS])
    ls = args.frames_per_token
    with torch.inference_mode():
        frames = int(model.inference(tokens, lengths, length_scale=ls)["mel_lengths"][0])
    eps = torch.randn(1, model.n_mels, frames, generator=g)

    def run_torch():
        with torch.inference_mode():
            return model.inference(tokens, lengths, noise_scale=NOISE_SCALE, length_scale=ls)

    torch_ms, _ = _median_ms(run_torch, args.warmup, args.repeats)
    with tempfile.TemporaryDirectory() as d:
        path = export_model(model, Path(d) / "model.onnx", "onnx")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = args.threads
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    feeds = {
        "tokens": tokens.numpy(),
        "token_lengths": lengths.numpy(),
        "noise": eps.numpy(),
        "noise_scale": np.array(NOISE_SCALE, np.float32),
        "length_scale": np.array(ls, np.float32),
    }
    ort_ms, out = _median_ms(lambda: sess.run(None, feeds), args.warmup, args.repeats)
    assert int(out[1][0]) == frames, "onnxruntime and torch disagree on the frame count"
    mel_s = frames * HOP / FS
    result = {
        "bench": "glowtts text -> mel, torch vs onnxruntime (official LJSpeech config, batch 1)",
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
        "python": platform.python_version(),
        "threads": args.threads,
        "tokens": N_TOKENS,
        "frames": frames,
        "mel_seconds": round(mel_s, 3),
        "cpu_torch_ms_100_tokens": round(torch_ms, 2),
        "cpu_onnxruntime_ms_100_tokens": round(ort_ms, 2),
        "cpu_torch_rtf_100_tokens": round(torch_ms / 1e3 / mel_s, 5),
        "cpu_onnxruntime_rtf_100_tokens": round(ort_ms / 1e3 / mel_s, 5),
        "repeats": args.repeats,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
