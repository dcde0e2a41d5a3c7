"""trainingsample (Rust). Its batch_resize_images / batch_resize_videos take no interpolation argument
and are bilinear: byte-identical to cv2.INTER_LINEAR (checked on 300x400 -> 100x80, 2048 -> 512 and
upscaling; the table's diff column re-checks it against fastimg every run). So it only enters bilinear
workloads. Random crops take no seed, so their positions differ from everyone else's."""

from __future__ import annotations

from typing import Any

import numpy as np
import trainingsample

from .base import Images, OpsAdapter, Size

INTERPOLATION = "bilinear"


class TrainingSampleOps(OpsAdapter):
    key = "trainingsample"
    name = "trainingsample"

    def resize(self, images: Images, size: Size, interpolation: str) -> Any:
        if interpolation != INTERPOLATION:
            return NotImplemented
        return trainingsample.batch_resize_images(images, [size] * len(images))

    def luminance(self, images: Images) -> Any:
        return trainingsample.batch_calculate_luminance(images)

    def center_crop(self, images: Images, size: Size) -> Any:
        return trainingsample.batch_center_crop_images(images, [size] * len(images))

    def random_crop(self, images: Images, size: Size, seed: int) -> Any:
        return trainingsample.batch_random_crop_images(images, [size] * len(images))

    def resize_videos(self, videos: list[np.ndarray], size: Size, interpolation: str) -> Any:
        if interpolation != INTERPOLATION:
            return NotImplemented
        return trainingsample.batch_resize_videos(videos, [size] * len(videos))
