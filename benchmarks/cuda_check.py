"""fastimg.Loader's CUDA path, checked on a real GPU; prints that it skipped and exits 0 where torch has no CUDA.

    .venv/bin/python benchmarks/cuda_check.py [--batches N]

With pin_memory=True and device="cuda" the Loader fills each batch in page-locked host memory on its prefetch
thread, copies it with non_blocking=True on a side stream (torch.cuda.Stream), records an event there, and
__next__ makes the consumer's current stream wait on that event and record_stream()s the tensors (so the
caching allocator does not hand their memory to the next copy while the consumer's kernels still read it).
Checked, for the training set of the training benchmark (generated if absent):

1. the batches are CUDA tensors on the requested device, images float32 (32, 3, 224, 224), labels int64;
2. the host batch was pinned (seen through batch_transform, which runs on the host batch before the copy),
   and pin_memory=True without a device hands out pinned CPU tensors;
3. values equal the CPU Loader's with the same seed, bit for bit (same order, same augmentation);
4. a kernel queued on the consumer's stream right after __next__ sees the whole copy, also when the consumer
   runs on its own non-default stream, and also when the consumer's stream is kept busy (torch.cuda._sleep)
   and each batch is freed at once while later batches are copied on the side stream: a missing stream wait
   or record_stream shows up as a wrong sum.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import torch

BATCH = 32


def _spy(seen: list[bool]) -> Any:
    def transform(images: torch.Tensor) -> torch.Tensor:
        seen.append(bool(images.is_pinned()))
        return images

    return transform


def check(batches: int) -> list[str]:
    from training_data import training_set

    import fastimg

    root = training_set(verbose=False).root
    transform = fastimg.Transform.imagenet_train(224)
    device = torch.device("cuda", torch.cuda.current_device())
    failures: list[str] = []

    def expect(ok: bool, what: str) -> None:
        if not ok:
            failures.append(what)

    pinned_seen: list[bool] = []
    gpu = fastimg.Loader(
        fastimg.ImageFolder(root, transform),
        BATCH,
        seed=0,
        prefetch=2,
        pin_memory=True,
        device=device,
        batch_transform=_spy(pinned_seen),
    )
    cpu = fastimg.Loader(fastimg.ImageFolder(root, transform), BATCH, seed=0, prefetch=2)
    pinned = fastimg.Loader(fastimg.ImageFolder(root, transform), BATCH, seed=0, pin_memory=True)
    user_stream = torch.cuda.Stream(device)
    passes = [(mode, stream_name) for stream_name in ("default", "user") for mode in ("exact", "stress")]
    for epoch, (mode, stream_name) in enumerate(passes):  # the three loaders stay on the same epoch
        stream = user_stream if stream_name == "user" else torch.cuda.current_stream(device)
        where_pass = f"pass {epoch} ({mode}, {stream_name} stream)"
        with torch.cuda.stream(stream):
            queued: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] = []
            count = 0
            for b, ((gi, gl), (ci, cl), (pi, pl)) in enumerate(zip(gpu, cpu, pinned)):
                if b >= batches:
                    break
                count += 1
                where = f"{where_pass}, batch {b}"
                expect(
                    gi.device == device and gl.device == device,
                    f"{where}: batches on {gi.device}/{gl.device}, not {device}",
                )
                expect(
                    gi.dtype == torch.float32 and tuple(gi.shape) == (BATCH, 3, 224, 224) and gl.dtype == torch.int64,
                    f"{where}: images {gi.dtype} {tuple(gi.shape)}, labels {gl.dtype}",
                )
                expect(pi.device.type == "cpu" and pi.is_pinned(), f"{where}: pin_memory=True gave an unpinned batch")
                expect(torch.equal(pi, ci) and torch.equal(pl, cl), f"{where}: pinned batch differs from the CPU one")
                if mode == "exact":
                    # .cpu() runs on the consumer's stream: right only if __next__ made it wait for the copy.
                    expect(torch.equal(gi.cpu(), ci), f"{where}: CUDA images differ from the CPU Loader's")
                    expect(torch.equal(gl.cpu(), cl), f"{where}: CUDA labels differ from the CPU Loader's")
                    continue
                # stress: no host sync in the loop. The consumer's stream is kept busy, the sum is queued behind
                # the delay, and the batch is dropped (freed as the loop moves on); the prefetch thread meanwhile
                # copies later batches on its side stream, into this memory unless record_stream() holds it for
                # the queued sum.
                if hasattr(torch.cuda, "_sleep"):
                    torch.cuda._sleep(50_000_000)
                queued.append((gi.double().sum(), ci.double().sum(), gl, cl))
                del gi
            torch.cuda.synchronize(device)
            for b, (got, want, gl, cl) in enumerate(queued):
                expect(
                    torch.allclose(got.cpu(), want, rtol=1e-9, atol=1e-6),
                    f"{where_pass}, batch {b}: sum on the consumer stream {got.item()} != {want.item()}",
                )
                expect(torch.equal(gl.cpu(), cl), f"{where_pass}, batch {b}: CUDA labels differ from the CPU Loader's")
            expect(count == batches, f"{where_pass}: got {count} batches, wanted {batches}")
    expect(
        bool(pinned_seen) and all(pinned_seen),
        f"host batches before the copy pinned: {sum(pinned_seen)} of {len(pinned_seen)}",
    )
    side = getattr(sys.modules.get("fastimg.loader"), "_side_streams", {}).get(device)
    if side is not None:
        expect(side != torch.cuda.default_stream(device), "the copies ran on the default stream, not a side stream")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--batches",
        type=int,
        default=6,
        help="batches per pass (the set has 10; >= 4 lets a later copy reuse a freed batch's memory)",
    )
    args = parser.parse_args()
    if not torch.cuda.is_available():
        why = "CPU-only torch build" if torch.version.cuda is None else "no CUDA device visible"
        print(f"cuda_check: skipped (torch.cuda.is_available() is False: {why})")
        return 0
    failures = check(args.batches)
    name = torch.cuda.get_device_name()
    if failures:
        print(f"cuda_check: FAIL on {name}")
        for f in failures:
            print(f"  - {f}")
        return 1
    print(
        f"cuda_check: PASS on {name}: {args.batches} batches x 4 passes (exact and stress, default and user "
        "stream) on the GPU, host batches pinned, values equal to the CPU Loader's"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
