"""One reader's batches (a process, or a DataLoader worker, of one rank): its plan for the epoch, its
samples gathered a batch at a time and decoded in one native call each, failures replaced by the next
samples under skip (recorded once per epoch), and the position after each batch for resume."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union, cast

import torch

from .._core import DecodeError
from .._seeds import torch_seed
from .._skip import EpochRecords, FailureStreak, record
from .._sources import ItemError
from .._threads import threads_in_worker
from ..batch import load_batch
from ..dataset import LabeledBatch
from ..transforms import Transform
from .plan import Layout, ReaderPlan, budget_plans, exact_plans, round_robin
from .samples import MemberBuffers, StreamError
from .stream import ReaderStats, Ready, StreamSettings, reader_items


@dataclass(frozen=True)
class ReaderSettings:
    """What a reader needs of its dataset for a pass: the sample stream's settings and the epoch's."""

    stream: StreamSettings
    transform: Transform
    batch_size: int
    drop_last: bool
    seed: Optional[int]  # None: torch's generator keys augmentations, the plan uses stream_seed
    shuffle_shards: bool
    rank: int
    world: int
    raise_errors: bool
    num_threads: Optional[int]
    owner: str  # the dataset's id: its records and buffer pool
    total: Optional[int]  # samples per epoch when not from per-shard counts (length=, epoch_samples=)
    resampled: bool


@dataclass
class ReaderState:
    """Which reader this is and where it starts: ``resume_batches``/``resume_cursor`` from a state_dict
    (-1: from the start; a cursor of -1 with batches: through DataLoader workers, positions unknown)."""

    epoch: int
    worker: int = 0
    workers: int = 1
    resume_batches: int = -1
    resume_cursor: int = -1
    stream_seed: Optional[int] = None


class ShardBatch(LabeledBatch):
    """``(images, labels)`` with ``errors`` (as LabeledBatch), and per sample its ``keys`` (WebDataset's
    ``__key__``), ``urls`` (its shard) and ``members``: the raw bytes of the members named by the
    dataset's ``keep=`` (a dict per sample, by extension; missing ones left out)."""

    keys: list[str]
    urls: list[str]
    members: list[dict[str, bytes]]

    def __new__(
        cls,
        images: Any,
        labels: Any,
        errors: Any = (),
        owner: str = "",
        keys: Any = (),
        urls: Any = (),
        members: Any = (),
    ) -> ShardBatch:
        self = cast(ShardBatch, super().__new__(cls, images, labels, errors, owner))
        self.keys, self.urls, self.members = list(keys), list(urls), list(members)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_arrived, (self[0], self[1], self.errors, self.owner_id, self.keys, self.urls, self.members))

    def replace(self, images: Any, labels: Any) -> ShardBatch:
        """The same batch with ``images`` and ``labels`` in place of its own (copied to a device, say)."""
        return ShardBatch(images, labels, self.errors, self.owner_id, self.keys, self.urls, self.members)


def _arrived(images: Any, labels: Any, errors: Any, owner: str, keys: Any, urls: Any, members: Any) -> ShardBatch:
    """Unpickling a batch from a DataLoader worker: its records join this process's."""
    if errors and owner:
        record(owner, errors, log=False)
    return ShardBatch(images, labels, errors, owner, keys, urls, members)


def reader_plan(rs: ReaderSettings, st: ReaderState) -> tuple[ReaderPlan, int, int, int]:
    """The reader's plan, its role (the reader whose stream it plays), and the batches and stream position
    it resumes at."""
    counts = rs.stream.counts
    if counts is None and rs.total is None and rs.world > 1:
        raise ValueError(
            f"{rs.world} ranks need the sample count to give each the same number of batches: write the shards "
            "with `python -m fastimg shards` or index them with `python -m fastimg shards index` (index.json), "
            "or pass ShardDataset(length=N)"
        )
    lay = Layout(
        seed=rs.seed if rs.seed is not None else 0,  # the same on every rank: one partition of the epoch
        epoch=st.epoch,
        shuffle=rs.shuffle_shards,
        rank=rs.rank,
        world=rs.world,
        workers=st.workers,
        batch_size=rs.batch_size,
        drop_last=rs.drop_last,
    )
    if counts is not None and not rs.resampled:
        plans = exact_plans(counts, lay)
    else:
        plans = budget_plans(len(rs.stream.urls), rs.total, lay)
    if st.resume_batches < 0:
        return plans[st.worker], st.worker, 0, 0
    if st.workers == 1:
        cursor = st.resume_cursor if st.resume_cursor >= 0 else st.resume_batches * rs.batch_size
        return plans[0], 0, st.resume_batches, cursor
    if plans[0].batches is None:
        raise ValueError("resuming through DataLoader workers needs the sample count (index.json or length=)")
    consumed, start = round_robin([p.batches or 0 for p in plans], st.resume_batches)
    role = (start + st.worker) % st.workers  # the DataLoader asks workers from 0: rotate the readers' roles
    return plans[role], role, consumed[role], consumed[role] * rs.batch_size


_END = object()
_NOTHING = object()


class Reader:
    """Iterate for (batch, position) pairs, position = {"batches", "cursor", "last"} after that batch
    ("last": the reader's epoch is over). ``stats``: its peak buffer bytes."""

    def __init__(self, rs: ReaderSettings, st: ReaderState, allocate: Callable[[int], torch.Tensor]) -> None:
        self.rs, self.st, self.allocate = rs, st, allocate
        self.plan, self.role, self.start_batches, self.cursor = reader_plan(rs, st)
        self.stats = ReaderStats()
        seed = rs.seed if rs.seed is not None else st.stream_seed or 0
        self.rng_name = f"{seed}/{st.epoch}/{rs.rank}/{self.role}"
        self.records = EpochRecords()
        self.streak = FailureStreak(self.plan.samples or 1 << 62)
        self._peeked: Any = _NOTHING  # an item taken to see whether the stream ended (None is an item)

    def _next(self, items: Iterator[Any]) -> Any:
        if self._peeked is not _NOTHING:
            item, self._peeked = self._peeked, _NOTHING
            return item
        return next(items, _END)

    def _ended(self, items: Iterator[Any]) -> bool:
        if self._peeked is _NOTHING:
            self._peeked = next(items, _END)
        return self._peeked is _END

    def __iter__(self) -> Iterator[tuple[ShardBatch, dict[str, Any]]]:
        rs, plan = self.rs, self.plan
        items = reader_items(rs.stream, plan, self.rng_name, self.cursor, self.stats, rs.owner, rs.resampled)
        remaining = None if plan.samples is None else max(0, plan.samples - self.start_batches * rs.batch_size)
        batches = self.start_batches
        try:
            while remaining is None or remaining > 0:
                batch = self._fill(items, rs.batch_size if remaining is None else min(rs.batch_size, remaining))
                if batch is None:
                    return
                batches += 1
                if remaining is not None:
                    remaining -= len(batch[1])
                last = remaining == 0 if remaining is not None else self._ended(items)
                yield batch, {"batches": batches, "cursor": self.cursor, "last": last}
                if last:
                    return
        finally:
            items.close()  # type: ignore[attr-defined]

    def _fill(self, items: Iterator[Any], count: int) -> Optional[ShardBatch]:
        """A batch of ``count`` good samples, or fewer where the stream ends; None when it ended before one."""
        images = self.allocate(count)
        out = images.numpy()
        got: list[Ready] = []
        errors: list[ItemError] = []
        ended = False
        while len(got) < count and not ended:
            picked: list[Ready] = []
            while len(picked) < count - len(got):
                item = self._next(items)
                if item is _END:
                    ended = True
                    break
                if not isinstance(item, StreamError):
                    self.cursor += 1
                checked = self._check(item, errors)
                if checked is not None:
                    picked.append(checked)
            if picked:
                got.extend(self._decode(picked, out[len(got) :], errors))
        if not got and ended:
            return None
        return self._batch(images[: len(got)], got, errors)

    def _failed(self, errors: list[ItemError], record_: Optional[ItemError]) -> None:
        """One sample failed: its record (None: recorded with its shard's damage) and the give-up count."""
        if record_ is not None:
            errors.extend(self.records.add([record_]))
        self.streak.update(0, 1, errors[-1] if errors else record_)

    def _check(self, item: Union[Ready, StreamError, None], errors: list[ItemError]) -> Optional[Ready]:
        """The item when it can go to the decoder; otherwise raised (raise) or recorded (skip)."""
        if item is None:  # a sample lost to shard damage, recorded with the damage
            self._failed(errors, None)
            return None
        if isinstance(item, StreamError):
            if self.rs.raise_errors:
                if item.errno is not None:
                    raise OSError(item.errno, f"{item.reason} ({os.strerror(item.errno)})", item.url)
                raise DecodeError(f"{item.url}: {item.reason}")
            errors.extend(self.records.add([ItemError(-1, item.url, item.reason)]))
            return None
        if isinstance(item.image, str) or isinstance(item.label, str):
            reason = item.image if isinstance(item.image, str) else str(item.label)
            err = ItemError(item.sample.ordinal, f"{item.sample.url}:{item.sample.key}", reason)
            if self.rs.raise_errors:
                raise ValueError(f"{err.source}: {reason}")
            self._failed(errors, err)
            return None
        return item

    def _decode(self, picked: list[Ready], out: Any, errors: list[ItemError]) -> list[Ready]:
        """Decodes ``picked`` into ``out`` in one native call; returns those that made it, in order. Each
        sample's augmentations are keyed by its id (shard name, key), not by its place in the batch."""
        rs = self.rs
        sources = [r.image[1] for r in picked]
        batch = load_batch(
            sources,
            rs.transform,
            seed=rs.seed if rs.seed is not None else torch_seed(),
            epoch=self.st.epoch,
            indices=[r.sid for r in picked],
            out=out,
            on_error="skip",
            num_threads=threads_in_worker(rs.num_threads),
        )
        buffers = MemberBuffers.for_owner(rs.owner)
        for data in sources:  # decoded: the read-ahead thread may refill these buffers
            buffers.give(data)
        failed = {err.index: err for err in batch.errors}
        for r in picked:
            err = failed.pop(r.sid, None)
            if err is None:
                continue
            source = f"{r.sample.url}:{r.sample.key}.{r.image[0]}"
            if rs.raise_errors:
                exc = DecodeError(f"{source}: {err.reason}")
                exc.source = source  # type: ignore[attr-defined]
                raise exc
            self._failed(errors, ItemError(r.sample.ordinal, source, err.reason))
        kept, good = [], iter(int(i) for i in batch.indices)
        want = next(good, None)
        for r in picked:  # the good ones in order (a sample repeated by padding has its id twice)
            if r.sid == want:
                kept.append(r)
                want = next(good, None)
        self.streak.update(len(kept), 0, None)
        return kept

    def _batch(self, images: torch.Tensor, got: list[Ready], errors: list[ItemError]) -> ShardBatch:
        keep = self.rs.stream.keep
        members = [{e: bytes(r.sample.members[e]) for e in keep if e in r.sample.members} for r in got]
        labels = torch.tensor([r.label for r in got], dtype=torch.int64)
        keys, urls = [r.sample.key for r in got], [r.sample.url for r in got]
        if errors:
            record(self.rs.owner, errors, log=True)
        return ShardBatch(images, labels, errors, self.rs.owner, keys, urls, members)
