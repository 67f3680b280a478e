#!/usr/bin/env python3
"""Write the sentence list of the embedded corpus: own sentences, then phonetic-coverage picks.

Usage: local/make_sentences.py --n_sentences N [options] <out_file>

The first lines are the project's own sentences (--own); beyond them, sentences from the
offline Debian text sources (--sources) chosen greedily for diphone coverage. The list
ends with the sentences the recipe holds out for dev/eval (the LJSpeech data prep takes
the LAST lines), and every sentence is unique up to case and punctuation. With
--n_long M, also writes M long utterances (> 250 characters) that share no sentence with
the list to --long_out. Prints a JSON line of statistics. Deterministic.
The work is done by local/corpus_text.py; see local/README.md for the sources and licences.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import corpus_text as ct  # local/corpus_text.py: this script's own folder is on sys.path

from glowtts.data.kaldi import atomic_write_text


def _write(path: str, lines: list[str]) -> None:
    # temp file + rename: a killed run never leaves a half list for make_corpus.sh to read
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write_text(path, "".join(s + "\n" for s in lines))


def main(argv: list[str] | None = None) -> int:
    here = os.path.dirname(os.path.realpath(__file__))
    p = argparse.ArgumentParser(
        prog="make_sentences.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("out_file", help="the sentence list to write, one sentence a line")
    p.add_argument("--n_sentences", type=int, required=True, help="length of the list")
    p.add_argument("--own", default=os.path.join(here, "sentences.txt"), help="own sentences")
    p.add_argument("--sources", default=",".join(ct.SOURCES), help="comma-separated sources")
    p.add_argument("--fortune_dir", default=ct.FORTUNE_DIR)
    p.add_argument(
        "--fortune_files", default=None, help="comma-separated fortune files (default: all)"
    )
    p.add_argument("--wordnet_dir", default=ct.WORDNET_DIR)
    p.add_argument("--min_len", type=int, default=ct.MIN_LEN, help="shortest sentence (chars)")
    p.add_argument("--max_len", type=int, default=ct.MAX_LEN, help="longest sentence (chars)")
    p.add_argument("--n_long", type=int, default=0, help="long utterances for --long_out")
    p.add_argument("--long_out", default=None, help="where the long utterances go")
    args = p.parse_args(argv)
    if args.n_sentences < 1:
        p.error("--n_sentences must be >= 1")
    if args.n_long > 0 and not args.long_out:
        p.error("--n_long needs --long_out")

    start = time.time()
    with open(args.own, encoding="utf-8") as f:
        own = [s.strip() for s in f if s.strip()]
    need_sources = args.n_sentences > len(own) or args.n_long > 0
    passages = []
    if need_sources:
        try:
            passages = ct.read_passages(
                [s for s in args.sources.split(",") if s],
                args.fortune_dir,
                args.wordnet_dir,
                args.fortune_files.split(",") if args.fortune_files else None,
            )
        except (FileNotFoundError, ValueError) as e:
            print(f"{p.prog}: error: {e}", file=sys.stderr)
            return 1
    try:
        sel = ct.select_sentences(
            own, passages, args.n_sentences, min_len=args.min_len, max_len=args.max_len
        )
    except ValueError as e:
        print(f"{p.prog}: error: {e}", file=sys.stderr)
        return 1
    _write(args.out_file, sel.sentences)
    stats = {"out_file": args.out_file, **sel.stats, "n_written": len(sel.sentences)}
    if args.n_long > 0:
        keys = {ct.text_key(s) for s in sel.sentences}
        long = ct.long_sentences(passages, args.n_long, keys)
        if len(long) < args.n_long:
            print(
                f"{p.prog}: error: the sources hold only {len(long)} long utterances, "
                f"fewer than --n_long {args.n_long}",
                file=sys.stderr,
            )
            return 1
        _write(args.long_out, long)
        stats.update(long_out=args.long_out, n_long=len(long))
    stats["seconds"] = round(time.time() - start, 1)
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
