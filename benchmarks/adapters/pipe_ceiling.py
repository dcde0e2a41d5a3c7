"""Reference rows, not competitors: raw libjpeg-turbo decode throughput (simplejpeg.decode_jpeg, RGB, one
thread, bytes already in memory, nothing after the decode), at full size and at the DCT scale the pipeline's
rule picks for each image. A pipeline on N threads cannot beat N x the scaled row by more than what its
region decoding (skipped rows and columns) saves."""

from __future__ import annotations

import random
from pathlib import Path

import simplejpeg

from .pipe_base import PipelineAdapter
from .pipe_geometry import PipeSpec, dct_factor, plan
from .pipe_simplejpeg import scaled_kwargs


class DecodeCeiling(PipelineAdapter):
    reference = True

    def __init__(self, scaled: bool) -> None:
        self.scaled = scaled
        self.key = "ceiling_scaled" if scaled else "ceiling_full"
        self.name = f"ref: libjpeg-turbo decode only, 1 thread, {'pipeline DCT scale' if scaled else 'full size'}"
        self.note = (
            "simplejpeg.decode_jpeg of in-memory bytes in one thread, "
            + (
                "at the 1/2-1/8 scale fastimg's rule picks (RandomResizedCrop: for one seeded draw of crops)"
                if scaled
                else "at full size"
            )
            + "; no resize, no normalisation."
        )
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
