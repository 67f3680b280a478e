"""Streaming latency: time to first audio and total time of a 10-sentence paragraph.

Builds the random CPU-config model of ``bench/long_text.py`` (no trained voice needed) and
synthesises the paragraph with ``Synthesizer.stream`` (Griffin-Lim), on the CPU and, when
present, on CUDA. Prints one JSON line per device: ``first_audio_s`` (from the call to the
first chunk), ``total_s``, ``first_share`` (target < 0.1), ``audio_s``, ``chunks``, and
``rtf`` (total / audio seconds). A warm-up call runs first; the best of ``--repeats`` is
reported, since other processes share the CPU.

    python bench/stream.py [--threads 2] [--repeats 3] [--n_iter 60]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from long_text import ROOT, make_exp  # noqa: E402

sys.path.insert(0, str(ROOT))

from glowtts.synthesis.synthesizer import Synthesizer  # noqa: E402

PARAGRAPH = (
    "Printing, in the only sense with which we are at present concerned, differs from most "
    "if not from all the arts and crafts represented in the Exhibition. "
    "It is comparatively modern. "
    "For although the Chinese took impressions from wood blocks engraved in relief for "
    "centuries before the woodcutters of the Netherlands, by a similar process, produced "
    "the block books, these were the immediate predecessors of the true printed book. "
    "The invention of movable metal letters in the middle of the fifteenth century may "
    "justly be considered as the invention of the art of printing. "
    "And it is worth mention in passing that, as an example of fine typography, the "
    "earliest book printed with movable types, the Gutenberg, or forty-two line Bible, "
    "has never been surpassed. "
    "Printing, then, for our purpose, may be considered as the art of making books by "
    "means of movable types. "
    "Now, as all books not primarily intended as picture books consist principally of "
    "types composed to form letterpress, it is of the first importance that the letter "
    "used should be fine in form. "
    "Especially as no more time is occupied, or cost incurred, in casting, setting, or "
    "printing beautiful letters than in the same operations with ugly ones. "
    "And it was a matter of course that in the Middle Ages, when the craftsmen took care "
    "that beautiful form should always be a part of their productions whatever they "
    "were, the forms of printed letters should be beautiful. "
    "The essential point to be remembered is that the invention of printing was the "
    "invention of movable types."
)


def measure(syn: Synthesizer, repeats: int) -> dict:
    best = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        first, n, chunks = None, 0, 0
        for wav in syn.stream(PARAGRAPH, seed=0):
            if first is None:
                if syn.device.type == "cuda":
                    torch.cuda.synchronize()
                first = time.perf_counter() - t0
            n += len(wav)
            chunks += 1
        total = time.perf_counter() - t0
        if best is None or total < best["total_s"]:
            best = {"first_audio_s": first, "total_s": total, "audio_s": n / syn.sample_rate}
            best["chunks"] = chunks
    best["first_share"] = best["first_audio_s"] / best["total_s"]
    best["rtf"] = best["total_s"] / best["audio_s"]
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in best.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--n_iter", type=int, default=60, help="Griffin-Lim iterations")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    with tempfile.TemporaryDirectory() as tmp:
        exp = make_exp(Path(tmp))
        for device in devices:
            syn = Synthesizer.from_exp(exp, device=device, vocoder_options={"n_iter": args.n_iter})
            syn.tts("A warm-up sentence, with a clause.", seed=0)
            row = {"device": device, "threads": args.threads, "sentences": 10}
            print(json.dumps({**row, **measure(syn, args.repeats)}), flush=True)


if __name__ == "__main__":
    main()
