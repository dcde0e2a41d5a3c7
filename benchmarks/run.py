"""`make bench`: fastimg against the alternatives, one section at a time.

    .venv/bin/python benchmarks/run.py [ops|pipeline|floor|restarts|augment|training|accuracy|shards|all] [--quick]

Each section prints its report and writes benchmarks/results/<section>.md and .json; the reports are tables
rendered by report.py from the run's data, the method is docs/benchmarks.md. To add a section, write a
module bench_<section>.py with run(quick: bool), add it to SECTIONS and describe its method there.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import time

SECTIONS = [
    "ops",
    "pipeline",
    "floor",
    "restarts",
    "augment",
    "training",
    "accuracy",
    "shards",
]  # module bench_<name> each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", nargs="?", default="all", choices=[*SECTIONS, "all"])
    parser.add_argument("--quick", action="store_true", help="small batches, 1 round: a smoke test, not numbers")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.section != "all":
        print(f"== {args.section}", flush=True)
        importlib.import_module(f"bench_{args.section}").run(args.quick)
        return
    # Each section in a process of its own, as when it runs alone: none inherits the threads, pools, heap
    # layout or memory an earlier one left (the training section measured 1.1 GB RSS and slower steps after
    # the others in one process, 0.6 GB alone).
    for name in SECTIONS:
        subprocess.run([sys.executable, __file__, name, *(["--quick"] if args.quick else [])], check=True)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
