"""Synthesis: loading a trained experiment, the Synthesizer, batch decoding, CUDA graphs,
export and the HTTP server. Never imports :mod:`glowtts.train`."""
