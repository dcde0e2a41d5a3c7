"""OpenCV-python: cv2.imdecode with IMREAD_REDUCED_COLOR_2/4/8 (libjpeg's DCT scaling) chosen by the same
rule as fastimg, integer crop, cv2.resize(INTER_LINEAR), flip and normalise in numpy, in a thread pool with
cv2.setNumThreads(1) (cv2 releases the GIL)."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np

from .pipe_base import Cv2PooledAdapter
from .pipe_geometry import PipeSpec, dct_factor, int_box, jpeg_size, plan, write_chw

_FLAGS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


class Cv2ReducedPipe(Cv2PooledAdapter):
    key = "cv2_reduced"

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"cv2 IMREAD_REDUCED, pool x{self.workers}"

    @property
    def note(self) -> str:  # type: ignore[override]
        return (
            f"ThreadPoolExecutor({self.workers}), cv2.setNumThreads(1): read bytes, size from the JPEG header "
            "(a Python SOF parse), imdecode(IMREAD_REDUCED_COLOR_2/4/8 | IMREAD_IGNORE_ORIENTATION), crop "
            "rounded to whole pixels, resize(INTER_LINEAR), flip + BGR->RGB + normalise in numpy."
        )

    def process(self, path: str, spec: PipeSpec, rng: random.Random, dst: np.ndarray) -> None:
        data = Path(path).read_bytes()
        width, height = jpeg_size(data)
        box, flip = plan(width, height, spec, rng)
        factor = dct_factor(box, spec.size)
        img = cv2.imdecode(np.frombuffer(data, np.uint8), _FLAGS[factor] | cv2.IMREAD_IGNORE_ORIENTATION)
        x0, y0, x1, y1 = int_box(box, factor, img.shape[1], img.shape[0])
        out = cv2.resize(img[y0:y1, x0:x1], (spec.size, spec.size), interpolation=cv2.INTER_LINEAR)
        write_chw(out, dst, flip, bgr=True)
