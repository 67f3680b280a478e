"""Import the official Glow-TTS source from ``../shared/anchors/glow-tts`` inside a test
(and in the ``--official`` modes of ``bench/train_step.py`` and ``bench/infer.py``).

The official code is written to run from its own folder (``import modules``,
``import commons``, ``from text import ...``), imports librosa / ``stft`` /
``audio_processing`` for its mel code only, and the Cython ``monotonic_align`` that is
not built here. :func:`load_official` puts its folder on ``sys.path`` for the import
only, with inert stand-ins for the mel modules and our MAS standing in for theirs, and
takes every name it added out of ``sys.modules`` afterwards, so nothing leaks into
other tests. Without ``../shared`` the caller skips, or fails under
``GLOWTTS_REQUIRE_SHARED=1``.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

from shared_paths import SHARED, need_shared

ANCHOR = SHARED / "anchors" / "glow-tts"

_TOP_LEVEL = ("models", "modules", "commons", "attentions", "monotonic_align", "text",
              "librosa", "librosa.filters", "stft", "audio_processing")  # fmt: skip


def anchor_dir() -> Path:
    """The official source folder; skip (or fail under GLOWTTS_REQUIRE_SHARED=1) without it."""
    return need_shared(ANCHOR, "official glow-tts source")


def _stand_ins() -> dict[str, types.ModuleType]:
    from glowtts.monotonic_align import maximum_path

    def unused(*args, **kwargs):
        raise AssertionError("the official mel code is not used by these tests")

    librosa = types.ModuleType("librosa")
    filters = types.ModuleType("librosa.filters")
    filters.mel = unused
    librosa.filters = filters
    audio = types.ModuleType("audio_processing")
    audio.dynamic_range_compression = audio.dynamic_range_decompression = unused
    stft = types.ModuleType("stft")
    stft.STFT = unused
    mas = types.ModuleType("monotonic_align")
    mas.maximum_path = maximum_path  # our MAS finds the same paths
    return {"librosa": librosa, "librosa.filters": filters, "audio_processing": audio,
            "stft": stft, "monotonic_align": mas}  # fmt: skip


def load_official(*names: str) -> dict[str, types.ModuleType]:
    """Import the official modules ``names`` (e.g. ``"models"``, ``"text"``, ``"text.cmudict"``)."""
    root = str(anchor_dir())
    saved = {k: sys.modules[k] for k in list(sys.modules) if k.split(".")[0] in _TOP_LEVEL}
    for k in saved:
        del sys.modules[k]
    sys.modules.update(_stand_ins())
    sys.path.insert(0, root)
    try:
        return {n: importlib.import_module(n) for n in names}
    finally:
        sys.path.remove(root)
        for k in [k for k in sys.modules if k.split(".")[0] in _TOP_LEVEL]:
            del sys.modules[k]
        sys.modules.update(saved)
