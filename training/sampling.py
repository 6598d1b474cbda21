"""Batch orders that are a pure function of (seed, epoch), so training can resume mid-epoch.

The loop keeps the position (epoch, batch index) and asks for `epoch_batches(epoch)[position:]`;
nothing here carries hidden state, and a resumed run sees exactly the batches an uninterrupted
run would have seen. Under DDP every rank builds the same global batches and takes its slice.
"""

from __future__ import annotations

import numpy as np


class BatchPlan:
    """Index batches for one epoch: shuffled, or class-balanced with m samples per class.

    Class-balanced batches (for small albums and pair losses) draw batch_size // m distinct
    classes per batch and m samples from each (with replacement only when a class has fewer than
    m samples); an epoch has as many batches as a plain epoch would. Partial batches are dropped
    so BatchNorm never sees a batch of one.
    """

    def __init__(
        self,
        labels: np.ndarray,
        batch_size: int,
        seed: int = 0,
        m_per_class: int | None = None,
        rank: int = 0,
        world_size: int = 1,
    ):
        self.labels = np.asarray(labels, dtype=np.int64)
        self.seed, self.m, self.rank, self.world = seed, m_per_class, rank, world_size
        self.global_batch = min(batch_size * world_size, len(self.labels))
        if self.global_batch < 2 * world_size:
            raise ValueError("need at least two samples per batch and rank")
        self.by_class = [
            np.flatnonzero(self.labels == c) for c in range(int(self.labels.max()) + 1)
        ]

    def __len__(self) -> int:
        """Batches per epoch."""
        return len(self.labels) // self.global_batch

    def _rng(self, epoch: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, epoch])

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        """This rank's index batches for `epoch`, in order."""
        batches = self._balanced(epoch) if self.m else self._shuffled(epoch)
        share = len(batches[0]) // self.world
        return [b[self.rank * share : (self.rank + 1) * share] for b in batches]

    def _shuffled(self, epoch: int) -> list[list[int]]:
        order = self._rng(epoch).permutation(len(self.labels))
        n, size = len(self), self.global_batch
        return [order[i * size : (i + 1) * size].tolist() for i in range(n)]

    def _balanced(self, epoch: int) -> list[list[int]]:
        rng = self._rng(epoch)
        present = np.array([c for c, idx in enumerate(self.by_class) if len(idx)])
        per_batch = max(
            min(self.global_batch // self.m, len(present)), 2 if len(present) > 1 else 1
        )
        batches = []
        for _ in range(len(self)):
            classes = rng.choice(present, size=per_batch, replace=False)
            batch = [self._draw(rng, c) for c in classes]
            batches.append(np.concatenate(batch).tolist())
        return batches

    def _draw(self, rng: np.random.Generator, label: int) -> np.ndarray:
        pool = self.by_class[label]
        return rng.choice(pool, size=self.m, replace=len(pool) < self.m)
