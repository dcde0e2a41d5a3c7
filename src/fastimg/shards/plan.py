"""What each reader of an epoch delivers. With per-shard sample counts (index.json) the epoch is exact:
the shards are permuted from (seed, epoch), their samples concatenated, and the sequence cut into equal
contiguous ranges per rank (padded by wrapping, as DistributedSampler pads) and then per DataLoader worker
in whole batches. Without counts (or with ``resampled=True``) readers stream whole shards, or residues of
them, up to a per-reader budget."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import NamedTuple, Optional

import numpy as np


class Segment(NamedTuple):
    """Samples ``start`` to ``stop`` (ordinals, stop excluded) of the shard at ``shard`` in the URL list."""

    shard: int
    start: int
    stop: int


class Unit(NamedTuple):
    """One shard as a budget reader streams it: samples whose ordinal in the shard is ``offset`` mod
    ``stride``."""

    shard: int
    stride: int
    offset: int


class Layout(NamedTuple):
    """Who reads an epoch: ``seed`` and ``epoch`` key the shard order (``shuffle``), this ``rank`` of
    ``world``, its DataLoader ``workers``, and the batches they deliver."""

    seed: int
    epoch: int
    shuffle: bool
    rank: int
    world: int
    workers: int
    batch_size: int
    drop_last: bool


class ReaderPlan(NamedTuple):
    """A reader's epoch: ``segments`` (exact: exactly these samples, in this order before shuffling) or
    ``units`` (streamed up to the budget); ``samples`` it delivers (None: all it streams) in ``batches``."""

    segments: Optional[list[Segment]]
    units: Optional[list[Unit]]
    samples: Optional[int]
    batches: Optional[int]


def shard_order(n: int, seed: int, epoch: int, shuffle: bool) -> list[int]:
    if not shuffle:
        return list(range(n))
    return [int(i) for i in np.random.default_rng([seed, epoch, 0x5A4D]).permutation(n)]


def rank_samples(total: int, world: int, batch_size: int, drop_last: bool) -> int:
    """Samples each rank delivers per epoch: the same on every rank, so batch counts match."""
    if world == 1:
        return total // batch_size * batch_size if drop_last else total
    if drop_last:
        return total // world // batch_size * batch_size
    return math.ceil(total / world)  # padded, as DistributedSampler pads


def _batch_split(samples: int, batch_size: int, parts: int) -> list[tuple[int, int]]:
    """(first sample, samples) of each part: whole batches as even as can be, the partial one last."""
    batches = -(-samples // batch_size)
    bounds = [min(p * batches // parts * batch_size, samples) for p in range(parts + 1)]
    return [(bounds[p], bounds[p + 1] - bounds[p]) for p in range(parts)]


def _segments(order: list[int], counts: Sequence[int], start: int, stop: int) -> list[Segment]:
    """The samples at positions start..stop of the epoch's sequence (the shards in ``order``, their samples
    concatenated; positions past its end wrap to its start) as runs within shards."""
    firsts = list(np.cumsum([0] + [counts[s] for s in order]))
    total = int(firsts[-1])
    out: list[Segment] = []
    pos = start
    while pos < stop and total:
        p = pos % total
        i = bisect.bisect_right(firsts, p) - 1
        take = min(stop - pos, int(firsts[i + 1]) - p)
        first = p - int(firsts[i])
        out.append(Segment(order[i], first, first + take))
        pos += take
    return out


def exact_plans(counts: Sequence[int], lay: Layout) -> list[ReaderPlan]:
    """The plans of every worker of this rank: each rank takes an equal contiguous range of the epoch's
    sequence, each worker a contiguous run of whole batches of it. One rank delivers every sample once;
    W ranks at most W-1 repeats (none with drop_last, which drops the sequence's tail instead)."""
    order = shard_order(len(counts), lay.seed, lay.epoch, lay.shuffle)
    per_rank = rank_samples(sum(counts), lay.world, lay.batch_size, lay.drop_last)
    begin = lay.rank * per_rank
    plans = []
    for first, samples in _batch_split(per_rank, lay.batch_size, lay.workers):
        segments = _segments(order, counts, begin + first, begin + first + samples)
        plans.append(ReaderPlan(segments, None, samples, -(-samples // lay.batch_size)))
    return plans


def _split(units: list[Unit], weights: list[float], parts: int) -> list[list[Unit]]:
    """Splits units across `parts` readers: whole shards, balanced greedily by sample count, when there are
    enough of them; otherwise every reader takes every shard and a disjoint residue of its samples."""
    if len(units) >= parts:
        groups: list[list[Unit]] = [[] for _ in range(parts)]
        loads = [0.0] * parts
        for unit, w in zip(units, weights):
            target = min(range(parts), key=lambda p: (loads[p], p))
            groups[target].append(unit)
            loads[target] += w
        return groups
    return [[Unit(u.shard, u.stride * parts, u.offset + u.stride * p) for u in units] for p in range(parts)]


def budget_plans(n: int, total: Optional[float], lay: Layout) -> list[ReaderPlan]:
    """Without per-shard counts: whole shards (or residues) dealt to ranks and workers; each reader delivers
    its share of ``total`` samples (an estimate from ``length=``, or an epoch length), padding by streaming
    its shards again or stopping early; with ``total`` None, everything it streams."""
    order = shard_order(n, lay.seed, lay.epoch, lay.shuffle)
    mine = _split([Unit(i, 1, 0) for i in order], [1.0] * n, lay.world)[lay.rank]
    by_worker = _split(mine, [1.0 / u.stride for u in mine], lay.workers)
    if total is None:
        return [ReaderPlan(None, units, None, None) for units in by_worker]
    budget = rank_samples(round(total), lay.world, lay.batch_size, lay.drop_last)
    shares = _batch_split(budget, lay.batch_size, lay.workers)
    return [ReaderPlan(None, units, s, -(-s // lay.batch_size)) for units, (_, s) in zip(by_worker, shares)]


def round_robin(batches: list[int], taken: int) -> tuple[list[int], int]:
    """How many of `taken` batches each reader gave when a DataLoader took them in turn (skipping readers
    that finished), and which reader comes next."""
    consumed = [0] * len(batches)
    i = count = 0
    while count < taken and any(c < b for c, b in zip(consumed, batches)):
        if consumed[i] < batches[i]:
            consumed[i] += 1
            count += 1
        i = (i + 1) % len(batches)
    return consumed, i
