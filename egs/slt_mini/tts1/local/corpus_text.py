"""Sentence lists for synthetic corpora: speakable sentences chosen for phonetic coverage.

The embedded recipe (``egs/slt_mini/tts1``) synthesises its corpus with Festival from a
sentence list. The project's own sentences (``local/sentences.txt``) come first; to scale
to thousands of sentences this module adds sentences from large offline English text
sources that Debian packages install (the list is made on the user's machine, not shipped):

- ``fortunes``: the fortune cookie files of ``fortunes-min`` and ``fortunes``
  (``/usr/share/games/fortunes``): quotations, jokes, proverbs; real punctuation,
  numbers and abbreviations.
- ``wordnet``: the usage examples in the glosses of ``wordnet-base``
  (``/usr/share/wordnet/data.{noun,verb,adj,adv}``): short modern sentences written
  for each sense of ~150k English words, so they cover the lexicon broadly.

Pipeline (all deterministic: sources are read in a fixed order, ties break by position):

1. :func:`read_fortune_passages` / :func:`read_wordnet_passages`: passages (one
   cookie, one gloss) -> :func:`split_sentences`.
2. :func:`is_speakable`: 20-250 characters, ASCII letters, digits and ordinary
   punctuation only, starts with a capital, ends with ``. ! ?``, balanced quotes and
   brackets, no URLs, shouting, ellipses or letter/digit mixtures. Numbers and
   abbreviations are kept: the front-end's cleaners expand them.
3. :func:`text_key` dedupes case- and punctuation-insensitively, own sentences first.
4. :func:`select_sentences`: the own sentences, then a lazy greedy choice that
   maximises weighted diphone coverage (phones from the ``phn`` front-end), so every
   added sentence brings the rarest units it can.

Held-out sentences: the LJSpeech data prep makes the LAST ``n_dev + n_eval`` lines of
``metadata.csv`` the dev and eval sets. The list keeps its selection order, so they are
the last greedy picks: sentences whose units are already covered by the training part.
Dedupe makes every normalised text unique in the list, so no held-out sentence also
appears (up to case and punctuation) in training.

:func:`long_sentences` makes a separate list of long utterances (> 250 characters, joined
from consecutive sentences of one passage when needed) for a long-form alignment eval;
none of their sentences appears in the main list.
"""

from __future__ import annotations

import heapq
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

FORTUNE_DIR = "/usr/share/games/fortunes"
WORDNET_DIR = "/usr/share/wordnet"
SOURCES = ("fortunes", "wordnet")
# Debian packages that install each source (see egs/slt_mini/tts1/local/README.md).
DEBIAN_PACKAGES = {"fortunes": ("fortunes-min", "fortunes"), "wordnet": ("wordnet-base",)}
# Fortune files left out: pictures, program code, shell tips, verse written line by line,
# and the two collections whose jokes are mostly about groups of people.
FORTUNE_EXCLUDE = frozenset(
    {
        "ascii-art",
        "art",
        "computers",
        "debian",
        "linux",
        "linuxcookie",
        "perl",
        "songs-poems",
        "translate-me",
        "ethnic",
        "men-women",
    }
)
MIN_LEN = 20
MAX_LEN = 250

# --------------------------------------------------------------------------- splitting

# A period after these does not end a sentence (compared lower-case, without the dot).
_ABBREV = frozenset(
    "mr mrs ms dr st jr sr prof mt ft vs etc e.g i.e no nos gen col lt sgt capt cmdr rev "
    "hon ave blvd rd inc ltd co corp dept univ est approx fig vol ch pp p ed eds jan feb "
    "mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun u.s u.k a.m p.m".split()
)
# End of a sentence: . ! ? (plus closing quotes/brackets), white space, then what may start
# the next one.
_BOUNDARY_RE = re.compile(r"(?<=[.!?])([\"')\]]*)\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split running text (white space already collapsed) into sentences.

    A boundary is ``. ! ?`` (plus closing quotes) then a space and a capital or digit,
    except after a known abbreviation (``Dr.``, ``e.g.``) or a single capital (an
    initial, ``J. Smith``).
    """
    out: list[str] = []
    start = 0
    for m in _BOUNDARY_RE.finditer(text):
        end = m.start(1) if m.group(1) else m.start()
        if text[end - 1] == ".":
            word = text[start:end].rsplit(None, 1)[-1].lstrip("\"'([").rstrip(".").lower()
            if word in _ABBREV or (len(word) == 1 and word.isalpha()):
                continue
        cut = m.end(1)
        out.append(text[start:cut].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


# --------------------------------------------------------------------------- filtering

_ALLOWED_RE = re.compile(r"[A-Za-z0-9 .,;:!?'\"()$%&-]+")
_END_RE = re.compile(r"[.!?][\"')]?$")
_START_RE = re.compile(r"[\"'(]?[A-Z0-9]")
_BAD_RE = re.compile(
    r"https?|www\.|\.(com|org|net|edu)\b|\.\.|[!?]{2}|--|\s[-.,;:!?]|\(\)|''|\"\""
    # a comma/colon needs a space or closing quote after it, or digits on both sides (7:45)
    r"|(?<!\d)[,;:](?![\s\"')])|(?<=\d)[,;:](?![\s\"')\d])"
    r"|\b[A-Z]{5,}\b|\b[A-Z']{2,}\s+[A-Z]{2,}\b"  # shouting
    r"|[A-Za-z]{2,}\.[A-Za-z]|\.:"  # comp.arch, www-style names; "Reformed, n.: A synagogue"
    r"|\b(?=\w*[A-Za-z])(?=\w*\d)(?!\d+(st|nd|rd|th|s)\b)\w+"  # h4x0r, 3D, but not 1990s
)
# Typographic characters with a plain ASCII equivalent.
_ASCII_MAP = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def is_speakable(s: str, min_len: int = MIN_LEN, max_len: int = MAX_LEN) -> bool:
    """Whether ``s`` is one clean sentence a TTS front-end reads without surprises.

    ``min_len <= len(s) <= max_len``; only ASCII letters, digits, spaces and
    ``.,;:!?'"()$%&-``; starts with a capital/digit (optionally after an opening quote),
    ends with ``. ! ?`` (optionally before a closing quote); at least 4 words and 80 %
    letters or digits among the non-space characters; balanced double quotes and brackets; no
    URL, dotted name (``comp.arch``), ellipsis, ``!!``, ``--``, all-caps word of 5+
    letters or two all-caps words in a row, or letter/digit mixture.
    """
    if not (min_len <= len(s) <= max_len) or not _ALLOWED_RE.fullmatch(s):
        return False
    if not _START_RE.match(s) or not _END_RE.search(s) or _BAD_RE.search(s):
        return False
    if s.count('"') % 2 or s.count("(") != s.count(")") or len(s.split()) < 4:
        return False
    depth = 0
    for c in s:  # ")" before "(" is not balanced
        depth += (c == "(") - (c == ")")
        if depth < 0:
            return False
    chars = s.replace(" ", "")
    return sum(c.isalnum() for c in chars) >= 0.8 * len(chars)


def text_key(s: str) -> str:
    """Case- and punctuation-insensitive identity of a sentence (the dedupe key)."""
    return " ".join(re.findall(r"[a-z0-9]+", s.lower()))


# --------------------------------------------------------------------------- sources


@dataclass
class Passage:
    """Consecutive sentences of one source unit (a fortune cookie, a WordNet gloss)."""

    source: str  # "fortunes/<file>" or "wordnet/<pos>"
    sentences: list[str] = field(default_factory=list)


_OVERSTRIKE_RE = re.compile(r".\x08")


def _clean_fortune(cookie: str) -> str | None:
    """One cookie's text as one line, attribution and stage directions dropped; None when
    it is not prose (indented or dialogue-formatted lines, program text, verse)."""
    lines = []
    for line in _OVERSTRIKE_RE.sub("", cookie).translate(_ASCII_MAP).split("\n"):
        stripped = line.strip()
        if re.match(r"(--|~|\u2014)", stripped):
            break  # "-- Mark Twain" and everything after it is attribution
        if stripped:
            lines.append((line, stripped))
    if not lines:
        return None
    # Dialogue ("Q: ... A: ...", "Kirk: ..."), indented quotes, and verse (3+ short lines
    # that each start with a capital and lack end punctuation) would join into run-ons.
    if any(re.match(r"\w[\w .']{0,20}:\s", s) for _, s in lines):
        return None
    if sum(ln[:1].isspace() for ln, _ in lines) > 1:
        return None
    verse = [s for _, s in lines if len(s) < 60 and s[0].isupper() and s[-1] not in ".!?\"'"]
    if len(lines) >= 3 and len(verse) >= len(lines) // 2 + 1:
        return None
    return " ".join(s for _, s in lines)


def read_fortune_passages(
    directory: str = FORTUNE_DIR, files: Sequence[str] | None = None
) -> list[Passage]:
    """Cookies of the fortune files in ``directory`` (``files``: names to read; default all
    but :data:`FORTUNE_EXCLUDE`), split into sentences, in sorted file order."""
    if files is None:
        names = sorted(
            n
            for n in os.listdir(directory)
            if "." not in n and n not in FORTUNE_EXCLUDE and os.path.isfile(f"{directory}/{n}")
        )
    else:
        names = list(files)
    out = []
    for name in names:
        with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as f:
            text = f.read()
        for cookie in re.split(r"^%\s*$", text, flags=re.M):
            line = _clean_fortune(cookie)
            if line:
                out.append(Passage(f"fortunes/{name}", split_sentences(" ".join(line.split()))))
    return out


def _wordnet_sentence(example: str) -> str:
    s = " ".join(example.translate(_ASCII_MAP).split())
    if s and s[0].islower():
        s = s[0].upper() + s[1:]
    return s if _END_RE.search(s) else s + "."


def read_wordnet_passages(directory: str = WORDNET_DIR) -> list[Passage]:
    """Usage examples (the double-quoted parts of each gloss) of WordNet's data files.

    Examples are lower-case fragments without end punctuation: the first letter is
    capitalised and a period added. Many are noun phrases ("a weak financial state"),
    which :func:`looks_like_clause` later drops.
    """
    out = []
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(directory, f"data.{pos}"), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):  # the licence header
                    continue
                gloss = line.partition(" | ")[2]
                examples = re.findall(r'"([^"]+)"', gloss)
                if examples:
                    out.append(Passage(f"wordnet/{pos}", [_wordnet_sentence(e) for e in examples]))
    return out


_FINITE_TAGS = frozenset({"VBD", "VBZ", "VBP", "MD"})


def looks_like_clause(words_tags: Sequence[tuple[str, str]]) -> bool:
    """A finite verb (Penn VBD/VBZ/VBP/MD) and a subject-like start: keeps "The old man
    was nodding." and drops "In a weak financial state.", "Running for office." or
    "Got the job through sheer persistence."."""
    tags = [t for _, t in words_tags]
    if not _FINITE_TAGS.intersection(tags):
        return False
    # a verb first is a fragment without subject ("Had a great stake."); VB (imperative)
    # and VBP/MD (questions: "Do you...", "Can we...") are kept
    return tags[0] not in ("IN", "TO", "VBD", "VBZ", "VBG", "VBN", "CC", "RB", ",")


# --------------------------------------------------------------------------- units


def phone_units(phones: Sequence[str]) -> tuple[tuple[str, ...], int]:
    """Coverage units of a phone sequence and its number of phones.

    Units: diphones of stress-less phones with ``#`` at the edges and at punctuation
    (pauses), plus stressed vowels as single units (``AH0`` and ``AH1`` sound different).
    Returns ``(units, n_phones)``, the units sorted: scores then sum in a fixed order,
    whatever the interpreter's string hash seed, so selections are reproducible bit for bit.
    """
    seq = ["#"]
    units = set()
    n = 0
    for p in phones:
        if p[-1] in "012":
            units.add(p)
            seq.append(p[:-1])
            n += 1
        elif p[:1].isalpha():
            seq.append(p)
            n += 1
        elif seq[-1] != "#":  # punctuation: a pause
            seq.append("#")
    if seq[-1] != "#":
        seq.append("#")
    units.update(f"{a}_{b}" for a, b in zip(seq, seq[1:]))
    return tuple(sorted(units)), n


def diphones(units: Iterable[str]) -> set[str]:
    """The diphone units (``A_B``) among ``units``."""
    return {u for u in units if "_" in u}


def make_phonemizer() -> Callable[[str], list[str]]:
    """Text -> ARPAbet tokens with the project's ``phn`` front-end (cleaners expand numbers
    and abbreviations first, as training will)."""
    from glowtts.text.frontend import build_frontend

    return build_frontend({"token_type": "phn"}).tokenize


# --------------------------------------------------------------------------- selection


# 0.25: 3000 sentences average ~77 characters (0.5: ~64, 0: ~86) with the same coverage.
LENGTH_POWER = 0.25


def unit_weight(count: int) -> float:
    """Worth of one more sentence containing a unit already in ``count`` chosen sentences:
    1 for a new unit, then falling fast, so new units dominate and, once all are covered,
    the rare ones keep being balanced."""
    return 1.0 / (1 + count) ** 2


def select_greedy(
    cand_units: Sequence[Sequence[str]],
    cand_len: Sequence[int],
    n: int,
    counts: dict[str, int] | None = None,
    length_power: float = LENGTH_POWER,
) -> list[int]:
    """Indices of ``n`` candidates chosen one by one for the largest weighted unit gain.

    Score of a candidate: ``sum(unit_weight(counts[u]) for u in its units) / len **
    length_power`` with ``len`` its number of phones (a small power stops long sentences
    winning only by being long, without favouring short fragments). Scores only fall as
    ``counts`` grow, so a lazy heap gives exactly the greedy choice while rescoring only
    candidates that reach the top. Ties go to the lower index. ``counts`` (unit ->
    sentences holding it; updated in place) starts from the sentences already chosen.
    """
    counts = {} if counts is None else counts

    def score(i: int) -> float:
        gain = sum(unit_weight(counts.get(u, 0)) for u in cand_units[i])
        return gain / max(cand_len[i], 1) ** length_power

    heap = [(-score(i), i) for i in range(len(cand_units))]
    heapq.heapify(heap)
    chosen: list[int] = []
    while heap and len(chosen) < n:
        _, i = heapq.heappop(heap)
        s = -score(i)
        if heap and (s, i) > heap[0]:  # stale: it lost ground, so re-queue it
            heapq.heappush(heap, (s, i))
            continue
        chosen.append(i)
        for u in cand_units[i]:
            counts[u] = counts.get(u, 0) + 1
    return chosen


@dataclass
class Selection:
    """Result of :func:`select_sentences`."""

    sentences: list[str]  # own sentences first, then the greedy picks in pick order
    n_own: int
    n_candidates: int
    stats: dict[str, float] = field(default_factory=dict)


def candidate_sentences(
    passages: Iterable[Passage],
    exclude_keys: set[str],
    tagger: Callable[[list[str]], list[str]] | None = None,
    clause_sources: tuple[str, ...] = ("wordnet",),
    min_len: int = MIN_LEN,
    max_len: int = MAX_LEN,
) -> list[str]:
    """Speakable, deduplicated sentences of ``passages`` in source order.

    ``exclude_keys`` (keys of sentences already taken) is extended in place. Sentences of
    ``clause_sources`` must also pass :func:`looks_like_clause` with ``tagger`` (words ->
    Penn tags) when one is given.
    """
    out = []
    for p in passages:
        need_clause = tagger is not None and p.source.startswith(clause_sources)
        for s in p.sentences:
            if not is_speakable(s, min_len, max_len):
                continue
            key = text_key(s)
            if key in exclude_keys:
                continue
            if need_clause:
                words = re.findall(r"[A-Za-z0-9']+|[.,;:!?]", s)
                if not looks_like_clause(list(zip(words, tagger(words)))):
                    continue
            exclude_keys.add(key)
            out.append(s)
    return out


def default_tagger() -> Callable[[list[str]], list[str]]:
    """The phoneme front-end's averaged-perceptron POS tagger (Penn tags)."""
    from glowtts.text.g2p import get_g2p

    return get_g2p().tagger.tag


def select_sentences(
    own: Sequence[str],
    passages: Sequence[Passage],
    n_sentences: int,
    phonemize: Callable[[str], list[str]] | None = None,
    tagger: Callable[[list[str]], list[str]] | None = None,
    min_len: int = MIN_LEN,
    max_len: int = MAX_LEN,
) -> Selection:
    """The own sentences (deduplicated, in order), then greedy coverage picks up to
    ``n_sentences`` from the candidates of ``passages``.

    With ``n_sentences <= len(own)`` the result is just the first ``n_sentences`` own
    sentences. ``stats`` holds the counts of distinct diphones covered by the result and
    by the same number of sentences taken in source order (the baseline).

    Raises:
        ValueError: fewer candidates than requested (names the numbers).
    """
    keys: set[str] = set()
    own_kept = []
    for s in own:
        k = text_key(s)
        if k not in keys:
            keys.add(k)
            own_kept.append(s)
    if n_sentences <= len(own_kept):
        return Selection(list(own_kept[:n_sentences]), n_sentences, 0)
    phonemize = phonemize or make_phonemizer()
    tagger = tagger if tagger is not None else default_tagger()
    cands = candidate_sentences(passages, keys, tagger, min_len=min_len, max_len=max_len)
    need = n_sentences - len(own_kept)
    if len(cands) < need:
        raise ValueError(
            f"only {len(own_kept)} own + {len(cands)} source sentences pass the filters, "
            f"fewer than --n_sentences {n_sentences}; install more text sources "
            f"({', '.join(p for ps in DEBIAN_PACKAGES.values() for p in ps)}) or ask for fewer"
        )
    counts: dict[str, int] = {}
    for s in own_kept:
        for u in phone_units(phonemize(s))[0]:
            counts[u] = counts.get(u, 0) + 1
    own_units = set(counts)
    units, lens = zip(*(phone_units(phonemize(s)) for s in cands))
    chosen = select_greedy(units, lens, need, counts)
    picked = [cands[i] for i in chosen]
    covered = diphones(own_units.union(*(units[i] for i in chosen)))
    baseline = diphones(own_units.union(*units[:need]))
    stats = {
        "n_sentences": n_sentences,
        "n_own": len(own_kept),
        "n_candidates": len(cands),
        "diphones_selected": len(covered),
        "diphones_first_n": len(baseline),
        "diphones_all_candidates": len(diphones(own_units.union(*units))),
        "mean_chars_selected": round(sum(map(len, picked)) / len(picked), 1),
        "mean_chars_candidates": round(sum(map(len, cands)) / len(cands), 1),
    }
    return Selection(own_kept + picked, len(own_kept), len(cands), stats)


# --------------------------------------------------------------------------- long sentences


def long_sentences(
    passages: Sequence[Passage],
    n_long: int,
    exclude_keys: set[str],
    min_chars: int = MAX_LEN + 1,
    max_chars: int = 600,
    sources: tuple[str, ...] = ("fortunes",),
) -> list[str]:
    """``n_long`` utterances of ``min_chars``..``max_chars`` characters for a long-form eval.

    Each is one speakable sentence that long, or consecutive speakable sentences of one
    passage joined with a space until the total passes ``min_chars``. Sentences whose key
    is in ``exclude_keys`` (the main list) are never used, nor twice. Candidates are
    taken evenly spread over the sources (deterministic). Fewer are returned when the
    sources hold fewer. Only passages of ``sources`` (running text) are joined: WordNet's
    examples of one gloss are unrelated sentences.
    """
    cands: list[str] = []
    used = set(exclude_keys)
    for p in passages:
        if not p.source.startswith(sources):
            continue
        run: list[str] = []
        for s in p.sentences:
            k = text_key(s)
            if not is_speakable(s, MIN_LEN, max_chars) or k in used:
                run = []
                continue
            run.append(s)
            joined = " ".join(run)
            if len(joined) > max_chars:
                run = [s] if len(s) < max_chars else []
                joined = " ".join(run)
            if len(joined) >= min_chars:
                cands.append(joined)
                used.update(text_key(x) for x in run)
                run = []
    if n_long <= 0 or not cands:
        return []
    if n_long >= len(cands):
        return cands
    return [cands[(i * len(cands)) // n_long] for i in range(n_long)]


# --------------------------------------------------------------------------- sources


def available_sources(
    fortune_dir: str = FORTUNE_DIR, wordnet_dir: str = WORDNET_DIR
) -> dict[str, bool]:
    """Which text sources are installed."""
    return {
        "fortunes": os.path.isfile(os.path.join(fortune_dir, "fortunes")),
        "wordnet": os.path.isfile(os.path.join(wordnet_dir, "data.noun")),
    }


def read_passages(
    sources: Sequence[str],
    fortune_dir: str = FORTUNE_DIR,
    wordnet_dir: str = WORDNET_DIR,
    fortune_files: Sequence[str] | None = None,
) -> list[Passage]:
    """Passages of the named sources, in the order given.

    Raises:
        FileNotFoundError: a source is not installed (names the Debian packages).
    """
    have = available_sources(fortune_dir, wordnet_dir)
    out: list[Passage] = []
    for name in sources:
        if name not in SOURCES:
            raise ValueError(f"unknown text source {name!r}; valid: {', '.join(SOURCES)}")
        if not have[name]:
            pkgs = " ".join(DEBIAN_PACKAGES[name])
            raise FileNotFoundError(
                f"text source {name!r} is not installed; "
                f"sudo apt-get update && sudo apt-get install -y {pkgs}"
            )
        if name == "fortunes":
            out += read_fortune_passages(fortune_dir, fortune_files)
        else:
            out += read_wordnet_passages(wordnet_dir)
    return out
