"""Name -> class tables for the pluggable slots (text front-end, vocoder).

Entries are dotted paths resolved on first use, so listing the choices imports
nothing heavy; an unknown name is a ``ValueError`` that lists the valid ones.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from typing import Any

from .text.tokenizers import TOKENIZERS

logger = logging.getLogger(__name__)


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


# The default vocoder of every entry point (Synthesizer.from_exp, glowtts-synthesize,
# glowtts-serve, glowtts-vocode): see choose_vocoder.
AUTO_VOCODER = "auto"


def vocoder_choices() -> list[str]:
    """``--vocoder`` choices: ``auto`` and the registered names."""
    return [AUTO_VOCODER, *VOCODERS.names()]


def _accepted(name: str, options: dict[str, Any]) -> set[str]:
    params = inspect.signature(VOCODERS.get(name)).parameters
    return {k for k in options if k in params and k != "feats"}


def choose_vocoder(feats: dict[str, Any], options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The vocoder ``auto`` stands for, and its options (None values dropped).

    Options that only Griffin-Lim takes (e.g. ``n_iter``) choose Griffin-Lim; otherwise
    HiFi-GAN (``checkpoint`` default ``universal``) where the generator is installed and
    was trained on this mel, else Griffin-Lim with one log line that says why.
    """
    from .audio import MelConfig
    from .vocoders import hifigan

    options = {k: v for k, v in options.items() if v is not None}
    gl_only = _accepted("griffin_lim", options) - _accepted("hifigan", options)
    reason = "Griffin-Lim options were given" if gl_only else None
    if reason is None and "checkpoint" not in options:
        reason = hifigan.pretrained_unfit_reason(MelConfig.from_dict(feats))
    if reason is None:
        opts = {k: options[k] for k in _accepted("hifigan", options)}
        opts.setdefault("checkpoint", hifigan.DEFAULT_GENERATOR)
        logger.info("vocoder: HiFi-GAN %s", opts["checkpoint"])
        return "hifigan", opts
    logger.info("vocoder: Griffin-Lim, because %s", reason)
    return "griffin_lim", {k: options[k] for k in _accepted("griffin_lim", options)}


def build_vocoder(name: str, feats: dict[str, Any], device: Any = None, **options: Any) -> Any:
    """Instantiate the vocoder ``name`` for the mel definition ``feats`` (the YAML section).

    ``name`` ``auto`` picks one with :func:`choose_vocoder` (options of the vocoder not
    chosen are dropped, so one command line can carry both vocoders' options).
    ``device`` goes to vocoders whose constructor takes one (a generator network is placed
    at load time; Griffin-Lim runs where each call says), unless ``options`` name it.
    """
    if name == AUTO_VOCODER:
        name, options = choose_vocoder(feats, options)
    cls = VOCODERS.get(name)
    if device is not None and "device" in inspect.signature(cls).parameters:
        options.setdefault("device", device)
    return cls(feats, **options)
