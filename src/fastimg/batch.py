"""load_batch: encoded images to one normalised batch in a single native call."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple, Optional

import numpy as np

from . import _core
from ._buffers import POOL
from ._sources import ItemError, item_errors, normalize_sources, on_error_arg, raise_first
from ._validate import INDEX_LIMIT, seed_and_epoch, threads_arg
from .decode import OnError
from .transforms import Transform


class _BatchFields(NamedTuple):
    images: np.ndarray
    indices: np.ndarray
    errors: list[ItemError]


class Batch(_BatchFields):
    """``images``: the good items in order ((k, C, H, W) or (k, H, W, C)); ``indices``: their sample
    indices (int64); ``errors``: the failed items (always empty under on_error="raise"). ``warnings``
    (an attribute, not a field: the tuple stays (images, indices, errors)): items delivered despite
    recoverable damage under ``Transform(strict=False)``, as ItemError records."""

    warnings: Sequence[ItemError] = ()

    def __new__(
        cls, images: np.ndarray, indices: np.ndarray, errors: list[ItemError], warnings: Sequence[ItemError] = ()
    ) -> Batch:
        self = super().__new__(cls, images, indices, errors)
        self.warnings = list(warnings)
        return self


def _bad_index(position: int, value: Any) -> ValueError:
    return ValueError(f"indices[{position}] must be a non-negative integer below 2**63, got {value!r}")


def index_list_arg(indices: Any, count: int) -> list[int]:
    """``indices`` as a list of ``count`` non-negative ints (default 0..count-1). Ranges and integer arrays are
    checked whole: the per-item check costs ~0.4 us an item, a tenth of a 32-px image's whole pipeline."""
    if indices is None:
        return list(range(count))
    if isinstance(indices, range):
        for position in (0, len(indices) - 1) if len(indices) else ():
            if not 0 <= indices[position] < INDEX_LIMIT:
                raise _bad_index(position, indices[position])
        index_list = list(indices)
    elif (
        isinstance(indices, (list, tuple))
        or not hasattr(indices, "__array__")
        or getattr(indices, "dtype", None) == np.dtype(object)
    ):
        if not hasattr(indices, "__iter__") or isinstance(indices, (str, bytes)):
            raise TypeError(f"indices must be a sequence of ints, one per source, got {type(indices).__name__}")
        index_list = list(indices)
        for position, i in enumerate(index_list):
            if type(i) is not int:  # numpy integers and other Integrals (not bools) count as their value
                if isinstance(i, bool) or not isinstance(i, numbers.Integral):
                    raise _bad_index(position, i)
                index_list[position] = int(i)
            if not 0 <= index_list[position] < INDEX_LIMIT:
                raise _bad_index(position, i)
    else:  # numpy arrays, torch tensors: checked as one array
        array = np.asarray(indices)
        if array.size == 0 and array.ndim == 1:
            array = array.astype(np.int64)
        if array.ndim != 1 or array.dtype.kind not in "iu":
            raise TypeError(f"indices must be one-dimensional integers, got {array.dtype} of shape {array.shape}")
        bad = (array < 0) | (array >= INDEX_LIMIT) if array.dtype.kind == "u" else array < 0
        if bad.any():
            position = int(np.argmax(bad))
            raise _bad_index(position, array[position].item())
        index_list = array.tolist()
    if len(index_list) != count:
        raise ValueError(f"got {count} sources but {len(index_list)} indices")
    return index_list


def _output(out: Any, transform: Transform, count: int) -> np.ndarray:
    shape = transform.batch_shape(count)
    if out is None:
        return POOL.empty(shape, transform.numpy_dtype)
    array = out.numpy() if hasattr(out, "numpy") and not isinstance(out, np.ndarray) else out
    if not isinstance(array, np.ndarray):
        raise TypeError(f"out must be a numpy array (or a CPU torch tensor), got {type(out).__name__}")
    if array.dtype != transform.numpy_dtype or array.ndim != 4 or array.shape[1:] != shape[1:] or len(array) < count:
        raise ValueError(
            f"out must have dtype {transform.numpy_dtype} and shape ({count} or more, "
            f"{', '.join(map(str, shape[1:]))}), got {array.dtype} {array.shape}"
        )
    if not array.flags.c_contiguous or not array.flags.writeable:
        raise ValueError("out must be writable and C-contiguous")
    return array


def load_batch(
    sources: Any,
    transform: Transform,
    *,
    seed: int = 0,
    epoch: int = 0,
    indices: Optional[Any] = None,
    out: Any = None,
    on_error: OnError = "raise",
    num_threads: Optional[int] = None,
) -> Batch:
    """Decodes and transforms every one of ``sources`` (paths, bytes-like objects or 1-D uint8 arrays)
    with ``transform`` into one batch, in one native call on ``num_threads`` threads with the GIL released.

    Randomness for item i depends only on (seed, epoch, indices[i]) (default indices: 0..n-1), so results
    do not depend on thread count or batch split. ``out`` receives the batch without a copy (e.g. pinned
    torch memory). ``on_error="raise"``: the first failure raises (OSError subclass for unreadable paths,
    DecodeError for bad content); ``"skip"``: failed items are left out and recorded in ``errors``.
    """
    if not isinstance(transform, Transform):
        raise TypeError(f"transform must be a fastimg.Transform, got {type(transform).__name__}")
    raise_errors = on_error_arg(on_error)
    items = normalize_sources(sources)
    seed_v, epoch_v = seed_and_epoch(seed, epoch)
    return run_batch(
        items, index_list_arg(indices, len(items)), transform, seed_v, epoch_v, out, raise_errors, num_threads
    )


def run_batch(
    items: list[Any],
    index_list: list[int],
    transform: Transform,
    seed: int,
    epoch: int,
    out: Any,
    raise_errors: bool,
    num_threads: Optional[int],
    *,
    direct_io: bool = False,
    read_back: Optional[dict[int, bytes]] = None,
) -> Batch:
    """load_batch past its argument checks, with the read options of a dataset's sources: ``direct_io``
    for the files the workers read, and ``read_back`` (a dict) to receive {position: bytes} of each file
    they read, for a cache."""
    array = _output(out, transform, len(items))
    good, failed, warned, files = _core.run_pipeline(
        items,
        index_list,
        transform._spec,
        seed,
        epoch,
        array,
        threads_arg(num_threads),
        raise_errors,
        direct_io,
        read_back is not None,
    )
    if read_back is not None:
        read_back.update((pos, data) for pos, data in enumerate(files) if data is not None)
    if raise_errors:
        raise_first(items, index_list, failed)
    kept = np.asarray(index_list, dtype=np.int64)
    if len(good) != len(kept):
        kept = kept[np.asarray(good, dtype=np.intp)]
    return Batch(
        array[: len(good)], kept, item_errors(items, index_list, failed), item_errors(items, index_list, warned)
    )
