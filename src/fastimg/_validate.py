"""Argument normalisation shared by the public API: turns user input into the exact shapes the native
core accepts, and raises TypeError/ValueError naming the offending index and value."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

Size = tuple[int, int]


def as_int(value: Any) -> Optional[int]:
    """An int from Python, numpy or torch integers (0-d tensors included); None for anything else
    (bools and floats too)."""
    if isinstance(value, (bool, np.bool_, float, np.floating)):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def int_arg(value: Any, name: str, *, minimum: int = 0, limit: Optional[int] = None) -> int:
    """``value`` as an int at least ``minimum`` and, when given, below ``limit`` (a power of two):
    Python, numpy and 0-d torch integers are accepted, bools and floats are not. Raises ValueError
    naming ``name`` and the value."""
    result = as_int(value)
    if result is None or result < minimum:
        wanted = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    if limit is not None and result >= limit:
        raise ValueError(f"{name} must be below 2**{limit.bit_length() - 1}, got {value!r}")
    return result


# Epochs travel to the core as uint64, sample indices as int64.
EPOCH_LIMIT = 1 << 64
INDEX_LIMIT = 1 << 63
_SEED_MODULUS = 1 << 64


def epoch_arg(value: Any, name: str = "epoch") -> int:
    """An epoch: a non-negative integer below 2**64 (0-d torch integers included). Raises ValueError."""
    return int_arg(value, name, limit=EPOCH_LIMIT)


def seed_arg(value: Any, name: str = "seed") -> int:
    """A seed as every route keys randomness with it: any non-negative integer, reduced modulo 2**64
    (the core's seeds are 64-bit), so a seed past 2**63 gives the same pixels and order through
    ``load_batch``, the datasets and the loaders. Raises ValueError for negatives and non-integers."""
    return int_arg(value, name) % _SEED_MODULUS


def seed_and_epoch(seed: Any, epoch: Any) -> tuple[int, int]:
    """The (seed, epoch) pair that keys every sample's randomness, as the core takes them: ``seed_arg``
    and ``epoch_arg``."""
    return seed_arg(seed), epoch_arg(epoch)


def _packed_rows(img: np.ndarray) -> bool:
    channels = img.shape[2] if img.ndim == 3 else 1
    inner_ok = img.ndim == 2 or img.strides[2] == 1
    return inner_ok and img.strides[1] == channels and img.strides[0] > 0


def image_list(images: Any, name: str = "images") -> list[np.ndarray]:
    """A list of uint8 (H, W) / (H, W, 1|3|4) arrays, each with packed rows (strided rows are kept as
    views; any other layout is copied once)."""
    if isinstance(images, np.ndarray):
        if images.ndim != 4:
            raise ValueError(f"{name}: a single array must be a (B, H, W, C) batch, got shape {images.shape}")
        items: Sequence[Any] = list(images)
    elif isinstance(images, (list, tuple)):
        items = images
    else:
        raise TypeError(f"{name}: expected a list of numpy arrays or a (B, H, W, C) array, got {type(images).__name__}")
    out = []
    for i, img in enumerate(items):
        if not isinstance(img, np.ndarray):
            raise TypeError(f"{name}[{i}]: expected a numpy array, got {type(img).__name__}")
        if img.dtype != np.uint8:
            raise TypeError(f"{name}[{i}]: expected dtype uint8, got {img.dtype}")
        if img.ndim not in (2, 3):
            raise ValueError(f"{name}[{i}]: expected shape (H, W) or (H, W, C), got {img.shape}")
        if img.ndim == 3 and img.shape[2] not in (1, 3, 4):
            raise ValueError(f"{name}[{i}]: expected 1, 3 or 4 channels, got {img.shape[2]} (shape {img.shape})")
        if img.shape[0] == 0 or img.shape[1] == 0:
            raise ValueError(f"{name}[{i}]: empty image of shape {img.shape}")
        out.append(img if _packed_rows(img) else np.ascontiguousarray(img))
    return out


def _int_pair(value: Any, what: str) -> Size:
    try:
        a, b = value
    except (TypeError, ValueError):
        raise TypeError(f"{what}: expected a (width, height) pair, got {value!r}") from None
    ia, ib = as_int(a), as_int(b)
    if ia is None or ib is None:
        raise TypeError(f"{what}: expected integers, got {value!r}")
    if ia <= 0 or ib <= 0:
        raise ValueError(f"{what}: sizes must be positive, got {value!r}")
    return ia, ib


def _is_pair(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list, np.ndarray)) and len(value) == 2 and all(as_int(v) is not None for v in value)
    )


def size_list(sizes: Any, count: int, name: str = "sizes") -> list[Size]:
    """One (width, height) for all images, or one per image."""
    if _is_pair(sizes):
        pair = _int_pair(sizes, name)
        return [pair] * count
    if not isinstance(sizes, (list, tuple)):
        raise TypeError(f"{name}: expected a (width, height) pair or a list of them, got {sizes!r}")
    if len(sizes) != count:
        raise ValueError(f"got {count} images but {len(sizes)} {name}")
    return [_int_pair(s, f"{name}[{i}]") for i, s in enumerate(sizes)]


def box_list(boxes: Any, count: int) -> list[tuple[int, int, int, int]]:
    """One (x, y, width, height) box for all images, or one per image."""

    def one(box: Any, what: str) -> tuple[int, int, int, int]:
        try:
            x, y, w, h = box
        except (TypeError, ValueError):
            raise TypeError(f"{what}: expected (x, y, width, height), got {box!r}") from None
        values = [as_int(v) for v in (x, y, w, h)]
        if any(v is None for v in values):
            raise TypeError(f"{what}: expected integers, got {box!r}")
        ix, iy, iw, ih = (int(v) for v in values)  # type: ignore[arg-type]
        if iw <= 0 or ih <= 0:
            raise ValueError(f"{what}: width and height must be positive, got {box!r}")
        return ix, iy, iw, ih

    if isinstance(boxes, (tuple, list)) and len(boxes) == 4 and all(as_int(v) is not None for v in boxes):
        return [one(boxes, "boxes")] * count
    if not isinstance(boxes, (list, tuple)):
        raise TypeError(f"boxes: expected an (x, y, width, height) box or a list of them, got {boxes!r}")
    if len(boxes) != count:
        raise ValueError(f"got {count} images but {len(boxes)} boxes")
    return [one(b, f"boxes[{i}]") for i, b in enumerate(boxes)]


def swapped_hint(img: np.ndarray, w: int, h: int, x: int = 0, y: int = 0) -> str:
    """A note for a (width, height) that fails in one axis only and would fit swapped: the other common
    size order, torchvision's (height, width), was probably meant."""
    width, height = img.shape[1], img.shape[0]
    fits = x + w <= width and y + h <= height
    if not fits and x + h <= width and y + w <= height and w != h:
        return f"; sizes here are (width, height): did you mean ({h}, {w})?"
    return ""


def check_fits(images: list[np.ndarray], sizes: list[Size], what: str = "crop size") -> None:
    for i, (img, (w, h)) in enumerate(zip(images, sizes)):
        if w > img.shape[1] or h > img.shape[0]:
            raise ValueError(
                f"images[{i}]: {what} {w}x{h} (width x height) does not fit in the {img.shape[1]}x{img.shape[0]} "
                f"image{swapped_hint(img, w, h)}"
            )


def threads_arg(num_threads: Any) -> int:
    if num_threads is None:
        return 0
    value = as_int(num_threads)
    if value is None or value < 1:
        raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}")
    return value
