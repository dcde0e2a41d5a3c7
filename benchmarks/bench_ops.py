"""The batched numpy ops section: fastimg against numpy, cv2 (1 thread and a thread pool), Pillow and
trainingsample on named workloads, with the issue's speed goals next to each ratio."""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import report
from adapters import ops
from timing import QUICK, Plan, figures, measure

import fastimg

BASELINE = "fastimg"
OUT_SIZE = (512, 512)
VIDEO_OUT_SIZE = (224, 224)
SEED = 1234

# Named sizes: (images, height, width) and (videos, frames, height, width); --quick shrinks the counts.
IMAGE_SETS = {"full": [(16, 2048, 2048), (8, 5120, 5120)], "quick": [(4, 2048, 2048), (2, 5120, 5120)]}
VIDEO_SETS = {"full": (4, 30, 480, 640), "quick": (2, 8, 480, 640)}

# Minimum fastimg speed-up (competitor time / fastimg time) from the issue, per adapter key.
RESIZE_GOALS = {"cv2": 1.8, "cv2_pool": 1.0, "pillow": 4.0, "trainingsample": 1.2, "fastimg_1t": 1.8}
VIDEO_GOALS = {"cv2_pool": 1.0}
LUMINANCE_GOALS = {"cv2_pool": 1.5, "trainingsample": 3.0, "fastimg_1t": 1.8}
CROP_GOALS = {"numpy": 1.0}
# Area (the default when shrinking) may cost at most twice plain bilinear: bilinear time / area time >= 0.5.
DEFAULT_VS_BILINEAR_GOAL = 0.5
PACKAGES = ["fastimg", "numpy", "opencv-python-headless", "pillow", "trainingsample"]


def textured_images(count: int, height: int, width: int, seed: int) -> np.ndarray:
    """A C-contiguous (count, height, width, 3) uint8 batch, seeded: smooth random colour fields plus fine-grained
    noise, textured rather than constant (nothing trivially predictable or compressible) and rather than white
    noise (atypical for photos)."""
    rng = np.random.default_rng(seed)
    tile = rng.integers(0, 48, (256, 256, 3), dtype=np.uint8)
    noise = np.ascontiguousarray(np.tile(tile, (-(-height // 256), -(-width // 256), 1))[:height, :width])
    out = np.empty((count, height, width, 3), np.uint8)
    for img in out:
        coarse = rng.integers(0, 208, (max(2, height // 64), max(2, width // 64), 3), dtype=np.uint8)
        cv2.resize(coarse, (width, height), dst=img, interpolation=cv2.INTER_CUBIC)
        cv2.add(img, noise, dst=img)
    return out


@dataclass
class Workload:
    name: str
    op: str  # the OpsAdapter method
    args: tuple
    items: int
    unit: str
    input_bytes: int
    goals: dict[str, float] = field(default_factory=dict)
    compare: bool = True  # outputs should match fastimg's (random crops pick other positions)


def build_workloads(quick: bool) -> list[Workload]:
    mode = "quick" if quick else "full"
    out: list[Workload] = []
    out_size = f"{OUT_SIZE[0]}x{OUT_SIZE[1]}"
    for seed, (count, h, w) in enumerate(IMAGE_SETS[mode], start=SEED):
        images = list(textured_images(count, h, w, seed))
        label, common = f"{count}x{w}x{h}", {"items": count, "unit": "images", "input_bytes": count * h * w * 3}
        for interp in ("bilinear", "area"):
            goals = {k: v for k, v in RESIZE_GOALS.items() if k != "trainingsample" or interp == ops.TS_INTERPOLATION}
            if interp == "area":  # the default when shrinking: at most 2x plain bilinear
                goals["fastimg_bilinear"] = DEFAULT_VS_BILINEAR_GOAL
            name = f"resize {interp} {label} -> {out_size}"
            out.append(Workload(name, "resize", (images, OUT_SIZE, interp), goals=goals, **common))
        out.append(Workload(f"luminance {label}", "luminance", (images,), goals=LUMINANCE_GOALS, **common))
        name = f"center crop {label} -> {out_size}"
        out.append(Workload(name, "center_crop", (images, OUT_SIZE), goals=CROP_GOALS, **common))
        name = f"random crop {label} -> {out_size}"
        out.append(Workload(name, "random_crop", (images, OUT_SIZE, SEED), goals=CROP_GOALS, compare=False, **common))
    n, t, h, w = VIDEO_SETS[mode]
    videos = list(textured_images(n * t, h, w, SEED + 100).reshape(n, t, h, w, 3))  # n (t, h, w, 3) videos
    common = {"items": n * t, "unit": "frames", "input_bytes": n * t * h * w * 3, "goals": VIDEO_GOALS}
    for interp in ("bilinear", "area"):
        name = f"videos {interp} {n} x {t} frames {w}x{h} -> {VIDEO_OUT_SIZE[0]}x{VIDEO_OUT_SIZE[1]}"
        out.append(Workload(name, "resize_videos", (videos, VIDEO_OUT_SIZE, interp), **common))
    return out


def make_adapters() -> list[ops.OpsAdapter]:
    n = fastimg.get_num_threads()
    own = [ops.FastimgOps(), ops.FastimgOps(num_threads=1), ops.FastimgBilinearOnly()]
    others = [ops.NumpyLoop(), ops.Cv2Ops(), ops.Cv2Ops(n), ops.PillowOps()]
    if importlib.util.find_spec("trainingsample") is not None:  # requirements/bench.txt
        others.append(ops.TrainingSampleOps())
    return [*own, *others, ops.MemoryRead(1), ops.MemoryRead(n)]


def max_abs_diff(ref: Any, other: Any) -> float | None:
    """Largest element difference between two batches of outputs; None when shapes disagree."""
    ref_items, other_items = list(ref), list(other)
    if len(ref_items) != len(other_items):
        return None
    worst = 0.0
    for r, o in zip(ref_items, other_items):
        r, o = np.asarray(r, dtype=np.float64), np.asarray(o, dtype=np.float64)
        if r.shape != o.shape:
            return None
        worst = max(worst, float(np.max(np.abs(r - o))) if r.size else 0.0)
    return worst


def run_workload(work: Workload, adapters: list[ops.OpsAdapter], plan: Plan) -> list[dict[str, Any]]:
    by_key = {a.key: a for a in adapters}
    times, first = measure({a.key: (lambda a=a: getattr(a, work.op)(*work.args)) for a in adapters}, plan)
    rows = []
    for key, ts in times.items():
        row = {"workload": work.name, "op": work.op, "adapter": key, "name": by_key[key].name, "items": work.items}
        row.update(unit=work.unit, input_bytes=work.input_bytes, **figures(ts, work.items, times[BASELINE]))
        row["input_gb_per_s"] = work.input_bytes / row["best_s"] / 1e9
        goal = row["goal"] = work.goals.get(key)
        row["status"] = None if goal is None else report.goal_status(row["fastimg_speedup"], goal)
        comparable = work.compare and not isinstance(by_key[key], ops.MemoryRead) and key != BASELINE
        row["max_abs_diff_vs_fastimg"] = max_abs_diff(first[BASELINE], first[key]) if comparable else None
        rows.append(row)
    return rows


def render(rows: list[dict[str, Any]], info: dict[str, Any], plan: Plan, quick: bool) -> str:
    lines = report.header("fastimg batched ops", info, quick, "ops")
    lines += [f"Timing: {plan.min_rounds}-{plan.max_rounds} rounds, ~{plan.budget_s:.0f} s box per workload.", ""]
    table = []
    for r in rows:
        goal = "" if r["goal"] is None else report.goal_text(r["goal"], r["status"])
        d = r["max_abs_diff_vs_fastimg"]
        diff = "" if d is None else f"{d:.0f}" if d == int(d) else f"{d:.3g}"
        table.append([r["workload"], r["name"], *report.timed_cells(r, BASELINE, goal), diff])
    columns = ["workload", "competitor", "best ms", "median ms", "images/s (frames/s)", "fastimg x", "goal"]
    lines += [report.markdown_table([*columns, "fastimg x (medians)", "max abs diff"], table), ""]
    floor = [r for r in rows if r["op"] == "luminance"]
    floor = [r for r in floor if r["adapter"] in (BASELINE, "fastimg_1t") or r["adapter"].startswith("memory_read")]
    luminance = [[r["workload"], r["name"], f"{r['input_gb_per_s']:.1f}"] for r in floor]
    lines += ["## Luminance against the memory-read floor", ""]
    lines += [report.markdown_table(["workload", "competitor", "input GB/s"], luminance), ""]
    lines += report.goals_section(report.speedup_goals(rows))
    return "\n".join(lines).rstrip()


def run(quick: bool = False) -> None:
    plan = QUICK if quick else Plan()
    t0 = time.perf_counter()
    workloads = build_workloads(quick)
    print(f"ops: generated inputs in {time.perf_counter() - t0:.1f} s", flush=True)
    adapters = make_adapters()
    for a in adapters:
        a.setup()
    info = report.machine_info(PACKAGES)
    rows: list[dict[str, Any]] = []
    try:
        for work in workloads:
            t = time.perf_counter()
            new = run_workload(work, adapters, plan)
            counts, took = "/".join(str(len(r["times_s"])) for r in new), time.perf_counter() - t
            print(f"  {work.name}: {len(new)} competitors, {counts} rounds, {took:.1f} s", flush=True)
            rows += new
    finally:
        for a in adapters:
            a.teardown()
    report.finish_machine_info(info)
    data = {"section": "ops", "quick": quick, "machine": info, "plan": vars(plan)}
    data.update(trainingsample_interpolation=ops.TS_INTERPOLATION, rows=rows)
    report.publish("ops", render(rows, info, plan, quick), data)
