"""Token types: cleaned text -> list of token strings.

==========  =====================================================================
name        tokens
==========  =====================================================================
``char``    characters; inventory: space, ``!"'(),-.:;?`` and a-z (plus A-Z when
            ``lowercase`` is false)
``phn``     ARPAbet phones from :mod:`glowtts.text.g2p` (offline g2p_en); options
            ``stress`` (keep the 0/1/2 stress digits, default true), ``word_sep``
            (a token put between words and punctuation, e.g. ``" "``; null: none),
            ``punctuation`` (keep ``! , - . : ; ?`` as tokens, default true),
            ``lexicon`` (a ``word PHONES`` file, see :mod:`glowtts.text.lexicon`);
            ``{HH AH0 L OW1}`` in the text spells one word
``bpe``     sentencepiece pieces; options ``nbpe`` (vocabulary size to train),
            ``model`` (path of the trained ``.model``), ``model_type``
            (``unigram`` | ``bpe`` | ``char`` | ``word``), ``character_coverage``
==========  =====================================================================

``official`` (the official Glow-TTS symbols: english_cleaners + CMUdict in braces) is
in :mod:`glowtts.text.official`.

``TOKENIZERS`` is the name -> class table; :func:`get_tokenizer_class` raises
ValueError listing the valid names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from glowtts.text.cleaners import INLINE_PHONEMES_RE
from glowtts.text.g2p import PUNCTUATION, phone_inventory
from glowtts.text.lexicon import VOWELS, Lexicon, PronunciationError, check_arpabet
from glowtts.text.token_list import UNK


class Tokenizer:
    """Base class. Subclasses set ``name``, ``defaults``, ``default_lowercase``."""

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    default_lowercase: ClassVar[bool] = True
    inline_phonemes: ClassVar[bool] = False  # reads {HH AH0 L OW1} (phoneme voices)

    def __init__(self, conf: dict[str, Any] | None = None, base_dir: str | None = None) -> None:
        conf = dict(conf or {})
        unknown = set(conf) - set(self.defaults)
        if unknown:
            raise ValueError(
                f"text.{self.name}: unknown key(s) {sorted(unknown)}; "
                f"valid: {sorted(self.defaults)}"
            )
        self.conf = {**self.defaults, **conf}
        self.base_dir = base_dir

    def tokenize(self, text: str) -> list[str]:
        """Tokens of cleaned ``text``; unknown characters may come back as ``<unk>``."""
        raise NotImplementedError

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Best-effort text of ``tokens`` (for logs and round-trip checks)."""
        return "".join(tokens)

    def inventory(self) -> list[str]:
        """Every token this type can produce for in-domain text (the token list's base)."""
        raise NotImplementedError

    def resolved_conf(self, out_dir: str | None = None) -> dict[str, Any]:
        """This type's config section, with paths relative to ``out_dir`` when given."""
        return dict(self.conf)


class CharTokenizer(Tokenizer):
    """One token per character."""

    name = "char"
    defaults: ClassVar[dict[str, Any]] = {}
    default_lowercase = True
    PUNCT = " !\"'(),-.:;?"

    def __init__(self, conf=None, base_dir=None, lowercase: bool = True) -> None:
        super().__init__(conf, base_dir)
        self.lowercase = lowercase

    def tokenize(self, text: str) -> list[str]:
        return list(text)

    def inventory(self) -> list[str]:
        letters = "abcdefghijklmnopqrstuvwxyz"
        return list(self.PUNCT + letters + ("" if self.lowercase else letters.upper()))


class PhonemeTokenizer(Tokenizer):
    """ARPAbet phones via the offline g2p (the g2p data load on first use, ~0.5 s).

    Pronunciation control: ``{HH AH0 L OW1}`` in the text spells one word with those
    phones, and a user lexicon (option ``lexicon``: a ``word PHONES`` file, relative to
    the yaml; see :mod:`glowtts.text.lexicon`) is looked up before CMUdict and the g2p.
    Both go through the voice's phone mapping (:meth:`map_phones`): without ``stress``
    the digits are dropped; with it a bare vowel is an error. Once the front-end has
    bound its token list (:meth:`bind_token_list`), a phone outside it is an error that
    lists the phones the voice knows.
    """

    name = "phn"
    defaults: ClassVar[dict[str, Any]] = {
        "stress": True,
        "word_sep": None,
        "punctuation": True,
        "lexicon": None,
    }
    default_lowercase = False  # the POS tagger uses case; CMUdict lookup ignores it
    inline_phonemes = True
    _stress_re = re.compile(r"[0-2]$")

    def __init__(self, conf=None, base_dir=None, lowercase: bool = False) -> None:
        super().__init__(conf, base_dir)
        sep = self.conf["word_sep"]
        if sep is not None and (not isinstance(sep, str) or sep in ("", "<blank>", UNK)):
            raise ValueError(f"text.phn.word_sep must be null or a token string, got {sep!r}")
        self.stress = bool(self.conf["stress"])
        self.word_sep: str | None = sep
        self.punctuation = bool(self.conf["punctuation"])
        self.known_phones: frozenset[str] | None = None  # set by bind_token_list
        self.lexicon = Lexicon()  # as written (for saving); _lexicon: mapped to this voice
        self._lexicon: dict[str, tuple[str, ...]] = {}
        if self.conf["lexicon"]:
            self.set_lexicon(Lexicon.load(self.lexicon_path))

    @property
    def lexicon_path(self) -> str:
        path = self.conf["lexicon"]
        return (
            os.path.join(self.base_dir, path) if self.base_dir and not os.path.isabs(path) else path
        )

    def _phone(self, p: str) -> str:
        if not self.stress:
            return self._stress_re.sub("", p)
        if p[-1] not in "012" and p[:2] in _VOWEL_SET:  # the OOV model's rare bare "UW"
            return p + "0"
        return p

    def bind_token_list(self, tokens: Iterable[str]) -> None:
        """Check user phones against these tokens (the voice's list) from now on."""
        extra = set(PUNCTUATION) | {self.word_sep, "<blank>", UNK}
        self.known_phones = frozenset(t for t in tokens if t not in extra)
        self.set_lexicon(self.lexicon)  # re-check the lexicon against the voice

    def map_phones(self, phones: Sequence[str], where: str) -> list[str]:
        """User-written ARPAbet -> this voice's phones; ``where`` names the source in errors.

        Raises:
            PronunciationError: no phones, a phone that is not ARPAbet or that the voice
                does not know (the message lists the ones it knows), or a vowel without
                stress digit in a voice that keeps stress.
        """
        if not phones:
            raise PronunciationError(f"{where}: no phones between the braces")
        check_arpabet(phones, where)
        if self.stress:
            bare = [p for p in phones if p in VOWELS]
            if bare:
                raise PronunciationError(
                    f"{where}: vowel(s) {' '.join(bare)} need a stress digit (0, 1 or 2): "
                    "this voice keeps stress"
                )
        out = [self._phone(p) for p in phones]
        if self.known_phones is not None:
            bad = [p for p in out if p not in self.known_phones]
            if bad:
                raise PronunciationError(
                    f"{where}: phone(s) {' '.join(bad)} unknown to this voice; it knows "
                    f"{' '.join(sorted(self.known_phones))}"
                )
        return out

    def set_lexicon(self, lexicon: Lexicon) -> None:
        """Use ``lexicon`` (checked against this voice's phones; errors name file:line)."""
        self._lexicon = {
            w: tuple(self.map_phones(p, lexicon.where[w])) for w, p in lexicon.entries.items()
        }
        self.lexicon = lexicon

    def tokenize(self, text: str) -> list[str]:
        from glowtts.text.g2p import get_g2p

        _check_braces(text)
        out: list[str] = []
        for kind, item in get_g2p()(text, self._lexicon):
            if kind == "word":
                toks = [self._phone(p) for p in item]
            elif kind == "phones":
                toks = self.map_phones(item, f"inline phonemes {{{' '.join(item)}}}")
            elif kind == "punct" and not self.punctuation:
                continue
            else:  # punctuation, or an unknown character (left for the token list to map)
                toks = item
            if not toks:
                continue
            if out and self.word_sep is not None:
                out.append(self.word_sep)
            out.extend(toks)
        return out

    def detokenize(self, tokens: Sequence[str]) -> str:
        return " ".join(tokens)

    def inventory(self) -> list[str]:
        inv = phone_inventory(self.stress)
        if self.punctuation:
            inv += list(PUNCTUATION)
        if self.word_sep is not None:
            inv.append(self.word_sep)
        return inv

    def resolved_conf(self, out_dir: str | None = None) -> dict[str, Any]:
        conf = dict(self.conf)
        if conf["lexicon"]:
            path = self.lexicon_path
            conf["lexicon"] = os.path.relpath(path, out_dir) if out_dir else path
        return conf


def _check_braces(text: str) -> None:
    """Refuse a brace outside a ``{...}`` pair: half-written inline phonemes."""
    rest = INLINE_PHONEMES_RE.sub(" ", text)
    if "{" in rest or "}" in rest:
        raise PronunciationError(
            f"unbalanced brace in {text!r}: inline phonemes are written {{HH AH0 L OW1}}, "
            "one word a pair, without nested braces"
        )


_VOWEL_SET = {
    "AA",
    "AE",
    "AH",
    "AO",
    "AW",
    "AY",
    "EH",
    "ER",
    "EY",
    "IH",
    "IY",
    "OW",
    "OY",
    "UH",
    "UW",
}


class BPETokenizer(Tokenizer):
    """Sentencepiece pieces; the model is trained by :func:`train_bpe` (recipe stage 2)."""

    name = "bpe"
    defaults: ClassVar[dict[str, Any]] = {
        "nbpe": 500,
        "model": None,
        "model_type": "unigram",
        "character_coverage": 1.0,
    }
    default_lowercase = True

    def __init__(self, conf=None, base_dir=None, lowercase: bool = True) -> None:
        super().__init__(conf, base_dir)
        self._sp = None

    @property
    def model_path(self) -> str:
        model = self.conf["model"]
        if not model:
            raise ValueError(
                "text.bpe.model is not set: train the model first "
                "(glowtts-make-token-list --token_type bpe, recipe stage 2)"
            )
        if self.base_dir and not os.path.isabs(model):
            model = os.path.join(self.base_dir, model)
        return model

    @property
    def sp(self):
        if self._sp is None:
            import sentencepiece as spm

            path = self.model_path
            if not os.path.isfile(path):
                raise FileNotFoundError(f"sentencepiece model {path} not found (recipe stage 2)")
            self._sp = spm.SentencePieceProcessor(model_file=path)
        return self._sp

    def tokenize(self, text: str) -> list[str]:
        return self.sp.encode(text, out_type=str)

    def detokenize(self, tokens: Sequence[str]) -> str:
        return self.sp.decode_pieces([t for t in tokens if t != UNK])

    def inventory(self) -> list[str]:
        sp = self.sp
        return [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if not sp.is_unknown(i)]

    def resolved_conf(self, out_dir: str | None = None) -> dict[str, Any]:
        conf = dict(self.conf)
        if conf["model"]:
            path = self.model_path
            conf["model"] = os.path.relpath(path, out_dir) if out_dir else path
        return conf


def train_bpe(
    sentences: Iterable[str],
    model_path: str,
    nbpe: int,
    model_type: str = "unigram",
    character_coverage: float = 1.0,
) -> str:
    """Train a sentencepiece model on cleaned sentences; writes ``model_path`` (.model).

    The vocabulary holds ``nbpe`` pieces at most (fewer when the text is too small), id 0
    being sentencepiece's ``<unk>``; no bos/eos. The text is taken as already normalised
    (identity normalisation), so decoding returns exactly the cleaned text.
    """
    import sentencepiece as spm

    if not model_path.endswith(".model"):
        raise ValueError(f"model_path must end with .model: {model_path}")
    sentences = [s for s in sentences if s.strip()]
    if not sentences:
        raise ValueError("no text to train the sentencepiece model on")
    os.makedirs(os.path.dirname(os.path.abspath(model_path)), exist_ok=True)
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences),
            model_prefix=model_path[: -len(".model")],
            vocab_size=int(nbpe),
            model_type=model_type,
            character_coverage=character_coverage,
            normalization_rule_name="identity",
            hard_vocab_limit=False,
            unk_id=0,
            bos_id=-1,
            eos_id=-1,
            pad_id=-1,
            num_threads=1,
            minloglevel=2,
        )
    except RuntimeError as e:
        raise ValueError(f"sentencepiece training failed (nbpe={nbpe}): {e}") from None
    return model_path


# imported here, after Tokenizer exists: official.py subclasses it
from glowtts.text.official import OfficialTokenizer  # noqa: E402

TOKENIZERS: dict[str, type[Tokenizer]] = {
    "char": CharTokenizer,
    "phn": PhonemeTokenizer,
    "bpe": BPETokenizer,
    "official": OfficialTokenizer,
}


def get_tokenizer_class(name: str) -> type[Tokenizer]:
    """The tokenizer class registered as ``name``; ValueError lists the valid names."""
    try:
        return TOKENIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown token_type {name!r}; valid: {', '.join(sorted(TOKENIZERS))}"
        ) from None
