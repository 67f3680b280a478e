"""Glow-TTS inference with the encoder and the flow decoder replayed from CUDA graphs.

On a fast GPU, eager inference of the official model is bound by the CPU cost of
launching its ~700 small kernels, not by the GPU. :class:`GraphedInference` captures
the encoder once per padded ``(B, T_text)`` bucket and the reverse flow once per
padded ``(B, T_mel)`` bucket, and replays them; only the duration/alignment step
between them (a dozen ops and the one host sync that reads the frame count) runs
eagerly. Padding is exact: every layer masks padded positions, which is also why
batching does not change an utterance's output.

With ``use_graphs=False`` (or on the CPU) the same padded computation runs eagerly;
that mode exists to test the bucketing without a GPU.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from ..nets import GlowTTS
from ..nets.commons import path_from_durations, sequence_mask


def _ceil_to(n: int, m: int) -> int:
    return (n + m - 1) // m * m


class _Graph:
    """One captured callable with static input buffers (``inputs``) and outputs."""

    def __init__(self, fn, inputs: list[torch.Tensor | None]) -> None:
        self.inputs = inputs
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):  # warm-up off the capture (cuBLAS/cuDNN workspaces)
            for _ in range(2):
                fn(*inputs)
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.outputs = fn(*inputs)

    def __call__(self, *values: torch.Tensor | None):
        for buf, v in zip(self.inputs, values):
            if buf is not None:
                buf.copy_(v)
        self.graph.replay()
        return self.outputs


class GraphedInference:
    """Drop-in for :meth:`GlowTTS.inference` (same arguments and outputs).

    Args:
        model: a :class:`GlowTTS` after ``prepare_for_inference()``.
        text_bucket: token axis padded to a multiple of this (one encoder graph per bucket).
        frame_bucket: frame axis padded to a multiple of this (one decoder graph per bucket).
        max_graphs: captured graphs kept (least recently used are dropped).
        use_graphs: False runs the padded computation eagerly (default: CUDA models only).
    """

    def __init__(
        self,
        model: GlowTTS,
        text_bucket: int = 16,
        frame_bucket: int = 64,
        max_graphs: int = 64,
        use_graphs: bool | None = None,
    ) -> None:
        self.model = model
        self.n_sqz = int(model.n_sqz)
        self.text_bucket = max(1, text_bucket)
        self.frame_bucket = _ceil_to(max(1, frame_bucket), self.n_sqz)
        self.max_graphs = max_graphs
        device = next(model.parameters()).device
        self.use_graphs = device.type == "cuda" if use_graphs is None else use_graphs
        self._graphs: dict[tuple, _Graph] = {}

    # ------------------------------------------------------------ graph cache
    def _run(self, key: tuple, fn, inputs: list[torch.Tensor | None]):
        if not self.use_graphs:
            return fn(*inputs)
        graph = self._graphs.pop(key, None)
        if graph is None:
            if len(self._graphs) >= self.max_graphs:
                self._graphs.pop(next(iter(self._graphs)))
            graph = _Graph(fn, [None if x is None else x.clone() for x in inputs])
        self._graphs[key] = graph  # most recently used last
        return graph(*inputs)

    def _encode(self, tokens, x_mask, g):
        return self.model.encoder(tokens, x_mask, g)

    def _decode(self, z, y_mask, g):
        return self.model.decoder(z, y_mask, g, reverse=True)[0]

    # ------------------------------------------------------------ inference
    @torch.inference_mode()
    def __call__(
        self,
        tokens: torch.Tensor,
        token_lengths: torch.Tensor,
        *,
        noise_scale: float = 0.667,
        length_scale: float = 1.0,
        durations: torch.Tensor | None = None,
        spk: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        seeds: list[int] | None = None,
    ) -> dict[str, Any]:
        """See :meth:`GlowTTS.inference`; ``tokens`` ``(B, T_text)``, returns ``mel``
        ``(B, T_mel, n_mels)``, ``mel_lengths``, ``durations``, ``path``."""
        model = self.model
        b, t_text = tokens.shape
        if token_lengths.shape != (b,) or bool((token_lengths < 1).any()):
            raise ValueError("token_lengths must be (B,) and positive")
        tb = _ceil_to(t_text, self.text_bucket)
        tok = F.pad(tokens, (0, tb - t_text))
        x_mask = sequence_mask(token_lengths, tb).unsqueeze(1).to(torch.float32)
        g = None if model.emb_g is None else model._speaker(spk)
        mu, log_sigma, log_w = self._run(("enc", b, tb, g is None), self._encode, [tok, x_mask, g])
        mu, log_sigma = mu[:, :, :t_text].float(), log_sigma[:, :, :t_text].float()
        xm = x_mask[:, :, :t_text]
        # durations, alignment and noise: the same maths as GlowTTS.inference
        dur = model.frame_durations(
            log_w[:, :, :t_text], xm, token_lengths, length_scale, durations
        )
        y_lengths = dur.sum(1)
        t_max = int(y_lengths.max())  # the one host sync
        fb = _ceil_to(t_max, self.frame_bucket)
        y_mask = sequence_mask(y_lengths, fb).unsqueeze(1).to(torch.float32)
        path = path_from_durations(dur, xm.transpose(1, 2) * y_mask)  # (B, T_text, fb)
        z = model.sample_latent(
            torch.bmm(mu, path),
            torch.bmm(log_sigma, path),
            y_mask,
            noise_scale,
            generator=generator,
            seeds=seeds,
        )
        dtype = next(model.decoder.parameters()).dtype
        y = self._run(("dec", b, fb, g is None), self._decode, [z.to(dtype), y_mask.to(dtype), g])
        mel = y[:, :, :t_max].float().transpose(1, 2).clone()  # copy out of the graph's buffer
        return {"mel": mel, "mel_lengths": y_lengths, "durations": dur, "path": path[:, :, :t_max]}
