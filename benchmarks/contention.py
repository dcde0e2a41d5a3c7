"""How much CPU the rest of the machine took while a workload was timed: busy time from /proc/stat minus this
process and its children (DataLoader workers), plus hypervisor steal. On a small shared machine a
concurrent build or test run silently halves a 2-thread result; this makes it visible next to the numbers.
Linux only; elsewhere it reports nothing."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
OTHER_LOAD_WARN = 0.10  # cores of other work (or steal) that make a workload's numbers suspect


def _machine() -> tuple[float, float] | None:
    """(busy, steal) seconds summed over all CPUs since boot."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / _TICK, steal / _TICK


def _live_children() -> float:
    """CPU seconds of this process's children that have not been reaped yet."""
    me, total = os.getpid(), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            rest = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(rest[1]) == me:  # fields after "(comm)": state, ppid, ..., utime (12th), stime (13th)
            total += (int(rest[11]) + int(rest[12])) / _TICK
    return total


def _own() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system + _live_children()


class CpuMeter:
    def __init__(self) -> None:
        self._start: tuple[float, float, tuple[float, float] | None] | None = None

    def start(self) -> None:
        self._start = (time.perf_counter(), _own(), _machine())

    def stop(self) -> dict[str, Any]:
        assert self._start is not None, "start() first"
        wall0, own0, machine0 = self._start
        wall, own, machine = time.perf_counter() - wall0, _own() - own0, _machine()
        if machine0 is None or machine is None:
            return {"wall_s": wall, "own_cpu_s": own}
        other = max(0.0, machine[0] - machine0[0] - own)
        steal = machine[1] - machine0[1]
        return {
            "wall_s": wall,
            "own_cpu_s": own,
            "other_cpu_s": other,
            "steal_s": steal,
            "other_cores": (other + steal) / wall if wall > 0 else 0.0,
            "suspect": (other + steal) / wall > OTHER_LOAD_WARN if wall > 0 else False,
        }
