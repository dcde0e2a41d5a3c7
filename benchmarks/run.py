"""`make bench`: fastimg against the alternatives, one section at a time.

    .venv/bin/python benchmarks/run.py [ops|pipeline|floor|training|accuracy|shards|all] [--quick]

Each section prints its report and writes benchmarks/results/<section>.md and .json; the reports are tables
rendered by report.py from the run's data, the method is docs/benchmarks.md. To add a section, write a
module with run(quick: bool), register it in SECTIONS and describe its method there.
"""

from __future__ import annotations

import argparse
import time
from typing import Callable

import bench_accuracy
import bench_floor
import bench_ops
import bench_pipeline
import bench_shards
import bench_training

SECTIONS: dict[str, Callable[[bool], None]] = {
    "ops": bench_ops.run,
    "pipeline": bench_pipeline.run,
    "floor": bench_floor.run,
    "training": bench_training.run,
    "accuracy": bench_accuracy.run,
    "shards": bench_shards.run,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", nargs="?", default="all", choices=[*SECTIONS, "all"])
    parser.add_argument("--quick", action="store_true", help="small batches, 1 round: a smoke test, not numbers")
    args = parser.parse_args()
    start = time.perf_counter()
    for name, run in SECTIONS.items():
        if args.section in (name, "all"):
            print(f"== {name}", flush=True)
            run(args.quick)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
