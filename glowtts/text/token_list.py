"""Token lists: ``tokens.txt``, one token per line, id = 0-based line number.

Reserved ids (every token type):

- ``0``: ``<blank>``, the blank interspersed between tokens when
  ``add_blank`` is on (see :mod:`glowtts.text.blanks`); always present so that
  ids do not move when the option changes.
- ``1``: ``<unk>``, every token not in the list.

Then the tokens of the token type: for ``char`` and ``phn`` sorted by Unicode
code point (stable: the same set of tokens always gives the same ids); for
``bpe`` in the sentencepiece model's id order. A space token is written as
``<space>`` (a line cannot hold a bare space).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

BLANK = "<blank>"
UNK = "<unk>"
SPACE = "<space>"
BLANK_ID = 0
UNK_ID = 1


class TokenList:
    """Bidirectional token <-> id map with ``<blank>`` = 0 and ``<unk>`` = 1."""

    def __init__(self, tokens: Sequence[str]) -> None:
        """Args: tokens: the full list, id order, starting with ``<blank>``, ``<unk>``."""
        tokens = list(tokens)
        if tokens[:2] != [BLANK, UNK]:
            raise ValueError(f"a token list must start with {BLANK}, {UNK}; got {tokens[:2]}")
        seen: dict[str, int] = {}
        for i, tok in enumerate(tokens):
            if not tok or (tok != " " and any(c.isspace() for c in tok)):
                raise ValueError(f"token {i} ({tok!r}) is empty or holds whitespace")
            if tok in seen:
                raise ValueError(f"token {tok!r} appears twice (ids {seen[tok]} and {i})")
            seen[tok] = i
        self.tokens: list[str] = tokens
        self.token2id: dict[str, int] = seen

    @classmethod
    def from_tokens(cls, tokens: Iterable[str], sort: bool = True) -> TokenList:
        """Build from content tokens (reserved ones are added in front, duplicates dropped).

        Args:
            tokens: the token type's tokens.
            sort: sort by code point (char, phn); False keeps the given order (bpe).
        """
        content = [t for t in dict.fromkeys(tokens) if t not in (BLANK, UNK)]
        if sort:
            content.sort()
        return cls([BLANK, UNK, *content])

    @classmethod
    def load(cls, path: str | os.PathLike) -> TokenList:
        """Read ``tokens.txt``."""
        with open(path, encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f]
        if lines and lines[-1] == "":
            lines.pop()
        try:
            return cls([" " if t == SPACE else t for t in lines])
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None

    def save(self, path: str | os.PathLike) -> None:
        """Write ``tokens.txt`` (space as ``<space>``)."""
        with open(path, "w", encoding="utf-8") as f:
            for t in self.tokens:
                f.write((SPACE if t == " " else t) + "\n")

    @property
    def blank_id(self) -> int:
        return BLANK_ID

    @property
    def unk_id(self) -> int:
        return UNK_ID

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.token2id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenList) and self.tokens == other.tokens

    def __repr__(self) -> str:
        return f"TokenList({len(self)} tokens)"

    def id(self, token: str) -> int:
        """Id of ``token`` (``<unk>``'s id when absent)."""
        return self.token2id.get(token, UNK_ID)

    def ids(self, tokens: Iterable[str]) -> list[int]:
        """Ids of ``tokens``; absent ones map to ``<unk>``."""
        get = self.token2id.get
        return [get(t, UNK_ID) for t in tokens]

    def tokens_of(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids``."""
        return [self.tokens[int(i)] for i in ids]
