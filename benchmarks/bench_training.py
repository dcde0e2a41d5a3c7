"""The end-to-end training section: an ImageFolder of camera-like ImageNet-sized JPEGs into (images, labels)
batches with torchvision's training chain, through the usual PyTorch DataLoader + Pillow, fastimg.Loader and
DataLoader(fastimg.ImageFolder) without workers: a simulated accelerator, a small CNN trained on the CPU, the
loader alone, and a per-image CPU cost breakdown. Method: docs/benchmarks.md#training."""

from __future__ import annotations

import math
import random
import statistics
import time
from dataclasses import dataclass
from typing import Any, Iterator

import torch
import training_cpu
from adapters.train_loaders import BATCH, TRAIN_SPEC, TrainLoader, describe_threads, make_loaders
from adapters.train_model import Trainer, make_model
from contention import CpuMeter
from report import (
    finish_machine_info,
    fmt_mb,
    fmt_ms,
    fmt_pct,
    fmt_rate,
    goal_status,
    goal_text,
    goals_section,
    header,
    load_table,
    machine_info,
    markdown_table,
    ratio,
    ratio_text,
    write_results,
)
from timing import Plan, measure
from training_costs import STAGE_NAMES, stage_costs
from training_cpu import CpuSample
from training_data import TrainingSet, training_set
from training_loops import WAIT_LIMIT, EpochStats, StepRateSearch, run_epoch
from training_memory import MemorySampler, main_rss

BASELINE = "torch"  # the ratios are fastimg's rates over this loader's
GOALS = {"step_rate": 3.0, "alone": 3.0}  # minimum fastimg.Loader / DataLoader ratio
TRAIN_THREADS = 1  # torch.set_num_threads during the CNN experiment (both loaders alike)
PACKAGES = ["fastimg", "torch", "numpy", "pillow", "simplejpeg"]


@dataclass
class Settings:
    alone: Plan
    search_trials: int
    search_box_s: float  # per loader
    trial_target_s: float
    trial_max_epochs: int
    trial_min_steps: int
    train_warmup_epochs: int
    train_rounds: int
    train_steps: int | None  # per loader and round; None: whole epochs
    cost_stride: int
    cost_repeats: int


FULL = Settings(
    Plan(max_rounds=100, min_rounds=3, budget_s=20.0),
    search_trials=7,
    search_box_s=18.0,
    trial_target_s=2.5,
    trial_max_epochs=4,
    trial_min_steps=6,
    train_warmup_epochs=1,
    train_rounds=3,
    train_steps=None,
    cost_stride=3,
    cost_repeats=3,
)
QUICK = Settings(
    Plan(max_rounds=1, min_rounds=1, budget_s=0.0),
    search_trials=2,
    search_box_s=3.0,
    trial_target_s=0.0,
    trial_max_epochs=1,
    trial_min_steps=3,
    train_warmup_epochs=0,
    train_rounds=1,
    train_steps=4,
    cost_stride=7,
    cost_repeats=1,
)


class SyntheticLoader(TrainLoader):
    """Reference row of the CNN experiment: one ready batch handed out `steps` times (the model alone)."""

    key = "model_alone"
    name = "ref: model alone (one batch in memory, no loading)"

    def __init__(self, steps: int) -> None:
        super().__init__("")
        self.steps = steps
        self.images = torch.randn(BATCH, 3, TRAIN_SPEC.size, TRAIN_SPEC.size)
        self.labels = torch.randint(0, 10, (BATCH,))

    def epoch_iter(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return iter([(self.images, self.labels)] * self.steps)


def _rotated(items: list[Any], r: int) -> list[Any]:
    return items[r % len(items) :] + items[: r % len(items)]


# -- the experiments ------------------------------------------------------------------------------------


def exp_alone(loaders: list[TrainLoader], plan: Plan) -> dict[str, Any]:
    """Images/s of each loader over whole epochs, interleaved rounds; the untimed first epoch starts the
    DataLoader's workers."""
    cpu: dict[str, list[CpuSample]] = {ld.key: [] for ld in loaders}

    def epoch(ld: TrainLoader) -> int:
        before = training_cpu.sample(ld.worker_pids())
        images = sum(len(images) for images, _ in ld.epoch_iter())
        cpu[ld.key].append(training_cpu.used(before, training_cpu.sample(ld.worker_pids())))
        return images

    calls = {ld.key: (lambda ld=ld: epoch(ld)) for ld in loaders}
    meter = CpuMeter()
    meter.start()
    times, first = measure(calls, plan)
    load = meter.stop()
    rows = {}
    for ld in loaders:
        ts, n = times[ld.key], first[ld.key]
        spent = cpu[ld.key][1:]  # the first is the untimed warm-up epoch (worker start-up)
        total = sum(spent, CpuSample())
        images = n * max(1, len(spent))
        rows[ld.key] = {
            "images": n,
            "epochs_timed": len(ts),
            "times_s": ts,
            "best_s": min(ts),
            "median_s": statistics.median(ts),
            "images_per_s": n / min(ts),
            "images_per_s_median": n / statistics.median(ts),
            "cpu_ms_per_image": 1e3 * (total.user_s + total.sys_s) / images,
            "sys_ms_per_image": 1e3 * total.sys_s / images,
            "minor_faults_per_batch": total.minflt / images * BATCH,
        }
    return {"rows": rows, "machine_load": load}


def exp_step_rate(
    loaders: list[TrainLoader], alone: dict[str, Any], epoch_steps: int, settings: Settings
) -> dict[str, Any]:
    """The searches of all loaders advance together, one trial each per round, in rotating order."""
    searches = [
        StepRateSearch(
            ld,
            BATCH / alone["rows"][ld.key]["images_per_s_median"],
            epoch_steps,
            max_trials=settings.search_trials,
            box_s=settings.search_box_s,
            trial_target_s=settings.trial_target_s,
            max_epochs=settings.trial_max_epochs,
            min_steps=settings.trial_min_steps,
        )
        for ld in loaders
    ]
    meter = CpuMeter()
    meter.start()
    r = 0
    while any(not s.done for s in searches):
        for s in _rotated(searches, r):
            if not s.done:
                trial = s.run_trial()
                print(
                    f"    {s.loader.key}: sleep {trial.sleep_s * 1e3:.1f} ms x {trial.stats.steps} steps -> wait "
                    f"{100 * trial.stats.wait_fraction:.1f}% ({'pass' if trial.passed else 'fail'})",
                    flush=True,
                )
        r += 1
    return {"rows": {s.loader.key: s.result() for s in searches}, "machine_load": meter.stop()}


def exp_train(loaders: list[TrainLoader], epoch_steps: int, settings: Settings) -> dict[str, Any]:
    """The CNN trained for whole epochs per loader, interleaved, each loader with its own copy of the same
    initial model; memory sampled per loader."""
    threads = torch.get_num_threads()
    torch.set_num_threads(TRAIN_THREADS)
    participants: list[TrainLoader] = [*loaders, SyntheticLoader(epoch_steps)]
    base = make_model(0)
    trainers = {p.key: Trainer(base) for p in participants}
    stats = {p.key: EpochStats() for p in participants}
    baseline_rss = main_rss()
    meter = CpuMeter()
    try:
        with MemorySampler() as sampler:
            for r in range(settings.train_warmup_epochs + settings.train_rounds):
                if r == settings.train_warmup_epochs:
                    meter.start()
                for p in _rotated(participants, r):
                    trainer = trainers[p.key]
                    sampler.attribute(p.key, p.worker_pids)
                    epoch = run_epoch(p, trainer.step, settings.train_steps)
                    sampler.attribute(None)
                    if r >= settings.train_warmup_epochs:
                        stats[p.key].add(epoch)
    finally:
        torch.set_num_threads(threads)
    peaks = sampler.peaks
    rows = {}
    for p in participants:
        st = stats[p.key]
        steps = st.step_times_s
        rows[p.key] = {
            **st.summary(),
            "median_step_s": statistics.median(steps) if steps else math.nan,
            "memory": peaks.get(p.key, {}),
            "last_loss": float(trainers[p.key].last_loss),
        }
    return {
        "rows": rows,
        "machine_load": meter.stop(),
        "torch_threads": TRAIN_THREADS,
        "baseline_main_rss_bytes": baseline_rss,
    }


# -- report ---------------------------------------------------------------------------------------------


def goal_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    step, alone = results["step_rate"]["rows"], results["alone"]["rows"]
    out = []
    for key, what, rows, field in (
        (
            "step_rate",
            "fastimg.Loader / DataLoader, max sustainable steps/s (simulated accelerator)",
            step,
            "steps_per_s",
        ),
        ("alone", "fastimg.Loader / DataLoader, loader alone, images/s (best epoch)", alone, "images_per_s"),
    ):
        value = ratio(rows["fastimg"].get(field, math.nan), rows[BASELINE].get(field, math.nan))
        out.append(
            {"goal": key, "what": what, "ratio": value, "target": GOALS[key], "status": goal_status(value, GOALS[key])}
        )
    return out


def _vs_base(key: str, value: float, base: float, reference: bool = False) -> str:
    if key == BASELINE:
        return "—"
    text = ratio_text(ratio(value, base))
    return f"({text})" if reference else text


def _goal_cell(key: str, goal: dict[str, Any]) -> str:
    return goal_text(goal["target"], goal["status"]) if key == "fastimg" else ""


def _step_table(results: dict[str, Any], names: dict[str, str], goal: dict[str, Any]) -> str:
    rows = results["step_rate"]["rows"]
    base = rows[BASELINE].get("steps_per_s", math.nan)
    out = []
    for key, r in rows.items():
        lo, hi = r["bracket_s"]
        bracket = f"{'—' if lo is None else f'{lo * 1e3:.0f}'} / {'—' if hi is None else f'{hi * 1e3:.0f}'}"
        if not r["found"]:
            below = f"not found (< {1 / (lo + 1e-9):.2f})" if lo else "not found"
            out.append([names[key], below, "", "", "", "", bracket, str(len(r["trials"])), "", "", ""])
            continue
        load = r["machine_load"]
        out.append(
            [
                names[key],
                f"{r['steps_per_s']:.2f}",
                fmt_rate(r["images_per_s"]),
                fmt_ms(r["sleep_s"]),
                fmt_pct(r["wait_fraction"]),
                fmt_pct(r["wait_fraction_incl_epoch_start"]),
                bracket,
                str(len(r["trials"])),
                _vs_base(key, r["steps_per_s"], base),
                _goal_cell(key, goal),
                "n/a" if "other_cores" not in load else f"{load['other_cores']:.2f}" + " SUSPECT" * load["suspect"],
            ]
        )
    columns = ["loader", "max steps/s", "images/s", "step (sleep) ms", "data wait", "incl. epoch starts"]
    columns += ["bracket fail / pass ms", "trials", "vs DataLoader", "goal", "other load (cores)"]
    return markdown_table(columns, out)


def _train_table(results: dict[str, Any], names: dict[str, str]) -> str:
    rows = results["train"]["rows"]
    base = rows[BASELINE]["images_per_s"]
    out = []
    for key, r in rows.items():
        mem = r["memory"]
        out.append(
            [
                names[key],
                fmt_rate(r["images_per_s"]),
                fmt_rate(r["images_per_s_incl_epoch_start"]),
                fmt_ms(r["mean_step_s"]),
                fmt_ms(r["median_step_s"]),
                fmt_pct(r["wait_fraction"]),
                fmt_pct(r["wait_fraction_incl_epoch_start"]),
                fmt_mb(mem.get("footprint_bytes")),
                fmt_mb(mem.get("rss_bytes")),
                str(mem.get("workers", 0)),
                _vs_base(key, r["images_per_s"], base, reference=key == SyntheticLoader.key),
            ]
        )
    columns = ["loader", "images/s", "incl. epoch starts", "mean step ms", "median step ms", "data wait"]
    columns += ["incl. epoch starts", "peak memory MB", "RSS sum MB", "workers", "vs DataLoader"]
    return markdown_table(columns, out)


def _alone_table(results: dict[str, Any], names: dict[str, str], goal: dict[str, Any]) -> str:
    rows = results["alone"]["rows"]
    best, median = rows[BASELINE]["images_per_s"], rows[BASELINE]["images_per_s_median"]
    out = [
        [
            names[key],
            fmt_ms(r["best_s"]),
            fmt_ms(r["median_s"]),
            fmt_rate(r["images_per_s"]),
            fmt_rate(r["images_per_s_median"]),
            str(r["epochs_timed"]),
            _vs_base(key, r["images_per_s"], best),
            _goal_cell(key, goal),
            _vs_base(key, r["images_per_s_median"], median),
            f"{r['cpu_ms_per_image']:.2f}",
            f"{r['sys_ms_per_image']:.2f}",
            f"{r['minor_faults_per_batch']:,.0f}",
        ]
        for key, r in rows.items()
    ]
    columns = ["loader", "best ms/epoch", "median ms", "images/s", "images/s (median)", "epochs", "vs DataLoader"]
    columns += ["goal", "vs DataLoader (medians)", "CPU ms/image", "of it kernel", "page faults/batch"]
    return markdown_table(columns, out)


def _cost_table(costs: dict[str, Any]) -> str:
    groups = costs["groups"]
    out = []
    for key in [k for k in STAGE_NAMES if k in costs]:
        share = ratio(costs[key], costs["torch_chain"])
        out.append(
            [
                STAGE_NAMES[key],
                *[f"{g[key] * 1e3:.3f}" for g in groups.values()],
                f"{costs[key] * 1e3:.3f}",
                f"{100 * share:.0f}%",
            ]
        )
    out.append(
        [
            f"fastimg.load_batch, {costs['fastimg_threads']} threads (wall)",
            *[f"{g['fastimg_nt'] * 1e3:.3f}" for g in groups.values()],
            f"{costs['fastimg_nt'] * 1e3:.3f}",
            f"{100 * ratio(costs['fastimg_nt'], costs['torch_chain']):.0f}%",
        ]
    )
    columns = ["stage", *[f"{name} ms ({g['images']} files)" for name, g in groups.items()]]
    columns += [
        f"mix ms/image ({100 * costs['weights'].get('progressive', 0.0):.1f}% progressive)",
        "of the PyTorch chain",
    ]
    return markdown_table(columns, out)


def _bounds_table(results: dict[str, Any]) -> str:
    """Ratios of this run's figures that bound or explain the loader ratios (docs/benchmarks.md#training)."""
    costs, alone = results["costs"], results["alone"]["rows"]
    cpu = {key: r["cpu_ms_per_image"] / 1e3 for key, r in alone.items()}
    rows = [
        ["PyTorch chain / fastimg, CPU per image, 1 thread (mix)", ratio(costs["torch_chain"], costs["fastimg_1t"])],
        *[
            [f"same, {name} files", ratio(g["torch_chain"], g["fastimg_1t"])]
            for name, g in costs["groups"].items()
            if len(costs["groups"]) > 1
        ],
        ["DataLoader / fastimg.Loader, CPU per delivered image (loader alone)", ratio(cpu[BASELINE], cpu["fastimg"])],
        ["DataLoader CPU per delivered image / its 1-thread chain", ratio(cpu[BASELINE], costs["torch_chain"])],
        ["fastimg.Loader CPU per delivered image / its 1-thread pipeline", ratio(cpu["fastimg"], costs["fastimg_1t"])],
        [
            "DataLoader(fastimg.ImageFolder) CPU per delivered image / 1-thread pipeline",
            ratio(cpu.get("fastimg_dl", math.nan), costs["fastimg_1t"]),
        ],
        [
            f"fastimg.load_batch 1 thread / {costs['fastimg_threads']} threads, wall per image",
            ratio(costs["fastimg_1t"], costs["fastimg_nt"]),
        ],
    ]
    if "turbo_decode" in costs:
        rows += [
            [
                "fastimg 1 thread / libjpeg-turbo full-size decode alone",
                ratio(costs["fastimg_1t"], costs["turbo_decode"]),
            ],
            [
                "PyTorch chain / libjpeg-turbo full-size decode alone",
                ratio(costs["torch_chain"], costs["turbo_decode"]),
            ],
        ]
    return markdown_table(["ratio", "this run"], [[what, f"{ratio_text(value)}x"] for what, value in rows])


def _settings_table(results: dict[str, Any]) -> str:
    s, threads, plan, costs = (
        results["settings"],
        results["threads"],
        results["settings"]["alone_plan"],
        results["costs"],
    )
    rows = [
        ["batches per epoch", str(results["data"]["batches"])],
        ["step-rate search", f"at most {s['search_trials']} trials or ~{s['search_box_s']:.0f} s per loader"],
        [
            "CNN training",
            f"torch threads {TRAIN_THREADS}, {s['train_warmup_epochs']} warm-up epoch(s), then {s['train_span']}",
        ],
        ["loader alone", f"{plan['min_rounds']}-{plan['max_rounds']} rounds, ~{plan['budget_s']:.0f} s box"],
        ["per-image costs", f"best of {costs['repeats']} passes over {costs['images']} files"],
        [
            "threads",
            f"fastimg {threads['fastimg_threads']}, torch {threads['torch_threads']}, "
            f"DataLoader workers {threads['dataloader_workers']}",
        ],
        ["training process RSS before the CNN experiment", f"{fmt_mb(results['train']['baseline_main_rss_bytes'])} MB"],
    ]
    return markdown_table(["setting", "this run"], rows)


def render(results: dict[str, Any], quick: bool) -> str:
    names = {key: ld["name"] for key, ld in results["loaders"].items()}
    names[SyntheticLoader.key] = SyntheticLoader.name
    goals = {g["goal"]: g for g in results["goals"]}
    step, train, alone = results["step_rate"], results["train"], results["alone"]
    lines = header("fastimg end-to-end training loaders", results["machine"], quick, "training")
    lines += [f"Data: {results['data']['describe']}.", ""]
    lines += [
        markdown_table(["loader", "code"], [[ld["name"], f"`{ld['code']}`"] for ld in results["loaders"].values()]),
        "",
    ]
    lines += [_settings_table(results), ""]
    lines += [
        f"## 1. Simulated accelerator: the fastest step each loader keeps fed (data wait < {100 * WAIT_LIMIT:g}%)",
        "",
    ]
    lines += [_step_table(results, names, goals["step_rate"]), ""]
    lines += [f"## 2. Small CNN trained on the CPU ({results['settings']['train_span']} each)", ""]
    lines += [_train_table(results, names), ""]
    lines += ["## 3. Loader alone (no model)", "", _alone_table(results, names, goals["alone"]), ""]
    lines += ["## Where the CPU time goes: per image, one thread", "", _cost_table(results["costs"]), ""]
    lines += ["## What bounds the ratio", "", _bounds_table(results), ""]
    loads = [("1. step-rate search", step["machine_load"]), ("2. CNN training", train["machine_load"])]
    lines += ["## Machine load", "", load_table([*loads, ("3. loader alone", alone["machine_load"])]), ""]
    goal_list = [{**g, "goal": g["target"]} for g in results["goals"]]
    lines += goals_section(goal_list, list_all=True)
    return "\n".join(lines).rstrip()


def train_span(settings: Settings) -> str:
    per = "epoch" if settings.train_steps is None else f"{settings.train_steps}-step segment"
    return f"{settings.train_rounds} {per}{'s' if settings.train_rounds != 1 else ''}"


def data_batches(data: TrainingSet) -> int:
    return -(-len(data.paths) // BATCH)


# -- the section ----------------------------------------------------------------------------------------


def run(quick: bool = False) -> None:
    settings = QUICK if quick else FULL
    start = time.perf_counter()
    data = training_set()
    print(f"training: {data.describe()}", flush=True)
    print(f"  bits/pixel: {data.bits_per_pixel:.2f}", flush=True)
    info = machine_info(PACKAGES)
    random.seed(0)
    torch.manual_seed(0)

    t = time.perf_counter()
    share = sum(data.progressive) / len(data.paths)
    stride = settings.cost_stride  # odd, so the sample keeps the set's 1-in-8 progressive files
    costs = stage_costs(data.paths[::stride], data.progressive[::stride], share, repeats=settings.cost_repeats)
    print(f"  per-image costs: {time.perf_counter() - t:.1f} s", flush=True)

    loaders = make_loaders(data.root)
    results: dict[str, Any] = {
        "section": "training",
        "quick": quick,
        "machine": info,
        "threads": describe_threads(),
        "costs": costs,
    }
    try:
        t = time.perf_counter()
        results["alone"] = exp_alone(loaders, settings.alone)
        print(f"  3. loader alone: {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        results["step_rate"] = exp_step_rate(loaders, results["alone"], data_batches(data), settings)
        print(f"  1. step-rate search: {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        results["train"] = exp_train(loaders, data_batches(data), settings)
        print(f"  2. CNN training: {time.perf_counter() - t:.1f} s", flush=True)
    finally:
        for ld in loaders:
            ld.close()
    results["goals"] = goal_rows(results)
    finish_machine_info(info, start)
    results["wall_s"] = info["wall_s"]
    results["settings"] = {
        "quick": quick,
        "search_trials": settings.search_trials,
        "search_box_s": settings.search_box_s,
        "trial_target_s": settings.trial_target_s,
        "train_rounds": settings.train_rounds,
        "train_warmup_epochs": settings.train_warmup_epochs,
        "train_span": train_span(settings),
        "alone_plan": vars(settings.alone),
    }
    results["loaders"] = {ld.key: {"name": ld.name, "code": ld.code, "background": ld.background} for ld in loaders}
    results["data"] = {
        "root": data.root,
        "images": len(data.paths),
        "bits_per_pixel": data.bits_per_pixel,
        "describe": data.describe(),
        "batches": data_batches(data),
    }
    markdown = render(results, quick)
    print()
    print(markdown)
    paths = write_results("training", markdown, results)
    from training_chart import chart

    paths.append(chart(results))
    for path in paths:
        print(f"wrote {path}")
