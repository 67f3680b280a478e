"""The optional blank token (``add_blank``) and what it does to durations.

With ``add_blank`` the model reads ``[b, t1, b, t2, ..., b, tn, b]``: a blank
(id 0, ``<blank>``) at both edges and between every two tokens, so ``n``
tokens become ``2n + 1`` (twice the length, minus one, plus the two edges).
Blanks get frames from the alignment like any token, so durations written
for the model's input have ``2n + 1`` entries. To report durations per
original token, :func:`strip_blank_durations` either

- ``"drop"``: discards the blanks' frames (``n`` entries; the sum shrinks), or
- ``"merge"``: adds each blank's frames to the token that *follows* it, and
  the final edge blank's frames to the last token (``n`` entries; the sum,
  i.e. the utterance's frame count, is kept).

Token files (``dump/<set>/token``) never contain blanks; they are added when
the data are loaded, so the same file serves both settings.
"""

from __future__ import annotations

from collections.abc import Sequence

STRIP_MODES = ("drop", "merge")


def intersperse(ids: Sequence[int], blank_id: int = 0) -> list[int]:
    """``[t1, ..., tn]`` -> ``[b, t1, b, t2, ..., b, tn, b]`` (length ``2n + 1``)."""
    out = [blank_id] * (2 * len(ids) + 1)
    out[1::2] = list(ids)
    return out


def remove_blanks(ids: Sequence[int]) -> list[int]:
    """Inverse of :func:`intersperse`: the odd positions of a ``2n + 1`` sequence."""
    if len(ids) % 2 != 1:
        raise ValueError(f"an interspersed sequence has odd length 2n+1, got {len(ids)}")
    return list(ids[1::2])


def strip_blank_durations(durations: Sequence[int], mode: str = "merge") -> list[int]:
    """Per-original-token durations from durations of an interspersed sequence.

    Args:
        durations: ``2n + 1`` frame counts for ``[b, t1, b, ..., tn, b]`` (list or 1-D array).
        mode: ``"merge"`` (blank frames go to the following token, the last blank's to the
            last token; keeps the sum) or ``"drop"`` (blank frames discarded).

    Returns:
        ``n`` integer frame counts.
    """
    d = [int(x) for x in durations]
    if len(d) % 2 != 1:
        raise ValueError(f"durations of an interspersed sequence have odd length, got {len(d)}")
    if mode not in STRIP_MODES:
        raise ValueError(f"unknown mode {mode!r}; valid: {', '.join(STRIP_MODES)}")
    tokens = d[1::2]
    if mode == "drop" or not tokens:
        return tokens
    blanks = d[0::2]
    out = [t + b for t, b in zip(tokens, blanks[:-1])]
    out[-1] += blanks[-1]
    return out
