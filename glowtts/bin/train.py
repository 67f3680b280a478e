"""``glowtts-train``: train Glow-TTS (stage 3). Under ``torchrun`` for several GPUs.

Example::

    glowtts-train --config conf/train.yaml --train_dir dump/train --dev_dir dump/dev \\
        --token_list data/token_list/char/tokens.txt --exp exp/tts_char
"""

from __future__ import annotations

import argparse
import sys

from glowtts.utils import PRECISIONS, add_device_option, add_exp_option, str2bool


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="glowtts-train",
        description="Train Glow-TTS from dump dirs (feats.scp + token) and a YAML config.",
    )
    p.add_argument("--config", required=True, help="experiment YAML (sections model, train, ...)")
    p.add_argument("--train_dir", required=True, help="dump dir of the training set")
    p.add_argument("--dev_dir", default=None, help="dump dir of the dev set (loss each epoch)")
    p.add_argument("--token_list", required=True, help="tokens.txt (frontend.yaml beside it)")
    add_exp_option(p, "experiment dir (checkpoints, logs)")
    p.add_argument(
        "--resume", type=str2bool, default=True, help="continue from the newest checkpoint"
    )
    add_device_option(p)
    p.add_argument("--seed", type=int, default=None, help="overrides train.seed")
    p.add_argument("--max_steps", type=int, default=None, help="overrides train.max_steps")
    p.add_argument(
        "--precision",
        default=None,
        choices=PRECISIONS,
        help="overrides train.precision (auto: bf16 on CPUs with native bf16, else fp32)",
    )
    p.add_argument(
        "--eval_interval_steps",
        type=int,
        default=None,
        help="overrides train.eval_interval_steps (dev passes every N steps)",
    )
    p.add_argument(
        "--eval_every_epoch",
        type=str2bool,
        default=None,
        help="overrides train.eval_every_epoch (false: dev passes only every "
        "eval_interval_steps; for small corpora)",
    )
    p.add_argument("--stats", default=None, help="stats.npy to copy into the exp dir")
    p.add_argument("--spk_list", default=None, help="speaker list (default: from train utt2spk)")
    p.add_argument("--train_utt2spk", default=None, help="utt2spk of the training set")
    p.add_argument("--dev_utt2spk", default=None, help="utt2spk of the dev set")
    p.add_argument(
        "--init_from",
        default=None,
        metavar="EXP_OR_CHECKPOINT",
        help="fine-tune: start from the weights of this experiment dir (its best.pth) or "
        "checkpoint; the token list may add tokens, a multi-speaker model speakers. "
        "Recorded in EXP_DIR/init.json; not used when EXP_DIR has checkpoints to resume",
    )
    p.add_argument(
        "--init_exclude",
        default=None,
        metavar="REGEX",
        help="with --init_from: parameters whose names match are not loaded but freshly "
        "initialised (e.g. 'decoder' or '^emb_g')",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.init_exclude is not None and args.init_from is None:
        parser.error("--init_exclude needs --init_from")
    from glowtts.train.setup import run_training
    from glowtts.train.trainer import NonFiniteLossError

    try:
        summary = run_training(
            config=args.config,
            train_dir=args.train_dir,
            dev_dir=args.dev_dir,
            token_list=args.token_list,
            exp_dir=args.exp,
            resume=args.resume,
            device=args.device,
            seed=args.seed,
            max_steps=args.max_steps,
            precision=args.precision,
            eval_interval_steps=args.eval_interval_steps,
            eval_every_epoch=args.eval_every_epoch,
            stats=args.stats,
            spk_list=args.spk_list,
            train_utt2spk=args.train_utt2spk,
            dev_utt2spk=args.dev_utt2spk,
            init_from=args.init_from,
            init_exclude=args.init_exclude,
            argv=list(sys.argv if argv is None else ["glowtts-train", *argv]),
        )
    except (NonFiniteLossError, ValueError, FileNotFoundError) as e:
        print(f"glowtts-train: error: {e}", file=sys.stderr)
        return 1
    if summary.get("stop_signal"):
        # stopped early with a checkpoint: a non-zero status keeps a recipe from going on
        # to decode a half-trained model (128 + signal number, as a shell reports it)
        return 128 + int(summary["stop_signal"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
