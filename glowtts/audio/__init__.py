"""Audio: wav I/O, the mel feature definition, Griffin-Lim, feature statistics."""

from glowtts.audio.features import (
    MelConfig,
    hz_to_mel,
    load_feats_config,
    logmel,
    logmel_torch,
    mel_filterbank,
    mel_to_hz,
    num_frames,
)
from glowtts.audio.griffin_lim import (
    griffin_lim,
    griffin_lim_batch,
    griffin_lim_linear,
    mel_to_linear,
    spectral_convergence,
)
from glowtts.audio.io import AudioError, is_pipe, load_wav, save_wav
from glowtts.audio.stats import RunningStats, load_stats, save_stats

__all__ = [
    "AudioError",
    "MelConfig",
    "RunningStats",
    "griffin_lim",
    "griffin_lim_batch",
    "griffin_lim_linear",
    "hz_to_mel",
    "is_pipe",
    "load_feats_config",
    "load_stats",
    "load_wav",
    "logmel",
    "logmel_torch",
    "mel_filterbank",
    "mel_to_hz",
    "mel_to_linear",
    "num_frames",
    "save_stats",
    "save_wav",
    "spectral_convergence",
]
