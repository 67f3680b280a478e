"""The CPU dropout draws the same distribution as nn.Dropout and follows the torch seed."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from glowtts.nets.dropout import Dropout, dropout, keep_mask


@pytest.mark.parametrize("p", [0.05, 0.1, 0.5])
def test_keep_rate_is_one_minus_p(p):
    torch.manual_seed(0)
    n = 400_000
    kept = keep_mask(torch.Size([n]), p).double().mean().item()
    sd = math.sqrt(p * (1 - p) / n)
    assert abs(kept - (1 - p)) < 5 * sd


def test_mask_has_no_structure_along_the_tensor():
    """Halves, even/odd positions (the two int32 halves of one PCG64 output) and
    neighbours are independent: same keep rate, no correlation between neighbours."""
    torch.manual_seed(1)
    m = keep_mask(torch.Size([8, 64, 1000]), 0.3).double().flatten()
    n = m.numel()
    sd = math.sqrt(0.3 * 0.7 / (n / 2))
    for part in (m[: n // 2], m[n // 2 :], m[0::2], m[1::2]):
        assert abs(part.mean().item() - 0.7) < 5 * sd
    c = m - m.mean()
    corr = (c[1:] * c[:-1]).mean() / c.var()
    assert abs(corr.item()) < 5 / math.sqrt(n)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_kept_values_are_scaled_exactly_and_gradient_is_the_mask(dtype):
    p = 0.05
    x = (torch.randn(4, 32, 50) * 3).to(dtype).requires_grad_()
    y = dropout(x, p)
    assert y.dtype == dtype
    kept = y != 0
    want = (x.detach().float() * (1 / (1 - p))).to(dtype)  # rounded once from float
    torch.testing.assert_close(y[kept], want[kept], atol=0, rtol=0)
    y.float().sum().backward()
    torch.testing.assert_close(
        x.grad, torch.where(kept, torch.tensor(1 / (1 - p)), 0.0).to(dtype), atol=0, rtol=0
    )


def test_follows_torch_manual_seed():
    x = torch.ones(3, 16, 200)
    torch.manual_seed(7)
    a, b = dropout(x, 0.2), dropout(x, 0.2)
    torch.manual_seed(7)
    a2 = dropout(x, 0.2)
    torch.testing.assert_close(a, a2, atol=0, rtol=0)
    assert not torch.equal(a, b)  # successive calls draw new masks


def test_eval_mode_zero_p_and_module():
    x = torch.randn(2, 8, 30)
    mod = Dropout(0.5)
    mod.eval()
    assert mod(x) is x
    assert dropout(x, 0.0) is x
    mod.train()
    y = mod(x)
    assert 0 < (y == 0).float().mean() < 1
    assert torch.equal(dropout(x, 1.0), F.dropout(x, 1.0, True))  # all dropped
    with pytest.raises(ValueError, match="dropout probability"):
        Dropout(1.5)


def test_compiled_and_eager_draw_the_same_masks():
    mod = Dropout(0.3).train()
    compiled = torch.compile(mod, backend="eager")
    x = torch.randn(2, 16, 40)
    torch.manual_seed(3)
    a = mod(x)
    torch.manual_seed(3)
    b = compiled(x)
    torch.testing.assert_close(a, b, atol=0, rtol=0)
