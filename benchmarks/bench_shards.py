"""`make bench` section "shards": training batches from tar shards (fastimg.ShardDataset + Loader) against the
same images as an ImageFolder + Loader, and against webdataset + Pillow in a DataLoader. Method:
docs/benchmarks.md#shards."""

from __future__ import annotations

import io
import math
import tarfile
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
from fastimg.shards.index import index_command

SHARD_DIR = Path(__file__).resolve().parent / "data" / "shards"
GOAL_VS_FOLDER = 0.95
# Epoch sizes: the set itself, and the set ten times over (each image under ten keys: same bytes, same
# decode work, an epoch long enough that its start-up weighs what it weighs in real training).
REPEATS = (1, 10)
BUFFERS = (1000, 100)


def _shards(paths: list[str], labels: list[int], repeats: int) -> str:
    """The set ``repeats`` times over as shards of 64 samples with offsets (written once, then reused)."""
    folder = SHARD_DIR / f"x{repeats}"
    index = folder / "index.json"
    n = -(-len(paths) * repeats // 64)
    if not index.exists() or index.stat().st_mtime < Path(paths[0]).stat().st_mtime:
        folder.mkdir(parents=True, exist_ok=True)
        items = [(k, p, y) for k, (p, y) in enumerate((p, y) for _ in range(repeats) for p, y in zip(paths, labels))]
        order = torch.randperm(len(items), generator=torch.Generator().manual_seed(0)).tolist()
        for s in range(n):
            with tarfile.open(folder / f"train-{s:06d}.tar", "w") as tf:
                for k, p, y in (items[i] for i in order[s * 64 : (s + 1) * 64]):
                    for name, data in ((f"{k:07d}.jpg", Path(p).read_bytes()), (f"{k:07d}.cls", str(y).encode())):
                        info = tarfile.TarInfo(name)
                        info.size = len(data)
                        tf.addfile(info, io.BytesIO(data))
        index_command([str(folder / f"train-{{000000..{n - 1:06d}}}.tar")], quiet=True)
    return str(folder / f"train-{{000000..{n - 1:06d}}}.tar")


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


def _epoch(make: Callable[[], Iterator[Any]]) -> tuple[int, float]:
    start = time.perf_counter()
    images = sum(len(y) for _, y in make())
    return images, time.perf_counter() - start


def _pairs(data: Any, transform: fastimg.Transform, threads: int) -> dict[str, tuple[Any, Any]]:
    """(shards, files) loader makers per setting: one epoch of the same samples each way."""
    pairs: dict[str, tuple[Any, Any]] = {}
    for repeats in REPEATS:
        urls = _shards(data.paths, data.labels, repeats)
        paths, labels = data.paths * repeats, data.labels * repeats
        folder = fastimg.Loader(fastimg.ImageDataset(paths, labels, transform), BATCH, prefetch=2, seed=0)
        for buffer in BUFFERS:
            ds = fastimg.ShardDataset(urls, transform, batch_size=BATCH, seed=0, shuffle_buffer=buffer)
            shards = fastimg.Loader(ds, BATCH, prefetch=2, seed=0)
            key = f"Loader, {len(paths)} samples, buffer {buffer}"
            pairs[key] = (lambda s=shards: iter(s), lambda f=folder: iter(f))
    ds = fastimg.ShardDataset(_shards(data.paths, data.labels, 1), transform, batch_size=BATCH, seed=0)
    files = fastimg.ImageDataset(data.paths, data.labels, transform, seed=0)
    workers = dict(num_workers=threads, persistent_workers=True)
    dl_shards = torch.utils.data.DataLoader(ds, batch_size=None, **workers)
    dl_files = torch.utils.data.DataLoader(files, BATCH, shuffle=True, collate_fn=fastimg.collate, **workers)
    pairs[f"DataLoader({threads} workers), {len(data.paths)} samples"] = (
        lambda: iter(dl_shards),
        lambda: iter(dl_files),
    )
    return pairs


def run(quick: bool = False) -> None:
    data = training_data.training_set()
    info = machine_info(["fastimg", "torch", "webdataset", "pillow"])
    threads = fastimg.get_num_threads()
    transform = fastimg.Transform.imagenet_train(224)
    pairs = _pairs(data, transform, threads)
    rounds = 1 if quick else 3
    best: dict[str, list[float]] = {}
    for key, (shards, files) in pairs.items():
        _epoch(shards), _epoch(files)  # warm-up: page cache, workers
        rates = [[], []]  # type: ignore[var-annotated]
        for _ in range(rounds):  # interleaved; the best of each (the machine is shared and noisy)
            for i, make in enumerate((shards, files)):
                images, seconds = _epoch(make)
                rates[i].append(images / seconds)
        best[key] = [max(rates[0]), max(rates[1])]
    wds_rate = math.nan
    try:
        make = _webdataset(_shards(data.paths, data.labels, 1), threads)
        _epoch(make)
        wds_rate = max(n / s for n, s in (_epoch(make) for _ in range(rounds)))
    except ImportError:
        print("webdataset is not installed (bench extra): skipping it")
    ratios = {k: ratio(s, f) for k, (s, f) in best.items()}
    worst = min(ratios.values())
    status = goal_status(worst, GOAL_VS_FOLDER)
    rows = [
        [
            k,
            fmt_rate(s),
            fmt_rate(f),
            ratio_text(ratios[k]),
            goal_text(GOAL_VS_FOLDER, goal_status(ratios[k], GOAL_VS_FOLDER)),
        ]
        for k, (s, f) in best.items()
    ]
    first = next(iter(best))
    rows.append(
        [
            f"webdataset + Pillow, DataLoader({threads} workers)",
            fmt_rate(wds_rate),
            "",
            ratio_text(ratio(best[first][0], wds_rate)),
            "shards (first row) / this",
        ]
    )
    finish_machine_info(info)
    setup = [
        ["data", data.describe()],
        ["transform", f"RandomResizedCrop(224) + flip + normalise, batch {BATCH}"],
        ["rounds", f"{rounds} interleaved, one epoch each, best of them"],
    ]
    goals = [
        {"what": "shards / files, worst setting, images/s", "ratio": worst, "goal": GOAL_VS_FOLDER, "status": status}
    ]
    md = [
        *header("Shards: training batches from tar shards", info, quick, "shards"),
        markdown_table(["setting", "this run"], setup),
        "",
        markdown_table(["setting", "shards images/s", "files images/s", "shards / files", "goal"], rows),
        "",
        *goals_section(goals),
    ]
    text = "\n".join(md).rstrip()
    print(text)
    write_results(
        "shards", text, {"machine": info, "best": best, "ratios": ratios, "webdataset": wds_rate, "status": status}
    )
