"""Every bad input gets a clear exception naming the source and the reason -- or, under
on_error="skip", a record -- and never a crash, a hang or grey pixels."""

import os
import shutil
import tempfile

import numpy as np
import pytest
from imaging import encode, photo_like, textured

import fastimg

GOOD = encode(photo_like(64, 80, seed=1), quality=90)


def corrupt_cases():
    progressive = encode(photo_like(64, 80, seed=2), quality=90, progressive=True)
    return {
        "empty": (b"", r"empty input"),
        "text": (b"hello, this is not an image at all", r"not an image"),
        "tiny": (b"\x00\x01", r"not an image"),
        "truncated_baseline": (GOOD[: len(GOOD) // 2], r"truncated JPEG: the data ends before the EOI marker"),
        "truncated_progressive": (progressive[: len(progressive) // 2], r"truncated JPEG"),
        "soi_then_garbage": (b"\xff\xd8\xff" + bytes(range(256)) * 4, r"JPEG"),
        "header_only": (GOOD[:200], r"JPEG"),
        "truncated_png": (encode(photo_like(64, 80, seed=3), "PNG")[:300], r"PNG"),
    }


@pytest.mark.parametrize("name", sorted(corrupt_cases()))
def test_corrupt_bytes_raise_decode_error(name):
    data, reason = corrupt_cases()[name]
    with pytest.raises(fastimg.DecodeError, match=reason) as info:
        fastimg.decode_images([GOOD, data])
    assert isinstance(info.value, ValueError)
    assert "position 1" in str(info.value)


def test_garbage_after_end_of_image_is_ignored():
    out = fastimg.decode_images([GOOD + b"\x00garbage" * 100])[0]
    np.testing.assert_array_equal(out, fastimg.decode_images([GOOD])[0])


def test_missing_path_and_directory_raise_oserror_subclasses(tmp_path):
    missing = tmp_path / "nope.jpg"
    with pytest.raises(FileNotFoundError) as info:
        fastimg.decode_images([missing])
    assert info.value.filename == str(missing)
    with pytest.raises(IsADirectoryError):
        fastimg.decode_images([tmp_path])


@pytest.mark.timeout(60)
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_unreadable_path_raises_permission_error():
    folder = tempfile.mkdtemp()
    try:
        os.chmod(folder, 0o755)
        path = os.path.join(folder, "locked.jpg")
        with open(path, "wb") as f:
            f.write(GOOD)
        os.chmod(path, 0)
        pid = os.fork()
        if pid == 0:  # root reads any file: check as an unprivileged user in a child
            status = 3
            try:
                if os.geteuid() == 0:
                    os.setuid(65534)
                fastimg.decode_images([path])
                status = 1
            except PermissionError as exc:
                status = 0 if exc.filename == path else 2
            finally:
                os._exit(status)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    finally:
        shutil.rmtree(folder)


def test_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(fastimg.DecodeError, match=r"image too large: 80x64 exceeds the limit of 1000 pixels"):
        fastimg.decode_images([GOOD], max_pixels=1000)
    png = encode(photo_like(64, 80, seed=4), "PNG")
    with pytest.raises(fastimg.DecodeError, match=r"too large"):
        fastimg.decode_images([png], max_pixels=1000)


def test_skip_records_every_failure(tmp_path):
    cases = corrupt_cases()
    sources = [GOOD, cases["empty"][0], str(tmp_path / "missing.jpg"), GOOD, cases["truncated_baseline"][0]]
    errors: list = []
    outs = fastimg.decode_images(sources, on_error="skip", errors=errors)
    assert [o is None for o in outs] == [False, True, True, False, True]
    assert [e.index for e in errors] == [1, 2, 4]
    assert "empty" in errors[0].reason
    assert errors[1].source.endswith("missing.jpg") and "No such file" in errors[1].reason
    assert "truncated JPEG" in errors[2].reason


def test_bad_source_types():
    with pytest.raises(TypeError, match=r"sources\[1\]: expected a path or bytes-like object, got int"):
        fastimg.decode_images([GOOD, 3])
    with pytest.raises(TypeError, match=r"sources must be a sequence"):
        fastimg.decode_images("a.jpg")
    with pytest.raises(TypeError, match=r"1-D uint8"):
        fastimg.decode_images([np.zeros((2, 2), np.uint8)])
    with pytest.raises(ValueError, match=r"mode must be one of"):
        fastimg.decode_images([GOOD], "CMYK")
    with pytest.raises(ValueError, match=r"on_error must be"):
        fastimg.decode_images([GOOD], on_error="ignore")


@pytest.mark.parametrize("progressive", [False, True])
def test_truncated_jpeg_fails_whatever_the_crop(progressive):
    """A file cut inside its entropy-coded data must fail every time: a crop ending above the damage used to
    decode (good in one epoch, bad in the next). Trailing bytes after EOI stay accepted."""
    data = encode(textured(256, 192, 3), quality=90, progressive=progressive)
    cut = data[: int(len(data) * 0.9)]
    top = fastimg.Transform((8, 192), resize=(256, 192), crop="center", antialias=False)
    stripes = [fastimg.Transform(16), top, fastimg.Transform.imagenet_train(32)]
    for transform in stripes:
        for epoch in range(4):
            with pytest.raises(fastimg.DecodeError, match="truncated JPEG"):
                fastimg.load_batch([cut], transform, seed=1, epoch=epoch)
        assert fastimg.load_batch([data + b"\x00\x17 trailing"], transform).images.shape[0] == 1
    with pytest.raises(fastimg.DecodeError, match="truncated JPEG"):
        fastimg.decode_images([cut])
    without_eoi = data[:-2]
    with pytest.raises(fastimg.DecodeError, match="truncated JPEG"):
        fastimg.decode_images([without_eoi])
