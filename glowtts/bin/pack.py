"""glowtts-pack: a trained experiment as one voice file.

::

    glowtts-pack exp/<tag> --out myvoice.glowtts --license CC-BY-4.0 --author "A. Person"
    glowtts-synthesize --model myvoice.glowtts --text "Hello world." --out hello.wav

The archive holds the config, the text front-end (token list, bpe model, lexicon or
dictionary), the speaker list, the weights as safetensors (loading never unpickles) and
a model card (``model_card.md`` / ``.json``: corpus, steps, training time, the stage-7
figures of ``exp/<tag>/report.json``, licence and author). ``--model PATH`` of
glowtts-synthesize, glowtts-serve and glowtts-export, and
``Synthesizer.from_pretrained(PATH)``, take a voice file or an experiment dir alike.
See :mod:`glowtts.synthesis.package` for the format and the checks made on load.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..synthesis.package import AUTHOR_PLACEHOLDER, LICENSE_PLACEHOLDER, SUFFIX, pack_experiment
from ..utils import pick


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="glowtts-pack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("exp", help="experiment dir (exp/<tag>, or one glowtts-import-official wrote)")
    p.add_argument("--out", required=True, help=f"voice file to write (NAME{SUFFIX})")
    p.add_argument(
        "--checkpoint", default=None, help="default: best.pth, else the newest step_*.pth"
    )
    p.add_argument("--license", default=LICENSE_PLACEHOLDER, help="licence of the voice")
    p.add_argument("--author", default=AUTHOR_PLACEHOLDER, help="who made the voice")
    p.add_argument(
        "--corpus", default=None, help="training corpus (default: the recipe name egs/<corpus>)"
    )
    return p


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not args.out.endswith(SUFFIX):
        sys.exit(f"glowtts-pack: --out must end in {SUFFIX}, got {args.out}")
    try:
        opts = pick(args, "checkpoint", "license", "author", "corpus")
        out = pack_experiment(args.exp, args.out, **opts)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"glowtts-pack: {e}")
    if args.license == LICENSE_PLACEHOLDER or args.author == AUTHOR_PLACEHOLDER:
        logging.warning("licence/author left as placeholders: pass --license and --author")
    logging.info("wrote %s", out)


if __name__ == "__main__":
    main()
