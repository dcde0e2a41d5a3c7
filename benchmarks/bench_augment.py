"""The augmentation section (#25): what TrivialAugmentWide and RandomErasing add to fastimg's ImageNet
training transform, and the same recipe in torchvision's PIL pipeline through DataLoader(2 workers)
(torchvision 0.28's pure-Python transforms from .venv/torchvision-ref, installed by scripts/bootstrap.sh).
Epoch times of the ImageNet-sized set, best of interleaved rounds. Method: docs/benchmarks.md#augment."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable

import report
from bench_restarts import prepared_paths
from pipeline_data import image_sets
from timing import Plan, measure

import fastimg

PACKAGES = ["fastimg", "numpy", "torch", "pillow"]
COST_GOAL, TORCHVISION_GOAL = 1.3, 5.0
REFERENCE = Path(__file__).resolve().parent.parent / ".venv" / "torchvision-ref"
BATCH = 64


def fastimg_epoch(paths: list[str], transform: fastimg.Transform) -> Callable[[], Any]:
    epochs = iter(range(1 << 30))

    def run() -> int:
        epoch = next(epochs)
        return sum(
            len(fastimg.load_batch(paths[i : i + BATCH], transform, epoch=epoch, indices=range(i, i + BATCH)).images)
            for i in range(0, len(paths) - BATCH + 1, BATCH)
        )

    return run


def torchvision_loader(paths: list[str]) -> Any:
    """DataLoader(2 workers) over the same files with torchvision's version of the recipe; None without the
    reference install."""
    if not (REFERENCE / ".ok").exists():
        return None
    if str(REFERENCE) not in sys.path:
        sys.path.append(str(REFERENCE))
    import torch
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms as T

    recipe = T.Compose(
        [
            T.RandomResizedCrop(224),
            T.RandomHorizontalFlip(),
            T.TrivialAugmentWide(),
            T.ToTensor(),
            T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
            T.RandomErasing(p=0.25),
        ]
    )

    class Files(Dataset):
        def __len__(self) -> int:
            return len(paths)

        def __getitem__(self, i: int) -> Any:
            with open(paths[i], "rb") as f:
                return recipe(Image.open(f).convert("RGB")), torch.tensor(0)

    return DataLoader(Files(), batch_size=BATCH, num_workers=2, persistent_workers=True, drop_last=True)


def run(quick: bool = False) -> None:
    image_set = image_sets()["imagenet"]
    paths = image_set.paths[: 2 * BATCH] if quick else image_set.paths
    info = report.machine_info(PACKAGES)
    plan = Plan(max_rounds=1 if quick else 100, min_rounds=1 if quick else 3, budget_s=0.0 if quick else 30.0)
    plain = fastimg.Transform.imagenet_train(224)
    augmented = plain.replace(auto_augment="trivial_augment_wide", erasing=0.25)
    # The same files after `prepare` (restart intervals: crops decode only what they need), for both.
    prepared = prepared_paths(image_set)[: len(paths)]
    calls: dict[str, Callable[[], Any]] = {
        "plain": fastimg_epoch(paths, plain),
        "augmented": fastimg_epoch(paths, augmented),
        "augmented, prepared": fastimg_epoch(prepared, augmented),
    }
    for key, files in (("torchvision", paths), ("torchvision, prepared", prepared)):
        loader = torchvision_loader(files)
        if loader is not None:
            calls[key] = lambda loader=loader: sum(len(x) for x, _ in loader)
    t0 = time.perf_counter()
    times, _ = measure(calls, plan)
    best = {k: min(v) for k, v in times.items()}
    cost = best["augmented"] / best["plain"]
    rows = [
        {
            "what": "imagenet_train + TrivialAugmentWide + RandomErasing / imagenet_train (fastimg)",
            "ratio": cost,
            "goal": COST_GOAL,
            "at_most": True,
            "status": report.goal_status(cost, COST_GOAL, at_most=True),
        },
    ]
    for tag, files in (("", "the files as generated"), (", prepared", "the same files prepared, for both")):
        if f"torchvision{tag}" in best:
            speedup = best[f"torchvision{tag}"] / best[f"augmented{tag}"]
            rows.append(
                {
                    "what": f"the same recipe: torchvision PIL + DataLoader(2 workers) / fastimg, {files}",
                    "ratio": speedup,
                    "goal": TORCHVISION_GOAL,
                    "status": report.goal_status(speedup, TORCHVISION_GOAL),
                }
            )
    images = len(paths) // BATCH * BATCH
    lines = report.header("augmentation: TrivialAugmentWide + RandomErasing", info, quick, "augment")
    lines += [
        f"- {image_set.describe()}; {images} images per epoch, batch {BATCH}, fastimg on "
        f"{fastimg.get_num_threads()} threads",
        "",
    ]
    table = [[k, f"{v * 1e3:.0f}", f"{images / v:.0f}"] for k, v in best.items()]
    lines += [report.markdown_table(["pipeline", "epoch ms (best)", "images/s"], table), ""]
    lines += report.goals_section(rows, list_all=True)
    report.finish_machine_info(info)
    report.publish(
        "augment",
        "\n".join(lines).rstrip(),
        {"section": "augment", "quick": quick, "machine": info, "best_s": best, "rows": rows},
    )
    print(f"  augment: {time.perf_counter() - t0:.1f} s", flush=True)
