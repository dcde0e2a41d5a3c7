"""The decode-pipeline section: JPEG files -> normalised float32 NCHW batches, fastimg.load_batch against a
plain PyTorch DataLoader and the scaled-decode alternatives, all with the same number of threads, one epoch
over a set per call. Method: docs/benchmarks.md#pipeline."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np
import report
from adapters.pipe_base import FastimgPipe, PipelineAdapter
from adapters.pipe_dataio import DataioPipe
from adapters.pipe_geometry import PipeSpec, to_pixels
from adapters.pipe_scaled import Cv2ReducedPipe, DecodeCeiling, PillowDraftPipe, SimplejpegPipe
from adapters.tv_transforms import PlainTorchPipe
from contention import OTHER_LOAD_WARN, CpuMeter
from pipeline_data import ImageSet, image_sets
from timing import QUICK, Plan, figures, measure

import fastimg

BASELINE = "fastimg"
SCALED_DECODERS = ("pillow_draft", "cv2_reduced", "simplejpeg")  # "the best scaled-decode alternative"
PACKAGES = ["fastimg", "numpy", "torch", "pillow", "opencv-python-headless", "simplejpeg", "dataio-rs"]
# Images per set under --quick (the full sets are always generated, so both modes share the files).
QUICK_COUNTS = {"tiny": 256, "imagenet": 32, "large": 4}
SOURCES = {"tiny": "32-px", "imagenet": "ImageNet-sized", "large": "2048-4096 px"}  # for workload names


@dataclass
class Workload:
    key: str
    set_name: str
    batch_size: int
    spec: PipeSpec
    goals: dict[str, float] = field(default_factory=dict)  # minimum fastimg speed-up per adapter key
    best_scaled_goal: float | None = None  # against the fastest of SCALED_DECODERS
    budget_s: float = 28.0  # time box for the timed rounds (the 32-px epochs are short: fewer seconds suffice)
    name: str = field(init=False)

    def __post_init__(self) -> None:
        s = self.spec
        crop = {"stretch": f"{s.size}x{s.size} stretch", "center": f"Resize({s.resize}) + CenterCrop({s.size})"}
        geometry = crop.get(s.crop, f"RandomResizedCrop({s.size})") + " + flip" * (s.hflip > 0)
        self.name = f"{SOURCES[self.set_name]} -> {geometry} (batch {self.batch_size})"


def build_workloads() -> list[Workload]:
    center, t1 = PipeSpec(224, "center", resize=256, hflip=0.5), {"fastimg_1t": 1.85}
    return [
        Workload("tiny", "tiny", 256, PipeSpec(32, "stretch"), {"torch": 8.0, **t1}, budget_s=15.0),
        Workload("eval", "imagenet", 64, center, {"torch": 4.0, "dataio": 1.3, **t1}),
        Workload("rrc", "imagenet", 64, PipeSpec(224, "random_resized"), {"dataio": 1.5, **t1}),
        Workload("large", "large", 16, center, {"torch": 6.0, **t1}, best_scaled_goal=1.05),
    ]


def make_adapters() -> list[PipelineAdapter]:
    own, scaled = [FastimgPipe(), FastimgPipe(num_threads=1), PlainTorchPipe()], [PillowDraftPipe(), Cv2ReducedPipe()]
    others = [SimplejpegPipe(), DataioPipe(), DataioPipe(read_in_python=True)]
    return [*own, *scaled, *others, DecodeCeiling(scaled=False), DecodeCeiling(scaled=True)]


def _guarded(key: str, fn: Callable[[], Any], errors: dict[str, str], prefix: str = "") -> Any:
    """fn(), or NotImplemented with the error recorded under key (one line, at most 300 characters)."""
    try:
        return fn()
    except Exception as exc:
        errors[key] = " ".join(f"{prefix}{type(exc).__name__}: {exc}".split()).replace("|", "/")[:300]
        return NotImplemented


def output_check(
    work: Workload, paths: list[str], adapters: list[PipelineAdapter], errors: dict[str, str]
) -> dict[str, float]:
    """Mean |diff| vs fastimg on the first batch, flip off, in 0-255 pixel units; only for workloads whose
    geometry is deterministic (random crops land elsewhere in each library)."""
    if work.spec.crop == "random_resized":
        return {}
    spec, batch = replace(work.spec, hflip=0.0), paths[: work.batch_size]
    outputs = {}
    for a in adapters:
        if not (a.reference or a.key in errors):
            outputs[a.key] = _guarded(a.key, lambda a=a: a.load_batch(batch, spec), errors, "output check: ")
    ref = np.asarray(outputs.pop(BASELINE))
    diffs = {}
    for key, out in outputs.items():
        if out is not NotImplemented and np.shape(out) == ref.shape:
            diffs[key] = float(np.mean(np.abs(to_pixels(ref) - to_pixels(np.asarray(out)))))
    return diffs


def _time_adapters(
    work: Workload, paths: list[str], active: list[PipelineAdapter], plan: Plan, errors: dict[str, str]
) -> tuple[dict[str, list[float]], dict[str, Any], dict[str, Any]]:
    """Starts each adapter for the workload and times its epochs; (times, warm-up results, machine load)."""

    def epoch_call(a: PipelineAdapter) -> Callable[[], Any]:
        epochs = itertools.count()
        return lambda: _guarded(a.key, lambda: a.run_epoch(paths, work.spec, work.batch_size, next(epochs)), errors)

    meter = CpuMeter()
    calls = {}
    for a in active:
        if _guarded(a.key, lambda a=a: a.start(paths, work.spec, work.batch_size), errors, "start: ") is None:
            calls[a.key] = epoch_call(a)
    try:
        times, first = measure(calls, plan)
    finally:
        for a in active:
            a.stop()
    return times, first, meter.stop()


def run_workload(
    work: Workload, image_set: ImageSet, adapters: list[PipelineAdapter], plan: Plan, broken: dict[str, str]
) -> list[dict[str, Any]]:
    paths = image_set.paths
    errors: dict[str, str] = {}
    active = [a for a in adapters if a.key not in broken]
    times, first, load = _time_adapters(work, paths, active, plan, errors)
    for key, delivered in first.items():
        if delivered != len(paths):
            errors[key] = f"delivered {delivered} of {len(paths)} images"
    diffs = output_check(work, paths, active, errors)
    rows = []
    for a in adapters:
        row: dict[str, Any] = {"workload": work.name, "workload_key": work.key, "adapter": a.key, "name": a.name}
        row.update(reference=a.reference, items=len(paths), batch_size=work.batch_size, goal=work.goals.get(a.key))
        row.update(status=None, mean_abs_diff_vs_fastimg=diffs.get(a.key), machine_load=load)
        if a.key in broken or a.key in errors or not times.get(a.key):
            row.update(times_s=[], status="n/a" if row["goal"] is None else "n/a (goal not judged)")
            row["na_reason"] = broken.get(a.key) or errors.get(a.key, "no result")
        else:
            row.update(figures(times[a.key], len(paths), times[BASELINE]))
        rows.append(row)
    scaled = [r for r in rows if r["adapter"] in SCALED_DECODERS and "best_s" in r]
    if work.best_scaled_goal is not None and scaled:
        fastest = min(scaled, key=lambda r: r["fastimg_speedup"])
        fastest["goal"], fastest["goal_note"] = work.best_scaled_goal, "best scaled-decode alternative"
    for r in rows:
        if r["goal"] is not None and "best_s" in r:
            r["status"] = report.goal_status(r["fastimg_speedup"], r["goal"])
    return rows


def _table_row(r: dict[str, Any]) -> list[str]:
    diff = r["mean_abs_diff_vs_fastimg"]
    goal = "" if r["goal"] is None else report.goal_text(r["goal"], r["status"] if "best_s" in r else "n/a")
    if r.get("goal_note"):
        goal += f" ({r['goal_note']})"
    if "best_s" not in r:
        return [r["workload"], r["name"], "n/a", "", "", "", goal, "", f"n/a: {r['na_reason']}"]
    return [r["workload"], r["name"], *report.timed_cells(r, BASELINE, goal), "" if diff is None else f"{diff:.2f}"]


def _ceiling_rows(rows: list[dict[str, Any]], threads: int) -> list[list[str]]:
    """fastimg against libjpeg-turbo decoding alone on one thread, per workload."""
    by = {(r["workload_key"], r["adapter"]): r for r in rows}
    out = []
    for key in dict.fromkeys(r["workload_key"] for r in rows):
        found = [by.get((key, a), {}) for a in (BASELINE, "ceiling_full", "ceiling_scaled")]
        if all("best_s" in r for r in found):
            base, scaled = found[0], found[2]
            share = scaled["best_s"] / threads / base["best_s"]
            out.append([base["workload"], *(report.fmt_rate(r["items_per_s"]) for r in found), f"{100 * share:.0f}%"])
    return out


def render(
    rows: list[dict], sets: dict[str, ImageSet], adapters: list[PipelineAdapter], info: dict, plan: Plan, quick: bool
) -> str:
    threads = info["fastimg_threads"]
    lines = report.header("fastimg decode pipeline", info, quick, "pipeline")
    lines += ["Image sets:", "", *[f"- {s.describe()}" for s in sets.values()], ""]
    budgets = sorted({w.budget_s for w in build_workloads()}) if plan.budget_s else [0.0]
    box = "/".join(f"{b:g}" for b in budgets)
    lines += [f"Timing: {plan.min_rounds}-{plan.max_rounds} rounds, ~{box} s box per workload.", ""]
    columns = ["workload", "competitor", "best ms/epoch", "median ms", "images/s", "fastimg x", "goal"]
    table = report.markdown_table([*columns, "fastimg x (medians)", "mean abs diff"], [_table_row(r) for r in rows])
    lines += [table, ""]
    lines += ["## How each competitor works", ""]
    lines += [report.markdown_table(["competitor", "how"], [[a.name, a.note] for a in adapters if a.note]), ""]
    lines += [f"## fastimg ({threads} threads) against libjpeg-turbo decoding alone (1 thread)", ""]
    columns = ["workload", "fastimg images/s", "decode, full size, /s", "decode, pipeline DCT scale, /s"]
    lines += [report.markdown_table([*columns, "decode share"], _ceiling_rows(rows, threads)), ""]
    loads = [(r["workload"], r["machine_load"]) for r in rows if r["adapter"] == BASELINE]
    lines += ["## Machine load while each workload was timed", "", report.load_table(loads), ""]
    lines += report.goals_section(report.speedup_goals(rows))
    return "\n".join(lines).rstrip()


def _json(
    quick: bool, info: dict[str, Any], plan: Plan, sets: dict[str, ImageSet], workloads: list[Workload], adapters: list
) -> dict:
    """The results file, less the rows."""
    data = {"section": "pipeline", "quick": quick, "machine": info, "plan": vars(plan), "sets": {}}
    for name, s in sets.items():
        data["sets"][name] = {"count": len(s.paths), "bits_per_pixel": s.bits_per_pixel, "describe": s.describe()}
    data["workloads"] = []
    for w in workloads:
        row = {"key": w.key, "name": w.name, "set": w.set_name, "batch_size": w.batch_size, "spec": vars(w.spec)}
        row.update(goals=w.goals, best_scaled_goal=w.best_scaled_goal, budget_s=0.0 if quick else w.budget_s)
        data["workloads"].append(row)
    return {**data, "notes": {a.key: a.note for a in adapters}}


def run(quick: bool = False) -> None:
    plan = QUICK if quick else Plan(max_rounds=100, min_rounds=3)
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
        _guarded(a.key, lambda a=a: a.setup(threads), broken, "setup: ")
    info = report.machine_info(PACKAGES)
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
            other = "" if load is None else f", other load {load:.2f} cores" + " (SUSPECT)" * (load > OTHER_LOAD_WARN)
            print(f"  {work.name}: {counts} rounds, {time.perf_counter() - t:.1f} s{other}", flush=True)
            rows += new
    finally:
        for a in adapters:
            a.teardown()
    report.finish_machine_info(info)
    markdown = render(rows, sets, adapters, info, plan, quick)
    report.publish("pipeline", markdown, {**_json(quick, info, plan, sets, workloads, adapters), "rows": rows})
