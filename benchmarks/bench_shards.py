"""`make bench` section "shards": training batches from tar shards (fastimg.ShardDataset + Loader) against the
same images as an ImageFolder + Loader, and against webdataset + Pillow in a DataLoader. Method:
docs/benchmarks.md#shards."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import torch
import training_data
from adapters import tv_transforms
from adapters.train_loaders import BATCH, TRAIN_SPEC
from report import (
    finish_machine_info,
    fmt_rate,
    goal_status,
    goal_text,
    goals_section,
    header,
    machine_info,
    markdown_table,
    ratio,
    ratio_text,
    write_results,
)

import fastimg
from fastimg._shard_writer import write_shards

SHARD_DIR = Path(__file__).resolve().parent / "data" / "shards"
GOAL_VS_FOLDER = 0.95


def _shards(root: str) -> str:
    index = SHARD_DIR / "index.json"
    if not index.exists() or index.stat().st_mtime < Path(root).stat().st_mtime:
        for old in SHARD_DIR.glob("*.tar"):
            old.unlink()
        write_shards(root, str(SHARD_DIR / "train-%06d.tar"), max_size=8 * 10**6, progress=False)
    n = len(list(SHARD_DIR.glob("train-*.tar")))
    return str(SHARD_DIR / f"train-{{000000..{n - 1:06d}}}.tar")


def _webdataset(urls: str, workers: int) -> Callable[[], Iterator[Any]]:
    import webdataset as wds

    chain = tv_transforms.build(TRAIN_SPEC)
    ds = (
        wds.WebDataset(urls, shardshuffle=100, nodesplitter=wds.split_by_node, empty_check=False)
        .shuffle(1000)
        .decode("pil")
        .to_tuple("jpg", "cls")
        .map_tuple(chain, int)
        .batched(BATCH)
    )
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=workers, persistent_workers=True)
    return lambda: iter(loader)


# Epochs back to back per measurement: the set is 320 images, so a single epoch would weigh each loader's
# start-up (the shuffle buffer's first 100 samples, worker wake-up) far more than a real epoch does.
EPOCHS_PER_ROUND = 3


def _epoch(make: Callable[[], Iterator[Any]], epochs: int = EPOCHS_PER_ROUND) -> tuple[int, float]:
    start = time.perf_counter()
    images = sum(len(y) for _ in range(epochs) for _, y in make())
    return images, time.perf_counter() - start


def run(quick: bool = False) -> None:
    data = training_data.training_set()
    info = machine_info(["fastimg", "torch", "webdataset", "pillow"])
    urls = _shards(data.root)
    threads = fastimg.get_num_threads()
    transform = fastimg.Transform.imagenet_train(224)
    shard_ds = fastimg.ShardDataset(urls, transform, batch_size=BATCH, seed=0)
    shards = fastimg.Loader(shard_ds, BATCH, prefetch=2, seed=0)
    folder = fastimg.Loader(fastimg.ImageFolder(data.root, transform), BATCH, prefetch=2, seed=0)
    loaders: dict[str, Callable[[], Iterator[Any]]] = {
        "shards": lambda: iter(shards),
        "folder": lambda: iter(folder),
    }
    try:
        loaders["webdataset"] = _webdataset(urls, threads)
    except ImportError:
        print("webdataset is not installed (bench extra): skipping it")
    for make in loaders.values():
        _epoch(make, 1)  # warm-up: page cache, worker start
    rounds = 1 if quick else 5
    rates: dict[str, list[float]] = {k: [] for k in loaders}
    keys = list(loaders)
    for r in range(rounds):
        for key in keys[r % len(keys) :] + keys[: r % len(keys)]:
            images, seconds = _epoch(loaders[key])
            rates[key].append(images / seconds)
    med = {k: statistics.median(v) for k, v in rates.items()}
    # The reader's peak memory inside the Loader's copy of the dataset.
    stats = shards.dataset.stats  # type: ignore[attr-defined]
    vs_folder = ratio(med["shards"], med["folder"])
    vs_wds = ratio(med["shards"], med.get("webdataset", math.nan))
    status = goal_status(vs_folder, GOAL_VS_FOLDER)
    rows = [
        ["fastimg ShardDataset + Loader", fmt_rate(med["shards"]), "—", ""],
        [
            "fastimg ImageFolder + Loader",
            fmt_rate(med["folder"]),
            ratio_text(vs_folder),
            goal_text(GOAL_VS_FOLDER, status),
        ],
    ]
    if "webdataset" in med:
        rows.append(
            [f"webdataset + Pillow, DataLoader({threads} workers)", fmt_rate(med["webdataset"]), ratio_text(vs_wds), ""]
        )
    prefetch_bytes = 2 * transform.batch_shape(BATCH)[0] * 3 * 224 * 224 * 4
    memory = [
        ["shuffle buffer peak (1000 samples at most)", f"{stats['shuffle_peak_bytes'] / 1e6:.1f}", ""],
        ["read-ahead peak", f"{stats['prefetch_peak_bytes'] / 1e6:.1f}", f"{shard_ds.prefetch_bytes / 1e6:.1f}"],
        ["decoded prefetch (2 batches)", f"{prefetch_bytes / 1e6:.1f}", ""],
    ]
    finish_machine_info(info)
    setup = [
        ["data", data.describe()],
        ["shards", str(len(shard_ds.urls))],
        ["transform", f"RandomResizedCrop(224) + flip + normalise, batch {BATCH}"],
        ["rounds", f"{rounds} interleaved, {EPOCHS_PER_ROUND} epochs of each per round"],
    ]
    goals = [
        {"what": "shards / ImageFolder, median images/s", "ratio": vs_folder, "goal": GOAL_VS_FOLDER, "status": status}
    ]
    md = [
        *header("Shards: training batches from tar shards", info, quick, "shards"),
        markdown_table(["setting", "this run"], setup),
        "",
        markdown_table(["loader", "images/s (median)", "shards / this", "goal"], rows),
        "",
        markdown_table(["memory", "MB", "bound MB"], memory),
        "",
        *goals_section(goals),
    ]
    text = "\n".join(md).rstrip()
    print(text)
    write_results(
        "shards",
        text,
        {
            "machine": info,
            "rates": rates,
            "median": med,
            "ratio_vs_folder": vs_folder,
            "ratio_vs_webdataset": vs_wds,
            "goal_vs_folder": GOAL_VS_FOLDER,
            "status": status,
            "stats": stats,
        },
    )
