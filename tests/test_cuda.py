"""fastimg.Loader's CUDA path on a real GPU (skipped where torch has no CUDA).

With pin_memory=True and device= the Loader fills each batch in page-locked host memory on its prefetch
thread, copies it with non_blocking=True on a side stream, records an event there, and __next__ makes the
consumer's current stream wait on that event and record_stream()s the tensors, so the caching allocator does
not hand their memory to the next copy while the consumer's kernels still read it. A missing wait shows up as
values that differ from the CPU Loader's, a missing record_stream as a wrong sum queued behind a busy stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch
from imaging import encode, photo_like

import fastimg
import fastimg.loader

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs torch with a CUDA device")

BATCH, SIZE = 8, 224
# Five batches per epoch: >= 4 lets a later copy land in the memory of a batch the consumer already freed.
BATCHES = 5
TRANSFORM = fastimg.Transform.imagenet_train(SIZE)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("cuda_folder")
    for k in range(BATCH * BATCHES):
        (root / f"c{k % 2}").mkdir(exist_ok=True)
        h, w = 240 + 13 * (k % 5), 300 - 11 * (k % 4)
        (root / f"c{k % 2}" / f"{k:03d}.jpg").write_bytes(encode(photo_like(h, w, seed=k), quality=90))
    return str(root)


@pytest.fixture
def device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device())


def loader(folder: str, **options: object) -> fastimg.Loader:
    return fastimg.Loader(fastimg.ImageFolder(folder, TRANSFORM), BATCH, seed=0, prefetch=2, **options)


@contextmanager
def consumer_stream(kind: str, device: torch.device) -> Iterator[torch.cuda.Stream]:
    """The stream the training loop runs on: the default one, or its own."""
    stream = torch.cuda.Stream(device) if kind == "user" else torch.cuda.current_stream(device)
    with torch.cuda.stream(stream):
        yield stream


@pytest.mark.parametrize("stream_kind", ["default", "user"])
def test_batches_on_the_device_equal_the_cpu_loaders(folder: str, device: torch.device, stream_kind: str) -> None:
    pinned_before_copy: list[bool] = []

    def spy(images: torch.Tensor) -> torch.Tensor:  # batch_transform runs on the host batch, before the copy
        pinned_before_copy.append(images.is_pinned())
        return images

    gpu = loader(folder, pin_memory=True, device=device, batch_transform=spy)
    cpu, pinned = loader(folder), loader(folder, pin_memory=True)
    count = 0
    with consumer_stream(stream_kind, device):
        for (gi, gl), (ci, cl), (pi, pl) in zip(gpu, cpu, pinned):
            count += 1
            assert gi.device == device and gl.device == device
            assert gi.dtype == torch.float32 and tuple(gi.shape) == (BATCH, 3, SIZE, SIZE)
            assert gl.dtype == torch.int64
            assert pi.device.type == "cpu" and pi.is_pinned()
            assert torch.equal(pi, ci) and torch.equal(pl, cl)
            # .cpu() runs on the consumer's stream: equal only if __next__ made it wait for the copy.
            assert torch.equal(gi.cpu(), ci) and torch.equal(gl.cpu(), cl)
    assert count == BATCHES
    assert pinned_before_copy and all(pinned_before_copy)
    side = fastimg.loader._side_streams.get(device)
    assert side is not None and side != torch.cuda.default_stream(device), "copies ran on the default stream"


@pytest.mark.parametrize("stream_kind", ["default", "user"])
def test_copies_wait_for_a_busy_consumer_stream(folder: str, device: torch.device, stream_kind: str) -> None:
    """No host sync in the loop: the consumer's stream is kept busy, a sum is queued behind the delay and
    the batch is dropped at once, while the prefetch thread copies later batches on its side stream, into
    this memory unless record_stream() holds it for the queued sum."""
    gpu, cpu = loader(folder, pin_memory=True, device=device), loader(folder)
    queued = []
    with consumer_stream(stream_kind, device):
        for gi, gl in gpu:
            if hasattr(torch.cuda, "_sleep"):
                torch.cuda._sleep(50_000_000)
            queued.append((gi.double().sum(), gl))
            del gi
        torch.cuda.synchronize(device)
    expected = list(cpu)
    assert len(queued) == len(expected) == BATCHES
    for b, ((got, gl), (ci, cl)) in enumerate(zip(queued, expected)):
        want = ci.double().sum()
        assert torch.allclose(got.cpu(), want, rtol=1e-9, atol=1e-6), f"batch {b}: {got.item()} != {want.item()}"
        assert torch.equal(gl.cpu(), cl), f"batch {b}: labels differ"
