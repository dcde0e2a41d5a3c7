"""Where a loader's CPU time goes, per image, on one thread in this process (files in the page cache): the
stages of the PyTorch + Pillow chain one by one, fastimg's whole native pipeline (one load_batch call per
batch, num_threads=1), and libjpeg-turbo's full-size decode alone (simplejpeg, bytes in memory). On a machine
whose cores are all busy loading, images/s ~ cores / (CPU seconds per image), so the ratio of the two totals
bounds the speed-up any number of equally shared cores can show. fastimg on its default thread count is
timed too (wall time per image), for its thread scaling."""

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
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) / count  # best of the repeats: the cost without interference


def stage_costs(paths: list[str], repeats: int = 3) -> dict[str, Any]:
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

    def fastimg_epoch(threads: int | None) -> None:
        for i in range(0, n, BATCH):
            fastimg.load_batch(paths[i : i + BATCH], transform, seed=0, epoch=0, num_threads=threads)

    stages = {
        "pil_decode": lambda: [tv_transforms.pil_loader(p) for p in paths],
        "rrc_flip": lambda: [flip(rrc(img)) for img in decoded],
        "to_tensor": lambda: [to_tensor(img) for img in cropped],
        "normalize": lambda: [normalize(t) for t in tensors],
        "collate": lambda: [default_collate(b) for b in batches],
        "fastimg_1t": lambda: fastimg_epoch(1),
        "fastimg_nt": lambda: fastimg_epoch(None),  # its default thread count: wall time per image
    }
    if simplejpeg is not None:
        stages["turbo_decode"] = lambda: [simplejpeg.decode_jpeg(b, colorspace="RGB") for b in blobs]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # ToTensor/Normalize/collate would otherwise use torch's intra-op threads
    try:
        out = {name: _best_per_image(fn, n, repeats) for name, fn in stages.items()}
    finally:
        torch.set_num_threads(threads)
        random.setstate(rng_state)
    out["torch_chain"] = sum(out[k] for k in ("pil_decode", "rrc_flip", "to_tensor", "normalize", "collate"))
    out["ratio"] = out["torch_chain"] / out["fastimg_1t"]
    out["images"], out["repeats"] = n, repeats
    return out


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
