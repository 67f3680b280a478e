"""Recipe stage 2 work: build the token list / front-end dir and tokenize data dirs.

Used by the console scripts ``glowtts-make-token-list`` and ``glowtts-tokenize``
(thin mains in :mod:`glowtts.bin`).

Token list contents per type (ids as in :mod:`glowtts.text.token_list`):

- ``char``: the char inventory plus every other character seen in the
  training text after cleaning (logged), unless ``inventory_only``;
- ``phn``: the full ARPAbet inventory (with/without stress), punctuation and
  the word separator; characters with no pronunciation stay ``<unk>``;
- ``bpe``: the pieces of the sentencepiece model trained on the cleaned
  training text (``bpe.model`` in the output dir).

Both steps first screen the text (:func:`screen_texts`): characters foreign to the
script the cleaners produce are a WARNING naming each character (code point and
Unicode name) and the utterances holding it; an utterance with no letter or digit
after cleaning (empty, or only punctuation) is *bad*. With ``skip_bad`` every utterance
that is bad or holds a foreign character is dropped, logged and listed (``utt reason``
lines) in a ``skipped`` file beside the output, so its characters never enter the
token list; without it a bad utterance is an error naming them all and the fix.
"""

from __future__ import annotations

import logging
import os
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from glowtts.data.kaldi import atomic_open, atomic_write_text, read_int_table, read_table
from glowtts.text.cleaners import _resolve, get_cleaner, transliterate
from glowtts.text.frontend import (
    BPE_FILE,
    EmptyTextError,
    Frontend,
    resolve_conf,
    warn_unknown,
)
from glowtts.text.token_list import UNK, TokenList
from glowtts.text.tokenizers import BPETokenizer, train_bpe

logger = logging.getLogger("glowtts.text")


SKIPPED_FILE = "skipped"
_MAX_NAMED = 50  # utterances named per character in the log (the skipped file has them all)


class BadTextError(EmptyTextError):
    """Utterances of a stage-2 text have no letter or digit after cleaning."""


def cleaners_transliterate(cleaners: Sequence[str]) -> bool:
    """Whether the cleaner pipeline ``cleaners`` (names) includes the ``transliterate`` step."""
    return any(fn is transliterate for name in cleaners for fn in _resolve(name))


def is_foreign(ch: str, ascii_only: bool) -> bool:
    """Whether ``ch`` is outside the script that the cleaners produce.

    The rule: printable ASCII (U+0020-U+007E) is never foreign. A pipeline with the
    ``transliterate`` step (``english``, ``ascii``; ``ascii_only``) spells everything it can
    in ASCII, so any other character that survives it had no ASCII spelling (emoji, CJK,
    Arabic or Hebrew letters, right-to-left marks...) and is foreign. Without that step
    (``basic``, ``none``) the cleaners keep every script, so letters (Unicode categories
    L*), combining marks (M*), numbers (N*) and punctuation (P*) of any script are text;
    symbols (S*: emoji, dingbats, non-ASCII math and currency signs), control, format,
    private-use and unassigned code points (C*: e.g. direction marks, zero-width joiners)
    and separators other than the space (Z*) are never speech, so they are foreign.
    """
    if " " <= ch <= "~":
        return False
    if ascii_only:
        return True
    return unicodedata.category(ch)[0] not in "LMNP"


def describe_char(ch: str) -> str:
    """``U+1F600 '😀' GRINNING FACE`` (the category for a character without a name)."""
    name = unicodedata.name(ch, "") or f"<unnamed, category {unicodedata.category(ch)}>"
    return f"U+{ord(ch):04X} {ch!r} {name}"


@dataclass
class TextScreen:
    """What :func:`screen_texts` found in a Kaldi ``text``.

    Attributes:
        foreign: foreign character -> the utterances holding it (input order).
        bad: utterance -> its text after cleaning, for those with no letter or digit.
    """

    foreign: dict[str, list[str]] = field(default_factory=dict)
    bad: dict[str, str] = field(default_factory=dict)

    def reasons(self) -> dict[str, str]:
        """``utt -> reason`` of every utterance that ``skip_bad`` drops."""
        out: dict[str, str] = {}
        for utt, cleaned in self.bad.items():
            out[utt] = f"no letter or digit after cleaning: {cleaned!r}"
        for ch, utts in self.foreign.items():
            for utt in utts:
                prev = out.get(utt, "")
                if "foreign" not in prev:
                    prev = (prev + "; " if prev else "") + "foreign character(s):"
                out[utt] = f"{prev} U+{ord(ch):04X}"
        return out


def screen_texts(
    texts: Sequence[tuple[str, str]], clean: Callable[[str], str], ascii_only: bool
) -> TextScreen:
    """Find foreign characters (:func:`is_foreign`) and bad utterances in ``(utt, text)``."""
    screen = TextScreen()
    for utt, text in texts:
        cleaned = clean(text)
        if not any(ch.isalnum() for ch in cleaned):
            screen.bad[utt] = cleaned
        for ch in dict.fromkeys(cleaned):
            if is_foreign(ch, ascii_only):
                screen.foreign.setdefault(ch, []).append(utt)
    return screen


def _named(utts: list[str]) -> str:
    more = len(utts) - _MAX_NAMED
    return " ".join(utts[:_MAX_NAMED]) + (f" (and {more} more)" if more > 0 else "")


def check_texts(
    texts: list[tuple[str, str]],
    conf: dict[str, Any],
    text_path: str,
    skip_bad: bool,
    skipped_path: str,
) -> list[tuple[str, str]]:
    """Screen a stage-2 text: warn about foreign characters; drop or refuse bad utterances.

    Args:
        texts: ``(utt, transcript)`` pairs of ``text_path``.
        conf: the resolved ``text:`` section (its cleaners decide the script).
        skip_bad: drop (and list in ``skipped_path``) bad and foreign-character utterances.

    Returns:
        the utterances to use (all of them without ``skip_bad``).

    Raises:
        BadTextError: without ``skip_bad``, utterances with no letter or digit (all named).
    """
    ascii_only = cleaners_transliterate(conf["cleaners"])
    screen = screen_texts(texts, get_cleaner(conf["cleaners"]), ascii_only)
    if screen.foreign:
        rule = "ASCII after transliteration" if ascii_only else "letters/digits/punctuation"
        logger.warning(
            "%s: %d character(s) outside what the cleaners %s produce (%s)%s:\n  %s",
            text_path, len(screen.foreign), conf["cleaners"], rule,
            "; their utterances are dropped (--skip_bad true)" if skip_bad else
            "; they become tokens (char) or <unk>: fix the text, or pass --skip_bad true "
            "to drop these utterances",
            "\n  ".join(f"{describe_char(ch)} in {_named(u)}" for ch, u in screen.foreign.items()),
        )  # fmt: skip
    if not skip_bad:
        if screen.bad:
            shown = [f"{u} ({t!r})" for u, t in screen.bad.items()]
            raise BadTextError(
                f"{text_path}: {len(screen.bad)} utterance(s) have no letter or digit after "
                f"cleaning (nothing to say): {_named(shown)}; fix or remove them in the text "
                "(then utils/fix_data_dir.sh), or pass --skip_bad true to drop them"
            )
        return texts
    found = screen.reasons()
    reasons = {u: found[u] for u, _ in texts if u in found}  # in text order
    atomic_write_text(skipped_path, "".join(f"{u} {r}\n" for u, r in reasons.items()))
    if reasons:
        logger.warning(
            "%s: dropped %d of %d utterance(s) (listed in %s): %s",
            text_path, len(reasons), len(texts), skipped_path, _named(list(reasons)),
        )  # fmt: skip
    return [(u, t) for u, t in texts if u not in reasons]


def default_skipped_path(token_path: str) -> str:
    """Where ``tokenize_file --skip_bad`` lists dropped utterances: ``<token_path>.skipped``."""
    return f"{token_path}.{SKIPPED_FILE}"


def read_kaldi_text(path: str) -> Iterator[tuple[str, str]]:
    """Yield ``(utt_id, transcript)`` from a Kaldi ``text`` file (``utt-id words...``).

    A line holding only an id yields an empty transcript; a repeated id is an error.
    """
    yield from read_table(path, allow_empty_value=True).items()


def make_token_list(
    conf: dict[str, Any] | None,
    text_path: str,
    out_dir: str,
    inventory_only: bool = False,
    skip_bad: bool = False,
) -> Frontend:
    """Build ``out_dir/{frontend.yaml,tokens.txt[,bpe.model]}`` from a ``text:`` section.

    Args:
        conf: the YAML ``text:`` section (CLI overrides already applied).
        text_path: Kaldi ``text`` of the training set.
        out_dir: e.g. ``data/token_list/<type>``.
        inventory_only: char: do not add characters seen in the text beyond the inventory.
        skip_bad: drop bad and foreign-character utterances (listed in ``out_dir/skipped``)
            instead of failing; their characters stay out of the token list.

    Raises:
        BadTextError: without ``skip_bad``, utterances with no letter or digit after
            cleaning (all named).
    """
    conf = resolve_conf(conf)
    conf["token_list"] = None
    os.makedirs(out_dir, exist_ok=True)
    texts = list(read_kaldi_text(text_path))
    if not texts:
        raise ValueError(f"{text_path} holds no utterances")
    texts = check_texts(texts, conf, text_path, skip_bad, os.path.join(out_dir, SKIPPED_FILE))
    if not texts:
        raise ValueError(f"{text_path}: every utterance was skipped; nothing to train on")
    if conf["token_type"] == "bpe":
        # train on the text exactly as the front-end will clean it
        lower = conf["lowercase"]
        if lower is None:
            lower = BPETokenizer.default_lowercase
        cleaner = get_cleaner(conf["cleaners"] + (["lowercase"] if lower else []))
        bpe = {**conf["bpe"]}
        nbpe = bpe.get("nbpe", 500)
        model = os.path.join(out_dir, BPE_FILE)
        train_bpe(
            (cleaner(t) for _, t in texts),
            model,
            nbpe,
            model_type=bpe.get("model_type", "unigram"),
            character_coverage=bpe.get("character_coverage", 1.0),
        )
        bpe["model"] = os.path.abspath(model)
        conf["bpe"] = bpe
    frontend = Frontend(conf)
    # Tokenize everything once: validates the text (empty utterances) and collects tokens.
    seen: dict[str, int] = {}
    n_unk_utts = 0
    for utt, text in texts:
        _, unknown = frontend.convert(text, utt)
        if unknown:
            n_unk_utts += 1
            for tok, n in unknown.items():
                seen[tok] = seen.get(tok, 0) + n
    if frontend.token_type == "char" and seen and not inventory_only:
        extra = sorted(t for t in seen if t != UNK)
        logger.info("adding %d character(s) seen in %s to the token list: %s",
                    len(extra), text_path, " ".join(repr(t) for t in extra))  # fmt: skip
        tl = TokenList.from_tokens(frontend.token_list.tokens + extra)
        frontend = Frontend(conf, token_list=tl)
    elif seen:
        logger.warning(
            "%d utterance(s) of %s have tokens outside the %s token list (mapped to <unk>): %s",
            n_unk_utts, text_path, frontend.token_type,
            ", ".join(f"{t!r} x{n}" for t, n in sorted(seen.items(), key=lambda x: -x[1])),
        )  # fmt: skip
    path = frontend.save(out_dir)
    logger.info("wrote %s and %d tokens to %s", path, len(frontend.token_list), out_dir)
    return frontend


def tokenize_file(
    frontend: Frontend,
    text_path: str,
    out_path: str,
    skip_bad: bool = False,
    skipped_path: str | None = None,
) -> dict[str, int]:
    """Write ``utt id1 id2 ...`` lines (ids WITHOUT blanks) for a Kaldi ``text`` file.

    Blanks are never written: the data loader intersperses them when ``add_blank``
    is on, so the same file serves both settings. Unknown characters map to
    ``<unk>`` with a warning per utterance. The text is screened first
    (:func:`check_texts`): utterances with no letter or digit after cleaning raise
    :class:`BadTextError` naming them all, or with ``skip_bad`` they and those with
    foreign characters are dropped and listed in ``skipped_path`` (default
    ``<out_path>.skipped``). The file is written to a temporary name and renamed, so a
    failure leaves no partial output.

    Returns:
        counts: ``utts``, ``tokens``, ``unk_utts``, ``unk_tokens``, ``skipped``.
    """
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    texts = list(read_kaldi_text(text_path))
    n_all = len(texts)
    skipped_path = skipped_path or default_skipped_path(out_path)
    texts = check_texts(texts, frontend.conf, text_path, skip_bad, skipped_path)
    stats = {"utts": 0, "tokens": 0, "unk_utts": 0, "unk_tokens": 0, "skipped": n_all - len(texts)}
    with atomic_open(out_path) as f:
        for utt, text in texts:
            ids, unknown = frontend.convert(text, utt)
            if unknown:
                warn_unknown(utt, unknown)
                stats["unk_utts"] += 1
                stats["unk_tokens"] += sum(unknown.values())
            stats["utts"] += 1
            stats["tokens"] += len(ids)
            f.write(utt + " " + " ".join(map(str, ids)) + "\n")
    return stats


def read_token_file(path: str) -> dict[str, list[int]]:
    """Read ``dump/<set>/token`` (``utt id1 id2 ...``) into ``{utt: ids}``."""
    return read_int_table(path)
