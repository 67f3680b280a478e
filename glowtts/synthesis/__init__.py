"""Synthesis: loading a trained experiment (``loading``), the ``Synthesizer`` (text -> wav),
batch decoding for stage 5 (``batch_decode``), vocoding a feats.scp for stage 6 (``vocode``),
CUDA graphs, export and the HTTP server. Never imports :mod:`glowtts.train`."""
