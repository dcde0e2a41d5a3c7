"""Interleaved, time-boxed timing: every competitor of a workload runs once per round, so slow drifts of a
shared, noisy machine hit all of them alike."""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Plan:
    max_rounds: int = 30
    min_rounds: int = 3
    budget_s: float = 16.0  # per workload; rounds stop after this once min_rounds are done


QUICK = Plan(max_rounds=1, min_rounds=1, budget_s=0.0)  # --quick: one round, a smoke test


def measure(
    calls: dict[str, Callable[[], Any]], plan: Plan, clock: Callable[[], float] = time.perf_counter
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Times each call by `clock` (wall time unless told): one untimed warm-up (first-touch page faults,
    thread-pool start-up, lazy init stay out of the numbers), then rounds. A call whose warm-up returns
    NotImplemented is not offered and is dropped. Returns seconds per call and each warm-up result, for
    checking outputs."""
    first = {name: call() for name, call in calls.items()}
    first = {name: result for name, result in first.items() if result is not NotImplemented}
    times: dict[str, list[float]] = {name: [] for name in first}
    names = list(first)
    share = plan.budget_s / max(1, len(names))
    gc_enabled = gc.isenabled()
    gc.disable()  # as timeit does: a collection would land on whichever competitor allocates at that moment
    start = time.perf_counter()
    try:
        for r in range(plan.max_rounds):
            # Rotate the order so no competitor always follows the same one (cache state, clock boost).
            for name in rotated(names, r):
                # A competitor that has used its share of the budget sits out further rounds: a slow one
                # (Pillow at seconds a call) would otherwise leave the close races only min_rounds samples.
                if r >= plan.min_rounds and sum(times[name]) > share:
                    continue
                t0 = clock()
                out = calls[name]()
                times[name].append(clock() - t0)
                del out  # freeing outputs is not part of the op
            gc.collect()
            if r + 1 >= plan.min_rounds and time.perf_counter() - start > plan.budget_s:
                break
    finally:
        if gc_enabled:
            gc.enable()
    return times, first


def rotated(items: list[Any], r: int) -> list[Any]:
    """items started at position r (mod len): round r's order."""
    return items[r % len(items) :] + items[: r % len(items)]


def figures(times: list[float], items: int, base: list[float]) -> dict[str, Any]:
    """A competitor's row figures from its round times and the baseline's: best and median, items/s at the
    best, and the speed-up (competitor time / baseline time) of bests and of medians."""
    best, median = min(times), statistics.median(times)
    out = {"times_s": times, "best_s": best, "median_s": median, "items_per_s": items / best}
    return {**out, "fastimg_speedup": best / min(base), "fastimg_speedup_median": median / statistics.median(base)}
