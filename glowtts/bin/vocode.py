"""glowtts-vocode: waveforms from every log-mel of a feats.scp (recipe stage 6).

Example::

    glowtts-vocode --config conf/train.yaml \\
        --feats_scp exp/x/decode_eval/feats.scp --out_dir exp/x/decode_eval/wav [--n_iter 60]

writes ``<out_dir>/<utt>.wav`` (16-bit PCM at feats.fs), ``<out_dir>/wav.scp`` and
``<out_dir>/vocoder`` (the name of the vocoder used, e.g. ``hifigan``).
The default vocoder (``auto``) is the public HiFi-GAN universal generator where it is
installed and the mel is the one it was trained on, else Griffin-Lim (one log line says
why); Griffin-Lim options (``--n_iter``, ``--momentum``, ``--power``, ``--seed``) or
``--vocoder griffin_lim`` choose Griffin-Lim. ``--vocoder hifigan --vocoder_checkpoint
universal|ljspeech|FILE`` uses a HiFi-GAN generator.
``glowtts-synthesize-wav`` is the former name of this command.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

import torch

from glowtts.audio.features import MelConfig, load_feats_config
from glowtts.bin._synth_options import add_vocoder_options, hifigan_options
from glowtts.data.kaldi import atomic_write_text
from glowtts.registry import AUTO_VOCODER, choose_vocoder
from glowtts.synthesis.vocode import vocode_scp

PROG = "glowtts-vocode"


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Vocoding of every log-mel (T, n_mels) in a feats.scp "
        "(HiFi-GAN universal where installed and fitting the mel, else Griffin-Lim).",
    )
    p.add_argument(
        "--config",
        help="YAML whose 'feats:' section defines the mel (default: the built-in Glow-TTS mel)",
    )
    p.add_argument("--feats_scp", required=True, help="log-mel features to vocode")
    p.add_argument("--out_dir", required=True, help="where <utt>.wav files go")
    p.add_argument("--out_scp", help="output wav.scp (default <out_dir>/wav.scp)")
    add_vocoder_options(p)
    # Griffin-Lim options default to None (the vocoder's defaults) so that giving one
    # is what makes --vocoder auto choose Griffin-Lim.
    p.add_argument("--n_iter", type=int, default=None, help="Griffin-Lim iterations (60)")
    p.add_argument(
        "--momentum", type=float, default=None, help="fast Griffin-Lim momentum (0.99; 0 = plain)"
    )
    p.add_argument(
        "--power", type=float, default=None, help="magnitude exponent before Griffin-Lim (1.0)"
    )
    p.add_argument("--batch_size", type=int, default=8, help="utterances per batch")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    p.add_argument("--seed", type=int, default=None, help="Griffin-Lim initial phase seed (0)")
    p.add_argument("--num_threads", type=int, default=1, help="torch CPU threads (0: default)")
    p.add_argument("--no_progress", action="store_true", help="no tqdm progress bar")
    return p


def vocoder_options(args: argparse.Namespace) -> dict[str, Any]:
    """The constructor options of the chosen vocoder from the command line (those given;
    ``auto`` gets both vocoders' and keeps those of the one it picks)."""
    gl = {"n_iter": args.n_iter, "momentum": args.momentum, "power": args.power, "seed": args.seed}
    hg = hifigan_options(args)
    chosen = {"griffin_lim": gl, "hifigan": hg}.get(args.vocoder, {**gl, **hg})
    return {k: v for k, v in chosen.items() if v is not None}


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    args = get_parser().parse_args(argv)
    if args.num_threads > 0:
        torch.set_num_threads(args.num_threads)
    try:
        conf = load_feats_config(args.config) if args.config else MelConfig()
        name, options = args.vocoder, vocoder_options(args)
        if name == AUTO_VOCODER:  # resolved here so that the log and <out_dir>/vocoder name it
            name, options = choose_vocoder(conf.to_dict(), options)
        n = vocode_scp(
            args.feats_scp,
            conf,
            args.out_dir,
            vocoder=name,
            vocoder_options=options,
            out_scp=args.out_scp,
            batch_size=args.batch_size,
            device=args.device,
            progress=not args.no_progress,
        )
    except (OSError, ValueError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    # which vocoder made these wavs: read by the recipe's log line and by stage 7
    atomic_write_text(f"{args.out_dir}/vocoder", name + "\n")
    logging.getLogger(PROG).info("wrote %d wavs to %s with %s", n, args.out_dir, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
