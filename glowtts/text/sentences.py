"""A small English sentence splitter: text -> sentences, the text itself unchanged.

A sentence ends at ``.``, ``!`` or ``?`` (closing quotes and brackets included) followed by
white space and a capital letter, a digit, an opening quote/bracket or inline phonemes
``{...}``; or at a blank line. A period after a title or common abbreviation (``Dr.``,
``St.``, ``e.g.``), a single capital (the initial in ``J. Smith``) or an initialism
(``U.S.``) does not end one. Used to put ``--sentence_silence`` between sentences
(:func:`glowtts.text.ssml.insert_sentence_breaks`); no torch, no cleaning.
"""

from __future__ import annotations

import re

from glowtts.text.cleaners import TITLE_ABBREVIATIONS

_boundary_re = re.compile(r"[.!?]+[\"')\]]*\s+(?=[\"'(\[{]?[A-Z0-9{])|\n[ \t]*\n\s*")
_last_word_re = re.compile(r"(\S+)\.[\"')\]]*\s*$")
_initialism_re = re.compile(r"(?:[A-Za-z]\.)*[A-Za-z]")


def _abbreviation_before(head: str) -> bool:
    """Whether the period ending ``head`` belongs to an abbreviation."""
    m = _last_word_re.search(head)
    if m is None:
        return False
    word = m.group(1).lstrip("\"'([")
    return (
        word.lower() in TITLE_ABBREVIATIONS
        or (len(word) == 1 and word.isupper())
        or bool(_initialism_re.fullmatch(word) and "." in word)
    )


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, stripped, in order (``"".join`` loses only the white space
    between them). ``"Dr. Smith came. He sat."`` -> ``["Dr. Smith came.", "He sat."]``."""
    out: list[str] = []
    start = 0
    for m in _boundary_re.finditer(text):
        head = text[start : m.end()]
        if not m.group(0).startswith("\n") and _abbreviation_before(head):
            continue
        if head.strip():
            out.append(head.strip())
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends with sentence-final punctuation (not an abbreviation's period)."""
    text = text.rstrip()
    return bool(re.search(r"[.!?][\"')\]]*$", text)) and not (
        re.search(r"\.[\"')\]]*$", text) and _abbreviation_before(text)
    )
