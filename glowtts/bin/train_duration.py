"""``glowtts-train-duration``: the separate duration-predictor stage (stage 4).

Trains or fine-tunes the duration predictor alone (``encoder.proj_w``; the encoder and
flow stay frozen) on durations from ``glowtts-extract-durations``, with the ``duration:``
section of ``--config`` (default: the experiment's ``config.yaml``; keys and defaults in
:mod:`glowtts.durations.predictor`). Writes ``<exp_dir>/duration/{train.log,loss.jsonl,config.yaml,
dp_best.pth}`` and ``<exp_dir>/checkpoints/refined_dp.pth``: the model with the refined
predictor swapped in, for ``glowtts-decode --checkpoint``.

Example::

    glowtts-train-duration --exp exp/tts_char \\
        --train_dir dump/train --train_durations exp/tts_char/durations/train/durations \\
        --dev_dir dump/dev --dev_durations exp/tts_char/durations/dev/durations
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from glowtts.utils import model_command_parser


def get_parser() -> argparse.ArgumentParser:
    p = model_command_parser(
        "glowtts-train-duration",
        __doc__,
        checkpoint_help="model to start from (default: best.pth)",
        num_threads=0,
    )
    p.add_argument("--train_dir", required=True, help="dump dir of the training set (token)")
    p.add_argument("--train_durations", required=True, help="durations file of the training set")
    p.add_argument("--dev_dir", default=None, help="dump dir of the dev set")
    p.add_argument("--dev_durations", default=None, help="durations file of the dev set")
    p.add_argument(
        "--config", default=None, help="YAML with a 'duration' section (default: the exp's)"
    )
    p.add_argument("--max_steps", type=int, default=None, help="overrides duration.max_steps")
    p.add_argument("--out_dir", default=None, help="default: <exp>/duration")
    p.add_argument(
        "--refined_checkpoint",
        default=None,
        help="model checkpoint with the refined predictor (default: checkpoints/refined_dp.pth)",
    )
    p.add_argument("--train_utt2spk", default=None, help="utt2spk of the training set")
    p.add_argument("--dev_utt2spk", default=None, help="utt2spk of the dev set")
    return p


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from glowtts.durations.predictor import train_duration_predictor
    from glowtts.synthesis.loading import read_exp_config
    from glowtts.utils import read_yaml_mapping, resolve_device, set_num_threads

    set_num_threads(args.num_threads)
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise SystemExit(f"glowtts-train-duration: --config {path} not found")
        try:
            conf = read_yaml_mapping(path).get("duration")
        except ValueError as e:
            raise SystemExit(f"glowtts-train-duration: --config {e}") from None
    else:
        conf = read_exp_config(args.exp).get("duration")
    conf = dict(conf or {})
    if args.max_steps is not None:
        conf["max_steps"] = args.max_steps
    try:
        summary = train_duration_predictor(
            args.exp,
            args.train_dir,
            args.train_durations,
            dev_dir=args.dev_dir,
            dev_durations=args.dev_durations,
            conf=conf,
            checkpoint=args.checkpoint,
            device=resolve_device(args.device),
            out_dir=args.out_dir,
            refined_checkpoint=args.refined_checkpoint,
            train_utt2spk=args.train_utt2spk,
            dev_utt2spk=args.dev_utt2spk,
        )
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"glowtts-train-duration: {e}") from None
    logging.info("summary: %s", summary)


if __name__ == "__main__":
    main()
