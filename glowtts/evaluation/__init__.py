"""Objective evaluation (recipe stage 7): MCD with DTW, pocketsphinx WER, DistillMOS, the report.

- :mod:`glowtts.evaluation.mcd`: mel-cepstral distortion of two log-mels, DTW.
- :mod:`glowtts.evaluation.asr`: offline ASR (pocketsphinx, 16 kHz) and WER (jiwer);
  needs the ``eval`` extra.
- :mod:`glowtts.evaluation.metrics`: the per-set metrics of the report.
- :mod:`glowtts.evaluation.listening`: the audio sets (stage-6 wavs, recordings, each vocoder
  on decoded and reference mels) and their naturalness estimate.
- :mod:`glowtts.evaluation.mos`: DistillMOS, offline.
- :mod:`glowtts.evaluation.driver`: :func:`~glowtts.evaluation.driver.evaluate`, the stage driver.
- :mod:`glowtts.evaluation.render`: ``report.json`` / ``report.md`` / plots of an experiment.
- :mod:`glowtts.evaluation.report`: the names above in one place (``evaluate``, ``write_report``).
- :mod:`glowtts.evaluation.compare`: paired bootstrap of two reports' WER over the same
  utterances (``glowtts-compare-wer``).
"""

from glowtts.evaluation.mcd import MCDResult, dtw, logmel_to_mcep, mel_cepstral_distortion

__all__ = ["MCDResult", "dtw", "logmel_to_mcep", "mel_cepstral_distortion"]
