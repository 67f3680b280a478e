"""Word and token timings of a synthesis, from the durations the model used.

The audio of a request is a sequence of pieces: speech chunks (model input ids and the
frames of each id) and silences (pauses between chunks, SSML breaks). :func:`timings`
turns them into::

    {"sample_rate": 22050, "seconds": 3.1,
     "tokens": [{"token": "h", "start": 0.0, "end": 0.07}, ...,
                {"token": "<pause>", "start": 1.2, "end": 1.4}, ...],
     "words":  [{"word": "hello", "start": 0.0, "end": 0.41}, ...]}

- ``tokens`` tile the audio: each starts where the previous ends, the first at 0 and the
  last at the audio's end; silences are ``<pause>`` tokens. Blanks (``add_blank`` voices)
  are merged into their neighbours: half of a blank's frames (rounded down) go to the
  token before it, the rest to the token after (all of it at the start or end of a chunk).
- A chunk's frames are spread over the samples the vocoder returned for it, so the times
  are exact even when a vocoder trims or pads a few samples.
- ``words`` are the whitespace-separated words of the chunk's text when each word,
  tokenized alone, is found in order in the chunk's tokens (:func:`word_spans`; so phoneme
  voices, whose tokens carry no spaces, get words too); a word's time runs from its first
  token's start to its last token's end. Otherwise (e.g. a cleaner expanded text across
  words) words are runs of tokens between word separators (a space token, or a bpe piece
  starting with ``▁``), named by the front-end's detokenized run. Silences and separators
  belong to no word.

No torch here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..text.token_list import BLANK_ID

PAUSE = "<pause>"


def merge_blanks(ids: Sequence[int], durations: Sequence[int]) -> list[tuple[int, int]]:
    """``[(id, frames)]`` of the non-blank ids, each blank's frames shared between its
    neighbours (the one before gets ``frames // 2``). The frame total is unchanged."""
    out: list[list[int]] = []
    carry = 0  # frames a leading blank passes on to the next token
    for i, d in zip(ids, durations):
        d = int(d)
        if i != BLANK_ID:
            out.append([i, d + carry])
            carry = 0
        elif out:
            out[-1][1] += d // 2
            carry += d - d // 2
        else:
            carry += d
    if carry:
        if out:
            out[-1][1] += carry
        elif ids:  # a chunk of blanks only: keep its time as a blank
            out.append([BLANK_ID, carry])
    return [(i, d) for i, d in out]


def _word_start(token: str) -> bool:
    return token.startswith("▁")


def _is_separator(token: str) -> bool:
    return token.strip() == "" or token == "▁"


def word_spans(
    words: Sequence[str], tokens: Sequence[str], tokenize: Callable[[str], list[str]]
) -> list[tuple[str, int, int]] | None:
    """``[(word, first token, end token)]`` of ``words`` in ``tokens`` (tokens between
    words may only be separators), or None when a word's own tokens are not found there."""
    spans, pos = [], 0
    for word in words:
        wt = tokenize(word)
        if not wt:
            continue
        while pos < len(tokens) and list(tokens[pos : pos + len(wt)]) != wt:
            if not _is_separator(tokens[pos]):
                return None
            pos += 1
        if list(tokens[pos : pos + len(wt)]) != wt:
            return None
        spans.append((word, pos, pos + len(wt)))
        pos += len(wt)
    if not all(_is_separator(t) for t in tokens[pos:]):
        return None
    return spans


def timings(
    pieces: Sequence[tuple[Any, ...]],
    sample_rate: int,
    token_of: Callable[[Sequence[int]], list[str]],
    detokenize: Callable[[list[str]], str],
    tokenize: Callable[[str], list[str]] | None = None,
) -> dict[str, Any]:
    """Timings of a request (``tokenize``: raw text -> tokens, for :func:`word_spans`).

    Args:
        pieces: in audio order, ``("speech", ids, durations, n_samples, text)`` or
            ``("silence", n_samples)``; ``durations`` are frames per id (blanks included),
            ``text`` the chunk's text (None: words from separators only).
        sample_rate: Hz.
        token_of: ids -> token strings (``TokenList.tokens_of``).
        detokenize: token strings of one word -> its text.
    """
    tokens: list[dict[str, Any]] = []
    words: list[dict[str, Any]] = []
    offset = 0  # samples before the current piece

    def sec(samples: float) -> float:
        return samples / sample_rate

    for piece in pieces:
        if piece[0] == "silence":
            n = int(piece[1])
            if n:
                tokens.append({"token": PAUSE, "start": sec(offset), "end": sec(offset + n)})
            offset += n
            continue
        _, ids, durations, n, text = piece
        merged = merge_blanks(ids, durations)
        total = sum(d for _, d in merged) or 1
        names = token_of([i for i, _ in merged])
        first = len(tokens)
        cum = 0
        for name, (_, d) in zip(names, merged):
            start = offset + cum * n / total
            cum += d
            end = offset + n if cum == total else offset + cum * n / total
            tokens.append({"token": name, "start": sec(start), "end": sec(end)})
        spans = word_spans(text.split(), names, tokenize) if text and tokenize else None
        if spans is not None:
            for word, a, b in spans:
                words.append(
                    {
                        "word": word,
                        "start": tokens[first + a]["start"],
                        "end": tokens[first + b - 1]["end"],
                    }
                )
        else:
            _separator_words(tokens[first:], words, detokenize)
        offset += n
    return {"sample_rate": sample_rate, "seconds": sec(offset), "tokens": tokens, "words": words}


def _separator_words(chunk: list[dict[str, Any]], words: list, detokenize: Callable) -> None:
    run: list[dict[str, Any]] = []
    for tok in chunk:
        name = tok["token"]
        if _is_separator(name) or (_word_start(name) and run):
            _close_word(run, words, detokenize)
            run = []
        if not _is_separator(name):
            run.append(tok)
    _close_word(run, words, detokenize)


def _close_word(run: list[dict[str, Any]], words: list, detokenize: Callable) -> None:
    if run:
        text = detokenize([t["token"] for t in run]).strip()
        words.append({"word": text, "start": run[0]["start"], "end": run[-1]["end"]})
