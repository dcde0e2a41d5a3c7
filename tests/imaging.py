"""Test images and the tolerance policy shared by the Python tests.

Tolerance policy: kernels that run the same algorithm as the reference (OpenCV's resize modes against
cv2) must match within `max_abs=1` (rounding differences between OpenCV versions), and in practice
match exactly; comparisons across algorithms (e.g. against Pillow's filters) state a mean-absolute and a
PSNR bound next to the assertion, with the reason.
"""

from __future__ import annotations

import numpy as np


def textured(h: int, w: int, c: int | None = 3, seed: int = 0) -> np.ndarray:
    """Smooth gradients plus noise: realistic enough that filters differ, deterministic per seed."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    channels = 1 if c is None else c
    base = np.stack([(xx * (k + 1) * 97 / max(w, 1) + yy * 61 / max(h, 1) + 40 * k) % 256 for k in range(channels)],
                    axis=-1)
    noise = rng.normal(0, 18, size=base.shape)
    img = np.clip(base + noise, 0, 255).astype(np.uint8)
    return img[..., 0] if c is None else img


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def assert_image_close(actual: np.ndarray, expected: np.ndarray, *, max_abs: float | None = None,
                       mean_abs: float | None = None, min_psnr: float | None = None) -> None:
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"dtype {actual.dtype} != {expected.dtype}"
    diff = np.abs(actual.astype(np.int32) - expected.astype(np.int32))
    if max_abs is not None:
        assert diff.max() <= max_abs, f"max abs diff {diff.max()} > {max_abs}"
    if mean_abs is not None:
        assert diff.mean() <= mean_abs, f"mean abs diff {diff.mean():.3f} > {mean_abs}"
    if min_psnr is not None:
        value = psnr(actual, expected)
        assert value >= min_psnr, f"PSNR {value:.2f} dB < {min_psnr}"
