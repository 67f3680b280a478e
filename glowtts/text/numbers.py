"""Spell out numbers in English text.

`expand_numbers(text)` rewrites, in this order (earlier rules win because
they consume the digits):

==============  ===================  ==========================================
kind            example              result
==============  ===================  ==========================================
currency        ``$5.50``            ``five dollars and fifty cents``
                ``£3``, ``€1``       ``three pounds``, ``one euro``
                ``$2 million``       ``two million dollars``
                ``$5m``, ``$2bn``     ``five million dollars``, ``two billion dollars``
percentage      ``12.5%``            ``twelve point five percent``
time            ``3:05 p.m.``        ``three oh five p m``
                ``10:00``            ``ten o'clock``
                ``3pm``, ``11 a.m.``  ``three p m``, ``eleven a m`` (hours 1-12)
date            ``12/25/2019``       ``December twenty fifth, twenty nineteen``
                ``2019-12-25``       (the same; US month/day order for slashes,
                ``25.12.2019``       day.month for dots, as written in Europe)
phone number    ``(555) 555-0123``   ``five five five, five five five, zero one two three``
                ``1-800-555-0199``   (NANP forms; seven digits only after ``call``,
                ``call 555-1234``    ``phone``, ``dial``, ``fax``, ``tel``, ``number``)
dotted          ``192.168.0.1``      ``one hundred ninety two dot one hundred sixty eight dot
                                     zero dot one`` (IPv4), ``v3.11.7``: ``version three
                                     point eleven point seven``, ``v2``: ``version two``
                                     (a lower-case ``v``: ``V8`` is a name)
fraction        ``3/4``, ``1 1/2``   ``three quarters``, ``one and a half``
                ``5/16``             ``five sixteenths`` (proper fractions with a
                                     common denominator only: ``24/7`` stays)
ordinal         ``21st``             ``twenty first``
decade          ``1990s``            ``nineteen nineties``
plural          ``the 80s``          ``the eighties`` (any number + ``s``: ``747s``)
dimensions      ``4x4``, ``3 x 5``   ``four by four``, ``three by five``
year            ``1984``, ``2008``   ``nineteen eighty four``, ``two thousand eight``
decimal         ``3.14``             ``three point one four``
grouped         ``1,234``            ``one thousand two hundred thirty four``
negative        ``-7``               ``minus seven``
range           ``1990-1995``        ``nineteen ninety to nineteen ninety five``
cardinal        ``42``               ``forty two``; glued to letters it stands
                                     apart: ``MP3``, ``3D``: ``MP three``, ``three D``
==============  ===================  ==========================================

A bare four-digit number from 1100 to 2099 reads as a year (so ``1500
apples`` reads ``fifteen hundred apples``, which is also idiomatic).
Number words are our own (no inflect), written without hyphens and commas (``twenty one``, not
``twenty-one,``) so that character and phoneme tokens do not get spurious
punctuation, and without "and" (American usage: ``one hundred five``).
Digit strings longer than 15 digits are read digit by digit.
"""

from __future__ import annotations

import re
from functools import lru_cache

_DIGIT_WORDS = "zero one two three four five six seven eight nine".split()
_ONES = (
    _DIGIT_WORDS
    + ("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen").split()
)
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALE_WORDS = ["", "thousand", "million", "billion", "trillion"]
_ORDINAL_IRREGULAR = {
    "one": "first", "two": "second", "three": "third", "five": "fifth",
    "eight": "eighth", "nine": "ninth", "twelve": "twelfth",
}  # fmt: skip

# name: (major singular, major plural, minor singular, minor plural)
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "sen", "sen"),
}
_SCALES = "thousand|million|billion|trillion"
# abbreviated scales, written right after the amount: "$5m", "$2bn", "£3k"
_SCALE_ABBREVIATIONS = {"k": "thousand", "m": "million", "mn": "million", "bn": "billion",
                        "b": "billion", "tn": "trillion"}  # fmt: skip

_num = r"\d+(?:,\d{3})*(?:\.\d+)?"
_scale_abbreviations = "|".join(_SCALE_ABBREVIATIONS)
_currency = rf"([$£€¥])\s?({_num})(?:\s?({_SCALES})\b|({_scale_abbreviations})\b)?"
_currency_re = re.compile(_currency, re.IGNORECASE)
_percent_re = re.compile(r"((?<![\w.])-)?(" + _num + r")\s?(%|percent\b|per cent\b)", re.IGNORECASE)
# ranges whose ends the rules below spell with words after the number ("$10-$20",
# "10-15%", "9am-5pm", "9:00-17:00"): the dash becomes "to" first
_unit_range_re = re.compile(
    r"(?<=\d)\s?[-–]\s?(?=[$£€¥]\d|\d+(?:\.\d+)?\s?%)"
    r"|(?:(?<=\d[kmb])|(?<=\d[bmt]n))\s?[-–]\s?(?=[$£€¥]\d)"
    r"|(?:(?<=\d[ap]m)|(?<=\d:\d\d))\s?[-–]\s?(?=\d)",
    re.IGNORECASE,
)
_isbn_re = re.compile(r"\bISBN(?:-1[03])?:?\s*(\d[\d-]{8,15}[\dX])\b")
# "am", "p.m." after a time; its final period is kept at the end of the text (a full stop)
_ampm = r"\s?([ap])\.?\s?m\b(?:\.(?!\s*$))?"
_time_re = re.compile(
    rf"\b([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?!\d)(?:{_ampm})?", re.IGNORECASE
)
# an hour with a.m./p.m. but no minutes: "3pm", "11 a.m."
_clock_re = re.compile(rf"(?<![\w.:])(1[0-2]|0?[1-9]){_ampm}", re.IGNORECASE)
_ordinal_re = re.compile(r"\b(\d+(?:,\d{3})*)(st|nd|rd|th)\b", re.IGNORECASE)
_decade_re = re.compile(r"\b(1[1-9]\d0|20\d0)'?s\b")
_short_decade_re = re.compile(r"(?<![\w'])'(\d)0s\b")
_plural_re = re.compile(r"(?<![\w.,])(\d+(?:,\d{3})*)'?s\b")  # "the 80s", "two 747s"
_dimensions_re = re.compile(r"(?<=\d)\s?[x×]\s?(?=\d)")  # "4x4", "1920 x 1080"
_glued_re = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")  # "MP3", "3D"
_year_re = re.compile(r"(?<![\d.,])\b(1[1-9]\d\d|20\d\d)\b(?![.,]\d)")
_decimal_re = re.compile(r"(?<![\d.])(\d+(?:,\d{3})*)?\.(\d+)\b")
_grouped_re = re.compile(r"\b\d{1,3}(?:,\d{3})+\b")
_negative_re = re.compile(r"(?<![\w.,])-(?=\d)")
_number_sign_re = re.compile(r"(?<![\w&#])#\s?(?=\d)")  # "#1 hit" -> "number one hit"
_about_re = re.compile(r"(?<![\w~])~\s?(?=\d)")  # "~5 minutes" -> "about five minutes"
_ratio_re = re.compile(r"(?<=\d):(?=\d)")  # what the time rule left: "1:2" -> "one to two"
_range_re = re.compile(r"(?<=\d)\s?[-–]\s?(?=\d)")
_cardinal_re = re.compile(r"\d+")
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_us_date_re = re.compile(r"(?<![\d/])(1[0-2]|0?[1-9])/(3[01]|[12]\d|0?[1-9])/(\d{4})\b")
_dotted_date_re = re.compile(
    r"(?<![\w.])(3[01]|[12]\d|0?[1-9])\.(1[0-2]|0?[1-9])\.(\d{4})(?!\d|\.\d)"
)
_iso_date_re = re.compile(r"(?<![\d-])(\d{4})-(1[0-2]|0[1-9])-(3[01]|[12]\d|0[1-9])\b(?!-)")
# North American numbers: optional country code, area code in brackets or before a
# separator, then 3-4 digits; the 7-digit form alone is too much like a range ("555-1234"
# and "100-1000" look the same), so it is read as a phone number only after a keyword
_phone_re = re.compile(
    r"(?<![\w+-])(?:(\+?1)[-. ])?(?:\((\d{3})\)\s?|(\d{3})[-.])(\d{3})[-.](\d{4})(?![\w-])"
)
_phone7_re = re.compile(
    r"\b(call|phone|telephone|tel\.?|dial|fax|number)(:?\s*)(\d{3})-(\d{4})(?![\w-])",
    re.IGNORECASE,
)
# versions ("v2.10", or three or more dotted numbers: "3.11.7") and IPv4 addresses
_dotted_re = re.compile(r"(?<![\w.])(?:[vV](\d+(?:\.\d+)+)|v(\d+)|(\d+(?:\.\d+){2,}))(?!\w|\.\d)")
# denominators read as fractions; others ("24/7", "9/11") are left for the later rules
_FRACTION_DENOMINATORS = {2, 3, 4, 5, 6, 8, 10, 12, 16, 32, 64, 100}
_fraction_re = re.compile(r"(?<![\d/.,])(?:(\d+)\s)?(\d+)/(\d+)(?![\d/])")


def _below_thousand(n: int) -> list[str]:
    words = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [_ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS[tens])
        if ones:
            words.append(_ONES[ones])
    elif rest:
        words.append(_ONES[rest])
    return words


@lru_cache(maxsize=4096)
def cardinal(n: int) -> str:
    """Words for the integer ``n`` (``-3`` -> ``minus three``, ``105`` -> ``one hundred five``)."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n == 0:
        return "zero"
    if n >= 10**15:
        return digits(str(n))
    words: list[str] = []
    for scale in range(len(_SCALE_WORDS) - 1, -1, -1):
        group, n = divmod(n, 1000**scale)
        if group:
            words += _below_thousand(group)
            if _SCALE_WORDS[scale]:
                words.append(_SCALE_WORDS[scale])
    return " ".join(words)


def ordinal(n: int) -> str:
    """Words for the ordinal ``n`` (``21`` -> ``twenty first``, ``40`` -> ``fortieth``)."""
    head, _, last = cardinal(n).rpartition(" ")
    if last in _ORDINAL_IRREGULAR:
        last = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    elif not last.endswith("th"):
        last += "th"
    return (head + " " + last).strip()


def digits(s: str) -> str:
    """Read a digit string one digit at a time (``"07"`` -> ``zero seven``)."""
    return " ".join(_DIGIT_WORDS[int(c)] for c in s if c.isdigit())


def year(n: int) -> str:
    """Words for a year as usually spoken (``1905`` -> ``nineteen oh five``)."""
    if not 1000 <= n <= 9999:
        return cardinal(n)
    if 2000 <= n <= 2009 or n % 1000 == 0:
        return cardinal(n)
    hi, lo = divmod(n, 100)
    if lo == 0:
        return cardinal(hi) + " hundred"
    if lo < 10:
        return cardinal(hi) + " oh " + cardinal(lo)
    return cardinal(hi) + " " + cardinal(lo)


def _pluralize_last(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last.endswith("y"):
        last = last[:-1] + "ies"
    else:
        last += "es" if last.endswith("x") else "s"  # "sixes"
    return (head + " " + last).strip()


def _plain(s: str) -> int:
    return int(s.replace(",", ""))


def _decimal_words(whole: str | None, frac: str) -> str:
    head = cardinal(_plain(whole)) if whole else "zero"
    return head + " point " + digits(frac)


def _number_words(s: str) -> str:
    """Cardinal or decimal words for a numeral like ``1,234.5``."""
    if "." in s:
        whole, frac = s.split(".", 1)
        return _decimal_words(whole or None, frac)
    return cardinal(_plain(s))


def _expand_currency(m: re.Match) -> str:
    sym, amount, scale = m.group(1), m.group(2), m.group(3)
    if m.group(4):
        scale = _SCALE_ABBREVIATIONS[m.group(4).lower()]
    major1, major_n, minor1, minor_n = _CURRENCIES[sym]
    if scale:  # "$2.5 million" -> "two point five million dollars"
        return f"{_number_words(amount)} {scale.lower()} {major_n}"
    whole, _, frac = amount.partition(".")
    units = _plain(whole) if whole else 0
    if frac and len(frac) != 2:  # "$1.234" is not dollars and cents
        return f"{_number_words(amount)} {major_n}"
    cents = int(frac) if frac else 0
    parts = []
    if units or not cents:
        parts.append(f"{cardinal(units)} {major1 if units == 1 else major_n}")
    if cents:
        parts.append(f"{cardinal(cents)} {minor1 if cents == 1 else minor_n}")
    return " and ".join(parts)


def _expand_percent(m: re.Match) -> str:
    return ("minus " if m.group(1) else "") + _number_words(m.group(2)) + " percent"


def _expand_isbn(m: re.Match) -> str:  # digit by digit, in the printed groups
    groups = m.group(1).split("-")
    return "I S B N " + ", ".join(
        digits(g[:-1]) + " X" if g.endswith("X") else digits(g) for g in groups
    )


def _expand_time(m: re.Match) -> str:
    hh, mm, ss, ampm = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    words = cardinal(hh)
    if mm == 0:
        if ss or hh > 12:
            words += " hundred"
        elif not ampm:
            words += " o'clock"
    elif mm < 10:
        words += " oh " + cardinal(mm)
    else:
        words += " " + cardinal(mm)
    if ss:
        words += " and " + cardinal(int(ss)) + " seconds"
    if ampm:
        words += " " + ampm.lower() + " m"
    return words


def _date_words(y: int, month: int, day: int) -> str:
    return f"{_MONTHS[month - 1]} {ordinal(day)}, {year(y)}"


def _expand_us_date(m: re.Match) -> str:
    return _date_words(int(m.group(3)), int(m.group(1)), int(m.group(2)))


def _expand_dotted_date(m: re.Match) -> str:
    return _date_words(int(m.group(3)), int(m.group(2)), int(m.group(1)))


def _expand_iso_date(m: re.Match) -> str:
    return _date_words(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def fraction(num: int, den: int) -> str:
    """Words for ``num/den`` (``3/4`` -> ``three quarters``, ``1/2`` -> ``one half``)."""
    one = {2: "half", 4: "quarter"}.get(den) or ordinal(den)
    many = {2: "halves", 4: "quarters"}.get(den) or ordinal(den) + "s"
    return f"{cardinal(num)} {one if num == 1 else many}"


def _expand_fraction(m: re.Match) -> str:
    whole, num, den = m.group(1), int(m.group(2)), int(m.group(3))
    if den not in _FRACTION_DENOMINATORS or not 0 < num < den:
        return m.group(0)
    if not whole:
        return fraction(num, den)
    # "1 1/2" -> "one and a half", "2 3/4" -> "two and three quarters"
    words = "a " + fraction(1, den).split(" ", 1)[1] if num == 1 else fraction(num, den)
    return f"{cardinal(int(whole))} and {words}"


def _expand_phone(m: re.Match) -> str:
    country, area_bracketed, area, exchange, line = m.groups()
    groups = [g for g in (country, area_bracketed or area, exchange, line) if g]
    return ", ".join(digits(g.lstrip("+")) for g in groups)


def _expand_phone7(m: re.Match) -> str:
    return f"{m.group(1)}{m.group(2) or ' '}{digits(m.group(3))}, {digits(m.group(4))}"


def _expand_dotted(m: re.Match) -> str:
    version, short_version, plain = m.groups()
    version = version or short_version
    parts = (version or plain).split(".")
    is_ipv4 = not version and len(parts) == 4 and all(int(p) < 256 for p in parts)
    words = (" dot " if is_ipv4 else " point ").join(_integer_words(p) for p in parts)
    return ("version " if version else "") + words


def _expand_clock(m: re.Match) -> str:
    return f"{cardinal(int(m.group(1)))} {m.group(2).lower()} m"


def _expand_plural(m: re.Match) -> str:
    words = _integer_words(m.group(1).replace(",", ""))
    if words.startswith("one ") and " " not in words[4:]:  # "1,000s" -> "thousands"
        words = words[4:]
    return _pluralize_last(words)


def _expand_ordinal(m: re.Match) -> str:
    return ordinal(_plain(m.group(1)))


def _expand_decade(m: re.Match) -> str:
    return _pluralize_last(year(int(m.group(1))))


def _expand_short_decade(m: re.Match) -> str:  # "'60s" -> "sixties"
    return _pluralize_last(cardinal(int(m.group(1)) * 10))


def _expand_year(m: re.Match) -> str:
    return year(int(m.group(1)))


def _expand_decimal(m: re.Match) -> str:
    return _decimal_words(m.group(1), m.group(2))


def _expand_grouped(m: re.Match) -> str:
    return cardinal(_plain(m.group(0)))


def _integer_words(s: str) -> str:
    if len(s) > 1 and s.startswith("0"):  # "007", zip codes: read digit by digit
        return digits(s)
    return cardinal(int(s))


def _expand_cardinal(m: re.Match) -> str:
    return _integer_words(m.group(0))


# Roman numerals up to 399 after a capitalised word. After a word that announces a number
# ("World War II", "Chapter IV") they are cardinals, a single I only before punctuation
# ("World War I.", but "Civil War I think"); after another word, regnal ordinals of two
# letters or more ("Henry VIII"; "Malcolm X" and "Charles I" are left alone).
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
_roman = r"(?=[CLXVI]+\b)C{0,3}(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})(?<=[CLXVI])"
_ANNOUNCERS = (
    "War Chapter Part Book Volume Act Scene Section Article Title Phase Type Class Level "
    "Grade Stage Appendix Psalm Canto Round Series Mark Apollo Gemini Bowl Vol."
).split()
_announcers = "|".join(re.escape(w) for w in _ANNOUNCERS + [w.upper() for w in _ANNOUNCERS])
_roman_end = r"\b(?!['’](?!s\b))"  # not "I'm", "I'd"; possessive "XIV's" is fine
_roman_number_re = re.compile(
    rf"(?<!\w)({_announcers})\s+(?:(I)(?=\s*[.,;:!?)]|\s*$)|(?!I\b)({_roman})){_roman_end}"
)
_NOT_NAMES = (
    "The|A|An|In|On|At|Of|To|By|For|And|Or|But|With|From|His|Her|Its|Their|Our|My|Your|This|That"
)
_regnal_re = re.compile(rf"\b(?!(?:{_NOT_NAMES})\b)([A-Z][a-z]+)\s+((?=\w\w){_roman}){_roman_end}")


def roman_to_int(numeral: str) -> int:
    """``"XIV"`` -> 14 (subtractive pairs such as IV and XC; no validation)."""
    values = [_ROMAN_VALUES[c] for c in numeral.upper()]
    return sum(-v if v < w else v for v, w in zip(values, values[1:] + [0]))


def _expand_roman_number(m: re.Match) -> str:
    return f"{m.group(1)} {cardinal(roman_to_int(m.group(2) or m.group(3)))}"


def _expand_regnal(m: re.Match) -> str:
    return f"{m.group(1)} the {ordinal(roman_to_int(m.group(2)))}"


def expand_roman(text: str) -> str:
    """Read Roman numerals: as numbers after ``War``, ``Chapter``, ``Part``... (``World
    War II`` -> ``World War two``), as regnal ordinals after another capitalised word
    (``Henry VIII`` -> ``Henry the eighth``). Upper-case numerals only, up to 399."""
    if not any(c in "IVXLC" for c in text):
        return text
    text = _roman_number_re.sub(_expand_roman_number, text)
    return _regnal_re.sub(_expand_regnal, text)


def expand_numbers(text: str) -> str:
    """Spell out every number in ``text`` (see the module docstring for the rules)."""
    if not any(c.isdigit() for c in text):
        return text
    text = _isbn_re.sub(_expand_isbn, text)
    text = _unit_range_re.sub(" to ", text)
    text = _currency_re.sub(_expand_currency, text)
    text = _percent_re.sub(_expand_percent, text)
    text = _time_re.sub(_expand_time, text)
    text = _clock_re.sub(_expand_clock, text)
    text = _dotted_date_re.sub(_expand_dotted_date, text)
    text = _phone_re.sub(_expand_phone, text)
    text = _phone7_re.sub(_expand_phone7, text)
    text = _dotted_re.sub(_expand_dotted, text)
    text = _us_date_re.sub(_expand_us_date, text)
    text = _iso_date_re.sub(_expand_iso_date, text)
    text = _fraction_re.sub(_expand_fraction, text)
    text = _ordinal_re.sub(_expand_ordinal, text)
    text = _negative_re.sub("minus ", text)
    text = _number_sign_re.sub("number ", text)
    text = _about_re.sub("about ", text)
    text = _ratio_re.sub(" to ", text)
    text = _range_re.sub(" to ", text)
    text = _decade_re.sub(_expand_decade, text)
    text = _short_decade_re.sub(_expand_short_decade, text)
    text = _plural_re.sub(_expand_plural, text)
    text = _dimensions_re.sub(" by ", text)
    text = _glued_re.sub(" ", text)
    text = _year_re.sub(_expand_year, text)
    text = _decimal_re.sub(_expand_decimal, text)
    text = _grouped_re.sub(_expand_grouped, text)
    text = _cardinal_re.sub(_expand_cardinal, text)
    return text
