"""``glowtts-extract-durations``: token durations by MAS with a trained model (stage 4).

Writes ``<out_dir>/durations`` (``utt d1 ... dN``, one integer per model input token,
blanks included with ``add_blank``, summing to the utterance's frame count rounded down
to the squeeze factor), ``durations.per_token`` (blanks merged), ``info.yaml``,
``skipped`` and ``plots/<utt>.png`` for the first ``--n_plots`` utterances. The format
is documented in :mod:`glowtts.durations.extract`.

Example (one of ``nj`` jobs over a ``utils/split_scp.sh`` part of the token file)::

    glowtts-extract-durations --exp exp/tts_char --data_dir dump/train \\
        --utt_list exp/tts_char/durations/train/split4/token.1 \\
        --out_dir exp/tts_char/durations/train/split4/1 --device cuda
"""

from __future__ import annotations

import argparse
import logging

from glowtts.utils import model_command_parser, str2bool


def get_parser() -> argparse.ArgumentParser:
    p = model_command_parser("glowtts-extract-durations", __doc__)
    p.add_argument("--data_dir", required=True, help="dump dir: feats.scp, token, utt2num_frames")
    p.add_argument("--out_dir", required=True, help="where durations, info.yaml, plots/ go")
    p.add_argument("--batch_size", type=int, default=16, help="utterances per MAS batch")
    p.add_argument(
        "--utt_list",
        "--token",
        dest="utt_list",
        default=None,
        help="only the utterances of this file's first column (a split of dump/<set>/token)",
    )
    p.add_argument("--n_plots", type=int, default=4, help="alignment PNGs for the first N utts")
    p.add_argument("--utt2spk", default=None, help="utt2spk (multi-speaker; default: found)")
    p.add_argument("--verbose", type=str2bool, default=False, help="progress bar")
    return p


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from glowtts.durations.extract import extract_durations
    from glowtts.utils import resolve_device, set_num_threads

    if args.batch_size < 1:
        raise SystemExit("glowtts-extract-durations: --batch_size must be >= 1")
    set_num_threads(args.num_threads)
    try:
        extract_durations(
            args.exp,
            args.data_dir,
            args.out_dir,
            checkpoint=args.checkpoint,
            device=resolve_device(args.device),
            batch_size=args.batch_size,
            utt_list=args.utt_list,
            n_plots=args.n_plots,
            utt2spk=args.utt2spk,
            progress=args.verbose,
        )
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"glowtts-extract-durations: {e}") from None


if __name__ == "__main__":
    main()
