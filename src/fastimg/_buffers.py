"""Recycled output buffers. A batch of 64 float32 224x224 images is 38.5 MB: above glibc's largest mmap
threshold (32 MiB), so every fresh numpy array of that size is a new mapping whose first touch faults in and
zeroes ~9,400 pages (about a tenth of the pipeline's time, measured). The pool hands back arrays whose
only remaining reference is its own: a batch the caller still holds -- the array, any view of it, a torch
tensor from ``torch.from_numpy``, a memoryview -- keeps a reference to the buffer and is never reused."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import numpy as np

# Below this, malloc's heap already recycles freed memory without page faults.
MIN_BYTES = 1 << 20
# Enough for a training loop holding one batch while the next fills, plus a Loader's prefetch; a pooled
# buffer nobody holds costs its size in idle memory, so the pool stays small.
MAX_BUFFERS = 4
# References to a pooled buffer that nobody else holds: the pool's list, the loop variable, the
# getrefcount argument.
_FREE_REFCOUNT = 3
# The native output write uses 32-byte streaming stores where every item starts on a 32-byte boundary;
# malloc's large blocks start 16 bytes past a page, so numpy's own arrays never qualify.
ALIGNMENT = 64


def _aligned(raw: np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """The `shape` array at the first ALIGNMENT boundary of the byte buffer `raw` (its base is `raw`)."""
    offset = -raw.ctypes.data % ALIGNMENT
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    return raw[offset : offset + nbytes].view(dtype).reshape(shape)


def aligned_empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """np.empty(shape, dtype), starting on an ALIGNMENT boundary."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    return _aligned(np.empty(nbytes + ALIGNMENT, np.uint8), shape, dtype)


class BufferPool:
    def __init__(self, max_buffers: int = MAX_BUFFERS) -> None:
        self.max_buffers = max_buffers
        self._buffers: list[tuple[np.ndarray, np.dtype, tuple[int, ...]]] = []
        self._lock = threading.Lock()

    def empty(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An uninitialised C-contiguous array of `shape` starting on an ALIGNMENT boundary: a released
        buffer with the same item shape and room for shape[0] items when there is one, else a new one.
        Pooled buffers are byte arrays; what the caller gets is a view, so holding it holds the buffer."""
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if nbytes < MIN_BYTES or not shape:
            return aligned_empty(shape, dtype)
        item_shape = tuple(shape[1:])
        with self._lock:
            for raw, raw_dtype, raw_item_shape in self._buffers:
                if (
                    raw_dtype == dtype
                    and raw_item_shape == item_shape
                    and raw.nbytes >= nbytes + ALIGNMENT
                    and sys.getrefcount(raw) == _FREE_REFCOUNT
                ):
                    return _aligned(raw, shape, dtype)
            raw = np.empty(nbytes + ALIGNMENT, np.uint8)
            if len(self._buffers) >= self.max_buffers:
                self._drop_one()
            self._buffers.append((raw, dtype, item_shape))
            return _aligned(raw, shape, dtype)

    def _drop_one(self) -> None:
        # Forget a released buffer first (its memory goes back), else the oldest one (its holder keeps it).
        for i, (raw, _, _) in enumerate(self._buffers):
            if sys.getrefcount(raw) == _FREE_REFCOUNT:
                del self._buffers[i]
                return
        del self._buffers[0]

    def clear(self) -> None:
        with self._lock:
            self._buffers.clear()

    def _after_fork(self) -> None:
        # The parent's lock may have been held by another thread at fork time.
        self._lock = threading.Lock()


POOL = BufferPool()


def batch_tensor(transform: Any, count: int, pinned: bool) -> tuple[Any, np.ndarray]:
    """A batch's torch tensor and a numpy array over the same memory, for the native call to fill: pinned
    memory for copies to an accelerator, else a pooled array. The tensor wraps the array, not the other way
    round: arrays a producer thread drops then never free a tensor, whose deallocation releases the GIL
    inside torch and, on a daemon thread at interpreter exit, aborts."""
    import torch

    shape = transform.batch_shape(count)
    if pinned:
        dtype = {"float32": torch.float32, "float16": torch.float16, "uint8": torch.uint8}[transform.dtype]
        tensor = torch.empty(shape, dtype=dtype, pin_memory=True)
        return tensor, tensor.numpy()
    out = POOL.empty(shape, transform.numpy_dtype)
    return torch.from_numpy(out), out


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=POOL._after_fork)
