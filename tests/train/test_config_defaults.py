"""The recipes' commented YAML configs against the one source of every default.

Sources: ``feats`` the :class:`~glowtts.audio.features.MelConfig` fields, ``text`` the
front-end's ``DEFAULTS``, ``model`` the ``GlowTTS.__init__`` signature, ``train`` the
:class:`~glowtts.train.config.TrainConfig` fields, ``duration`` the ``DurationConfig``
fields, ``decode`` the synthesizer's ``DECODE_DEFAULTS``. A comment states a default
as ``default VALUE`` (e.g. ``# ... (default 28000)``); it must be the source's value.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from glowtts.audio.features import MelConfig
from glowtts.durations import predictor as durations_predictor
from glowtts.nets.glow_tts import MODEL_DEFAULTS
from glowtts.synthesis.synthesizer import DECODE_DEFAULTS
from glowtts.text.frontend import DEFAULTS as TEXT_DEFAULTS
from glowtts.train.config import TRAIN_DEFAULTS
from glowtts.train.setup import SECTIONS

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "egs" / "ljspeech" / "tts1" / "conf" / "train.yaml"
CONFIGS = sorted((ROOT / "egs").glob("*/tts1/conf/**/*.yaml"))
SOURCES = {
    "feats": dataclasses.asdict(MelConfig()),
    "text": TEXT_DEFAULTS,
    "model": MODEL_DEFAULTS,
    "train": TRAIN_DEFAULTS,
    "duration": durations_predictor.DURATION_DEFAULTS,
    "decode": DECODE_DEFAULTS,
}
# "default VALUE" in a comment; "(official default)" or "none | default | ..." name no value
_STATED = re.compile(r"\bdefault:? ([^\s,;)|]+)")
_KEY = re.compile(r"^(?P<indent> *)(?P<comment># ?)?(?P<key>[a-z_][a-z0-9_]*):(?P<rest>.*)$")


def _keyed_lines(text: str):
    """``(section, key, value text, comment, commented_out)`` of each section-level key line."""
    section = None
    for line in text.splitlines():
        m = _KEY.match(line)
        if m is None:
            continue
        if not m["indent"] and not m["comment"]:
            section = m["key"]
            continue
        if section is None or len(m["indent"]) != 2:
            continue
        value, _, comment = m["rest"].partition("#")
        yield section, m["key"], value.strip(), comment.strip(), bool(m["comment"])


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def test_every_section_has_a_source():
    assert set(SOURCES) == set(SECTIONS)


def test_configs_found():
    assert REFERENCE in CONFIGS and len(CONFIGS) >= 5


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(ROOT / "egs")))
def test_every_key_known(path: Path):
    conf = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(conf) <= set(SOURCES), f"{path}: unknown section(s) {set(conf) - set(SOURCES)}"
    for section, values in conf.items():
        unknown = set(values or {}) - set(SOURCES[section])
        assert not unknown, f"{path}: {section}: unknown key(s) {sorted(unknown)}"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(ROOT / "egs")))
def test_stated_defaults_match(path: Path):
    n = 0
    for section, key, _, comment, _ in _keyed_lines(path.read_text(encoding="utf-8")):
        m = _STATED.search(comment)
        if m is None or section not in SOURCES:
            continue
        stated, actual = yaml.safe_load(m[1]), SOURCES[section][key]
        assert _same(stated, actual), (
            f"{path}: {section}.{key}: the comment says default {m[1]}, the code has {actual!r}"
        )
        n += 1
    if path == REFERENCE:
        assert n > 0  # the reference states the defaults it deviates from


def test_reference_documents_every_key():
    """Every key of every section appears (set, or commented out) with a comment."""
    seen = {
        (section, key): comment
        for section, key, _, comment, _ in _keyed_lines(REFERENCE.read_text(encoding="utf-8"))
    }
    for section, defaults in SOURCES.items():
        for key in defaults:
            assert (section, key) in seen, f"{REFERENCE}: {section}.{key} is not documented"
            assert seen[(section, key)], f"{REFERENCE}: {section}.{key} has no comment"


def test_reference_states_deviating_defaults():
    """Where the reference sets a value other than the default, its comment says the default."""
    conf = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    lines = {(s, k): c for s, k, _, c, _ in _keyed_lines(REFERENCE.read_text(encoding="utf-8"))}
    for section, values in conf.items():
        for key, value in values.items():
            if not _same(value, SOURCES[section][key]):
                assert _STATED.search(lines[(section, key)]), (
                    f"{REFERENCE}: {section}.{key}: {value!r} is not the default "
                    f"{SOURCES[section][key]!r}; say '(default ...)' in its comment"
                )


def test_duration_docstring_block_matches():
    """The ``duration:`` YAML block in the durations module's docstring shows the defaults."""
    doc = durations_predictor.__doc__
    block = doc[doc.index("    duration:\n") :]
    shown = {}
    for section, key, value, _, _ in _keyed_lines(
        "\n".join(line[4:] for line in block.splitlines())
    ):
        if section == "duration":
            shown[key] = yaml.safe_load(value)
    assert set(shown) == set(durations_predictor.DURATION_DEFAULTS)
    for key, value in shown.items():
        assert _same(value, durations_predictor.DURATION_DEFAULTS[key]), key
