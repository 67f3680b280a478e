"""The text front-end: cleaners + token type + token list (+ optional blanks).

The YAML ``text:`` section (every key optional; defaults shown)::

    text:
      token_type: char        # char | phn | bpe (see glowtts.text.tokenizers)
      cleaners: [english]     # names from glowtts.text.cleaners.CLEANERS, applied in order
      lowercase: null         # null: the token type decides (char, bpe: true; phn: false)
      add_blank: false        # true: blank (id 0) between tokens and at both edges: 2n+1 inputs
      token_list: null        # tokens.txt; null: the token type's own inventory
      phn: {stress: true, word_sep: null, punctuation: true, lexicon: null}
      bpe: {nbpe: 500, model: null, model_type: unigram, character_coverage: 1.0}
      official: {cmudict: true, dictionary: null}   # token_type official only; it
                                                    # cleans itself: cleaners default []

Recipe stage 2 (``glowtts-make-token-list``) resolves this into
``data/token_list/<type>/{frontend.yaml,tokens.txt[,bpe.model]}``, paths
relative to the yaml, so the directory is self-contained: training copies it
into the experiment dir (:meth:`Frontend.save`) and decoding/synthesis load it
from there (:meth:`Frontend.from_file`), so a model always meets the front-end
it was trained with.

Pronunciation control (phoneme voices): ``{HH AH0 L OW1}`` in a text spells one word;
a user lexicon (``word PHONES`` lines, :mod:`glowtts.text.lexicon`) comes from
``text.phn.lexicon`` (saved as ``lexicon.txt`` beside ``frontend.yaml``; a
``lexicon.txt`` found there is used even when the yaml does not name it) and, per
call, from :meth:`Frontend.with_lexicon`.
"""

from __future__ import annotations

import copy
import logging
import os
from collections import Counter
from typing import Any

import yaml

from glowtts.text.blanks import intersperse
from glowtts.text.cleaners import INLINE_PHONEMES_RE, get_cleaner
from glowtts.text.lexicon import Lexicon, LexiconSource, PronunciationError
from glowtts.text.token_list import BLANK, BLANK_ID, TokenList
from glowtts.text.tokenizers import get_tokenizer_class

logger = logging.getLogger("glowtts.text")

DEFAULTS: dict[str, Any] = {
    "token_type": "char",
    "cleaners": ["english"],
    "lowercase": None,
    "add_blank": False,
    "token_list": None,
    "phn": {},
    "bpe": {},
    "official": {},
}
# token types with options of their own (a section named after the type)
_TYPE_SECTIONS = ("phn", "bpe", "official")
FRONTEND_FILE = "frontend.yaml"
TOKENS_FILE = "tokens.txt"
BPE_FILE = "bpe.model"
LEXICON_FILE = "lexicon.txt"


class EmptyTextError(ValueError):
    """The text of an utterance is empty after cleaning."""


class UnknownTextError(EmptyTextError):
    """Every speakable token of a text is outside the voice's token list: nothing to say."""


def resolve_conf(conf: dict[str, Any] | None) -> dict[str, Any]:
    """Fill defaults into a ``text:`` section and reject unknown keys (names the valid ones)."""
    conf = copy.deepcopy(dict(conf or {}))
    unknown = set(conf) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"text: unknown key(s) {sorted(unknown)}; valid: {sorted(DEFAULTS)}")
    out = {**copy.deepcopy(DEFAULTS), **conf}
    cls = get_tokenizer_class(out["token_type"])  # fail early on a bad name
    if getattr(cls, "own_cleaners", False) and "cleaners" not in conf:
        out["cleaners"] = []
    if isinstance(out["cleaners"], str):
        out["cleaners"] = [out["cleaners"]]
    out["cleaners"] = list(out["cleaners"] or [])
    if getattr(cls, "own_cleaners", False) and out["cleaners"]:
        raise ValueError(
            f"text: token_type {cls.name} runs its own cleaners; "
            f"cleaners must be empty, got {out['cleaners']}"
        )
    for key in _TYPE_SECTIONS:
        out[key] = dict(out[key] or {})
    return out


class Frontend:
    """Text -> token ids, as configured by a YAML ``text:`` section.

    Attributes:
        conf: the resolved config.
        token_list: the :class:`TokenList` (``<blank>`` = 0, ``<unk>`` = 1).
        add_blank: whether :meth:`encode` intersperses blanks.
    """

    def __init__(
        self,
        conf: dict[str, Any] | None = None,
        token_list: TokenList | None = None,
        base_dir: str | None = None,
    ) -> None:
        """Args:
        conf: the ``text:`` section.
        token_list: overrides ``conf["token_list"]``.
        base_dir: directory that relative paths in ``conf`` are relative to.
        """
        self.conf = resolve_conf(conf)
        self.base_dir = base_dir
        cls = get_tokenizer_class(self.conf["token_type"])
        lowercase = self.conf["lowercase"]
        if lowercase is None:
            lowercase = cls.default_lowercase
        self.lowercase = bool(lowercase)
        self.tokenizer = cls(self.conf.get(cls.name), base_dir, lowercase=self.lowercase)
        self._clean = get_cleaner(self.conf["cleaners"] + (["lowercase"] if self.lowercase else []))
        self.add_blank = bool(self.conf["add_blank"])
        if token_list is None and self.conf["token_list"]:
            token_list = TokenList.load(self._path(self.conf["token_list"]))
        if token_list is None:
            token_list = TokenList.from_tokens(
                self.tokenizer.inventory(), sort=getattr(cls, "sorted_inventory", cls.name != "bpe")
            )
        self.token_list = token_list
        if hasattr(self.tokenizer, "bind_token_list"):  # user phones are checked against it
            self.tokenizer.bind_token_list(token_list.tokens)

    def _path(self, p: str) -> str:
        return os.path.join(self.base_dir, p) if self.base_dir and not os.path.isabs(p) else p

    # ------------------------------------------------------------ text -> ids

    @property
    def token_type(self) -> str:
        return self.conf["token_type"]

    @property
    def vocab_size(self) -> int:
        """Number of ids (embedding rows), blank and unk included."""
        return len(self.token_list)

    def clean(self, text: str) -> str:
        """The configured cleaners (plus lower case when the token type wants it)."""
        return self._clean(text)

    def tokenize(self, text: str) -> list[str]:
        """Cleaned tokens of raw ``text`` (tokens absent from the token list are kept)."""
        cleaned = self.clean(text)
        self._check_inline(cleaned, None)
        return self.tokenizer.tokenize(cleaned)

    def convert(self, text: str, utt: str | None = None) -> tuple[list[int], Counter]:
        """Ids without blanks, and a Counter of the unknown characters/tokens mapped to ``<unk>``.

        Raises:
            EmptyTextError: nothing is left after cleaning (the message names ``utt``).
        """
        cleaned = self.clean(text)
        self._check_inline(cleaned, utt)
        tokens = self.tokenizer.tokenize(cleaned) if cleaned.strip() else []
        if not tokens:
            raise EmptyTextError(
                f"utterance {utt or '<unnamed>'}: text is empty after cleaning "
                f"(input: {text!r}); fix or remove it from the data dir's text file"
            )
        ids = self.token_list.ids(tokens)
        unknown: Counter = Counter()
        if self.token_list.unk_id in ids:
            for tok, i in zip(tokens, ids):
                if i == self.token_list.unk_id:
                    unknown[tok] += 1
        return ids, unknown

    def text_to_ids(self, text: str, utt: str | None = None) -> list[int]:
        """Token ids of ``text`` WITHOUT blanks (what ``dump/<set>/token`` holds).

        Unknown characters map to ``<unk>`` (id 1) with a warning counting them.

        Raises:
            UnknownTextError: no token with a letter or digit is known to the voice (the
                model would render only ``<unk>``, i.e. noise); the message lists them.
        """
        ids, unknown = self.convert(text, utt)
        if unknown:
            unk = self.token_list.unk_id
            if not any(i != unk and _speaks(t) for t, i in zip(self.tokenize(text), ids)):
                raise UnknownTextError(
                    f"utterance {utt or '<unnamed>'}: the voice knows none of the letters of "
                    f"{text!r} (unknown: {' '.join(repr(t) for t in unknown)}); "
                    + self._inventory()
                )
            warn_unknown(utt, unknown)
        return ids

    def _check_inline(self, cleaned: str, utt: str | None) -> None:
        """Inline phonemes need a voice that reads them (official ones handle braces)."""
        tok = self.tokenizer
        if tok.inline_phonemes or getattr(tok, "own_cleaners", False):
            return
        m = INLINE_PHONEMES_RE.search(cleaned)
        if m:
            raise PronunciationError(
                f"utterance {utt or '<unnamed>'}: inline phonemes {m.group(0)} need a phoneme "
                f"voice; this voice's token type is {self.token_type}, it has no phonemes: "
                "write the word in letters"
            )

    def with_lexicon(self, lexicon: LexiconSource) -> Frontend:
        """A copy of this front-end whose lexicon also has ``lexicon``'s entries (a path,
        a ``{"word": "PHONES"}`` mapping or a :class:`Lexicon`); they win over the
        experiment's entries for the same word. This front-end is unchanged.

        Raises:
            PronunciationError: the voice is not a phoneme voice, or an entry is malformed
                or uses a phone the voice does not know (named by ``file:line``).
        """
        if not hasattr(self.tokenizer, "set_lexicon"):
            raise PronunciationError(
                f"a lexicon needs a phoneme voice; this voice's token type is {self.token_type}"
            )
        new = copy.copy(self)
        new.tokenizer = copy.copy(self.tokenizer)
        new.tokenizer.conf = dict(self.tokenizer.conf)  # save() writes into it
        new.tokenizer.set_lexicon(self.tokenizer.lexicon.updated(Lexicon.coerce(lexicon)))
        return new

    def _inventory(self) -> str:
        """What the voice can read, for error messages."""
        if self.token_type == "char":
            known = "".join(t for t in self.token_list.tokens[2:] if _speaks(t))
            return f"it knows: {known!r}"
        return f"its {self.token_type} tokens are listed in tokens.txt beside frontend.yaml"

    def add_blanks(self, ids: list[int]) -> list[int]:
        """Intersperse blanks when ``add_blank`` is on (``2n + 1`` ids), else ``ids``."""
        return intersperse(ids, BLANK_ID) if self.add_blank else list(ids)

    def encode(self, text: str, utt: str | None = None) -> list[int]:
        """Model input ids of ``text``: :meth:`text_to_ids` then :meth:`add_blanks`."""
        return self.add_blanks(self.text_to_ids(text, utt))

    def decode(self, ids: list[int]) -> str:
        """Text of ids (blanks dropped): exact for bpe/char, space-joined phones for phn."""
        toks = [t for t in self.token_list.tokens_of(ids) if t != BLANK]
        return self.tokenizer.detokenize(toks)

    def differences(self, conf: dict[str, Any] | None) -> list[str]:
        """Keys where a YAML ``text:`` section disagrees with this (stage-2) front-end.

        Paths and the bpe section are not compared (the trained ``bpe.model`` is what
        counts; recipes pass ``--nbpe`` on the command line). Lets training refuse a
        config whose text section changed after stage 2 wrote the token list.
        """
        other_conf = resolve_conf(conf)
        diffs = []
        for key in ("token_type", "cleaners", "add_blank"):
            if other_conf[key] != self.conf[key]:
                diffs.append(f"{key}: {other_conf[key]!r} != {self.conf[key]!r}")
        cls = type(self.tokenizer)
        lower = other_conf["lowercase"]
        if lower is None:
            lower = cls.default_lowercase
        if other_conf["token_type"] == self.token_type and bool(lower) != self.lowercase:
            diffs.append(f"lowercase: {bool(lower)!r} != {self.lowercase!r}")
        if cls.name == "phn" and other_conf["token_type"] == self.token_type:
            mine = self.tokenizer.conf
            theirs = {**cls.defaults, **other_conf[cls.name]}
            for key in cls.defaults:
                if key != "lexicon" and theirs[key] != mine[key]:  # a path: not compared
                    diffs.append(f"{cls.name}.{key}: {theirs[key]!r} != {mine[key]!r}")
        return diffs

    # ------------------------------------------------------------ files

    def to_dict(self, out_dir: str | None = None) -> dict[str, Any]:
        """The resolved config; paths relative to ``out_dir`` (``token_list`` -> tokens.txt)."""
        conf = copy.deepcopy(self.conf)
        conf["lowercase"] = self.lowercase
        cls = type(self.tokenizer)
        for name in _TYPE_SECTIONS:
            conf.pop(name, None)
        if cls.name in DEFAULTS:  # a type with options (phn, bpe) writes its section
            conf[cls.name] = self.tokenizer.resolved_conf(out_dir)
        conf["token_list"] = TOKENS_FILE
        return conf

    def save(self, out_dir: str) -> str:
        """Write a self-contained ``frontend.yaml`` + ``tokens.txt`` (+ ``bpe.model``) in
        ``out_dir``; returns the yaml's path."""
        import shutil

        os.makedirs(out_dir, exist_ok=True)
        self.token_list.save(os.path.join(out_dir, TOKENS_FILE))
        if self.token_type == "bpe":
            src = self.tokenizer.model_path
            dst = os.path.join(out_dir, BPE_FILE)
            if os.path.abspath(src) != os.path.abspath(dst):
                shutil.copyfile(src, dst)
            self.tokenizer.conf["model"] = os.path.abspath(dst)
        if self.token_type == "official" and self.tokenizer.conf["cmudict"]:
            # the dictionary travels with the model: a different one changes the ids
            src = self.tokenizer.dictionary_path
            dst = os.path.join(out_dir, os.path.basename(src))
            if os.path.abspath(src) != os.path.abspath(dst):
                shutil.copyfile(src, dst)
            self.tokenizer.conf["dictionary"] = os.path.abspath(dst)
        if self.token_type == "phn":
            self._save_lexicon(out_dir)
        conf = self.to_dict(out_dir)
        path = os.path.join(out_dir, FRONTEND_FILE)
        with open(path, "w", encoding="utf-8") as f:
            f.write(
                "# glowtts text front-end (written by glowtts-make-token-list / Frontend.save);\n"
                "# paths are relative to this file. See glowtts/text/frontend.py for the keys.\n"
            )
            yaml.safe_dump(conf, f, sort_keys=False, allow_unicode=True)
        return path

    def _save_lexicon(self, out_dir: str) -> None:
        """The lexicon in use (experiment's and with_lexicon's) as ``lexicon.txt``."""
        tok = self.tokenizer
        dst = os.path.join(out_dir, LEXICON_FILE)
        if len(tok.lexicon):
            same = os.path.isfile(dst) and Lexicon.load(dst).entries == tok.lexicon.entries
            if not same:  # keep a hand-written file (and its comments) that says the same
                tok.lexicon.save(dst)
            tok.conf["lexicon"] = os.path.abspath(dst)
        else:
            tok.conf["lexicon"] = None

    @classmethod
    def from_file(cls, path: str) -> Frontend:
        """Load a ``frontend.yaml`` (relative paths are relative to its directory)."""
        if os.path.isdir(path):
            path = os.path.join(path, FRONTEND_FILE)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{path} not found: run recipe stage 2 (glowtts-make-token-list) first"
            )
        with open(path, encoding="utf-8") as f:
            conf = yaml.safe_load(f) or {}
        base_dir = os.path.dirname(os.path.abspath(path))
        phn = conf.get("phn") or {}
        if (
            conf.get("token_type") == "phn"
            and not phn.get("lexicon")
            and os.path.isfile(os.path.join(base_dir, LEXICON_FILE))
        ):  # a lexicon dropped beside the yaml of a trained voice
            logger.info("using the lexicon %s", os.path.join(base_dir, LEXICON_FILE))
            conf["phn"] = {**phn, "lexicon": LEXICON_FILE}
        return cls(conf, base_dir=base_dir)


def _speaks(token: str) -> bool:
    # letters, digits or phones make sound; white space and punctuation only pause
    return any(ch.isalnum() for ch in token)


def warn_unknown(utt: str | None, unknown: Counter) -> None:
    """Log how many unknown characters an utterance had, and which."""
    detail = ", ".join(f"{tok!r} x{n}" for tok, n in unknown.most_common())
    logger.warning(
        "utterance %s: %d unknown character(s)/token(s) mapped to <unk>: %s",
        utt or "<unnamed>",
        sum(unknown.values()),
        detail,
    )


def build_frontend(conf: dict[str, Any] | None, base_dir: str | None = None) -> Frontend:
    """Build the front-end from a YAML ``text:`` section (see the module docstring)."""
    return Frontend(conf, base_dir=base_dir)
