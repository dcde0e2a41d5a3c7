"""Batched image operations on numpy arrays. Sizes are (width, height), as in OpenCV and trainingsample.

Every function takes a list of uint8 arrays (H, W) or (H, W, C) with C in 1, 3, 4 -- or one (B, H, W, C)
array -- and returns a list of new arrays (views into one contiguous batch when all outputs share a
shape), or with ``stack=True`` that (B, h, w, C) batch itself. The work runs in C++ with the GIL
released, across images and across rows of large images; results do not depend on the thread count.
"""

from __future__ import annotations

import random
from typing import Any, Literal, Optional, Union, overload

import numpy as np
import numpy.typing as npt

from . import _core
from ._validate import Size, as_int, box_list, check_fits, image_list, seed_arg, size_list, swapped_hint, threads_arg

_INTERPOLATIONS = {
    "nearest": _core.Interpolation.NEAREST,
    "bilinear": _core.Interpolation.BILINEAR,
    "linear": _core.Interpolation.BILINEAR,
    "bicubic": _core.Interpolation.BICUBIC,
    "cubic": _core.Interpolation.BICUBIC,
    "area": _core.Interpolation.AREA,
    "lanczos4": _core.Interpolation.LANCZOS4,
    "lanczos": _core.Interpolation.LANCZOS4,
}
# OpenCV's cv2.INTER_* codes, accepted so code written for cv2 or trainingsample keeps working.
_CV2_CODES = {0: "nearest", 1: "bilinear", 2: "bicubic", 3: "area", 4: "lanczos4"}

INTER_NEAREST, INTER_LINEAR, INTER_CUBIC, INTER_AREA, INTER_LANCZOS4 = 0, 1, 2, 3, 4

ImageArray = npt.NDArray[np.uint8]
"""A uint8 image, (H, W) or (H, W, C), or a (B, H, W, C) batch of them: what every op takes and returns."""
Images = Union[list[ImageArray], tuple[ImageArray, ...], ImageArray]
"""A batch of images: a list (or tuple) of (H, W) / (H, W, C) arrays, or one (B, H, W, C) array."""
InterpolationName = Literal["nearest", "bilinear", "linear", "bicubic", "cubic", "area", "lanczos4", "lanczos"]
Interpolation = Optional[Union[InterpolationName, int, np.integer[Any]]]
"""None (automatic), a name (any letter case at run time; the lower-case spelling for a type checker) or a
cv2.INTER_* code 0-4 (INTER_NEAREST ... INTER_LANCZOS4)."""


def _interpolation(value: Any) -> Any:
    if value is None:
        return _core.Interpolation.AUTO
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and int(value) in _CV2_CODES:
        return _INTERPOLATIONS[_CV2_CODES[int(value)]]
    if isinstance(value, str) and value.lower() in _INTERPOLATIONS:
        return _INTERPOLATIONS[value.lower()]
    names = ", ".join(sorted(_INTERPOLATIONS))
    raise ValueError(
        f"interpolation must be None (area to shrink, bilinear to grow), one of {names}, "
        f"or a cv2.INTER_* code 0-4; got {value!r}"
    )


def _outputs(shapes: list[tuple[int, ...]], stack: bool) -> tuple[list[ImageArray], Optional[ImageArray]]:
    """Allocates outputs: one contiguous batch when every shape agrees, else one array each."""
    if shapes and all(s == shapes[0] for s in shapes):
        batch = np.empty((len(shapes), *shapes[0]), dtype=np.uint8)
        return list(batch), batch
    if stack:
        raise ValueError(f"stack=True needs outputs of one shape, got {sorted(set(shapes))}")
    return [np.empty(s, dtype=np.uint8) for s in shapes], None


def _finish(outs: list[ImageArray], batch: Optional[ImageArray], stack: bool) -> Any:
    if stack:
        return batch if batch is not None else np.empty((0, 0, 0, 0), dtype=np.uint8)
    return outs


def _shape(img: np.ndarray, width: int, height: int, channels: Optional[int] = None) -> tuple[int, ...]:
    if channels is not None:
        return (height, width, channels)
    return (height, width) if img.ndim == 2 else (height, width, img.shape[2])


@overload
def batch_resize_images(
    images: Images,
    sizes: Union[Size, list[Size]],
    interpolation: Interpolation = ...,
    *,
    stack: Literal[False] = ...,
    num_threads: Optional[int] = ...,
) -> list[ImageArray]: ...
@overload
def batch_resize_images(
    images: Images,
    sizes: Union[Size, list[Size]],
    interpolation: Interpolation = ...,
    *,
    stack: Literal[True],
    num_threads: Optional[int] = ...,
) -> ImageArray: ...
def batch_resize_images(
    images: Images,
    sizes: Union[Size, list[Size]],
    interpolation: Interpolation = None,
    *,
    stack: bool = False,
    num_threads: Optional[int] = None,
) -> Any:
    """Resizes each image to ``sizes[i]`` = (width, height) -- OpenCV's and trainingsample's order, not
    torchvision's. ``sizes``: one pair for all images or one per image. ``interpolation``: None (area when
    shrinking -- antialiased, equal to cv2.INTER_AREA within 1 level; at whole-number factors a block mean
    that costs under twice plain bilinear -- and bilinear otherwise), "nearest", "bilinear", "bicubic",
    "area", "lanczos4" or a cv2.INTER_* code.
    ``images``: a list of uint8 (H, W) / (H, W, C) arrays (C in 1, 3, 4) or one (B, H, W, C) array.
    ``stack=True`` returns one (B, h, w, C) array (ValueError if output shapes differ), else a list.
    ``num_threads``: native threads (default: ``fastimg.get_num_threads()``).
    Raises TypeError for non-uint8 or non-array input and ValueError for bad shapes or sizes, naming
    the image index."""
    imgs = image_list(images)
    wanted = size_list(sizes, len(imgs))
    mode = _interpolation(interpolation)
    outs, batch = _outputs([_shape(img, w, h) for img, (w, h) in zip(imgs, wanted)], stack)
    _core.resize(imgs, outs, mode, threads_arg(num_threads))
    return _finish(outs, batch, stack)


@overload
def batch_crop_images(
    images: Images, boxes: Any, *, stack: Literal[False] = ..., num_threads: Optional[int] = ...
) -> list[ImageArray]: ...
@overload
def batch_crop_images(
    images: Images, boxes: Any, *, stack: Literal[True], num_threads: Optional[int] = ...
) -> ImageArray: ...
def batch_crop_images(images: Images, boxes: Any, *, stack: bool = False, num_threads: Optional[int] = None) -> Any:
    """Crops ``boxes[i]`` = (x, y, width, height) out of each image (copies); ``boxes``: one box for all
    images or one per image. A box that does not fit is a ValueError (and says so when the box would fit
    with width and height swapped).
    ``images``: a list of uint8 (H, W) / (H, W, C) arrays (C in 1, 3, 4) or one (B, H, W, C) array.
    ``stack=True`` returns one (B, h, w, C) array (ValueError if output shapes differ), else a list.
    ``num_threads``: native threads (default: ``fastimg.get_num_threads()``).
    Raises TypeError for non-uint8 or non-array input and ValueError for bad shapes or sizes, naming
    the image index."""
    imgs = image_list(images)
    rects = box_list(boxes, len(imgs))
    for i, (img, (x, y, w, h)) in enumerate(zip(imgs, rects)):
        if x < 0 or y < 0 or x + w > img.shape[1] or y + h > img.shape[0]:
            raise ValueError(
                f"images[{i}]: box (x={x}, y={y}, width={w}, height={h}) does not fit in the "
                f"{img.shape[1]}x{img.shape[0]} (width x height) image{swapped_hint(img, w, h, x, y)}"
            )
    return _crop(imgs, [(x, y) for x, y, _, _ in rects], [(w, h) for _, _, w, h in rects], stack, num_threads)


def _crop(
    imgs: list[np.ndarray], origins: list[tuple[int, int]], sizes: list[Size], stack: bool, num_threads: Optional[int]
) -> Any:
    outs, batch = _outputs([_shape(img, w, h) for img, (w, h) in zip(imgs, sizes)], stack)
    _core.crop(imgs, outs, origins, threads_arg(num_threads))
    return _finish(outs, batch, stack)


@overload
def batch_center_crop_images(
    images: Images, sizes: Union[Size, list[Size]], *, stack: Literal[False] = ..., num_threads: Optional[int] = ...
) -> list[ImageArray]: ...
@overload
def batch_center_crop_images(
    images: Images, sizes: Union[Size, list[Size]], *, stack: Literal[True], num_threads: Optional[int] = ...
) -> ImageArray: ...
def batch_center_crop_images(
    images: Images, sizes: Union[Size, list[Size]], *, stack: bool = False, num_threads: Optional[int] = None
) -> Any:
    """Crops ``sizes[i]`` = (width, height) from the centre: offsets ((W - w) // 2, (H - h) // 2).
    ``images``: a list of uint8 (H, W) / (H, W, C) arrays (C in 1, 3, 4) or one (B, H, W, C) array.
    ``stack=True`` returns one (B, h, w, C) array (ValueError if output shapes differ), else a list.
    ``num_threads``: native threads (default: ``fastimg.get_num_threads()``).
    Raises TypeError for non-uint8 or non-array input and ValueError for bad shapes or sizes, naming
    the image index."""
    imgs = image_list(images)
    wanted = size_list(sizes, len(imgs))
    check_fits(imgs, wanted)
    origins = [((img.shape[1] - w) // 2, (img.shape[0] - h) // 2) for img, (w, h) in zip(imgs, wanted)]
    return _crop(imgs, origins, wanted, stack, num_threads)


@overload
def batch_random_crop_images(
    images: Images,
    sizes: Union[Size, list[Size]],
    seed: Optional[int] = ...,
    *,
    stack: Literal[False] = ...,
    num_threads: Optional[int] = ...,
) -> list[ImageArray]: ...
@overload
def batch_random_crop_images(
    images: Images,
    sizes: Union[Size, list[Size]],
    seed: Optional[int] = ...,
    *,
    stack: Literal[True],
    num_threads: Optional[int] = ...,
) -> ImageArray: ...
def batch_random_crop_images(
    images: Images,
    sizes: Union[Size, list[Size]],
    seed: Optional[int] = None,
    *,
    stack: bool = False,
    num_threads: Optional[int] = None,
) -> Any:
    """Crops ``sizes[i]`` = (width, height) at a uniformly random position. The position of image i
    depends only on (``seed``, i): the same seed gives the same crops whatever the thread count.
    ``seed=None`` draws one from Python's ``random`` module (so ``random.seed`` makes it reproducible);
    a seed is a non-negative integer, reduced modulo 2**64 as every fastimg seed is.
    ``images``: a list of uint8 (H, W) / (H, W, C) arrays (C in 1, 3, 4) or one (B, H, W, C) array.
    ``stack=True`` returns one (B, h, w, C) array (ValueError if output shapes differ), else a list.
    ``num_threads``: native threads (default: ``fastimg.get_num_threads()``).
    Raises TypeError for non-uint8 or non-array input or a non-integer seed, and ValueError for bad shapes
    or sizes, naming the image index, or a negative seed."""
    imgs = image_list(images)
    wanted = size_list(sizes, len(imgs))
    check_fits(imgs, wanted)
    if seed is None:
        seed = random.getrandbits(64)
    elif as_int(seed) is None:
        raise TypeError(f"seed must be an integer or None, got {seed!r}")
    origins = _core.random_crop_origins(imgs, wanted, seed_arg(seed))
    return _crop(imgs, origins, wanted, stack, num_threads)


def batch_calculate_luminance(images: Images, *, num_threads: Optional[int] = None) -> npt.NDArray[np.float64]:
    """Mean Rec.601 luma (0.299 R + 0.587 G + 0.114 B) of each image in 0..255 units, as a float64 array
    of length B. Single-channel images give their mean; alpha is ignored. Exact 64-bit integer sums.
    ``images``: a list of uint8 (H, W) / (H, W, C) arrays or one (B, H, W, C) array; ``num_threads``:
    native threads. Raises TypeError/ValueError for bad input, naming the image index."""
    imgs = image_list(images)
    return _core.luminance(imgs, threads_arg(num_threads))


def batch_resize_videos(
    videos: Any,
    sizes: Union[Size, list[Size]],
    interpolation: Interpolation = None,
    *,
    num_threads: Optional[int] = None,
) -> list[ImageArray]:
    """Resizes every frame of each (T, H, W, C) video in ``videos`` (a list, or one (N, T, H, W, C) array)
    to ``sizes[i]`` = (width, height); returns one (T, h, w, C) array per video. ``interpolation``: as
    ``batch_resize_images``. All frames of all videos run in one parallel batch on ``num_threads``
    threads. Raises TypeError/ValueError for bad input, naming the video index."""
    if isinstance(videos, np.ndarray):
        if videos.ndim != 5:
            raise ValueError(f"videos: a single array must be (N, T, H, W, C), got shape {videos.shape}")
        videos = list(videos)
    if not isinstance(videos, (list, tuple)):
        raise TypeError(f"videos: expected a list of (T, H, W, C) arrays, got {type(videos).__name__}")
    wanted = size_list(sizes, len(videos))
    frames: list[ImageArray] = []
    outs: list[ImageArray] = []
    results: list[ImageArray] = []
    for i, (video, (w, h)) in enumerate(zip(videos, wanted)):
        if not isinstance(video, np.ndarray) or video.ndim != 4:
            raise ValueError(
                f"videos[{i}]: expected a (T, H, W, C) array, got {getattr(video, 'shape', type(video).__name__)}"
            )
        video_frames = image_list(list(video), name=f"videos[{i}]")
        result = np.empty((video.shape[0], h, w, video.shape[3]), dtype=np.uint8)
        frames.extend(video_frames)
        outs.extend(result)
        results.append(result)
    _core.resize(frames, outs, _interpolation(interpolation), threads_arg(num_threads))
    return results


def _convert(
    images: Images, channels_in: int, channels_out: int, fn: Any, stack: bool, num_threads: Optional[int]
) -> Any:
    imgs = image_list(images)
    for i, img in enumerate(imgs):
        if img.ndim != 3 or img.shape[2] != channels_in:
            raise ValueError(f"images[{i}]: expected (H, W, {channels_in}), got shape {img.shape}")
    outs, batch = _outputs([_shape(img, img.shape[1], img.shape[0], channels_out) for img in imgs], stack)
    fn(imgs, outs, threads_arg(num_threads))
    return _finish(outs, batch, stack)


@overload
def batch_rgb_to_rgba(
    images: Images, *, stack: Literal[False] = ..., num_threads: Optional[int] = ...
) -> list[ImageArray]: ...
@overload
def batch_rgb_to_rgba(images: Images, *, stack: Literal[True], num_threads: Optional[int] = ...) -> ImageArray: ...
def batch_rgb_to_rgba(images: Images, *, stack: bool = False, num_threads: Optional[int] = None) -> Any:
    """Adds an opaque (255) alpha channel to each (H, W, 3) image.
    ``images``: a list of uint8 (H, W) / (H, W, C) arrays (C in 1, 3, 4) or one (B, H, W, C) array.
    ``stack=True`` returns one (B, h, w, C) array (ValueError if output shapes differ), else a list.
    ``num_threads``: native threads (default: ``fastimg.get_num_threads()``).
    Raises TypeError for non-uint8 or non-array input and ValueError for bad shapes or sizes, naming
    the image index."""
    return _convert(images, 3, 4, _core.rgb_to_rgba, stack, num_threads)


@overload
def batch_rgba_to_rgb(
    images: Images, *, stack: Literal[False] = ..., num_threads: Optional[int] = ...
) -> list[ImageArray]: ...
@overload
def batch_rgba_to_rgb(images: Images, *, stack: Literal[True], num_threads: Optional[int] = ...) -> ImageArray: ...
def batch_rgba_to_rgb(images: Images, *, stack: bool = False, num_threads: Optional[int] = None) -> Any:
    """Drops the alpha channel of each (H, W, 4) image.
    ``images``: a list of uint8 (H, W) / (H, W, C) arrays (C in 1, 3, 4) or one (B, H, W, C) array.
    ``stack=True`` returns one (B, h, w, C) array (ValueError if output shapes differ), else a list.
    ``num_threads``: native threads (default: ``fastimg.get_num_threads()``).
    Raises TypeError for non-uint8 or non-array input and ValueError for bad shapes or sizes, naming
    the image index."""
    return _convert(images, 4, 3, _core.rgba_to_rgb, stack, num_threads)


def rgb_to_rgba(image: ImageArray, *, num_threads: Optional[int] = None) -> ImageArray:
    """One (H, W, 3) uint8 ``image`` to (H, W, 4) with opaque alpha, on ``num_threads`` threads."""
    return batch_rgb_to_rgba([image], num_threads=num_threads)[0]


def rgba_to_rgb(image: ImageArray, *, num_threads: Optional[int] = None) -> ImageArray:
    """One (H, W, 4) uint8 ``image`` to (H, W, 3), on ``num_threads`` threads."""
    return batch_rgba_to_rgb([image], num_threads=num_threads)[0]
