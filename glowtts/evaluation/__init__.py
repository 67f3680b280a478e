"""Objective evaluation (recipe stage 7): MCD with DTW, pocketsphinx WER, the report.

- :mod:`glowtts.evaluation.mcd`: mel-cepstral distortion of two log-mels, DTW.
- :mod:`glowtts.evaluation.asr`: offline ASR (pocketsphinx, 16 kHz) and WER (jiwer);
  needs the ``eval`` extra.
- :mod:`glowtts.evaluation.report`: ``report.json`` / ``report.md`` / plots of an experiment.
"""

from glowtts.evaluation.mcd import MCDResult, dtw, logmel_to_mcep, mel_cepstral_distortion

__all__ = ["MCDResult", "dtw", "logmel_to_mcep", "mel_cepstral_distortion"]
