"""Name -> class tables for the pluggable slots (text front-end, vocoder).

Entries are dotted paths resolved on first use, so listing the choices imports
nothing heavy; an unknown name is a ``ValueError`` that lists the valid ones.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from .text.tokenizers import TOKENIZERS


class Registry:
    """A named table of ``"module:attr"`` entries."""

    def __init__(self, slot: str, entries: dict[str, str]) -> None:
        self.slot = slot
        self._entries = dict(entries)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def register(self, name: str, target: str) -> None:
        if name in self._entries:
            raise ValueError(f"{self.slot} '{name}' is already registered")
        self._entries[name] = target

    def get(self, name: str) -> Any:
        if name not in self._entries:
            raise ValueError(
                f"unknown {self.slot} '{name}'; valid choices: {', '.join(self.names())}"
            )
        module, attr = self._entries[name].split(":")
        return getattr(importlib.import_module(module), attr)


# The text front-end keeps its own table (glowtts.text.TOKENIZERS, the layer
# below); this is the same table seen through the registry's interface.
TOKEN_TYPES = Registry(
    "token_type", {name: f"{cls.__module__}:{cls.__name__}" for name, cls in TOKENIZERS.items()}
)

VOCODERS = Registry(
    "vocoder",
    {
        "griffin_lim": "glowtts.vocoders.griffin_lim:GriffinLimVocoder",
        "hifigan": "glowtts.vocoders.hifigan:HiFiGANVocoder",
    },
)


def build_vocoder(name: str, feats: dict[str, Any], device: Any = None, **options: Any) -> Any:
    """Instantiate the vocoder ``name`` for the mel definition ``feats`` (the YAML section).

    ``device`` goes to vocoders whose constructor takes one (a generator network is placed
    at load time; Griffin-Lim runs where each call says), unless ``options`` name it.
    """
    cls = VOCODERS.get(name)
    if device is not None and "device" in inspect.signature(cls).parameters:
        options.setdefault("device", device)
    return cls(feats, **options)
