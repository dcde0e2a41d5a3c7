"""Arrays as they arrive from other processes and from files: pickled (an equal but distinct dtype object),
np.frombuffer views, memmaps, non-contiguous views. Every batch op accepts them and gives the bytes it
gives for a plain array; decode_images takes the same kinds of bytes-like sources."""

import pickle

import numpy as np
import pytest
from imaging import encode, textured

import fastimg

OPS = {
    "resize": lambda imgs: fastimg.batch_resize_images(imgs, (10, 12)),
    "resize_bilinear": lambda imgs: fastimg.batch_resize_images(imgs, (40, 30), "bilinear"),
    "crop": lambda imgs: fastimg.batch_crop_images(imgs, (2, 3, 10, 8)),
    "center_crop": lambda imgs: fastimg.batch_center_crop_images(imgs, (16, 16)),
    "random_crop": lambda imgs: fastimg.batch_random_crop_images(imgs, (16, 16), seed=3),
    "luminance": lambda imgs: [fastimg.batch_calculate_luminance(imgs)],
    "rgb_to_rgba": lambda imgs: fastimg.batch_rgb_to_rgba(imgs),
    "videos": lambda imgs: fastimg.batch_resize_videos([np.stack(imgs)], (9, 7)),
}


def _plain():
    return [textured(32, 48, 3, seed=s) for s in range(2)]


def _pickled(tmp_path):
    return [pickle.loads(pickle.dumps(a)) for a in _plain()]


def _frombuffer(tmp_path):
    return [np.frombuffer(a.tobytes(), dtype=np.uint8).reshape(a.shape) for a in _plain()]


def _memmap(tmp_path):
    out = []
    for k, a in enumerate(_plain()):
        m = np.lib.format.open_memmap(tmp_path / f"{k}.npy", mode="w+", dtype=np.uint8, shape=a.shape)
        m[:] = a
        m.flush()
        out.append(np.load(tmp_path / f"{k}.npy", mmap_mode="r"))
    return out


def _strided(tmp_path):
    # a window of a larger image: rows strided, pixels packed
    return [np.pad(a, ((5, 5), (7, 3), (0, 0)))[5:-5, 7:-3] for a in _plain()]


def _uint8_from_pickled_batch(tmp_path):
    return list(pickle.loads(pickle.dumps(np.stack(_plain()))))


KINDS = {
    "pickled": _pickled,
    "frombuffer": _frombuffer,
    "memmap": _memmap,
    "strided_view": _strided,
    "rows_of_pickled_batch": _uint8_from_pickled_batch,
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("op", sorted(OPS))
def test_batch_ops_accept_arrays_from_anywhere(tmp_path, kind, op):
    images = KINDS[kind](tmp_path)
    assert all(np.array_equal(a, b) for a, b in zip(images, _plain()))
    for got, want in zip(OPS[op](images), OPS[op](_plain())):
        assert np.array_equal(got, want)


def test_a_pickled_stacked_batch_is_accepted_whole():
    batch = pickle.loads(pickle.dumps(np.stack(_plain())))
    assert fastimg.batch_resize_images(batch, (8, 8), stack=True).shape == (2, 8, 8, 3)


def test_non_uint8_arrays_are_still_refused_and_column_strided_ones_copied():
    with pytest.raises(TypeError, match=r"\[0\]: expected dtype uint8, got int8"):
        fastimg.batch_resize_images([np.zeros((8, 8, 3), np.int8)], (4, 4))
    with pytest.raises(TypeError, match=r"expected dtype uint8, got bool"):
        fastimg.batch_calculate_luminance([np.zeros((8, 8), bool)])
    columns = textured(8, 8, 3)[:, ::2]
    got = fastimg.batch_resize_images([columns], (4, 4))[0]
    assert np.array_equal(got, fastimg.batch_resize_images([np.ascontiguousarray(columns)], (4, 4))[0])


def test_decode_accepts_bytes_like_sources_from_anywhere(tmp_path):
    data = encode(textured(20, 30, 3), quality=95)
    want = fastimg.decode_images([data])[0]
    raw = np.frombuffer(data, dtype=np.uint8)
    (tmp_path / "a.bin").write_bytes(data)
    sources = [
        pickle.loads(pickle.dumps(raw)),
        raw,
        bytearray(data),
        memoryview(data),
        np.memmap(tmp_path / "a.bin", dtype=np.uint8, mode="r"),
        np.concatenate([raw, raw])[: len(raw)],
    ]
    for got in fastimg.decode_images(sources):
        assert np.array_equal(got, want)
