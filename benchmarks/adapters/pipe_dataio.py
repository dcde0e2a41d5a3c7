"""dataio-rs (import name `dataio`): its documented image pipeline, which reads, decodes, transforms and
batches natively with the GIL released:

    dataio.pipeline(dataio.slot("image").decode_image(mode="rgb").resize_short(256, interp="bilinear")
                    .center_crop(h=224, w=224).hflip(prob=0.5).normalize("imagenet"), dataio.batch(B))
    .bind([{"image": path}, ...]).run("numpy", seed=...)

normalize("imagenet") fuses to normalize_chw_from_hwc_u8 (HWC uint8 -> normalised CHW float32); the other
workloads use .resize(h=, w=) and .random_resized_crop(h=, w=, scale=, ratio=). CPU work runs on dataio's
rayon pool, sized by DATAIO_CPU_WORKERS (set to the thread count before dataio starts); file reads go through
its async IO workers. concurrency="auto" (the README's advice) and the default prefetch: 2, 4, 8, 64 and
order="completion" measured the same within noise here. One loader per workload, iterated once per epoch
(creating one per epoch costs ~0.1 ms; an idle loader uses no CPU).

Differences: dataio has no DCT-scaled decode (decode_image's max_width/max_height are limits that fail
larger images), so every JPEG is decoded at full size; its resizes take an interp name, and "bilinear" is
used to match the others (it equals Pillow's antialiased BILINEAR within rounding).

File reads: given paths, dataio keeps up to DATAIO_MMAP_CACHE_MAX_ENTRIES (default 4096) files mmap'd across
epochs, so on these small sets it maps each file once and never re-opens it; past 4096 files (ImageNet has
1.28M) the cache evicts before reuse. Measured here with the cache off (=0, a process-wide setting read once):
the 32-px epoch 5.3 -> 24 ms, the ImageNet-sized one 145 -> 185 ms. The default row keeps dataio's fastest
(default) setting; a second row reads every file in Python each epoch from a record factory, as dataio's own
bench_dataloader does, which follows this benchmark's read-every-epoch rule."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from .pipe_base import PipelineAdapter
from .pipe_geometry import PipeSpec


class DataioPipe(PipelineAdapter):
    def __init__(self, read_in_python: bool = False) -> None:
        self.read_in_python = read_in_python
        self.key = "dataio_pyread" if read_in_python else "dataio"
        self.workers = 1
        self._dataio: Any = None
        self._loader: Any = None

    @property
    def name(self) -> str:  # type: ignore[override]
        how = ", files read in Python each epoch" if self.read_in_python else ""
        return f"dataio-rs pipeline ({self.workers} CPU workers{how})"

    @property
    def note(self) -> str:  # type: ignore[override]
        if self.read_in_python:
            return (
                "the same pipeline bound to a record factory yielding {'image': Path(p).read_bytes()} each "
                "epoch (dataio's bench_dataloader style): every file is read every epoch, as for the others."
            )
        return (
            f"DATAIO_CPU_WORKERS={self.workers}, records {{'image': path}} (read natively; its default mmap "
            "cache keeps these few files mapped across epochs, see pipe_dataio.py), decode_image(mode='rgb') "
            "+ resize_short(256, 'bilinear') + center_crop / random_resized_crop(interp='bilinear') / "
            "resize(32, 32, 'bilinear') + hflip + normalize('imagenet'), batch(B), run('numpy', "
            "concurrency='auto'). No DCT-scaled decode: full-size decode of every JPEG."
        )

    def setup(self, threads: int) -> None:
        self.workers = threads
        # Read when dataio first starts its pools; both floors are documented (CPU >= 2, IO >= 4).
        os.environ["DATAIO_CPU_WORKERS"] = str(threads)
        import dataio  # after the environment is set

        self._dataio = dataio

    def _pipeline(self, spec: PipeSpec, batch_size: int) -> Any:
        dio = self._dataio
        stage = dio.slot("image").decode_image(mode="rgb")
        if spec.crop == "stretch":
            stage = stage.resize(h=spec.size, w=spec.size, interp="bilinear")
        elif spec.crop == "center":
            stage = stage.resize_short(spec.resize, interp="bilinear").center_crop(h=spec.size, w=spec.size)
        else:
            stage = stage.random_resized_crop(
                h=spec.size, w=spec.size, scale=spec.scale, ratio=spec.ratio, interp="bilinear"
            )
        if spec.hflip:
            stage = stage.hflip(prob=spec.hflip)
        return dio.pipeline(stage.normalize("imagenet"), dio.batch(batch_size))

    def _records(self, paths: list[str]) -> list[dict[str, str]] | Callable[[], Any]:
        if self.read_in_python:
            return lambda: ({"image": Path(p).read_bytes()} for p in paths)
        return [{"image": p} for p in paths]

    def _run(self, paths: list[str], spec: PipeSpec, batch_size: int, seed: int | None) -> Any:
        return (
            self._pipeline(spec, batch_size)
            .bind(self._records(paths))
            .run("numpy", concurrency="auto", on_failure="strict", seed=seed)
        )

    def start(self, paths: list[str], spec: PipeSpec, batch_size: int) -> None:
        self._loader = self._run(paths, spec, batch_size, seed=0)

    def stop(self) -> None:
        if self._loader is not None:
            self._loader.close()
            self._loader = None

    def run_epoch(self, paths: list[str], spec: PipeSpec, batch_size: int, epoch: int) -> int:
        assert self._loader is not None, "start() first"
        return sum(len(batch["image"]) for batch in self._loader)

    def load_batch(self, paths: list[str], spec: PipeSpec, epoch: int = 0, first_index: int = 0) -> Any:
        with self._run(paths, spec, len(paths), seed=epoch) as loader:
            return next(iter(loader))["image"]
