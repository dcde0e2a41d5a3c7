"""Which samples a rank sees in an epoch, and in what order: a permutation from (seed, epoch) alone,
sharded like torch's DistributedSampler (padded by wrapping so every rank gets the same count)."""

from __future__ import annotations

import math
import os
from typing import Any, Optional

import numpy as np
import torch


def shard_of(shard: Any) -> tuple[int, int]:
    """(rank, world_size): "auto" reads an initialised torch.distributed, else RANK / WORLD_SIZE, else
    (0, 1); None means no sharding; a (rank, world_size) pair is taken as given."""
    if shard is None:
        return 0, 1
    if shard == "auto":
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            return torch.distributed.get_rank(), torch.distributed.get_world_size()
        if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
            return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        return 0, 1
    try:
        rank, world = (int(v) for v in shard)
    except (TypeError, ValueError):
        raise ValueError(f"shard must be 'auto', None or (rank, world_size), got {shard!r}") from None
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"shard: rank must be in [0, world_size), got {shard!r}")
    return rank, world


def epoch_order(
    n: int, *, seed: int, epoch: int, shuffle: bool, sampler: Optional[Any], rank: int, world: int
) -> np.ndarray:
    """This rank's sample indices for the epoch, in order."""
    if sampler is not None:
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        order = np.fromiter((int(i) for i in sampler), dtype=np.int64)
    elif shuffle:
        order = np.random.default_rng([seed, epoch]).permutation(n).astype(np.int64)
    else:
        order = np.arange(n, dtype=np.int64)
    if world > 1 and len(order):
        total = math.ceil(len(order) / world) * world
        order = np.resize(order, total)  # pads by wrapping around, as DistributedSampler does
        order = order[rank:total:world]
    return order


def batch_count(samples: int, batch_size: int, drop_last: bool) -> int:
    return samples // batch_size if drop_last else math.ceil(samples / batch_size)
