"""glowtts-make-token-list: build the text front-end dir (recipe stage 2).

Example::

    glowtts-make-token-list --config conf/train.yaml --text data/train/text \
        --out_dir data/token_list/phn --token_type phn

Reads the ``text:`` section of the YAML (flags override it), trains the
sentencepiece model for ``bpe`` (``out_dir/bpe.model``), and writes
``out_dir/tokens.txt`` and ``out_dir/frontend.yaml`` (the resolved front-end,
paths relative to it: the directory is self-contained and is what training
copies into the experiment dir).

The text is screened first: characters foreign to the script the cleaners produce
are a warning naming each one and its utterances; an utterance with no letter or
digit after cleaning is an error, unless ``--skip_bad true``, which drops those
utterances and the ones with foreign characters (listed in ``out_dir/skipped``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

import yaml

from glowtts.utils import add_skip_bad_option, str2bool


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="glowtts-make-token-list",
        description="Token list and front-end config from the training text (stage 2).",
    )
    p.add_argument("--config", help="YAML with a text: section (optional; defaults otherwise)")
    p.add_argument("--text", required=True, help="Kaldi text file of the training set")
    p.add_argument("--out_dir", required=True, help="output dir, e.g. data/token_list/phn")
    p.add_argument("--token_type", help="override text.token_type: char|phn|bpe")
    p.add_argument("--nbpe", type=int, help="override text.bpe.nbpe (bpe vocabulary size)")
    p.add_argument("--add_blank", type=str2bool, help="override text.add_blank (true/false)")
    p.add_argument("--cleaners", nargs="+", help="override text.cleaners (names, in order)")
    p.add_argument(
        "--inventory_only",
        action="store_true",
        help="char: do not add characters of the text that are outside the char inventory",
    )
    add_skip_bad_option(p, "<out_dir>/skipped")
    return p


def load_text_conf(path: str | None) -> dict:
    """The ``text:`` section of a YAML (a YAML without one is taken as the section itself)."""
    if not path:
        return {}
    with open(path, encoding="utf-8") as f:
        conf = yaml.safe_load(f) or {}
    if "text" in conf:
        return dict(conf["text"] or {})
    return conf


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    args = get_parser().parse_args(argv)
    from glowtts.text.stage import make_token_list

    try:
        conf = load_text_conf(args.config)
        if args.token_type:
            conf["token_type"] = args.token_type
        if args.nbpe is not None:
            conf["bpe"] = {**(conf.get("bpe") or {}), "nbpe": args.nbpe}
        if args.add_blank is not None:
            conf["add_blank"] = args.add_blank
        if args.cleaners:
            conf["cleaners"] = args.cleaners
        fe = make_token_list(
            conf,
            args.text,
            args.out_dir,
            inventory_only=args.inventory_only,
            skip_bad=args.skip_bad,
        )
    except (OSError, ValueError) as e:
        print(f"glowtts-make-token-list: error: {e}", file=sys.stderr)
        return 1
    print(
        f"glowtts-make-token-list: {fe.token_type}, {len(fe.token_list)} tokens -> "
        f"{os.path.join(args.out_dir, 'tokens.txt')}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
