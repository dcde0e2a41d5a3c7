"""Which shards each reader of an epoch streams, and how many samples it delivers: URL patterns, the
sample-count index, the shard order from (seed, epoch), the split across ranks and DataLoader workers,
and the per-reader budgets that give every rank the same number of batches."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any, NamedTuple, Optional

import numpy as np

INDEX_NAME = "index.json"
INDEX_FORMAT = "fastimg-shards/1"

_RANGE = re.compile(r"^(-?\d+)\.\.(-?\d+)$")


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced '{{' in shard pattern {text!r}")


def _top_level_split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def brace_expand(pattern: str) -> list[str]:
    """Bash-style brace expansion as WebDataset uses it: ``{000000..001023}`` (zero padding kept from the
    wider bound), ``{a,b,c}``, nested and repeated groups (``s-{0..1}-{a,b}.tar``: four names)."""
    start = pattern.find("{")
    if start < 0:
        if "}" in pattern:
            raise ValueError(f"unbalanced '}}' in shard pattern {pattern!r}")
        return [pattern]
    end = _closing_brace(pattern, start)
    head, body, tail = pattern[:start], pattern[start + 1 : end], pattern[end + 1 :]
    match = _RANGE.match(body)
    if match:
        lo, hi = int(match.group(1)), int(match.group(2))
        width = max(len(match.group(1)), len(match.group(2))) if body.startswith("0") or "..0" in body else 0
        step = 1 if hi >= lo else -1
        choices = [f"{v:0{width}d}" for v in range(lo, hi + step, step)]
    else:
        choices = [alt for part in _top_level_split(body) for alt in brace_expand(part)]
    rests = brace_expand(tail)
    return [head + choice + rest for choice in choices for rest in rests]


def expand_urls(urls: Any) -> list[str]:
    """A brace pattern, or a list of URLs/paths/patterns, to the list of shard URLs (order kept).
    Raises ValueError for an empty result and TypeError for anything else."""
    import os

    if isinstance(urls, (str, os.PathLike)):
        items: Sequence[Any] = [urls]
    elif isinstance(urls, Sequence):
        items = urls
    else:
        raise TypeError(f"urls must be a path, URL, brace pattern or a list of them, got {type(urls).__name__}")
    out: list[str] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"shard URLs must be strings or paths, got {type(item).__name__}")
        out.extend(brace_expand(str(os.fspath(item))))
    if not out:
        raise ValueError("no shard URLs given")
    return out


def shard_name(url: str) -> str:
    """The name that identifies a shard wherever it is stored: the last path component without a query."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def index_url(first_url: str) -> str:
    head = first_url.split("?", 1)[0]
    slash = head.rfind("/")
    return head[: slash + 1] + INDEX_NAME if slash >= 0 else INDEX_NAME


def parse_index(data: bytes) -> dict[str, int]:
    """The writer's index.json: {"format": ..., "shards": {name: samples}}. Raises ValueError if malformed."""
    doc = json.loads(data)
    if not isinstance(doc, dict) or not isinstance(doc.get("shards"), dict):
        raise ValueError(f"{INDEX_NAME}: expected an object with a 'shards' mapping")
    return {str(k): int(v) for k, v in doc["shards"].items()}


class Unit(NamedTuple):
    """One shard as a reader streams it: samples whose ordinal in the shard is ``offset`` mod ``stride``."""

    shard: int  # position in the dataset's URL list
    stride: int
    offset: int


class ReaderPlan(NamedTuple):
    units: list[Unit]
    samples: Optional[int]  # samples this reader delivers in the epoch; None: all it streams (unknown)
    batches: Optional[int]


def shard_order(n: int, seed: int, epoch: int, shuffle: bool) -> list[int]:
    if not shuffle:
        return list(range(n))
    return [int(i) for i in np.random.default_rng([seed, epoch, 0x5A4D]).permutation(n)]


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


def _unit_samples(unit: Unit, counts: Sequence[float]) -> float:
    total = counts[unit.shard]
    if isinstance(total, int):
        return max(0, math.ceil((total - unit.offset) / unit.stride))
    return total / unit.stride


def rank_samples(total: int, world: int, batch_size: int, drop_last: bool) -> int:
    """Samples each rank delivers per epoch: the same on every rank, so batch counts match."""
    if world == 1:
        return total // batch_size * batch_size if drop_last else total
    if drop_last:
        return total // world // batch_size * batch_size
    return math.ceil(total / world)  # padded, as DistributedSampler pads


def plan_reader(
    n: int,
    counts: Optional[Sequence[float]],
    *,
    seed: int,
    epoch: int,
    shuffle: bool,
    rank: int,
    world: int,
    worker: int,
    workers: int,
    batch_size: int,
    drop_last: bool,
) -> tuple[ReaderPlan, list[ReaderPlan]]:
    """This reader's plan, and those of all the workers of its rank (for resume). ``counts``: per-shard
    sample counts (ints: exact, floats: estimates from a user-given total) or None when unknown."""
    order = shard_order(n, seed, epoch, shuffle)
    weights = [float(counts[i]) if counts is not None else 1.0 for i in order]
    by_rank = _split([Unit(i, 1, 0) for i in order], weights, world)
    mine = by_rank[rank]
    weights_r = [_unit_samples(u, counts) if counts is not None else 1.0 for u in mine]
    by_worker = _split(mine, weights_r, workers)
    if counts is None:
        plans = [ReaderPlan(units, None, None) for units in by_worker]
        return plans[worker], plans
    total = round(sum(counts))
    budget = rank_samples(total, world, batch_size, drop_last)
    have = [sum(_unit_samples(u, counts) for u in units) for units in by_worker]
    samples = allocate(budget, have, batch_size)
    plans = [ReaderPlan(units, s, -(-s // batch_size)) for units, s in zip(by_worker, samples)]
    return plans[worker], plans


def allocate(budget: int, have: list[float], batch_size: int) -> list[int]:
    """Splits a rank's `budget` samples across its readers in whole batches (one partial batch at most,
    when budget is not a multiple of batch_size), each as close as possible to what it holds (`have`)."""
    full, partial = divmod(budget, batch_size)
    total = sum(have)
    target = [h * budget / total if total > 0 else budget / len(have) for h in have]
    batches = [int(t // batch_size) for t in target]
    while sum(batches) > full:
        i = max(range(len(batches)), key=lambda k: (batches[k], -k))
        batches[i] -= 1
    while sum(batches) < full:
        i = max(range(len(batches)), key=lambda k: (target[k] - batches[k] * batch_size, -k))
        batches[i] += 1
    samples = [b * batch_size for b in batches]
    if partial:
        i = max(range(len(batches)), key=lambda k: (target[k] - samples[k], -k))
        samples[i] += partial
    return samples
