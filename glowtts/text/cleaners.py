"""Text cleaners: named, composable string -> string steps.

The YAML names them in order under ``text.cleaners``; each name is either a
single step or a pipeline of steps:

====================  ============================================================
name                  what it does
====================  ============================================================
``english``           pipeline: ``unicode_punct``, ``transliterate``, ``web``,
                      ``abbreviations``, ``numbers``, ``symbols``, ``whitespace``
``basic``             pipeline: ``unicode_punct``, ``whitespace``
``ascii``             pipeline: ``unicode_punct``, ``transliterate``, ``whitespace``
``none``              no change
``unicode_punct``     curly quotes -> ``'`` / ``"``, dashes -> ``-``, ellipsis -> ``...``,
                      exotic spaces -> space
``transliterate``     ASCII transliteration: accents stripped (``café`` -> ``cafe``),
                      ligatures and letters without a decomposition spelled out
                      (``æ`` -> ``ae``, ``ß`` -> ``ss``); currency signs kept for
                      ``numbers``; characters with no ASCII spelling are *kept* so
                      that the tokenizer reports them as unknown
``web``               e-mail and web addresses read out: ``www.example.com/a-b`` ->
                      ``w w w dot example dot com slash a dash b``, ``jo.doe@x.org`` ->
                      ``jo dot doe at x dot org`` (the scheme ``https://`` is dropped)
``abbreviations``     titles and common abbreviations (``Mr.`` -> ``Mister``,
                      ``St. Louis`` -> ``Saint Louis``, ``e.g.`` -> ``for example``),
                      units after a number (``5 ft.`` -> ``5 feet``)
``numbers``           cardinals, ordinals, decimals, years, currency, percentages,
                      times (see :mod:`glowtts.text.numbers`)
``symbols``           ``&`` -> ``and``, ``@`` -> ``at``, ``+`` -> ``plus`` ...
``whitespace``        runs of whitespace -> one space, stripped at both ends
``lowercase``         lower case
====================  ============================================================

Inline phonemes (``{HH AH0 L OW1}``, see :mod:`glowtts.text.tokenizers`) pass every
cleaner untouched (white space inside the braces collapsed): no number, abbreviation or
case rule sees them.

Lower case is *not* part of ``english``: the token type decides (``char`` and
``bpe`` lower-case by default, ``phn`` keeps case for the part-of-speech
tagger and looks words up case-insensitively); add ``lowercase`` to the list
to force it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

from glowtts.text.numbers import expand_numbers, expand_roman

Cleaner = Callable[[str], str]

INLINE_PHONEMES_RE = re.compile(r"\{[^{}]*\}")
"""One inline-phoneme span, ``{HH AH0 L OW1}`` (no nested braces)."""
# A span waits out the cleaners as a private-use marker + one private-use index character:
# not a letter, digit or space, so no rule matches it and none spells or splits it.
_MARK = "\ue000"
_MAX_SPANS = 0x1000
_mark_re = re.compile(_MARK + "([\ue001-\uf000])")

# ---------------------------------------------------------------- punctuation

_PUNCT_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": " - ",
    "\u2015": " - ", "\u2212": "-",
    "\u2026": "...",
    "\u00a0": " ", "\u2009": " ", "\u200a": " ", "\u202f": " ", "\u2007": " ",
    "\u3000": " ", "\u200b": "", "\ufeff": "", "\u00ad": "",
}  # fmt: skip
_PUNCT_TABLE = str.maketrans(_PUNCT_MAP)


def unicode_punct(text: str) -> str:
    """Normalise quotes, dashes, ellipses and exotic spaces to their ASCII forms."""
    return text.translate(_PUNCT_TABLE)


# ---------------------------------------------------------------- transliteration

# Letters that NFKD does not decompose into ASCII.
_TRANSLIT = {
    "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ẞ": "SS", "ø": "o", "Ø": "O",
    "đ": "d", "Đ": "D", "ð": "dh", "Ð": "DH", "þ": "th", "Þ": "TH", "ł": "l", "Ł": "L",
    "ı": "i", "ħ": "h", "Ħ": "H", "ŋ": "ng", "Ŋ": "NG", "ĸ": "k", "ſ": "s",
    "×": " times ", "÷": " divided by ", "°": " degrees ", "±": " plus or minus ",
    "²": " squared ", "³": " cubed ", "½": " one half ", "¼": " one quarter ", "¾": " three quarters ",
    "¡": "", "¿": "", "§": " section ", "¶": " paragraph ", "©": " copyright ",
    "®": "", "™": "", "•": " ", "·": " ",
}  # fmt: skip
# Kept for later steps (numbers spells out currencies).
_KEEP = set("£€¥")


def transliterate(text: str) -> str:
    """ASCII transliteration; unknown non-ASCII characters are kept (reported later)."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        if ch.isascii() or ch in _KEEP:
            out.append(ch)
        elif ch in _TRANSLIT:
            out.append(_TRANSLIT[ch])
        else:
            decomposed = unicodedata.normalize("NFKD", ch)
            base = "".join(c for c in decomposed if not unicodedata.combining(c))
            if base and base.isascii():
                out.append(base)
            elif base in _TRANSLIT:
                out.append(_TRANSLIT[base])
            else:
                out.append(ch)  # no ASCII spelling: let the tokenizer count it as unknown
    return "".join(out)


# ---------------------------------------------------------------- abbreviations

# abbreviation (without the period, lower case) -> expansion. Matched case-insensitively
# with a trailing period; the first letter's case is carried over.
_TITLES = {
    "mr": "mister", "mrs": "misses", "ms": "miss", "dr": "doctor", "prof": "professor",
    "rev": "reverend", "hon": "honorable", "gen": "general", "capt": "captain",
    "lt": "lieutenant", "col": "colonel", "sgt": "sergeant", "maj": "major",
    "gov": "governor", "sen": "senator", "rep": "representative", "pres": "president",
    "supt": "superintendent", "cmdr": "commander", "adm": "admiral", "fr": "father",
    "messrs": "messieurs", "jr": "junior", "sr": "senior", "mt": "mount", "ft": "fort",
    "co": "company", "corp": "corporation", "inc": "incorporated", "ltd": "limited",
    "bros": "brothers", "dept": "department", "univ": "university", "assn": "association",
    "ave": "avenue", "blvd": "boulevard", "rd": "road", "approx": "approximately",
    "vs": "versus", "etc": "et cetera", "jan": "january", "feb": "february",
    "mar": "march", "apr": "april", "aug": "august", "sept": "september",
    "oct": "october", "nov": "november", "dec": "december", "vol": "volume",
    "vols": "volumes", "pp": "pages", "cf": "compare",
}  # fmt: skip
# Dotted forms (matched as written, case-insensitively).
_DOTTED = {
    "e.g.": "for example", "i.e.": "that is", "a.m.": "a m", "p.m.": "p m",
    "u.s.": "U S", "u.k.": "U K", "d.c.": "D C",
}  # fmt: skip

TITLE_ABBREVIATIONS = frozenset(_TITLES) | {k.rstrip(".") for k in _DOTTED} | {"st", "no"}
"""Abbreviations written with a period (lower case, without it): not a sentence end."""
_title_re = re.compile(r"\b(" + "|".join(sorted(_TITLES, key=len, reverse=True)) + r")\.", re.I)
_dotted_re = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(k) for k in _DOTTED) + r")(?=\W|$)", re.I
)
_st_re = re.compile(r"\bSt\.(\s*)(?=([A-Z])?)")
_UNITS = {
    "ft": "feet", "lb": "pounds", "lbs": "pounds", "oz": "ounces",
    "mi": "miles", "mph": "miles per hour", "km": "kilometers", "kg": "kilograms",
    "cm": "centimeters", "mm": "millimeters", "yd": "yards", "yds": "yards",
}  # fmt: skip
_unit_re = re.compile(r"(?<=\d)\s?(" + "|".join(_UNITS) + r")\b\.?", re.I)
_PER = {"h": "hour", "hr": "hour", "s": "second", "sec": "second", "min": "minute",
        "d": "day", "day": "day", "wk": "week", "yr": "year"}  # fmt: skip
_per_re = re.compile(r"(?<=[A-Za-z])/(" + "|".join(_PER) + r")\b", re.I)  # "km/h"
_temperature_re = re.compile(r"\bdegrees\s?([CF])\b")  # after "°" became " degrees "
_TEMPERATURE_SCALES = {"C": "Celsius", "F": "Fahrenheit"}
_no_re = re.compile(r"\b(No|no|Nos|nos)\.\s?(?=\d)")


def _match_case(src: str, word: str) -> str:
    """Carry the abbreviation's initial capital over to its expansion."""
    return word[0].upper() + word[1:] if src[0].isupper() else word


def _end_period(m: re.Match) -> str:
    """Keep the abbreviation's period when it also ends the text (sentence end)."""
    return "." if m.group(0).endswith(".") and m.string[m.end() :].strip() == "" else ""


def _expand_title(m: re.Match) -> str:
    word = _TITLES[m.group(1).lower()]
    return _match_case(m.group(1), word) + _end_period(m)


def _expand_dotted(m: re.Match) -> str:
    word = _DOTTED[m.group(1).lower()]
    if not word.islower():  # initialisms keep their capitals
        return word + _end_period(m)
    return _match_case(m.group(1), word) + _end_period(m)


def _expand_st(m: re.Match) -> str:
    # "St. Louis" -> Saint; "Main St." / "Main St., Dallas" -> street
    if m.group(2):
        return "Saint" + m.group(1)
    return "street" + _end_period(m) + m.group(1)


def abbreviations(text: str) -> str:
    """Expand titles and common abbreviations (see ``_TITLES`` / ``_DOTTED``)."""
    if any(c.isdigit() for c in text):  # "5 ft." -> "5 feet", before "ft." -> "fort"
        text = _unit_re.sub(lambda m: " " + _UNITS[m.group(1).lower()] + _end_period(m), text)
        text = _per_re.sub(lambda m: " per " + _PER[m.group(1).lower()], text)
        text = _temperature_re.sub(lambda m: "degrees " + _TEMPERATURE_SCALES[m.group(1)], text)
    if "." not in text:
        return text
    text = _dotted_re.sub(_expand_dotted, text)
    text = _no_re.sub(lambda m: "numbers " if m.group(1).lower() == "nos" else "number ", text)
    text = _st_re.sub(_expand_st, text)
    return _title_re.sub(_expand_title, text)


# ---------------------------------------------------------------- web addresses

# a host name ends in a known top-level domain, so "e.g." or "U.S." never match
_TLDS = (
    "com|org|net|edu|gov|mil|int|info|biz|io|ai|app|dev|co|us|uk|ca|au|de|fr|nl|eu|jp|"
    "cn|in|ru|ch|se|no|es|it|tv|me"
)
_host = (
    r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?-i:" + _TLDS + "|" + _TLDS.upper() + r")\b"
)  # the top-level domain in one case: "end.In the" (a missing space) is no address
_path = r"(?:[/?#][^\s]*[^\s.,;:!?'\")\]])?"  # ends before trailing punctuation
_email_re = re.compile(r"(?<![\w.+-])([a-z0-9][\w.+-]*)@(" + _host + r")(?![\w-])", re.I)
_url_re = re.compile(r"(?<![\w@.-])(?:https?://)?(" + _host + r")(?![\w-])(" + _path + ")", re.I)
_WEB_SYMBOLS = {".": " dot ", "/": " slash ", "-": " dash ", "_": " underscore ",
                "?": " question mark ", "=": " equals ", "&": " and ", "#": " hash ",
                "+": " plus ", "~": " tilde ", ":": " colon ", "%": " percent "}  # fmt: skip
_web_symbol_re = re.compile("[" + re.escape("".join(_WEB_SYMBOLS)) + "]")


def _speak_web(part: str) -> str:
    part = _web_symbol_re.sub(lambda m: _WEB_SYMBOLS[m.group(0)], part)
    return " ".join(part.split())


def _expand_url(m: re.Match) -> str:
    host = m.group(1)
    www = re.match(r"www\.", host, re.I)
    head = "w w w dot " if www else ""
    return head + _speak_web(host[www.end() if www else 0 :] + m.group(2))


def web(text: str) -> str:
    """Read e-mail and web addresses out (``x.org/a`` -> ``x dot org slash a``)."""
    if "." not in text:
        return text
    text = _email_re.sub(lambda m: f"{_speak_web(m.group(1))} at {_speak_web(m.group(2))}", text)
    return _url_re.sub(_expand_url, text)


# ---------------------------------------------------------------- symbols

_SYMBOLS = [
    (re.compile(r"\s*&\s*"), " and "),
    (re.compile(r"(?<=\w)@(?=\w)"), " at "),
    (re.compile(r"\s*@\s*"), " at "),
    (re.compile(r"\s+\+\s+|(?<=\d)\+(?=\d)"), " plus "),
    (re.compile(r"\s=\s"), " equals "),
    (re.compile(r"#(?=\d)"), "number "),
    (re.compile(r"%"), " percent"),
    (re.compile(r"[$£€¥]"), ""),  # a currency sign that `numbers` did not attach to a number
]


def symbols(text: str) -> str:
    """Spell out common symbols that carry words (``&`` -> ``and``)."""
    for pattern, repl in _SYMBOLS:
        text = pattern.sub(repl, text)
    return text


# ---------------------------------------------------------------- case, whitespace

_ws_re = re.compile(r"\s+")


def whitespace(text: str) -> str:
    """Collapse runs of whitespace to one space and strip both ends."""
    return _ws_re.sub(" ", text).strip()


def lowercase(text: str) -> str:
    """Lower case."""
    return text.lower()


def numbers(text: str) -> str:
    """Spell out numbers (:func:`glowtts.text.numbers.expand_numbers`) and Roman
    numerals (:func:`glowtts.text.numbers.expand_roman`)."""
    return expand_numbers(expand_roman(text))


def identity(text: str) -> str:
    """No change."""
    return text


# ---------------------------------------------------------------- registry

CLEANERS: dict[str, Cleaner | tuple[str, ...]] = {
    "english": (
        "unicode_punct", "transliterate", "web", "abbreviations", "numbers", "symbols",
        "whitespace",
    ),
    "basic": ("unicode_punct", "whitespace"),
    "ascii": ("unicode_punct", "transliterate", "whitespace"),
    "none": identity,
    "unicode_punct": unicode_punct,
    "transliterate": transliterate,
    "web": web,
    "abbreviations": abbreviations,
    "numbers": numbers,
    "symbols": symbols,
    "whitespace": whitespace,
    "lowercase": lowercase,
}  # fmt: skip


def _resolve(name: str) -> list[Cleaner]:
    if name not in CLEANERS:
        raise ValueError(f"unknown cleaner {name!r}; valid names: {', '.join(sorted(CLEANERS))}")
    entry = CLEANERS[name]
    if isinstance(entry, tuple):
        return [fn for sub in entry for fn in _resolve(sub)]
    return [entry]


def get_cleaner(names: Sequence[str] | str | None) -> Cleaner:
    """Compose the named cleaners (applied in order) into one function.

    Args:
        names: a name, a list of names, or None / [] for no cleaning.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
    """
    if names is None:
        names = []
    if isinstance(names, str):
        names = [names]
    steps = [fn for name in names for fn in _resolve(name)]

    def clean(text: str) -> str:
        if not steps:
            return text
        spans: list[str] = []
        if "{" in text:
            text = _hide_inline(text.replace(_MARK, ""), spans)
        for fn in steps:
            text = fn(text)
        if spans:
            text = _mark_re.sub(lambda m: spans[ord(m.group(1)) - 0xE001], text)
        return text

    return clean


def _hide_inline(text: str, spans: list[str]) -> str:
    """Replace each ``{...}`` span by a marker, appending its normalised text to ``spans``."""

    def hide(m: re.Match) -> str:
        if len(spans) >= _MAX_SPANS:
            raise ValueError(f"more than {_MAX_SPANS} inline-phoneme spans in one text")
        spans.append("{" + " ".join(m.group(0)[1:-1].split()) + "}")
        return _MARK + chr(0xE000 + len(spans))

    return INLINE_PHONEMES_RE.sub(hide, text)


def clean_text(text: str, names: Sequence[str] | str | None = ("english",)) -> str:
    """Convenience: apply the named cleaners to ``text``."""
    return get_cleaner(names)(text)
