"""The end-to-end training section: the training ImageFolder through the usual DataLoader + Pillow,
fastimg.Loader and DataLoader(fastimg.ImageFolder): a simulated accelerator, a small CNN trained on the CPU,
the loader alone, and a per-image CPU cost breakdown. Method: docs/benchmarks.md#training."""

from __future__ import annotations

import math
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import report
import torch
from adapters.train_loaders import BATCH, TRAIN_SPEC, TrainLoader, describe_threads, make_loaders
from adapters.train_model import Trainer, make_model
from contention import CpuMeter, CpuSample, MemorySampler, cpu_sample, cpu_used, main_rss
from report import fmt_mb, fmt_ms, fmt_pct, fmt_rate, goal_text, markdown_table, ratio, ratio_text
from timing import QUICK as QUICK_PLAN
from timing import Plan, measure, rotated
from training_costs import STAGE_NAMES, stage_costs
from training_data import training_set
from training_loops import WAIT_LIMIT, EpochStats, StepRateSearch, run_epoch

BASELINE = "torch"  # the ratios are fastimg's rates over this loader's
GOALS = {"step_rate": 3.0, "alone": 3.0}  # minimum fastimg.Loader / DataLoader ratio
TRAIN_THREADS = 1  # torch.set_num_threads during the CNN experiment (both loaders alike)
PACKAGES = ["fastimg", "torch", "numpy", "pillow", "simplejpeg"]


def _search(trials: int, box_s: float, target_s: float, epochs: int, steps: int) -> dict[str, Any]:
    """StepRateSearch's limits per loader: trials, time box, trial length, epochs and steady steps a trial."""
    return {"max_trials": trials, "box_s": box_s, "trial_target_s": target_s, "max_epochs": epochs, "min_steps": steps}


@dataclass
class Settings:
    alone: Plan = field(default_factory=lambda: Plan(max_rounds=100, min_rounds=3, budget_s=20.0))
    search: dict[str, Any] = field(default_factory=lambda: _search(7, 18.0, 2.5, 4, 6))
    train_warmup_epochs: int = 1
    train_rounds: int = 3
    train_steps: int | None = None  # per loader and round; None: whole epochs
    cost_stride: int = 3  # odd, so the sample keeps the set's 1-in-8 progressive files
    cost_repeats: int = 3

    @property
    def train_span(self) -> str:
        per = "epoch" if self.train_steps is None else f"{self.train_steps}-step segment"
        return f"{self.train_rounds} {per}{'s' if self.train_rounds != 1 else ''}"


FULL = Settings()
QUICK = Settings(QUICK_PLAN, _search(2, 3.0, 0.0, 1, 3), 0, 1, train_steps=4, cost_stride=7, cost_repeats=1)


class SyntheticLoader(TrainLoader):
    """Reference row of the CNN experiment: one ready batch handed out `steps` times (the model alone)."""

    key = "model_alone"
    name = "ref: model alone (one batch in memory, no loading)"

    def __init__(self, steps: int) -> None:
        super().__init__("")
        size = TRAIN_SPEC.size
        self.steps, self.batch = steps, (torch.randn(BATCH, 3, size, size), torch.randint(0, 10, (BATCH,)))

    def epoch_iter(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return iter([self.batch] * self.steps)


# -- the experiments ------------------------------------------------------------------------------------


def exp_alone(loaders: list[TrainLoader], plan: Plan) -> dict[str, Any]:
    """Images/s of each loader over whole epochs, interleaved rounds; the untimed first epoch starts the
    DataLoader's workers."""
    cpu: dict[str, list[CpuSample]] = {ld.key: [] for ld in loaders}

    def epoch(ld: TrainLoader) -> int:
        before = cpu_sample(ld.worker_pids())
        images = sum(len(images) for images, _ in ld.epoch_iter())
        cpu[ld.key].append(cpu_used(before, cpu_sample(ld.worker_pids())))
        return images

    meter = CpuMeter()
    times, first = measure({ld.key: (lambda ld=ld: epoch(ld)) for ld in loaders}, plan)
    load = meter.stop()
    rows = {}
    for ld in loaders:
        ts, n = times[ld.key], first[ld.key]
        spent = cpu[ld.key][1:]  # the first is the untimed warm-up epoch (worker start-up)
        total, images = sum(spent, CpuSample()), n * max(1, len(spent))
        best, median = min(ts), statistics.median(ts)
        row = {"images": n, "epochs_timed": len(ts), "times_s": ts, "best_s": best, "median_s": median}
        row.update(images_per_s=n / best, images_per_s_median=n / median)
        cpu_ms, sys_ms = 1e3 * (total.user_s + total.sys_s) / images, 1e3 * total.sys_s / images
        row.update(cpu_ms_per_image=cpu_ms, sys_ms_per_image=sys_ms)
        rows[ld.key] = {**row, "minor_faults_per_batch": total.minflt / images * BATCH}
    return {"rows": rows, "machine_load": load}


def exp_step_rate(
    loaders: list[TrainLoader], alone: dict[str, Any], epoch_steps: int, settings: Settings
) -> dict[str, Any]:
    """The searches of all loaders advance together, one trial each per round, in rotating order."""
    rates = {key: r["images_per_s_median"] for key, r in alone["rows"].items()}
    searches = [StepRateSearch(ld, BATCH / rates[ld.key], epoch_steps, **settings.search) for ld in loaders]
    meter = CpuMeter()
    r = 0
    while any(not s.done for s in searches):
        for s in [s for s in rotated(searches, r) if not s.done]:
            trial = s.run_trial()
            wait, verdict = 100 * trial.stats.wait_fraction, "pass" if trial.passed else "fail"
            sleep = f"sleep {trial.sleep_s * 1e3:.1f} ms x {trial.stats.steps} steps"
            print(f"    {s.loader.key}: {sleep} -> wait {wait:.1f}% ({verdict})", flush=True)
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
                for p in rotated(participants, r):
                    sampler.attribute(p.key, p.worker_pids)
                    epoch = run_epoch(p, trainers[p.key].step, settings.train_steps)
                    sampler.attribute(None)
                    if r >= settings.train_warmup_epochs:
                        stats[p.key].add(epoch)
    finally:
        torch.set_num_threads(threads)
    rows = {}
    for p in participants:
        steps = stats[p.key].step_times_s
        rows[p.key] = stats[p.key].summary()
        rows[p.key]["median_step_s"] = statistics.median(steps) if steps else math.nan
        rows[p.key].update(memory=sampler.peaks.get(p.key, {}), last_loss=float(trainers[p.key].last_loss))
    out = {"rows": rows, "machine_load": meter.stop(), "torch_threads": TRAIN_THREADS}
    return {**out, "baseline_main_rss_bytes": baseline_rss}


# -- report ---------------------------------------------------------------------------------------------


def goal_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, how, field_ in (
        ("step_rate", "max sustainable steps/s (simulated accelerator)", "steps_per_s"),
        ("alone", "loader alone, images/s (best epoch)", "images_per_s"),
    ):
        rows = results[key]["rows"]
        value = ratio(rows["fastimg"].get(field_, math.nan), rows[BASELINE].get(field_, math.nan))
        what = f"fastimg.Loader / DataLoader, {how}"
        out.append({"goal": key, "what": what, "ratio": value, "target": GOALS[key]})
        out[-1]["status"] = report.goal_status(value, GOALS[key])
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
        other = "n/a" if "other_cores" not in load else f"{load['other_cores']:.2f}" + " SUSPECT" * load["suspect"]
        waits = [fmt_pct(r[k]) for k in ("wait_fraction", "wait_fraction_incl_epoch_start")]
        cells = [f"{r['steps_per_s']:.2f}", fmt_rate(r["images_per_s"]), fmt_ms(r["sleep_s"]), *waits, bracket]
        vs = _vs_base(key, r["steps_per_s"], base)
        out.append([names[key], *cells, str(len(r["trials"])), vs, _goal_cell(key, goal), other])
    columns = ["loader", "max steps/s", "images/s", "step (sleep) ms", "data wait", "incl. epoch starts"]
    columns += ["bracket fail / pass ms", "trials", "vs DataLoader", "goal", "other load (cores)"]
    return markdown_table(columns, out)


def _train_table(results: dict[str, Any], names: dict[str, str]) -> str:
    rows = results["train"]["rows"]
    base = rows[BASELINE]["images_per_s"]
    out = []
    for key, r in rows.items():
        cells = [fmt_rate(r[k]) for k in ("images_per_s", "images_per_s_incl_epoch_start")]
        cells += [fmt_ms(r[k]) for k in ("mean_step_s", "median_step_s")]
        cells += [fmt_pct(r[k]) for k in ("wait_fraction", "wait_fraction_incl_epoch_start")]
        cells += [fmt_mb(r["memory"].get(k)) for k in ("footprint_bytes", "rss_bytes")]
        vs = _vs_base(key, r["images_per_s"], base, reference=key == SyntheticLoader.key)
        out.append([names[key], *cells, str(r["memory"].get("workers", 0)), vs])
    columns = ["loader", "images/s", "incl. epoch starts", "mean step ms", "median step ms", "data wait"]
    columns += ["incl. epoch starts", "peak memory MB", "RSS sum MB", "workers", "vs DataLoader"]
    return markdown_table(columns, out)


def _alone_table(results: dict[str, Any], names: dict[str, str], goal: dict[str, Any]) -> str:
    rows = results["alone"]["rows"]
    best, median = rows[BASELINE]["images_per_s"], rows[BASELINE]["images_per_s_median"]
    out = []
    for key, r in rows.items():
        cells = [*(fmt_ms(r[k]) for k in ("best_s", "median_s")), fmt_rate(r["images_per_s"])]
        cells += [fmt_rate(r["images_per_s_median"]), str(r["epochs_timed"]), _vs_base(key, r["images_per_s"], best)]
        cells += [_goal_cell(key, goal), _vs_base(key, r["images_per_s_median"], median)]
        cpu = [f"{r['cpu_ms_per_image']:.2f}", f"{r['sys_ms_per_image']:.2f}", f"{r['minor_faults_per_batch']:,.0f}"]
        out.append([names[key], *cells, *cpu])
    columns = ["loader", "best ms/epoch", "median ms", "images/s", "images/s (median)", "epochs", "vs DataLoader"]
    columns += ["goal", "vs DataLoader (medians)", "CPU ms/image", "of it kernel", "page faults/batch"]
    return markdown_table(columns, out)


def _cost_table(costs: dict[str, Any]) -> str:
    groups = costs["groups"]
    stages = [(key, STAGE_NAMES[key]) for key in STAGE_NAMES if key in costs]
    out = []
    for key, label in [*stages, ("fastimg_nt", f"fastimg.load_batch, {costs['fastimg_threads']} threads (wall)")]:
        share = ratio(costs[key], costs["torch_chain"])
        out.append(
            [label, *[f"{g[key] * 1e3:.3f}" for g in groups.values()], f"{costs[key] * 1e3:.3f}", f"{100 * share:.0f}%"]
        )
    columns = ["stage", *[f"{name} ms ({g['images']} files)" for name, g in groups.items()]]
    mix = f"mix ms/image ({100 * costs['weights'].get('progressive', 0.0):.1f}% progressive)"
    return markdown_table([*columns, mix, "of the PyTorch chain"], out)


def _bounds_table(results: dict[str, Any]) -> str:
    """Ratios of this run's figures that bound or explain the loader ratios (docs/benchmarks.md#training)."""
    costs, alone, nt = results["costs"], results["alone"]["rows"], results["costs"]["fastimg_threads"]
    cpu = {key: r["cpu_ms_per_image"] / 1e3 for key, r in alone.items()}
    chain, one, dl, fi = costs["torch_chain"], costs["fastimg_1t"], cpu[BASELINE], cpu["fastimg"]
    fdl = cpu.get("fastimg_dl", math.nan)
    groups = costs["groups"] if len(costs["groups"]) > 1 else {}
    rows = [
        ["PyTorch chain / fastimg, CPU per image, 1 thread (mix)", ratio(chain, one)],
        *[[f"same, {name} files", ratio(g["torch_chain"], g["fastimg_1t"])] for name, g in groups.items()],
        ["DataLoader / fastimg.Loader, CPU per delivered image (loader alone)", ratio(dl, fi)],
        ["DataLoader CPU per delivered image / its 1-thread chain", ratio(dl, chain)],
        ["fastimg.Loader CPU per delivered image / its 1-thread pipeline", ratio(fi, one)],
        ["DataLoader(fastimg.ImageFolder) CPU per delivered image / 1-thread pipeline", ratio(fdl, one)],
        [f"fastimg.load_batch 1 thread / {nt} threads, wall per image", ratio(one, costs["fastimg_nt"])],
    ]
    if "turbo_decode" in costs:
        rows.append(["fastimg 1 thread / libjpeg-turbo full-size decode alone", ratio(one, costs["turbo_decode"])])
        rows.append(["PyTorch chain / libjpeg-turbo full-size decode alone", ratio(chain, costs["turbo_decode"])])
    return markdown_table(["ratio", "this run"], [[what, f"{ratio_text(value)}x"] for what, value in rows])


def _settings_table(results: dict[str, Any]) -> str:
    s, threads, costs = results["settings"], results["threads"], results["costs"]
    plan, warmup = s["alone_plan"], s["train_warmup_epochs"]
    workers = f"torch {threads['torch_threads']}, DataLoader workers {threads['dataloader_workers']}"
    rows = [
        ["batches per epoch", str(results["data"]["batches"])],
        ["step-rate search", f"at most {s['search_trials']} trials or ~{s['search_box_s']:.0f} s per loader"],
        ["CNN training", f"torch threads {TRAIN_THREADS}, {warmup} warm-up epoch(s), then {s['train_span']}"],
        ["loader alone", f"{plan['min_rounds']}-{plan['max_rounds']} rounds, ~{plan['budget_s']:.0f} s box"],
        ["per-image costs", f"best of {costs['repeats']} passes over {costs['images']} files"],
        ["threads", f"fastimg {threads['fastimg_threads']}, {workers}"],
        ["training process RSS before the CNN experiment", f"{fmt_mb(results['train']['baseline_main_rss_bytes'])} MB"],
    ]
    return markdown_table(["setting", "this run"], rows)


def render(results: dict[str, Any], quick: bool) -> str:
    names = {key: ld["name"] for key, ld in results["loaders"].items()}
    names[SyntheticLoader.key] = SyntheticLoader.name
    goals = {g["goal"]: g for g in results["goals"]}
    codes = [[ld["name"], f"`{ld['code']}`"] for ld in results["loaders"].values()]
    lines = report.header("fastimg end-to-end training loaders", results["machine"], quick, "training")
    lines += [f"Data: {results['data']['describe']}.", "", markdown_table(["loader", "code"], codes), ""]
    lines += [_settings_table(results), ""]
    wait = f"data wait < {100 * WAIT_LIMIT:g}%"
    lines += [f"## 1. Simulated accelerator: the fastest step each loader keeps fed ({wait})", ""]
    lines += [_step_table(results, names, goals["step_rate"]), ""]
    lines += [f"## 2. Small CNN trained on the CPU ({results['settings']['train_span']} each)", ""]
    lines += [_train_table(results, names), ""]
    lines += ["## 3. Loader alone (no model)", "", _alone_table(results, names, goals["alone"]), ""]
    lines += ["## Where the CPU time goes: per image, one thread", "", _cost_table(results["costs"]), ""]
    lines += ["## What bounds the ratio", "", _bounds_table(results), ""]
    stretches = [("1. step-rate search", "step_rate"), ("2. CNN training", "train"), ("3. loader alone", "alone")]
    lines += [
        "## Machine load",
        "",
        report.load_table([(label, results[k]["machine_load"]) for label, k in stretches]),
        "",
    ]
    lines += report.goals_section([{**g, "goal": g["target"]} for g in results["goals"]], list_all=True)
    return "\n".join(lines).rstrip()


# -- the section ----------------------------------------------------------------------------------------


def run(quick: bool = False) -> None:
    settings = QUICK if quick else FULL
    start = time.perf_counter()
    data = training_set()
    print(f"training: {data.describe()}", flush=True)
    print(f"  bits/pixel: {data.bits_per_pixel:.2f}", flush=True)
    info = report.machine_info(PACKAGES)
    random.seed(0)
    torch.manual_seed(0)
    batches = -(-len(data.paths) // BATCH)
    results: dict[str, Any] = {"section": "training", "quick": quick, "machine": info, "threads": describe_threads()}
    t = time.perf_counter()
    share, stride = sum(data.progressive) / len(data.paths), settings.cost_stride
    results["costs"] = stage_costs(data.paths[::stride], data.progressive[::stride], share, settings.cost_repeats)
    print(f"  per-image costs: {time.perf_counter() - t:.1f} s", flush=True)
    loaders = make_loaders(data.root)
    experiments: list[tuple[str, str, Callable[[], Any]]] = [
        ("alone", "3. loader alone", lambda: exp_alone(loaders, settings.alone)),
        ("step_rate", "1. step-rate search", lambda: exp_step_rate(loaders, results["alone"], batches, settings)),
        ("train", "2. CNN training", lambda: exp_train(loaders, batches, settings)),
    ]
    try:
        for key, label, experiment in experiments:
            t = time.perf_counter()
            results[key] = experiment()
            print(f"  {label}: {time.perf_counter() - t:.1f} s", flush=True)
    finally:
        for ld in loaders:
            ld.close()
    results["goals"] = goal_rows(results)
    report.finish_machine_info(info, start)
    results["wall_s"] = info["wall_s"]
    search = {"search_trials": settings.search["max_trials"], "search_box_s": settings.search["box_s"]}
    search["trial_target_s"] = settings.search["trial_target_s"]
    results["settings"] = {"quick": quick, **search, "train_rounds": settings.train_rounds}
    results["settings"].update(train_warmup_epochs=settings.train_warmup_epochs, train_span=settings.train_span)
    results["settings"]["alone_plan"] = vars(settings.alone)
    results["loaders"] = {ld.key: {"name": ld.name, "code": ld.code, "background": ld.background} for ld in loaders}
    results["data"] = {"root": data.root, "images": len(data.paths), "bits_per_pixel": data.bits_per_pixel}
    results["data"].update(describe=data.describe(), batches=batches)
    report.publish("training", render(results, quick), results)
    from chart import training_chart  # matplotlib only here

    print(f"wrote {training_chart(results)}")
