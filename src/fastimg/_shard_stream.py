"""One reader's batches: its shards streamed by the read-ahead thread, through a shuffle buffer, checked
for their image and label members, decoded a whole batch per native call, failures replaced by the next
samples (skip) and the budget kept, padding by streaming the reader's shards again."""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional, Union

import torch

from ._background import MemberBuffers, Prefetcher, Sample, StreamError, stream_units
from ._core import DecodeError
from ._shard_plan import ReaderPlan, plan_reader
from ._sources import ItemError
from .batch import load_batch
from .dataset import LabeledBatch, _in_worker_threads, _torch_seed

if TYPE_CHECKING:
    from .shards import ShardDataset

# WebDataset's usual image extensions, in the order a sample's image member is chosen.
IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp", "ppm", "pgm", "bmp", "tif", "tiff")

# Samples in the shuffle buffer before the first one flows out.
_INITIAL_BUFFER = 100

# Consecutive failures after which a reader gives up (every sample it can reach is bad).
_MAX_CONSECUTIVE_FAILURES = 10_000


@dataclass
class StreamState:
    epoch: int
    worker: int
    workers: int
    resume_batches: int = -1
    resume_cursor: int = -1
    stream_seed: Optional[int] = None


def sample_id(name: str, key: str) -> int:
    """The index that keys a sample's augmentations: a 63-bit hash of (shard name, member key), so its
    pixels depend on (seed, epoch, shard, key) and not on which rank or worker decoded it."""
    digest = hashlib.blake2b(f"{name}\0{key}".encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


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


def _label(ds: ShardDataset, sample: Sample) -> Union[int, str]:
    spec = ds.label
    if spec is None:
        return -1
    try:
        if spec.startswith("json:"):
            if "json" not in sample.members:
                return "no 'json' member for the label"
            value: Any = json.loads(bytes(sample.members["json"]))
            for part in spec[5:].split("."):
                value = value[part]
            return int(value)
        if spec not in sample.members:
            return f"no {spec!r} member for the label"
        return int(bytes(sample.members[spec]).decode("utf-8").strip())
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        return f"bad label ({spec}): {type(exc).__name__}: {exc}"


def _image(ds: ShardDataset, sample: Sample) -> Union[tuple[str, Union[bytes, memoryview]], str]:
    for ext in ds.image_extensions:
        if ext in sample.members:
            return ext, sample.members[ext]
    return f"no image member (looked for {', '.join(ds.image_extensions)}; has {', '.join(sample.members)})"


class Ready(NamedTuple):
    """A sample as the batch loop takes it, prepared on the read-ahead thread (while the previous batch
    decodes): its image member (extension, bytes) and label, or the reason it has none, and the id that
    keys its augmentations."""

    sample: Sample
    image: Union[tuple[str, Union[bytes, memoryview]], str]
    label: Union[int, str]
    sid: int

    @property
    def nbytes(self) -> int:
        return self.sample.nbytes


def _ready(ds: ShardDataset, sample: Sample) -> Ready:
    return Ready(sample, _image(ds, sample), _label(ds, sample), sample_id(ds.names[sample.shard], sample.key))


def _shuffle(
    ds: ShardDataset, items: Iterator[Union[Sample, StreamError]], rng: random.Random
) -> Iterator[Union[Ready, StreamError]]:
    """The samples through a bounded shuffle buffer, prepared (errors pass straight through). Runs on the
    read-ahead thread, which alone draws from `rng` while the pass lasts."""
    size = ds.shuffle_buffer if ds.shuffle else 0
    # As WebDataset's shuffle: samples flow out once `initial` are in, while the buffer keeps growing (two
    # in per one out) to `size`; decoding starts early instead of after `size` samples were read.
    initial = min(size, _INITIAL_BUFFER)
    buffer: list[Sample] = []
    held = arrived = 0
    for item in items:
        if isinstance(item, StreamError):
            yield item
            continue
        if size <= 1:
            yield _ready(ds, item)
            continue
        buffer.append(item)
        held += item.nbytes
        arrived += 1
        ds.stats["shuffle_peak_bytes"] = max(ds.stats["shuffle_peak_bytes"], held)
        if len(buffer) > size or (len(buffer) > initial and arrived % 2 == 0):
            j = rng.randrange(len(buffer))
            buffer[j], buffer[-1] = buffer[-1], buffer[j]
            out = buffer.pop()
            held -= out.nbytes
            yield _ready(ds, out)
    while buffer:
        j = rng.randrange(len(buffer))
        buffer[j], buffer[-1] = buffer[-1], buffer[j]
        yield _ready(ds, buffer.pop())


def _shuffled(
    ds: ShardDataset, plan: ReaderPlan, rng: random.Random, buffers: MemberBuffers
) -> Iterator[Union[Ready, StreamError]]:
    """One pass over the reader's samples, shuffled and prepared on the read-ahead thread, which holds at
    most `prefetch_bytes` of them ahead of the batch loop."""
    source = _shuffle(ds, stream_units(plan.units, ds.urls, ds.storage_options, buffers), rng)
    reader = Prefetcher(source, ds.prefetch_bytes)
    try:
        yield from reader
    finally:
        reader.close()
        ds.stats["prefetch_peak_bytes"] = max(ds.stats["prefetch_peak_bytes"], reader.peak)


def _passes(
    ds: ShardDataset, plan: ReaderPlan, rng: random.Random, buffers: MemberBuffers
) -> Iterator[Union[Ready, StreamError]]:
    """The reader's stream: one shuffled pass, then (only while a budget needs padding) further passes,
    each drained before the next starts so the first pass delivers every sample once."""
    while True:
        got = 0
        for item in _shuffled(ds, plan, rng, buffers):
            got += isinstance(item, Ready)
            yield item
        if plan.samples is None or not got:
            return


def _stream_failure(ds: ShardDataset, err: StreamError) -> ItemError:
    record = ItemError(-1, err.url, err.reason)
    if ds.raise_errors:
        if err.errno is not None:
            raise OSError(err.errno, f"{err.reason} ({os.strerror(err.errno)})", err.url)
        raise DecodeError(f"{err.url}: {err.reason}")
    return record


def _reader_plan(ds: ShardDataset, st: StreamState) -> tuple[ReaderPlan, int, int, int]:
    """The reader's plan, its role (the reader whose stream it plays), and the batches and stream
    position to skip when resuming."""
    counts = ds.counts()
    if counts is None and ds.world_size > 1:
        raise ValueError(
            f"{ds.world_size} ranks need the sample count to give each the same number of batches: write the "
            "shards with `python -m fastimg shards` (index.json) or pass ShardDataset(length=N)"
        )
    kwargs = dict(
        seed=ds.seed if ds.seed is not None else 0,
        epoch=st.epoch,
        shuffle=ds.shuffle,
        rank=ds.rank,
        world=ds.world_size,
        workers=st.workers,
        batch_size=ds.batch_size,
        drop_last=ds.drop_last,
    )
    plan, plans = plan_reader(len(ds.urls), counts, worker=st.worker, **kwargs)  # type: ignore[arg-type]
    if st.resume_batches < 0:
        return plan, st.worker, 0, -1
    if st.workers == 1:
        return plan, 0, st.resume_batches, st.resume_cursor
    if plans[0].batches is None:
        raise ValueError("resuming through DataLoader workers needs the sample count (index.json or length=)")
    consumed, start = round_robin([p.batches or 0 for p in plans], st.resume_batches)
    role = (start + st.worker) % st.workers  # the DataLoader asks workers from 0: rotate the readers' roles
    return plans[role], role, consumed[role], -1


def reader_batches(
    ds: ShardDataset, st: StreamState, allocate: Callable[[int], torch.Tensor]
) -> Iterator[tuple[LabeledBatch, dict[str, int]]]:
    """Yields (batch, position) for one reader; position = {"batches", "cursor"} after that batch."""
    plan, role, skip_batches, skip_cursor = _reader_plan(ds, st)
    seed = ds.seed if ds.seed is not None else st.stream_seed or 0
    rng = random.Random(f"{seed}/{st.epoch}/{ds.rank}/{role}")
    buffers = MemberBuffers.for_dataset(ds)
    stream = _passes(ds, plan, rng, buffers)
    cursor = 0  # samples taken from the shuffled stream
    if skip_cursor >= 0 or skip_batches:
        # Replay to the resume point without decoding; records were made by the interrupted run.
        to_skip = skip_batches * ds.batch_size
        for item in stream:
            if isinstance(item, StreamError):
                continue
            if skip_cursor >= 0:
                cursor += 1
                if cursor >= skip_cursor:
                    break
                continue
            cursor += 1
            if isinstance(item.image, tuple) and isinstance(item.label, int):
                to_skip -= 1
                if to_skip <= 0:
                    break
    remaining = None if plan.samples is None else max(0, plan.samples - skip_batches * ds.batch_size)
    batches = skip_batches
    failures = 0
    threads = _in_worker_threads(ds.num_threads)
    recorded: set[tuple[str, str]] = set()

    def note(errors: list[ItemError], record: ItemError) -> None:
        # Padding passes meet the reader's bad samples (and a truncated shard's end) again: one record each
        # per epoch, as the Loader keeps for datasets of files.
        if (record.source, record.reason) not in recorded:
            recorded.add((record.source, record.reason))
            errors.append(record)

    while remaining is None or remaining > 0:
        count = ds.batch_size if remaining is None else min(ds.batch_size, remaining)
        images = allocate(count)
        out = images.numpy()
        filled = 0
        labels: list[int] = []
        errors: list[ItemError] = []
        ended = False
        while filled < count and not ended:
            sources: list[Union[bytes, memoryview]] = []
            ids: list[int] = []
            meta: dict[int, tuple[Sample, str, int]] = {}
            while len(sources) < count - filled:
                got = next(stream, None)
                if got is None:
                    ended = True
                    break
                if isinstance(got, StreamError):
                    note(errors, _stream_failure(ds, got))
                    continue
                cursor += 1
                sample, image, label, sid = got
                if isinstance(image, str) or isinstance(label, str):
                    reason = image if isinstance(image, str) else str(label)
                    record = ItemError(sample.ordinal, f"{sample.url}:{sample.key}", reason)
                    if ds.raise_errors:
                        raise ValueError(f"{record.source}: {reason}")
                    note(errors, record)
                    failures += 1
                    continue
                sources.append(image[1])
                ids.append(sid)
                meta[sid] = (sample, image[0], label)
            if not sources:
                continue
            batch = load_batch(
                sources,
                ds.transform,
                seed=ds.seed if ds.seed is not None else _torch_seed(),
                epoch=st.epoch,
                indices=ids,
                out=out[filled:],
                on_error="skip",
                num_threads=threads,
            )
            for data in sources:  # decoded: the read-ahead thread may refill these buffers
                buffers.give(data)
            for err in batch.errors:
                failed, ext, _ = meta[err.index]
                source = f"{failed.url}:{failed.key}.{ext}"
                if ds.raise_errors:
                    exc = DecodeError(f"{source}: {err.reason}")
                    exc.source = source  # type: ignore[attr-defined]
                    raise exc
                note(errors, ItemError(failed.ordinal, source, err.reason))
            labels.extend(meta[int(i)][2] for i in batch.indices)
            filled += len(batch.indices)
            failures = 0 if len(batch.indices) else failures + len(sources)
            if failures > _MAX_CONSECUTIVE_FAILURES:
                raise RuntimeError(f"{failures} samples in a row failed to load (last error: {errors[-1]})")
        if filled == 0 and ended:
            if remaining is not None and errors:
                raise RuntimeError(f"no sample of this reader's shards could be loaded (last error: {errors[-1]})")
            return
        if remaining is not None:
            remaining -= filled
        batches += 1
        result = LabeledBatch(images[:filled], torch.tensor(labels, dtype=torch.int64), errors, ds._id)
        yield result, {"batches": batches, "cursor": cursor}
        if ended:
            return
