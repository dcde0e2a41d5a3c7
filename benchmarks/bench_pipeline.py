"""The decode-pipeline section: JPEG files -> normalised float32 NCHW batches, fastimg.load_batch against a
plain PyTorch DataLoader, Pillow with draft(), cv2 reduced decode, simplejpeg scaled decode and dataio-rs,
all with the same number of threads, one epoch over a set per call, with the issue's goals next to each
ratio and libjpeg-turbo's raw decode speed as a reference."""

from __future__ import annotations

import itertools
import math
import statistics
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np
from adapters.pipe_base import PipelineAdapter
from adapters.pipe_ceiling import DecodeCeiling
from adapters.pipe_cv2 import Cv2ReducedPipe
from adapters.pipe_dataio import DataioPipe
from adapters.pipe_fastimg import FastimgPipe
from adapters.pipe_geometry import PipeSpec, to_pixels
from adapters.pipe_pillow import PillowDraftPipe
from adapters.pipe_simplejpeg import SimplejpegPipe
from adapters.pipe_torch import PlainTorchPipe
from contention import OTHER_LOAD_WARN, CpuMeter
from pipeline_data import ImageSet, image_sets
from report import (
    finish_machine_info,
    fmt_ms,
    fmt_rate,
    goal_status,
    goal_text,
    goals_section,
    header,
    load_table,
    machine_info,
    markdown_table,
    ratio_text,
    write_results,
)
from timing import Plan, measure

import fastimg

BASELINE = "fastimg"
SCALED_DECODERS = ("pillow_draft", "cv2_reduced", "simplejpeg")  # "the best scaled-decode alternative"
PACKAGES = ["fastimg", "numpy", "torch", "pillow", "opencv-python-headless", "simplejpeg", "dataio-rs"]
# Images per set under --quick (the full sets are always generated, so both modes share the files).
QUICK_COUNTS = {"tiny": 256, "imagenet": 32, "large": 4}


@dataclass
class Workload:
    key: str
    name: str
    set_name: str
    batch_size: int
    spec: PipeSpec
    goals: dict[str, float] = field(default_factory=dict)  # minimum fastimg speed-up per adapter key
    best_scaled_goal: float | None = None  # against the fastest of SCALED_DECODERS
    budget_s: float = 28.0  # time box for the timed rounds (the 32-px epochs are short: fewer seconds suffice)


def build_workloads() -> list[Workload]:
    eval_spec = PipeSpec(224, "center", resize=256, hflip=0.5)
    threads = {"fastimg_1t": 1.85}
    return [
        Workload(
            "tiny",
            "32-px -> 32x32 stretch + flip (batch 256)",
            "tiny",
            256,
            PipeSpec(32, "stretch"),
            {"torch": 8.0, **threads},
            budget_s=15.0,
        ),
        Workload(
            "eval",
            "ImageNet-sized -> Resize(256) + CenterCrop(224) + flip (batch 64)",
            "imagenet",
            64,
            eval_spec,
            {"torch": 4.0, "dataio": 1.3, **threads},
        ),
        Workload(
            "rrc",
            "ImageNet-sized -> RandomResizedCrop(224) + flip (batch 64)",
            "imagenet",
            64,
            PipeSpec(224, "random_resized"),
            {"dataio": 1.5, **threads},
        ),
        Workload(
            "large",
            "2048-4096 px -> Resize(256) + CenterCrop(224) + flip (batch 16)",
            "large",
            16,
            eval_spec,
            {"torch": 6.0, **threads},
            best_scaled_goal=1.05,
        ),
    ]


def make_adapters() -> list[PipelineAdapter]:
    return [
        FastimgPipe(),
        FastimgPipe(num_threads=1),
        PlainTorchPipe(),
        PillowDraftPipe(),
        Cv2ReducedPipe(),
        SimplejpegPipe(),
        DataioPipe(),
        DataioPipe(read_in_python=True),
        DecodeCeiling(scaled=False),
        DecodeCeiling(scaled=True),
    ]


def mean_abs_diff(ref: Any, other: Any) -> float | None:
    """Mean |difference| of two normalised batches in 0-255 pixel units; None when shapes disagree."""
    a, b = np.asarray(ref), np.asarray(other)
    if a.shape != b.shape:
        return None
    return float(np.mean(np.abs(to_pixels(a) - to_pixels(b))))


def _error_text(exc: BaseException, prefix: str = "") -> str:
    return " ".join(f"{prefix}{type(exc).__name__}: {exc}".split()).replace("|", "/")[:300]


def _guarded(key: str, fn: Callable[[], Any], errors: dict[str, str]) -> Callable[[], Any]:
    def call() -> Any:
        try:
            return fn()
        except Exception as exc:
            errors[key] = _error_text(exc)
            return NotImplemented

    return call


def output_check(
    work: Workload, paths: list[str], adapters: list[PipelineAdapter], errors: dict[str, str]
) -> dict[str, float]:
    """Mean |diff| vs fastimg on the first batch, flip off; only for workloads whose geometry is
    deterministic (random crops land elsewhere in each library)."""
    if work.spec.crop == "random_resized":
        return {}
    spec = work.spec.without_flip()
    batch = paths[: work.batch_size]
    outputs = {}
    for a in adapters:
        if a.reference or a.key in errors or a.supports(spec) is not None:
            continue
        try:
            outputs[a.key] = a.load_batch(batch, spec)
        except Exception as exc:
            errors[a.key] = _error_text(exc, "output check: ")
    ref = outputs.pop(BASELINE)
    return {key: d for key, out in outputs.items() if (d := mean_abs_diff(ref, out)) is not None}


def run_workload(
    work: Workload, image_set: ImageSet, adapters: list[PipelineAdapter], plan: Plan, broken: dict[str, str]
) -> list[dict[str, Any]]:
    paths = image_set.paths
    errors: dict[str, str] = {}
    skipped = {a.key: broken.get(a.key) or a.supports(work.spec) for a in adapters}
    skipped = {key: reason for key, reason in skipped.items() if reason is not None}
    active = [a for a in adapters if a.key not in skipped]
    calls = {}
    meter = CpuMeter()
    meter.start()
    for a in active:
        epochs = itertools.count()
        try:
            a.start(paths, work.spec, work.batch_size)
        except Exception as exc:
            errors[a.key] = _error_text(exc, "start: ")
            continue
        calls[a.key] = _guarded(
            a.key, lambda a=a, e=epochs: a.run_epoch(paths, work.spec, work.batch_size, next(e)), errors
        )
    try:
        times, first = measure(calls, plan)
    finally:
        for a in active:
            a.stop()
    load = meter.stop()
    for key, delivered in first.items():
        if delivered != len(paths):
            errors[key] = f"delivered {delivered} of {len(paths)} images"
    diffs = output_check(work, paths, active, errors)
    base, base_median = min(times[BASELINE]), statistics.median(times[BASELINE])
    rows = []
    for a in adapters:
        row: dict[str, Any] = {
            "workload": work.name,
            "workload_key": work.key,
            "adapter": a.key,
            "name": a.name,
            "reference": a.reference,
            "items": len(paths),
            "batch_size": work.batch_size,
            "goal": work.goals.get(a.key),
            "status": None,
            "mean_abs_diff_vs_fastimg": diffs.get(a.key),
            "machine_load": load,
        }
        ts = times.get(a.key)
        if a.key in skipped or a.key in errors or not ts:
            row.update(
                times_s=[],
                status="n/a" if row["goal"] is None else "n/a (goal not judged)",
                na_reason=skipped.get(a.key) or errors.get(a.key, "no result"),
            )
            rows.append(row)
            continue
        best, median = min(ts), statistics.median(ts)
        row.update(
            times_s=ts,
            best_s=best,
            median_s=median,
            items_per_s=len(paths) / best,
            fastimg_speedup=best / base,
            fastimg_speedup_median=median / base_median,
        )
        rows.append(row)
    if work.best_scaled_goal is not None:
        scaled = [r for r in rows if r["adapter"] in SCALED_DECODERS and "best_s" in r]
        if scaled:
            fastest = min(scaled, key=lambda r: r["fastimg_speedup"])
            fastest["goal"], fastest["goal_note"] = work.best_scaled_goal, "best scaled-decode alternative"
    for r in rows:
        if r["goal"] is not None and "best_s" in r:
            r["status"] = goal_status(r["fastimg_speedup"], r["goal"])
    return rows


def _table_row(r: dict[str, Any]) -> list[str]:
    diff = r["mean_abs_diff_vs_fastimg"]
    diff_text = "" if diff is None else f"{diff:.2f}"
    goal = "" if r["goal"] is None else goal_text(r["goal"], r["status"] if "best_s" in r else "n/a")
    if r.get("goal_note"):
        goal += f" ({r['goal_note']})"
    if "best_s" not in r:
        return [r["workload"], r["name"], "n/a", "", "", "", goal, "", f"n/a: {r['na_reason']}"]
    is_base = r["adapter"] == BASELINE
    speedup = ratio_text(r["fastimg_speedup"])
    return [
        r["workload"],
        r["name"],
        fmt_ms(r["best_s"]),
        fmt_ms(r["median_s"]),
        fmt_rate(r["items_per_s"]),
        "—" if is_base else f"({speedup})" if r["reference"] else speedup,
        goal,
        "—" if is_base else ratio_text(r["fastimg_speedup_median"]),
        diff_text,
    ]


def _ceiling_rows(rows: list[dict[str, Any]], threads: int) -> list[list[str]]:
    """fastimg against libjpeg-turbo decoding alone on one thread, per workload."""
    by = {(r["workload_key"], r["adapter"]): r for r in rows}
    out = []
    for key in dict.fromkeys(r["workload_key"] for r in rows):
        found = [by.get((key, a)) for a in (BASELINE, "ceiling_full", "ceiling_scaled")]
        if any(r is None or "best_s" not in r for r in found):
            continue
        base, full, scaled = found
        assert base is not None and full is not None and scaled is not None
        share = scaled["best_s"] / threads / base["best_s"]
        out.append(
            [
                base["workload"],
                fmt_rate(base["items_per_s"]),
                fmt_rate(full["items_per_s"]),
                fmt_rate(scaled["items_per_s"]),
                f"{100 * share:.0f}%",
            ]
        )
    return out


def _goals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        if r["goal"] is None:
            continue
        load = r["machine_load"]
        note = f"timed under {load['other_cores']:.2f} cores of other load: rerun" if load.get("suspect") else ""
        if "best_s" not in r:
            note = r["na_reason"]
        status = r["status"] if "best_s" in r else "n/a"
        what = f"{r['workload']} vs {r['name']}"
        out.append(
            {
                "what": what,
                "ratio": r.get("fastimg_speedup", math.nan),
                "goal": r["goal"],
                "status": status,
                "note": note,
            }
        )
    return out


def render(
    rows: list[dict[str, Any]],
    sets: dict[str, ImageSet],
    adapters: list[PipelineAdapter],
    info: dict[str, Any],
    plan: Plan,
    quick: bool,
) -> str:
    threads = info["fastimg_threads"]
    lines = header("fastimg decode pipeline", info, quick, "pipeline")
    lines += ["Image sets:", "", *[f"- {s.describe()}" for s in sets.values()], ""]
    budgets = sorted({w.budget_s for w in build_workloads()}) if plan.budget_s else [0.0]
    box = "/".join(f"{b:g}" for b in budgets)
    lines += [f"Timing: {plan.min_rounds}-{plan.max_rounds} rounds, ~{box} s box per workload.", ""]
    columns = ["workload", "competitor", "best ms/epoch", "median ms", "images/s", "fastimg x", "goal"]
    lines += [markdown_table([*columns, "fastimg x (medians)", "mean abs diff"], [_table_row(r) for r in rows]), ""]
    lines += ["## How each competitor works", ""]
    lines += [markdown_table(["competitor", "how"], [[a.name, a.note] for a in adapters if a.note]), ""]
    lines += [f"## fastimg ({threads} threads) against libjpeg-turbo decoding alone (1 thread)", ""]
    columns = ["workload", "fastimg images/s", "decode, full size, /s", "decode, pipeline DCT scale, /s"]
    lines += [markdown_table([*columns, "decode share"], _ceiling_rows(rows, threads)), ""]
    loads = [(r["workload"], r["machine_load"]) for r in rows if r["adapter"] == BASELINE]
    lines += ["## Machine load while each workload was timed", "", load_table(loads), ""]
    lines += goals_section(_goals(rows))
    return "\n".join(lines).rstrip()


def run(quick: bool = False) -> None:
    plan = Plan(max_rounds=1, min_rounds=1, budget_s=0.0) if quick else Plan(max_rounds=100, min_rounds=3)
    t0 = time.perf_counter()
    used = {w.set_name for w in build_workloads()}  # the floor section's "cheap" set is not timed here
    sets = {name: s for name, s in image_sets().items() if name in used}
    if quick:
        sets = {name: s.subset(QUICK_COUNTS[name]) for name, s in sets.items()}
    print(f"pipeline: image sets ready in {time.perf_counter() - t0:.1f} s", flush=True)
    for s in sets.values():
        print(f"  {s.describe()}", flush=True)
    threads = fastimg.get_num_threads()
    adapters = make_adapters()
    broken: dict[str, str] = {}  # a library that fails to set up (not installed, say) gets n/a rows
    for a in adapters:
        try:
            a.setup(threads)
        except Exception as exc:
            broken[a.key] = _error_text(exc, "setup: ")
    info = machine_info(PACKAGES)
    rows: list[dict[str, Any]] = []
    workloads = build_workloads()
    try:
        for work in workloads:
            image_set = sets[work.set_name]
            if quick:
                work.batch_size = min(work.batch_size, 16 if work.set_name == "imagenet" else len(image_set.paths))
            t = time.perf_counter()
            new = run_workload(
                work, image_set, adapters, plan if quick else replace(plan, budget_s=work.budget_s), broken
            )
            counts = "/".join(str(len(r["times_s"])) for r in new)
            load = new[0]["machine_load"].get("other_cores")
            other = (
                ""
                if load is None
                else f", other load {load:.2f} cores" + (" (SUSPECT)" if load > OTHER_LOAD_WARN else "")
            )
            print(f"  {work.name}: {counts} rounds, {time.perf_counter() - t:.1f} s{other}", flush=True)
            rows += new
    finally:
        for a in adapters:
            a.teardown()
    finish_machine_info(info)
    markdown = render(rows, sets, adapters, info, plan, quick)
    print()
    print(markdown)
    data = {
        "section": "pipeline",
        "quick": quick,
        "machine": info,
        "plan": vars(plan),
        "sets": {
            name: {"count": len(s.paths), "bits_per_pixel": s.bits_per_pixel, "describe": s.describe()}
            for name, s in sets.items()
        },
        "workloads": [
            {
                "key": w.key,
                "name": w.name,
                "set": w.set_name,
                "batch_size": w.batch_size,
                "spec": vars(w.spec),
                "goals": w.goals,
                "best_scaled_goal": w.best_scaled_goal,
                "budget_s": 0.0 if quick else w.budget_s,
            }
            for w in workloads
        ],
        "notes": {a.key: a.note for a in adapters},
        "rows": rows,
    }
    for path in write_results("pipeline", markdown, data):
        print(f"wrote {path}")
