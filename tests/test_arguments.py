"""Bad arguments raise TypeError/ValueError naming the index and the value; nothing crashes."""

import numpy as np
import pytest
from imaging import textured

import fastimg


@pytest.mark.parametrize(
    "images, exc, message",
    [
        ([np.zeros((4, 4, 3), np.float32)], TypeError, r"images\[0\]: expected dtype uint8, got float32"),
        (
            [textured(4, 4), np.zeros((4, 4, 3, 1), np.uint8)],
            ValueError,
            r"images\[1\]: expected shape \(H, W\) or \(H, W, C\), got \(4, 4, 3, 1\)",
        ),
        ([np.zeros((4, 4, 2), np.uint8)], ValueError, r"images\[0\]: expected 1, 3 or 4 channels, got 2"),
        ([np.zeros((0, 4, 3), np.uint8)], ValueError, r"images\[0\]: empty image"),
        ([[1, 2, 3]], TypeError, r"images\[0\]: expected a numpy array, got list"),
        (np.zeros((4, 4, 3), np.uint8), ValueError, r"a single array must be a \(B, H, W, C\) batch"),
        ("not images", TypeError, r"expected a list of numpy arrays"),
    ],
)
def test_bad_images(images, exc, message):
    with pytest.raises(exc, match=message):
        fastimg.batch_resize_images(images, (2, 2))
    with pytest.raises(exc, match=message):
        fastimg.batch_calculate_luminance(images)


@pytest.mark.parametrize(
    "sizes, exc, message",
    [
        ((0, 5), ValueError, r"sizes: sizes must be positive, got \(0, 5\)"),
        ((5, -1), ValueError, r"must be positive"),
        ([(4, 4)], ValueError, r"got 2 images but 1 sizes"),
        ([(4, 4), (2.5, 3)], TypeError, r"sizes\[1\]: expected integers, got \(2.5, 3\)"),
        ([(4, 4), "ab"], TypeError, r"sizes\[1\]"),
        (7, TypeError, r"sizes: expected a \(width, height\) pair"),
    ],
)
def test_bad_sizes(sizes, exc, message):
    imgs = [textured(8, 8), textured(9, 9)]
    with pytest.raises(exc, match=message):
        fastimg.batch_resize_images(imgs, sizes)


def test_bad_boxes_and_interpolation_and_threads():
    imgs = [textured(8, 8)]
    with pytest.raises(ValueError, match=r"got 1 images but 2 boxes"):
        fastimg.batch_crop_images(imgs, [(0, 0, 2, 2), (0, 0, 2, 2)])
    with pytest.raises(TypeError, match=r"boxes\[0\]: expected \(x, y, width, height\)"):
        fastimg.batch_crop_images(imgs, [(0, 0, 2)])
    with pytest.raises(ValueError, match=r"interpolation must be None .* got 'bogus'"):
        fastimg.batch_resize_images(imgs, (2, 2), "bogus")
    with pytest.raises(ValueError, match=r"num_threads must be a positive integer or None, got 0"):
        fastimg.batch_resize_images(imgs, (2, 2), num_threads=0)
    with pytest.raises(TypeError, match=r"seed must be an integer"):
        fastimg.batch_random_crop_images(imgs, (2, 2), seed="x")


def test_native_layer_rejects_what_slips_past_python():
    # The bindings validate too: calling the core directly with a bad array raises, never crashes.
    from fastimg import _core

    with pytest.raises(TypeError, match=r"image 0: expected dtype uint8"):
        _core.luminance([np.zeros((3, 3), np.int16)])
    with pytest.raises(ValueError, match=r"output 0: array is read-only"):
        out = np.zeros((2, 2, 3), np.uint8)
        out.setflags(write=False)
        _core.resize([textured(4, 4)], [out], _core.Interpolation.BILINEAR)
    with pytest.raises(ValueError, match=r"image 0: output has 4 channels, input has 3"):
        _core.resize([textured(4, 4)], [np.zeros((2, 2, 4), np.uint8)], _core.Interpolation.BILINEAR)
    with pytest.raises(ValueError, match=r"got 1 inputs but 2 outputs"):
        _core.crop([textured(4, 4)], [np.zeros((2, 2, 3), np.uint8)] * 2, [(0, 0), (0, 0)])


def test_empty_batch_returns_empty():
    assert fastimg.batch_resize_images([], (4, 4)) == []
    assert fastimg.batch_calculate_luminance([]).shape == (0,)
