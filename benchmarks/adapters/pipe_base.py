"""The interface every decode-pipeline competitor implements: image files in, one float32 NCHW batch out
(numpy array or torch tensor), ImageNet-normalised, as a PipeSpec says. A competitor that cannot do a
workload says why in supports() and gets an n/a row."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .pipe_geometry import PipeSpec


class PipelineAdapter:
    key = "base"  # stable id, used in the JSON and for goals
    name = "base"  # shown in the table
    note = ""  # how it does the work, printed under the table
    reference = False  # a reference row (decode ceiling), not a competitor

    def setup(self, threads: int) -> None:
        """Called once before any workload (thread settings, pools)."""

    def teardown(self) -> None:
        """Called once after the section."""

    def supports(self, spec: PipeSpec) -> str | None:
        """None when the workload can be done like-for-like, else the reason it is left out."""
        return None

    def start(self, paths: list[str], spec: PipeSpec, batch_size: int) -> None:
        """Per-workload set-up outside the timings (e.g. a DataLoader and its persistent workers)."""

    def stop(self) -> None:
        """Undoes start()."""

    def load_batch(self, paths: list[str], spec: PipeSpec, epoch: int = 0, first_index: int = 0) -> Any:
        """One (len(paths), 3, size, size) float32 batch; reads every file."""
        raise NotImplementedError

    def run_epoch(self, paths: list[str], spec: PipeSpec, batch_size: int, epoch: int) -> int:
        """One pass over paths in batches; returns the number of images delivered."""
        done = 0
        for start in range(0, len(paths), batch_size):
            done += len(self.load_batch(paths[start : start + batch_size], spec, epoch, start))
        return done


class PooledAdapter(PipelineAdapter):
    """A Python per-image function over a ThreadPoolExecutor (the libraries release the GIL while decoding
    and resizing), each image written into its slot of one preallocated batch. Items go out in 4 chunks per
    worker: few enough that pool overhead stays out of the 32-px workload, enough to balance images of
    different sizes."""

    def __init__(self) -> None:
        self.workers = 1
        self._pool: ThreadPoolExecutor | None = None

    def setup(self, threads: int) -> None:
        self.workers = threads
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


class Cv2PooledAdapter(PooledAdapter):
    """A pooled adapter that resizes with cv2: cv2's own threads are switched off in the caller and in
    every pool thread, so the pool's workers are the only parallelism (no oversubscription)."""

    def setup(self, threads: int) -> None:
        import cv2

        cv2.setNumThreads(1)
        super().setup(threads)

    def init_thread(self) -> None:
        import cv2

        cv2.setNumThreads(1)
