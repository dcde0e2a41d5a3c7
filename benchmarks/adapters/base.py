"""The interface every batched-ops competitor implements. Sizes are (width, height); interpolation is
"bilinear" or "area". An op a library cannot do like-for-like returns NotImplemented and is left out."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

Size = tuple[int, int]
Images = list[np.ndarray]


class OpsAdapter:
    key = "base"  # stable id, used in the JSON and for goals
    name = "base"  # shown in the table

    def setup(self) -> None:
        """Called once before any timing (thread settings, pools)."""

    def teardown(self) -> None:
        """Called once after the section."""

    def resize(self, images: Images, size: Size, interpolation: str) -> Any:
        return NotImplemented

    def luminance(self, images: Images) -> Any:
        return NotImplemented

    def center_crop(self, images: Images, size: Size) -> Any:
        return NotImplemented

    def random_crop(self, images: Images, size: Size, seed: int) -> Any:
        return NotImplemented

    def resize_videos(self, videos: list[np.ndarray], size: Size, interpolation: str) -> Any:
        return NotImplemented


def center_origin(img: np.ndarray, size: Size) -> tuple[int, int]:
    return (img.shape[1] - size[0]) // 2, (img.shape[0] - size[1]) // 2


def pool_map(pool: ThreadPoolExecutor, workers: int, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """fn over items in `workers` contiguous chunks: one task per worker keeps the pool's per-task
    overhead out of the comparison (the strongest simple way to use a pool for equal-cost items)."""
    bounds = np.linspace(0, len(items), workers + 1).astype(int)
    chunks = [items[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    out: list[Any] = []
    for part in pool.map(lambda chunk: [fn(x) for x in chunk], chunks):
        out.extend(part)
    return out
