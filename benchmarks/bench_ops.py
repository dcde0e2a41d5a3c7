"""The batched numpy ops section: fastimg against numpy, cv2 (1 thread and a thread pool), Pillow and
trainingsample on named workloads, with the issue's speed goals next to each ratio."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from adapters.base import OpsAdapter
from adapters.ops_cv2 import Cv2Loop, Cv2Pool
from adapters.ops_fastimg import FastimgBilinearOnly, FastimgOps
from adapters.ops_numpy import MemoryRead, NumpyLoop
from adapters.ops_pillow import PillowOps
from adapters.ops_trainingsample import INTERPOLATION as TS_INTERPOLATION
from adapters.ops_trainingsample import TrainingSampleOps
from ops_data import textured_images, textured_videos
from report import (
    finish_machine_info,
    fmt_ms,
    fmt_rate,
    goal_status,
    goal_text,
    goals_section,
    header,
    machine_info,
    markdown_table,
    ratio_text,
    write_results,
)
from timing import Plan, measure

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


def _label(count: int, h: int, w: int) -> str:
    return f"{count}x{w}x{h}"


def build_workloads(quick: bool) -> list[Workload]:
    mode = "quick" if quick else "full"
    out: list[Workload] = []
    ow, oh = OUT_SIZE
    for seed, (count, h, w) in enumerate(IMAGE_SETS[mode], start=SEED):
        images = list(textured_images(count, h, w, seed))
        label, nbytes = _label(count, h, w), count * h * w * 3
        common = {"items": count, "unit": "images", "input_bytes": nbytes}
        for interp in ("bilinear", "area"):
            goals = {k: v for k, v in RESIZE_GOALS.items() if k != "trainingsample" or interp == TS_INTERPOLATION}
            if interp == "area":  # the default when shrinking: at most 2x plain bilinear
                goals["fastimg_bilinear"] = DEFAULT_VS_BILINEAR_GOAL
            out.append(
                Workload(
                    f"resize {interp} {label} -> {ow}x{oh}", "resize", (images, OUT_SIZE, interp), goals=goals, **common
                )
            )
        out.append(Workload(f"luminance {label}", "luminance", (images,), goals=LUMINANCE_GOALS, **common))
        out.append(
            Workload(f"center crop {label} -> {ow}x{oh}", "center_crop", (images, OUT_SIZE), goals=CROP_GOALS, **common)
        )
        out.append(
            Workload(
                f"random crop {label} -> {ow}x{oh}",
                "random_crop",
                (images, OUT_SIZE, SEED),
                goals=CROP_GOALS,
                compare=False,
                **common,
            )
        )
    n, t, h, w = VIDEO_SETS[mode]
    videos = textured_videos(n, t, h, w, SEED + 100)
    vw, vh = VIDEO_OUT_SIZE
    for interp in ("bilinear", "area"):
        out.append(
            Workload(
                f"videos {interp} {n} x {t} frames {w}x{h} -> {vw}x{vh}",
                "resize_videos",
                (videos, VIDEO_OUT_SIZE, interp),
                items=n * t,
                unit="frames",
                input_bytes=n * t * h * w * 3,
                goals=VIDEO_GOALS,
            )
        )
    return out


def make_adapters() -> list[OpsAdapter]:
    threads = fastimg.get_num_threads()
    return [
        FastimgOps(),
        FastimgOps(num_threads=1),
        FastimgBilinearOnly(),
        NumpyLoop(),
        Cv2Loop(),
        Cv2Pool(threads),
        PillowOps(),
        TrainingSampleOps(),
        MemoryRead(1),
        MemoryRead(threads),
    ]


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


def run_workload(work: Workload, adapters: list[OpsAdapter], plan: Plan) -> list[dict[str, Any]]:
    by_key = {a.key: a for a in adapters}
    calls = {a.key: (lambda a=a: getattr(a, work.op)(*work.args)) for a in adapters}
    times, first = measure(calls, plan)
    base, base_median = min(times[BASELINE]), statistics.median(times[BASELINE])
    rows = []
    for key, ts in times.items():
        best = min(ts)
        goal = work.goals.get(key)
        ratio = best / base
        comparable = work.compare and not isinstance(by_key[key], MemoryRead) and key != BASELINE
        rows.append(
            {
                "workload": work.name,
                "op": work.op,
                "adapter": key,
                "name": by_key[key].name,
                "items": work.items,
                "unit": work.unit,
                "input_bytes": work.input_bytes,
                "times_s": ts,
                "best_s": best,
                "median_s": statistics.median(ts),
                "items_per_s": work.items / best,
                "input_gb_per_s": work.input_bytes / best / 1e9,
                "fastimg_speedup": ratio,
                "fastimg_speedup_median": statistics.median(ts) / base_median,
                "goal": goal,
                "status": None if goal is None else goal_status(ratio, goal),
                "max_abs_diff_vs_fastimg": max_abs_diff(first[BASELINE], first[key]) if comparable else None,
            }
        )
    return rows


def _diff_text(d: float | None) -> str:
    return "" if d is None else f"{d:.0f}" if d == int(d) else f"{d:.3g}"


def _goals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "what": f"{r['workload']} vs {r['name']}",
            "ratio": r["fastimg_speedup"],
            "goal": r["goal"],
            "status": r["status"],
        }
        for r in rows
        if r["status"]
    ]


def render(rows: list[dict[str, Any]], info: dict[str, Any], plan: Plan, quick: bool) -> str:
    lines = header("fastimg batched ops", info, quick, "ops")
    lines += [f"Timing: {plan.min_rounds}-{plan.max_rounds} rounds, ~{plan.budget_s:.0f} s box per workload.", ""]
    table = [
        [
            r["workload"],
            r["name"],
            fmt_ms(r["best_s"]),
            fmt_ms(r["median_s"]),
            fmt_rate(r["items_per_s"]),
            "—" if r["adapter"] == BASELINE else ratio_text(r["fastimg_speedup"]),
            "" if r["goal"] is None else goal_text(r["goal"], r["status"]),
            "—" if r["adapter"] == BASELINE else ratio_text(r["fastimg_speedup_median"]),
            _diff_text(r["max_abs_diff_vs_fastimg"]),
        ]
        for r in rows
    ]
    columns = ["workload", "competitor", "best ms", "median ms", "images/s (frames/s)", "fastimg x", "goal"]
    lines += [markdown_table([*columns, "fastimg x (medians)", "max abs diff"], table), ""]
    luminance = [
        r
        for r in rows
        if r["op"] == "luminance"
        and (r["adapter"] in (BASELINE, "fastimg_1t") or r["adapter"].startswith("memory_read"))
    ]
    lines += ["## Luminance against the memory-read floor", ""]
    lines += [
        markdown_table(
            ["workload", "competitor", "input GB/s"],
            [[r["workload"], r["name"], f"{r['input_gb_per_s']:.1f}"] for r in luminance],
        ),
        "",
    ]
    lines += goals_section(_goals(rows))
    return "\n".join(lines).rstrip()


def run(quick: bool = False) -> None:
    plan = Plan(max_rounds=1, min_rounds=1, budget_s=0.0) if quick else Plan()
    t0 = time.perf_counter()
    workloads = build_workloads(quick)
    print(f"ops: generated inputs in {time.perf_counter() - t0:.1f} s", flush=True)
    adapters = make_adapters()
    for a in adapters:
        a.setup()
    info = machine_info(PACKAGES)
    rows: list[dict[str, Any]] = []
    try:
        for work in workloads:
            t = time.perf_counter()
            new = run_workload(work, adapters, plan)
            took = time.perf_counter() - t
            counts = "/".join(str(len(r["times_s"])) for r in new)
            print(f"  {work.name}: {len(new)} competitors, {counts} rounds, {took:.1f} s", flush=True)
            rows += new
    finally:
        for a in adapters:
            a.teardown()
    finish_machine_info(info)
    markdown = render(rows, info, plan, quick)
    print()
    print(markdown)
    data = {
        "section": "ops",
        "quick": quick,
        "machine": info,
        "plan": vars(plan),
        "trainingsample_interpolation": TS_INTERPOLATION,
        "rows": rows,
    }
    for path in write_results("ops", markdown, data):
        print(f"wrote {path}")
