"""The decode-floor section: fastimg's CPU time per image on one thread against libjpeg-turbo's own decode of
the same files (turbojpeg_floor.py), the least any JPEG pipeline must spend. Ratios here are fastimg / floor:
lower is better; a goal is a ceiling. Method: docs/benchmarks.md#floor."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path
from typing import Any, Callable

from pipeline_data import ImageSet, image_sets
from report import (
    finish_machine_info,
    goal_status,
    goal_text,
    goals_section,
    header,
    machine_info,
    markdown_table,
    ratio_text,
    write_results,
)
from turbojpeg_floor import TurboJpeg

import fastimg

PACKAGES = ["fastimg", "numpy"]
# (set, workload) -> the most fastimg may cost per image, as a multiple of the YUV decode.
GOALS = {
    ("imagenet", "resize"): 1.15,
    ("imagenet", "eval"): 1.15,
    ("imagenet", "rrc"): 1.05,
    ("cheap", "resize"): 1.35,
    ("cheap", "eval"): 1.35,
    ("cheap", "rrc"): 1.25,
}
TINY_GOAL = 1.5  # 32-px files: fastimg from paths vs read + RGB decode
SET_LABELS = {"imagenet": "camera-like (~4 bits/pixel)", "cheap": "cheap (~1 bit/pixel)", "tiny": "32x32"}


def transforms(size: int) -> dict[str, fastimg.Transform]:
    return {
        "resize": fastimg.Transform(size, hflip=0.5),
        "eval": fastimg.Transform(size, resize=256 if size > 32 else None, crop="center", hflip=0.5),
        "rrc": fastimg.Transform(size, crop="random_resized", hflip=0.5),
    }


def read_all(paths: list[str], buffer: bytearray) -> None:
    """open/read/close of each file: the file-reading part of the floor for the 32-px set."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.readv(fd, [buffer])
        finally:
            os.close(fd)


def best_cpu(calls: dict[str, Callable[[], Any]], rounds: int, budget_s: float) -> dict[str, float]:
    """Best CPU seconds per call over interleaved rounds (one untimed warm-up each)."""
    for call in calls.values():
        call()
    best = {name: float("inf") for name in calls}
    names = list(calls)
    start = time.perf_counter()
    gc.disable()
    try:
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                t0 = time.process_time()
                calls[name]()
                best[name] = min(best[name], time.process_time() - t0)
            if r >= 2 and time.perf_counter() - start > budget_s:
                break
    finally:
        gc.enable()
    return best


def measure_set(image_set: ImageSet, tj: TurboJpeg, rounds: int, budget_s: float) -> dict[str, float]:
    paths = image_set.paths
    datas = [Path(p).read_bytes() for p in paths]
    yuv = [tj.prepare(d, yuv=True) for d in datas]
    rgb = [tj.prepare(d, yuv=False) for d in datas]
    tiny = image_set.name == "tiny"
    batch = 256 if tiny else 64
    calls: dict[str, Callable[[], Any]] = {
        "tj_yuv": lambda: [tj.decode_yuv(x) for x in yuv],
        "tj_rgb": lambda: [tj.decode_rgb(x) for x in rgb],
    }
    # fastimg reads the files itself; the ImageNet-sized floors decode from memory, so the read is shown
    # beside them (for 32-px files the floor includes it).
    buffer = bytearray(max(len(d) for d in datas) + 1)
    calls["read"] = lambda: read_all(paths, buffer)
    for name, t in transforms(32 if tiny else 224).items():
        if tiny and name != "resize":
            continue

        def run(t: fastimg.Transform = t) -> None:
            for i in range(0, len(paths), batch):
                fastimg.load_batch(
                    paths[i : i + batch], t, indices=range(i, i + len(paths[i : i + batch])), num_threads=1
                )

        calls[name] = run
    best = best_cpu(calls, rounds, budget_s)
    per_image = {name: seconds / len(paths) for name, seconds in best.items()}
    if tiny:  # tiny decodes take microseconds: leave out what each ctypes call itself costs
        overhead = tj.call_overhead_s()
        per_image["ctypes_overhead"] = overhead
        for name in ("tj_yuv", "tj_rgb"):
            per_image[name] -= overhead
    return per_image


def rows_for(set_name: str, per_image: dict[str, float]) -> list[dict[str, Any]]:
    if set_name == "tiny":
        works = {"resize": "32x32 stretch + flip, from paths, batch 256"}
        floor_name, floor = "read (open/read/close) + RGB decode", per_image["tj_rgb"] + per_image["read"]
        other_name, other = "read + YUV decode", per_image["tj_yuv"] + per_image["read"]
    else:
        works = {
            "resize": "Resize to 224x224 + flip",
            "eval": "Resize(256) + CenterCrop(224) + flip",
            "rrc": "RandomResizedCrop(224) + flip",
        }
        floor_name, floor = "YUV decode", per_image["tj_yuv"]
        other_name, other = "RGB decode", per_image["tj_rgb"]
    rows = []
    for work, label in works.items():
        value = per_image[work] / floor
        goal = TINY_GOAL if set_name == "tiny" else GOALS[(set_name, work)]
        rows.append(
            {
                "set": set_name,
                "workload": label,
                "fastimg_us": per_image[work] * 1e6,
                "floor": floor_name,
                "floor_us": floor * 1e6,
                "ratio": value,
                "goal": goal,
                "status": goal_status(value, goal, at_most=True),
                "other_floor": other_name,
                "other_floor_us": other * 1e6,
                "ratio_other_floor": per_image[work] / other,
                "read_us": per_image["read"] * 1e6,
            }
        )
    return rows


def render(rows: list[dict[str, Any]], sets: dict[str, ImageSet], info: dict[str, Any], quick: bool) -> str:
    lines = header("fastimg against the JPEG decode floor", info, quick, "floor")
    lines += [*[f"- {SET_LABELS[name]}: {s.describe()}" for name, s in sets.items()], ""]
    table = [
        [
            SET_LABELS[r["set"]],
            r["workload"],
            f"{r['fastimg_us']:.1f}",
            r["floor"],
            f"{r['floor_us']:.1f}",
            ratio_text(r["ratio"], at_most=True),
            goal_text(r["goal"], r["status"], at_most=True),
            r["other_floor"],
            f"{r['other_floor_us']:.1f}",
            ratio_text(r["ratio_other_floor"]),
        ]
        for r in rows
    ]
    columns = ["set", "workload", "fastimg us/image", "floor", "floor us/image", "x floor", "goal"]
    lines += [markdown_table([*columns, "other reference", "us/image", "x other"], table), ""]
    reads = {r["set"]: r["read_us"] for r in rows if r["set"] != "tiny"}
    if reads:
        lines += [
            "fastimg's figures include reading each file (open/read/close, from the page cache); the "
            "ImageNet-sized floors decode from memory. The read alone: "
            + ", ".join(f"{SET_LABELS[name]} {us:.1f} us/image" for name, us in reads.items())
            + ".",
            "",
        ]
    goals = [{**r, "what": f"{SET_LABELS[r['set']]}: {r['workload']}", "at_most": True} for r in rows]
    lines += goals_section(goals)
    return "\n".join(lines).rstrip()


def run(quick: bool = False) -> None:
    # The 32-px set last: its calls take milliseconds, so what the previous section left running (worker
    # processes shutting down) would weigh most on it.
    all_sets = image_sets()
    sets = {name: all_sets[name] for name in ("imagenet", "cheap", "tiny")}
    if quick:
        sets = {name: s.subset(16 if name != "tiny" else 64) for name, s in sets.items()}
    info = machine_info(PACKAGES)
    tj = TurboJpeg()
    rows: list[dict[str, Any]] = []
    try:
        for name, image_set in sets.items():
            t = time.perf_counter()
            per_image = measure_set(image_set, tj, rounds=1 if quick else 1000, budget_s=0.0 if quick else 20.0)
            rows += rows_for(name, per_image)
            print(f"  {name}: {time.perf_counter() - t:.1f} s", flush=True)
    finally:
        tj.close()
    finish_machine_info(info)
    markdown = render(rows, sets, info, quick)
    print()
    print(markdown)
    for path in write_results("floor", markdown, {"section": "floor", "quick": quick, "machine": info, "rows": rows}):
        print(f"wrote {path}")
