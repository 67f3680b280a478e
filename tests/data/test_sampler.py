"""BucketBatchSampler: frame budget, coverage, determinism, resume, DDP sharding."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from glowtts.data.sampler import BucketBatchSampler


def _lengths(n: int = 101, seed: int = 0) -> list[int]:
    return np.random.default_rng(seed).integers(20, 200, size=n).tolist()


def _cost(lengths, b):
    return max(lengths[i] for i in b) * len(b)


def test_budget_and_cap_respected_and_every_utt_once():
    lengths = _lengths()
    s = BucketBatchSampler(lengths, batch_frames=800, batch_size=6, seed=1)
    for epoch in range(3):
        s.set_epoch(epoch)
        batches = list(s)
        assert all(_cost(lengths, b) <= 800 and len(b) <= 6 for b in batches)
        assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
        # greedy packing: no batch could have taken the next-longer utterance
        assert len(batches) < len(lengths) / 2


def test_bucketing_reduces_padding():
    lengths = _lengths(400)
    s = BucketBatchSampler(lengths, batch_size=8, seed=0)
    stats = s.padding_stats(0)
    real = sum(lengths)
    assert stats["frames"] == real
    assert stats["padding_waste"] == pytest.approx(1 - real / stats["padded_frames"])
    # random batches of 8 waste far more than length-sorted ones
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(lengths))
    rnd = sum(_cost(lengths, perm[i : i + 8]) for i in range(0, len(perm), 8))
    assert stats["padding_waste"] < 0.5 * (1 - real / rnd)


def test_too_long_utterance_alone(caplog):
    lengths = [10, 10, 500, 10]
    with caplog.at_level(logging.WARNING):
        s = BucketBatchSampler(lengths, batch_frames=100, seed=0)
    assert "longer than batch_frames" in caplog.text
    batches = list(s)
    assert [2] in batches
    assert sorted(i for b in batches for i in b) == [0, 1, 2, 3]


def test_deterministic_given_seed_and_changes_with_epoch_and_seed():
    lengths = _lengths()
    a = BucketBatchSampler(lengths, batch_frames=600, seed=5)
    b = BucketBatchSampler(lengths, batch_frames=600, seed=5)
    c = BucketBatchSampler(lengths, batch_frames=600, seed=6)
    assert list(a) == list(b)
    assert list(a) != list(c)
    a.set_epoch(1)
    b.set_epoch(0)
    assert list(a) != list(b)


def test_no_shuffle_is_sorted():
    lengths = _lengths(30)
    s = BucketBatchSampler(lengths, batch_size=4, shuffle=False)
    flat = [i for b in s for i in b]
    assert [lengths[i] for i in flat] == sorted(lengths)


def test_resume_mid_epoch_gives_same_remaining_batches():
    lengths = _lengths()
    s = BucketBatchSampler(lengths, batch_frames=700, seed=9)
    s.set_epoch(3)
    it = iter(s)
    head = [next(it) for _ in range(5)]
    state = s.state_dict()
    rest = list(it)
    assert state["epoch"] == 3 and state["position"] == 5
    s2 = BucketBatchSampler(lengths, batch_frames=700, seed=9)
    s2.load_state_dict(state)
    assert len(s2) == len(rest)
    assert list(s2) == rest
    assert head + rest == s.rank_batches(3)


@pytest.mark.parametrize("world", [2, 3])
def test_ddp_shards_disjoint_cover_equal(world):
    lengths = _lengths(53, seed=world)
    shards = []
    for r in range(world):
        s = BucketBatchSampler(lengths, batch_frames=500, seed=4, num_replicas=world, rank=r)
        s.set_epoch(2)
        shards.append(list(s))
        assert all(_cost(lengths, b) <= 500 for b in shards[-1])
    assert len({len(x) for x in shards}) == 1  # equal batch counts
    utts = [[i for b in sh for i in b] for sh in shards]
    flat = [i for u in utts for i in u]
    assert len(flat) == len(set(flat))  # disjoint
    assert sorted(flat) == list(range(len(lengths)))  # cover


def test_ddp_consecutive_batches_round_robin():
    # rank r takes global batches r, r+W, ...: with sorting and no shuffle, ranks together
    # see exactly what one process with a W-times larger batch sees
    lengths = [40] * 8
    r0 = BucketBatchSampler(lengths, batch_size=2, shuffle=False, num_replicas=2, rank=0)
    r1 = BucketBatchSampler(lengths, batch_size=2, shuffle=False, num_replicas=2, rank=1)
    one = BucketBatchSampler(lengths, batch_size=4, shuffle=False)
    assert [a + b for a, b in zip(r0, r1)] == list(one)


def test_errors():
    with pytest.raises(ValueError, match="batch_frames"):
        BucketBatchSampler([1, 2], batch_frames=0, batch_size=0)
    with pytest.raises(ValueError, match="rank"):
        BucketBatchSampler([1, 2], batch_size=1, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="ranks"):
        BucketBatchSampler([5], batch_size=1, num_replicas=2, rank=0).rank_batches(0)
