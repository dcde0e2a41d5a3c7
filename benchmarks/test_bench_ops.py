"""The ops section's batched ops under pytest-benchmark (docs/benchmarks.md#pytest-benchmark): fastimg and its
peers (bench_ops.make_adapters) on bench_ops's textured images, one group per operation x named size. Each
output is checked against a reference, so a run with --benchmark-disable (make test) is a correctness test."""

from __future__ import annotations

import importlib.util
from typing import Any, Callable

import bench_ops
import cv2
import numpy as np
import pytest
from adapters.ops import trainingsample_module as ts

import fastimg

# trainingsample is in requirements/bench.txt only: under `make test` its cases are left out.
HAVE_TS = importlib.util.find_spec("trainingsample") is not None

SIZES = {"16x256x256": (16, 256, 256), "4x1024x1024": (4, 1024, 1024)}  # count x width x height
PEERS = {  # op -> adapter keys (bench_ops.make_adapters) that do it like-for-like, fastimg first
    "resize bilinear": ["fastimg", "cv2", "cv2_pool", "pillow", "trainingsample"],
    "resize area": ["fastimg", "cv2", "cv2_pool", "pillow"],
    "luminance": ["fastimg", "numpy", "cv2", "cv2_pool", "pillow", "trainingsample"],
    "center crop": ["fastimg", "numpy", "trainingsample"],
    "random crop": ["fastimg", "numpy", "trainingsample"],
    "rgb to rgba": ["fastimg", "numpy", "cv2", "trainingsample"],
    "rgba to rgb": ["fastimg", "numpy", "cv2", "trainingsample"],
}
CASES = [(op, key) for op, keys in PEERS.items() for key in keys if HAVE_TS or key != "trainingsample"]
# Reference (op, adapter key) per op; random crops land elsewhere in each library (shapes only).
REFERENCE = {op: ("center crop" if op == "random crop" else op, "numpy") for op in PEERS}
REFERENCE.update({"resize bilinear": ("resize bilinear", "cv2"), "resize area": ("resize area", "cv2")})
# Largest |output - reference| allowed (default 0; None: shapes only). Pillow's BILINEAR is antialiased (another
# filter); BOX and fastimg's area equal INTER_AREA up to rounding; cv2 and Pillow round luma to a byte per pixel.
TOLERANCE = {("resize bilinear", "pillow"): None, ("resize area", "pillow"): 1, ("resize area", "fastimg"): 1}
TOLERANCE.update({("luminance", k): 0.5 for k in ("cv2", "cv2_pool", "pillow")})
TOLERANCE.update({("luminance", k): 1e-3 for k in ("fastimg", "trainingsample")})
TOLERANCE.update({("random crop", k): None for k in PEERS["random crop"]})
# The channel ops have no adapter (the ops section has no such workload): each peer's call.
CHANNELS: dict[tuple[str, str], Callable[[list[np.ndarray]], Any]] = {
    ("rgb to rgba", "fastimg"): fastimg.batch_rgb_to_rgba,
    ("rgb to rgba", "numpy"): lambda imgs: [np.dstack([i, np.full(i.shape[:2], 255, np.uint8)]) for i in imgs],
    ("rgb to rgba", "cv2"): lambda imgs: [cv2.cvtColor(i, cv2.COLOR_RGB2RGBA) for i in imgs],
    ("rgb to rgba", "trainingsample"): lambda imgs: [ts().rgb_to_rgba_optimized(i, 255)[0] for i in imgs],
    ("rgba to rgb", "fastimg"): fastimg.batch_rgba_to_rgb,
    ("rgba to rgb", "numpy"): lambda imgs: [i[..., :3].copy() for i in imgs],
    ("rgba to rgb", "cv2"): lambda imgs: [cv2.cvtColor(i, cv2.COLOR_RGBA2RGB) for i in imgs],
    ("rgba to rgb", "trainingsample"): lambda imgs: [ts().rgba_to_rgb_optimized(i)[0] for i in imgs],
}


@pytest.fixture(scope="module")
def adapters():
    made = {a.key: a for a in bench_ops.make_adapters()}
    for a in made.values():
        a.setup()
    yield made
    for a in made.values():
        a.teardown()


@pytest.fixture(scope="module")
def inputs():
    """Named size -> (RGB images, RGBA images), generated on first use."""
    cache: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    def get(size: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
        if size not in cache:
            count, w, h = SIZES[size]
            rgb = list(bench_ops.textured_images(count, h, w, bench_ops.SEED))
            cache[size] = rgb, [cv2.cvtColor(i, cv2.COLOR_RGB2RGBA) for i in rgb]
        return cache[size]

    return get


def call(op: str, key: str, adapter: Any, images: tuple[list[np.ndarray], list[np.ndarray]]) -> Callable[[], Any]:
    """The timed call: op by one peer on the named size's images; outputs are half the width and height."""
    rgb, rgba = images
    out = (rgb[0].shape[1] // 2, rgb[0].shape[0] // 2)
    if op.startswith("resize"):
        return lambda: adapter.resize(rgb, out, op.split()[1])
    if op in ("rgb to rgba", "rgba to rgb"):
        fn, src = CHANNELS[op, key], rgb if op == "rgb to rgba" else rgba
        return lambda: fn(src)
    return {
        "luminance": lambda: adapter.luminance(rgb),
        "center crop": lambda: adapter.center_crop(rgb, out),
        "random crop": lambda: adapter.random_crop(rgb, out, bench_ops.SEED),
    }[op]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("op, key", CASES, ids=[f"{op}-{key}" for op, key in CASES])
def test_op(benchmark, adapters, inputs, op, key, size):
    benchmark.group = f"{op} {size}"
    out = benchmark(call(op, key, adapters[key], inputs(size)))
    ref_op, ref_key = REFERENCE[op]
    ref = call(ref_op, ref_key, adapters[ref_key], inputs(size))()
    diff = bench_ops.max_abs_diff(ref, out)
    assert diff is not None, f"{key}: output shapes differ from {ref_key}'s"
    tol = TOLERANCE.get((op, key), 0)
    assert tol is None or diff <= tol, f"{key}: max abs diff {diff} from {ref_key} > {tol}"
