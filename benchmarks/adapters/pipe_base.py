"""The interface every decode-pipeline competitor implements (and the baseline, fastimg): image files in, one
float32 NCHW batch out (numpy array or torch tensor), ImageNet-normalised, as a PipeSpec says. A competitor
whose set-up or run fails gets an n/a row with the error."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

import fastimg

from .pipe_geometry import PipeSpec


class PipelineAdapter:
    key = "base"  # stable id, used in the JSON and for goals
    title = "base"  # the name shown in the table; "{workers}" becomes the thread count
    how = ""  # how it does the work, printed under the table; "{workers}" as in title
    reference = False  # a reference row (decode ceiling), not a competitor
    workers = 1

    @property
    def name(self) -> str:
        return self.title.format(workers=self.workers)

    @property
    def note(self) -> str:
        return self.how.format(workers=self.workers)

    def setup(self, threads: int) -> None:
        """Called once before any workload (thread settings, pools)."""
        self.workers = threads

    def teardown(self) -> None:
        """Called once after the section."""

    def start(self, paths: list[str], spec: PipeSpec, batch_size: int) -> None:
        """Per-workload set-up outside the timings (e.g. a DataLoader and its persistent workers)."""

    def stop(self) -> None:
        """Undoes start()."""

    def load_batch(self, paths: list[str], spec: PipeSpec, epoch: int = 0, first_index: int = 0) -> Any:
        """One (len(paths), 3, size, size) float32 batch; reads every file."""
        raise NotImplementedError

    def run_epoch(self, paths: list[str], spec: PipeSpec, batch_size: int, epoch: int) -> int:
        """One pass over paths in batches; returns the number of images delivered."""
        starts = range(0, len(paths), batch_size)
        return sum(len(self.load_batch(paths[i : i + batch_size], spec, epoch, i)) for i in starts)


class PooledAdapter(PipelineAdapter):
    """A Python per-image function over a ThreadPoolExecutor (the libraries release the GIL while decoding
    and resizing), each image written into its slot of one preallocated batch. Items go out in 4 chunks per
    worker: few enough that pool overhead stays out of the 32-px workload, enough to balance images of
    different sizes."""

    _pool: ThreadPoolExecutor | None = None

    def setup(self, threads: int) -> None:
        super().setup(threads)
        self._pool = ThreadPoolExecutor(threads, initializer=self.init_thread)

    def teardown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def init_thread(self) -> None:
        """Runs once in each pool thread."""

    def process(self, path: str, spec: PipeSpec, rng: random.Random, dst: np.ndarray) -> None:
        """Decodes path and writes the finished (3, size, size) image into dst."""
        raise NotImplementedError

    def load_batch(self, paths: list[str], spec: PipeSpec, epoch: int = 0, first_index: int = 0) -> Any:
        assert self._pool is not None, "setup() first"
        out = np.empty((len(paths), 3, spec.size, spec.size), np.float32)
        bounds = [int(b) for b in np.linspace(0, len(paths), 4 * self.workers + 1)]

        def chunk(a: int, b: int) -> None:
            rng = random.Random(epoch * 1_000_003 + first_index + a)
            for i in range(a, b):
                self.process(paths[i], spec, rng, out[i])

        futures = [self._pool.submit(chunk, a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        for f in futures:
            f.result()
        return out


_CROPS = {"stretch": None, "center": "center", "random_resized": "random_resized"}


def transform_for(spec: PipeSpec) -> fastimg.Transform:
    return fastimg.Transform(
        spec.size, resize=spec.resize, crop=_CROPS[spec.crop], scale=spec.scale, ratio=spec.ratio, hflip=spec.hflip
    )


class FastimgPipe(PipelineAdapter):
    """fastimg.load_batch: the baseline of every ratio, at its default thread count or pinned to one thread."""

    def __init__(self, num_threads: int | None = None) -> None:
        self.num_threads = num_threads
        self.key = "fastimg" if num_threads is None else f"fastimg_{num_threads}t"
        self.title = "fastimg" if num_threads is None else f"fastimg, {num_threads} thread{'s' * (num_threads > 1)}"
        filt = "antialiased" if transform_for(PipeSpec(224, "stretch")).antialias else "plain"
        self.how = (
            f"fastimg.load_batch(paths, Transform(...)) with the Transform defaults (bilinear, {filt}): reads, "
            "decodes (DCT-scaled, region only), resamples and normalises in one native call per batch"
            + ("" if num_threads is None else f", num_threads={num_threads}")
            + "."
        )
        self._transforms: dict[PipeSpec, fastimg.Transform] = {}

    def load_batch(self, paths: list[str], spec: PipeSpec, epoch: int = 0, first_index: int = 0) -> Any:
        transform = self._transforms.get(spec) or self._transforms.setdefault(spec, transform_for(spec))
        indices = range(first_index, first_index + len(paths))
        return fastimg.load_batch(paths, transform, epoch=epoch, indices=indices, num_threads=self.num_threads).images
