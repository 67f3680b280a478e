"""glowtts-compute-stats: global per-dimension mean/std of features (recipe stage 1).

Example::

    glowtts-compute-stats --feats_scp dump/train/feats.scp --out dump/train/stats.npy

writes ``stats.npy`` (float64 ``(2, n_mels)`` = ``[mean; std]``) and ``stats.json`` (counts).
Only numeric ark records are read: ``cmd |`` entries and pickled records are refused unless
``--allow_pipes`` / ``--allow_pickle`` (for files you trust).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from glowtts.audio.extract import compute_stats


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="glowtts-compute-stats",
        description="Mean and std per feature dimension over every frame of one or more "
        "feats.scp files.",
    )
    p.add_argument("--feats_scp", required=True, nargs="+", help="feats.scp file(s)")
    p.add_argument("--out", required=True, help="output stats.npy (json with counts beside it)")
    p.add_argument("--no_progress", action="store_true", help="no tqdm progress bar")
    p.add_argument(
        "--allow_pipes",
        action="store_true",
        help="run feats.scp entries that are commands ('cmd |'); refused by default, as they "
        "run any code: only for files you trust",
    )
    p.add_argument(
        "--allow_pickle",
        action="store_true",
        help="read ark records that are pickles; refused by default, as unpickling runs any "
        "code: only for files you trust",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    args = get_parser().parse_args(argv)
    try:
        stats = compute_stats(
            args.feats_scp,
            args.out,
            progress=not args.no_progress,
            allow_pipes=args.allow_pipes,
            allow_pickle=args.allow_pickle,
        )
    except (OSError, ValueError) as e:
        hint = ""
        if "allow_pipes=True" in str(e) or "allow_pickle=True" in str(e):
            hint = " (on this command line: --allow_pipes / --allow_pickle)"
        print(f"glowtts-compute-stats: error: {e}{hint}", file=sys.stderr)
        return 1
    logging.getLogger("glowtts-compute-stats").info(
        "%d utterances, %d frames -> %s", stats.n_utts, stats.n_frames, args.out
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
