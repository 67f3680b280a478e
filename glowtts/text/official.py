"""The official Glow-TTS text front-end, reproduced: token type ``official``.

Reproduces what the official code feeds its model, ``text_to_sequence(text,
['english_cleaners'], cmudict)``, so that an imported official checkpoint
(:mod:`glowtts.convert.official`) receives the ids it was trained on:

1. ``english_cleaners``: ASCII transliteration, lower case, numbers, the 18 title
   abbreviations, runs of whitespace -> one space (not stripped);
2. split at single spaces; each word found in the CMU dictionary (upper-cased, as
   written: ``word,`` with its comma is not found) becomes its *first* listed
   pronunciation, one ``@PHONE`` token per phone; other words spell out character by
   character; a space token follows every word, and the last one is dropped;
3. characters outside the 148 symbols, and ``_``, are dropped silently;
4. ARPAbet written in braces in the input (``{HH AH0 L OW1}``) is taken as is.

The symbols are the official ones in their order: ``_``, ``-``, ``!'(),.:;? ``, A-Z,
a-z, then ``@`` + the 84 ARPAbet phones. Our token list puts ``<blank>`` and ``<unk>``
in front, so official id ``i`` is our id ``i + 2`` (:func:`to_official_ids`).

Options (``text.official`` in the YAML): ``cmudict`` (use the dictionary, default
true; false is the official ``dictionary=None`` path: no word splitting, no final
space removed) and ``dictionary`` (the CMUdict 0.07 file, the official
``data/cmu_dictionary``; required when ``cmudict`` is true; relative to the yaml).

The number and transliteration rules are written here for this front-end only
(our own ``english`` cleaners stay the default for new voices): cardinals as in the
official (years 1001-2999 read in pairs, ``1905`` -> ``nineteen oh five``), ordinals
with ``and`` (``101st`` -> ``one hundred and first``), dollars and cents.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar

from glowtts.text.tokenizers import Tokenizer

# ---------------------------------------------------------------- symbols

_VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY",
           "UH", "UW")  # fmt: skip
_CONSONANTS = ("B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P",
               "R", "S", "SH", "T", "TH", "V", "W", "Y", "Z", "ZH")  # fmt: skip
# vowels bare and with stress 0/1/2, all in alphabetical order (84 phones)
ARPABET: tuple[str, ...] = tuple(
    sorted(
        [v + s for v in _VOWELS for s in ("", "0", "1", "2")] + list(_CONSONANTS),
    )
)
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
OFFICIAL_SYMBOLS: tuple[str, ...] = (
    "_", "-", *"!'(),.:;? ", *_LETTERS, *("@" + p for p in ARPABET),
)  # fmt: skip
_SYMBOL_SET = frozenset(OFFICIAL_SYMBOLS) - {"_"}  # the pad is never produced
_PHONE_SET = frozenset(ARPABET)
DEFAULT_DICTIONARY_NAME = "cmu_dictionary"
N_RESERVED = 2  # <blank>, <unk> before the official symbols in our token list


def to_official_ids(ids: Sequence[int], add_blank: bool = False) -> list[int]:
    """Our ids of this token type -> the official model's ids (blank: ``len(symbols)``)."""
    blank = len(OFFICIAL_SYMBOLS)
    if any(i == 1 for i in ids):
        raise ValueError("<unk> (id 1) has no official id")
    return [blank if (i == 0 and add_blank) else i - N_RESERVED for i in ids]


# ---------------------------------------------------------------- dictionary

_ALT = re.compile(r"\([0-9]+\)")


@lru_cache(maxsize=4)
def read_cmu_dictionary(path: str) -> dict[str, str]:
    """``WORD -> first valid pronunciation`` of a CMUdict 0.07 file (latin-1).

    Entry lines start with A-Z or ``'``; the word and its pronunciation are separated
    by two spaces; ``WORD(2)`` variants follow the first, which is the one used;
    a pronunciation with a phone outside the 84 is skipped.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"CMU dictionary {path} not found (the official front-end needs the "
            "CMUdict 0.07 file, data/cmu_dictionary of the official repository)"
        )
    entries: dict[str, str] = {}
    with open(path, encoding="latin-1") as f:
        for line in f:
            if not line or not ("A" <= line[0] <= "Z" or line[0] == "'"):
                continue
            parts = line.split("  ")
            if len(parts) < 2:
                raise ValueError(f"{path}: {line.strip()!r} is not 'WORD  PHONES' (two spaces)")
            phones = parts[1].strip().split(" ")
            if all(p in _PHONE_SET for p in phones):
                entries.setdefault(_ALT.sub("", parts[0]), " ".join(phones))
    if not entries:
        raise ValueError(f"{path}: no CMUdict entries (is it the CMUdict 0.07 text file?)")
    return entries


# ---------------------------------------------------------------- transliteration

# unidecode's spellings of Latin-1, Latin Extended-A and General Punctuation where NFKD
# gives another (tests/text/test_official_frontend.py checks the three blocks); other
# characters: NFKD without the combining marks, else dropped
_ASCII = {
    "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201b": "'", "\u201c": '"', "\u201d": '"',
    "\u201e": ',,', "\u2013": "-", "\u2014": "--", "\u2015": "--", "\u2010": "-",
    "\u2011": "-", "\u2012": "-", "\u2026": "...", "\u00a0": " ", "\u00a3": "PS",
    "\u20ac": "EUR", "\u00ab": "<<", "\u00bb": ">>", "\u00b4": "'", "\u00b0": "deg",
    "\u00d7": "x", "\u00f7": "/", "\u00a7": "SS", "\u00b6": "P", "\u00a9": "(c)",
    "\u00ae": "(r)", "\u00b7": "*", "\u00bf": "?", "\u00a1": "!", "\u00e6": "ae",
    "\u00c6": "AE", "\u0153": "oe", "\u0152": "OE", "\u00df": "ss", "\u00f8": "o",
    "\u00d8": "O", "\u00f0": "d", "\u00d0": "D", "\u00fe": "th", "\u00de": "Th",
    "\u0142": "l", "\u0141": "L", "\u0111": "d", "\u0110": "D", "\u00bd": " 1/2",
    "\u00bc": " 1/4", "\u00be": " 3/4", "\u00a2": "C/", "\u00a5": "Y=", "\u2032": "'",
    "\u2033": "''", "\u2022": "*", "\u00b2": "2", "\u00b3": "3", "\u00b9": "1",
    "\u00a4": "$?", "\u00a6": "|", "\u00a8": '"', "\u00ac": "!", "\u00af": "-",
    "\u00b1": "+-", "\u00b5": "u", "\u00b8": ",", "\u0126": "H", "\u0127": "h",
    "\u0131": "i", "\u0138": "k", "\u0149": "'n", "\u014a": "NG", "\u014b": "ng",
    "\u0166": "T", "\u0167": "t", "\u200b": " ", "\u2016": "||", "\u2017": "_",
    "\u201f": '"', "\u2020": "+", "\u2021": "++", "\u2023": "*>", "\u2027": ".",
    "\u2028": "\n", "\u2029": "\n\n", "\u2030": "%0", "\u2031": "%00", "\u2034": "'''",
    "\u2035": "`", "\u2036": "``", "\u2037": "```", "\u2038": "^", "\u2039": "<",
    "\u203a": ">", "\u203b": "*", "\u203d": "!?", "\u203e": "-", "\u203f": "_",
    "\u2040": "-", "\u2041": "^", "\u2042": "***", "\u2043": "--", "\u2044": "/",
    "\u2045": "-[", "\u2046": "]-", "\u204a": "&", "\u204b": "PP", "\u204c": "(]",
    "\u204d": "[)", "\u204e": "*", "\u2052": "%", "\u2053": "~", "\u2057": "''''",
}  # fmt: skip


def to_ascii(text: str) -> str:
    """ASCII transliteration with the official (unidecode) spellings of common characters."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
        elif ch in _ASCII:
            out.append(_ASCII[ch])
        else:
            base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(base)
    return "".join(out)


# ---------------------------------------------------------------- numbers

_UNIT = "_ one two three four five six seven eight nine".split()
_TEEN = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TEN = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_MILL = ("", " thousand", " million", " billion", " trillion", " quadrillion",
         " quintillion", " sextillion", " septillion", " octillion", " nonillion",
         " decillion")  # fmt: skip
_ORDINAL_ENDINGS = (("ty", "tieth"), ("one", "first"), ("two", "second"), ("three", "third"),
                    ("five", "fifth"), ("eight", "eighth"), ("nine", "ninth"),
                    ("twelve", "twelfth"))  # fmt: skip


def _two_digits(n: int) -> str:
    """1-99 in words, ``twenty-one`` hyphenated."""
    if n < 10:
        return _UNIT[n]
    if n < 20:
        return _TEEN[n - 10]
    t, u = divmod(n, 10)
    return _TEN[t] + (f"-{_UNIT[u]}" if u else "")


def _three_digits(n: int, andword: str) -> str:
    h, r = divmod(n, 100)
    if not h:
        return _two_digits(r)
    joint = f" {andword} " if andword else " "
    return f"{_UNIT[h]} hundred" + (joint + _two_digits(r) if r else "")


def cardinal(n: int, andword: str = "") -> str:
    """``n >= 0`` in words: groups of three joined by ``", "``, except that a last group
    below one hundred joins with a space and ``andword`` (``one thousand one``)."""
    if n == 0:
        return "zero"
    groups = []
    i = 0
    while n:
        n, g = divmod(n, 1000)
        if g:
            if i >= len(_MILL):
                raise ValueError("number too large to read out")
            groups.append((i, g))
        i += 1
    groups.reverse()
    words = [_three_digits(g, andword) + _MILL[i] for i, g in groups]
    last_i, last_g = groups[-1]
    if len(groups) > 1 and last_i == 0 and last_g < 100:
        head = ", ".join(words[:-1])
        return f"{head} {andword + ' ' if andword else ''}{words[-1]}"
    return ", ".join(words)


def ordinal(n: int) -> str:
    """``101`` -> ``one hundred and first`` (the official reads ordinals with ``and``)."""
    words = cardinal(n, andword="and")
    for end, repl in _ORDINAL_ENDINGS:
        if words.endswith(end):
            return words[: -len(end)] + repl
    return words + "th"


def _number(n: int) -> str:
    """A cardinal as the official reads it: years 1001-2999 in pairs, ``oh`` for zero."""
    if 1000 < n < 3000:
        if n == 2000:
            return "two thousand"
        if 2000 < n < 2010:
            return "two thousand " + cardinal(n % 100)
        hi, lo = divmod(n, 100)
        if lo == 0:
            return cardinal(hi) + " hundred"
        return f"{_two_digits(hi)} {_two_digits(lo) if lo >= 10 else 'oh ' + _UNIT[lo]}"
    return cardinal(n)


def _dollars(m: re.Match) -> str:
    amount = m.group(1)
    parts = amount.split(".")
    if len(parts) > 2:
        return amount + " dollars"
    dollars = int(parts[0]) if parts[0] else 0
    cents = int(parts[1]) if len(parts) > 1 and parts[1] else 0
    d_unit = "dollar" if dollars == 1 else "dollars"
    c_unit = "cent" if cents == 1 else "cents"
    if dollars and cents:
        return f"{dollars} {d_unit}, {cents} {c_unit}"
    if dollars:
        return f"{dollars} {d_unit}"
    if cents:
        return f"{cents} {c_unit}"
    return "zero dollars"


_NUMBER_RULES = (
    (re.compile(r"([0-9][0-9,]+[0-9])"), lambda m: m.group(1).replace(",", "")),
    (re.compile(r"£([0-9,]*[0-9]+)"), lambda m: m.group(1) + " pounds"),
    (re.compile(r"\$([0-9.,]*[0-9]+)"), _dollars),
    (re.compile(r"([0-9]+\.[0-9]+)"), lambda m: m.group(1).replace(".", " point ")),
    (re.compile(r"([0-9]+)(?:st|nd|rd|th)"), lambda m: ordinal(int(m.group(1)))),
    (re.compile(r"[0-9]+"), lambda m: _number(int(m.group(0)))),
)


def official_numbers(text: str) -> str:
    """The official number expansion, in its order (commas, pounds, dollars, decimals,
    ordinals, cardinals)."""
    for pattern, fn in _NUMBER_RULES:
        text = pattern.sub(fn, text)
    return text


# ---------------------------------------------------------------- cleaners

_TITLES = (("mrs", "misess"), ("mr", "mister"), ("dr", "doctor"), ("st", "saint"),
           ("co", "company"), ("jr", "junior"), ("maj", "major"), ("gen", "general"),
           ("drs", "doctors"), ("rev", "reverend"), ("lt", "lieutenant"),
           ("hon", "honorable"), ("sgt", "sergeant"), ("capt", "captain"),
           ("esq", "esquire"), ("ltd", "limited"), ("col", "colonel"),
           ("ft", "fort"))  # fmt: skip
_TITLE_RES = tuple((re.compile(rf"\b{a}\.", re.IGNORECASE), full) for a, full in _TITLES)
_WHITESPACE = re.compile(r"\s+")


def english_cleaners(text: str) -> str:
    """The official ``english_cleaners``: ASCII, lower case, numbers, abbreviations
    (``st.`` is always ``saint``), whitespace runs -> one space (ends not stripped)."""
    text = official_numbers(to_ascii(text).lower())
    for pattern, full in _TITLE_RES:
        text = pattern.sub(full, text)
    return _WHITESPACE.sub(" ", text)


# ---------------------------------------------------------------- tokenizer

_CURLY = re.compile(r"(.*?)\{(.+?)\}(.*)")


def _chars(text: str) -> list[str]:
    return [c for c in text if c in _SYMBOL_SET]


def _phones(text: str) -> list[str]:
    return [s for s in ("@" + p for p in text.split()) if s in _SYMBOL_SET]


def text_to_symbols(text: str, dictionary: dict[str, str] | None) -> list[str]:
    """The official ``text_to_sequence`` with ``english_cleaners``, as symbol strings."""
    out: list[str] = []
    while text:
        m = _CURLY.match(text)
        if m is None:
            clean = english_cleaners(text)
            if dictionary is None:
                out += _chars(clean)
                break
            for word in clean.split(" "):
                pron = dictionary.get(word.upper())
                if pron is not None:
                    out += _phones(pron)
                elif word.startswith("{"):  # a lone brace: the official reads it as ARPAbet
                    out += _phones(word[1:-1])
                else:
                    out += _chars(word)
                out.append(" ")
            break
        out += _chars(english_cleaners(m.group(1)))
        out += _phones(m.group(2))
        text = m.group(3)
    if dictionary is not None and out and out[-1] == " ":
        out.pop()
    return out


class OfficialTokenizer(Tokenizer):
    """Token type ``official``: the official Glow-TTS symbols (see the module docstring).

    It cleans the text itself (``english_cleaners`` runs between the braces), so the
    front-end's own ``cleaners`` must stay empty.
    """

    name = "official"
    defaults: ClassVar[dict[str, Any]] = {"cmudict": True, "dictionary": None}
    default_lowercase = False
    own_cleaners = True
    sorted_inventory = False

    def __init__(self, conf=None, base_dir=None, lowercase: bool = False) -> None:
        super().__init__(conf, base_dir)
        if lowercase:
            raise ValueError(
                "token_type official lower-cases inside english_cleaners: set lowercase false"
            )
        self._dict: dict[str, str] | None = None

    @property
    def dictionary_path(self) -> str:
        path = self.conf["dictionary"]
        if not path:
            raise ValueError(
                "text.official.dictionary is not set: give the CMUdict 0.07 file "
                "(data/cmu_dictionary of the official repository), or cmudict: false"
            )
        if self.base_dir and not os.path.isabs(path):
            path = os.path.join(self.base_dir, path)
        return path

    def dictionary(self) -> dict[str, str] | None:
        if not self.conf["cmudict"]:
            return None
        if self._dict is None:
            self._dict = read_cmu_dictionary(os.path.abspath(self.dictionary_path))
        return self._dict

    def tokenize(self, text: str) -> list[str]:
        return text_to_symbols(text, self.dictionary())

    def detokenize(self, tokens: Sequence[str]) -> str:
        text = "".join("{" + t[1:] + "}" if t.startswith("@") else t for t in tokens)
        return text.replace("}{", " ")

    def inventory(self) -> list[str]:
        return list(OFFICIAL_SYMBOLS)

    def resolved_conf(self, out_dir: str | None = None) -> dict[str, Any]:
        conf = dict(self.conf)
        if conf["cmudict"] and conf["dictionary"]:
            path = self.dictionary_path
            conf["dictionary"] = os.path.relpath(path, out_dir) if out_dir else path
        return conf
