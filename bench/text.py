"""Text front-end speed: phoneme front-end import + first call, sentences/s per token type.

Prints one JSON object. Targets (issue 6): import + first call < 3 s; char >= 1000
sentences/s; phn >= 100 sentences/s. Sentences come from the LJSpeech mini set when it
lies at ``<repo>/../shared/data/ljspeech_mini`` (else a built-in list), repeated to the
requested count.

    tools/venv/bin/python bench/text.py [--n 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

FALLBACK = [
    "Printing, in the only sense with which we are at present concerned,",
    "differs from most if not from all the arts and crafts represented in the Exhibition.",
    "Mr. Smith paid $5.50 on Jan. 3rd, 1999, at 10:30 a.m. for 12 copies.",
    "The invention of movable metal letters in the middle of the fifteenth century",
    "may justly be considered as the invention of the art of printing.",
]

FIRST_CALL = r"""
import json, time
t0 = time.perf_counter()
from glowtts.text import build_frontend
fe = build_frontend({"token_type": "phn"})
t1 = time.perf_counter()
fe.encode("Dr. Jones read the 3rd edition in 1999, didn't he?")
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_call_s": t2 - t1}))
"""


def sentences() -> list[str]:
    meta = os.path.join(REPO, "..", "shared", "data", "ljspeech_mini", "metadata.csv")
    if os.path.isfile(meta):
        with open(meta, encoding="utf-8") as f:
            return [line.rstrip("\n").split("|")[1] for line in f if "|" in line]
    return FALLBACK


def rate(fe, sents: list[str], n: int) -> dict:
    batch = [sents[i % len(sents)] for i in range(n)]
    t = time.perf_counter()
    for s in batch:
        fe.encode(s)
    dt = time.perf_counter() - t
    return {"sentences": n, "seconds": round(dt, 3), "sentences_per_s": round(n / dt, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000, help="sentences per token type")
    args = ap.parse_args()

    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", FIRST_CALL], env=env, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - t
    first = json.loads(res.stdout.strip().splitlines()[-1])
    out = {
        "phn_import_s": round(first["import_s"], 3),
        "phn_first_call_s": round(first["first_call_s"], 3),
        "phn_import_plus_first_call_s": round(first["import_s"] + first["first_call_s"], 3),
        "phn_process_wall_s": round(wall, 3),  # includes the interpreter's own start-up
    }

    from glowtts.text import build_frontend
    from glowtts.text.tokenizers import train_bpe

    sents = sentences()
    out["n_distinct_sentences"] = len(sents)
    char = build_frontend({"token_type": "char"})
    out["char"] = rate(char, sents, args.n)
    phn = build_frontend({"token_type": "phn"})
    phn.encode("Load the g2p data first.")  # the load is timed above, not here
    out["phn_cold"] = rate(phn, sents, len(sents))  # first pass: OOV words not yet cached
    out["phn"] = rate(phn, sents, args.n)
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "bpe.model")
        train_bpe((char.clean(s) for s in sents), model, 200)
        bpe = build_frontend({"token_type": "bpe", "bpe": {"nbpe": 200, "model": model}})
        out["bpe"] = rate(bpe, sents, args.n)
    out["targets_met"] = {
        "phn_import_plus_first_call_lt_3s": out["phn_import_plus_first_call_s"] < 3.0,
        "char_ge_1000_per_s": out["char"]["sentences_per_s"] >= 1000,
        "phn_ge_100_per_s": out["phn_cold"]["sentences_per_s"] >= 100,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
