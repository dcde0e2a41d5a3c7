"""The end-to-end training section: an ImageFolder of camera-like ImageNet-sized JPEGs into (images, labels)
batches of 32 with torchvision's training chain, through the usual PyTorch DataLoader + Pillow, fastimg.Loader
and DataLoader(fastimg.ImageFolder) without workers, measured three ways:

1. simulated accelerator: the fastest fixed step (time.sleep, CPU free as under a GPU) each loader keeps fed
   with under 5% data wait;
2. a small CNN trained on the CPU: images/s, step time, data wait, peak memory;
3. the loader alone: images/s over whole epochs.

A per-image CPU cost breakdown (one thread) comes first, to explain the ratios."""

from __future__ import annotations

import math
import os
import random
import statistics
import time
from dataclasses import dataclass
from typing import Any, Iterator

import torch
import training_cpu
from adapters.train_loaders import BATCH, TRAIN_SPEC, TrainLoader, describe_threads, make_loaders
from adapters.train_model import Trainer, make_model
from contention import OTHER_LOAD_WARN, CpuMeter
from report import fmt_ms, fmt_rate, machine_info, markdown_table, ratio_text, write_results
from timing import Plan, measure
from training_costs import STAGE_NAMES, stage_costs
from training_cpu import CpuSample
from training_data import TrainingSet, training_set
from training_loops import WAIT_LIMIT, EpochStats, StepRateSearch, run_epoch
from training_memory import MemorySampler, main_rss

import fastimg

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


def _load_text(load: dict[str, Any]) -> str:
    if "other_cores" not in load:
        return "n/a"
    return f"{load['other_cores']:.2f}" + (" SUSPECT" if load["suspect"] else "")


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


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
    threads, fastimg_threads = torch.get_num_threads(), fastimg.get_num_threads()
    torch.set_num_threads(TRAIN_THREADS)
    # torch.set_num_threads also sets libgomp's nthreads for this thread, which fastimg's default follows:
    # without this, the in-thread fastimg loader would drop to 1 native thread here.
    fastimg.set_num_threads(fastimg_threads)
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
        fastimg.set_num_threads(None)
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


def _mb(n: Any) -> str:
    return f"{n / 2**20:,.0f}" if isinstance(n, (int, float)) and n else "n/a"


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.1f}%"


def goal_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    step, alone = results["step_rate"]["rows"], results["alone"]["rows"]
    out = []
    for key, what, rows, field in (
        ("step_rate", "max sustainable steps/s (simulated accelerator)", step, "steps_per_s"),
        ("alone", "loader alone, images/s (best epoch)", alone, "images_per_s"),
    ):
        ratio = _ratio(rows["fastimg"].get(field, math.nan), rows[BASELINE].get(field, math.nan))
        status = "n/a" if math.isnan(ratio) else "PASS" if ratio >= GOALS[key] else "MISS"
        out.append({"goal": key, "what": what, "ratio": ratio, "target": GOALS[key], "status": status})
    return out


def miss_explanation(results: dict[str, Any]) -> list[str]:
    """Numbers from this run that account for a missed ratio."""
    costs, alone = results["costs"], results["alone"]["rows"]
    cores = results["machine"]["usable_cpus"]
    fl, fd, tt = alone["fastimg"], alone["fastimg_dl"], alone["torch"]
    torch_1t, fast_1t, fast_nt = costs["torch_chain"] * 1e3, costs["fastimg_1t"] * 1e3, costs["fastimg_nt"] * 1e3
    lines = [
        (
            f"- One thread, per image: the PyTorch + Pillow chain costs {torch_1t:.2f} ms "
            f"({costs['pil_decode'] * 1e3:.2f} of it Pillow's full-size decode), fastimg's whole pipeline "
            f"{fast_1t:.2f} ms: {ratio_text(costs['ratio'])}x. Loaders that keep the same cores busy run at "
            "~cores / (CPU time per image), so this is the ratio to expect if both scale alike."
        ),
        (
            f"- On {cores} cores, CPU per delivered image over the loader-alone epochs: DataLoader "
            f"{tt['cpu_ms_per_image']:.2f} ms ({tt['cpu_ms_per_image'] / torch_1t:.2f}x its one-thread chain: worker "
            f"processes, batches through shared memory, {tt['minor_faults_per_batch']:,.0f} page faults per batch), "
            f"fastimg.Loader {fl['cpu_ms_per_image']:.2f} ms ({fl['cpu_ms_per_image'] / fast_1t:.2f}x its one-thread "
            f"pipeline; {fl['sys_ms_per_image']:.2f} ms in the kernel, {fl['minor_faults_per_batch']:,.0f} page "
            "faults per batch from a fresh torch.empty buffer each batch), DataLoader(fastimg.ImageFolder) "
            f"{fd['cpu_ms_per_image']:.2f} ms ({fd['sys_ms_per_image']:.2f} kernel, "
            f"{fd['minor_faults_per_batch']:,.0f} faults per batch, numpy buffers): a CPU-time ratio of "
            f"{ratio_text(tt['cpu_ms_per_image'] / fl['cpu_ms_per_image'])}x for fastimg.Loader. "
            f"fastimg.load_batch on {costs['fastimg_threads']} threads: {fast_nt:.2f} ms of wall time per image "
            f"({fast_1t / fast_nt:.2f}x its one-thread speed)."
        ),
    ]
    groups = costs.get("groups", {})
    if "baseline" in groups and "progressive" in groups:
        base, prog = groups["baseline"], groups["progressive"]
        lines.append(
            f"- By kind of file: on baseline JPEGs the chain / fastimg ratio is "
            f"{ratio_text(base['torch_chain'] / base['fastimg_1t'])}x ({base['torch_chain'] * 1e3:.2f} vs "
            f"{base['fastimg_1t'] * 1e3:.2f} ms), on progressive ones "
            f"{ratio_text(prog['torch_chain'] / prog['fastimg_1t'])}x ({prog['torch_chain'] * 1e3:.2f} vs "
            f"{prog['fastimg_1t'] * 1e3:.2f} ms): a progressive file is decoded whole (every scan, the full "
            f"coefficient buffer) by both, so fastimg's region decode saves nothing there; they are "
            f"{100 * costs['weights']['progressive']:.1f}% of this set."
        )
    if "turbo_decode" in costs:
        lines.append(
            f"- The floor under fastimg: libjpeg-turbo's full-size decode alone costs "
            f"{costs['turbo_decode'] * 1e3:.2f} ms per image on one thread and fastimg's whole pipeline "
            f"{fast_1t / (costs['turbo_decode'] * 1e3):.2f}x that: RandomResizedCrop's crops (8-100% of the area) "
            "of 300-500 px images are mostly under 448 px, too small for a DCT-scaled decode at 224, and "
            "libjpeg-turbo still entropy-decodes every block above the crop's last row (a region decode saves "
            f"only the IDCT and colour work outside it). Pillow decodes with the same libjpeg-turbo, so the chain / "
            "decode ratio, "
            f"{ratio_text(costs['torch_chain'] / costs['turbo_decode'])}x here, is about the most any decoder-bound "
            "loader can gain over it on these images."
        )
    return lines


def render(
    results: dict[str, Any], data: TrainingSet, loaders: list[TrainLoader], settings: Settings, quick: bool
) -> str:
    info, threads = results["machine"], results["threads"]
    v = info["versions"]
    names = {ld.key: ld.name for ld in loaders}
    names["model_alone"] = SyntheticLoader.name
    step, alone, train = results["step_rate"], results["alone"], results["train"]
    lines = [
        "# fastimg end-to-end training loaders"
        + (" (--quick: 1 round, short trials; not for quoting)" if quick else ""),
        "",
        (
            f"{info['date']} · {info['cpu']}, {info['usable_cpus']} CPUs · 1-min load average at start "
            f"{info['load_average'][0]:.2f}, at end {info['load_average_end'][0]:.2f} · Python {info['python']} · "
            f"section wall time {results['wall_s']:.0f} s"
        ),
        "",
        (
            f"fastimg {v['fastimg']} ({threads['fastimg_threads']} native threads) · torch {v['torch']} "
            f"(torch threads {threads['torch_threads']}, {TRAIN_THREADS} in the CNN experiment) · Pillow {v['pillow']} · "  # noqa: E501
            f"numpy {v['numpy']}"
        ),
        "",
        f"Data: {data.describe()} (bits/pixel = file bytes x 8 / pixels; camera JPEGs are ~3-5).",
        "",
        (
            f"Every loader yields (images float32 ({BATCH}, 3, 224, 224) ImageNet-normalised, labels int64) with "
            "torchvision's training chain RandomResizedCrop(224) + RandomHorizontalFlip() + Normalize, shuffled, "
            f"{data_batches(data)} batches per epoch:"
        ),
        "",
        *[f"- **{ld.name}**: `{ld.code}`" for ld in loaders],
        "",
        (
            f"Data wait = time blocked in next(iterator). Runs cover whole epochs and start at an epoch boundary. "
            '"Steady" figures leave out each epoch\'s first step (iter() + first batch, a pipeline starting empty: '
            f'one step in {data_batches(data)} here, one in ~40,000 on ImageNet); "incl. epoch starts" keep it. '
            "**vs DataLoader** = rate / the PyTorch DataLoader's rate."
        ),
        "",
        f"## 1. Simulated accelerator: the fastest step each loader keeps fed (data wait < {100 * WAIT_LIMIT:g}%)",
        "",
        (
            "Each step is time.sleep(s): the CPU stays free, as while a GPU computes. Search: trials of whole "
            "epochs, starting at the loader's own batch time from experiment 3 (in-thread loading: 19x it), then "
            "towards the threshold the trial predicts, then bisection (all loaders' searches interleaved, "
            f"at most {settings.search_trials} trials or ~{settings.search_box_s:.0f} s each). **max steps/s** = steady "  # noqa: E501
            'steps / time at the shortest passing sleep; "not found": even the longest sleep tried failed.'
        ),
        "",
    ]
    step_rows = []
    base_rate = step["rows"][BASELINE].get("steps_per_s", math.nan)
    goal_by = {g["goal"]: g for g in results["goals"]}
    for ld in loaders:
        r = step["rows"][ld.key]
        lo, hi = r["bracket_s"]
        bracket = f"{'—' if lo is None else f'{lo * 1e3:.0f}'} / {'—' if hi is None else f'{hi * 1e3:.0f}'}"
        if not r["found"]:
            below = f"not found (< {1 / (lo + 1e-9):.2f})" if lo else "not found"
            step_rows.append([ld.name, below, "", "", "", "", bracket, str(len(r["trials"])), "", "", ""])
            continue
        ratio = _ratio(r["steps_per_s"], base_rate)
        goal = f">={GOALS['step_rate']:g} {goal_by['step_rate']['status']}" if ld.key == "fastimg" else ""
        step_rows.append(
            [
                ld.name,
                f"{r['steps_per_s']:.2f}",
                fmt_rate(r["images_per_s"]),
                fmt_ms(r["sleep_s"]),
                _pct(r["wait_fraction"]),
                _pct(r["wait_fraction_incl_epoch_start"]),
                bracket,
                str(len(r["trials"])),
                "—" if ld.key == BASELINE else ratio_text(ratio),
                goal,
                _load_text(r["machine_load"]),
            ]
        )
    lines += [
        markdown_table(
            [
                "loader",
                "max steps/s",
                "images/s",
                "step (sleep) ms",
                "data wait",
                "incl. epoch starts",
                "bracket fail / pass ms",
                "trials",
                "vs DataLoader",
                "goal",
                "other load (cores)",
            ],
            step_rows,
        ),
        "",
    ]
    lines += [
        f"## 2. Small CNN trained on the CPU (torch.set_num_threads({TRAIN_THREADS}), {train_span(settings)} each)",
        "",
        (
            f"The model (adapters/train_model.py) trains on {TRAIN_THREADS} thread in both cases, so each loader has "
            "the rest of the machine: the DataLoader's 2 worker processes, or fastimg's native threads on the Loader's "
            "prefetch thread (or in the training thread, without workers), all competing with the model's thread on "
            f"{info['usable_cpus']} cores. torch.set_num_threads(1) also lowers fastimg's default thread count in the "
            "calling thread (both follow libgomp's per-thread nthreads setting), so the experiment sets "
            f"fastimg.set_num_threads({threads['fastimg_threads']}) to keep the in-thread loader on its default. "
            f"{settings.train_warmup_epochs} warm-up epoch(s) each, then "
            f"{train_span(settings)} per loader, interleaved in rotating order. **peak "
            "memory** = training process RSS + the loader's workers' private pages (smaps_rollup), sampled every "
            "20 ms while that loader ran; **RSS sum** also counts pages the workers share with the training process "
            f"(an upper bound). The training process's RSS before the experiment: {_mb(train['baseline_main_rss_bytes'])} "  # noqa: E501
            "MB."
        ),
        "",
    ]
    train_rows = []
    base_train = train["rows"][BASELINE]["images_per_s"]
    for key in [*[ld.key for ld in loaders], "model_alone"]:
        r = train["rows"][key]
        mem = r["memory"]
        ref = key == "model_alone"
        train_rows.append(
            [
                names[key],
                fmt_rate(r["images_per_s"]),
                fmt_rate(r["images_per_s_incl_epoch_start"]),
                fmt_ms(r["mean_step_s"]),
                fmt_ms(r["median_step_s"]),
                _pct(r["wait_fraction"]),
                _pct(r["wait_fraction_incl_epoch_start"]),
                _mb(mem.get("footprint_bytes")),
                _mb(mem.get("rss_bytes")),
                str(mem.get("workers", 0)),
                "—"
                if key == BASELINE
                else f"({ratio_text(_ratio(r['images_per_s'], base_train))})"
                if ref
                else ratio_text(_ratio(r["images_per_s"], base_train)),
            ]
        )
    lines += [
        markdown_table(
            [
                "loader",
                "images/s",
                "incl. epoch starts",
                "mean step ms",
                "median step ms",
                "data wait",
                "incl. epoch starts",
                "peak memory MB",
                "RSS sum MB",
                "workers",
                "vs DataLoader",
            ],
            train_rows,
        ),
        "",
    ]
    lines += [
        "## 3. Loader alone (no model)",
        "",
        (
            "Whole epochs back to back (epoch starts included), interleaved rounds in rotating order after an "
            f"untimed first epoch that starts the DataLoader's workers; {settings.alone.min_rounds}-"
            f"{settings.alone.max_rounds} rounds time-boxed at ~{settings.alone.budget_s:.0f} s. The goal is "
            "judged on the best epochs."
        ),
        "",
    ]
    alone_rows = []
    base_best, base_median = alone["rows"][BASELINE]["images_per_s"], alone["rows"][BASELINE]["images_per_s_median"]
    for ld in loaders:
        r = alone["rows"][ld.key]
        goal = f">={GOALS['alone']:g} {goal_by['alone']['status']}" if ld.key == "fastimg" else ""
        is_base = ld.key == BASELINE
        alone_rows.append(
            [
                ld.name,
                fmt_ms(r["best_s"]),
                fmt_ms(r["median_s"]),
                fmt_rate(r["images_per_s"]),
                fmt_rate(r["images_per_s_median"]),
                str(r["epochs_timed"]),
                "—" if is_base else ratio_text(_ratio(r["images_per_s"], base_best)),
                goal,
                "—" if is_base else ratio_text(_ratio(r["images_per_s_median"], base_median)),
                f"{r['cpu_ms_per_image']:.2f}",
                f"{r['sys_ms_per_image']:.2f}",
                f"{r['minor_faults_per_batch']:,.0f}",
            ]
        )
    lines += [
        markdown_table(
            [
                "loader",
                "best ms/epoch",
                "median ms",
                "images/s",
                "images/s (median)",
                "epochs",
                "vs DataLoader",
                "goal",
                "vs DataLoader (medians)",
                "CPU ms/image",
                "of it kernel",
                "page faults/batch",
            ],
            alone_rows,
        ),
        "",
        (
            "**CPU ms/image**: user + kernel CPU time of the training process and the loader's workers over the "
            "timed epochs, per image (where the cores are saturated, images/s ~ cores / this); **page "
            "faults/batch**: minor faults, e.g. first touches of freshly mapped batch memory."
        ),
        "",
    ]
    costs = results["costs"]
    groups, weights = costs["groups"], costs["weights"]
    counts = ", ".join(f"{g['images']} {name}" for name, g in groups.items())
    lines += [
        "## Where the CPU time goes: per image, one thread",
        "",
        (
            f"Best of {costs['repeats']} passes over a sample of the set ({counts} JPEGs) in this process (page "
            "cache warm), torch.set_num_threads(1), each stage's output dropped at once; fastimg.load_batch in "
            "batches of 32. **mix** weights the two "
            f"kinds as the set does ({100 * weights.get('progressive', 0.0):.1f}% progressive). The last row is "
            f"fastimg on its default {costs['fastimg_threads']} threads (ms of wall time per image)."
        ),
        "",
    ]
    stages = [
        "pil_decode",
        "rrc_flip",
        "to_tensor",
        "normalize",
        "collate",
        "torch_chain",
        "fastimg_1t",
        "turbo_decode",
    ]
    cost_rows = []
    for key in [k for k in stages if k in costs]:
        if key == "fastimg_1t":
            note = f"{costs['torch_chain'] / costs[key]:.2f}x less than the chain"
        elif key == "turbo_decode":
            note = f"the chain is {costs['torch_chain'] / costs[key]:.2f}x this"
        else:
            note = f"{100 * costs[key] / costs['torch_chain']:.0f}%"
        per_group = [f"{g[key] * 1e3:.3f}" for g in groups.values()]
        cost_rows.append([STAGE_NAMES[key], *per_group, f"{costs[key] * 1e3:.3f}", note])
    cost_rows.append(
        [
            f"fastimg.load_batch, {costs['fastimg_threads']} threads (wall)",
            *[f"{g['fastimg_nt'] * 1e3:.3f}" for g in groups.values()],
            f"{costs['fastimg_nt'] * 1e3:.3f}",
            f"{costs['fastimg_1t'] / costs['fastimg_nt']:.2f}x the 1-thread speed",
        ]
    )
    header = ["stage", *[f"{name} ms" for name in groups], "mix ms/image", "share of the PyTorch chain (mix)"]
    lines += [markdown_table(header, cost_rows), ""]
    lines += [
        "## Machine load",
        "",
        (
            "CPU taken by other processes (/proc/stat busy time minus this process and its workers) plus "
            f"steal, in cores; above {OTHER_LOAD_WARN:g} the numbers are suspect: rerun."
        ),
        "",
    ]
    for label, load in (
        ("1. step-rate search", step["machine_load"]),
        ("2. CNN training", train["machine_load"]),
        ("3. loader alone", alone["machine_load"]),
    ):
        if "other_cores" not in load:
            lines.append(f"- {label}: not measured")
            continue
        flag = " **SUSPECT: other work was running**" if load["suspect"] else ""
        lines.append(
            f"- {label}: {load['wall_s']:.0f} s wall, this benchmark {load['own_cpu_s']:.0f} CPU s, other "
            f"{load['other_cpu_s']:.1f} s + steal {load['steal_s']:.1f} s = {load['other_cores']:.2f} cores"
            f"{flag}"
        )
    goals = results["goals"]
    passed = sum(g["status"] == "PASS" for g in goals)
    lines += ["", f"## Goals: {passed}/{len(goals)} PASS", ""]
    for g in goals:
        ratio = "not measured" if math.isnan(g["ratio"]) else f"{ratio_text(g['ratio'])}x"
        lines.append(f"- {g['status']}: fastimg.Loader / DataLoader, {g['what']}: {ratio} (goal >= {g['target']:g}x)")
    if any(g["status"] == "MISS" for g in goals):
        lines += ["", "Why (this run's measurements):", "", *miss_explanation(results)]
    return "\n".join(lines)


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
    info["load_average_end"] = list(os.getloadavg())
    results["wall_s"] = time.perf_counter() - start
    results["settings"] = {
        "quick": quick,
        "search_trials": settings.search_trials,
        "search_box_s": settings.search_box_s,
        "trial_target_s": settings.trial_target_s,
        "train_rounds": settings.train_rounds,
        "alone_plan": vars(settings.alone),
    }
    results["loaders"] = {ld.key: {"name": ld.name, "code": ld.code, "background": ld.background} for ld in loaders}
    results["data"] = {
        "root": data.root,
        "images": len(data.paths),
        "bits_per_pixel": data.bits_per_pixel,
        "describe": data.describe(),
    }
    markdown = render(results, data, loaders, settings, quick)
    print()
    print(markdown)
    paths = write_results("training", markdown, results)
    from training_chart import chart

    paths.append(chart(results))
    for path in paths:
        print(f"wrote {path}")
