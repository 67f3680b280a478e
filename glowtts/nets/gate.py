"""The WaveNet gated unit ``tanh(a[:, :H]) * sigmoid(a[:, H:])`` of the coupling nets.

Eagerly this is three kernels forward and about nine backward (two activation
backwards, two products, two ``slice_backward`` zero-fills and their sum), run 48
times per step in the official decoder. On CUDA, with Triton installed, one fused
kernel does the forward and one the backward, which writes the gradient of both
halves of ``a`` in place of the zero-filled slices. The maths is the same; the
fused kernels compute in float32 and round once to ``a``'s dtype, so under bf16/fp16
autocast they are, if anything, more accurate than the eager ops.

Everywhere else (CPU, no Triton, or ``FUSED = False``) the eager expression runs:
on the CPU a hand-written autograd function is slower than autograd's own ops.
With ``TRITON_INTERPRET=1`` the kernels run in Triton's interpreter on CPU tensors;
the tests use that through :func:`gated_tanh_sigmoid_fused`.
"""

from __future__ import annotations

import os
import warnings

import torch

#: switch for benchmarks and debugging: False always runs the eager expression
FUSED = True

try:
    import triton
    import triton.language as tl

    _HAVE_TRITON = True
except Exception:  # noqa: BLE001 - any failure means "no Triton": the eager path runs
    _HAVE_TRITON = False

_BLOCK = 1024


def fused_available() -> bool:
    """Whether the Triton kernels can be used (triton imports; CUDA tensors needed too)."""
    return _HAVE_TRITON


def _eager(a: torch.Tensor, hidden: int) -> torch.Tensor:
    return torch.tanh(a[:, :hidden]) * torch.sigmoid(a[:, hidden:])


_probed: set[torch.device] = set()


def _probe(device: torch.device) -> bool:
    """Run both kernels once on a small tensor of ``device`` against the eager maths;
    a Triton that cannot build them (old GPU, broken install) turns the fusion off
    with a warning instead of failing a training run."""
    global FUSED
    try:
        # fixed values, no random draws: the probe must not shift the dropout RNG
        x = torch.linspace(-6.0, 6.0, 2 * 8 * 37, device=device).view(2, 8, 37)
        a = x.flip(-1).requires_grad_(True)
        b = a.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            g = torch.cos(x[:, :4] * 3.0)
            (da,) = torch.autograd.grad(_FusedGate.apply(a, 4), a, g)
            (db,) = torch.autograd.grad(_eager(b, 4), b, g)
            ok = torch.allclose(_FusedGate.apply(a, 4), _eager(b, 4), atol=1e-5)
        ok = ok and torch.allclose(da, db, atol=1e-5)
        if not ok:
            raise RuntimeError("results differ from the eager expression")
    except Exception as e:  # noqa: BLE001 - any failure: fall back, say why
        warnings.warn(
            f"fused WaveNet gate disabled on {device}: {e}; using eager ops", stacklevel=3
        )
        FUSED = False
        return False
    _probed.add(device)
    return True


def gated_tanh_sigmoid(a: torch.Tensor, hidden: int) -> torch.Tensor:
    """``(B, 2H, T) -> (B, H, T)``: ``tanh`` of the first ``H`` channels times
    ``sigmoid`` of the last ``H``; fused on CUDA when Triton is available (checked
    once per device). Under ``torch.compile`` the eager expression is traced, which
    the compiler fuses itself."""
    if (
        FUSED
        and _HAVE_TRITON
        and a.is_cuda
        and not torch.compiler.is_compiling()
        and (
            a.device in _probed
            # never probe inside a CUDA-graph capture (it syncs); graphs warm up first
            or (not torch.cuda.is_current_stream_capturing() and _probe(a.device))
        )
    ):
        return _FusedGate.apply(a, hidden)
    return _eager(a, hidden)


def gated_tanh_sigmoid_fused(a: torch.Tensor, hidden: int) -> torch.Tensor:
    """The Triton version of :func:`gated_tanh_sigmoid` (CUDA, or CPU tensors under
    ``TRITON_INTERPRET=1``). Differentiable in ``a``."""
    if not _HAVE_TRITON:
        raise RuntimeError("gated_tanh_sigmoid_fused needs triton (pip install triton)")
    if a.dim() != 3 or a.size(1) != 2 * hidden:
        raise ValueError(f"expected a (B, {2 * hidden}, T) tensor, got {tuple(a.shape)}")
    return _FusedGate.apply(a, hidden)


if _HAVE_TRITON:

    def _gate_fwd_kernel(a_ptr, out_ptr, n, plane, BLOCK: tl.constexpr):
        # out[b, c, t] for flat k = b * plane + r (plane = H * T); a's tanh half sits
        # at b * 2 * plane + r and its sigmoid half one plane further
        k = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        m = k < n
        ia = (k // plane) * (2 * plane) + k % plane
        x = tl.load(a_ptr + ia, mask=m, other=0.0).to(tl.float32)
        y = tl.load(a_ptr + ia + plane, mask=m, other=0.0).to(tl.float32)
        # written out: tl.sigmoid is itself a jit function, which the interpreter
        # cannot call; exp overflowing to inf still gives the right limits 0 and -1
        s = 1.0 / (1.0 + tl.exp(-y))
        t = 2.0 / (1.0 + tl.exp(-2.0 * x)) - 1.0  # tanh
        tl.store(out_ptr + k, (t * s).to(out_ptr.dtype.element_ty), mask=m)

    def _gate_bwd_kernel(a_ptr, g_ptr, da_ptr, n, plane, BLOCK: tl.constexpr):
        k = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        m = k < n
        ia = (k // plane) * (2 * plane) + k % plane
        x = tl.load(a_ptr + ia, mask=m, other=0.0).to(tl.float32)
        y = tl.load(a_ptr + ia + plane, mask=m, other=0.0).to(tl.float32)
        g = tl.load(g_ptr + k, mask=m, other=0.0).to(tl.float32)
        s = 1.0 / (1.0 + tl.exp(-y))
        t = 2.0 / (1.0 + tl.exp(-2.0 * x)) - 1.0
        gs = g * s
        gt = g * t
        ty = da_ptr.dtype.element_ty
        tl.store(da_ptr + ia, (gs * (1.0 - t * t)).to(ty), mask=m)  # d tanh = 1 - t^2
        tl.store(da_ptr + ia + plane, (gt * s * (1.0 - s)).to(ty), mask=m)  # d sigmoid

    _kernels: dict[tuple[str, bool], object] = {}

    def _kernel(name: str):
        """Jitted on first use, so ``TRITON_INTERPRET`` is read then (as in MAS)."""
        interpret = os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")
        key = (name, interpret)
        if key not in _kernels:
            fn = _gate_fwd_kernel if name == "fwd" else _gate_bwd_kernel
            _kernels[key] = triton.jit(fn)
        return _kernels[key]

    class _FusedGate(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a: torch.Tensor, hidden: int) -> torch.Tensor:
            a = a.contiguous()
            b, _, t = a.shape
            out = torch.empty(b, hidden, t, dtype=a.dtype, device=a.device)
            n, plane = out.numel(), hidden * t
            if n:
                _kernel("fwd")[(triton.cdiv(n, _BLOCK),)](a, out, n, plane, BLOCK=_BLOCK)
            ctx.save_for_backward(a)  # the activations are recomputed, not stored
            ctx.hidden = hidden
            return out

        @staticmethod
        def backward(ctx, g: torch.Tensor):
            (a,) = ctx.saved_tensors
            g = g.contiguous()
            da = torch.empty_like(a)
            n, plane = g.numel(), ctx.hidden * a.size(2)
            if n:
                _kernel("bwd")[(triton.cdiv(n, _BLOCK),)](a, g, da, n, plane, BLOCK=_BLOCK)
            return da, None
