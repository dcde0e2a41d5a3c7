"""Safety limits: no input may take unbounded memory or time. Each limit refuses with a clear error,
before the expensive work (pixel limit: from the header; byte limit: before reading the file)."""

import struct

import numpy as np
import pytest
from imaging import encode, photo_like

import fastimg

JPEG = encode(photo_like(64, 80, seed=1), quality=90)
PROGRESSIVE = encode(photo_like(64, 80, seed=2), quality=90, progressive=True)


def with_sof_size(data: bytes, width: int, height: int) -> bytes:
    """The same JPEG with the frame header claiming another size."""
    at = data.index(b"\xff\xc0") if b"\xff\xc0" in data else data.index(b"\xff\xc2")
    return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]


def test_pixel_limit_is_checked_from_the_header():
    bomb = with_sof_size(JPEG, 60000, 60000)  # 3.6 gigapixels claimed by a 3 KB file
    with pytest.raises(fastimg.DecodeError, match=r"image too large: 60000x60000 exceeds the limit of 268435456"):
        fastimg.decode_images([bomb])
    with pytest.raises(fastimg.DecodeError, match="image too large"):
        fastimg.load_batch([bomb], fastimg.Transform(32))
    with pytest.raises(fastimg.DecodeError, match="exceeds the limit of 5000 pixels"):
        fastimg.load_batch([JPEG], fastimg.Transform(32, max_pixels=5000))


def test_png_header_bomb():
    png = bytearray(encode(photo_like(8, 8, seed=3), "PNG"))
    png[16:24] = struct.pack(">II", 100000, 100000)  # IHDR width/height (CRC now wrong too)
    with pytest.raises(fastimg.DecodeError, match=r"too large: 100000x100000"):
        fastimg.decode_images([bytes(png)])


def test_scan_limit_for_progressive_jpegs():
    assert fastimg.decode_images([PROGRESSIVE], max_scans=50)[0].shape == (64, 80, 3)
    with pytest.raises(fastimg.DecodeError, match="more than 2 scans"):
        fastimg.decode_images([PROGRESSIVE], max_scans=2)
    with pytest.raises(fastimg.DecodeError, match="more than 2 scans"):
        fastimg.load_batch([PROGRESSIVE], fastimg.Transform(32, max_scans=2))


def test_byte_limit_for_files_and_buffers(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(JPEG)
    limit = len(JPEG) - 1
    for source in (str(path), JPEG):
        with pytest.raises(fastimg.DecodeError, match=rf"{len(JPEG)} bytes exceeds the limit of {limit} bytes"):
            fastimg.decode_images([source], max_bytes=limit)
    with pytest.raises(fastimg.DecodeError, match="exceeds the limit"):
        fastimg.load_batch([str(path)], fastimg.Transform(32, max_bytes=limit))
    assert fastimg.decode_images([str(path)], max_bytes=len(JPEG))[0].shape == (64, 80, 3)


def test_limits_are_validated():
    for name in ("max_pixels", "max_scans", "max_bytes"):
        with pytest.raises(ValueError, match=name):
            fastimg.Transform(32, **{name: 0})
        with pytest.raises(ValueError, match=name):
            fastimg.decode_images([JPEG], **{name: -1})


def test_skip_policy_records_limit_failures():
    batch = fastimg.load_batch([JPEG, with_sof_size(JPEG, 60000, 60000)], fastimg.Transform(16), on_error="skip")
    assert batch.indices.tolist() == [0] and "too large" in batch.errors[0].reason
    assert np.isfinite(batch.images).all()


def test_tiny_file_claiming_a_big_image_is_refused_before_allocating():
    import time

    liar = with_sof_size(JPEG, 16384, 16384)  # within the pixel limit, but 3 KB cannot hold it
    start = time.perf_counter()
    with pytest.raises(fastimg.DecodeError, match=r"truncated JPEG: \d+ bytes cannot hold a 16384x16384 image"):
        fastimg.decode_images([liar])
    assert time.perf_counter() - start < 0.5  # no 805 MB buffer was filled first
