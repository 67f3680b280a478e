"""glowtts-synthesize-wav: the former name of ``glowtts-vocode`` (:mod:`glowtts.bin.vocode`),
kept so recipes and scripts that call it keep working."""

import sys

from glowtts.bin.vocode import get_parser, main

__all__ = ["get_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
