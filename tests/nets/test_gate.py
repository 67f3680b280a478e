"""The fused WaveNet gate: same values and gradients as the eager expression.

The Triton kernels run compiled on CUDA and in Triton's interpreter
(``TRITON_INTERPRET=1``) on CPU tensors; both skip without triton.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch

from glowtts.nets import gate
from glowtts.nets.layers import WN

HAS_TRITON = importlib.util.find_spec("triton") is not None
needs_triton = pytest.mark.skipif(
    not HAS_TRITON, reason="triton is not installed (optional; the GPU machine has it)"
)


def _eager(a: torch.Tensor, h: int) -> torch.Tensor:
    return torch.tanh(a[:, :h]) * torch.sigmoid(a[:, h:])


def _compare(a: torch.Tensor, h: int, atol: float) -> None:
    a1 = a.detach().clone().requires_grad_(True)
    a2 = a.detach().clone().requires_grad_(True)
    y1 = gate.gated_tanh_sigmoid_fused(a1, h)
    y2 = _eager(a2, h)
    assert y1.shape == y2.shape and y1.dtype == y2.dtype
    torch.testing.assert_close(y1.float(), y2.float(), atol=atol, rtol=atol)
    g = torch.randn_like(y2)
    y1.backward(g)
    y2.backward(g)
    torch.testing.assert_close(a1.grad.float(), a2.grad.float(), atol=atol, rtol=atol)


@needs_triton
@pytest.mark.parametrize("shape", [(3, 5, 7), (2, 16, 300), (1, 1, 1)])
def test_fused_gate_matches_eager_in_interpreter(monkeypatch, shape):
    # several items and a length that is not a multiple of the block: the half-plane
    # offsets of every item are exercised; large |a| checks the saturated ends
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    b, h, t = shape
    a = torch.randn(b, 2 * h, t) * 4.0
    _compare(a, h, atol=1e-6)


@needs_triton
def test_fused_gate_bf16_and_shape_check(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    a = torch.randn(2, 8, 33).bfloat16()
    _compare(a, 4, atol=2e-2)  # eager rounds three times in bf16, fused once
    with pytest.raises(ValueError, match=r"\(B, 6, T\)"):
        gate.gated_tanh_sigmoid_fused(a, 3)


@needs_triton
def test_probe_accepts_working_kernels_and_falls_back_on_failure(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setattr(gate, "FUSED", True)
    monkeypatch.setattr(gate, "_probed", set())
    cpu = torch.device("cpu")
    rng = torch.get_rng_state()
    assert gate._probe(cpu) and cpu in gate._probed and gate.FUSED
    assert torch.equal(torch.get_rng_state(), rng)  # dropout streams stay where they were

    def broken(*args):
        raise RuntimeError("no kernel for this GPU")

    monkeypatch.setattr(gate._FusedGate, "apply", broken)
    with pytest.warns(UserWarning, match="fused WaveNet gate disabled.*no kernel"):
        assert not gate._probe(torch.device("meta"))
    assert gate.FUSED is False  # from now on the eager expression runs


@pytest.mark.skipif(
    not (HAS_TRITON and torch.cuda.is_available()), reason="needs a CUDA device and triton"
)
def test_wn_fused_on_cuda_matches_eager(monkeypatch):
    torch.manual_seed(0)
    wn = WN(hidden=16, kernel_size=5, dilation_rate=1, n_layers=3).cuda()
    x = torch.randn(2, 16, 50, device="cuda", requires_grad=True)
    mask = torch.ones(2, 1, 50, device="cuda")
    mask[1, :, 40:] = 0
    y = wn(x, mask)
    (gx,) = torch.autograd.grad(y.square().sum(), x)
    monkeypatch.setattr(gate, "FUSED", False)
    y0 = wn(x, mask)
    (gx0,) = torch.autograd.grad(y0.square().sum(), x)
    torch.testing.assert_close(y, y0, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(gx, gx0, atol=1e-5, rtol=1e-5)
