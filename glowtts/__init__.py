"""glowtts: Glow-TTS (Kim et al., NeurIPS 2020) with Kaldi/ESPnet-style recipes."""

__version__ = "0.1.0"
