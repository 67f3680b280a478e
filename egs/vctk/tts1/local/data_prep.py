#!/usr/bin/env python3
"""Kaldi data dirs (train/dev/eval) from the VCTK-Corpus-0.92 layout.

Input layout (``--db_root``, the unpacked ``VCTK-Corpus-0.92.zip``)::

    wav48_silence_trimmed/<spk>/<spk>_<nnn>_mic1.flac   48 kHz FLAC, microphone 1
    wav48_silence_trimmed/<spk>/<spk>_<nnn>_mic2.flac   the same utterance, microphone 2
    txt/<spk>/<spk>_<nnn>.txt                            its transcript (one line)
    speaker-info.txt                                     ID AGE GENDER ACCENTS REGION ...

Output, under ``<data_dir>``: ``{train,dev,eval}/{wav.scp,text,utt2spk,spk2utt}`` plus
``spk2gender`` when ``speaker-info.txt`` is there; every file sorted by id in byte order
(``LC_ALL=C sort``). Utterance ids are ``<spk>_<nnn>`` (the microphone is not part of the id),
so they start with the speaker id and utterances and speakers sort alike, as Kaldi wants.

``wav.scp`` entries are sox pipes that decode the FLAC, resample to ``--fs`` (22050 Hz, the
feature rate) and write 16-bit mono WAV on stdout::

    p225_001 sox /abs/wav48_silence_trimmed/p225/p225_001_mic1.flac -t wav -r 22050 -b 16 -c 1 - |

Split (deterministic, per speaker): each speaker's usable utterances, sorted by id; the last
``n_eval`` go to ``eval``, the ``n_dev`` before them to ``dev``, the rest to ``train``. Every
speaker is therefore in all three sets (seen-speaker evaluation); the held-out utterances are
the high-numbered ones, which in VCTK are the speaker's own newspaper sentences, not the
shared passages. A speaker with fewer than ``n_dev + n_eval + 1`` usable utterances goes
to ``train`` whole (logged).

Always skipped, with one logged reason each (they are holes in the corpus, not errors):
recordings without a transcript (VCTK 0.92: all of p315) and transcripts without a
recording for the chosen microphone (VCTK 0.92: p280 and some of p362 on mic2). A whole
speaker skipped is logged once with the count. Real problems (an empty or undecodable
transcript, an empty FLAC file, an id with whitespace) stop the run with every problem
named, before anything is written; ``--skip_bad true`` skips those utterances instead.
Outputs are written to temporary directories and swapped in only when all are complete
(``glowtts.data.datadir.write_data_dirs``).

Only the standard library and ``glowtts.data.datadir`` / ``glowtts.utils`` (stdlib-only
themselves, taken from this repo when glowtts is not installed) are used, so any Python 3
runs it; sox is needed later, when stage 1 reads ``wav.scp``.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
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
AUDIO_DIR = "wav48_silence_trimmed"
TEXT_DIR = "txt"
SPEAKER_INFO = "speaker-info.txt"
_WS = re.compile(r"\s")
_MAX_REPORTED = 20


class DataPrepError(Exception):
    """Input the data preparation cannot use; the message names the file and the fix."""


@dataclass
class Utterance:
    """One usable utterance: Kaldi id, speaker, absolute FLAC path and one-line text."""

    utt_id: str
    spk: str
    flac: str
    text: str


def log(msg: str) -> None:
    print(f"data_prep.py: {msg}", file=sys.stderr)


def _listdir(path: str) -> list[str]:
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def read_speaker_genders(db_root: str) -> dict[str, str]:
    """``speaker-info.txt`` -> ``{spk: "m"|"f"}``; empty when the file is absent.

    VCTK 0.92 writes ids as ``p225``; 0.80 wrote ``225`` (the ``p`` is added then).
    """
    path = os.path.join(db_root, SPEAKER_INFO)
    genders: dict[str, str] = {}
    if not os.path.isfile(path):
        return genders
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            fields = line.split()
            if len(fields) < 3 or fields[0].upper() == "ID":
                continue
            spk = fields[0] if not fields[0].isdigit() else f"p{fields[0]}"
            g = fields[2].lower()
            if g in ("m", "f"):
                genders[spk] = g
    return genders


def read_text(path: str) -> str:
    """A VCTK transcript as one line (whitespace runs collapsed); raises on bad encoding."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataPrepError(f"{path} is not valid UTF-8 ({e})") from e
    return " ".join(text.split())


def scan_corpus(
    db_root: str, mic: str, skip_bad: bool, speakers: list[str] | None = None
) -> tuple[dict[str, list[Utterance]], list[str]]:
    """Pair every recording of microphone ``mic`` with its transcript, speaker by speaker.

    Returns ``{spk: utterances sorted by id}`` and the problems found (see the module doc);
    corpus holes are logged here and are not problems.
    """
    db_root = os.path.abspath(db_root)
    audio_root = os.path.join(db_root, AUDIO_DIR)
    text_root = os.path.join(db_root, TEXT_DIR)
    if not os.path.isdir(audio_root) or not os.path.isdir(text_root):
        raise DataPrepError(
            f"{db_root} is not a VCTK-Corpus-0.92 directory: it needs {AUDIO_DIR}/ and "
            f"{TEXT_DIR}/. Pass --db_root <unpacked VCTK-Corpus-0.92>, or run stage -1 to "
            "download it"
        )
    found = sorted(set(_listdir(audio_root)) | set(_listdir(text_root)))
    if speakers:
        unknown = [s for s in speakers if s not in found]
        if unknown:
            raise DataPrepError(
                f"--speakers {' '.join(unknown)} not in {audio_root} or {text_root}"
            )
        found = [s for s in found if s in set(speakers)]
    suffix = f"_{mic}.flac"
    by_spk: dict[str, list[Utterance]] = {}
    problems: list[str] = []
    for spk in found:
        if _WS.search(spk):
            problems.append(f"speaker directory {spk!r} has whitespace in its name")
            continue
        audio = {
            name[: -len(suffix)]: os.path.join(audio_root, spk, name)
            for name in _listdir(os.path.join(audio_root, spk))
            if name.endswith(suffix)
        }
        texts = {
            name[:-4]: os.path.join(text_root, spk, name)
            for name in _listdir(os.path.join(text_root, spk))
            if name.endswith(".txt")
        }
        if not texts or not audio:
            n, what = (
                (len(audio), "transcripts") if not texts else (len(texts), f"{mic} recordings")
            )
            log(f"skipping speaker {spk}: no {what} ({n} utterances otherwise)")
            continue
        utts = []
        for utt_id in sorted(set(audio) | set(texts)):
            if utt_id not in texts:
                log(f"skipping {utt_id}: no transcript {text_root}/{spk}/{utt_id}.txt")
                continue
            if utt_id not in audio:
                log(f"skipping {utt_id}: no {mic} recording {audio_root}/{spk}/{utt_id}{suffix}")
                continue
            if not utt_id.startswith(spk + "_") or _WS.search(utt_id):
                problems.append(f"{audio[utt_id]}: id {utt_id!r} does not look like {spk}_<nnn>")
                continue
            try:
                text = read_text(texts[utt_id])
            except DataPrepError as e:
                problems.append(str(e))
                continue
            if not text:
                problems.append(f"{texts[utt_id]}: empty transcript")
                continue
            if os.path.getsize(audio[utt_id]) == 0:
                problems.append(f"{audio[utt_id]}: empty FLAC file")
                continue
            utts.append(Utterance(utt_id, spk, audio[utt_id], text))
        if utts:
            by_spk[spk] = utts
    if skip_bad:
        for p in problems:
            log(f"skipping: {p}")
    return by_spk, problems


def split_speakers(
    by_spk: dict[str, list[Utterance]], n_dev: int, n_eval: int
) -> dict[str, list[Utterance]]:
    """The per-speaker split of the module doc: last ``n_eval`` eval, ``n_dev`` before dev."""
    if n_dev < 0 or n_eval < 0:
        raise DataPrepError(f"--n_dev and --n_eval must be >= 0 (got {n_dev}, {n_eval})")
    splits: dict[str, list[Utterance]] = {s: [] for s in SETS}
    for spk, utts in sorted(by_spk.items()):
        if len(utts) < n_dev + n_eval + 1:
            log(f"speaker {spk}: only {len(utts)} utterances; all of them go to train")
            splits["train"] += utts
            continue
        n_train = len(utts) - n_dev - n_eval
        splits["train"] += utts[:n_train]
        splits["dev"] += utts[n_train : n_train + n_dev]
        splits["eval"] += utts[n_train + n_dev :]
    for name in SETS:
        if not splits[name]:
            raise DataPrepError(
                f"the {name} set is empty ({sum(map(len, by_spk.values()))} usable utterances "
                f"of {len(by_spk)} speakers, n_dev={n_dev}, n_eval={n_eval}); lower "
                "--n_dev/--n_eval or add speakers"
            )
    return splits


def wav_pipe(flac: str, fs: int) -> str:
    """The ``wav.scp`` value: sox decodes, resamples to ``fs`` and writes 16-bit mono WAV."""
    return f"sox {shlex.quote(flac)} -t wav -r {fs} -b 16 -c 1 - |"


def _data_files(
    utts: list[Utterance], fs: int, genders: dict[str, str]
) -> dict[str, dict[str, str]]:
    """The Kaldi files of one set (``spk2utt`` is derived from ``utt2spk`` when written)."""
    files = {
        "wav.scp": {u.utt_id: wav_pipe(u.flac, fs) for u in utts},
        "text": {u.utt_id: u.text for u in utts},
        "utt2spk": {u.utt_id: u.spk for u in utts},
    }
    spks = {u.spk for u in utts}
    if genders and all(s in genders for s in spks):
        files["spk2gender"] = {s: genders[s] for s in spks}
    return files


def prepare(
    db_root: str,
    data_dir: str,
    mic: str = "mic1",
    n_dev: int = 2,
    n_eval: int = 2,
    skip_bad: bool = False,
    fs: int = 22050,
    speakers: list[str] | None = None,
) -> dict[str, int]:
    """Build ``<data_dir>/{train,dev,eval}``; returns utterances per set and speakers."""
    if mic not in ("mic1", "mic2"):
        raise DataPrepError(f"--mic must be mic1 or mic2, got {mic!r}")
    if fs <= 0:
        raise DataPrepError(f"--fs must be positive, got {fs}")
    by_spk, problems = scan_corpus(db_root, mic, skip_bad, speakers)
    if problems and not skip_bad:
        shown = "\n  ".join(problems[:_MAX_REPORTED])
        more = len(problems) - _MAX_REPORTED
        tail = f"\n  ... and {more} more" if more > 0 else ""
        raise DataPrepError(
            f"{len(problems)} bad entries in the corpus; nothing was written:\n  {shown}{tail}\n"
            "Fix the corpus, or pass --skip_bad true to skip these utterances."
        )
    if not by_spk:
        raise DataPrepError(f"no usable {mic} utterances with transcripts under {db_root}")
    splits = split_speakers(by_spk, n_dev, n_eval)
    genders = read_speaker_genders(os.path.abspath(db_root))
    # Swapped in only once all sets are written, so a failed run loses nothing.
    write_data_dirs(data_dir, {name: _data_files(v, fs, genders) for name, v in splits.items()})
    counts = {name: len(v) for name, v in splits.items()}
    return counts | {"speakers": len(by_spk), "skipped": len(problems)}


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Kaldi data dirs {train,dev,eval} from VCTK-Corpus-0.92.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--db_root", required=True, help="the unpacked VCTK-Corpus-0.92 dir")
    parser.add_argument("--mic", default="mic1", choices=("mic1", "mic2"), help="microphone")
    parser.add_argument("--n_dev", type=int, default=2, help="dev utterances per speaker")
    parser.add_argument("--n_eval", type=int, default=2, help="eval utterances per speaker")
    parser.add_argument(
        "--skip_bad", type=str2bool, default=False, help="skip bad utterances instead of stopping"
    )
    parser.add_argument("--fs", type=int, default=22050, help="wav.scp output sampling rate")
    parser.add_argument(
        "--speakers", default="", help="speaker subset, comma/space separated (default: all)"
    )
    parser.add_argument("data_dir", help="output dir; gets train/, dev/, eval/")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        speakers = args.speakers.replace(",", " ").split() or None
        opts = pick(args, "mic", "n_dev", "n_eval", "skip_bad", "fs")
        counts = prepare(args.db_root, args.data_dir, speakers=speakers, **opts)
    except DataPrepError as e:
        print(f"data_prep.py: error: {e}", file=sys.stderr)
        return 1
    print(
        f"data_prep.py: {args.data_dir}: {counts['speakers']} speakers; train {counts['train']}, "
        f"dev {counts['dev']}, eval {counts['eval']} utterances; skipped {counts['skipped']} bad"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
