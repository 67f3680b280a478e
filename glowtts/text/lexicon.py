"""Pronunciation control for phoneme voices: ARPAbet phone checks and a user lexicon.

A lexicon file has one ``word PHONES`` entry a line, ``#`` starting a comment::

    # names the g2p gets wrong
    Nguyen    W IH1 N
    glowtts   G L OW1 T IY1 T IY1 EH1 S

Words are matched case-insensitively and must be what the phoneme front-end calls a word
(letters with inner apostrophes: ``o'brien``; hyphenated words are read as two words).
One pronunciation per word: a second entry for the same word is an error. Phones are
ARPAbet, with or without the stress digit; a voice that keeps stress needs the digit on
every vowel. A malformed line or an unknown phone is a :class:`PronunciationError`
naming ``file:line``.

The phoneme front-end looks a word up here before the homograph table, CMUdict and the
neural g2p (see :class:`glowtts.text.tokenizers.PhonemeTokenizer`); an experiment
carries its lexicon as ``lexicon.txt`` beside ``frontend.yaml`` and a call can add
entries with :meth:`glowtts.text.frontend.Frontend.with_lexicon`.

This module imports no torch (the ONNX runtime uses the text front-end).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Union

from glowtts.text.g2p import phone_inventory

ARPABET: frozenset[str] = frozenset(phone_inventory(True) + phone_inventory(False))
"""Every ARPAbet phone, vowels with and without a stress digit."""
VOWELS: frozenset[str] = frozenset(
    p for p in phone_inventory(False) if p not in phone_inventory(True)
)
"""The bare vowels (``AH``): a voice that keeps stress needs their digit."""
# the phoneme front-end's notion of a word (glowtts.text.g2p): letters, inner apostrophes
_WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")


class PronunciationError(ValueError):
    """Bad pronunciation input: unknown phone, malformed lexicon line, misplaced braces."""


def check_arpabet(phones: Sequence[str], where: str) -> None:
    """Raise :class:`PronunciationError` naming ``where`` when a phone is not ARPAbet."""
    bad = [p for p in phones if p not in ARPABET]
    if bad:
        raise PronunciationError(
            f"{where}: unknown phone(s) {' '.join(bad)}; ARPAbet phones are "
            f"{' '.join(phone_inventory(False))} (vowels with stress 0, 1 or 2)"
        )


LexiconSource = Union[str, os.PathLike, Mapping[str, str | Sequence[str]], "Lexicon"]


class Lexicon:
    """Word -> phones, words lower-cased; ``where[word]`` is the entry's ``file:line``."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[str, ...]] = {}
        self.where: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, word: str) -> bool:
        return word.lower() in self.entries

    def __repr__(self) -> str:
        return f"Lexicon({len(self)} words)"

    def get(self, word: str) -> tuple[str, ...] | None:
        """Phones of ``word`` (any case), or None."""
        return self.entries.get(word.lower())

    def add(self, word: str, phones: str | Sequence[str], where: str) -> None:
        """Add one entry; ``where`` (``file:line``) names it in errors."""
        if not isinstance(word, str) or not _WORD_RE.fullmatch(word):
            raise PronunciationError(
                f"{where}: {word!r} is not a word the phoneme front-end can match (letters "
                "with inner apostrophes only; a hyphenated word is read as two words)"
            )
        phones = tuple(phones.split() if isinstance(phones, str) else phones)
        if not phones:
            raise PronunciationError(f"{where}: no phones for {word!r}; expected 'word PHONES'")
        check_arpabet(phones, where)
        low = word.lower()
        if low in self.entries:
            raise PronunciationError(
                f"{where}: {word!r} already has a pronunciation ({self.where[low]}); "
                "one pronunciation per word"
            )
        self.entries[low] = phones
        self.where[low] = where

    @classmethod
    def parse(cls, lines: Iterable[str], source: str) -> Lexicon:
        """Entries of ``word PHONES`` lines; ``source`` names the file in errors."""
        lex = cls()
        for n, line in enumerate(lines, 1):
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            if len(fields) < 2:
                raise PronunciationError(
                    f"{source}:{n}: {line.strip()!r} is not 'word PHONES' (no phones)"
                )
            lex.add(fields[0], fields[1:], f"{source}:{n}")
        return lex

    @classmethod
    def load(cls, path: str | os.PathLike) -> Lexicon:
        """Read a lexicon file (UTF-8)."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"lexicon {path} not found")
        with open(path, encoding="utf-8") as f:
            return cls.parse(f, path)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str | Sequence[str]]) -> Lexicon:
        """Entries of ``{"word": "HH AH0 L OW1"}`` (or phone lists)."""
        lex = cls()
        for word, phones in mapping.items():
            lex.add(word, phones, f"lexicon entry {word!r}")
        return lex

    @classmethod
    def coerce(cls, source: LexiconSource) -> Lexicon:
        """A :class:`Lexicon` from a path, a mapping or a :class:`Lexicon`."""
        if isinstance(source, Lexicon):
            return source
        if isinstance(source, Mapping):
            return cls.from_mapping(source)
        if isinstance(source, (str, os.PathLike)):
            return cls.load(source)
        raise TypeError(f"a lexicon is a path, a mapping or a Lexicon, got {type(source)}")

    def updated(self, other: Lexicon) -> Lexicon:
        """A new lexicon: these entries, then ``other``'s (which win on the same word)."""
        out = Lexicon()
        out.entries = {**self.entries, **other.entries}
        out.where = {**self.where, **other.where}
        return out

    def save(self, path: str | os.PathLike) -> None:
        """Write ``word PHONES`` lines, sorted by word."""
        with open(path, "w", encoding="utf-8") as f:
            f.write("# glowtts user lexicon: word PHONES (ARPAbet), one pronunciation per word\n")
            for word in sorted(self.entries):
                f.write(f"{word} {' '.join(self.entries[word])}\n")
