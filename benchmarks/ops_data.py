"""Seeded synthetic inputs: smooth random colour fields plus fine-grained noise. Textured rather than
constant (nothing is trivially predictable or compressible) and rather than white noise (atypical for
photos); generated once per run."""

from __future__ import annotations

import cv2
import numpy as np


def textured_images(count: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """A C-contiguous (count, height, width, 3) uint8 batch."""
    rng = np.random.default_rng(seed)
    tile = rng.integers(0, 48, (256, 256, 3), dtype=np.uint8)
    noise = np.ascontiguousarray(np.tile(tile, (-(-height // 256), -(-width // 256), 1))[:height, :width])
    out = np.empty((count, height, width, 3), np.uint8)
    for img in out:
        coarse = rng.integers(0, 208, (max(2, height // 64), max(2, width // 64), 3), dtype=np.uint8)
        cv2.resize(coarse, (width, height), dst=img, interpolation=cv2.INTER_CUBIC)
        cv2.add(img, noise, dst=img)
    return out


def textured_videos(count: int, frames: int, height: int, width: int, seed: int = 0) -> list[np.ndarray]:
    """count C-contiguous (frames, height, width, 3) uint8 videos."""
    return list(textured_images(count * frames, height, width, seed).reshape(count, frames, height, width, 3))
