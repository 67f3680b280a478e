"""Export the text-to-mel part of a trained Glow-TTS to TorchScript or ONNX.

:meth:`GlowTTS.inference` turns tensors into Python ints (``int(y_lengths.max())``)
and checks inputs with Python ``if``\\ s, which a tracer would freeze at the example's
values. :class:`TextToMel` recomputes the same inference with tensor operations only
(the frame count and every mask come from ``torch.arange`` over tensors), calling
the model's own encoder and flow decoder, so one trace serves every batch size, text
length and mel length.

Exported graph::

    inputs : tokens (B, T_text) int64, token_lengths (B,) int64,
             noise_scale () float32, length_scale () float32[, spk (B,) int64]
    outputs: mel (B, T_mel, n_mels) float32, mel_lengths (B,) int64,
             durations (B, T_text) int64

Durations are predicted inside (as ``GlowTTS.inference``: ``ceil(exp(log_w) *
length_scale)``, the total rounded up to the squeeze factor on the last token); the
noise is ``torch.randn`` inside the graph. Padding frames of ``mel`` past
``mel_lengths`` are zero.
"""

from __future__ import annotations

import copy
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..nets import GlowTTS

logger = logging.getLogger(__name__)

FORMATS = ("torchscript", "onnx")
INPUT_NAMES = ["tokens", "token_lengths", "noise_scale", "length_scale"]
OUTPUT_NAMES = ["mel", "mel_lengths", "durations"]
ONNX_OPSET = 17  # LayerNormalization and ScatterElements(reduction="add") need >= 16/17


class TextToMel(nn.Module):
    """Traceable text-to-mel inference around a prepared :class:`GlowTTS`.

    The model must be in eval mode with weight norm folded and the inverse 1x1
    convs cached (:meth:`GlowTTS.prepare_for_inference`): the cached inverses
    become constants of the graph (``torch.linalg.inv`` has no ONNX operator).
    """

    def __init__(self, model: GlowTTS) -> None:
        super().__init__()
        # a copy: the export swaps layers and must not change the caller's model
        self.model = copy.deepcopy(model).eval()
        self.model.requires_grad_(False)  # inference graph: outputs need no autograd
        self.n_sqz = int(model.n_sqz)
        self.multi_speaker = model.emb_g is not None

    def forward(
        self,
        tokens: torch.Tensor,
        token_lengths: torch.Tensor,
        noise_scale: torch.Tensor,
        length_scale: torch.Tensor,
        spk: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
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
        eps = torch.randn_like(z_mu)
        z = (z_mu + torch.exp(z_log_sigma) * eps * noise_scale) * y_mask
        y, _ = model.decoder(z, y_mask, g, reverse=True)
        return y.transpose(1, 2), y_lengths, dur


def example_inputs(model: GlowTTS, t_text: int = 13, batch: int = 2) -> tuple[torch.Tensor, ...]:
    """Inputs for tracing: ``batch`` items of different lengths (so nothing is
    specialised to equal lengths); ids avoid 0 (blank) and 1 (unk)."""
    g = torch.Generator().manual_seed(0)
    hi = max(model.n_vocab, 3)
    tokens = torch.randint(2, hi, (batch, t_text), generator=g)
    lengths = torch.tensor([t_text - 3 * i for i in range(batch)]).clamp(min=1)
    tokens = tokens * (torch.arange(t_text) < lengths.unsqueeze(1))
    inputs = (tokens, lengths, torch.tensor(0.667), torch.tensor(1.0))
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
) -> Path:
    """Export ``model`` (prepared for inference, on the CPU) to ``out``.

    Also writes ``<out>.json`` with the input/output names and ``metadata``
    (mel definition, front-end, ...), what a runtime needs besides the graph.

    Returns the path written.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format '{fmt}'; valid: {', '.join(FORMATS)}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = model.cpu().eval()
    wrapper = TextToMel(model).eval()
    inputs = example_inputs(model)
    input_names = INPUT_NAMES + (["spk"] if wrapper.multi_speaker else [])
    with torch.no_grad(), warnings.catch_warnings():
        # the tracer warns about the Python-level checks it records as constants
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        # and the ONNX exporter about constant folding it could not apply (harmless)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
        if fmt == "torchscript":
            traced = torch.jit.trace(wrapper, inputs, check_trace=False)
            traced.save(str(out))
        else:
            dynamic_axes = {
                "tokens": {0: "batch", 1: "T_text"},
                "token_lengths": {0: "batch"},
                "mel": {0: "batch", 1: "T_mel"},
                "mel_lengths": {0: "batch"},
                "durations": {0: "batch", 1: "T_text"},
            }
            if wrapper.multi_speaker:
                dynamic_axes["spk"] = {0: "batch"}
            torch.onnx.export(
                wrapper,
                inputs,
                str(out),
                dynamo=False,
                input_names=input_names,
                output_names=OUTPUT_NAMES,
                dynamic_axes=dynamic_axes,
                opset_version=opset,
            )
    meta = {
        "format": fmt,
        "inputs": input_names,
        "outputs": OUTPUT_NAMES,
        "n_mels": model.n_mels,
        "n_vocab": model.n_vocab,
        **(metadata or {}),
    }
    Path(str(out) + ".json").write_text(json.dumps(meta, indent=2) + "\n")
    logger.info("exported %s to %s", fmt, out)
    return out
