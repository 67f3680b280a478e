"""Token type ``official`` gives exactly the ids of the official ``text_to_sequence``.

The official front-end (``../shared/anchors/glow-tts/text``, with the official
``data/cmu_dictionary``) is imported inside the test; it needs ``unidecode`` and
``inflect`` (test-only requirements). Both front-ends read the same texts: the
ljspeech_mini transcripts and generated LJSpeech-style sentences with numbers,
ordinals, years, money, decimals, abbreviations, punctuation, braces and words
missing from the dictionary.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml
from official_anchor import anchor_dir, load_official  # noqa: E402

from glowtts.text import Frontend  # noqa: E402
from glowtts.text.official import (  # noqa: E402
    OFFICIAL_SYMBOLS,
    official_numbers,
    to_ascii,
    to_official_ids,
)

pytest.importorskip("unidecode")
pytest.importorskip("inflect")


@pytest.fixture(scope="module")
def theirs():
    mods = load_official("text", "text.cmudict", "text.symbols", "text.numbers")
    return mods


@pytest.fixture(scope="module")
def dictionary_path() -> Path:
    return anchor_dir() / "data" / "cmu_dictionary"


@pytest.fixture(scope="module")
def frontend(dictionary_path) -> Frontend:
    return Frontend({"token_type": "official", "official": {"dictionary": str(dictionary_path)}})


_WORDS = ("the", "commission", "president", "oswald", "rifle", "building", "window",
          "report", "evidence", "witness", "motorcade", "dallas", "police", "prison",
          "newgate", "sheriff", "xyzzyq", "glorptastic", "blorft", "kwyjibo", "mcwhirter",
          "don't", "o'clock", "re-examined", "twenty-one", "it's", "hmm")  # fmt: skip
_TITLES = ("Mr.", "Mrs.", "Dr.", "Drs.", "St.", "Co.", "Jr.", "Maj.", "Gen.", "Rev.", "Lt.",
           "Hon.", "Sgt.", "Capt.", "Esq.", "Ltd.", "Col.", "Ft.", "mr.", "DR.", "st")  # fmt: skip
_PUNCT = (",", ".", ";", ":", "?", "!", " -", " --", "'", '"', "(", ")", "[", "]", "…", "’")


def _number(rng: random.Random) -> str:
    kind = rng.randrange(12)
    n = rng.choice([rng.randrange(10), rng.randrange(100), rng.randrange(1000),
                    rng.randrange(1000, 3000), rng.randrange(10**4), rng.randrange(10**7),
                    rng.randrange(10**10)])  # fmt: skip
    if kind == 0:
        return f"{n:,}"
    if kind == 1:
        return f"${n}" + (f".{rng.randrange(100):02d}" if rng.random() < 0.6 else "")
    if kind == 2:
        return f"${rng.choice(['0', '1', ''])}.{rng.choice(['01', '1', '00', '5'])}"
    if kind == 3:
        return f"{n}{rng.choice(['st', 'nd', 'rd', 'th'])}"
    if kind == 4:
        return f"{n}.{rng.randrange(1000)}"
    if kind == 5:
        return str(rng.choice([1000, 1001, 1100, 1900, 1905, 1963, 2000, 2005, 2010, 2999, 3000]))
    if kind == 6:
        return f"£{n}"
    if kind == 7:
        return f"${n:,}.{rng.randrange(100)}"
    return str(n)


def _sentence(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(3, 14)):
        r = rng.random()
        if r < 0.2:
            parts.append(_number(rng))
        elif r < 0.3:
            parts.append(rng.choice(_TITLES) + " " + rng.choice(_WORDS).title())
        elif r < 0.4:
            parts[-1:] = [(parts[-1] if parts else "") + rng.choice(_PUNCT)]
        else:
            w = rng.choice(_WORDS)
            parts.append(
                w.upper() if rng.random() < 0.05 else w.title() if rng.random() < 0.2 else w
            )
    text = " ".join(parts)
    if rng.random() < 0.05:
        text = "  " + text.replace(" ", "   ", 1) + " \t"
    if rng.random() < 0.05:
        text = text + " {HH AH0 L OW1} " + rng.choice(_WORDS)
    if rng.random() < 0.05:
        text = "Café naïve résumé — “quoted” " + text
    return text + rng.choice([".", "?", "!", ""])


def _texts(ljspeech: Path) -> list[str]:
    lines = (ljspeech / "metadata.csv").read_text(encoding="utf-8").splitlines()
    texts = [t for line in lines for t in line.split("|")[1:]]
    rng = random.Random(18)
    return texts + [_sentence(rng) for _ in range(600)]


def test_symbols_are_the_official_ones(theirs):
    assert tuple(theirs["text.symbols"].symbols) == OFFICIAL_SYMBOLS
    assert len(OFFICIAL_SYMBOLS) == 148


def test_same_ids_as_the_official_front_end(theirs, frontend, dictionary_path, ljspeech_mini):
    cmu = theirs["text.cmudict"].CMUDict(str(dictionary_path))
    texts = _texts(ljspeech_mini)
    assert len(texts) >= 500
    n_arpabet = n_letters = 0
    for text in texts:
        want = theirs["text"].text_to_sequence(text, ["english_cleaners"], cmu)
        got = to_official_ids(frontend.text_to_ids(text))
        assert got == want, (text, frontend.decode(frontend.text_to_ids(text)))
        n_arpabet += sum(i >= 64 for i in want)
        n_letters += sum(12 <= i < 64 for i in want)
    assert n_arpabet > 1000 and n_letters > 1000  # both dictionary words and spelled-out ones


def test_without_dictionary_and_with_blanks(theirs, dictionary_path, ljspeech_mini):
    plain = Frontend({"token_type": "official", "official": {"cmudict": False}})
    blank = Frontend({"token_type": "official", "add_blank": True,
                      "official": {"dictionary": str(dictionary_path)}})  # fmt: skip
    cmu = theirs["text.cmudict"].CMUDict(str(dictionary_path))
    for text in _texts(ljspeech_mini)[:100]:
        want = theirs["text"].text_to_sequence(text, ["english_cleaners"], None)
        assert to_official_ids(plain.text_to_ids(text)) == want, text
        want = theirs["text"].text_to_sequence(text, ["english_cleaners"], cmu)
        interspersed = [len(OFFICIAL_SYMBOLS)] * (2 * len(want) + 1)
        interspersed[1::2] = want
        assert to_official_ids(blank.encode(text), add_blank=True) == interspersed


def test_numbers_match_the_official_expansion(theirs):
    normalize = theirs["text.numbers"].normalize_numbers
    rng = random.Random(3)
    cases = [str(n) for n in range(0, 3100)]
    cases += [f"{n}{s}" for n in range(0, 1200) for s in ("st", "th")]
    cases += [str(rng.randrange(10**k)) for k in range(4, 19) for _ in range(40)]
    cases += [f"{rng.randrange(10**k)}th" for k in range(4, 13) for _ in range(20)]
    cases += ["$1", "$1.01", "$0.5", "$.99", "$1.2.3", "$0.00", "1,000,000", "3.14159"]
    for case in cases:
        assert official_numbers(case) == normalize(case), case


def test_transliteration_matches_unidecode():
    from unidecode import unidecode

    chars = [chr(c) for c in range(0xA0, 0x180)] + [chr(c) for c in range(0x2000, 0x2070)]
    chars += ["€"]
    for ch in chars:
        assert to_ascii(ch) == unidecode(ch), (ch, hex(ord(ch)))


def test_frontend_file_is_self_contained(tmp_path, dictionary_path):
    fe = Frontend({"token_type": "official", "official": {"dictionary": str(dictionary_path)}})
    assert fe.conf["cleaners"] == [] and not fe.lowercase  # it cleans itself
    fe.save(str(tmp_path))
    assert (tmp_path / "cmu_dictionary").is_file()  # the ids depend on it: it travels along
    again = Frontend.from_file(str(tmp_path / "frontend.yaml"))
    saved = yaml.safe_load((tmp_path / "frontend.yaml").read_text())
    assert saved["official"] == {"cmudict": True, "dictionary": "cmu_dictionary"}
    text = "Dr. Jones, 21st of June 1963, paid $12.50."
    assert again.text_to_ids(text) == fe.text_to_ids(text)
    # a word is looked up as written: "end." with its period is spelled out
    assert again.decode(fe.text_to_ids("The end.")) == "{DH AH0} end."
    assert again.decode(fe.text_to_ids("The end")) == "{DH AH0} {EH1 N D}"
    with pytest.raises(ValueError, match="cleaners must be empty"):
        Frontend({"token_type": "official", "cleaners": ["english"]})
    with pytest.raises(ValueError, match="dictionary is not set"):
        Frontend({"token_type": "official"}).text_to_ids("hello")
