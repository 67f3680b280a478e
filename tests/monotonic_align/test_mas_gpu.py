"""GPU MAS (Triton): identical paths to the CPU kernel.

On a CUDA machine the kernel runs compiled; without one it runs in Triton's
interpreter (``TRITON_INTERPRET=1``) on CPU tensors. Both skip without triton.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from mas_testutil import check_path, make_mask, random_batch

from glowtts.monotonic_align import maximum_path, maximum_path_numpy

HAS_TRITON = importlib.util.find_spec("triton") is not None
needs_triton = pytest.mark.skipif(
    not HAS_TRITON, reason="triton is not installed (optional; the GPU machine has it)"
)
needs_cuda = pytest.mark.skipif(
    not (HAS_TRITON and torch.cuda.is_available()), reason="needs a CUDA device and triton"
)


def _gpu():
    from glowtts.monotonic_align.gpu import maximum_path_gpu

    return maximum_path_gpu


def _run(log_p, t_x, t_y, **kw):
    return _gpu()(log_p, torch.as_tensor(t_x), torch.as_tensor(t_y), **kw)


@needs_triton
def test_interpreter_matches_reference(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    rng = np.random.default_rng(10)
    cases = [random_batch(rng, 3, 20) for _ in range(2)]
    log_p, _, t_x, t_y = random_batch(rng, 3, 20)
    cases.append((log_p.round(), None, t_x, t_y))  # ties
    cases.append((torch.zeros(2, 4, 9), None, np.array([4, 1]), np.array([9, 5])))  # flat
    cases.append((torch.randn(1, 6, 6), None, np.array([6]), np.array([6])))  # square
    for log_p, _, t_x, t_y in cases:
        path = _run(log_p, t_x, t_y)
        assert path.dtype == log_p.dtype and path.device == log_p.device
        np.testing.assert_array_equal(path.numpy(), maximum_path_numpy(log_p.numpy(), t_x, t_y))
        check_path(path, t_x, t_y)


@needs_triton
def test_interpreter_token_blocks_and_float64(monkeypatch):
    """T_text > block exercises the loop over token blocks inside a frame."""
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    rng = np.random.default_rng(11)
    t_x, t_y = np.array([40, 17, 33]), np.array([60, 40, 33])
    log_p = torch.from_numpy(rng.standard_normal((3, 40, 60)))
    path = _run(log_p, t_x, t_y, block=16)
    assert path.dtype == torch.float64
    np.testing.assert_array_equal(path.numpy(), maximum_path_numpy(log_p.numpy(), t_x, t_y))
    # a non-contiguous input (other strides, same values) gives the same contiguous path
    path = _run(log_p.transpose(1, 2).contiguous().transpose(1, 2), t_x, t_y)
    assert path.is_contiguous()
    np.testing.assert_array_equal(path.numpy(), maximum_path_numpy(log_p.numpy(), t_x, t_y))


@needs_triton
def test_rejects_cpu_tensors_without_interpreter(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="CUDA"):
        _run(torch.zeros(1, 2, 3), [2], [3])


@needs_cuda
@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_cuda_equals_cpu(dtype):
    rng = np.random.default_rng(12)
    for b, tx_hi, ratio in ((16, 120, 6.0), (8, 30, 3.0), (4, 2, 2.0)):
        log_p, mask, t_x, t_y = random_batch(rng, b, tx_hi, ratio)
        log_p = log_p.to(dtype)
        want = maximum_path(log_p, mask)  # CPU kernel
        got = maximum_path(log_p.cuda(), mask.cuda())
        assert got.is_cuda and got.dtype == dtype
        assert torch.equal(got.cpu(), want)
        check_path(got, t_x, t_y)


@needs_cuda
@pytest.mark.cuda
def test_cuda_edge_cases():
    rng = np.random.default_rng(13)
    cases = []
    log_p, mask, t_x, t_y = random_batch(rng, 8, 40)
    cases.append((log_p.round(), mask))  # ties
    t_x, t_y = np.array([5, 1, 7, 70]), np.array([12, 6, 7, 700])  # flat, T_text=1, square, 10x
    cases.append((torch.zeros(4, 70, 700), make_mask(t_x, t_y, 70, 700)))
    cases.append((torch.randn(4, 70, 700) * 1e4, make_mask(t_x, t_y, 70, 700)))  # peaked
    for log_p, mask in cases:
        assert torch.equal(maximum_path(log_p.cuda(), mask.cuda()).cpu(), maximum_path(log_p, mask))


@needs_cuda
@pytest.mark.cuda
def test_cuda_long_text_token_blocks():
    rng = np.random.default_rng(14)
    t_x, t_y = np.array([1500, 300]), np.array([1600, 2000])
    log_p = torch.from_numpy(rng.standard_normal((2, 1500, 2000)).astype(np.float32))
    want = maximum_path(log_p, make_mask(t_x, t_y, 1500, 2000))
    for block in (None, 64):
        got = _run(log_p.cuda(), t_x, t_y, block=block)
        assert torch.equal(got.cpu(), want)
