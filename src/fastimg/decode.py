"""Decoding encoded images (JPEG, PNG, WebP, BMP, TIFF, ...) to numpy arrays, in parallel."""

from __future__ import annotations

import warnings
from typing import Any, Literal, Optional, overload

import numpy as np
import numpy.typing as npt

from . import _core
from ._sources import DecodeWarning, ItemError, item_errors, normalize_sources, on_error_arg, raise_first
from ._validate import int_arg, threads_arg

OnError = Literal["raise", "skip"]
"""``on_error``: "raise" stops at the first failure and raises it; "skip" leaves failed items out (records them)."""
Mode = Literal["RGB", "L", "RGBA"]

_MODES = {"RGB": _core.PixelFormat.RGB, "L": _core.PixelFormat.L, "RGBA": _core.PixelFormat.RGBA}

# Defined once, in the core's DecodeLimits.
DEFAULT_MAX_PIXELS: int = _core.DEFAULT_MAX_PIXELS
DEFAULT_MAX_SCANS: int = _core.DEFAULT_MAX_SCANS
DEFAULT_MAX_BYTES: int = _core.DEFAULT_MAX_BYTES


@overload
def decode_images(
    sources: Any,
    mode: Mode = ...,
    *,
    max_side: Optional[int] = ...,
    min_size: Optional[tuple[int, int]] = ...,
    apply_exif_orientation: bool = ...,
    num_threads: Optional[int] = ...,
    on_error: Literal["raise"] = ...,
    max_pixels: int = ...,
    max_scans: int = ...,
    max_bytes: int = ...,
    strict: bool = ...,
    errors: Optional[list[ItemError]] = ...,
) -> list[npt.NDArray[np.uint8]]: ...
@overload
def decode_images(
    sources: Any,
    mode: Mode = ...,
    *,
    max_side: Optional[int] = ...,
    min_size: Optional[tuple[int, int]] = ...,
    apply_exif_orientation: bool = ...,
    num_threads: Optional[int] = ...,
    on_error: Literal["skip"],
    max_pixels: int = ...,
    max_scans: int = ...,
    max_bytes: int = ...,
    strict: bool = ...,
    errors: Optional[list[ItemError]] = ...,
) -> list[Optional[npt.NDArray[np.uint8]]]: ...
def decode_images(
    sources: Any,
    mode: Mode = "RGB",
    *,
    max_side: Optional[int] = None,
    min_size: Optional[tuple[int, int]] = None,
    apply_exif_orientation: bool = False,
    num_threads: Optional[int] = None,
    on_error: OnError = "raise",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_scans: int = DEFAULT_MAX_SCANS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    strict: bool = True,
    errors: Optional[list[ItemError]] = None,
) -> Any:
    """Decodes each of ``sources`` (a path, bytes, bytearray, memoryview or 1-D uint8 array) to a uint8
    array: (H, W, 3) for ``mode="RGB"``, (H, W) for "L", (H, W, 4) for "RGBA", in parallel on
    ``num_threads`` threads. ``apply_exif_orientation=True`` rotates/flips as the EXIF tag says.

    ``min_size=(width, height)`` lets the decoder shrink (JPEG: in the DCT domain, 1/2 to 1/8) while keeping the
    image at least that large. ``max_side`` bounds the longer side (DCT shrink, then an area resize).
    Errors: a missing or unreadable path raises the matching OSError subclass; undecodable content raises
    DecodeError naming the source. With ``on_error="skip"`` failed items are None in the result and,
    when an ``errors`` list is given, an ItemError(index, source, reason) is appended to it for each.
    ``strict=False`` delivers JPEGs with recoverable damage inside a scan and PNGs with a bad ancillary
    chunk CRC (as Pillow and OpenCV do) and emits a ``fastimg.DecodeWarning`` naming the source for each;
    truncated files stay errors. Faults Pillow decodes past (a duplicate sBIT, an sRGB beside an iCCP or
    after PLTE, a TIFF StripByteCounts libtiff recalculates) decode in either mode, with a warning under
    ``strict=False``.
    Safety limits, each refused with DecodeError: ``max_pixels`` (checked from the header, before any
    pixel memory is allocated), ``max_scans`` (progressive JPEG scans), ``max_bytes`` (per encoded file).
    """
    raise_errors = on_error_arg(on_error)
    options = decode_options(mode, max_side, min_size, apply_exif_orientation, max_pixels, max_scans, max_bytes, strict)
    return decode_items(normalize_sources(sources), options, num_threads, raise_errors, errors)


def decode_options(
    mode: str = "RGB",
    max_side: Optional[int] = None,
    min_size: Optional[tuple[int, int]] = None,
    apply_exif_orientation: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_scans: int = DEFAULT_MAX_SCANS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    strict: bool = True,
) -> Any:
    """decode_images' arguments as the core's DecodeOptions, checked."""

    def _limit(value: Any, name: str) -> int:  # None: no limit, which the core spells 0
        return 0 if value is None else int_arg(value, name, minimum=1)

    if mode not in _MODES:
        raise ValueError(f"mode must be one of {sorted(_MODES)}, got {mode!r}")
    min_w = min_h = 0
    if min_size is not None:
        try:
            min_w, min_h = (int(v) for v in min_size)
        except (TypeError, ValueError):
            raise TypeError(f"min_size must be a (width, height) pair, got {min_size!r}") from None
        if min_w <= 0 or min_h <= 0:
            raise ValueError(f"min_size must be positive, got {min_size!r}")
    return _core.DecodeOptions(
        mode=_MODES[mode],
        min_width=min_w,
        min_height=min_h,
        max_side=_limit(max_side, "max_side"),
        apply_exif_orientation=bool(apply_exif_orientation),
        limits=_core.DecodeLimits(
            max_pixels=_limit(max_pixels, "max_pixels"),
            max_scans=_limit(max_scans, "max_scans"),
            max_bytes=_limit(max_bytes, "max_bytes"),
            strict=bool(strict),
        ),
    )


def decode_items(
    items: list[Any],
    options: Any,
    num_threads: Optional[int],
    raise_errors: bool,
    errors: Optional[list[ItemError]] = None,
    *,
    direct_io: bool = False,
    read_back: Optional[dict[int, bytes]] = None,
) -> list[Any]:
    """decode_images past its argument checks, with a dataset's read options (as batch.run_batch)."""
    images, failed, warned, files = _core.decode_images(
        items, options, threads_arg(num_threads), raise_errors, direct_io, read_back is not None
    )
    if read_back is not None:
        read_back.update((pos, data) for pos, data in enumerate(files) if data is not None)
    positions = list(range(len(items)))
    if raise_errors:
        raise_first(items, positions, failed)
    if errors is not None:
        errors.extend(item_errors(items, positions, failed))
    for warned_item in item_errors(items, positions, warned):
        warnings.warn(f"{warned_item.source}: {warned_item.reason}", DecodeWarning, stacklevel=3)
    return images
