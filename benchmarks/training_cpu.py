"""CPU time and minor page faults of the training process plus a loader's worker processes, for per-image
accounting: getrusage for this process (every thread), /proc/<pid>/stat for live workers. Where cores are
saturated, images/s ~ cores / CPU seconds per image, so these figures explain the throughput ratios even on
a machine whose other load makes wall times noisy."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class CpuSample:
    user_s: float = 0.0
    sys_s: float = 0.0
    minflt: int = 0

    def __sub__(self, other: CpuSample) -> CpuSample:
        return CpuSample(self.user_s - other.user_s, self.sys_s - other.sys_s, self.minflt - other.minflt)

    def __add__(self, other: CpuSample) -> CpuSample:
        return CpuSample(self.user_s + other.user_s, self.sys_s + other.sys_s, self.minflt + other.minflt)


def _proc(pid: int) -> CpuSample:
    try:
        rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return CpuSample()
    # fields after "(comm)": state, ppid, pgrp, session, tty, tpgid, flags, minflt (7), ..., utime (11), stime (12)
    return CpuSample(int(rest[11]) / _TICK, int(rest[12]) / _TICK, int(rest[7]))


def sample(worker_pids: list[int]) -> dict[int, CpuSample]:
    """Per process (key 0: this one) CPU so far; workers by pid, so a worker that appears later counts from 0."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out = {0: CpuSample(ru.ru_utime, ru.ru_stime, ru.ru_minflt)}
    for pid in worker_pids:
        out[pid] = _proc(pid)
    return out


def used(before: dict[int, CpuSample], after: dict[int, CpuSample]) -> CpuSample:
    total = CpuSample()
    for pid, end in after.items():
        total = total + (end - before.get(pid, CpuSample()))
    return total
