"""pytest-benchmark timings of a few fastimg ops, run by hand (outside `make test`, whose testpaths is tests/):

    .venv/bin/python -m pytest benchmarks/test_bench_ops.py

Nothing here asserts speed; the checks only make sure the timed call did the work.
"""

from __future__ import annotations

import numpy as np
import pytest
from ops_data import textured_images

import fastimg

pytest.importorskip("pytest_benchmark")

COUNT, SIDE, OUT = 8, 1024, (256, 256)


@pytest.fixture(scope="module")
def images() -> list[np.ndarray]:
    return list(textured_images(COUNT, SIDE, SIDE, seed=0))


@pytest.mark.parametrize("interpolation", ["bilinear", "area"])
def test_resize(benchmark, images: list[np.ndarray], interpolation: str) -> None:
    out = benchmark(fastimg.batch_resize_images, images, OUT, interpolation, stack=True)
    assert out.shape == (COUNT, OUT[1], OUT[0], 3)


def test_luminance(benchmark, images: list[np.ndarray]) -> None:
    out = benchmark(fastimg.batch_calculate_luminance, images)
    assert out.shape == (COUNT,)


def test_center_crop(benchmark, images: list[np.ndarray]) -> None:
    out = benchmark(fastimg.batch_center_crop_images, images, OUT, stack=True)
    assert out.shape == (COUNT, OUT[1], OUT[0], 3)
