"""Peak memory of a training loop and its loader, sampled from /proc every 20 ms on a background thread.

ru_maxrss cannot tell loaders apart when they run in one process (it is the lifetime peak), so each stretch
of work is attributed to one loader: the training process's resident set (VmRSS) plus that loader's worker
processes. Forked workers share most of their pages (the interpreter, torch's libraries) with the training
process, so two sums are kept: RSS (main + every worker's RSS, counts shared pages once per process: an upper
bound) and footprint (main RSS + each worker's private pages from smaps_rollup: what the workers add).
Linux only; elsewhere the peaks stay None."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Callable

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss(pid: int | str) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def _private(pid: int) -> int | None:
    """Private_Clean + Private_Dirty (+ private swap is ignored) of a process, bytes."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    total = 0
    for line in text.splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1]) * 1024
    return total


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
        if key is None:
            return
        main = _rss("self")
        if main is None:
            return
        pids = pids_fn()
        rss = [r for r in map(_rss, pids) if r is not None]
        private = [p for p in map(_private, pids) if p is not None]
        peak = self.peaks.setdefault(
            key, {"rss_bytes": 0, "footprint_bytes": 0, "main_rss_bytes": 0, "workers": 0, "samples": 0}
        )
        peak["rss_bytes"] = max(peak["rss_bytes"], main + sum(rss))
        peak["footprint_bytes"] = max(peak["footprint_bytes"], main + sum(private))
        peak["main_rss_bytes"] = max(peak["main_rss_bytes"], main)
        peak["workers"] = max(peak["workers"], len(pids))
        peak["samples"] += 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()
