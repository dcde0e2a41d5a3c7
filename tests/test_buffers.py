"""Recycled output buffers: a batch the caller released is reused (no fresh mapping, no page faults), a
batch the caller keeps -- as the array, a view, a torch tensor or a memoryview -- is never overwritten."""

import gc

import numpy as np
import pytest
import torch

import fastimg
from fastimg._buffers import MIN_BYTES, BufferPool

T = fastimg.Transform(64)  # 64 x 3 x 64 x 64 float32 = 3 MiB per batch of 64: pooled


def _address(array):
    return array.__array_interface__["data"][0]


@pytest.fixture
def sources(folder_paths):
    return (folder_paths * 10)[:64]


def test_released_batches_are_recycled(sources):
    first = fastimg.load_batch(sources, T)
    assert first.images.nbytes >= MIN_BYTES
    address = _address(first.images)
    del first
    gc.collect()
    assert _address(fastimg.load_batch(sources, T).images) == address


@pytest.mark.parametrize("keep", ["array", "view", "tensor", "memoryview", "batch"])
def test_a_kept_batch_is_never_overwritten(sources, keep):
    batch = fastimg.load_batch(sources, T, seed=1)
    expected = batch.images.copy()
    held = {
        "array": lambda b: b.images,
        "view": lambda b: b.images[5:7],
        "tensor": lambda b: torch.from_numpy(b.images),
        "memoryview": lambda b: memoryview(b.images),
        "batch": lambda b: b,
    }[keep](batch)
    address = _address(batch.images)
    del batch
    gc.collect()
    for seed in range(2, 8):  # other content into whatever buffer the pool hands out
        other = fastimg.load_batch(sources, T, seed=seed)
        assert not np.shares_memory(other.images, expected) and _address(other.images) != address
    kept = np.asarray(held.images if keep == "batch" else held)
    np.testing.assert_array_equal(kept, expected[5:7] if keep == "view" else expected)


def test_smaller_last_batch_reuses_a_larger_buffer_and_pool_stays_bounded():
    pool = BufferPool(max_buffers=2)
    a = pool.empty((8, 3, 128, 128), np.float32)
    address = _address(a)
    del a
    b = pool.empty((6, 3, 128, 128), np.float32)  # still above MIN_BYTES
    assert b.shape == (6, 3, 128, 128) and _address(b) == address and b.flags.c_contiguous
    held = [pool.empty((8, 3, 128, 128), np.float32) for _ in range(4)]  # all held: new buffers
    assert len({_address(h) for h in held} | {address}) == 5
    assert len(pool._buffers) <= 2


def test_loader_batches_kept_in_a_list_stay_intact(folder_paths):
    ds = fastimg.ImageDataset(folder_paths, transform=fastimg.Transform(224), seed=0)  # 4.8 MB batches: pooled
    kept = [images for images, _ in fastimg.Loader(ds, batch_size=8, prefetch=2)]
    again = [images.clone() for images, _ in fastimg.Loader(ds, batch_size=8, prefetch=2)]
    for a, b in zip(kept, again):
        assert torch.equal(a, b)


@pytest.mark.parametrize("count", [64, 1])  # pooled and below MIN_BYTES
def test_batches_start_on_the_alignment_streaming_stores_need(sources, count):
    from fastimg._buffers import ALIGNMENT

    images = fastimg.load_batch(sources[:count], T).images
    assert _address(images) % ALIGNMENT == 0 and images.flags.c_contiguous and images.flags.writeable
