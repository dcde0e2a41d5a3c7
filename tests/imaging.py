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
    base = np.stack(
        [(xx * (k + 1) * 97 / max(w, 1) + yy * 61 / max(h, 1) + 40 * k) % 256 for k in range(channels)], axis=-1
    )
    noise = rng.normal(0, 18, size=base.shape)
    img = np.clip(base + noise, 0, 255).astype(np.uint8)
    return img[..., 0] if c is None else img


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def assert_image_close(
    actual: np.ndarray,
    expected: np.ndarray,
    *,
    max_abs: float | None = None,
    mean_abs: float | None = None,
    min_psnr: float | None = None,
) -> None:
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


def photo_like(h: int, w: int, seed: int = 0, grain: float = 3.0) -> np.ndarray:
    """Photograph-like RGB content: smooth shading, a few edges and blobs at several scales, mild sensor
    grain. Pure noise would make every filter comparison meaningless; flat colour would hide errors."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        img[..., c] = 90 + 50 * np.sin(xx / (w / rng.uniform(1, 3)) + rng.uniform(0, 6)) * np.cos(
            yy / (h / rng.uniform(1, 3)) + rng.uniform(0, 6)
        )
    for _ in range(6):  # blobs and hard-edged rectangles in random colours
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.05, 0.25) * min(h, w)
        colour = rng.uniform(-60, 60, size=3)
        img += np.exp(-(((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r)))[..., None] * colour
        y0, x0 = int(rng.uniform(0, h * 0.8)), int(rng.uniform(0, w * 0.8))
        img[y0 : y0 + int(h * 0.15), x0 : x0 + int(w * 0.1)] += rng.uniform(-40, 40, size=3)
    period = max(4.0, min(h, w) / 40)  # fine texture well above the Nyquist limit of a 224 output
    img += 12 * np.sin(xx / period * 2.1)[..., None] * np.sin(yy / period * 1.7)[..., None]
    img += rng.normal(0, grain, size=img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def encode(img: np.ndarray, fmt: str = "JPEG", **options) -> bytes:
    """Encodes with Pillow (quality, subsampling, progressive, exif, ... passed through)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format=fmt, **options)
    return buf.getvalue()


def decode_pil(data: bytes, mode: str = "RGB") -> np.ndarray:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert(mode))
