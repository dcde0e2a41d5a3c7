"""fastimg.decode_images and fastimg.load_batch under pytest-benchmark against Pillow and simplejpeg
(docs/benchmarks.md#pytest-benchmark), on the first files of the pipeline section's JPEG sets
(pipeline_data.py), one group per operation x set. load_batch's peers are the pipeline section's adapters.
Each output is checked against Pillow's, so a run with --benchmark-disable (make test) is a correctness test."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from adapters.pipe_base import FastimgPipe, PipelineAdapter
from adapters.pipe_geometry import PipeSpec, to_pixels
from adapters.tv_transforms import PlainTorchPipe, pil_loader
from pipeline_data import image_sets

import fastimg

SETS = {"tiny": 64, "imagenet": 16}  # pipeline_data set -> files used
# The pipeline section's deterministic workloads, flip off so outputs compare: 32-px stretch and eval crop.
SPECS = {"tiny": PipeSpec(32, "stretch", hflip=0), "imagenet": PipeSpec(224, "center", resize=256, hflip=0)}
# Largest mean |load_batch - Pillow path| in 0-255 units: ~0.3 is rounding, DCT-scaled decodes add a little,
# and cv2.INTER_LINEAR (simplejpeg, cv2 peers) is not antialiased.
LOAD_TOLERANCE = {"fastimg": 1.0, "pillow_draft": 1.0, "simplejpeg": 5.0, "cv2_reduced": 5.0}


@pytest.fixture(scope="module")
def paths() -> dict[str, list[str]]:
    sets = image_sets()  # generated into benchmarks/data/pipeline/ on first use (git-ignored)
    return {name: sets[name].subset(count).paths for name, count in SETS.items()}


def decoder(peer: str) -> Callable[[list[str]], Any]:
    if peer == "fastimg":
        return fastimg.decode_images
    if peer == "pillow":
        return lambda paths: [np.asarray(pil_loader(p)) for p in paths]
    import simplejpeg  # a test requirement (requirements/test.txt)

    return lambda paths: [simplejpeg.decode_jpeg(Path(p).read_bytes(), colorspace="RGB") for p in paths]


@pytest.mark.parametrize("set_name", SETS)
@pytest.mark.parametrize("peer", ["fastimg", "pillow", "simplejpeg"])
def test_decode_images(benchmark, paths, peer, set_name):
    benchmark.group = f"decode_images {set_name} x{SETS[set_name]}"
    out = benchmark(decoder(peer), paths[set_name])
    ref = decoder("pillow")(paths[set_name])
    assert [a.shape for a in out] == [b.shape for b in ref]
    # The same libjpeg-turbo decode (islow IDCT, fancy upsampling); 1 level of slack between its versions.
    assert max(int(np.abs(a.astype(np.int16) - b).max()) for a, b in zip(out, ref)) <= 1


def pipe(peer: str) -> PipelineAdapter:
    if peer == "fastimg":
        return FastimgPipe()
    import adapters.pipe_scaled as scaled

    return {
        "pillow_draft": scaled.PillowDraftPipe,
        "simplejpeg": scaled.SimplejpegPipe,
        "cv2_reduced": scaled.Cv2ReducedPipe,
    }[peer]()


@pytest.mark.parametrize("set_name", SETS)
@pytest.mark.parametrize("peer", list(LOAD_TOLERANCE))
def test_load_batch(benchmark, paths, peer, set_name):
    spec, files = SPECS[set_name], paths[set_name]
    benchmark.group = f"load_batch {set_name} x{SETS[set_name]} -> {spec.crop} {spec.size}"
    adapter = pipe(peer)
    adapter.setup(fastimg.get_num_threads())
    try:
        out = to_pixels(np.asarray(benchmark(adapter.load_batch, files, spec)))
    finally:
        adapter.teardown()
    ref = to_pixels(PlainTorchPipe().load_batch(files, spec).numpy())  # Pillow, torchvision's PIL path
    assert out.shape == ref.shape == (len(files), 3, spec.size, spec.size)
    assert np.abs(out - ref).mean() <= LOAD_TOLERANCE[peer]
