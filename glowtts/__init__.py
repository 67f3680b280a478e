"""glowtts: Glow-TTS (Kim et al., NeurIPS 2020) with Kaldi/ESPnet-style recipes."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # lazy: `import glowtts` stays light; `glowtts.Synthesizer` imports torch on first use
    if name == "Synthesizer":
        from .synthesis.synthesizer import Synthesizer

        return Synthesizer
    raise AttributeError(f"module 'glowtts' has no attribute {name!r}")
