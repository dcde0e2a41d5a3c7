"""Pillow from numpy arrays: Image.fromarray, the matching filter, back to numpy. BILINEAR is Pillow's
antialiased triangle filter (it reads the whole footprint when shrinking, unlike cv2.INTER_LINEAR's 2x2
taps); BOX equals INTER_AREA at integer factors up to rounding. Crops are left out: Pillow would convert
the whole image to crop a corner, which measures the conversion, not the crop."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from .base import Images, OpsAdapter, Size

_FILTERS = {"bilinear": Image.Resampling.BILINEAR, "area": Image.Resampling.BOX}


class PillowOps(OpsAdapter):
    key = "pillow"
    name = "Pillow"

    def resize(self, images: Images, size: Size, interpolation: str) -> Any:
        f = _FILTERS[interpolation]
        return [np.asarray(Image.fromarray(img).resize(size, f)) for img in images]

    def luminance(self, images: Images) -> Any:
        # convert("L") uses the same Rec.601 weights (rounded to a byte per pixel).
        return [float(np.asarray(Image.fromarray(img).convert("L")).mean()) for img in images]

    def resize_videos(self, videos: list[np.ndarray], size: Size, interpolation: str) -> Any:
        f = _FILTERS[interpolation]
        outs = []
        for video in videos:
            out = np.empty((video.shape[0], size[1], size[0], video.shape[3]), np.uint8)
            for t, frame in enumerate(video):
                out[t] = np.asarray(Image.fromarray(frame).resize(size, f))
            outs.append(out)
        return outs
