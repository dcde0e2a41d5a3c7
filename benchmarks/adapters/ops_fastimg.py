"""fastimg itself: the baseline of every ratio, at its default thread count or pinned to one thread."""

from __future__ import annotations

from typing import Any

import numpy as np

import fastimg

from .base import Images, OpsAdapter, Size


class FastimgOps(OpsAdapter):
    def __init__(self, num_threads: int | None = None) -> None:
        self.num_threads = num_threads
        self.key = "fastimg" if num_threads is None else f"fastimg_{num_threads}t"
        self.name = "fastimg" if num_threads is None else f"fastimg, {num_threads} thread{'s' * (num_threads > 1)}"

    def resize(self, images: Images, size: Size, interpolation: str) -> Any:
        return fastimg.batch_resize_images(images, size, interpolation, num_threads=self.num_threads)

    def luminance(self, images: Images) -> Any:
        return fastimg.batch_calculate_luminance(images, num_threads=self.num_threads)

    def center_crop(self, images: Images, size: Size) -> Any:
        return fastimg.batch_center_crop_images(images, size, num_threads=self.num_threads)

    def random_crop(self, images: Images, size: Size, seed: int) -> Any:
        return fastimg.batch_random_crop_images(images, size, seed, num_threads=self.num_threads)

    def resize_videos(self, videos: list[np.ndarray], size: Size, interpolation: str) -> Any:
        return fastimg.batch_resize_videos(videos, size, interpolation, num_threads=self.num_threads)


class FastimgBilinearOnly(OpsAdapter):
    """A reference row on the resize workloads: fastimg's plain (aliased) bilinear whatever the workload asks,
    so the area rows show what the antialiased default costs over it."""

    key = "fastimg_bilinear"
    name = "ref: fastimg plain bilinear"

    def resize(self, images: Images, size: Size, interpolation: str) -> Any:
        if interpolation == "bilinear":
            return NotImplemented  # the workload's own fastimg row
        return fastimg.batch_resize_images(images, size, "bilinear")
