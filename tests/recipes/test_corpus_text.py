"""The embedded corpus's sentence list: filters, dedupe, greedy coverage, long utterances.

Tests on real text need Debian's ``fortunes-min`` (``/usr/share/games/fortunes``); they
skip when it is missing, unless ``GLOWTTS_REQUIRE_FESTIVAL=1`` (CI, which installs the
embedded corpus's system packages) makes that a failure. They read only the three
files of ``fortunes-min``, so they run in seconds.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SLT_LOCAL = REPO / "egs" / "slt_mini" / "tts1" / "local"
sys.path.insert(0, str(SLT_LOCAL))  # recipe-only code lives in the recipe
import corpus_text as ct  # noqa: E402

sys.path.remove(str(SLT_LOCAL))
OWN = (SLT_LOCAL / "sentences.txt").read_text(encoding="utf-8").splitlines()
MIN_FILES = "fortunes,literature,riddles"  # what fortunes-min installs


def _fortunes_or_skip() -> None:
    if os.path.isfile(os.path.join(ct.FORTUNE_DIR, "fortunes")):
        return
    reason = f"{ct.FORTUNE_DIR}/fortunes missing; apt-get install -y fortunes-min fortunes"
    if os.environ.get("GLOWTTS_REQUIRE_FESTIVAL") == "1":
        pytest.fail(reason + " (GLOWTTS_REQUIRE_FESTIVAL=1 makes this an error)")
    pytest.skip(reason)


# ---------------------------------------------------------------- no system packages needed


def test_split_sentences_keeps_abbreviations_and_initials() -> None:
    text = (
        'Dr. Smith met J. R. Jones at 5 p.m. on Main St. today. "Really?" she asked. '
        "It cost $3.50, i.e. too much! 1990 was a good year."
    )
    assert ct.split_sentences(text) == [
        "Dr. Smith met J. R. Jones at 5 p.m. on Main St. today.",
        '"Really?" she asked.',
        "It cost $3.50, i.e. too much!",
        "1990 was a good year.",
    ]


@pytest.mark.parametrize(
    "s",
    [
        "Dr. Patel paid $12.75 for 2 tickets in 1998.",
        'She said, "You are late again."',
        "Are you coming to the party (the big one) tonight?",
        "The 1990s were the 3rd best decade, he said!",
    ],
)
def test_speakable_accepts(s: str) -> None:
    assert ct.is_speakable(s)


@pytest.mark.parametrize(
    "s",
    [
        "Too short here.",  # < 20 characters
        "a lower-case start is not a sentence.",
        "This one has no end punctuation at all",
        "Visit http://example.com for more news today.",
        "The pipe | would break metadata.csv files.",
        'An unbalanced "quote sits in this sentence.',
        "A bracket ) closes before it opens ( here.",
        "Wait for it... and then it finally happens.",
        "What do you REALLY mean by that, sir?",
        'Then shout, "I AM DOWN AND OUT" to them.',
        "Heaven help them if they ever read comp.arch today.",
        "Reformed, n.: A synagogue that closes early.",
        "My h4x0r friend typed this one for us.",
        "Caf\u00e9 au lait is nice in the morning.",
        "Two words.!",
        "x" * 20 + " " + "y. " * 90 + "z.",  # > 250 characters
    ],
)
def test_speakable_rejects(s: str) -> None:
    assert not ct.is_speakable(s)


def test_text_key_ignores_case_and_punctuation() -> None:
    assert ct.text_key('"Hello, World!"') == ct.text_key("hello world.") == "hello world"
    assert ct.text_key("It's 5 o'clock.") != ct.text_key("Its 6 o'clock.")


def test_phone_units() -> None:
    units, n = ct.phone_units(["HH", "AH0", "L", "OW1", ",", "W", "ER1", "L", "D", "."])
    assert n == 8
    assert {"#_HH", "HH_AH", "OW_#", "#_W", "D_#", "AH0", "OW1", "ER1"} <= set(units)
    assert "OW_W" not in units  # the comma is a pause
    assert list(units) == sorted(units)


def _brute_greedy(units, lens, n, power):
    counts: dict[str, int] = {}
    left = list(range(len(units)))
    out = []
    for _ in range(min(n, len(units))):
        best = max(
            left,
            key=lambda i: (
                sum(ct.unit_weight(counts.get(u, 0)) for u in units[i]) / lens[i] ** power,
                -i,
            ),
        )
        out.append(best)
        left.remove(best)
        for u in units[best]:
            counts[u] = counts.get(u, 0) + 1
    return out


def test_lazy_greedy_equals_plain_greedy() -> None:
    rng = random.Random(3)
    alphabet = [f"u{k}" for k in range(40)]
    units = [tuple(sorted(set(rng.choices(alphabet, k=rng.randint(1, 12))))) for _ in range(120)]
    lens = [rng.randint(1, 30) for _ in units]
    for power in (0.0, 0.25, 1.0):
        assert ct.select_greedy(units, lens, 60, length_power=power) == _brute_greedy(
            units, lens, 60, power
        )


def test_greedy_prefers_new_units() -> None:
    units = [("a", "b"), ("a", "b"), ("c", "d"), ("a", "c")]
    # after the first pick covers a and b, the duplicate is worth least
    assert ct.select_greedy(units, [2, 2, 2, 2], 3, length_power=0.0)[:2] == [0, 2]


def test_select_sentences_small_n_is_own_prefix() -> None:
    sel = ct.select_sentences(OWN, [], 25)
    assert sel.sentences == OWN[:25]


def test_select_sentences_synthetic() -> None:
    own = ["The cat sat on the mat today.", "The cat sat on the mat today!"]  # a duplicate
    passages = [
        ct.Passage(
            "fortunes/x",
            [
                "The cat sat on the mat again.",
                "THE CAT SAT ON THE MAT TODAY.",  # duplicate of the own one
                "Quick zebras jump over lazy dogs.",
                "Way too short.",
                "Should we visit the museum this Thursday?",
            ],
        )
    ]
    sel = ct.select_sentences(own, passages, 3)
    assert sel.n_own == 1 and sel.sentences[0] == own[0]
    assert len(sel.sentences) == 3
    assert len({ct.text_key(s) for s in sel.sentences}) == 3
    # the two with new phones win over the near-copy of the own sentence
    assert set(sel.sentences[1:]) == {
        "Quick zebras jump over lazy dogs.",
        "Should we visit the museum this Thursday?",
    }
    with pytest.raises(ValueError, match="fewer than --n_sentences 9"):
        ct.select_sentences(own, passages, 9)


def test_long_sentences_synthetic() -> None:
    s1 = "The first sentence of this passage is reasonably long, with some words in it."
    parts = [s1] + [
        f"Sentence number {w} continues the story for a while and adds a few more words."
        for w in ("two", "three", "four", "five", "six", "seven", "eight")
    ]
    passages = [ct.Passage("fortunes/x", parts), ct.Passage("wordnet/noun", parts)]
    out = ct.long_sentences(passages, 5, exclude_keys={ct.text_key(s1)})
    # s1 is excluded; 4 sentences of 80 characters pass 250, the 3 left do not; the
    # WordNet passage (unrelated examples) is never joined
    assert out == [" ".join(parts[1:5])] and len(out[0]) > 250
    # without the exclusion, all 8 join into two groups of 4; with n_long 1, the first
    assert ct.long_sentences(passages, 5, set()) == [" ".join(parts[:4]), " ".join(parts[4:])]
    assert ct.long_sentences(passages, 1, set()) == [" ".join(parts[:4])]


# ---------------------------------------------------------------- real text (fortunes-min)


def _make(tmp_path: Path, n: int, seed: str, n_long: int = 0) -> tuple[list[str], dict]:
    out = tmp_path / f"s{seed}.txt"
    cmd = [
        sys.executable,
        str(SLT_LOCAL / "make_sentences.py"),
        "--sources",
        "fortunes",
        "--fortune_files",
        MIN_FILES,
        "--n_sentences",
        str(n),
        str(out),
    ]
    if n_long:
        cmd[2:2] = ["--n_long", str(n_long), "--long_out", str(tmp_path / f"long{seed}.txt")]
    env = dict(os.environ, PYTHONHASHSEED=seed)
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    stats = json.loads(res.stdout.strip().splitlines()[-1])
    return out.read_text(encoding="utf-8").splitlines(), stats


def test_selection_real_text(tmp_path: Path) -> None:
    _fortunes_or_skip()
    n = 480
    lines, stats = _make(tmp_path, n, "0", n_long=3)
    again, _ = _make(tmp_path, n, "1", n_long=3)
    # deterministic, even with another string hash seed
    assert lines == again
    assert (tmp_path / "long0.txt").read_text() == (tmp_path / "long1.txt").read_text()
    # own sentences first, then n - 360 picks; all unique up to case and punctuation, so
    # the held-out tail (the data prep's last lines) never repeats a training sentence
    assert len(lines) == n and lines[: len(OWN)] == OWN
    keys = [ct.text_key(s) for s in lines]
    assert len(set(keys)) == n
    tail = set(keys[-n // 10 :])
    assert not tail & set(keys[: -n // 10])
    for s in lines[len(OWN) :]:
        assert ct.MIN_LEN <= len(s) <= ct.MAX_LEN and ct.is_speakable(s), s
        assert "|" not in s and "\t" not in s
    # more distinct diphones than the same number taken in source order
    phonemize = ct.make_phonemizer()
    passages = ct.read_fortune_passages(ct.FORTUNE_DIR, MIN_FILES.split(","))
    first = ct.candidate_sentences(passages, {ct.text_key(s) for s in OWN})[: n - len(OWN)]

    def n_diphones(sents: list[str]) -> int:
        return len(ct.diphones(itertools.chain(*(ct.phone_units(phonemize(s))[0] for s in sents))))

    chosen, baseline = n_diphones(lines), n_diphones(OWN + first)
    assert chosen > baseline
    assert (stats["diphones_selected"], stats["diphones_first_n"]) == (chosen, baseline)
    # the long utterances: > 250 characters, none of their sentences in the main list
    long = (tmp_path / "long0.txt").read_text(encoding="utf-8").splitlines()
    assert len(long) == 3
    text = "\n".join(lines)
    for u in long:
        assert len(u) > 250
        for s in ct.split_sentences(u):
            assert ct.text_key(s) not in set(keys) and s not in text


def test_make_sentences_too_many(tmp_path: Path) -> None:
    _fortunes_or_skip()
    res = subprocess.run(
        [
            sys.executable,
            str(SLT_LOCAL / "make_sentences.py"),
            "--sources",
            "fortunes",
            "--fortune_files",
            "riddles",
            "--n_sentences",
            "5000",
            str(tmp_path / "s.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 1 and "fewer than --n_sentences 5000" in res.stderr
    assert not (tmp_path / "s.txt").exists()


def test_make_corpus_explicit_list_is_never_extended(tmp_path: Path) -> None:
    lst = tmp_path / "list.txt"
    lst.write_text("One sentence that is long enough.\nAnother sentence, long enough too.\n")
    res = subprocess.run(
        ["bash", str(SLT_LOCAL / "make_corpus.sh"), "--sentences", str(lst)]
        + ["--n_sentences", "3", "--n_long", "1", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 1 and "the maximum is 2" in res.stderr
    assert not (tmp_path / "c").exists()
