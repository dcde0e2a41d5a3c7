"""CPU and memory from /proc (Linux only; elsewhere nothing is reported). CpuMeter: how much CPU the rest of
the machine took while a workload was timed (busy time from /proc/stat minus this process and its children,
plus hypervisor steal: docs/benchmarks.md, machine load). cpu_sample and MemorySampler: CPU time, minor page
faults and peak memory of the training process and a loader's worker processes, each stretch of work
attributed to one loader, since ru_maxrss cannot tell loaders apart in one process (docs/benchmarks.md,
training: CPU ms/image, peak memory, RSS sum)."""

from __future__ import annotations

import os
import resource
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
OTHER_LOAD_WARN = 0.10  # cores of other work (or steal) that make a workload's numbers suspect


def proc_stat(path: str | Path) -> list[str] | None:
    """The fields of a /proc/<pid>/stat after "(comm)": state, ppid (1), ..., minflt (7), ..., utime (11),
    stime (12) in ticks; None when the process is gone."""
    try:
        return Path(path).read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _machine() -> tuple[float, float] | None:
    """(busy, steal) seconds summed over all CPUs since boot."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / TICK, steal / TICK


def _own() -> float:
    """CPU seconds of this process and its children, the ones not reaped yet included."""
    t, me = os.times(), str(os.getpid())
    children = [f for f in map(proc_stat, Path("/proc").glob("[0-9]*/stat")) if f is not None and f[1] == me]
    return (
        t.user + t.system + t.children_user + t.children_system + sum(int(f[11]) + int(f[12]) for f in children) / TICK
    )


class CpuMeter:
    """Measures from its creation, or from start() again, to stop()."""

    def __init__(self) -> None:
        self.start()

    def start(self) -> None:
        self._start = (time.perf_counter(), _own(), _machine())

    def stop(self) -> dict[str, Any]:
        wall0, own0, machine0 = self._start
        wall, own, machine = time.perf_counter() - wall0, _own() - own0, _machine()
        if machine0 is None or machine is None:
            return {"wall_s": wall, "own_cpu_s": own}
        other = max(0.0, machine[0] - machine0[0] - own)
        steal = machine[1] - machine0[1]
        cores = (other + steal) / wall if wall > 0 else 0.0
        out = {"wall_s": wall, "own_cpu_s": own, "other_cpu_s": other, "steal_s": steal, "other_cores": cores}
        return {**out, "suspect": cores > OTHER_LOAD_WARN}


@dataclass
class CpuSample:
    user_s: float = 0.0
    sys_s: float = 0.0
    minflt: int = 0

    def __sub__(self, other: CpuSample) -> CpuSample:
        return CpuSample(self.user_s - other.user_s, self.sys_s - other.sys_s, self.minflt - other.minflt)

    def __add__(self, other: CpuSample) -> CpuSample:
        return CpuSample(self.user_s + other.user_s, self.sys_s + other.sys_s, self.minflt + other.minflt)


def cpu_sample(worker_pids: list[int]) -> dict[int, CpuSample]:
    """Per process (key 0: this one) CPU so far; workers by pid, so a worker that appears later counts from 0."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out = {0: CpuSample(ru.ru_utime, ru.ru_stime, ru.ru_minflt)}
    for pid in worker_pids:
        f = proc_stat(f"/proc/{pid}/stat")
        out[pid] = CpuSample() if f is None else CpuSample(int(f[11]) / TICK, int(f[12]) / TICK, int(f[7]))
    return out


def cpu_used(before: dict[int, CpuSample], after: dict[int, CpuSample]) -> CpuSample:
    return sum((end - before.get(pid, CpuSample()) for pid, end in after.items()), CpuSample())


def _rss(pid: int | str) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def _private(pid: int) -> int | None:
    """Private_Clean + Private_Dirty (+ private swap is ignored) of a process, bytes."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return None
    return sum(int(line.split()[1]) * 1024 for line in lines if line.startswith(("Private_Clean:", "Private_Dirty:")))


def main_rss() -> int | None:
    return _rss("self")


class MemorySampler:
    def __init__(self, interval_s: float = 0.02) -> None:
        self.interval_s = interval_s
        self.peaks: dict[str, dict[str, Any]] = {}
        self._key: str | None = None
        self._pids: Callable[[], list[int]] = list
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def attribute(self, key: str | None, pids: Callable[[], list[int]] = list) -> None:
        """From now on, samples belong to `key` (None: to nobody); pids() lists its worker processes."""
        with self._lock:
            self._key, self._pids = key, pids
        if key is not None:
            self.sample()

    def sample(self) -> None:
        with self._lock:
            key, pids_fn = self._key, self._pids
        main = None if key is None else _rss("self")
        if key is None or main is None:
            return
        pids = pids_fn()
        rss, private = [r for r in map(_rss, pids) if r], [p for p in map(_private, pids) if p]
        peak = self.peaks.setdefault(
            key, dict.fromkeys(["rss_bytes", "footprint_bytes", "main_rss_bytes", "workers"], 0)
        )
        new = {"rss_bytes": main + sum(rss), "footprint_bytes": main + sum(private), "main_rss_bytes": main}
        for k, v in {**new, "workers": len(pids)}.items():
            peak[k] = max(peak[k], v)
        peak["samples"] = peak.get("samples", 0) + 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()
