"""Where a loader's CPU time goes, per image, on one thread in this process (files in the page cache): the
PyTorch + Pillow chain stage by stage, fastimg's whole native pipeline, libjpeg-turbo's full-size decode alone,
and fastimg on its default thread count (wall time); baseline and progressive JPEGs apart and mixed at the
set's share. Method: docs/benchmarks.md#training."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any, Callable

import torch
from adapters import tv_transforms
from adapters.pipe_geometry import IMAGENET_MEAN, IMAGENET_STD
from adapters.train_loaders import BATCH, TRAIN_SPEC
from torch.utils.data import default_collate

import fastimg


def _best_per_image(fn: Callable[[], Any], count: int, repeats: int) -> float:
    """Seconds per image of fn() (a pass over count images), best of the repeats: the cost without interference."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best / count


def _group_costs(paths: list[str], repeats: int) -> dict[str, Any]:
    """Seconds per image of each stage, best of `repeats` passes over `paths`."""
    rng_state = random.getstate()
    random.seed(0)
    rrc = tv_transforms.RandomResizedCrop(TRAIN_SPEC.size, TRAIN_SPEC.scale, TRAIN_SPEC.ratio)
    flip = tv_transforms.RandomHorizontalFlip(TRAIN_SPEC.hflip)
    to_tensor, normalize = tv_transforms.ToTensor(), tv_transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    n = len(paths)
    decoded = [tv_transforms.pil_loader(p) for p in paths]
    cropped = [flip(rrc(img)) for img in decoded]
    tensors = [to_tensor(img) for img in cropped]
    normed = [normalize(t) for t in tensors]
    batches = [normed[i : i + BATCH] for i in range(0, n, BATCH)]
    blobs = [Path(p).read_bytes() for p in paths]
    transform = fastimg.Transform.imagenet_train(TRAIN_SPEC.size)
    try:
        import simplejpeg
    except ImportError:  # the reference row is optional
        simplejpeg = None

    default_threads = fastimg.get_num_threads()

    def fastimg_epoch(threads: int | None) -> None:
        for i in range(0, n, BATCH):
            fastimg.load_batch(paths[i : i + BATCH], transform, seed=0, epoch=0, num_threads=threads)

    def each(fn: Callable[[Any], Any], items: list[Any]) -> None:
        for item in items:
            fn(item)  # the result is dropped at once, as a worker drops it after collating: memory is reused

    stages = {
        "pil_decode": lambda: each(tv_transforms.pil_loader, paths),
        "rrc_flip": lambda: each(lambda img: flip(rrc(img)), decoded),
        "to_tensor": lambda: each(to_tensor, cropped),
        "normalize": lambda: each(normalize, tensors),
        "collate": lambda: each(default_collate, batches),
        "fastimg_1t": lambda: fastimg_epoch(1),
        # Wall time per image on fastimg's default thread count (torch.set_num_threads below leaves it alone).
        "fastimg_nt": lambda: fastimg_epoch(default_threads),
    }
    if simplejpeg is not None:
        stages["turbo_decode"] = lambda: each(lambda b: simplejpeg.decode_jpeg(b, colorspace="RGB"), blobs)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # ToTensor/Normalize/collate would otherwise use torch's intra-op threads
    try:
        out = {name: _best_per_image(fn, n, repeats) for name, fn in stages.items()}
    finally:
        torch.set_num_threads(threads)
        random.setstate(rng_state)
    out["torch_chain"] = sum(out[k] for k in ("pil_decode", "rrc_flip", "to_tensor", "normalize", "collate"))
    out["images"], out["fastimg_threads"] = n, default_threads
    return out


def stage_costs(paths: list[str], progressive: list[bool], share: float, repeats: int = 3) -> dict[str, Any]:
    """Stage costs for the baseline and the progressive JPEGs among `paths` apart (progressive files decode
    several times slower, in every library), and their mix at the set's progressive `share`."""
    groups = {
        name: [p for p, f in zip(paths, progressive) if f == want]
        for name, want in (("baseline", False), ("progressive", True))
    }
    per = {name: _group_costs(group, repeats) for name, group in groups.items() if group}
    weights = {"baseline": 1.0 - share, "progressive": share} if len(per) == 2 else {next(iter(per)): 1.0}
    keys = [k for k, v in next(iter(per.values())).items() if isinstance(v, float)]
    out: dict[str, Any] = {k: sum(weights[g] * per[g][k] for g in per) for k in keys}
    out.update(ratio=out["torch_chain"] / out["fastimg_1t"], groups=per, weights=weights)
    out.update(images=sum(v["images"] for v in per.values()), repeats=repeats)
    return {**out, "fastimg_threads": next(iter(per.values()))["fastimg_threads"]}


STAGE_NAMES = {
    "pil_decode": "open + full-size decode + convert('RGB') (pil_loader)",
    "rrc_flip": "RandomResizedCrop (crop + antialiased bilinear resize) + flip, Pillow",
    "to_tensor": "ToTensor (uint8 HWC -> float CHW / 255)",
    "normalize": "Normalize (clone, sub_, div_)",
    "collate": "default_collate (stack 32 images)",
    "torch_chain": "**PyTorch + Pillow chain, total**",
    "fastimg_1t": "**fastimg.load_batch, whole pipeline, 1 thread**",
    "turbo_decode": "ref: libjpeg-turbo full-size decode alone (simplejpeg, bytes in memory)",
}
