"""Background: the one way fastimg runs an iterator ahead of its consumer on a thread (the Loader's batch
prefetch, the shard read-ahead). Bounded in items and/or bytes, failures carried to the consumer, every
running one stopped and joined at interpreter exit (a daemon thread still inside native code when the
interpreter finalizes would abort the process: see cpp/bindings/native_call.hpp)."""

from __future__ import annotations

import atexit
import queue
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Optional


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


class Background:
    """Iterates ``source`` on a daemon thread named ``name``, holding at most ``max_items`` items and
    ``max_bytes`` bytes (items' ``nbytes``) not yet taken (always at least one item, however large).
    ``max_items=0``: no thread, ``source`` runs in the consumer's thread on demand. Iterate it for the
    items in order; what the source raised is re-raised after the items made before it. ``close()``
    stops the thread and joins it; an abandoned Background is closed when collected.

    Items cross in chunks of up to ``chunk`` (or what arrived within a millisecond): handed over one by
    one, the two threads traded the GIL for every item, which tripled the cost of a pass over a shard
    (23 vs 6 ms for 320 samples, measured). When the consumer waits, the thread lets it take each chunk
    before going on, instead of keeping the GIL for a whole switch interval (5 ms)."""

    _CHUNK_SECONDS = 0.001

    def __init__(
        self,
        source: Iterable[Any],
        *,
        max_items: Optional[int] = None,
        max_bytes: Optional[int] = None,
        chunk: int = 1,
        name: str = "fastimg-background",
    ) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.chunk = max(1, chunk)
        self.held_items = self.held_bytes = self.peak_bytes = 0
        self._pending: deque[Any] = deque()
        self._closed = False
        self._sync: Optional[Iterator[Any]] = None
        self._thread: Optional[threading.Thread] = None
        if max_items == 0:
            self._sync = iter(source)
            return
        self._cond = threading.Condition()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._waiting = False  # the consumer is blocked on an empty queue
        self._taken = threading.Event()  # ... and has taken what it waited for
        self._thread = threading.Thread(target=self._run, args=(source,), name=name, daemon=True)
        _running.add(self)
        self._thread.start()

    def _full(self, size: int) -> bool:
        if self.held_items == 0:
            return False
        if self.max_items is not None and self.held_items + 1 > self.max_items:
            return True
        return self.max_bytes is not None and self.held_bytes + size > self.max_bytes

    def _hand_over(self, chunk: list[Any]) -> None:
        self._taken.clear()
        self._queue.put(chunk)
        if self._waiting:
            self._taken.wait(0.005)

    def _run(self, source: Iterable[Any]) -> None:
        chunk: list[Any] = []
        started = 0.0
        try:
            for item in source:
                size = getattr(item, "nbytes", 0)
                # Read without the lock: only the consumer changes the counts meanwhile, and only downwards,
                # so this never misses a wait; it can free room only by taking what is handed over here.
                if chunk and self._full(size):
                    self._hand_over(chunk)
                    chunk = []
                with self._cond:
                    while not self._closed and self._full(size):
                        self._cond.wait()
                    if self._closed:
                        return
                    self.held_items += 1
                    self.held_bytes += size
                    self.peak_bytes = max(self.peak_bytes, self.held_bytes)
                if not chunk:
                    started = time.monotonic()
                chunk.append(item)
                if len(chunk) >= self.chunk or time.monotonic() - started >= self._CHUNK_SECONDS:
                    self._hand_over(chunk)
                    chunk = []
        except BaseException as exc:  # re-raised in the consumer, after the items made before it
            chunk.append(_Failure(exc))
        if chunk:
            self._hand_over(chunk)
        self._queue.put(_END)

    def __iter__(self) -> Background:
        return self

    def __next__(self) -> Any:
        if self._sync is not None:
            return next(self._sync)
        if self._closed:
            raise StopIteration
        if not self._pending:
            self._take_chunk()
        item = self._pending.popleft()
        if item is _END:
            self.close()
            raise StopIteration
        if isinstance(item, _Failure):
            self.close()
            raise item.exc
        return item

    def _take_chunk(self) -> None:
        self._waiting = self._queue.empty()
        chunk = self._queue.get()
        if self._waiting:
            self._waiting = False
            self._taken.set()
        if chunk is _END:
            self._pending.append(_END)
            return
        self._pending.extend(chunk)
        size = sum(getattr(item, "nbytes", 0) for item in chunk)
        with self._cond:
            self.held_items -= sum(not isinstance(item, _Failure) for item in chunk)
            self.held_bytes -= size
            self._cond.notify()

    def close(self) -> None:
        """Stops the thread (after the item it is making) and joins it. Idempotent."""
        self._closed = True
        thread = self._thread
        if thread is None:
            return
        with self._cond:
            self._cond.notify_all()
        if thread is not threading.current_thread():
            thread.join()

    def __del__(self) -> None:
        if getattr(self, "_thread", None) is not None:
            self.close()


# Backgrounds whose thread may still run; stopped and joined at exit before finalization begins.
_running: weakref.WeakSet[Background] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for background in list(_running):
        background.close()
