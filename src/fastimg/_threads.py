"""Thread control: one set of native worker threads shared by every native call."""

from __future__ import annotations

from typing import Optional

from . import _core
from ._validate import int_arg


def set_num_threads(n: int | None) -> None:
    """Sets how many threads native calls use when not given ``num_threads``; ``None`` or 0 restores
    the default ($FASTIMG_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs this process may use).
    Raises ValueError for anything but a non-negative integer or None."""
    _core.set_num_threads(0 if n is None else int_arg(n, "set_num_threads(n)"))


def get_num_threads() -> int:
    """The number of threads native calls use by default. 1 in a process forked after its parent ran
    native work in parallel: the parent's worker threads do not exist there, and DataLoader worker
    processes want one thread each."""
    return _core.get_num_threads()


def threads_in_worker(num_threads: Optional[int]) -> Optional[int]:
    """The native threads a call should use: ``num_threads`` as given, but 1 for ``None`` inside a
    DataLoader worker process (the workers already use the cores: one native thread each). Imports
    torch only when called."""
    if num_threads is not None:
        return num_threads
    from torch.utils.data import get_worker_info

    return 1 if get_worker_info() is not None else None
