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
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from glowtts.data.kaldi import atomic_open, read_int_table, read_table
from glowtts.text.cleaners import get_cleaner
from glowtts.text.frontend import BPE_FILE, Frontend, resolve_conf, warn_unknown
from glowtts.text.token_list import UNK, TokenList
from glowtts.text.tokenizers import BPETokenizer, train_bpe

logger = logging.getLogger("glowtts.text")


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
) -> Frontend:
    """Build ``out_dir/{frontend.yaml,tokens.txt[,bpe.model]}`` from a ``text:`` section.

    Args:
        conf: the YAML ``text:`` section (CLI overrides already applied).
        text_path: Kaldi ``text`` of the training set.
        out_dir: e.g. ``data/token_list/<type>``.
        inventory_only: char: do not add characters seen in the text beyond the inventory.

    Raises:
        EmptyTextError: an utterance is empty after cleaning (named in the message).
    """
    conf = resolve_conf(conf)
    conf["token_list"] = None
    os.makedirs(out_dir, exist_ok=True)
    texts = list(read_kaldi_text(text_path))
    if not texts:
        raise ValueError(f"{text_path} holds no utterances")
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


def tokenize_file(frontend: Frontend, text_path: str, out_path: str) -> dict[str, int]:
    """Write ``utt id1 id2 ...`` lines (ids WITHOUT blanks) for a Kaldi ``text`` file.

    Blanks are never written: the data loader intersperses them when ``add_blank``
    is on, so the same file serves both settings. Unknown characters map to
    ``<unk>`` with a warning per utterance; empty text after cleaning raises
    :class:`~glowtts.text.frontend.EmptyTextError` naming the utterance. The file is
    written to a temporary name and renamed, so a failure leaves no partial output.

    Returns:
        counts: ``utts``, ``tokens``, ``unk_utts``, ``unk_tokens``.
    """
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    stats = {"utts": 0, "tokens": 0, "unk_utts": 0, "unk_tokens": 0}
    with atomic_open(out_path) as f:
        for utt, text in read_kaldi_text(text_path):
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
