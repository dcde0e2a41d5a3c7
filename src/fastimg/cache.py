"""Encoded-bytes storage for datasets: a thread-safe LRU with a byte budget, and whole-set preloading."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any, Optional

from . import _core
from ._sources import raise_first


class ByteCache:
    """Least-recently-used cache of encoded file bytes, bounded by ``capacity`` bytes. Thread-safe:
    the loader's prefetch thread and the training thread may use it at once. Items larger than the
    whole budget are never cached."""

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError(f"cache_bytes must be >= 0, got {capacity}")
        self.capacity = int(capacity)
        self._items: OrderedDict[int, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __getstate__(self) -> dict[str, Any]:
        # A copy sent to a worker process starts empty: each process caches what it reads.
        return {"capacity": self.capacity}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["capacity"])  # type: ignore[misc]

    def get(self, key: int) -> Optional[bytes]:
        with self._lock:
            data = self._items.get(key)
            if data is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return data

    def put(self, key: int, data: bytes) -> None:
        if len(data) > self.capacity:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._items[key] = data
            self._size += len(data)
            while self._size > self.capacity:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted)

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return len(self._items)


def read_files(paths: list[str], *, direct_io: bool = False, num_threads: int = 0) -> list[bytes]:
    """Reads whole files in parallel natively (GIL released); raises the OSError of the first failure."""
    contents, errors = _core.read_files(paths, direct_io, num_threads)
    raise_first(paths, list(range(len(paths))), errors)
    return contents


def _available_memory() -> int:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):  # pragma: no cover - non-Linux
        return 1 << 62


def preload_files(paths: list[str], *, direct_io: bool = False, chunk: int = 256, progress: Any = None) -> list[bytes]:
    """Reads every file into memory, with a tqdm progress bar when tqdm is installed. Refuses with
    MemoryError, before reading anything, when the files would not fit in the available memory."""
    total = 0
    for path in paths:
        total += os.stat(path).st_size
    available = _available_memory()
    if total > available * 0.9:
        raise MemoryError(
            f"preload=True needs {total / 2**30:.2f} GiB for {len(paths)} files but only "
            f"{available / 2**30:.2f} GiB is available; use cache_bytes= instead"
        )
    bar = progress
    if bar is None:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="B", unit_scale=True, desc="fastimg preload")
        except ImportError:
            bar = None
    out: list[bytes] = []
    try:
        for start in range(0, len(paths), chunk):
            part = read_files(paths[start : start + chunk], direct_io=direct_io)
            out.extend(part)
            if bar is not None:
                bar.update(sum(len(b) for b in part))
    finally:
        if bar is not None and progress is None:
            bar.close()
    return out
