"""Cleaners: numbers, abbreviations, transliteration, whitespace, registry."""

import pytest

from glowtts.text.cleaners import CLEANERS, clean_text, get_cleaner
from glowtts.text.numbers import _roman, cardinal, expand_numbers, ordinal, roman_to_int, year

NUMBER_CASES = [
    # cardinals
    ("0", "zero"),
    ("7", "seven"),
    ("13", "thirteen"),
    ("42", "forty two"),
    ("105", "one hundred five"),
    ("1,234", "one thousand two hundred thirty four"),
    ("1,000,000", "one million"),
    ("3000000", "three million"),
    ("-7", "minus seven"),
    ("007", "zero zero seven"),
    # ordinals
    ("1st", "first"),
    ("2nd", "second"),
    ("3rd", "third"),
    ("12th", "twelfth"),
    ("21st", "twenty first"),
    ("40th", "fortieth"),
    ("100th", "one hundredth"),
    # decimals
    ("3.14", "three point one four"),
    ("0.5", "zero point five"),
    ("-3.5", "minus three point five"),
    # years and decades
    ("1984", "nineteen eighty four"),
    ("1900", "nineteen hundred"),
    ("1905", "nineteen oh five"),
    ("2000", "two thousand"),
    ("2008", "two thousand eight"),
    ("2019", "twenty nineteen"),
    ("the 1990s", "the nineteen nineties"),
    ("the '60s", "the sixties"),
    ("1990-1995", "nineteen ninety to nineteen ninety five"),
    # currency
    ("$5", "five dollars"),
    ("$1", "one dollar"),
    ("$5.50", "five dollars and fifty cents"),
    ("$0.99", "ninety nine cents"),
    ("$1.01", "one dollar and one cent"),
    ("$2 million", "two million dollars"),
    ("£3", "three pounds"),
    ("€1", "one euro"),
    # percentages
    ("50%", "fifty percent"),
    ("12.5%", "twelve point five percent"),
    # times
    ("3:30", "three thirty"),
    ("3:05", "three oh five"),
    ("10:00", "ten o'clock"),
    ("7:30am", "seven thirty a m"),
    ("at 3:05 p.m. today", "at three oh five p m today"),
    ("15:45", "fifteen forty five"),
    # dates (US month/day with slashes; ISO)
    ("12/25/2019", "December twenty fifth, twenty nineteen"),
    ("on 1/5/1999.", "on January fifth, nineteen ninety nine."),
    ("2019-12-25", "December twenty fifth, twenty nineteen"),
    ("13/25/2019", "thirteen/twenty five/twenty nineteen"),  # no month 13: not a date
    ("on 25.12.2019.", "on December twenty fifth, twenty nineteen."),  # day.month.year
    ("1.2.2019", "February first, twenty nineteen"),
    ("12.25.2019", "twelve point twenty five point two thousand nineteen"),  # no month 25
    ("v1.2.2019", "version one point two point two thousand nineteen"),
    # fractions: proper, common denominators; others are left to the later rules
    ("3/4", "three quarters"),
    ("1/2", "one half"),
    ("3/2", "three/two"),
    ("2/3 cup", "two thirds cup"),
    ("5/16", "five sixteenths"),
    ("1/100", "one one hundredth"),
    ("1 1/2 cups", "one and a half cups"),
    ("2 3/4", "two and three quarters"),
    ("24/7", "twenty four/seven"),
    ("9/11", "nine/eleven"),
    # phone numbers (NANP); a bare 3-4 pair stays a range unless a keyword says phone
    ("(555) 555-0123", "five five five, five five five, zero one two three"),
    ("555-555-0123.", "five five five, five five five, zero one two three."),
    ("1-800-555-0199", "one, eight zero zero, five five five, zero one nine nine"),
    ("+1 212.555.0100", "one, two one two, five five five, zero one zero zero"),
    ("call 555-1234", "call five five five, one two three four"),
    ("Tel: 555-1234", "Tel: five five five, one two three four"),
    ("100-1000 people", "one hundred to one thousand people"),
    ("555-1234", "five hundred fifty five to twelve thirty four"),
    # versions and IPv4 addresses: three or more dotted numbers
    ("3.11.7", "three point eleven point seven"),
    ("v1.2.3", "version one point two point three"),
    ("v2.0 is out", "version two point zero is out"),
    ("v2.10", "version two point ten"),  # a version's parts are numbers, not decimals
    ("192.168.0.1.", "one hundred ninety two dot one hundred sixty eight dot zero dot one."),
    ("1.2.300.4", "one point two point three hundred point four"),  # not an IPv4 address
    ("at 3.5.", "at three point five."),
    # a lower-case v and one number is a version; an upper-case one is part of a name
    ("Python v3 is out", "Python version three is out"),
    ("a V8 engine", "a V eight engine"),
    # hours with a.m./p.m. but no minutes
    ("at 3pm", "at three p m"),
    ("11 PM today", "eleven p m today"),
    ("at 9 a.m., then", "at nine a m, then"),
    ("13pm", "thirteen pm"),  # no such hour: not a time
    # plurals of numbers, dimensions, scales written after an amount
    ("the 80s", "the eighties"),
    ("in his 40's", "in his forties"),
    ("two 747s", "two seven hundred forty sevens"),
    ("1,000s of fans", "thousands of fans"),
    ("6s and 7s", "sixes and sevens"),
    ("a 4x4 grid", "a four by four grid"),
    ("3 x 5 cards", "three by five cards"),
    ("$5m", "five million dollars"),
    ("£2.5bn", "two point five billion pounds"),
    ("$3k bonus", "three thousand dollars bonus"),
    # digits glued to letters stand apart, so neither is read as one odd word
    ("MP3 files", "MP three files"),
    ("3D printing", "three D printing"),
    ("H2O", "H two O"),
    ("Room 12B", "Room twelve B"),
    # signs before a number, and a ratio (what the time rule leaves)
    ("#1 hit", "number one hit"),
    ("~5 minutes", "about five minutes"),
    ("a 1:2 ratio", "a one to two ratio"),
    # ranges whose ends are spelled with words after the number
    ("10-15%", "ten to fifteen percent"),
    ("a -5% drop", "a minus five percent drop"),
    ("$10-$20", "ten dollars to twenty dollars"),
    ("$5m-$10m", "five million dollars to ten million dollars"),
    ("9am-5pm", "nine a m to five p m"),
    ("9:00-17:00", "nine o'clock to seventeen hundred"),
    # ISBNs digit by digit, in their printed groups
    ("ISBN 0-306-40615-2", "I S B N zero, three zero six, four zero six one five, two"),
]


@pytest.mark.parametrize("text,expected", NUMBER_CASES)
def test_expand_numbers(text, expected):
    assert expand_numbers(text) == expected


def test_number_words_helpers():
    assert cardinal(999_999) == "nine hundred ninety nine thousand nine hundred ninety nine"
    assert cardinal(2_000_001) == "two million one"
    assert ordinal(1_000_000) == "one millionth"
    assert ordinal(22) == "twenty second"
    assert year(1066) == "ten sixty six"
    # more than 15 digits: read digit by digit
    assert expand_numbers("1234567890123456") == (
        "one two three four five six seven eight nine zero one two three four five six"
    )


ABBREV_CASES = [
    ("Mr. Smith", "Mister Smith"),
    ("Mrs. Smith", "Misses Smith"),
    ("Dr. Jones", "Doctor Jones"),
    ("Prof. Lee", "Professor Lee"),
    ("Gen. Grant vs. Lee", "General Grant versus Lee"),
    ("St. Louis", "Saint Louis"),
    ("on Main St.", "on Main street."),
    ("Main St., Dallas", "Main street, Dallas"),
    ("John Smith Jr. said", "John Smith Junior said"),
    ("apples, pears, etc.", "apples, pears, et cetera."),
    ("e.g. cats", "for example cats"),
    ("i.e. dogs", "that is dogs"),
    ("No. 5", "number five"),
    ("Smith & Co.", "Smith and Company."),
    ("he is 6 ft. tall", "he is six feet tall"),
    ("at 90 km/h or 10 m/s", "at ninety kilometers per hour or ten m per second"),
    ("and/or", "and/or"),
    ("at 5 in the morning", "at five in the morning"),
    ("Ft. Worth", "Fort Worth"),
    ("on Jan. 3rd, 1999.", "on January third, nineteen ninety nine."),
    ("the U.S. economy", "the U S economy"),
    ("see pp. 4-5, cf. Vol. 2", "see pages four to five, compare Volume two"),
    ("at -5°C or 23 °F", "at minus five degrees Celsius or twenty three degrees Fahrenheit"),
    ("degrees C of freedom", "degrees C of freedom"),  # no number: not a temperature
    ("x² + 2³", "x squared plus two cubed"),
]


WEB_CASES = [
    ("Visit www.example.com.", "Visit w w w dot example dot com."),
    ("see https://github.com/a/b-c, then", "see github dot com slash a slash b dash c, then"),
    ("http://x.co.uk/p?id=3&y=4", "x dot co dot uk slash p question mark id equals three and y equals four"),
    ("Amazon.com sold it.", "Amazon dot com sold it."),
    ("mail jo.doe@example.org.", "mail jo dot doe at example dot org."),
    ("a_b+c@mail.example.io", "a underscore b plus c at mail dot example dot io"),
    ("WWW.EXAMPLE.COM", "w w w dot EXAMPLE dot COM"),
    # not addresses: abbreviations, file names, a missing space before a capital
    ("e.g. the U.S. report", "for example the U S report"),
    ("open report.txt now", "open report.txt now"),
    ("He left.In the end.", "He left.In the end."),
]  # fmt: skip


ROMAN_CASES = [
    ("World War II ended", "World War two ended"),
    ("after World War I.", "after World War one."),
    ("Chapter XIV", "Chapter fourteen"),
    ("CHAPTER VII.", "CHAPTER seven."),
    ("Act V, Scene II", "Act five, Scene two"),
    ("Henry VIII", "Henry the eighth"),
    ("Louis XIV's court", "Louis the fourteenth's court"),
    ("Queen Elizabeth II", "Queen Elizabeth the second"),
    # left alone: the pronoun, single letters after a name, lower case, non-numerals
    ("Civil War I think", "Civil War I think"),
    ("Chapter I'm sure", "Chapter I'm sure"),
    ("Malcolm X", "Malcolm X"),
    ("Then I went", "Then I went"),
    ("The IV", "The IV"),
    ("an IV drip", "an IV drip"),
    ("Type IIa", "Type IIa"),
    ("Type IIII", "Type IIII"),
    ("after the war I left", "after the war I left"),
]


@pytest.mark.parametrize("text,expected", ROMAN_CASES)
def test_roman_numerals_in_english_cleaner(text, expected):
    assert clean_text(text, ["english"]) == expected


def _to_roman(n: int) -> str:  # plain reference: greedy over the subtractive table
    out = ""
    for value, letters in [(100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"),
                           (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]:  # fmt: skip
        while n >= value:
            out, n = out + letters, n - value
    return out


def test_roman_numeral_values_and_pattern():
    import re

    valid = {_to_roman(n) for n in range(1, 400)}
    for n in range(1, 400):
        assert roman_to_int(_to_roman(n)) == n
        assert re.fullmatch(_roman, _to_roman(n))
    # every other string of the same letters (up to 4 long) is no numeral for the pattern
    import itertools

    for k in range(1, 5):
        for letters in itertools.product("IVXLC", repeat=k):
            word = "".join(letters)
            assert bool(re.fullmatch(_roman, word)) == (word in valid), word


@pytest.mark.parametrize("text,expected", WEB_CASES)
def test_web_addresses_in_english_cleaner(text, expected):
    assert clean_text(text, ["english"]) == expected


@pytest.mark.parametrize("text,expected", ABBREV_CASES)
def test_abbreviations_in_english_cleaner(text, expected):
    assert clean_text(text, ["english"]) == expected


def test_transliteration_quotes_whitespace():
    out = clean_text("  Café “déjà vu” — naïve\tÆsop’s  straße…  ", ["english"])
    assert out == 'Cafe "deja vu" - naive AEsop\'s strasse...'
    assert out.isascii()
    # characters with no ASCII spelling are kept, for the tokenizer to report as unknown
    assert clean_text("a 中 b", ["english"]) == "a 中 b"
    assert clean_text("A & B @ home", ["english"]) == "A and B at home"


def test_lowercase_is_separate_and_composable():
    assert clean_text("Hello World", ["english"]) == "Hello World"
    assert clean_text("Hello  World", ["english", "lowercase"]) == "hello world"
    assert clean_text("Mr.  X", ["basic"]) == "Mr. X"
    assert clean_text("Mr. X", "none") == "Mr. X"
    assert get_cleaner([])("unchanged  ") == "unchanged  "


def test_unknown_cleaner_lists_valid_names():
    with pytest.raises(ValueError, match="unknown cleaner 'englsh'.*english") as e:
        get_cleaner(["englsh"])
    for name in CLEANERS:
        assert name in str(e.value)
