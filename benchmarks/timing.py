"""Interleaved, time-boxed timing: every competitor of a workload runs once per round, so slow drifts of a
shared, noisy machine hit all of them alike."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Plan:
    max_rounds: int = 30
    min_rounds: int = 3
    budget_s: float = 16.0  # per workload; rounds stop after this once min_rounds are done


def measure(calls: dict[str, Callable[[], Any]], plan: Plan) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Times each call: one untimed warm-up (first-touch page faults, thread-pool start-up, lazy init stay
    out of the numbers), then rounds. A call whose warm-up returns NotImplemented is not offered and is
    dropped. Returns seconds per call and each warm-up result, for checking outputs."""
    first = {name: call() for name, call in calls.items()}
    first = {name: result for name, result in first.items() if result is not NotImplemented}
    calls = {name: calls[name] for name in first}
    times: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    share = plan.budget_s / max(1, len(names))
    gc_enabled = gc.isenabled()
    gc.disable()  # as timeit does: a collection would land on whichever competitor allocates at that moment
    start = time.perf_counter()
    try:
        for r in range(plan.max_rounds):
            # Rotate the order so no competitor always follows the same one (cache state, clock boost).
            for name in names[r % len(names) :] + names[: r % len(names)]:
                # A competitor that has used its share of the budget sits out further rounds: a slow one
                # (Pillow at seconds a call) would otherwise leave the close races only min_rounds samples.
                if r >= plan.min_rounds and sum(times[name]) > share:
                    continue
                t0 = time.perf_counter()
                out = calls[name]()
                times[name].append(time.perf_counter() - t0)
                del out  # freeing outputs is not part of the op
            gc.collect()
            if r + 1 >= plan.min_rounds and time.perf_counter() - start > plan.budget_s:
                break
    finally:
        if gc_enabled:
            gc.enable()
    return times, first
