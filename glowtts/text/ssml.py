"""A small SSML subset -> a list of segments: :class:`Text` (with a length-scale factor)
and :class:`Break` (seconds of silence), in reading order.

Supported (anything else is an :class:`SSMLError` naming the tag or attribute and listing
this table; nothing unknown is ever read aloud)::

    <speak>                 the root (attributes version, xmlns, xml:lang="en..." allowed)
    <break time="300ms"/>   silence: "N ms" or "N s" (decimals allowed, at most 10 s)
    <break strength="S"/>   none 0, x-weak 0.1, weak 0.2, medium 0.4, strong 0.7,
                            x-strong 1.2 seconds; <break/> alone is medium; time wins
    <prosody rate="R">      speaking rate: "N%" (20% to 500%) or x-slow 0.6, slow 0.8,
                            medium 1.0, fast 1.25, x-fast 1.5; nested rates multiply;
                            the text's length_scale_factor is 1 / rate
    <say-as interpret-as="characters">ABC</say-as>
                            spelled: letters become their names ("ay bee see"), digits
                            number words; text only inside

Text between tags is read as written (entities ``&amp; &lt; &gt; &quot; &apos;`` and
``&#...;`` decoded), white space collapsed (a blank line, which ends a sentence, kept); inline phonemes ``{HH AH0 L OW1}`` pass through
for phoneme voices. Comments are ignored. A DOCTYPE, an entity declaration or a processing
instruction is refused before anything is expanded (no billion laughs, no external
entities): the parser is expat with every declaration handler raising.

``insert_sentence_breaks`` expresses ``--sentence_silence`` as :class:`Break` segments
between sentences (:func:`glowtts.text.sentences.split_sentences`). No torch here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.parsers import expat

from glowtts.text.sentences import ends_sentence, split_sentences


@dataclass(frozen=True)
class Text:
    """Text to synthesise; multiply the voice's length_scale by ``length_scale_factor``."""

    text: str
    length_scale_factor: float = 1.0


@dataclass(frozen=True)
class Break:
    """Silence of ``seconds`` (0 for ``strength="none"``: no pause here)."""

    seconds: float


Segment = Text | Break


class SSMLError(ValueError):
    """Unsupported or malformed SSML."""


BREAK_STRENGTHS: dict[str, float] = {
    "none": 0.0,
    "x-weak": 0.1,
    "weak": 0.2,
    "medium": 0.4,
    "strong": 0.7,
    "x-strong": 1.2,
}
PROSODY_RATES: dict[str, float] = {
    "x-slow": 0.6,
    "slow": 0.8,
    "medium": 1.0,
    "fast": 1.25,
    "x-fast": 1.5,
}
MAX_BREAK_SECONDS = 10.0
RATE_PERCENT_RANGE = (20.0, 500.0)
_ATTRIBUTES: dict[str, frozenset[str]] = {
    "speak": frozenset({"version", "xmlns", "xml:lang"}),
    "break": frozenset({"time", "strength"}),
    "prosody": frozenset({"rate"}),
    "say-as": frozenset({"interpret-as"}),
}
SUPPORTED = (
    '<speak>, <break time="300ms|1.5s"/>, <break strength="'
    + "|".join(BREAK_STRENGTHS)
    + '"/>, <prosody rate="80%|'
    + "|".join(PROSODY_RATES)
    + '">, <say-as interpret-as="characters">'
)
LETTER_NAMES: dict[str, str] = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz",
        "ay bee see dee ee eff gee aitch eye jay kay el em en oh pee cue ar ess tee you vee "
        "double_you ex why zee".split(),
    )
)
LETTER_NAMES["w"] = "double you"
_DIGIT_NAMES = "zero one two three four five six seven eight nine".split()
_time_re = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)\s*")
_percent_re = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*")


def is_ssml(text: str) -> bool:
    """Whether ``text`` is an SSML document (starts with ``<speak``, after an optional
    XML declaration)."""
    head = re.sub(r"^\s*<\?xml[^>]*\?>", "", text).lstrip()
    return head.startswith("<speak")


def spell_characters(text: str) -> str:
    """``"AB1"`` -> ``"ay bee one"``; other characters are kept, each a word of its own."""
    out = []
    for ch in text:
        if ch.isspace():
            continue
        low = ch.lower()
        if low in LETTER_NAMES:
            out.append(LETTER_NAMES[low])
        elif ch in "0123456789":
            out.append(_DIGIT_NAMES[int(ch)])
        else:
            out.append(ch)
    return " ".join(out)


def _error(msg: str) -> SSMLError:
    return SSMLError(f"SSML: {msg}; supported: {SUPPORTED}")


def _break_seconds(attrs: dict[str, str]) -> float:
    if "time" in attrs:
        m = _time_re.fullmatch(attrs["time"])
        if m is None:
            raise _error(f'<break time="{attrs["time"]}">: expected e.g. "300ms" or "1.5s"')
        seconds = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
        if seconds > MAX_BREAK_SECONDS:
            raise _error(f'<break time="{attrs["time"]}">: at most {MAX_BREAK_SECONDS:g} s')
        return seconds
    strength = attrs.get("strength", "medium")
    if strength not in BREAK_STRENGTHS:
        raise _error(f'<break strength="{strength}">: unknown strength')
    return BREAK_STRENGTHS[strength]


def _rate(attrs: dict[str, str]) -> float:
    if "rate" not in attrs:
        raise _error("<prosody> needs a rate attribute")
    value = attrs["rate"]
    if value in PROSODY_RATES:
        return PROSODY_RATES[value]
    m = _percent_re.fullmatch(value)
    lo, hi = RATE_PERCENT_RANGE
    if m is None or not lo <= float(m.group(1)) <= hi:
        raise _error(f'<prosody rate="{value}">: expected {lo:g}% to {hi:g}% or a keyword')
    return float(m.group(1)) / 100.0


class _Builder:
    """Expat callbacks -> segments; raises :class:`SSMLError` on anything unsupported."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.rates: list[float] = [1.0]
        self.spell: list[str] | None = None  # characters of an open say-as
        self.segments: list[Segment] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag not in _ATTRIBUTES:
            raise _error(f"unsupported tag <{tag}>")
        if not self.stack and tag != "speak":
            raise _error(f"the document must be one <speak> element, not <{tag}>")
        if self.stack and tag == "speak":
            raise _error("<speak> inside <speak>")
        if self.stack and self.stack[-1] in ("break", "say-as"):
            raise _error(f"<{tag}> inside <{self.stack[-1]}>: it holds no elements")
        extra = sorted(set(attrs) - _ATTRIBUTES[tag])
        if extra:
            allowed = ", ".join(sorted(_ATTRIBUTES[tag])) or "none"
            raise _error(f"<{tag}> does not support attribute {extra[0]!r} (it takes: {allowed})")
        if tag == "speak" and not attrs.get("xml:lang", "en").lower().startswith("en"):
            raise _error(f'<speak xml:lang="{attrs["xml:lang"]}">: the voices read English')
        if tag == "break":
            self._add(Break(_break_seconds(attrs)))
        elif tag == "prosody":
            self.rates.append(self.rates[-1] * _rate(attrs))
        elif tag == "say-as":
            if attrs.get("interpret-as") != "characters":
                value = attrs.get("interpret-as")
                raise _error(f'<say-as interpret-as="{value}">: only "characters"')
            self.spell = []
        self.stack.append(tag)

    def end(self, tag: str) -> None:
        self.stack.pop()
        if tag == "prosody":
            self.rates.pop()
        elif tag == "say-as":
            self.text(" " + spell_characters("".join(self.spell or ())) + " ", raw=True)
            self.spell = None

    def text(self, data: str, raw: bool = False) -> None:
        if not raw and self.stack and self.stack[-1] == "break":
            if data.strip():
                raise _error(f"text {data.strip()!r} inside <break>: a break is empty")
            return
        if not raw and self.spell is not None:
            self.spell.append(data)
            return
        self._add(Text(data, 1.0 / self.rates[-1]))

    def _add(self, seg: Segment) -> None:
        last = self.segments[-1] if self.segments else None
        if isinstance(seg, Text) and isinstance(last, Text):
            if last.length_scale_factor == seg.length_scale_factor:
                self.segments[-1] = Text(last.text + seg.text, seg.length_scale_factor)
                return
        self.segments.append(seg)


def _refuse(what: str) -> Callable[..., None]:
    def handler(*_args) -> None:
        raise SSMLError(f"SSML: {what} are not allowed (no DTDs, entities or instructions)")

    return handler


_paragraph_re = re.compile(r"\s*\n[ \t]*\n\s*")
_space_re = re.compile(r"\s+")


def _squeeze(text: str) -> str:
    """White space runs -> one space, blank lines (paragraph ends) kept as one."""
    return "\n\n".join(_space_re.sub(" ", p).strip() for p in _paragraph_re.split(text.strip()))


def _tidy(segments: list[Segment]) -> list[Segment]:
    """Squeeze white space, drop empty text, join what empty text separated, sum breaks."""
    out: list[Segment] = []
    for seg in segments:
        if isinstance(seg, Text):
            seg = Text(_squeeze(seg.text), seg.length_scale_factor)
            if not seg.text:
                continue
        last = out[-1] if out else None
        if isinstance(seg, Break) and isinstance(last, Break):
            out[-1] = Break(last.seconds + seg.seconds)
        elif (
            isinstance(seg, Text)
            and isinstance(last, Text)
            and last.length_scale_factor == seg.length_scale_factor
        ):
            out[-1] = Text(last.text + " " + seg.text, seg.length_scale_factor)
        else:
            out.append(seg)
    return out


def parse_ssml(document: str) -> list[Segment]:
    """Segments of an SSML document (see the module docstring for the subset).

    Raises:
        SSMLError: malformed XML, a tag/attribute/value outside the subset (named, with
            the supported list), a DOCTYPE, entity declaration or processing instruction.
    """
    if re.search(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", document, re.IGNORECASE):
        raise SSMLError("SSML: DOCTYPE and entity declarations are not allowed")
    b = _Builder()
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = b.start
    parser.EndElementHandler = b.end
    parser.CharacterDataHandler = b.text
    parser.StartDoctypeDeclHandler = _refuse("DOCTYPE declarations")
    parser.EntityDeclHandler = _refuse("entity declarations")
    parser.ExternalEntityRefHandler = _refuse("external entities")
    parser.ProcessingInstructionHandler = _refuse("processing instructions")
    parser.CommentHandler = lambda _data: None
    try:
        parser.Parse(document, True)
    except expat.ExpatError as e:
        msg = expat.ErrorString(e.code)
        raise SSMLError(
            f"SSML: malformed XML ({msg}) at line {e.lineno}, column {e.offset}"
        ) from None
    return _tidy(b.segments)


def to_segments(text: str, ssml: bool | None = None) -> list[Segment]:
    """Segments of ``text``: parsed as SSML when ``ssml`` is true (None: when
    :func:`is_ssml`), else one :class:`Text`. Plain text is never scanned for tags."""
    if ssml is None:
        ssml = is_ssml(text)
    return parse_ssml(text) if ssml else _tidy([Text(text)])


def insert_sentence_breaks(
    segments: Sequence[Segment],
    seconds: float,
    split: Callable[[str], list[str]] = split_sentences,
) -> list[Segment]:
    """``--sentence_silence``: each :class:`Text` split into sentences with ``Break(seconds)``
    between them, and between two texts when the first ends a sentence and no break already
    separates them (a ``<break strength="none"/>`` there keeps them together).

    ``split`` cuts one text into sentences (default :func:`split_sentences`); a caller with
    its own chunker passes it. ``seconds == 0`` splits nothing and returns the segments.
    """
    if seconds < 0:
        raise ValueError(f"sentence silence must be >= 0 seconds, got {seconds}")
    if seconds == 0:
        return list(segments)
    out: list[Segment] = []
    for i, seg in enumerate(segments):
        if not isinstance(seg, Text):
            out.append(seg)
            continue
        for j, sentence in enumerate(split(seg.text)):
            if j:
                out.append(Break(seconds))
            out.append(Text(sentence, seg.length_scale_factor))
        nxt = segments[i + 1] if i + 1 < len(segments) else None
        if isinstance(nxt, Text) and ends_sentence(seg.text):
            out.append(Break(seconds))
    return out
