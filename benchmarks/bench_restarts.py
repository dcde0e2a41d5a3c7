"""The restart-interval section (#24): the same JPEGs before and after `python -m fastimg prepare`
(lossless: restart markers, baseline, optimised Huffman), so crops decode only the intervals they need.
Reports the prepared size, preparation throughput beside jpegtran, one thread's CPU per image against
libjpeg-turbo's whole-file YUV decode of the same file, RandomResizedCrop against dataio-rs on the same
files, progressive files before/after, and the loader alone against DataLoader(2) + Pillow on prepared
files. Unprepared rows must not move. Method: docs/benchmarks.md#restarts."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import report
from adapters.pipe_base import FastimgPipe
from adapters.pipe_dataio import DataioPipe
from adapters.pipe_geometry import PipeSpec
from pipeline_data import DATA_DIR, ImageSet, image_sets
from timing import Plan, measure
from turbojpeg_floor import TurboJpeg

import fastimg

PACKAGES = ["fastimg", "numpy", "dataio-rs", "torch", "pillow"]
SETS = {"imagenet": "ImageNet-sized (~4 bits/pixel)", "large": "camera-sized (2048-4096 px)"}
# (set, measure) -> goal; floor ratios are ceilings, the dataio ratio a floor.
GOALS = {("imagenet", "dataio"): 2.5, ("large", "dataio"): 2.2, ("imagenet", "rrc"): 0.70, ("large", "rrc"): 0.60}
GOALS.update({("imagenet", "eval"): 0.95, ("large", "eval"): 0.90})
PROGRESSIVE_GOAL, SIZE_GOAL, LOADER_GOAL = 0.5, 1.02, 3.5
TRANSFORMS = {
    "rrc": lambda: fastimg.Transform(224, crop="random_resized", hflip=0.5),
    "eval": lambda: fastimg.Transform(224, resize=256, crop="center", hflip=0.5),
}


PREPARE_STAMP = b"interval rule 3\n"  # bump when prepare's output changes: cached copies are then redone


def _prepare_once(src: Path, dst: Path) -> None:
    """dst as `prepare src dst` writes it, redone when src's manifest or PREPARE_STAMP changed."""
    stamp = PREPARE_STAMP + (src / "manifest.json").read_bytes()
    if not (dst / ".stamp").exists() or (dst / ".stamp").read_bytes() != stamp:
        shutil.rmtree(dst, ignore_errors=True)
        fastimg.prepare_tree(src, dst, progress=False)
        (dst / ".stamp").write_bytes(stamp)


def prepared_paths(image_set: ImageSet) -> list[str]:
    """The set's files after `prepare`, in DATA_DIR/<set>-prepared (redone when the set was regenerated)."""
    src = Path(image_set.paths[0]).parent
    dst = DATA_DIR / f"{image_set.name}-prepared"
    _prepare_once(src, dst)
    return [str(dst / Path(p).name) for p in image_set.paths]


def throughput(paths: list[str]) -> dict[str, float]:
    """Files per second preparing `paths` on 2 threads: fastimg.prepare_tree, and jpegtran (one process per
    file, 2 at a time: `jpegtran -copy all -optimize -restart 4B`) where it is installed."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for p in paths:
            shutil.copy(p, src)
        t0 = time.perf_counter()
        fastimg.prepare_tree(src, Path(tmp) / "fastimg", workers=2, progress=False)
        out["fastimg"] = len(paths) / (time.perf_counter() - t0)
        jpegtran = shutil.which("jpegtran")
        if jpegtran:
            (Path(tmp) / "jpegtran").mkdir()
            cmd = [jpegtran, "-copy", "all", "-optimize", "-restart", "4B", "-outfile"]
            t0 = time.perf_counter()
            with ThreadPoolExecutor(2) as pool:
                jobs = [
                    pool.submit(subprocess.run, [*cmd, str(Path(tmp) / "jpegtran" / Path(p).name), p], check=True)
                    for p in paths
                ]
                for j in jobs:
                    j.result()
            out["jpegtran"] = len(paths) / (time.perf_counter() - t0)
    return out


def load_all(paths: list[str], t: fastimg.Transform, threads: int) -> None:
    for i in range(0, len(paths), 32):
        fastimg.load_batch(paths[i : i + 32], t, indices=range(i, min(i + 32, len(paths))), num_threads=threads)


def floor_calls(original: list[str], prepared: list[str], tj: TurboJpeg) -> dict[str, Callable[[], Any]]:
    calls: dict[str, Callable[[], Any]] = {}
    for tag, paths in (("orig", original), ("prep", prepared)):
        yuv = [tj.prepare(Path(p).read_bytes(), yuv=True) for p in paths]
        calls[f"yuv_{tag}"] = lambda yuv=yuv: [tj.decode_yuv(x) for x in yuv]
        for name, make in TRANSFORMS.items():
            transform = make()
            calls[f"{name}_{tag}"] = lambda p=paths, t=transform: load_all(p, t, 1)
    return calls


def measure_set(image_set: ImageSet, prepared: list[str], tj: TurboJpeg, plan: Plan) -> dict[str, Any]:
    original = image_set.paths
    times, _ = measure(floor_calls(original, prepared, tj), plan, clock=time.process_time)
    cpu = {k: min(v) / len(original) for k, v in times.items()}
    row: dict[str, Any] = {"set": image_set.name, "cpu_us": {k: v * 1e6 for k, v in cpu.items()}}
    for name in TRANSFORMS:
        row[f"{name}_floor_orig"] = cpu[f"{name}_orig"] / cpu["yuv_orig"]
        row[f"{name}_floor_prep"] = cpu[f"{name}_prep"] / cpu["yuv_prep"]
    row["size_ratio"] = sum(Path(p).stat().st_size for p in prepared) / sum(image_set.file_bytes)
    progressive = [i for i, flag in enumerate(image_set.progressive) if flag]
    if progressive:
        orig, prep = [original[i] for i in progressive], [prepared[i] for i in progressive]
        t = TRANSFORMS["rrc"]()
        calls = {"orig": lambda: load_all(orig, t, 1), "prep": lambda: load_all(prep, t, 1)}
        calls.update(dec_orig=lambda: fastimg.decode_images(orig, num_threads=1))
        calls.update(dec_prep=lambda: fastimg.decode_images(prep, num_threads=1))
        ptimes, _ = measure(calls, plan, clock=time.process_time)
        row["progressive_rrc"] = min(ptimes["prep"]) / min(ptimes["orig"])
        row["progressive_decode"] = min(ptimes["dec_prep"]) / min(ptimes["dec_orig"])
    return row


def versus_dataio(original: list[str], prepared: list[str], plan: Plan) -> dict[str, float]:
    """RandomResizedCrop(224) + flip, batch 64, at the default thread count: dataio time / fastimg time. One
    adapter per file list (dataio's loader is bound to its paths), timed interleaved."""
    spec, threads = PipeSpec(224, "random_resized", hflip=0.5), fastimg.get_num_threads()
    lists = {"orig": original, "prep": prepared}
    adapters = {
        (kind, tag): make() for tag in lists for kind, make in (("fastimg", FastimgPipe), ("dataio", DataioPipe))
    }
    started = []
    try:
        for (kind, tag), a in adapters.items():
            try:
                a.setup(threads)
            except ImportError as exc:  # the bench extra is missing: n/a rows, not a failed run
                print(f"  {kind}: {exc}", flush=True)
                return {}
            a.start(lists[tag], spec, 64)
            started.append(a)
        calls = {f"{k}_{t}": (lambda a=a, p=lists[t]: a.run_epoch(p, spec, 64, 0)) for (k, t), a in adapters.items()}
        times, _ = measure(calls, plan)
    finally:
        for a in started:
            a.stop()
            a.teardown()
    best = {k: min(v) for k, v in times.items()}
    return {tag: best[f"dataio_{tag}"] / best[f"fastimg_{tag}"] for tag in lists}


def loader_alone(plan: Plan) -> dict[str, float]:
    """fastimg.Loader against DataLoader(2 workers) + Pillow (the training section's loaders), epochs of the
    training ImageFolder as generated and prepared: DataLoader time / fastimg time."""
    from adapters.train_loaders import FastimgLoader, TorchLoader
    from training_data import training_set

    root = Path(training_set().root)
    prepared_root = root.parent / f"{root.name}-prepared"
    _prepare_once(root, prepared_root)
    out = {}
    for tag, folder in (("orig", root), ("prep", prepared_root)):
        loaders = [TorchLoader(str(folder)), FastimgLoader(str(folder))]
        try:
            calls = {lo.key: (lambda lo=lo: sum(len(x) for x, _ in lo.epoch_iter())) for lo in loaders}
            times, _ = measure(calls, plan)
        finally:
            for lo in loaders:
                lo.close()
        out[tag] = min(times["torch"]) / min(times["fastimg"])
    return out


def goal_rows(rows: list[dict[str, Any]], dataio: dict[str, dict[str, float]], loader: dict[str, float]) -> list:
    goals = []
    for r in rows:
        label = SETS[r["set"]]
        for name, what in (("rrc", "RandomResizedCrop"), ("eval", "Resize(256)+CenterCrop(224)")):
            value, goal = r[f"{name}_floor_prep"], GOALS[(r["set"], name)]
            goals.append(
                {
                    "what": f"{label}, prepared: {what} CPU / YUV decode",
                    "ratio": value,
                    "goal": goal,
                    "at_most": True,
                    "status": report.goal_status(value, goal, at_most=True),
                }
            )
        if "prep" in dataio.get(r["set"], {}):
            value, goal = dataio[r["set"]]["prep"], GOALS[(r["set"], "dataio")]
            goals.append(
                {
                    "what": f"{label}, prepared: RandomResizedCrop vs dataio-rs",
                    "ratio": value,
                    "goal": goal,
                    "status": report.goal_status(value, goal),
                }
            )
        goals.append(
            {
                "what": f"{label}: prepared size / original",
                "ratio": r["size_ratio"],
                "goal": SIZE_GOAL,
                "at_most": True,
                "status": report.goal_status(r["size_ratio"], SIZE_GOAL, at_most=True),
            }
        )
        if "progressive_rrc" in r:
            value = r["progressive_rrc"]
            goals.append(
                {
                    "what": f"{label}: progressive files after / before preparation (RandomResizedCrop)",
                    "ratio": value,
                    "goal": PROGRESSIVE_GOAL,
                    "at_most": True,
                    "status": report.goal_status(value, PROGRESSIVE_GOAL, at_most=True),
                }
            )
    if "prep" in loader:
        goals.append(
            {
                "what": "loader alone vs DataLoader(2) + Pillow, prepared files",
                "ratio": loader["prep"],
                "goal": LOADER_GOAL,
                "status": report.goal_status(loader["prep"], LOADER_GOAL),
            }
        )
    return goals


def render(rows: list, dataio: dict, loader: dict, rates: dict, sets: dict, info: dict, quick: bool) -> str:
    lines = report.header("restart intervals: the same files before and after `prepare`", info, quick, "restarts")
    lines += [*[f"- {SETS[name]}: {s.describe()}" for name, s in sets.items()], ""]
    table = []
    for r in rows:
        d = dataio.get(r["set"], {})
        for tag, label in (("orig", "as generated"), ("prep", "prepared")):
            cells = [f"{r['cpu_us'][f'{n}_{tag}']:.0f} ({r[f'{n}_floor_{tag}']:.2f}x)" for n in TRANSFORMS]
            vs = f"{d[tag]:.2f}x" if tag in d else "n/a"
            table.append([SETS[r["set"]], label, f"{r['cpu_us'][f'yuv_{tag}']:.0f}", *cells, vs])
    columns = ["set", "files", "YUV decode us", "RRC us (x YUV)", "Resize+CenterCrop us (x YUV)", "RRC vs dataio-rs"]
    lines += [report.markdown_table(columns, table), ""]
    for r in rows:
        lines.append(
            f"- {SETS[r['set']]}: prepared size {r['size_ratio']:.3f}x the originals'"
            + (
                f"; progressive files after/before: RandomResizedCrop {r['progressive_rrc']:.2f}x, whole "
                f"decode {r['progressive_decode']:.2f}x"
                if "progressive_rrc" in r
                else ""
            )
        )
    if loader:
        lines.append(
            f"- loader alone, DataLoader(2) + Pillow time / fastimg.Loader time: as generated "
            f"{loader['orig']:.2f}x, prepared {loader['prep']:.2f}x"
        )
    rate = ", ".join(f"{k} {v:.0f} files/s" for k, v in rates.items())
    lines += [f"- preparing ImageNet-sized files on 2 threads: {rate}", ""]
    lines += report.goals_section(goal_rows(rows, dataio, loader), list_all=True)
    return "\n".join(lines).rstrip()


def run(quick: bool = False) -> None:
    all_sets = image_sets()
    sets = {name: all_sets[name] for name in SETS}
    prepared = {name: prepared_paths(s) for name, s in sets.items()}
    if quick:
        sets = {name: s.subset(16 if name == "imagenet" else 4) for name, s in sets.items()}
        prepared = {name: p[: len(sets[name].paths)] for name, p in prepared.items()}
    info = report.machine_info(PACKAGES)
    plan = Plan(max_rounds=1 if quick else 100, min_rounds=1 if quick else 3, budget_s=0.0 if quick else 20.0)
    tj = TurboJpeg()
    rows, dataio = [], {}
    try:
        for name, image_set in sets.items():
            t = time.perf_counter()
            rows.append(measure_set(image_set, prepared[name], tj, plan))
            dataio[name] = versus_dataio(image_set.paths, prepared[name], plan)
            print(f"  {name}: {time.perf_counter() - t:.1f} s", flush=True)
    finally:
        tj.close()
    loader = loader_alone(plan)
    rates = throughput(sets["imagenet"].paths[:64])
    report.finish_machine_info(info)
    data = {"section": "restarts", "quick": quick, "machine": info, "rows": rows, "dataio": dataio}
    data.update(loader=loader, prepare_files_per_s=rates)
    report.publish("restarts", render(rows, dataio, loader, rates, sets, info, quick), data)
