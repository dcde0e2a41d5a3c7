"""The ImageFolder of the training benchmark: root/class_XX/NNNN.jpg, 10 classes x 32 JPEGs like
pipeline_data's "imagenet" set (an epoch is exactly 10 batches of 32), generated once into
benchmarks/data/training/ (git-ignored) and regenerated when absent or when STAMP changes."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass

import numpy as np
import pipeline_data
from pipeline_data import ImageSet

DATA_DIR = pipeline_data.DATA_DIR.parent / "training"
CLASSES = 10
PER_CLASS = 32
SEED = 20240612
# Bump "version" when anything here changes the files; pipeline_data's STAMP covers its generator.
STAMP = {"version": 1, "seed": SEED, "classes": CLASSES, "per_class": PER_CLASS, "generator": pipeline_data.STAMP}
SPEC = pipeline_data.SETS["imagenet"]  # subsampling and progressive share


@dataclass
class TrainingSet(ImageSet):
    root: str = ""
    labels: list[int] | None = None

    def describe(self) -> str:
        ws, hs = [w for w, _ in self.sizes], [h for _, h in self.sizes]
        short = [min(s) for s in self.sizes]
        return (
            f"ImageFolder {self.root}: {CLASSES} classes x {PER_CLASS} = {len(self.paths)} JPEGs, "
            f"{min(ws)}-{max(ws)} x {min(hs)}-{max(hs)} px (shorter side {min(short)}-{max(short)}), "
            f"mean {np.mean(self.file_bytes) / 1e3:.1f} KB, {self.bits_per_pixel:.2f} bits/pixel, "
            f"{sum(self.progressive)} progressive"
        )


def _generate() -> None:
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    DATA_DIR.mkdir(parents=True)
    rng = np.random.default_rng(SEED)
    tiles = pipeline_data.make_tiles(np.random.default_rng(pipeline_data.SEED))
    q_lo, q_hi = pipeline_data.CAMERA[1]
    files = []
    for i, (w, h) in enumerate(pipeline_data.image_sizes("imagenet", CLASSES * PER_CLASS, rng)):
        label, k = divmod(i, PER_CLASS)
        rel = f"class_{label:02d}/{k:04d}.jpg"
        (DATA_DIR / rel).parent.mkdir(exist_ok=True)
        quality, progressive = int(rng.integers(q_lo, q_hi + 1)), SPEC.progressive(i)
        img = pipeline_data.synth_image(rng, tiles, w, h)
        size = pipeline_data.write_jpeg(DATA_DIR / rel, img, quality, SPEC.subsampling, progressive)
        files.append({"file": rel, "label": label, "width": w, "height": h, "bytes": size, "progressive": progressive})
    # Outside the class folders: ImageFolder only looks into subdirectories.
    (DATA_DIR / "manifest.json").write_text(json.dumps({"stamp": STAMP, "files": files}))


def _load() -> TrainingSet | None:
    found = pipeline_data.load_manifest(DATA_DIR, stamp=STAMP)
    labels = None if found is None else [f["label"] for f in found[1]]
    return None if found is None else TrainingSet.from_manifest("training", *found, root=str(DATA_DIR), labels=labels)


def training_set() -> TrainingSet:
    """The set, generated first when missing or stale."""
    loaded = _load()
    if loaded is None:
        t0 = time.perf_counter()
        _generate()
        loaded = _load()
        assert loaded is not None, "generated training set does not load back"
        print(f"  generated the training ImageFolder in {time.perf_counter() - t0:.1f} s", flush=True)
    return loaded
