"""torchvision's geometry (Resize(int), CenterCrop, RandomResizedCrop.get_params) and the shared helpers of
the decode-pipeline competitors: the crop box in source coordinates, the DCT reduction rule, a JPEG header
parser and the normalise-to-CHW step.

torchvision is not installable here, so its documented semantics are re-implemented: the shorter side
becomes N and the longer int(N * long / short); crop offsets round((size - crop) / 2) (Python's round);
get_params draws scale and log-ratio up to 10 times, then falls back to a central crop clamped to the ratio
range. The random source is Python's `random` (torchvision draws the same quantities from torch's generator).
"""

from __future__ import annotations

import math
import random
import struct
from dataclasses import dataclass

import numpy as np

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# (x / 255 - mean) / std == x * SCALE - BIAS, per channel, broadcast over (3, H, W).
SCALE = np.array([1 / (255 * s) for s in IMAGENET_STD], np.float32).reshape(3, 1, 1)
BIAS = np.array([m / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)], np.float32).reshape(3, 1, 1)

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in source pixels (pixel i covers [i, i + 1))


@dataclass(frozen=True)
class PipeSpec:
    """What every competitor produces per image: a size x size float32 CHW crop, ImageNet-normalised.

    crop: "stretch" (whole image to size), "center" (Resize(resize) + CenterCrop(size)) or
    "random_resized" (RandomResizedCrop(size, scale, ratio)); then RandomHorizontalFlip(hflip)."""

    size: int
    crop: str
    resize: int | None = None
    hflip: float = 0.5
    scale: tuple[float, float] = (0.08, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)


def resized_size(width: int, height: int, n: int) -> tuple[int, int]:
    """torchvision Resize(n): (new_width, new_height) with the shorter side n."""
    if width <= height:
        return n, int(n * height / width)
    return int(n * width / height), n


def center_offsets(width: int, height: int, size: int) -> tuple[int, int]:
    """torchvision CenterCrop: (left, top)."""
    return round((width - size) / 2.0), round((height - size) / 2.0)


def rrc_params(
    width: int, height: int, scale: tuple[float, float], ratio: tuple[float, float], rng: random.Random
) -> tuple[int, int, int, int]:
    """torchvision RandomResizedCrop.get_params: (top, left, crop_height, crop_width)."""
    area = width * height
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(10):
        target_area = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(log_lo, log_hi))
        w = round(math.sqrt(target_area * aspect))
        h = round(math.sqrt(target_area / aspect))
        if 0 < w <= width and 0 < h <= height:
            return rng.randint(0, height - h), rng.randint(0, width - w), h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, round(width / min(ratio))
    elif in_ratio > max(ratio):
        h, w = height, round(height * max(ratio))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def plan(width: int, height: int, spec: PipeSpec, rng: random.Random) -> tuple[Box, bool]:
    """The source-coordinate box that becomes the output, and whether to flip it (the order of draws:
    crop first, then flip, as in a Compose)."""
    if spec.crop == "random_resized":
        top, left, h, w = rrc_params(width, height, spec.scale, spec.ratio, rng)
        box: Box = (left, top, left + w, top + h)
    elif spec.crop == "center":
        assert spec.resize is not None
        rw, rh = resized_size(width, height, spec.resize)
        left, top = center_offsets(rw, rh, spec.size)
        fx, fy = width / rw, height / rh
        box = (left * fx, top * fy, (left + spec.size) * fx, (top + spec.size) * fy)
    else:
        box = (0.0, 0.0, float(width), float(height))
    flip = spec.hflip > 0 and rng.random() < spec.hflip
    return box, flip


def dct_factor(box: Box, size: int) -> int:
    """The largest JPEG DCT reduction (8, 4, 2, else 1) that keeps the box at least size x size: the rule
    fastimg uses (DESIGN.md section 3), applied to every scaled-decode competitor alike."""
    bw, bh = box[2] - box[0], box[3] - box[1]
    for f in (8, 4, 2):
        if bw / f >= size and bh / f >= size:
            return f
    return 1


def int_box(box: Box, factor: float, width: int, height: int) -> tuple[int, int, int, int]:
    """The box scaled by 1/factor and rounded to whole pixels inside a width x height image (for libraries
    that crop by integer slicing before resizing)."""
    x0 = min(max(round(box[0] / factor), 0), width - 1)
    y0 = min(max(round(box[1] / factor), 0), height - 1)
    x1 = min(max(round(box[2] / factor), x0 + 1), width)
    y1 = min(max(round(box[3] / factor), y0 + 1), height)
    return x0, y0, x1, y1


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's SOF marker, without decoding (for libraries with no header call)."""
    pos, n = 2, len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            raise ValueError("not a JPEG marker")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = struct.unpack_from(">H", data, pos + 2)[0]
        if marker in _SOF:
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return width, height
        pos += 2 + length
    raise ValueError("no SOF marker found")


def write_chw(src: np.ndarray, dst: np.ndarray, flip: bool, bgr: bool = False) -> None:
    """(H, W, 3) uint8 -> dst (3, H, W) float32, ImageNet-normalised, optionally mirrored and/or from BGR,
    in two numpy passes (flip and channel order are free: strided views)."""
    if flip:
        src = src[:, ::-1]
    if bgr:
        src = src[..., ::-1]
    np.multiply(src.transpose(2, 0, 1), SCALE, out=dst, casting="unsafe")
    np.subtract(dst, BIAS, out=dst)


def to_pixels(batch: np.ndarray) -> np.ndarray:
    """Undoes the normalisation: (N, 3, H, W) float -> float64 pixels in 0-255 units."""
    return (np.asarray(batch, np.float64) + BIAS) / SCALE
