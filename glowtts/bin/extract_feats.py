"""glowtts-extract-feats: log-mel features of a wav.scp into Kaldi ark/scp (recipe stage 1).

Example (one job of ``utils/run.sh JOB=1:4 ...``)::

    glowtts-extract-feats --config conf/train.yaml \\
        --wav_scp data/train/split4/wav.JOB.scp \\
        --out_ark dump/train/feats.JOB.ark --out_scp dump/train/feats.JOB.scp \\
        --out_utt2num_frames dump/train/utt2num_frames.JOB [--skip_bad]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from glowtts.audio.extract import FeatureError, extract_feats
from glowtts.audio.features import MelConfig, load_feats_config


def _default_sidecar(out_scp: str, name: str) -> str:
    # dump/train/feats.3.scp -> dump/train/<name>.3 ; dump/train/feats.scp -> dump/train/<name>
    p = Path(out_scp)
    stem = p.name[:-4] if p.name.endswith(".scp") else p.name
    parts = stem.split(".", 1)
    suffix = f".{parts[1]}" if len(parts) == 2 else ""
    return str(p.with_name(f"{name}{suffix}"))


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="glowtts-extract-feats",
        description="Compute log-mel features (the 'feats:' section of --config) for every "
        "utterance of a wav.scp; write float32 (T, n_mels) Kaldi ark/scp and utt2num_frames.",
    )
    p.add_argument(
        "--config",
        help="YAML whose 'feats:' section defines the mel (other sections are ignored); "
        "default: the built-in Glow-TTS mel",
    )
    p.add_argument("--wav_scp", required=True, help="wav.scp (utt path, or utt 'cmd |')")
    p.add_argument(
        "--segments", help="optional Kaldi segments file; wav.scp is then keyed by recording"
    )
    p.add_argument("--out_ark", required=True, help="output ark file")
    p.add_argument("--out_scp", required=True, help="output scp file (utt ark:offset)")
    p.add_argument(
        "--out_utt2num_frames",
        help="output 'utt T' file; default: utt2num_frames[.N] beside --out_scp (N from "
        "feats.N.scp)",
    )
    p.add_argument(
        "--skip_bad",
        action="store_true",
        help="skip (and log) missing/corrupt/empty/wrong-rate audio instead of stopping",
    )
    p.add_argument(
        "--skipped_list",
        help="where --skip_bad lists skipped utterances ('utt reason'); default: "
        "skipped[.N] beside --out_scp",
    )
    p.add_argument("--num_threads", type=int, default=1, help="torch threads (default 1 per job)")
    p.add_argument("--no_progress", action="store_true", help="no tqdm progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    args = get_parser().parse_args(argv)
    log = logging.getLogger("glowtts-extract-feats")
    if args.num_threads > 0:
        torch.set_num_threads(args.num_threads)
    try:
        conf = load_feats_config(args.config) if args.config else MelConfig()
    except (OSError, ValueError) as e:
        print(f"glowtts-extract-feats: error: {e}", file=sys.stderr)
        return 1
    n_path = args.out_utt2num_frames or _default_sidecar(args.out_scp, "utt2num_frames")
    skipped = args.skipped_list or _default_sidecar(args.out_scp, "skipped")
    try:
        res = extract_feats(
            args.wav_scp,
            conf,
            args.out_ark,
            args.out_scp,
            n_path,
            segments=args.segments,
            skip_bad=args.skip_bad,
            skipped_list=skipped if args.skip_bad else None,
            progress=not args.no_progress,
        )
    except (FeatureError, OSError) as e:
        print(f"glowtts-extract-feats: error: {e}", file=sys.stderr)
        return 1
    log.info(
        "wrote %d utterances (%d frames) to %s; skipped %d%s",
        res.n_done,
        res.n_frames,
        args.out_scp,
        len(res.skipped),
        f" (listed in {skipped})" if res.skipped else "",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
