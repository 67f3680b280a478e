"""Monotonic Alignment Search on the CPU: Cython kernel vs brute force and the numpy reference."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from mas_testutil import check_path, make_mask, random_batch

from glowtts.monotonic_align import backend, maximum_path, maximum_path_cpu, maximum_path_numpy

needs_cython = pytest.mark.skipif(
    backend() != "cython", reason="Cython MAS extension not built (run `make install`)"
)


def _all_alignments(t_x: int, t_y: int):
    """Every monotonic surjective alignment as a token index per frame."""
    # choose the t_x - 1 frames (among 1..t_y-1) where the token advances
    for cuts in itertools.combinations(range(1, t_y), t_x - 1):
        tok = np.zeros(t_y, dtype=int)
        for c in cuts:
            tok[c:] += 1
        yield tok


def _brute_force(lp: np.ndarray) -> tuple[np.ndarray, float]:
    """Best alignment of a ``(t_x, t_y)`` grid and the gap to the runner-up."""
    t_x, t_y = lp.shape
    scores = [
        (lp[tok, np.arange(t_y)].astype(np.float64).sum(), tok) for tok in _all_alignments(t_x, t_y)
    ]
    scores.sort(key=lambda s: -s[0])
    gap = scores[0][0] - scores[1][0] if len(scores) > 1 else np.inf
    return scores[0][1], gap


@needs_cython
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_brute_force(dtype):
    rng = np.random.default_rng(0)
    n_checked = 0
    for t_x in range(1, 6):
        for t_y in range(t_x, 9):
            for _ in range(4):
                lp = rng.standard_normal((t_x, t_y)) * 3
                tok, gap = _brute_force(lp)
                if gap < 1e-2:  # keep the optimum unique and robust to float32 rounding
                    continue
                x = torch.from_numpy(lp).to(dtype)[None]
                path = maximum_path_cpu(x, torch.ones_like(x), num_threads=1)[0]
                np.testing.assert_array_equal(path.argmax(0).numpy(), tok)
                n_checked += 1
    assert n_checked > 100


@needs_cython
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_numpy_reference(threads, dtype):
    rng = np.random.default_rng(1)
    for b, tx_hi in ((8, 40), (5, 17), (3, 3)):
        for _ in range(3):
            log_p, mask, t_x, t_y = random_batch(rng, b, tx_hi, dtype=dtype)
            path = maximum_path_cpu(log_p, mask, num_threads=threads)
            assert path.dtype == log_p.dtype
            ref = maximum_path_numpy(log_p.numpy(), t_x, t_y)
            np.testing.assert_array_equal(path.numpy(), ref)
            check_path(path, t_x, t_y)


@needs_cython
def test_ties_match_reference():
    """Integer-valued scores tie often: the tie-breaking must equal the reference."""
    rng = np.random.default_rng(2)
    for _ in range(10):
        log_p, mask, t_x, t_y = random_batch(rng, 6, 30)
        log_p = log_p.round()
        path = maximum_path_cpu(log_p, mask, num_threads=2)
        np.testing.assert_array_equal(path.numpy(), maximum_path_numpy(log_p.numpy(), t_x, t_y))


def test_dispatcher_cpu_equals_reference():
    rng = np.random.default_rng(3)
    log_p, mask, t_x, t_y = random_batch(rng, 4, 25)
    path = maximum_path(log_p, mask)
    assert path.dtype == log_p.dtype and path.shape == log_p.shape
    np.testing.assert_array_equal(path.numpy(), maximum_path_numpy(log_p.numpy(), t_x, t_y))


def test_square_is_diagonal():
    log_p = torch.randn(2, 7, 7)
    path = maximum_path(log_p, torch.ones_like(log_p))
    assert torch.equal(path, torch.eye(7).expand(2, 7, 7))


def test_single_token_takes_all_frames():
    log_p = torch.randn(3, 1, 9)
    mask = make_mask(np.array([1, 1, 1]), np.array([9, 4, 1]), 1, 9)
    path = maximum_path(log_p, mask)
    assert torch.equal(path, mask)


def test_flat_scores_tie_break():
    """All-zero scores: every choice ties, and ties never advance early (stay unless forced)."""
    t_x, t_y = np.array([5, 3, 1]), np.array([12, 3, 4])
    mask = make_mask(t_x, t_y, 5, 12)
    path = maximum_path(torch.zeros(3, 5, 12), mask)
    check_path(path, t_x, t_y)
    for n in range(3):
        tok = path[n, : t_x[n], : t_y[n]].argmax(0).numpy()
        want = np.minimum(
            np.arange(t_y[n]), t_x[n] - 1
        )  # token i on frame i, the last keeps the rest
        np.testing.assert_array_equal(tok, want)
    np.testing.assert_array_equal(
        path.numpy(), maximum_path_numpy(np.zeros((3, 5, 12), np.float32), t_x, t_y)
    )


def test_extremely_peaked_scores():
    """A planted path at 0 among -1e9 everywhere else must be found exactly."""
    rng = np.random.default_rng(4)
    t_x, t_y = np.array([6, 20, 3]), np.array([30, 25, 3])
    lp = np.full((3, 20, 30), -1e9, np.float32)
    want = []
    for n in range(3):
        cuts = np.sort(rng.choice(np.arange(1, t_y[n]), t_x[n] - 1, replace=False))
        tok = np.zeros(t_y[n], int)
        for c in cuts:
            tok[c:] += 1
        lp[n, tok, np.arange(t_y[n])] = 0.0
        want.append(tok)
    path = maximum_path(torch.from_numpy(lp), make_mask(t_x, t_y, 20, 30))
    for n in range(3):
        np.testing.assert_array_equal(path[n, : t_x[n], : t_y[n]].argmax(0).numpy(), want[n])
    check_path(path, t_x, t_y)


def test_lengths_differing_tenfold():
    rng = np.random.default_rng(5)
    t_x, t_y = np.array([4, 40, 7, 40]), np.array([9, 90, 70, 40])
    log_p = torch.from_numpy(rng.standard_normal((4, 40, 90)).astype(np.float32))
    mask = make_mask(t_x, t_y, 40, 90)
    path = maximum_path(log_p, mask)
    check_path(path, t_x, t_y)
    np.testing.assert_array_equal(path.numpy(), maximum_path_numpy(log_p.numpy(), t_x, t_y))


def test_float64_and_bf16():
    rng = np.random.default_rng(6)
    log_p, mask, t_x, t_y = random_batch(rng, 4, 20)
    p64 = maximum_path(log_p.double(), mask.double())
    assert p64.dtype == torch.float64
    np.testing.assert_array_equal(p64.numpy(), maximum_path_numpy(log_p.double().numpy(), t_x, t_y))
    bf = log_p.bfloat16()
    pbf = maximum_path(bf, mask)
    assert pbf.dtype == torch.bfloat16
    check_path(pbf, t_x, t_y)
    # bf16 scores are scored in float32
    np.testing.assert_array_equal(
        pbf.float().numpy(), maximum_path_numpy(bf.float().numpy(), t_x, t_y)
    )


def test_mask_dtype_bool_and_noncontiguous():
    rng = np.random.default_rng(7)
    log_p, mask, t_x, t_y = random_batch(rng, 3, 15)
    lp_nc = log_p.transpose(1, 2).contiguous().transpose(1, 2)  # same values, other strides
    path = maximum_path(lp_nc, mask.bool())
    np.testing.assert_array_equal(path.numpy(), maximum_path_numpy(log_p.numpy(), t_x, t_y))


@pytest.mark.parametrize(
    "log_p, mask, match",
    [
        (torch.zeros(4, 5), torch.ones(4, 5), r"\(B, T_text, T_mel\)"),
        (torch.zeros(2, 3, 5), torch.ones(2, 3, 6), "same shape"),
        (torch.zeros(1, 3, 5), make_mask([3], [2], 3, 5), "T_text=3 and T_mel=2"),
        (torch.zeros(2, 3, 5), make_mask([3, 0], [5, 0], 3, 5), "batch item 1 has T_text=0"),
        (torch.zeros(0, 3, 5), torch.ones(0, 3, 5), "empty"),
        (torch.zeros(2, 0, 5), torch.ones(2, 0, 5), "empty"),
        (torch.zeros(2, 3, 0), torch.ones(2, 3, 0), "empty"),
        (torch.zeros(1, 2, 3, dtype=torch.long), torch.ones(1, 2, 3), "floating"),
    ],
)
def test_invalid_inputs_raise(log_p, mask, match):
    with pytest.raises(ValueError, match=match):
        maximum_path(log_p, mask)
    with pytest.raises(ValueError, match=match):
        maximum_path_cpu(log_p, mask, num_threads=2)


@needs_cython
def test_kernel_rejects_bad_lengths():
    from glowtts.monotonic_align.core import maximum_path_c

    x = np.zeros((1, 3, 5), np.float32)
    out = np.empty((1, 3, 5), np.uint8)
    for tx, ty in ((0, 5), (3, 2), (4, 5), (3, 6)):
        with pytest.raises(ValueError, match="item 0"):
            maximum_path_c(x, out, np.array([tx], np.int32), np.array([ty], np.int32), 1)
    with pytest.raises(ValueError, match="same"):
        maximum_path_c(
            x, np.empty((1, 3, 4), np.uint8), np.array([3], np.int32), np.array([4], np.int32), 1
        )
