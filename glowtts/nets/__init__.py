"""Networks of Glow-TTS: the text encoder, the flow decoder and the model."""

from .glow_tts import GlowTTS, build_model, log_likelihood_matrix

__all__ = ["GlowTTS", "build_model", "log_likelihood_matrix"]
