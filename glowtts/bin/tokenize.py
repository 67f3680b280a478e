"""glowtts-tokenize: Kaldi text -> token ids with the stage-2 front-end (recipe stage 2).

Example::

    glowtts-tokenize --frontend data/token_list/phn/frontend.yaml \
        --text data/train/text --out dump/train/token

writes ``utt id1 id2 ...`` lines. The ids never contain blanks: the data
loader intersperses them when ``add_blank`` is on, so the file is the same
either way. Unknown characters map to ``<unk>`` (id 1) with a warning counting
them per utterance; utterances with no letter or digit after cleaning are an
error naming them (nothing is written), unless ``--skip_bad true``, which drops
them and the utterances with characters foreign to the cleaners' script, listing
them in ``--skipped_list`` (default ``<out>.skipped``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from glowtts.utils import str2bool


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="glowtts-tokenize", description="Kaldi text -> token ids (no blanks)."
    )
    p.add_argument("--frontend", required=True, help="frontend.yaml (or the dir holding it)")
    p.add_argument("--text", required=True, help="Kaldi text file: utt-id transcript")
    p.add_argument("--out", required=True, help="output token file, e.g. dump/train/token")
    p.add_argument(
        "--skip_bad",
        type=str2bool,
        nargs="?",
        const=True,
        default=False,
        help="true: drop utterances with no letter or digit after cleaning, or with "
        "characters foreign to the cleaners' script; false (default): such utterances "
        "are an error",
    )
    p.add_argument(
        "--skipped_list", help="where --skip_bad lists dropped utterances; default <out>.skipped"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    args = get_parser().parse_args(argv)
    from glowtts.text.frontend import Frontend
    from glowtts.text.stage import default_skipped_path, tokenize_file

    skipped = args.skipped_list or default_skipped_path(args.out)
    try:
        frontend = Frontend.from_file(args.frontend)
        stats = tokenize_file(
            frontend, args.text, args.out, skip_bad=args.skip_bad, skipped_path=skipped
        )
    except (OSError, ValueError) as e:
        print(f"glowtts-tokenize: error: {e}", file=sys.stderr)
        return 1
    msg = f"{stats['utts']} utterances, {stats['tokens']} tokens -> {args.out}"
    if stats["skipped"]:
        msg += f"; {stats['skipped']} skipped (listed in {skipped})"
    if stats["unk_utts"]:
        msg += f"; {stats['unk_tokens']} unknown in {stats['unk_utts']} utterance(s)"
    logging.getLogger("glowtts-tokenize").info(msg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
