"""The ImageFolder of the training benchmark: root/class_XX/NNNN.jpg, 10 classes x 32 camera-like JPEGs of
ImageNet's sizes (shorter side 300-500), generated once into benchmarks/data/training/ (git-ignored) with
pipeline_data's generator (about 4 bits/pixel at quality 90-95, 4:2:0, every 8th file progressive, like its
"imagenet" set) and regenerated when absent or when STAMP changes. 32 per class makes an epoch exactly 10
batches of 32."""

from __future__ import annotations

import io
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pipeline_data
from PIL import Image

DATA_DIR = Path(__file__).resolve().parent / "data" / "training"
CLASSES = 10
PER_CLASS = 32
SEED = 20240612
# Bump "version" when anything here changes the files; pipeline_data's STAMP covers its generator.
STAMP = {"version": 1, "seed": SEED, "classes": CLASSES, "per_class": PER_CLASS, "generator": pipeline_data.STAMP}
SPEC = pipeline_data.SETS["imagenet"]  # subsampling and progressive share


@dataclass
class TrainingSet:
    root: str
    paths: list[str]
    labels: list[int]
    sizes: list[tuple[int, int]]  # (width, height)
    file_bytes: list[int]
    progressive: list[bool]

    @property
    def bits_per_pixel(self) -> float:
        return 8 * sum(self.file_bytes) / sum(w * h for w, h in self.sizes)

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
    tiles = pipeline_data._tiles(np.random.default_rng(pipeline_data.SEED))
    sizes = pipeline_data._sizes("imagenet", CLASSES * PER_CLASS, rng)
    q_lo, q_hi = pipeline_data.CAMERA[1]
    files = []
    for i, (w, h) in enumerate(sizes):
        label, k = divmod(i, PER_CLASS)
        rel = f"class_{label:02d}/{k:04d}.jpg"
        (DATA_DIR / rel).parent.mkdir(exist_ok=True)
        quality = int(rng.integers(q_lo, q_hi + 1))
        progressive = bool(SPEC.progressive_every and i % SPEC.progressive_every == SPEC.progressive_every - 1)
        buf = io.BytesIO()
        Image.fromarray(pipeline_data.synth_image(rng, tiles, w, h)).save(
            buf, "JPEG", quality=quality, subsampling=SPEC.subsampling, progressive=progressive
        )
        (DATA_DIR / rel).write_bytes(buf.getvalue())
        files.append(
            {"file": rel, "label": label, "width": w, "height": h, "bytes": buf.tell(), "progressive": progressive}
        )
    # Outside the class folders: ImageFolder only looks into subdirectories.
    (DATA_DIR / "manifest.json").write_text(json.dumps({"stamp": STAMP, "files": files}))


def _load() -> TrainingSet | None:
    try:
        meta = json.loads((DATA_DIR / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if meta.get("stamp") != STAMP:
        return None
    files = meta["files"]
    paths = [str(DATA_DIR / f["file"]) for f in files]
    if any(not Path(p).is_file() or Path(p).stat().st_size != f["bytes"] for p, f in zip(paths, files)):
        return None
    return TrainingSet(
        str(DATA_DIR),
        paths,
        [f["label"] for f in files],
        [(f["width"], f["height"]) for f in files],
        [f["bytes"] for f in files],
        [f["progressive"] for f in files],
    )


def training_set(verbose: bool = True) -> TrainingSet:
    """The set, generated first when missing or stale."""
    loaded = _load()
    if loaded is None:
        t0 = time.perf_counter()
        _generate()
        loaded = _load()
        assert loaded is not None, "generated training set does not load back"
        if verbose:
            print(f"  generated the training ImageFolder in {time.perf_counter() - t0:.1f} s", flush=True)
    return loaded


if __name__ == "__main__":
    print(training_set().describe())
