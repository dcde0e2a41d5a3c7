"""Sources of encoded images and the exceptions raised for the ones that fail."""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np


class ItemError(NamedTuple):
    """One failed item: its sample index, its source (path, or a short description of in-memory
    bytes) and the reason."""

    index: int  # type: ignore[assignment]  # shadows tuple.index, as DESIGN names it
    source: str
    reason: str


class DecodeWarning(UserWarning):
    """Emitted by ``decode_images(..., strict=False)`` for an image delivered despite recoverable damage
    (a bad Huffman code or a JPEG data segment that ends early, mid-scan); the message names the source."""


def normalize_sources(sources: Any) -> list[Any]:
    """Paths (str / os.PathLike) become str; bytes-like objects pass through (the core holds their
    buffers while it runs); anything else is a TypeError naming the position."""
    if isinstance(sources, (str, bytes, os.PathLike)) or not hasattr(sources, "__len__"):
        raise TypeError(f"sources must be a sequence of paths or bytes-like objects, got {type(sources).__name__}")
    out: list[Any] = []
    for i, src in enumerate(sources):
        if isinstance(src, str):
            out.append(src)
        elif isinstance(src, os.PathLike):
            path = os.fspath(src)
            out.append(os.fsdecode(path))
        elif isinstance(src, (bytes, bytearray, memoryview)):
            out.append(src)
        elif isinstance(src, np.ndarray):
            if src.ndim != 1 or src.dtype != np.uint8:
                raise TypeError(
                    f"sources[{i}]: an array of encoded bytes must be 1-D uint8, got {src.dtype} with shape {src.shape}"
                )
            out.append(np.ascontiguousarray(src))
        else:
            raise TypeError(f"sources[{i}]: expected a path or bytes-like object, got {type(src).__name__}")
    return out


def describe(source: Any, position: int) -> str:
    if isinstance(source, str):
        return source
    return f"<{len(memoryview(source).cast('B'))} bytes at position {position}>"


# A failed item as the core reports it: (position, message, exception). The exception's class comes from the
# core's one mapping of error kinds to Python classes (the same one that translates a single call's errors).
RawError = tuple[int, str, BaseException]


def item_errors(sources: list[Any], indices: list[int], raw: list[RawError]) -> list[ItemError]:
    return [ItemError(indices[pos], describe(sources[pos], pos), message) for pos, message, _exc in raw]


def raise_first(sources: list[Any], indices: list[int], raw: list[RawError]) -> None:
    """Raises the exception for the first failed item: OSError subclasses for unreadable paths,
    DecodeError for undecodable content, ValueError for items the transform cannot apply to; the latter
    two name the source and sample index in the message and carry them as attributes."""
    if not raw:
        return
    pos, message, exc = raw[0]
    if isinstance(exc, OSError):
        raise exc
    name = describe(sources[pos], pos)
    located = type(exc)(f"{name} (index {indices[pos]}): {message}")
    located.index = indices[pos]  # type: ignore[attr-defined]
    located.source = name  # type: ignore[attr-defined]
    raise located


def on_error_arg(on_error: str) -> bool:
    """True when failures should stop the call and raise."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    return on_error == "raise"
