"""Flow decoder: invertibility, log-determinants against autograd, masking."""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import jacobian

from glowtts.nets.commons import sequence_mask, squeeze, unsqueeze
from glowtts.nets.flows import ActNorm, AffineCoupling, FlowDecoder, InvConvNear

torch.manual_seed(0)


def _randomise(module: torch.nn.Module) -> None:
    """Move every parameter off its identity init so the tests see a non-trivial flow."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.1 * torch.randn_like(p))


def _small_decoder(channels: int) -> FlowDecoder:
    """A 2-block float64 decoder off its identity init, in eval mode (for exact logdets)."""
    dec = FlowDecoder(
        channels, hidden_channels=8, kernel_size=3, n_blocks=2, n_layers=2, p_dropout=0.0, n_split=4
    )
    _randomise(dec)
    return dec.double().eval()


def _mask(lengths, t):
    return sequence_mask(torch.tensor(lengths), t).unsqueeze(1).double()


def test_squeeze_roundtrip():
    x = torch.randn(2, 3, 8)
    m = _mask([8, 6], 8)
    xs, ms = squeeze(x * m, m, 2)
    assert xs.shape == (2, 6, 4) and ms.shape == (2, 1, 4)
    y, my = unsqueeze(xs, ms, 2)
    assert torch.equal(y, x * m) and torch.equal(my, m)


def test_decoder_reverse_forward_identity_with_padding():
    dec = FlowDecoder(
        8, hidden_channels=16, kernel_size=5, n_blocks=3, n_layers=2, p_dropout=0.0, n_split=4
    )
    _randomise(dec)
    dec.eval()
    x = torch.randn(3, 8, 20)
    m = sequence_mask(torch.tensor([20, 14, 6]), 20).unsqueeze(1).float()
    x = x * m
    z, logdet = dec(x, m)
    assert logdet.shape == (3,)
    x_rec, _ = dec(z, m, reverse=True)
    assert torch.allclose(x_rec, x, atol=1e-4)
    # padded frames stay zero and do not change the valid part
    x2 = x.clone()
    x2[1, :, 14:] = 100.0
    z2, logdet2 = dec(x2 * m, m)
    assert torch.allclose(z2, z, atol=1e-6) and torch.allclose(logdet2, logdet, atol=1e-5)


@pytest.mark.parametrize("kind", ["actnorm", "invconv", "coupling"])
def test_logdet_matches_autograd_jacobian(kind):
    torch.manual_seed(1)
    c, t = 4, 3
    if kind == "actnorm":
        flow = ActNorm(c)
    elif kind == "invconv":
        flow = InvConvNear(c, n_split=4)
    else:
        flow = AffineCoupling(c, hidden=8, kernel_size=3, dilation_rate=1, n_layers=2)
    _randomise(flow)
    flow = flow.double().eval()
    mask = torch.ones(1, 1, t, dtype=torch.float64)
    x = torch.randn(1, c, t, dtype=torch.float64)
    _, logdet = flow(x, mask)
    jac = jacobian(lambda v: flow(v.view(1, c, t), mask)[0].reshape(-1), x.reshape(-1))
    expected = torch.linalg.slogdet(jac)[1]
    assert torch.allclose(logdet[0], expected, atol=1e-8), (logdet, expected)


def test_logdet_counts_only_valid_frames():
    torch.manual_seed(2)
    dec = _small_decoder(4)
    x = torch.randn(2, 4, 8, dtype=torch.float64)
    m = _mask([8, 4], 8)
    _, logdet = dec(x * m, m)
    # the second item alone, cut to its length, has the same logdet
    _, alone = dec(x[1:, :, :4], torch.ones(1, 1, 4, dtype=torch.float64))
    assert torch.allclose(logdet[1], alone[0], atol=1e-8)


def test_whole_decoder_logdet_matches_autograd():
    torch.manual_seed(3)
    dec = _small_decoder(2)
    c, t = 2, 4
    mask = torch.ones(1, 1, t, dtype=torch.float64)
    x = torch.randn(1, c, t, dtype=torch.float64)
    _, logdet = dec(x, mask)
    jac = jacobian(lambda v: dec(v.view(1, c, t), mask)[0].reshape(-1), x.reshape(-1))
    assert torch.allclose(logdet[0], torch.linalg.slogdet(jac)[1], atol=1e-8)


def test_actnorm_data_dependent_init_standardises():
    an = ActNorm(3)
    x = torch.randn(4, 3, 50) * torch.tensor([2.0, 0.5, 5.0]).view(1, 3, 1) + 3.0
    m = torch.ones(4, 1, 50)
    an.data_dependent_init()
    z, _ = an(x, m)
    assert bool(an.initialized)
    assert torch.allclose(z.mean((0, 2)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(z.std((0, 2), unbiased=False), torch.ones(3), atol=1e-3)


def test_prepare_for_inference_keeps_the_function():
    dec = FlowDecoder(8, hidden_channels=16, kernel_size=5, n_blocks=2, n_layers=2, p_dropout=0.0)
    _randomise(dec)
    dec.eval()
    z = torch.randn(2, 8, 10)
    m = torch.ones(2, 1, 10)
    before, _ = dec(z, m, reverse=True)
    dec.prepare_for_inference()
    after, _ = dec(z, m, reverse=True)
    assert torch.allclose(before, after, atol=1e-5)
