"""Export the text-to-mel part of a trained Glow-TTS to TorchScript or ONNX.

:meth:`GlowTTS.inference` turns tensors into Python ints (``int(y_lengths.max())``)
and checks inputs with Python ``if``\\ s, which a tracer would freeze at the example's
values. :class:`TextToMel` recomputes the same inference with tensor operations only
(the frame count and every mask come from ``torch.arange`` over tensors), calling
the model's own encoder and flow decoder, so one trace serves every batch size, text
length and mel length.

Exported graph::

    inputs : tokens (B, T_text) int64, token_lengths (B,) int64,
             noise (B, n_mels, T_noise) float32, noise_scale () float32,
             length_scale () float32[, spk (B,) int64]
    outputs: mel (B, T_mel, n_mels) float32, mel_lengths (B,) int64,
             durations (B, T_text) int64[, wav (B, T_wav) float32, wav_lengths (B,) int64]

Durations are predicted inside (as ``GlowTTS.inference``: ``ceil(exp(log_w) *
length_scale)``, the total rounded up to the squeeze factor on the last token). The
noise is an input, so the graph is deterministic and a caller can reproduce a torch
run: ``eps = noise[:, :, :T_mel]`` (frames past ``T_noise`` get zero noise), the
standard-normal draw that :meth:`GlowTTS.sample_latent` takes from the generator.
Padding frames of ``mel`` past ``mel_lengths`` are zero. With a vocoder appended
(:func:`export_model` ``vocoder=``), ``wav`` is its output, ``wav_lengths =
mel_lengths * hop``.
"""

from __future__ import annotations

import copy
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..audio.features import MelConfig, mel_filterbank
from ..nets import GlowTTS
from .runtime import CONFIG_FILE, MEL_PINV_FILE, MODEL_FILE, SPEAKERS_FILE

logger = logging.getLogger(__name__)

FORMATS = ("torchscript", "onnx")
INPUT_NAMES = ["tokens", "token_lengths", "noise", "noise_scale", "length_scale"]
OUTPUT_NAMES = ["mel", "mel_lengths", "durations"]
VOCODER_OUTPUT_NAMES = ["wav", "wav_lengths"]
ONNX_OPSET = 17  # LayerNormalization and ScatterElements(reduction="add") need >= 16/17


class TextToMel(nn.Module):
    """Traceable text-to-mel inference around a prepared :class:`GlowTTS`.

    The model must be in eval mode with weight norm folded and the inverse 1x1
    convs cached (:meth:`GlowTTS.prepare_for_inference`): the cached inverses
    become constants of the graph (``torch.linalg.inv`` has no ONNX operator).
    """

    def __init__(self, model: GlowTTS, vocoder: nn.Module | None = None) -> None:
        super().__init__()
        # a copy: the export swaps layers and must not change the caller's model
        self.model = copy.deepcopy(model).eval()
        self.model.requires_grad_(False)  # inference graph: outputs need no autograd
        self.n_sqz = int(model.n_sqz)
        self.multi_speaker = model.emb_g is not None
        self.vocoder = None if vocoder is None else copy.deepcopy(vocoder).eval()
        if self.vocoder is not None:
            self.vocoder.requires_grad_(False)

    def forward(
        self,
        tokens: torch.Tensor,
        token_lengths: torch.Tensor,
        noise: torch.Tensor,
        noise_scale: torch.Tensor,
        length_scale: torch.Tensor,
        spk: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, ...]:
        """See the module docstring for shapes."""
        model = self.model
        t_text = torch.arange(tokens.shape[1], device=tokens.device)
        x_mask = (t_text.unsqueeze(0) < token_lengths.unsqueeze(1)).unsqueeze(1).float()
        g = None
        if self.multi_speaker:
            g = F.normalize(model.emb_g(spk)).unsqueeze(-1)
        mu, log_sigma, log_w = model.encoder(tokens, x_mask, g)
        xm = x_mask.squeeze(1)
        dur = torch.ceil(torch.exp(log_w.squeeze(1)) * xm * length_scale).long()
        # round the total up to the squeeze factor by extending the last token
        total = dur.sum(1).clamp(min=1)
        target = torch.div(total + self.n_sqz - 1, self.n_sqz, rounding_mode="floor") * self.n_sqz
        last = (token_lengths - 1).unsqueeze(1)
        dur = dur.scatter_add(1, last, (target - dur.sum(1)).unsqueeze(1))
        y_lengths = dur.sum(1)
        frames = torch.arange(y_lengths.max(), device=tokens.device)  # (T_mel,) from a tensor
        y_mask = (frames.unsqueeze(0) < y_lengths.unsqueeze(1)).unsqueeze(1).float()
        cum = torch.cumsum(dur, 1).unsqueeze(-1)  # (B, T_text, 1)
        f = frames.view(1, 1, -1)
        path = ((f < cum) & (f >= cum - dur.unsqueeze(-1))).float()
        path = path * x_mask.transpose(1, 2) * y_mask  # (B, T_text, T_mel)
        z_mu = torch.bmm(mu.float(), path)
        z_log_sigma = torch.bmm(log_sigma.float(), path)
        # zero-pad then cut: eps is (B, n_mels, T_mel) whatever T_noise is
        eps = torch.cat([noise, torch.zeros_like(z_mu)], 2)[:, :, : z_mu.shape[2]]
        z = (z_mu + torch.exp(z_log_sigma) * eps * noise_scale) * y_mask
        y, _ = model.decoder(z, y_mask, g, reverse=True)
        if self.vocoder is None:
            return y.transpose(1, 2), y_lengths, dur
        wav = self.vocoder(y).squeeze(1)  # (B, T_mel * hop)
        hop = wav.shape[1] // y.shape[2]
        return y.transpose(1, 2), y_lengths, dur, wav, y_lengths * hop


def example_inputs(model: GlowTTS, t_text: int = 13, batch: int = 2) -> tuple[torch.Tensor, ...]:
    """Inputs for tracing: ``batch`` items of different lengths (so nothing is
    specialised to equal lengths); ids avoid 0 (blank) and 1 (unk)."""
    g = torch.Generator().manual_seed(0)
    hi = max(model.n_vocab, 3)
    tokens = torch.randint(2, hi, (batch, t_text), generator=g)
    lengths = torch.tensor([t_text - 3 * i for i in range(batch)]).clamp(min=1)
    tokens = tokens * (torch.arange(t_text) < lengths.unsqueeze(1))
    noise = torch.randn(batch, model.n_mels, 4 * t_text, generator=g)
    inputs = (tokens, lengths, noise, torch.tensor(0.667), torch.tensor(1.0))
    if model.emb_g is not None:
        inputs = inputs + (torch.zeros(batch, dtype=torch.long),)
    return inputs


def export_model(
    model: GlowTTS,
    out: str | Path,
    fmt: str = "torchscript",
    *,
    metadata: dict[str, Any] | None = None,
    opset: int = ONNX_OPSET,
    vocoder: nn.Module | None = None,
) -> Path:
    """Export ``model`` (prepared for inference, on the CPU) to ``out``.

    ``vocoder``: a mel ``(B, n_mels, T_mel)`` -> wav ``(B, 1, T_mel * hop)`` module (a
    HiFi-GAN generator, weight norm folded) appended to the graph: ids to waveform.
    Also writes ``<out>.json`` with the input/output names and ``metadata``
    (mel definition, front-end, ...), what a runtime needs besides the graph.

    Returns the path written.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format '{fmt}'; valid: {', '.join(FORMATS)}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = model.cpu().eval()
    wrapper = TextToMel(model, vocoder).eval()
    inputs = example_inputs(model)
    input_names = INPUT_NAMES + (["spk"] if wrapper.multi_speaker else [])
    output_names = OUTPUT_NAMES + (VOCODER_OUTPUT_NAMES if vocoder is not None else [])
    with torch.no_grad(), warnings.catch_warnings():
        # the tracer warns about the Python-level checks it records as constants
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        # and the ONNX exporter about constant folding it could not apply (harmless)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
        if fmt == "torchscript":
            traced = torch.jit.trace(wrapper, inputs, check_trace=False)
            traced.save(str(out))
        else:
            _export_onnx(wrapper, inputs, out, input_names, output_names, opset)
    meta = {
        "format": fmt,
        "inputs": input_names,
        "outputs": output_names,
        "n_mels": model.n_mels,
        "n_vocab": model.n_vocab,
        **(metadata or {}),
    }
    Path(str(out) + ".json").write_text(json.dumps(meta, indent=2) + "\n")
    logger.info("exported %s to %s", fmt, out)
    return out


def _export_onnx(
    wrapper: TextToMel,
    inputs: tuple[torch.Tensor, ...],
    out: Path,
    input_names: list[str],
    output_names: list[str],
    opset: int,
) -> None:
    """``torch.onnx.export`` with every batch and length axis dynamic."""
    batch = {0: "batch"}
    dynamic_axes = {
        "tokens": {0: "batch", 1: "T_text"},
        "token_lengths": batch,
        "noise": {0: "batch", 2: "T_noise"},
        "spk": batch,
        "mel": {0: "batch", 1: "T_mel"},
        "mel_lengths": batch,
        "durations": {0: "batch", 1: "T_text"},
        "wav": {0: "batch", 1: "T_wav"},
        "wav_lengths": batch,
    }
    names = set(input_names) | set(output_names)
    torch.onnx.export(
        wrapper,
        inputs,
        str(out),
        dynamo=False,
        input_names=input_names,
        output_names=output_names,
        dynamic_axes={k: v for k, v in dynamic_axes.items() if k in names},
        opset_version=opset,
    )


def export_voice_dir(
    exp: Any,
    out_dir: str | Path,
    *,
    metadata: dict[str, Any] | None = None,
    opset: int = ONNX_OPSET,
    vocoder: nn.Module | None = None,
) -> Path:
    """A self-contained voice for the torch-free runtime: ``model.onnx``, ``config.json``
    (what :func:`export_model` writes as ``model.onnx.json``, ``feats`` with every default
    filled in), the experiment's front-end (``frontend.yaml`` + ``tokens.txt`` ...),
    ``spk_list.txt`` when it has speakers and, without a vocoder, ``mel_pinv.npy``: the
    pseudo-inverse of the mel filterbank ``(n_fft // 2 + 1, n_mels)`` for Griffin-Lim.

    ``exp``: a :class:`glowtts.synthesis.loading.Experiment`. Returns ``out_dir``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frontend = exp.frontend()  # first: a missing front-end fails before the slow export
    feats = MelConfig.from_dict(exp.config.get("feats"))
    metadata = {**(metadata or {}), "feats": feats.to_dict()}
    model_path = export_model(
        exp.model, out_dir / MODEL_FILE, "onnx", metadata=metadata, opset=opset, vocoder=vocoder
    )
    Path(str(model_path) + ".json").replace(out_dir / CONFIG_FILE)
    frontend.save(str(out_dir))
    speakers = exp.speakers()
    if speakers:
        (out_dir / SPEAKERS_FILE).write_text("".join(f"{s}\n" for s in speakers))
    if vocoder is None:
        np.save(out_dir / MEL_PINV_FILE, np.linalg.pinv(np.asarray(mel_filterbank(feats))))
    return out_dir
