"""glowtts-import-official: an official Glow-TTS checkpoint as a glowtts experiment dir.

::

    glowtts-import-official --checkpoint pretrained.pth --config base.json \\
        --dictionary cmu_dictionary --out exp/official_ljspeech
    glowtts-synthesize --exp exp/official_ljspeech --text "Hello world." --out hello.wav

``--checkpoint`` is the official ``{"model": state_dict, "iteration": ...}`` file (read
with ``torch.load(weights_only=True)``; anything else is refused), ``--config`` its
``config.json`` (``configs/base.json`` or ``base_blank.json`` layout), ``--dictionary``
the CMUdict 0.07 file it was trained with (the official ``data/cmu_dictionary``).
The experiment dir gets the ``official`` token type, so the model receives the ids it
was trained on. See :mod:`glowtts.convert.official` for what is translated and how.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..convert.official import import_official


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="glowtts-import-official",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--checkpoint", required=True, help="official checkpoint (.pth)")
    p.add_argument("--config", required=True, help="its config.json (base.json layout)")
    p.add_argument("--out", required=True, help="experiment dir to write (exp/<tag>)")
    p.add_argument(
        "--dictionary",
        default=None,
        help="CMUdict 0.07 file (official data/cmu_dictionary); needed when the config "
        "sets data.cmudict_path",
    )
    return p


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        out = import_official(
            args.checkpoint,
            args.config,
            args.out,
            args.dictionary,
            argv=["glowtts-import-official", *(sys.argv[1:] if argv is None else argv)],
        )
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        sys.exit(f"glowtts-import-official: {e}")
    logging.info("wrote %s (glowtts-synthesize --exp %s --text ...)", out, out)


if __name__ == "__main__":
    main()
