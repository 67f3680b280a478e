"""Length-bucketed batch sampler with a padded-frame budget, DDP sharding and resume.

Batches of an epoch are a pure function of ``(lengths, seed, epoch, budget, num_replicas)``:
utterances are sorted by length (ties broken by a seeded shuffle), packed greedily so
that ``max_len * batch_size <= batch_frames`` (the padded frame count), then the batch
order is shuffled. Resuming therefore only needs ``(epoch, position)``.

Under DDP each rank takes every ``num_replicas``-th batch of the global list. To give
every rank the same number of batches without dropping or repeating utterances, the
largest batches are split in two until the count divides ``num_replicas``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler

logger = logging.getLogger(__name__)


class BucketBatchSampler(Sampler[list[int]]):
    """Yield lists of dataset indices; one list per (micro-)batch.

    Args:
        lengths: frame count of every utterance (``(N,)``); the padded cost of a batch
            is ``max(lengths[batch]) * len(batch)``.
        batch_frames: budget of padded frames per batch (``None`` or 0: no budget).
        batch_size: max utterances per batch (``None`` or 0: no cap). One of the two
            must be set.
        shuffle: seeded shuffle of ties and of the batch order, new every epoch.
        seed: base seed; the epoch's permutation uses ``(seed, epoch)``.
        num_replicas: DDP world size; ``rank``: this process's rank.

    ``len(sampler)`` is the number of batches this rank still yields in the current
    epoch (from ``position``).
    """

    def __init__(
        self,
        lengths: Sequence[int],
        *,
        batch_frames: int | None = None,
        batch_size: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        if not batch_frames and not batch_size:
            raise ValueError("BucketBatchSampler: set batch_frames and/or batch_size")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"BucketBatchSampler: rank {rank} not in [0, {num_replicas})")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if self.lengths.ndim != 1 or len(self.lengths) == 0:
            raise ValueError("BucketBatchSampler: lengths must be a non-empty 1-D sequence")
        self.batch_frames = int(batch_frames or 0)
        self.batch_size = int(batch_size or 0)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.position = 0
        self._yielded = 0
        self._cache: tuple[int, list[list[int]], list[list[int]]] | None = None
        self._warned_long = False
        if self.batch_frames:
            n_long = int((self.lengths > self.batch_frames).sum())
            if n_long:
                logger.warning(
                    "%d utterances are longer than batch_frames=%d; each gets a batch of its own",
                    n_long,
                    self.batch_frames,
                )

    # -- batch construction -------------------------------------------------------------
    def _pack(self, order: np.ndarray) -> list[list[int]]:
        batches: list[list[int]] = []
        cur: list[int] = []
        cur_max = 0
        for i in order.tolist():
            n = int(self.lengths[i])
            new_max = max(cur_max, n)
            fits = (not self.batch_frames or new_max * (len(cur) + 1) <= self.batch_frames) and (
                not self.batch_size or len(cur) < self.batch_size
            )
            if cur and not fits:
                batches.append(cur)
                cur, new_max = [], n
            cur.append(i)
            cur_max = new_max
        if cur:
            batches.append(cur)
        return batches

    def global_batches(self, epoch: int) -> list[list[int]]:
        """All batches of ``epoch`` across ranks, in iteration order (rank r takes r::world)."""
        rng = np.random.default_rng([self.seed, epoch])
        if self.shuffle:
            perm = rng.permutation(len(self.lengths))
            order = perm[np.argsort(self.lengths[perm], kind="stable")]
        else:
            order = np.argsort(self.lengths, kind="stable")
        batches = self._pack(order)
        if self.shuffle:
            batches = [batches[j] for j in rng.permutation(len(batches))]
        w = self.num_replicas
        while len(batches) % w:
            # split the most expensive splittable batch: halves stay within the budget
            cands = [j for j, b in enumerate(batches) if len(b) > 1]
            if not cands:
                n_drop = len(batches) % w
                logger.warning(
                    "epoch %d: %d single-utterance batches dropped so that %d ranks get "
                    "equal counts",
                    epoch,
                    n_drop,
                    w,
                )
                batches = batches[: len(batches) - n_drop]
                break
            j = max(cands, key=lambda k: (self._cost(batches[k]), -k))
            b = batches[j]
            batches[j : j + 1] = [b[: len(b) // 2], b[len(b) // 2 :]]
        if not batches:
            raise ValueError(
                f"BucketBatchSampler: {len(self.lengths)} utterances cannot give every one of "
                f"{w} ranks a batch"
            )
        return batches

    def _cost(self, b: list[int]) -> int:
        return int(self.lengths[b].max()) * len(b)

    def rank_batches(self, epoch: int) -> list[list[int]]:
        """This rank's batches of ``epoch`` (cached for the current epoch)."""
        if self._cache is None or self._cache[0] != epoch:
            g = self.global_batches(epoch)
            self._cache = (epoch, g, g[self.rank :: self.num_replicas])
        return self._cache[2]

    def padding_stats(self, epoch: int | None = None) -> dict:
        """Padding waste of an epoch (all ranks): real vs padded frames, batch count."""
        g = self.global_batches(self.epoch if epoch is None else epoch)
        real = int(sum(int(self.lengths[b].sum()) for b in g))
        padded = int(sum(self._cost(b) for b in g))
        return {
            "batches": len(g),
            "batches_per_rank": len(g) // self.num_replicas,
            "frames": real,
            "padded_frames": padded,
            "padding_waste": 1.0 - real / padded,
        }

    # -- iteration and state ------------------------------------------------------------
    def set_epoch(self, epoch: int, position: int = 0) -> None:
        """Select the epoch and the number of its batches already consumed on this rank."""
        self.epoch = int(epoch)
        self.position = int(position)
        self._yielded = self.position

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.rank_batches(self.epoch)
        for i in range(self.position, len(batches)):
            self._yielded = i + 1
            yield list(batches[i])

    def __len__(self) -> int:
        return max(0, len(self.rank_batches(self.epoch)) - self.position)

    def batches_per_epoch(self) -> int:
        """Batches this rank yields in a full epoch."""
        return len(self.rank_batches(self.epoch))

    def state_dict(self, position: int | None = None) -> dict:
        """``{"epoch", "position", ...}``; ``position`` defaults to the batches yielded so far.

        A DataLoader prefetches from the sampler, so the trainer passes the count it has
        actually consumed.
        """
        return {
            "epoch": self.epoch,
            "position": self._yielded if position is None else int(position),
            "seed": self.seed,
            "num_replicas": self.num_replicas,
            "num_utts": len(self.lengths),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore ``(epoch, position)``; warn when the data or world size changed."""
        if state.get("num_utts") != len(self.lengths) or state.get("seed") != self.seed:
            logger.warning(
                "sampler state from a different data set or seed (%s utts, seed %s; now %d, %d): "
                "the rest of the epoch will not match the interrupted run",
                state.get("num_utts"),
                state.get("seed"),
                len(self.lengths),
                self.seed,
            )
        if state.get("num_replicas") != self.num_replicas:
            logger.warning(
                "sampler state saved with %s ranks, now %d: the epoch restarts",
                state.get("num_replicas"),
                self.num_replicas,
            )
            self.set_epoch(int(state["epoch"]), 0)
            return
        self.set_epoch(int(state["epoch"]), int(state["position"]))
