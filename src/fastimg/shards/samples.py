"""A shard's samples: opening it (mapped when local, streamed through fsspec or gzip otherwise), grouping
its tar members into samples by WebDataset's key rule, from the start or over the byte range of a run of
samples, and the recycled buffers large members are read into."""

from __future__ import annotations

import gzip
import os
import stat
import threading
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO, Callable, NamedTuple, Optional, Union

from .tar import MappedFile, TarDamage, iter_tar, split_key
from .urls import is_gzip, is_remote, local_path, open_url

Member = Union[bytes, memoryview]


class Sample(NamedTuple):
    """One sample of a shard: the members sharing a key, by lower-case extension."""

    shard: int
    url: str
    ordinal: int  # position among the shard's samples
    key: str
    members: dict[str, Member]
    nbytes: int  # of its members (counted once: the read-ahead budget and the shuffle buffer ask often)


class StreamError(NamedTuple):
    """A shard that could not be opened or read to its end, or disagrees with its index. ``errno`` is set
    for I/O failures."""

    shard: int
    url: str
    reason: str
    errno: Optional[int]


class MemberBuffers:
    """Recycled buffers for large tar members. A fresh 100 KB bytes object per image member is fresh heap
    (or a fresh mapping) whose pages fault in and are zeroed every time: measured as the main cost of
    reading shards over reading the same files. The read-ahead thread takes buffers; the batch loop gives
    back each image member's buffer once the native call that decoded it has returned (members are never
    handed to the user). One pool per dataset and process (``for_owner``), so epochs reuse the buffers
    of earlier ones; idle buffers are capped at ``max_bytes``."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self.pid = os.getpid()
        self._free: list[bytearray] = []
        self._bytes = 0
        self._lock = threading.Lock()

    @classmethod
    def for_owner(cls, owner: str) -> MemberBuffers:
        pool = _POOLS.get(owner)
        if pool is None or pool.pid != os.getpid():  # a forked worker starts its own
            pool = _POOLS[owner] = cls()
        return pool

    def take(self, size: int) -> bytearray:
        with self._lock:
            for i, buf in enumerate(self._free):
                if size <= len(buf) <= 2 * size:
                    self._bytes -= len(buf)
                    return self._free.pop(i)
        return bytearray(-(-size // 16384) * 16384)

    def give(self, data: Any) -> None:
        if isinstance(data, memoryview) and isinstance(data.obj, bytearray):
            buf = data.obj
            with self._lock:
                if self._bytes + len(buf) <= self.max_bytes:
                    self._free.append(buf)
                    self._bytes += len(buf)


_POOLS: dict[str, MemberBuffers] = {}  # by dataset id


def _gzipped(f: BinaryIO, url: str) -> bool:
    if is_gzip(url):
        return True
    if not f.seekable():  # a pipe: its name says what it holds
        return False
    magic = f.read(2)
    f.seek(0)
    return magic == b"\x1f\x8b"


class _Gunzip(gzip.GzipFile):
    """A gzip stream that closes the file under it (GzipFile leaves a given fileobj open)."""

    def close(self) -> None:
        raw: Any = self.fileobj
        super().close()
        if raw is not None:
            raw.close()


def open_shard(url: str, storage_options: Optional[dict[str, Any]]) -> tuple[Union[BinaryIO, MappedFile], int]:
    """The shard and its size in bytes (-1 when unknown: a gzip stream, a pipe). Local shards are mapped:
    image members go to the decoder as views, without a copy per member; gzip'd ones are streamed."""
    # A named pipe must be opened once only: a second open after the first reader closed waits for a writer
    # that already wrote into the closed pipe (the shard test hung whenever the writer was slower).
    if not is_remote(url) and not is_gzip(url) and stat.S_ISREG(os.stat(local_path(url)).st_mode):
        mapped = MappedFile(local_path(url))
        if mapped.data[:2] != b"\x1f\x8b":
            return mapped, len(mapped.data)
    f = open_url(url, storage_options)
    if _gzipped(f, url):
        return _Gunzip(fileobj=f, mode="rb"), -1  # type: ignore[return-value]
    size = getattr(f, "size", None)
    if size is None and not is_remote(url):
        size = os.fstat(f.fileno()).st_size
    return f, int(size) if size is not None else -1


def _members(
    f: Union[BinaryIO, MappedFile], take: Optional[Callable[[int], bytearray]], start: int, end: Optional[int]
) -> Iterator[Any]:
    if start and not isinstance(f, MappedFile):
        f.seek(start)
    return iter_tar(f, take, start=start, end=end)


def read_samples(
    shard: int,
    url: str,
    *,
    select: Optional[Callable[[int], bool]] = None,
    byte_range: Optional[tuple[int, int]] = None,
    first: int = 0,
    expect_size: Optional[int] = None,
    storage_options: Optional[dict[str, Any]] = None,
    buffers: Optional[MemberBuffers] = None,
) -> Iterator[Union[Sample, StreamError]]:
    """The samples of one shard in archive order: consecutive members with the same key form a sample
    (WebDataset's rule); members without an extension and ``__key__``-style metadata are left out.
    ``byte_range=(start, end)``: only the members whose headers lie there, the sample at ``start`` having
    ordinal ``first``. ``select(ordinal)``: which samples to deliver (the others are read past).
    ``expect_size``: the shard's size in bytes by its index (a StreamError first when it differs). A shard
    that cannot be opened, is damaged or cut short ends with a StreamError after the samples before it."""
    try:
        f, size = open_shard(url, storage_options)
    except OSError as exc:
        yield StreamError(shard, url, f"cannot open shard: {exc.strerror or exc}", exc.errno or 5)
        return
    with f:
        if expect_size is not None and size >= 0 and size != expect_size:
            yield StreamError(shard, url, f"shard has {size} bytes, its index says {expect_size}", None)
            return
        start, end = byte_range if byte_range is not None else (0, None)
        try:
            yield from _group(shard, url, _members(f, buffers.take if buffers else None, start, end), select, first)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:  # a gzip'd shard cut short or corrupt: damage
            yield StreamError(shard, url, f"damaged gzip stream: {exc}", None)
        except OSError as exc:
            yield StreamError(shard, url, f"read failed: {exc.strerror or exc}", exc.errno or 5)


def _group(
    shard: int, url: str, members: Iterator[Any], select: Optional[Callable[[int], bool]], first: int
) -> Iterator[Union[Sample, StreamError]]:
    key: Optional[str] = None
    found: dict[str, Member] = {}
    size = 0
    ordinal = first - 1
    for item in members:
        if isinstance(item, TarDamage):
            # the sample in progress may have lost members to the damage: it is not delivered
            yield StreamError(shard, url, item.reason, None)
            return
        k, ext = split_key(item.name)
        if not ext or k.startswith("__", k.rfind("/") + 1):  # WebDataset's __key__-style metadata
            continue
        if k != key:
            if key is not None and (select is None or select(ordinal)):
                yield Sample(shard, url, ordinal, key, found, size)
            key, found, size, ordinal = k, {}, 0, ordinal + 1
        if ext in found:  # a repeated extension: the last one wins, as in WebDataset
            size -= len(found[ext])
        found[ext] = item.data
        size += len(item.data)
    if key is not None and (select is None or select(ordinal)):
        yield Sample(shard, url, ordinal, key, found, size)


def sample_offsets(f: Union[BinaryIO, MappedFile]) -> tuple[list[int], Optional[str]]:
    """The byte offset of each sample's first header and, last, the end of the data (where the
    end-of-archive block starts), from one pass over the headers (payloads read only from streams);
    with the damage that ended the pass early, if any."""
    offsets: list[int] = []
    key: Optional[str] = None
    end = 0
    for item in iter_tar(f):
        if isinstance(item, TarDamage):
            return [*offsets, end], item.reason
        k, ext = split_key(item.name)
        if not ext or k.startswith("__", k.rfind("/") + 1):
            continue
        if k != key:
            offsets.append(item.offset)
            key = k
        end = item.end
    return [*offsets, end], None
