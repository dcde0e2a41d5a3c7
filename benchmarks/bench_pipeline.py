"""The decode-pipeline section: JPEG files -> normalised float32 NCHW batches, fastimg.load_batch against a
plain PyTorch DataLoader, Pillow with draft(), cv2 reduced decode, simplejpeg scaled decode and dataio-rs,
all with the same number of threads, one epoch over a set per call, with the issue's goals next to each
ratio and libjpeg-turbo's raw decode speed as a reference."""

from __future__ import annotations

import itertools
import os
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
from report import fmt_ms, fmt_rate, machine_info, markdown_table, ratio_text, write_results
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
            r["status"] = "PASS" if r["fastimg_speedup"] >= r["goal"] else "MISS"
    return rows


def _table_row(r: dict[str, Any]) -> list[str]:
    diff = r["mean_abs_diff_vs_fastimg"]
    diff_text = "" if diff is None else f"{diff:.2f}"
    if "best_s" not in r:
        return [
            r["workload"],
            r["name"],
            "n/a",
            "",
            "",
            "",
            "" if r["goal"] is None else f">={r['goal']:g} n/a",
            "",
            f"n/a: {r['na_reason']}",
        ]
    is_base = r["adapter"] == BASELINE
    ratio = (
        "—"
        if is_base
        else f"({ratio_text(r['fastimg_speedup'])})"
        if r["reference"]
        else ratio_text(r["fastimg_speedup"])
    )
    goal = "" if r["goal"] is None else f">={r['goal']:g} {r['status']}"
    if r.get("goal_note"):
        goal += f" ({r['goal_note']})"
    return [
        r["workload"],
        r["name"],
        fmt_ms(r["best_s"]),
        fmt_ms(r["median_s"]),
        fmt_rate(r["items_per_s"]),
        ratio,
        goal,
        "—" if is_base else ratio_text(r["fastimg_speedup_median"]),
        diff_text,
    ]


def render(
    rows: list[dict[str, Any]],
    sets: dict[str, ImageSet],
    adapters: list[PipelineAdapter],
    info: dict[str, Any],
    plan: Plan,
    quick: bool,
) -> str:
    v = info["versions"]
    rounds = (
        f"{plan.min_rounds}-{plan.max_rounds} rounds (time-boxed at ~{plan.budget_s:.0f} s per workload, "
        "15 s for the 32-px one)"
        if plan.max_rounds > 1
        else "1 round"
    )
    threads = info["fastimg_threads"]
    head = [
        "# fastimg decode pipeline" + (" (--quick: subsets, 1 round; not for quoting)" if quick else ""),
        "",
        (
            f"{info['date']} · {info['cpu']}, {info['usable_cpus']} CPUs · 1-min load average at start "
            f"{info['load_average'][0]:.2f}, at end {info['load_average_end'][0]:.2f} · Python {info['python']}"
        ),
        "",
        (
            f"fastimg {v['fastimg']} ({threads} threads) · torch {v['torch']} · Pillow {v['pillow']} · "
            f"cv2 {v['opencv-python-headless']} · simplejpeg {v['simplejpeg']} · dataio-rs {v['dataio-rs']} · "
            f"numpy {v['numpy']}"
        ),
        "",
        "Image sets (synthetic, camera-like entropy; bits/pixel = file bytes x 8 / pixels):",
        "",
        *[f"- {s.describe()}" for s in sets.values()],
        "",
        (
            f"Every competitor uses {threads} threads (or DataLoader worker processes) and produces the same "
            "float32 NCHW batches, ImageNet-normalised, with the same geometry (torchvision semantics: "
            "Resize(256) = shorter side 256, CenterCrop, RandomResizedCrop's get_params, flip p=0.5). One call = "
            "one epoch over the set in batches; **images/s** = set size / best epoch. Every competitor opens and "
            "reads each file every epoch (fastimg and dataio natively by path, the others in Python), and after "
            "the untimed warm-up epoch the page cache is warm for all of them alike; the warm-up epoch also "
            "starts the DataLoader's persistent workers, so worker start-up is not counted. "
            f"Timing: {rounds}; each round runs every competitor once, in rotating order (a slow competitor sits "
            "out once it has used its share of the time box). **fastimg x** = competitor time / fastimg time, "
            ">1 means fastimg is faster (goals are judged on best times); on the `fastimg, 1 thread` row it is "
            "the 1->2 thread speed-up; in parentheses on the reference rows. **mean abs diff**: mean "
            "|competitor - fastimg| of the first batch in 0-255 pixel units (normalisation undone), with the flip "
            "off, on the workloads whose geometry is deterministic. ~0.3 is rounding alone (the others round to "
            "uint8 before normalising, fastimg does not); cv2.INTER_LINEAR is not antialiased (2 taps whatever "
            "the shrink), and DCT-scaled or region decodes differ slightly from full-size ones."
        ),
        "",
        "",
    ]
    table = markdown_table(
        [
            "workload",
            "competitor",
            "best ms/epoch",
            "median ms",
            "images/s",
            "fastimg x",
            "goal",
            "fastimg x (medians)",
            "mean abs diff",
        ],
        [_table_row(r) for r in rows],
    )
    notes = ["", "## How each competitor works", ""]
    notes += [f"- **{a.name}**: {a.note}" for a in adapters if a.note]
    return "\n".join(head) + table + "\n" + "\n".join(notes) + "\n\n" + "\n".join(summary(rows, threads))


def load_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Machine load while each workload was timed",
        "",
        (
            "CPU time taken by other processes (busy time in /proc/stat minus this process and its DataLoader "
            "workers) plus hypervisor steal, in cores. Above "
            f"{OTHER_LOAD_WARN:g} the 2-thread rows lose a share of a core and the numbers are suspect: rerun."
        ),
        "",
    ]
    for key in dict.fromkeys(r["workload_key"] for r in rows):
        r = next(r for r in rows if r["workload_key"] == key)
        load = r["machine_load"]
        if "other_cores" not in load:
            lines.append(f"- {r['workload']}: not measured (no /proc/stat)")
            continue
        flag = " **SUSPECT: other work was running**" if load["suspect"] else ""
        lines.append(
            f"- {r['workload']}: {load['wall_s']:.0f} s wall, this benchmark {load['own_cpu_s']:.0f} CPU s, "
            f"other processes {load['other_cpu_s']:.1f} s + steal {load['steal_s']:.1f} s = "
            f"{load['other_cores']:.2f} cores{flag}"
        )
    return lines


def summary(rows: list[dict[str, Any]], threads: int) -> list[str]:
    by = {(r["workload_key"], r["adapter"]): r for r in rows}
    lines = [*load_lines(rows), "", "## 1 -> 2 thread speed-up (fastimg)", ""]
    for r in rows:
        if r["adapter"] == "fastimg_1t" and "best_s" in r:
            lines.append(
                f"- {r['workload']}: {ratio_text(r['fastimg_speedup'])}x ({r['status']}, goal >={r['goal']:g}x)"
            )
    lines += ["", f"## fastimg against the raw decode ceiling ({threads} threads vs {threads} x one-thread decode)", ""]
    for key in dict.fromkeys(r["workload_key"] for r in rows):
        base, full, scaled = by.get((key, BASELINE)), by.get((key, "ceiling_full")), by.get((key, "ceiling_scaled"))
        if not base or "best_s" not in base or not scaled or "best_s" not in scaled or "best_s" not in full:
            continue
        share = scaled["best_s"] / threads / base["best_s"]
        lines.append(
            f"- {base['workload']}: fastimg {fmt_rate(base['items_per_s'])} images/s; decode alone "
            f"{fmt_rate(full['items_per_s'])}/s per thread at full size, {fmt_rate(scaled['items_per_s'])}/s "
            f"at the pipeline's DCT scale: a whole-image decode at that scale is ~{100 * share:.0f}% of "
            "fastimg's time per image and thread (over 100%: its region decode skips work a whole-image "
            "decode does)"
        )
    goals = [r for r in rows if r["status"] in ("PASS", "MISS")]
    missed = [r for r in goals if r["status"] == "MISS"]
    lines += ["", f"## Goals: {len(goals) - len(missed)}/{len(goals)} PASS", ""]
    for r in missed:
        load = r["machine_load"]
        suspect = f" (timed under {load['other_cores']:.2f} cores of other load: rerun)" if load.get("suspect") else ""
        lines.append(
            f"- MISS {r['workload']} vs {r['name']}: {ratio_text(r['fastimg_speedup'])}x < {r['goal']:g}x{suspect}"
        )
    for r in rows:
        if "best_s" not in r and r["goal"] is not None:
            lines.append(f"- not judged: {r['workload']} vs {r['name']} ({r['na_reason']})")
    return lines


def run(quick: bool = False) -> None:
    plan = Plan(max_rounds=1, min_rounds=1, budget_s=0.0) if quick else Plan(max_rounds=100, min_rounds=3)
    t0 = time.perf_counter()
    sets = image_sets()
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
    info["fastimg_threads"] = threads
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
    info["load_average_end"] = list(os.getloadavg())
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
