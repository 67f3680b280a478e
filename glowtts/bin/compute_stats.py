"""glowtts-compute-stats: global per-dimension mean/std of features (recipe stage 1).

Example::

    glowtts-compute-stats --feats_scp dump/train/feats.scp --out dump/train/stats.npy

writes ``stats.npy`` (float64 ``(2, n_mels)`` = ``[mean; std]``) and ``stats.json`` (counts).
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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    args = get_parser().parse_args(argv)
    try:
        stats = compute_stats(args.feats_scp, args.out, progress=not args.no_progress)
    except (OSError, ValueError) as e:
        print(f"glowtts-compute-stats: error: {e}", file=sys.stderr)
        return 1
    logging.getLogger("glowtts-compute-stats").info(
        "%d utterances, %d frames -> %s", stats.n_utts, stats.n_frames, args.out
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
