"""Pillow used well: Image.draft() for DCT-scaled JPEG decoding, then one Image.resize with box= (crop and
resize in one step, reading only the crop's footprint), in a thread pool (Pillow releases the GIL while
decoding and resampling)."""

from __future__ import annotations

import random

import numpy as np
from PIL import Image

from .pipe_base import PooledAdapter
from .pipe_geometry import PipeSpec, dct_factor, plan, write_chw


class PillowDraftPipe(PooledAdapter):
    key = "pillow_draft"

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"Pillow + draft(), pool x{self.workers}"

    @property
    def note(self) -> str:  # type: ignore[override]
        return (
            f"ThreadPoolExecutor({self.workers}): Image.open, draft('RGB', ...) at the largest 1/2-1/8 DCT "
            "scale that keeps the crop >= the output, resize(BILINEAR, box=crop) (antialiased), flip, "
            "normalise in numpy into the batch."
        )

    def process(self, path: str, spec: PipeSpec, rng: random.Random, dst: np.ndarray) -> None:
        with Image.open(path) as im:
            width, height = im.size
            box, flip = plan(width, height, spec, rng)
            factor = dct_factor(box, spec.size)
            scale = 1.0
            if factor > 1:
                drafted = im.draft("RGB", (width // factor, height // factor))
                if drafted is not None:  # None for non-JPEGs: decode at full size
                    scale = width / drafted[1][2]
            if im.mode != "RGB":
                im = im.convert("RGB")  # type: ignore[assignment]
            out = im.resize(
                (spec.size, spec.size),
                Image.Resampling.BILINEAR,
                box=(box[0] / scale, box[1] / scale, box[2] / scale, box[3] / scale),
            )
        write_chw(np.asarray(out), dst, flip)
