"""Thread control: one set of native worker threads shared by every native call."""

from __future__ import annotations

from . import _core


def set_num_threads(n: int | None) -> None:
    """Sets how many threads native calls use when not given ``num_threads``; ``None`` or 0 restores
    the default ($FASTIMG_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs this process may use)."""
    if n is None:
        n = 0
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"set_num_threads: expected a non-negative integer or None, got {n!r}")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """The number of threads native calls use by default. 1 in a process forked after its parent ran
    native work in parallel: the parent's worker threads do not exist there, and DataLoader worker
    processes want one thread each."""
    return _core.get_num_threads()
