"""atheris target over fastimg's Python surface: fastimg.decode_images and fastimg.load_batch on arbitrary
bytes, with several modes, sizes and Transforms, on_error "raise" and "skip".

Input layout (as decode_fuzzer.cpp): the first OPTION_BYTES bytes choose the options, the rest is the
encoded image, or (for half the option choices) bytes spliced into one of make_corpus.py's valid images.
Findings: an exception other than fastimg.DecodeError / ValueError / OSError / TypeError, a result that
breaks the documented contract (checked below), a hang (-timeout=1) or a crash of the process. The Python
code of fastimg is instrumented for coverage; the native extension is not (the libFuzzer target covers it,
with sanitizers).

    .venv/bin/python fuzz/fuzz_python.py -timeout=1 -rss_limit_mb=2048 -max_total_time=120 \\
        fuzz/corpus/python fuzz/corpus/seeds         # what `make fuzz-python` runs
    .venv/bin/python fuzz/fuzz_python.py CRASH_FILE  # replays one input
"""

from __future__ import annotations

import os
import sys

import atheris
import numpy as np

with atheris.instrument_imports(include=["fastimg"]):
    import fastimg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_corpus import valid_images

OPTION_BYTES = 12  # as in decode_fuzzer.cpp and make_corpus.py
EXPECTED = (fastimg.DecodeError, ValueError, OSError, TypeError)
# As in decode_fuzzer.cpp: the default limit (2^28 pixels) admits decodes of gigabytes by design.
MAX_PIXELS = 1 << 22

TRANSFORMS = [
    fastimg.Transform.imagenet_train(32, color_jitter=0.4, max_pixels=MAX_PIXELS),
    fastimg.Transform.imagenet_train(
        24, scale=(0.5, 1.0), ratio=(0.2, 5.0), apply_exif_orientation=True, max_pixels=MAX_PIXELS
    ),
    fastimg.Transform.imagenet_eval(24, max_pixels=MAX_PIXELS),
    fastimg.Transform(16, resize=(24, 20), crop="center", dtype="float16", layout="NHWC", max_pixels=MAX_PIXELS),
    fastimg.Transform((20, 28), max_pixels=MAX_PIXELS),
    fastimg.Transform((12, 18), dtype="uint8", layout="NHWC", hflip=1.0, antialias=False, max_pixels=MAX_PIXELS),
    fastimg.Transform(16, crop="center", apply_exif_orientation=True, fast_dct=True, max_pixels=MAX_PIXELS),
]
MODES = ["RGB", "L", "RGBA"]
CHANNELS = {"RGB": 3, "RGBA": 4}


def _good_jpeg() -> bytes:
    """A valid 40x40 JPEG (larger than every transform crops), for batches that mix a good item with the fuzzed
    one."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 40), (120, 30, 200)).save(buf, "JPEG")
    return buf.getvalue()


GOOD = _good_jpeg()
# Path sources read an in-memory file (memfd) through /proc, so no run leaves files behind.
INPUT_FD = os.memfd_create("fastimg-fuzz-input")
INPUT_PATH = f"/proc/self/fd/{INPUT_FD}"
BASES = [data for _, data in sorted(valid_images().items())]


def splice(payload: bytes) -> bytes:
    """A valid image with the fuzzed bytes written into it (its first bytes choose the image, the place and
    overwrite / truncate / insert). Most such inputs get past the header, so the success paths (shapes,
    values, skip compaction) are checked as well as the rejections, although atheris cannot see native
    coverage."""
    params = atheris.FuzzedDataProvider(payload[:4])
    base = BASES[params.ConsumeIntInRange(0, len(BASES) - 1)]
    at = params.ConsumeIntInRange(0, len(base))
    how = params.ConsumeIntInRange(0, 2)
    patch = payload[4:]
    if how == 0:
        return base[:at] + patch + base[at + len(patch) :]
    if how == 1:
        return base[:at] + patch
    return base[:at] + patch + base[at:]


def wrap(fdp: atheris.FuzzedDataProvider, image: bytes):
    """The image as one of the source kinds the API takes."""
    kind = fdp.ConsumeIntInRange(0, 5)
    if kind == 0:
        return bytearray(image)
    if kind == 1:
        return memoryview(image)
    if kind == 2:
        return np.frombuffer(image, np.uint8)
    if kind == 3:  # a strided view: the Python side makes it contiguous
        doubled = np.zeros(2 * len(image), np.uint8)
        doubled[::2] = np.frombuffer(image, np.uint8)
        return doubled[::2]
    if kind == 4:  # a path, read by the native worker
        os.ftruncate(INPUT_FD, 0)
        os.pwrite(INPUT_FD, image, 0)
        return INPUT_PATH
    return image


def check_decode(fdp: atheris.FuzzedDataProvider, sources: list, threads: int) -> str:
    mode = fdp.PickValueInList(MODES)
    max_side = fdp.PickValueInList([None, None, 1, 7, 64])
    min_size = fdp.PickValueInList([None, None, (1, 1), (16, 9), (200, 200)])
    exif = fdp.ConsumeBool()
    skip = fdp.ConsumeBool()
    errors: list = []
    images = fastimg.decode_images(
        sources,
        mode,
        max_side=max_side,
        min_size=min_size,
        apply_exif_orientation=exif,
        num_threads=threads,
        on_error="skip" if skip else "raise",
        max_pixels=MAX_PIXELS,
        errors=errors,
    )
    assert len(images) == len(sources), (len(images), len(sources))
    failed = {e.index for e in errors}
    assert skip or not failed
    for i, image in enumerate(images):
        if i in failed:
            assert image is None, i
            continue
        assert isinstance(image, np.ndarray) and image.dtype == np.uint8, type(image)
        if mode == "L":
            assert image.ndim == 2, image.shape
        else:
            assert image.ndim == 3 and image.shape[2] == CHANNELS[mode], image.shape
        assert image.shape[0] > 0 and image.shape[1] > 0, image.shape
        assert image.shape[0] * image.shape[1] <= MAX_PIXELS, image.shape
        if max_side is not None:
            assert max(image.shape[:2]) <= max_side, (image.shape, max_side)
    return errors[0].reason if errors else "ok"


def check_load_batch(fdp: atheris.FuzzedDataProvider, sources: list, threads: int) -> str:
    transform = fdp.PickValueInList(TRANSFORMS)
    skip = fdp.ConsumeBool()
    seed = fdp.ConsumeIntInRange(0, 255)
    epoch = fdp.ConsumeIntInRange(0, 3)
    batch = fastimg.load_batch(
        sources, transform, seed=seed, epoch=epoch, num_threads=threads, on_error="skip" if skip else "raise"
    )
    assert skip or not batch.errors
    good = len(sources) - len(batch.errors)
    assert batch.images.shape == transform.batch_shape(good), (batch.images.shape, good)
    assert batch.images.dtype == transform.numpy_dtype
    assert sorted(batch.indices.tolist() + [e.index for e in batch.errors]) == list(range(len(sources)))
    if batch.images.dtype != np.uint8:
        assert np.isfinite(batch.images).all()
    return batch.errors[0].reason if batch.errors else "ok"


@atheris.instrument_func
def note_outcome(image: bytes, outcome: str) -> None:
    """One Python branch per (format, outcome) class. atheris sees Python coverage only, so without these an
    input that reaches another decoder or another failure looks like any other and the corpus collapses to
    a handful of tiny inputs."""
    ok = outcome == "ok"
    if image[:3] == b"\xff\xd8\xff":
        if ok:
            return
        if "Premature end" in outcome:
            return
        if "Huffman" in outcome:
            return
        if "too large" in outcome:
            return
        if "corrupt JPEG" in outcome:
            return
        if "invalid JPEG" in outcome:
            return
        return
    if image[:4] == b"\x89PNG":
        if ok:
            return
        if "too large" in outcome:
            return
        return
    if image[:4] == b"RIFF":
        if ok:
            return
        if "too large" in outcome:
            return
        return
    if image[:2] == b"BM":
        if ok:
            return
        if "too large" in outcome:
            return
        return
    if image[:4] in (b"II*\x00", b"MM\x00*"):
        if ok:
            return
        if "too large" in outcome:
            return
        return
    if image[:1] == b"P":
        if ok:
            return
        if "too large" in outcome:
            return
        return
    if "smaller than" in outcome:
        return


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data[:OPTION_BYTES])
    image = data[OPTION_BYTES:]
    if fdp.ConsumeBool():
        image = splice(image)
    source = wrap(fdp, image)
    sources = [GOOD, source] if fdp.ConsumeBool() else [source]
    threads = fdp.PickValueInList([1, 2])
    try:
        if fdp.ConsumeBool():
            outcome = check_load_batch(fdp, sources, threads)
        else:
            outcome = check_decode(fdp, sources, threads)
    except EXPECTED as e:
        outcome = f"{type(e).__name__}: {e}"
    note_outcome(image, outcome)


def main() -> None:
    # OpenCV and libpng print every rejected input to stderr; `make fuzz-python` passes -close_fd_mask=2.
    # Python's own stderr (atheris prints uncaught exceptions there) keeps a copy of the original stream.
    sys.stderr = os.fdopen(os.dup(2), "w", buffering=1)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
