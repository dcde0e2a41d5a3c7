"""fastimg.load_batch: the baseline of every ratio, at its default thread count or pinned to one thread."""

from __future__ import annotations

from typing import Any

import fastimg

from .pipe_base import PipelineAdapter
from .pipe_geometry import PipeSpec

_CROPS = {"stretch": None, "center": "center", "random_resized": "random_resized"}


def transform_for(spec: PipeSpec) -> fastimg.Transform:
    return fastimg.Transform(
        spec.size, resize=spec.resize, crop=_CROPS[spec.crop], scale=spec.scale, ratio=spec.ratio, hflip=spec.hflip
    )


class FastimgPipe(PipelineAdapter):
    @property
    def note(self) -> str:  # type: ignore[override]
        filt = "antialiased" if getattr(transform_for(PipeSpec(224, "stretch")), "antialias", False) else "plain"
        return (
            "fastimg.load_batch(paths, Transform(...)) with the Transform defaults (bilinear, "
            + filt
            + "): reads, decodes (DCT-scaled, region only), resamples and normalises in one native call "
            "per batch" + ("" if self.num_threads is None else f", num_threads={self.num_threads}") + "."
        )

    def __init__(self, num_threads: int | None = None) -> None:
        self.num_threads = num_threads
        self.key = "fastimg" if num_threads is None else f"fastimg_{num_threads}t"
        self.name = "fastimg" if num_threads is None else f"fastimg, {num_threads} thread{'s' * (num_threads > 1)}"
        self._transforms: dict[PipeSpec, fastimg.Transform] = {}

    def load_batch(self, paths: list[str], spec: PipeSpec, epoch: int = 0, first_index: int = 0) -> Any:
        transform = self._transforms.get(spec)
        if transform is None:
            transform = self._transforms[spec] = transform_for(spec)
        indices = range(first_index, first_index + len(paths))
        return fastimg.load_batch(paths, transform, epoch=epoch, indices=indices, num_threads=self.num_threads).images
