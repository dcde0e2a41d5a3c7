"""The scaled-decode competitors of the decode pipeline: Pillow with draft(), cv2 reduced decode and
simplejpeg scaled decode, each a per-image function over a thread pool (pipe_base.PooledAdapter) that decodes
at the DCT scale fastimg's rule picks (pipe_geometry.dct_factor); and libjpeg-turbo's decode alone, the
reference rows."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import simplejpeg
from PIL import Image

from .pipe_base import PipelineAdapter, PooledAdapter
from .pipe_geometry import PipeSpec, dct_factor, int_box, jpeg_size, plan, write_chw


class PillowDraftPipe(PooledAdapter):
    """Pillow used well: Image.draft() for DCT-scaled JPEG decoding, then one Image.resize with box= (crop and
    resize in one step, reading only the crop's footprint), in a thread pool (Pillow releases the GIL while
    decoding and resampling)."""

    key = "pillow_draft"
    title = "Pillow + draft(), pool x{workers}"
    how = (
        "ThreadPoolExecutor({workers}): Image.open, draft('RGB', ...) at the largest 1/2-1/8 DCT "
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
            crop = (box[0] / scale, box[1] / scale, box[2] / scale, box[3] / scale)
            out = im.resize((spec.size, spec.size), Image.Resampling.BILINEAR, box=crop)
        write_chw(np.asarray(out), dst, flip)


class Cv2PooledAdapter(PooledAdapter):
    """A pooled adapter that decodes at the DCT scale fastimg's rule picks (`decode`), crops to whole pixels
    and resizes with cv2.resize(INTER_LINEAR): cv2's own threads are switched off in the caller and in every
    pool thread, so the pool's workers are the only parallelism (no oversubscription)."""

    bgr = False  # decode() returns BGR

    def setup(self, threads: int) -> None:
        cv2.setNumThreads(1)
        super().setup(threads)

    def init_thread(self) -> None:
        cv2.setNumThreads(1)

    def size(self, data: bytes) -> tuple[int, int]:
        """(width, height) of the encoded image."""
        raise NotImplementedError

    def decode(self, data: bytes, width: int, height: int, factor: int) -> np.ndarray:
        """The image decoded at 1/factor of its size, (H, W, 3) uint8."""
        raise NotImplementedError

    def process(self, path: str, spec: PipeSpec, rng: random.Random, dst: np.ndarray) -> None:
        data = Path(path).read_bytes()
        width, height = self.size(data)
        box, flip = plan(width, height, spec, rng)
        factor = dct_factor(box, spec.size)
        img = self.decode(data, width, height, factor)
        x0, y0, x1, y1 = int_box(box, factor, img.shape[1], img.shape[0])
        out = cv2.resize(img[y0:y1, x0:x1], (spec.size, spec.size), interpolation=cv2.INTER_LINEAR)
        write_chw(out, dst, flip, bgr=self.bgr)


_FLAGS = {1: cv2.IMREAD_COLOR, **{f: getattr(cv2, f"IMREAD_REDUCED_COLOR_{f}") for f in (2, 4, 8)}}


class Cv2ReducedPipe(Cv2PooledAdapter):
    """OpenCV-python: cv2.imdecode with IMREAD_REDUCED_COLOR_2/4/8 (libjpeg's DCT scaling) chosen by the same
    rule as fastimg, integer crop, cv2.resize(INTER_LINEAR), flip and normalise in numpy, in a thread pool with
    cv2.setNumThreads(1) (cv2 releases the GIL)."""

    key = "cv2_reduced"
    title = "cv2 IMREAD_REDUCED, pool x{workers}"
    how = (
        "ThreadPoolExecutor({workers}), cv2.setNumThreads(1): read bytes, size from the JPEG header "
        "(a Python SOF parse), imdecode(IMREAD_REDUCED_COLOR_2/4/8 | IMREAD_IGNORE_ORIENTATION), crop "
        "rounded to whole pixels, resize(INTER_LINEAR), flip + BGR->RGB + normalise in numpy."
    )
    bgr = True

    def size(self, data: bytes) -> tuple[int, int]:
        return jpeg_size(data)

    def decode(self, data: bytes, width: int, height: int, factor: int) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(data, np.uint8), _FLAGS[factor] | cv2.IMREAD_IGNORE_ORIENTATION)


def scaled_kwargs(width: int, height: int, factor: int) -> dict[str, Any]:
    """decode_jpeg arguments that select exactly the 1/factor DCT scale."""
    if factor == 1:
        return {}
    return {"min_width": math.ceil(width / factor), "min_height": math.ceil(height / factor)}


class SimplejpegPipe(Cv2PooledAdapter):
    """simplejpeg (libjpeg-turbo) scaled decode, then cv2.resize(INTER_LINEAR) and normalise, in a thread pool.

    simplejpeg.decode_jpeg(min_width=, min_height=) picks the smallest libjpeg-turbo scale (any n/8) that keeps
    the image at least that large. Non-power-of-two scales (3/4, 5/8, ...) measured slower here than a full
    decode (2.2 vs 1.8 ms on the 500x375 set), so the adapter only asks for 1/2, 1/4 or 1/8, by the same rule as
    fastimg, and decodes at full size otherwise."""

    key = "simplejpeg"
    title = "simplejpeg scaled + cv2.resize, pool x{workers}"
    how = (
        "ThreadPoolExecutor({workers}), cv2.setNumThreads(1): read bytes, decode_jpeg_header, "
        "decode_jpeg(min_width, min_height) at the 1/2-1/8 scale fastimg's rule picks, crop rounded to "
        "whole pixels, cv2.resize(INTER_LINEAR), flip + normalise in numpy."
    )

    def size(self, data: bytes) -> tuple[int, int]:
        height, width, _, _ = simplejpeg.decode_jpeg_header(data)
        return width, height

    def decode(self, data: bytes, width: int, height: int, factor: int) -> np.ndarray:
        return simplejpeg.decode_jpeg(data, colorspace="RGB", **scaled_kwargs(width, height, factor))


class DecodeCeiling(PipelineAdapter):
    """Reference rows, not competitors: raw libjpeg-turbo decode throughput (simplejpeg.decode_jpeg, RGB, one
    thread, bytes already in memory, nothing after the decode), at full size and at the DCT scale the pipeline's
    rule picks for each image. A pipeline on N threads cannot beat N x the scaled row by more than what its
    region decoding (skipped rows and columns) saves."""

    reference = True

    def __init__(self, scaled: bool) -> None:
        self.scaled = scaled
        self.key = "ceiling_scaled" if scaled else "ceiling_full"
        self.title = f"ref: libjpeg-turbo decode only, 1 thread, {'pipeline DCT scale' if scaled else 'full size'}"
        scale = "the 1/2-1/8 scale fastimg's rule picks (RandomResizedCrop: for one seeded draw of crops)"
        self.how = f"simplejpeg.decode_jpeg of in-memory bytes in one thread, at {scale if scaled else 'full size'}"
        self.how += "; no resize, no normalisation."
        self._items: list[tuple[bytes, dict]] = []

    def start(self, paths: list[str], spec: PipeSpec, batch_size: int) -> None:
        rng = random.Random(0)
        self._items = []
        for path in paths:
            data = Path(path).read_bytes()
            kwargs: dict = {}
            if self.scaled:
                height, width, _, _ = simplejpeg.decode_jpeg_header(data)
                box, _ = plan(width, height, spec, rng)
                kwargs = scaled_kwargs(width, height, dct_factor(box, spec.size))
            self._items.append((data, kwargs))

    def stop(self) -> None:
        self._items = []

    def run_epoch(self, paths: list[str], spec: PipeSpec, batch_size: int, epoch: int) -> int:
        for data, kwargs in self._items:
            simplejpeg.decode_jpeg(data, colorspace="RGB", **kwargs)
        return len(self._items)

    def load_batch(self, paths: list[str], spec: PipeSpec, epoch: int = 0, first_index: int = 0) -> None:
        return None  # decodes only; no batch to compare
