"""OpenCV: a plain single-threaded loop, and the same calls spread over a thread pool (cv2 releases the GIL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cv2
import numpy as np

from .base import Images, OpsAdapter, Size, pool_map

_CODES = {"bilinear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA}


def _luma(img: np.ndarray) -> float:
    return cv2.mean(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))[0]


def _frames_and_outputs(videos: list[np.ndarray], size: Size) -> tuple[list[tuple[np.ndarray, np.ndarray]], list]:
    outs = [np.empty((v.shape[0], size[1], size[0], v.shape[3]), np.uint8) for v in videos]
    pairs = [(frame, dst) for v, out in zip(videos, outs) for frame, dst in zip(v, out)]
    return pairs, outs


class Cv2Loop(OpsAdapter):
    key = "cv2"
    name = "cv2, 1 thread"

    def setup(self) -> None:
        cv2.setNumThreads(1)

    def resize(self, images: Images, size: Size, interpolation: str) -> Any:
        code = _CODES[interpolation]
        return [cv2.resize(img, size, interpolation=code) for img in images]

    def luminance(self, images: Images) -> Any:
        return [_luma(img) for img in images]

    def resize_videos(self, videos: list[np.ndarray], size: Size, interpolation: str) -> Any:
        code = _CODES[interpolation]
        pairs, outs = _frames_and_outputs(videos, size)
        for frame, dst in pairs:
            cv2.resize(frame, size, dst=dst, interpolation=code)
        return outs


class Cv2Pool(OpsAdapter):
    key = "cv2_pool"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.name = f"cv2, pool x{workers}"
        self._pool: ThreadPoolExecutor | None = None

    def setup(self) -> None:
        # One OpenCV thread per worker: OpenCV's own pool on top of ours would oversubscribe the cores.
        cv2.setNumThreads(1)
        self._pool = ThreadPoolExecutor(self.workers, initializer=cv2.setNumThreads, initargs=(1,))

    def teardown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def _map(self, fn: Any, items: list) -> list:
        assert self._pool is not None, "setup() first"
        return pool_map(self._pool, self.workers, fn, items)

    def resize(self, images: Images, size: Size, interpolation: str) -> Any:
        code = _CODES[interpolation]
        return self._map(lambda img: cv2.resize(img, size, interpolation=code), images)

    def luminance(self, images: Images) -> Any:
        return self._map(_luma, images)

    def resize_videos(self, videos: list[np.ndarray], size: Size, interpolation: str) -> Any:
        code = _CODES[interpolation]
        pairs, outs = _frames_and_outputs(videos, size)
        self._map(lambda p: cv2.resize(p[0], size, dst=p[1], interpolation=code), pairs)
        return outs
