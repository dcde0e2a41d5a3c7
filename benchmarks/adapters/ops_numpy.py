"""Plain numpy: crops by slicing + copy, luminance by a float dot product, and the memory-read floor."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

from .base import Images, OpsAdapter, Size, center_origin, pool_map

_REC601 = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class NumpyLoop(OpsAdapter):
    key = "numpy"
    name = "numpy loop"

    def luminance(self, images: Images) -> Any:
        # float32 dot then mean: ~5x faster here than mean over axis 0 then dot (numpy's strided reduce).
        return [float((img.reshape(-1, 3) @ _REC601).mean(dtype=np.float64)) for img in images]

    def center_crop(self, images: Images, size: Size) -> Any:
        w, h = size
        out = []
        for img in images:
            x, y = center_origin(img, size)
            out.append(img[y : y + h, x : x + w].copy())
        return out

    def random_crop(self, images: Images, size: Size, seed: int) -> Any:
        w, h = size
        rng = np.random.default_rng(seed)
        out = []
        for img in images:
            x = int(rng.integers(0, img.shape[1] - w + 1))
            y = int(rng.integers(0, img.shape[0] - h + 1))
            out.append(img[y : y + h, x : x + w].copy())
        return out


def _sum_u64_view(img: np.ndarray) -> int:
    return int(img.reshape(-1).view(np.uint64).sum())


def _sum_u8_widened(img: np.ndarray) -> int:
    return int(np.add.reduce(img.reshape(-1), dtype=np.uint64))


_READERS = {_sum_u64_view: "np.sum of uint64 view", _sum_u8_widened: "np.add.reduce to uint64"}


class MemoryRead(OpsAdapter):
    """Not a competitor: reads every byte once and does nothing else, the floor for luminance."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self.key = f"memory_read_{workers}t"
        self.reader: Callable[[np.ndarray], int] | None = None
        self._pool: ThreadPoolExecutor | None = None

    @property
    def name(self) -> str:  # type: ignore[override]
        how = "1 thread" if self.workers == 1 else f"pool x{self.workers}"
        return f"memory read ({_READERS.get(self.reader, 'fastest sum')}), {how}"

    def setup(self) -> None:
        if self.workers > 1:
            self._pool = ThreadPoolExecutor(self.workers)

    def teardown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def _pick_reader(self, img: np.ndarray) -> Callable[[np.ndarray], int]:
        """The faster of the two plain reads on this machine (the uint64 view needs 8-byte multiples)."""
        if img.nbytes % 8 or not img.flags.c_contiguous:
            return _sum_u8_widened
        best = {}
        for fn in (_sum_u64_view, _sum_u8_widened):
            fn(img)
            t0 = time.perf_counter()
            fn(img)
            best[fn] = time.perf_counter() - t0
        return min(best, key=best.__getitem__)

    def luminance(self, images: Images) -> Any:
        if self.reader is None:
            self.reader = self._pick_reader(images[0])
        if self._pool is None:
            return [self.reader(img) for img in images]
        return pool_map(self._pool, self.workers, self.reader, images)
