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

What a voice reads for one text (the inputs ``glowtts-synthesize --durations`` counts,
blanks included when the model uses them; a space token prints as ``<space>``), and
its speakers::

    glowtts-tokenize --exp exp/<tag> --text "Hello world."
    glowtts-tokenize --exp exp/<tag> --list_speakers
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from glowtts.utils import (
    add_exp_option,
    add_skip_bad_option,
    command_parser,
    format_speakers,
)


def get_parser() -> argparse.ArgumentParser:
    p = command_parser("glowtts-tokenize", __doc__)
    p.add_argument("--frontend", help="frontend.yaml (or the dir holding it): file mode")
    add_exp_option(
        p, "experiment dir or voice file: print what --text becomes for it", required=False
    )
    p.add_argument("--text", help="Kaldi text file (with --frontend), or a sentence (with --exp)")
    p.add_argument("--out", help="output token file, e.g. dump/train/token (with --frontend)")
    p.add_argument(
        "--list_speakers", action="store_true", help="print the speakers of --exp and exit"
    )
    add_skip_bad_option(p)
    p.add_argument(
        "--skipped_list", help="where --skip_bad lists dropped utterances; default <out>.skipped"
    )
    return p


SPACE = "<space>"  # how a whitespace token prints (tokens are space-separated)


def _voice_dir(source: str) -> Path:
    """The directory of an experiment, or of a voice file once extracted."""
    from glowtts.synthesis.package import is_package, read_package

    return read_package(source).dir if is_package(source) else Path(source)


def voice_inputs(exp: str, text: str) -> tuple[list[str], list[int]]:
    """The tokens and ids (T_text,) the model of ``exp`` reads for ``text``: its
    ``frontend.yaml``, with blanks when its config's ``text.add_blank`` is on."""
    from glowtts.synthesis.loading import read_exp_config
    from glowtts.text.frontend import Frontend

    root = _voice_dir(exp)
    frontend = Frontend.from_file(str(root / "frontend.yaml"))
    frontend.add_blank = bool((read_exp_config(root).get("text") or {}).get("add_blank"))
    ids = frontend.encode(text)
    return frontend.token_list.tokens_of(ids), ids


def _show_voice(args: argparse.Namespace) -> int:
    """``--exp`` mode: speakers, or the tokens and ids of ``--text`` (stdout)."""
    if args.list_speakers:
        path = _voice_dir(args.exp) / "spk_list.txt"
        print(format_speakers(path.read_text().split() if path.is_file() else None))
        return 0
    if args.text is None:
        raise ValueError("--exp needs --text SENTENCE (or --list_speakers)")
    tokens, ids = voice_inputs(args.exp, args.text)
    print("tokens:", " ".join(SPACE if t.isspace() else t for t in tokens))
    print("ids:", " ".join(map(str, ids)))
    print("count:", len(ids))
    return 0


def _tokenize_file(args: argparse.Namespace) -> int:
    """Stage-2 mode: a Kaldi text file -> a token file."""
    from glowtts.text.frontend import Frontend
    from glowtts.text.stage import default_skipped_path, tokenize_file

    if not (args.frontend and args.text and args.out):
        raise ValueError("give --frontend, --text FILE and --out (or --exp and --text SENTENCE)")
    skipped = args.skipped_list or default_skipped_path(args.out)
    frontend = Frontend.from_file(args.frontend)
    stats = tokenize_file(
        frontend, args.text, args.out, skip_bad=args.skip_bad, skipped_path=skipped
    )
    msg = f"{stats['utts']} utterances, {stats['tokens']} tokens -> {args.out}"
    if stats["skipped"]:
        msg += f"; {stats['skipped']} skipped (listed in {skipped})"
    if stats["unk_utts"]:
        msg += f"; {stats['unk_tokens']} unknown in {stats['unk_utts']} utterance(s)"
    logging.getLogger("glowtts-tokenize").info(msg)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    args = get_parser().parse_args(argv)
    try:
        return _show_voice(args) if args.exp else _tokenize_file(args)
    except (OSError, ValueError) as e:
        print(f"glowtts-tokenize: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
