#!/usr/bin/env python3
"""Kaldi data dirs (train/dev/eval) from a corpus in the LJSpeech-1.1 layout.

Input layout (``--db_root``)::

    metadata.csv      one utterance a line: ``id|raw text|normalised text`` (``id|text`` is
                      accepted too, for user corpora with a single text column)
    wavs/<id>.wav     the audio

Output, under ``<data_dir>``: ``{train,dev,eval}/{wav.scp,text,utt2spk,spk2utt}``, each
file sorted by utterance id in byte order (what ``LC_ALL=C sort`` gives, as Kaldi expects).
``wav.scp`` holds absolute paths resolved at run time.

Text: by default the *raw* column (``--text_field raw``). The glowtts front-end expands
numbers, abbreviations and currency itself, so we keep the original text rather than
LJSpeech's own normalisation; ``--text_field normalized`` selects the third column.

Split (deterministic, by metadata order after any skipped utterances are removed):
the last ``n_dev + n_eval`` utterances are held out, ``dev`` first, then ``eval`` (the
final ``n_eval``); everything before is ``train``. For small corpora (fewer than
``10 * (n_dev + n_eval)`` utterances) the held-out sizes shrink to ``max(1, N // 10)``
each, so 32 utterances give 26/3/3 and 3 utterances give 1/1/1.

Bad input (a wav listed but missing or empty, a duplicate id, empty text, a malformed
line) stops the run with every problem named, before anything is written; with
``--skip_bad true`` those utterances are skipped (a duplicate keeps its first occurrence)
and each skip is logged to stderr. Outputs are written to temporary directories and
swapped into place only once all are complete, so a failed run loses nothing
(``glowtts.data.datadir.write_data_dirs``).

``--whole_set NAME`` writes the whole corpus as the one set ``<data_dir>/NAME`` instead of
the split (an extra evaluation set, e.g. slt_mini's long sentences as ``eval_long``).

Only the standard library and ``glowtts.data.datadir`` / ``glowtts.utils`` (stdlib-only
themselves, taken from this repo when glowtts is not installed) are used, so any Python 3 runs it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

try:
    import glowtts  # noqa: F401
except ImportError:  # plain python3 without the venv: use the repo's copy (stdlib-only parts)
    sys.path.append(str(Path(__file__).resolve().parents[4]))
from glowtts.data.datadir import write_data_dirs
from glowtts.utils import pick, str2bool

SETS = ("train", "dev", "eval")
# Kaldi ids cannot hold whitespace; anything else printable is allowed.
_BAD_ID = re.compile(r"\s")
_MAX_REPORTED = 20


class DataPrepError(Exception):
    """Input the data preparation cannot use; the message names the file and the fix."""


@dataclass
class Utterance:
    """One usable utterance: Kaldi id, absolute wav path and single-line text."""

    utt_id: str
    wav: str
    text: str


def read_metadata(
    db_root: str, text_field: str, spk: str, skip_bad: bool
) -> tuple[list[Utterance], list[str]]:
    """Read ``<db_root>/metadata.csv`` and check every listed utterance.

    Returns the usable utterances in metadata order and the list of problems found
    (each naming the utterance and the file). With ``skip_bad`` the problems are the
    skipped utterances; without it the caller must stop when the list is non-empty.
    """
    db_root = os.path.abspath(db_root)
    if not os.path.isdir(db_root):
        raise DataPrepError(
            f"--db_root {db_root} does not exist: pass --db_root <dir holding metadata.csv and "
            "wavs/>, or run stage -1 to download/make the corpus first"
        )
    meta = os.path.join(db_root, "metadata.csv")
    if not os.path.isfile(meta):
        raise DataPrepError(
            f"{meta} not found: --db_root must be the corpus directory holding metadata.csv and "
            "wavs/ (e.g. downloads/LJSpeech-1.1); run stage -1 to download/make it"
        )
    try:
        with open(meta, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError as e:
        raise DataPrepError(f"{meta} is not valid UTF-8 ({e}); re-encode it as UTF-8") from e

    utts: list[Utterance] = []
    problems: list[str] = []
    first_seen: dict[str, int] = {}
    wav_dir = os.path.join(db_root, "wavs")
    for lineno, line in enumerate(lines, start=1):
        where = f"{meta}:{lineno}"
        if not line.strip():
            continue  # blank lines (e.g. a trailing one) carry no utterance
        fields = line.split("|")
        if len(fields) not in (2, 3):
            problems.append(
                f"{where}: expected 'id|raw text|normalised text', got {len(fields)} "
                f"'|'-separated fields"
            )
            continue
        rec_id = fields[0].strip()
        if not rec_id or _BAD_ID.search(rec_id):
            problems.append(f"{where}: bad utterance id {rec_id!r} (empty or has whitespace)")
            continue
        # Kaldi wants utterance ids prefixed by the speaker id so both sort alike.
        utt_id = rec_id if rec_id.startswith(spk) else f"{spk}_{rec_id}"
        if utt_id in first_seen:
            problems.append(
                f"{where}: duplicate utterance id {rec_id} (first at line {first_seen[utt_id]})"
            )
            continue
        first_seen[utt_id] = lineno
        col = 1 if text_field == "raw" or len(fields) == 2 else 2
        # One line per utterance in Kaldi's text file: collapse tabs/newline-like runs.
        text = " ".join(fields[col].split())
        if not text:
            problems.append(f"{where}: utterance {rec_id} has empty text ({text_field} column)")
            continue
        wav = os.path.join(wav_dir, rec_id + ".wav")
        if not os.path.isfile(wav):
            problems.append(f"{where}: utterance {rec_id}: wav file {wav} does not exist")
            continue
        if os.path.getsize(wav) <= 44:  # a RIFF header alone holds no audio
            problems.append(f"{where}: utterance {rec_id}: wav file {wav} is empty")
            continue
        utts.append(Utterance(utt_id, wav, text))
    if skip_bad:
        for p in problems:
            print(f"data_prep.py: skipping: {p}", file=sys.stderr)
    return utts, problems


def split_sizes(n_utts: int, n_dev: int, n_eval: int) -> tuple[int, int, int]:
    """Sizes (train, dev, eval) of the deterministic split described in the module doc."""
    if n_dev < 1 or n_eval < 1:
        raise DataPrepError(f"--n_dev and --n_eval must be >= 1 (got {n_dev}, {n_eval})")
    if n_utts < 10 * (n_dev + n_eval):
        n_dev = n_eval = max(1, n_utts // 10)
    n_train = n_utts - n_dev - n_eval
    if n_train < 1:
        raise DataPrepError(
            f"only {n_utts} usable utterances: need at least 3 (one each for train, dev, eval)"
        )
    return n_train, n_dev, n_eval


def _data_files(utts: list[Utterance], spk: str) -> dict[str, dict[str, str]]:
    """The Kaldi files of one set (``spk2utt`` is derived from ``utt2spk`` when written)."""
    return {
        "wav.scp": {u.utt_id: u.wav for u in utts},
        "text": {u.utt_id: u.text for u in utts},
        "utt2spk": {u.utt_id: spk for u in utts},
    }


def prepare(
    db_root: str,
    data_dir: str,
    n_dev: int = 250,
    n_eval: int = 250,
    skip_bad: bool = False,
    spk: str = "LJ",
    text_field: str = "raw",
    whole_set: str | None = None,
) -> dict[str, int]:
    """Build ``<data_dir>/{train,dev,eval}`` (or ``<data_dir>/<whole_set>`` alone).

    Returns the number of utterances per set and ``skipped``.
    """
    if not spk or _BAD_ID.search(spk):
        raise DataPrepError(f"--spk {spk!r} is not a valid Kaldi speaker id")
    if whole_set is not None and (not whole_set or "/" in whole_set or _BAD_ID.search(whole_set)):
        raise DataPrepError(f"--whole_set {whole_set!r} is not a valid set name")
    utts, problems = read_metadata(db_root, text_field, spk, skip_bad)
    if problems and not skip_bad:
        shown = "\n  ".join(problems[:_MAX_REPORTED])
        more = len(problems) - _MAX_REPORTED
        tail = f"\n  ... and {more} more" if more > 0 else ""
        raise DataPrepError(
            f"{len(problems)} bad entries in the corpus; nothing was written:\n  {shown}{tail}\n"
            "Fix the corpus, or pass --skip_bad true to skip these utterances."
        )
    if utts and _BAD_ID.search(utts[0].wav):  # all wavs share the corpus dir
        print(
            f"data_prep.py: warning: the corpus path {utts[0].wav} contains whitespace; "
            "Kaldi-style tools that split wav.scp on whitespace will break",
            file=sys.stderr,
        )
    if whole_set is not None:
        if not utts:
            raise DataPrepError(f"no usable utterances in {db_root}")
        splits = {whole_set: utts}
    else:
        n_train, n_dev, n_eval = split_sizes(len(utts), n_dev, n_eval)
        splits = {
            "train": utts[:n_train],
            "dev": utts[n_train : n_train + n_dev],
            "eval": utts[n_train + n_dev :],
        }
    # Swapped in only once all sets are written, so a failed run loses nothing.
    write_data_dirs(data_dir, {name: _data_files(v, spk) for name, v in splits.items()})
    return {name: len(v) for name, v in splits.items()} | {"skipped": len(problems)}


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Kaldi data dirs {train,dev,eval} from an LJSpeech-1.1-layout corpus.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--db_root", required=True, help="dir holding metadata.csv and wavs/")
    parser.add_argument("--n_dev", type=int, default=250, help="dev utterances (large corpora)")
    parser.add_argument("--n_eval", type=int, default=250, help="eval utterances (large corpora)")
    parser.add_argument(
        "--skip_bad", type=str2bool, default=False, help="skip bad utterances instead of stopping"
    )
    parser.add_argument("--spk", default="LJ", help="speaker id written to utt2spk")
    parser.add_argument(
        "--text_field",
        choices=("raw", "normalized"),
        default="raw",
        help="metadata.csv text column to use",
    )
    parser.add_argument(
        "--whole_set",
        default=None,
        help="write the whole corpus as this one set (no train/dev/eval split)",
    )
    parser.add_argument("data_dir", help="output dir; gets train/, dev/, eval/ (or --whole_set)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        opts = pick(args, "n_dev", "n_eval", "skip_bad", "spk", "text_field", "whole_set")
        counts = prepare(args.db_root, args.data_dir, **opts)
    except DataPrepError as e:
        print(f"data_prep.py: error: {e}", file=sys.stderr)
        return 1
    sizes = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "skipped")
    print(f"data_prep.py: {args.data_dir}: {sizes} utterances; skipped {counts['skipped']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
