"""Long text: time per word from short to long text (issue 20, fault 11).

Builds a randomly initialised model with the slt_mini CPU config (its duration predictor
biased to ~5 frames per token, so the audio has a realistic length) in a temporary
experiment dir, then synthesises texts of ``--sizes`` words with Griffin-Lim and prints one
JSON line per size: words, wall, user and sys seconds, minor page faults, audio seconds,
and the per-word ratios. Linear scaling means flat ``cpu_ms_per_word`` and
``faults_per_word``. Other processes share the CPU, so compare user + sys (``cpu``)
rather than wall time.

    python bench/long_text.py [--sizes 250 1000 5000] [--threads 1] [--unbounded]

``--unbounded`` batches as before the fix (one padded batch of up to ``batch_size``
chunks for the model and the vocoder) for comparison.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from glowtts.nets import build_model  # noqa: E402
from glowtts.synthesis import synthesizer as synth_mod  # noqa: E402
from glowtts.synthesis.synthesizer import Synthesizer  # noqa: E402
from glowtts.text import build_frontend  # noqa: E402

CONFIG = ROOT / "egs" / "slt_mini" / "tts1" / "conf" / "tuning" / "train_cpu.yaml"
WORDS = (
    "the of and to in that it was for on are with as his they be at one have this from "
    "printing sense which we are concerned differs most arts crafts represented exhibition "
    "being comparatively modern although chinese took impressions wood blocks engraved "
    "relief centuries before woodcutters netherlands similar process produced block books"
).split()


def make_exp(d: Path) -> Path:
    """A random model with the CPU config, ~5 frames per token."""
    conf = yaml.safe_load(CONFIG.read_text())
    text_conf = {"token_type": "char", "add_blank": True}
    fe = build_frontend(text_conf)
    fe.save(str(d))
    torch.manual_seed(0)
    model = build_model(conf["model"], fe.vocab_size)
    with torch.no_grad():  # exp(1.6) ~ 5 frames per token whatever the input
        model.encoder.proj_w.proj.bias.fill_(1.6)
        model.encoder.proj_w.proj.weight.mul_(0.01)
    config = {
        "feats": conf["feats"],
        "text": text_conf,
        "model": conf["model"],
        "train": {},
        "decode": {**conf["decode"], "max_seconds": 1e6},
        "n_vocab": fe.vocab_size,
    }
    (d / "config.yaml").write_text(yaml.safe_dump(config))
    (d / "checkpoints").mkdir()
    torch.save({"model": model.state_dict(), "step": 0}, d / "checkpoints" / "step_00000000.pth")
    return d


def make_text(n_words: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    out, left = [], n_words
    while left:
        n = min(left, rng.randint(8, 20))
        out.append(" ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + ".")
        left -= n
    return " ".join(out)


def measure(syn: Synthesizer, n_words: int) -> dict:
    text = make_text(n_words)
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    wav, sr = syn.tts(text, seed=0)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    user, sys_ = r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime
    faults = r1.ru_minflt - r0.ru_minflt
    return {
        "words": n_words,
        "wall": round(wall, 2),
        "user": round(user, 2),
        "sys": round(sys_, 2),
        "minor_faults": faults,
        "audio_seconds": round(len(wav) / sr, 1),
        "cpu_ms_per_word": round(1000 * (user + sys_) / n_words, 1),
        "sys_share": round(sys_ / max(user + sys_, 1e-9), 3),
        "faults_per_word": round(faults / n_words, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[250, 1000, 5000])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--n_iter", type=int, default=60, help="Griffin-Lim iterations")
    p.add_argument("--unbounded", action="store_true", help="batch as before the fix")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    vopts = {"n_iter": args.n_iter}
    if args.unbounded:
        synth_mod.ENCODER_BATCH_TOKENS = synth_mod.DECODER_BATCH_FRAMES = None
        vopts["batch_frames"] = 10**9
    with tempfile.TemporaryDirectory() as tmp:
        syn = Synthesizer.from_exp(make_exp(Path(tmp)), vocoder_options=vopts)
        syn.tts(make_text(20))  # warm-up
        for n in args.sizes:
            print(
                json.dumps(
                    {"threads": args.threads, "unbounded": args.unbounded, **measure(syn, n)}
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
