"""One reader's samples, in the order its batches take them: exact ranges of shards read by offset (or
streamed past what comes before) in the order a shuffle buffer gives, or whole shards streamed through
one up to a budget; both on a read-ahead thread bounded in bytes. Each sample is prepared there (image
member, label, the id that keys its augmentations) while the batch loop decodes the previous batch."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, count
from typing import Any, Callable, NamedTuple, Optional, TypeVar, Union

from .._background import Background
from .index import Offsets
from .plan import ReaderPlan, Segment, Unit
from .samples import MemberBuffers, Sample, StreamError, read_samples

# Samples in the shuffle buffer before the first one flows out (as WebDataset's shuffle).
_INITIAL_BUFFER = 100
T = TypeVar("T")

# Samples cross from the read-ahead thread in chunks of up to this many (see Background).
_CHUNK = 16


@dataclass(frozen=True)
class StreamSettings:
    """What a reader needs of its dataset, fixed for the pass: where the shards are and what is known of
    them, how samples are picked from members, and the read-ahead and shuffle bounds."""

    urls: tuple[str, ...]
    names: tuple[str, ...]
    counts: Optional[tuple[int, ...]]  # per shard, from index.json
    sizes: Optional[tuple[Optional[int], ...]]  # per shard in bytes, from index.json
    offsets: Offsets
    label: Optional[str]
    image_extensions: tuple[str, ...]
    keep: tuple[str, ...]  # extensions of members delivered raw beside each batch
    shuffle_buffer: int  # 0 or 1: samples in shard order
    prefetch_bytes: int
    storage_options: Optional[dict[str, Any]] = field(default=None, hash=False)


@dataclass
class ReaderStats:
    """Peak bytes held by a reader's shuffle buffer and read-ahead queue."""

    shuffle_peak_bytes: int = 0
    prefetch_peak_bytes: int = 0


def sample_id(name: str, key: str) -> int:
    """The index that keys a sample's augmentations: a 63-bit hash of (shard name, member key), so its
    pixels depend on (seed, epoch, shard, key) and not on which rank or worker decoded it."""
    digest = hashlib.blake2b(f"{name}\0{key}".encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def _label(spec: Optional[str], sample: Sample) -> Union[int, str]:
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


def _image(extensions: tuple[str, ...], sample: Sample) -> Union[tuple[str, Any], str]:
    for ext in extensions:
        if ext in sample.members:
            return ext, sample.members[ext]
    return f"no image member (looked for {', '.join(extensions)}; has {', '.join(sample.members)})"


class Ready(NamedTuple):
    """A sample as the batch loop takes it: its image member (extension, bytes) and label, or the reason
    it has none, and the id that keys its augmentations."""

    sample: Sample
    image: Union[tuple[str, Any], str]
    label: Union[int, str]
    sid: int

    @property
    def nbytes(self) -> int:
        return self.sample.nbytes


def prepare(st: StreamSettings, sample: Sample) -> Ready:
    image = _image(st.image_extensions, sample)
    return Ready(sample, image, _label(st.label, sample), sample_id(st.names[sample.shard], sample.key))


# -- exact readers: the samples of their segments, each once per pass ------------------------------------
def shuffle_buffer(
    items: Iterable[T], size: int, rng: random.Random, passes: Callable[[T], bool] = lambda item: False
) -> Iterator[T]:
    """``items`` through WebDataset's shuffle buffer of ``size``: items flow out once 100 are in, while the
    buffer keeps growing, two in per one out, to ``size``; the rest drawn at the end. Items for which
    ``passes`` is true (errors) go straight through. The one buffer rule, for streamed samples and for
    ``buffer_order``."""
    if size <= 1:
        yield from items
        return
    initial = min(size, _INITIAL_BUFFER)
    buffer: list[T] = []
    arrived = 0
    for item in items:
        if passes(item):
            yield item
            continue
        buffer.append(item)
        arrived += 1
        if len(buffer) > size or (len(buffer) > initial and arrived % 2 == 0):
            j = rng.randrange(len(buffer))
            buffer[j], buffer[-1] = buffer[-1], buffer[j]
            yield buffer.pop()
    while buffer:
        j = rng.randrange(len(buffer))
        buffer[j], buffer[-1] = buffer[-1], buffer[j]
        yield buffer.pop()


def buffer_order(n: int, size: int, rng: random.Random) -> list[int]:
    """The order in which the shuffle buffer emits samples 0..n-1: a pure function of (n, size, rng), so a
    resumed reader knows what it already delivered without reading it."""
    return list(shuffle_buffer(range(n), size, rng))


def _read_ordinals(
    st: StreamSettings, shard: int, want: list[int], buffers: MemberBuffers
) -> Iterator[Union[StreamError, tuple[int, Optional[Sample]]]]:
    """(ordinal, sample) for every ordinal in ``want`` (sorted) in order, None for a sample the shard does
    not deliver, after the StreamError saying why: by byte ranges when the shard has offsets, else by
    streaming it from its start."""
    url, expected = st.urls[shard], st.counts[shard] if st.counts else 0
    size = st.sizes[shard] if st.sizes else None
    try:
        offsets = st.offsets.get(shard)
    except (OSError, ValueError) as exc:
        yield StreamError(shard, url, str(exc), None)
        yield from ((o, None) for o in want)
        return
    if offsets is not None and len(offsets) - 1 != expected:
        yield StreamError(shard, url, f"its offsets list {len(offsets) - 1} samples, index.json {expected}", None)
        yield from ((o, None) for o in want)
        return
    common: dict[str, Any] = dict(expect_size=size, storage_options=st.storage_options, buffers=buffers)
    # One read per shard: with offsets the byte range from the first wanted sample to the last (a resumed
    # reader's wanted samples are scattered where the shuffle buffer held them: reading past the others
    # costs less than a request, or an index of the shard, per run); without, a pass from its start.
    first, stop = want[0], want[-1] + 1
    select = None if stop - first == len(want) else set(want).__contains__
    if offsets is None:  # from the start: the samples before `first` are read past too
        samples = read_samples(shard, url, select=select or range(first, stop).__contains__, **common)
    else:
        samples = read_samples(
            shard, url, select=select, byte_range=(offsets[first], offsets[stop]), first=first, **common
        )
    yield from _take_read(shard, url, expected, want, samples)


def _take_read(
    shard: int, url: str, expected: int, wanted: list[int], samples: Iterator[Any]
) -> Iterator[Union[StreamError, tuple[int, Optional[Sample]]]]:
    """(ordinal, sample) for each of ``wanted`` from one read: the samples it delivers, then, after a
    StreamError saying why, None for each one it did not."""
    pending = iter(wanted)
    nxt = next(pending, None)
    damage: Optional[StreamError] = None
    for item in samples:
        if isinstance(item, StreamError):
            damage = item
            break
        if nxt is None or item.ordinal != nxt:
            damage = StreamError(shard, url, f"sample {item.key!r} is not where its index puts it", None)
            break
        yield nxt, item
        nxt = next(pending, None)
        if nxt is None:
            break
    samples.close()  # type: ignore[attr-defined]
    if nxt is None:
        return
    if damage is None:
        damage = StreamError(shard, url, f"shard ends before sample {nxt}: index.json says {expected} samples", None)
    yield damage
    yield nxt, None
    yield from ((o, None) for o in pending)


def _read_positions(
    st: StreamSettings, segments: list[Segment], needed: Sequence[int], buffers: MemberBuffers
) -> Iterator[Union[StreamError, tuple[int, Optional[Sample]]]]:
    """(position, sample) for each of the reader's positions in ``needed`` (sorted), in order."""
    i = base = 0
    for seg in segments:
        length = seg.stop - seg.start
        want = []
        while i < len(needed) and needed[i] < base + length:
            want.append(needed[i] - base + seg.start)
            i += 1
        if want:
            for item in _read_ordinals(st, seg.shard, want, buffers):
                yield item if isinstance(item, StreamError) else (base + item[0] - seg.start, item[1])
        base += length


def exact_pass(
    st: StreamSettings,
    segments: list[Segment],
    order: list[int],
    start: int,
    stats: ReaderStats,
    buffers: MemberBuffers,
) -> Iterator[Union[Ready, StreamError, None]]:
    """The samples at ``order[start:]`` (positions in the reader's segments), prepared, None for those lost
    to damage (after a StreamError saying why). Holds what it read ahead of its turn: at most the shuffle
    buffer, as the buffer would."""
    needed = sorted(order[start:]) if start else range(len(order))  # a whole pass needs every position
    source = _read_positions(st, segments, needed, buffers)
    held: dict[int, Optional[Sample]] = {}
    held_bytes = 0
    for want in order[start:]:
        while want not in held:
            item = next(source)
            if isinstance(item, StreamError):
                yield item
                continue
            pos, sample = item
            held[pos] = sample
            held_bytes += sample.nbytes if sample is not None else 0
            stats.shuffle_peak_bytes = max(stats.shuffle_peak_bytes, held_bytes)
        sample = held.pop(want)
        if sample is None:
            yield None
            continue
        held_bytes -= sample.nbytes
        yield prepare(st, sample)


# -- budget readers: whole shards streamed through a shuffle buffer -------------------------------------
def buffered_shuffle(
    st: StreamSettings, items: Iterator[Union[Sample, StreamError]], rng: random.Random, stats: ReaderStats
) -> Iterator[Union[Ready, StreamError]]:
    """The samples through the shuffle buffer, prepared (errors pass straight through); the bytes it holds
    go to ``stats``."""
    held = 0

    def arriving() -> Iterator[Union[Sample, StreamError]]:
        nonlocal held
        for item in items:
            if not isinstance(item, StreamError) and st.shuffle_buffer > 1:
                held += item.nbytes
                stats.shuffle_peak_bytes = max(stats.shuffle_peak_bytes, held)
            yield item

    for item in shuffle_buffer(arriving(), st.shuffle_buffer, rng, lambda i: isinstance(i, StreamError)):
        if isinstance(item, StreamError):
            yield item
            continue
        if st.shuffle_buffer > 1:
            held -= item.nbytes
        yield prepare(st, item)


def _residue(stride: int, offset: int) -> Callable[[int], bool]:
    return lambda ordinal: ordinal % stride == offset


def budget_pass(
    st: StreamSettings, units: Iterator[Unit], rng: random.Random, stats: ReaderStats, buffers: MemberBuffers
) -> Iterator[Union[Ready, StreamError]]:
    """One pass over the units' samples (whole shards or residues of them), shuffled and prepared."""
    common: dict[str, Any] = dict(storage_options=st.storage_options, buffers=buffers)
    samples = chain.from_iterable(
        read_samples(
            u.shard,
            st.urls[u.shard],
            select=None if u.stride == 1 else _residue(u.stride, u.offset),
            expect_size=st.sizes[u.shard] if st.sizes else None,
            **common,
        )
        for u in units
    )
    return buffered_shuffle(st, samples, rng, stats)


def reader_items(
    st: StreamSettings,
    plan: ReaderPlan,
    rng_name: str,
    cursor: int,
    stats: ReaderStats,
    owner: Any,
    resampled: bool = False,
) -> Iterator[Union[Ready, StreamError, None]]:
    """A reader's items from position ``cursor`` on: passes over its plan as long as they are asked for
    (an exact reader wraps to pad what failures took, a budget reader streams again to fill its budget),
    each on its own read-ahead thread, started only when the previous pass is drained."""
    buffers = MemberBuffers.for_owner(owner)
    if plan.segments is not None:
        n = sum(s.stop - s.start for s in plan.segments)
        if not n:
            return
        order = buffer_order(n, st.shuffle_buffer, random.Random(rng_name))
        passes: Iterator[Iterator[Any]] = (
            exact_pass(st, plan.segments, order, cursor % n if p == cursor // n else 0, stats, buffers)
            for p in count(cursor // n)
        )
        skip = 0
    else:
        rng = random.Random(rng_name)
        if resampled:
            draws: Iterator[Unit] = (Unit(rng.randrange(len(st.urls)), 1, 0) for _ in count())
            passes = iter([budget_pass(st, draws, rng, stats, buffers)])
        else:
            passes = (budget_pass(st, iter(plan.units or ()), rng, stats, buffers) for _ in count())
        skip = cursor
    for source in passes:
        reader = Background(source, max_bytes=st.prefetch_bytes, chunk=_CHUNK, name="fastimg-shard-reader")
        got = 0
        try:
            for item in reader:
                if isinstance(item, StreamError):
                    yield item
                    continue
                got += 1
                if skip:
                    skip -= 1
                    continue
                yield item
        finally:
            reader.close()
            stats.prefetch_peak_bytes = max(stats.prefetch_peak_bytes, reader.peak_bytes)
        if plan.samples is None or not got:
            return
