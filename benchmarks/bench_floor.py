"""The decode-floor section: fastimg's CPU time per image on one thread against libjpeg-turbo's own decode of
the same files (turbojpeg_floor.py), the least any JPEG pipeline must spend. Ratios here are fastimg / floor:
lower is better; a goal is a ceiling. Method: docs/benchmarks.md#floor."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

import report
from pipeline_data import ImageSet, image_sets
from timing import Plan, measure
from turbojpeg_floor import TurboJpeg

import fastimg

PACKAGES = ["fastimg", "numpy"]
# (set, workload) -> the most fastimg may cost per image, as a multiple of the YUV decode.
GOALS = {("imagenet", "resize"): 1.15, ("imagenet", "eval"): 1.15, ("imagenet", "rrc"): 1.05}
GOALS.update({("cheap", "resize"): 1.35, ("cheap", "eval"): 1.35, ("cheap", "rrc"): 1.25})
TINY_GOAL = 1.5  # 32-px files: fastimg from paths vs read + RGB decode
SET_LABELS = {"imagenet": "camera-like (~4 bits/pixel)", "cheap": "cheap (~1 bit/pixel)", "tiny": "32x32"}
WORKLOADS = {"resize": "Resize to 224x224 + flip", "eval": "Resize(256) + CenterCrop(224) + flip"}
WORKLOADS["rrc"] = "RandomResizedCrop(224) + flip"


def load_all(batches: list[tuple[list[str], range]], t: fastimg.Transform) -> None:
    """fastimg from paths on one thread, batch by batch (each batch dropped at once)."""
    for paths, indices in batches:
        fastimg.load_batch(paths, t, indices=indices, num_threads=1)


def read_all(paths: list[str], buffer: bytearray) -> None:
    """open/read/close of each file: the file-reading part of the floor for the 32-px set."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.readv(fd, [buffer])
        finally:
            os.close(fd)


def measure_set(image_set: ImageSet, tj: TurboJpeg, plan: Plan) -> dict[str, float]:
    """CPU seconds per image of each call: best of interleaved rounds (timing.measure on process time)."""
    paths, tiny = image_set.paths, image_set.name == "tiny"
    datas = [Path(p).read_bytes() for p in paths]
    yuv, rgb = [tj.prepare(d, yuv=True) for d in datas], [tj.prepare(d, yuv=False) for d in datas]
    batch, buffer = 256 if tiny else 64, bytearray(max(len(d) for d in datas) + 1)
    # fastimg reads the files itself; the ImageNet-sized floors decode from memory, so the read is shown
    # beside them (for 32-px files the floor includes it).
    calls: dict[str, Callable[[], Any]] = {
        "tj_yuv": lambda: [tj.decode_yuv(x) for x in yuv],
        "tj_rgb": lambda: [tj.decode_rgb(x) for x in rgb],
        "read": lambda: read_all(paths, buffer),
    }
    batches = [(paths[i : i + batch], range(i, min(i + batch, len(paths)))) for i in range(0, len(paths), batch)]
    transforms = {"resize": fastimg.Transform(32 if tiny else 224, hflip=0.5)}  # 32-px files: the stretch only
    if not tiny:
        transforms["eval"] = fastimg.Transform(224, resize=256, crop="center", hflip=0.5)
        transforms["rrc"] = fastimg.Transform(224, crop="random_resized", hflip=0.5)
    calls.update({name: (lambda t=t: load_all(batches, t)) for name, t in transforms.items()})
    times, _ = measure(calls, plan, clock=time.process_time)
    per_image = {name: min(seconds) / len(paths) for name, seconds in times.items()}
    if tiny:  # tiny decodes take microseconds: leave out what each ctypes call itself costs
        per_image["ctypes_overhead"] = overhead = tj.call_overhead_s()
        per_image["tj_yuv"] -= overhead
        per_image["tj_rgb"] -= overhead
    return per_image


def rows_for(set_name: str, per_image: dict[str, float]) -> list[dict[str, Any]]:
    tiny, read = set_name == "tiny", per_image["read"]
    if tiny:
        works = {"resize": "32x32 stretch + flip, from paths, batch 256"}
        floor_name, floor = "read (open/read/close) + RGB decode", per_image["tj_rgb"] + read
        other_name, other = "read + YUV decode", per_image["tj_yuv"] + read
    else:
        works = WORKLOADS
        floor_name, floor, other_name, other = "YUV decode", per_image["tj_yuv"], "RGB decode", per_image["tj_rgb"]
    rows = []
    for work, label in works.items():
        value, goal = per_image[work] / floor, TINY_GOAL if tiny else GOALS[(set_name, work)]
        row = {"set": set_name, "workload": label, "fastimg_us": per_image[work] * 1e6, "floor": floor_name}
        row.update(floor_us=floor * 1e6, ratio=value, goal=goal, status=report.goal_status(value, goal, at_most=True))
        row.update(other_floor=other_name, other_floor_us=other * 1e6, ratio_other_floor=per_image[work] / other)
        rows.append({**row, "read_us": read * 1e6})
    return rows


def render(rows: list[dict[str, Any]], sets: dict[str, ImageSet], info: dict[str, Any], quick: bool) -> str:
    lines = report.header("fastimg against the JPEG decode floor", info, quick, "floor")
    lines += [*[f"- {SET_LABELS[name]}: {s.describe()}" for name, s in sets.items()], ""]
    table = []
    for r in rows:
        ratio, goal = (
            report.ratio_text(r["ratio"], at_most=True),
            report.goal_text(r["goal"], r["status"], at_most=True),
        )
        cells = [f"{r['fastimg_us']:.1f}", r["floor"], f"{r['floor_us']:.1f}", ratio, goal, r["other_floor"]]
        other = [f"{r['other_floor_us']:.1f}", report.ratio_text(r["ratio_other_floor"])]
        table.append([SET_LABELS[r["set"]], r["workload"], *cells, *other])
    columns = ["set", "workload", "fastimg us/image", "floor", "floor us/image", "x floor", "goal"]
    lines += [report.markdown_table([*columns, "other reference", "us/image", "x other"], table), ""]
    reads = {r["set"]: r["read_us"] for r in rows if r["set"] != "tiny"}
    if reads:
        read = ", ".join(f"{SET_LABELS[name]} {us:.1f} us/image" for name, us in reads.items())
        lines += [
            "fastimg's figures include reading each file (open/read/close, from the page cache); the "
            f"ImageNet-sized floors decode from memory. The read alone: {read}.",
            "",
        ]
    lines += report.goals_section(
        [{**r, "what": f"{SET_LABELS[r['set']]}: {r['workload']}", "at_most": True} for r in rows]
    )
    return "\n".join(lines).rstrip()


def run(quick: bool = False) -> None:
    # The 32-px set last: its calls take milliseconds, so what the previous section left running (worker
    # processes shutting down) would weigh most on it.
    all_sets = image_sets()
    sets = {name: all_sets[name] for name in ("imagenet", "cheap", "tiny")}
    if quick:
        sets = {name: s.subset(16 if name != "tiny" else 64) for name, s in sets.items()}
    info = report.machine_info(PACKAGES)
    plan = Plan(max_rounds=1 if quick else 1000, min_rounds=3, budget_s=0.0 if quick else 20.0)
    tj = TurboJpeg()
    rows: list[dict[str, Any]] = []
    try:
        for name, image_set in sets.items():
            t = time.perf_counter()
            rows += rows_for(name, measure_set(image_set, tj, plan))
            print(f"  {name}: {time.perf_counter() - t:.1f} s", flush=True)
    finally:
        tj.close()
    report.finish_machine_info(info)
    report.publish(
        "floor", render(rows, sets, info, quick), {"section": "floor", "quick": quick, "machine": info, "rows": rows}
    )
