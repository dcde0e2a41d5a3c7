"""The core's parallel runtimes side by side (issue #23): builds of fastimg._core, each run in its own
subprocesses from a throwaway copy of src/fastimg, interleaved, reported as ratios against the first.

    python benchmarks/parallel_runtime.py --variant team=build/a/cpp/_core*.so --variant openmp=... --out r1.json
    python benchmarks/parallel_runtime.py --report r1.json r2.json r3.json   # median [min-max] over runs

Metrics (one subprocess per variant and criterion; native work runs in each before what is measured):
  idle_gap_cpu_ms   CPU (getrusage, all threads) in the 50-ms idle gap after a 2-thread eval batch
  cycle_cpu_ms      CPU per 2-thread eval batch + 50-ms gap; work_cpu_ms: the same batch on 1 thread (the work)
  {eval,train,tiny}_2t_ms, *_speedup   load_batch of 64 camera-like 500x375 JPEGs with imagenet_eval(224)
                    / imagenet_train(224), and of 256 32-px JPEGs with Transform(32): 2-thread wall time, and
                    1-thread / 2-thread time
  matmul_{alone,before,after}_us   torch 256x256 matmul (best of 30 blocks of 100): no fastimg, fastimg
                    imported before / after torch
  fork_ok           an os.fork child of the parent runs load_batch(num_threads=2) (30-s alarm)
  dl_{fork,spawn}_s, *_ok   DataLoader(ImageFolder, batch_size=16, num_workers=2, collate_fn=fastimg.collate)
  exit_ok           interpreter exit while a Loader prefetches: status 0, no "terminate called"
Method and decision: docs/design.md, "Threads"."""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODES = ["idle", "scaling", "torch_alone", "torch_before", "torch_after", "fork", "dl_fork", "dl_spawn", "exit"]
# Lower is better except *_speedup and *_ok (the fraction of runs that completed; exit: 5 runs each).
METRICS = """idle_gap_cpu_ms cycle_cpu_ms work_cpu_ms eval_2t_ms train_2t_ms tiny_2t_ms eval_speedup train_speedup
tiny_speedup matmul_alone_us matmul_before_us matmul_after_us fork_ok dl_fork_s dl_spawn_s dl_fork_ok dl_spawn_ok
exit_ok""".split()  # noqa: SIM905 (three lines, not nineteen)


def cpu_ms() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return 1e3 * (r.ru_utime + r.ru_stime)


def wall_ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return 1e3 * (time.perf_counter() - t)


def best_of(fn, reps: int) -> float:
    """Median wall time of fn() in ms over reps calls."""
    return statistics.median(wall_ms(fn) for _ in range(reps))


def matmul_us(torch) -> float:
    a = torch.randn(256, 256)
    best_of(lambda: a @ a, 200)  # warm-up; then us per matmul, the best of 30 blocks of 100 (other tenants'
    return min(wall_ms(lambda: [a @ a for _ in range(100)]) * 10 for _ in range(30))  # load only adds time)


def child(mode: str, data: Path) -> dict:
    if mode == "torch_alone":
        import torch

        return {"matmul_alone_us": matmul_us(torch)}
    if mode in ("torch_after", "dl_fork", "dl_spawn", "exit"):
        import torch  # imported first, as a training script does
    import fastimg

    assert fastimg._core.__file__.startswith(os.environ["PYTHONPATH"]), fastimg._core.__file__  # the variant's
    files = sorted(str(p) for p in (data / "camera").rglob("*.jpg"))
    tiny = sorted(str(p) for p in (data / "tiny").glob("*.jpg"))
    ev, tr = fastimg.Transform.imagenet_eval(224), fastimg.Transform.imagenet_train(224)
    fastimg.load_batch(files, ev, num_threads=2)  # native work first: the runtime's workers exist
    if mode in ("torch_before", "torch_after"):
        import torch

        return {f"matmul_{mode[6:]}_us": matmul_us(torch)}
    if mode == "idle":
        cpu: dict[str, list[float]] = {"work_cpu_ms": [], "cycle_cpu_ms": [], "idle_gap_cpu_ms": []}
        for _ in range(20):  # alternating: the work alone (the batch on the caller's thread), then batch + gap
            c0 = cpu_ms()
            fastimg.load_batch(files, ev, num_threads=1)
            c1 = cpu_ms()
            fastimg.load_batch(files, ev, num_threads=2)
            c2 = cpu_ms()
            time.sleep(0.05)
            c3 = cpu_ms()
            for k, v in zip(cpu, (c1 - c0, c3 - c1, c3 - c2)):
                cpu[k].append(v)
        return {k: statistics.median(v) for k, v in cpu.items()}
    if mode == "scaling":
        tiny_tf = fastimg.Transform(32, hflip=0.5)
        out = {}
        for name, srcs, t in (("eval", files, ev), ("train", files, tr), ("tiny", tiny, tiny_tf)):
            t1, t2 = (best_of(lambda n=n, s=srcs, t=t: fastimg.load_batch(s, t, num_threads=n), 11) for n in (1, 2))
            out.update({f"{name}_2t_ms": t2, f"{name}_speedup": t1 / t2})
        return out
    if mode == "fork":
        pid = os.fork()
        if pid == 0:
            signal.alarm(30)  # a hang becomes SIGALRM, a failure
            fastimg.load_batch(files, tr, num_threads=2)
            os._exit(0)
        if os.waitpid(pid, 0)[1] != 0:
            raise RuntimeError("the forked child failed")
        return {}
    if mode in ("dl_fork", "dl_spawn"):
        from torch.utils.data import DataLoader

        ds, t0 = fastimg.ImageFolder(data / "camera", ev), time.perf_counter()
        dl = DataLoader(ds, batch_size=16, num_workers=2, collate_fn=fastimg.collate, multiprocessing_context=mode[3:])
        n = sum(len(labels) for _, labels in dl)
        assert n == len(files), n
        return {f"{mode}_s": time.perf_counter() - t0}
    if mode == "exit":
        it = iter(fastimg.Loader(files, batch_size=16, transform=tr, num_threads=2, prefetch=2))
        next(it)
        return {}  # the parent checks the exit; the prefetch thread is inside a native call now
    raise ValueError(mode)


def make_data(root: Path) -> None:
    import numpy as np

    sys.path.insert(0, str(HERE))
    from pipeline_data import make_tiles, synth_image, write_jpeg

    rng = np.random.default_rng(23)
    tiles = make_tiles(rng)
    for i in range(64):
        (root / "camera" / f"c{i % 2}").mkdir(parents=True, exist_ok=True)
        w, h = (500, 375) if i % 3 else (375, 500)
        write_jpeg(root / "camera" / f"c{i % 2}" / f"{i:03d}.jpg", synth_image(rng, tiles, w, h), 90, "4:2:0", False)
    (root / "tiny").mkdir()
    for i in range(256):
        write_jpeg(root / "tiny" / f"{i:03d}.jpg", synth_image(rng, tiles, 32, 32), 90, "4:2:0", False)


def run_child(pkg: Path, mode: str, data: Path) -> dict:
    """The child's figures plus {mode}_ok: 1 if it exited with status 0 (and, at exit, no "terminate called")
    within 180 s, else 0. Exits are run five times (ok: the fraction of clean ones)."""
    env = {**os.environ, "PYTHONPATH": str(pkg)}
    cmd = [sys.executable, __file__, "--child", mode, "--data", str(data)]
    oks, out = [], {}
    for _ in range(5 if mode == "exit" else 1):
        try:
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired as e:
            p = subprocess.CompletedProcess(cmd, -9, "", f"hung: {e}")
        oks.append(p.returncode == 0 and "terminate called" not in p.stderr)
        if oks[-1]:
            out = json.loads(p.stdout.strip().splitlines()[-1])
        else:
            print(f"{pkg.name} {mode} failed ({p.returncode}):\n{p.stderr[-2000:]}", file=sys.stderr)
    return {**out, f"{mode}_ok": sum(oks) / len(oks)}


def measure(variants: dict[str, Path], reps: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="fastimg-runtime-"))
    try:
        make_data(tmp / "data")
        pkgs = {}
        for name, so in variants.items():
            pkgs[name] = tmp / name
            skip = shutil.ignore_patterns("__pycache__", "_core.*.so")
            shutil.copytree(HERE.parent / "src" / "fastimg", pkgs[name] / "fastimg", ignore=skip)
            shutil.copy(so, pkgs[name] / "fastimg")
        runs: dict[str, list[dict]] = {name: [] for name in variants}
        for rep in range(reps):
            for mode in MODES:
                for name in random.sample(list(variants), len(variants)):  # interleaved, order shuffled
                    runs[name].append(run_child(pkgs[name], mode, tmp / "data"))
            print(f"rep {rep + 1}/{reps} done", file=sys.stderr)
    finally:
        shutil.rmtree(tmp)
    # Per variant and metric: the median over reps.
    return {
        name: {m: statistics.median(r[m] for r in rs if m in r) for m in {k for r in rs for k in r}}
        for name, rs in runs.items()
    }


def report(results: list[dict]) -> None:
    names = list(results[0])
    base = names[0]
    head = f"{'metric':18} " + " ".join(f"{n:>14}" for n in names)
    head += " ".join(f"  {n + '/' + base:>22}" for n in names[1:])
    print(head)
    for metric in METRICS:
        vals = {n: [r[n].get(metric, float("nan")) for r in results] for n in names}
        row = f"{metric:18} " + " ".join(f"{statistics.median(vals[n]):14.3g}" for n in names)
        for n in names[1:]:
            ratios = [a / b if b else float("nan") for a, b in zip(vals[n], vals[base])]
            row += f"  {statistics.median(ratios):8.3f} [{min(ratios):.3f}-{max(ratios):.3f}]"
        print(row)
    print(f"{len(results)} run(s): each cell the median over runs; ratios: median [min-max] over runs")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=PATH_TO__core.so")
    ap.add_argument("--reps", type=int, default=2, help="interleaved repetitions within the run")
    ap.add_argument("--out", help="JSON file for this run's figures")
    ap.add_argument("--report", nargs="+", help="render the table of earlier runs' JSON files")
    ap.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data)), flush=True)
        return
    if args.report:
        report([json.loads(Path(f).read_text()) for f in args.report])
        return
    variants = {v.split("=", 1)[0]: Path(v.split("=", 1)[1]).resolve() for v in args.variant}
    results = measure(variants, args.reps)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    report([results])


if __name__ == "__main__":
    main()
