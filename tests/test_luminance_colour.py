import cv2
import numpy as np
import pytest
from imaging import textured

import fastimg


def exact_luma(img: np.ndarray) -> float:
    """Rec.601 mean from exact integer sums, the value fastimg promises to the last bit."""
    if img.ndim == 2 or img.shape[2] == 1:
        return float(int(img.astype(np.uint64).sum()) * 1000 / (1000 * img.shape[0] * img.shape[1]))
    s = [int(img[..., k].astype(np.uint64).sum()) for k in range(3)]
    return (299 * s[0] + 587 * s[1] + 114 * s[2]) / (1000.0 * img.shape[0] * img.shape[1])


@pytest.mark.parametrize("channels", [None, 1, 3, 4])
@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (129, 333), (480, 640)])
def test_luminance_is_exact(channels, shape):
    img = textured(*shape, channels, seed=shape[1])
    assert fastimg.batch_calculate_luminance([img])[0] == exact_luma(img)


def test_luminance_matches_float_formula_and_opencv():
    imgs = [textured(200, 300, seed=i) for i in range(4)]
    got = fastimg.batch_calculate_luminance(imgs)
    assert got.dtype == np.float64 and got.shape == (4,)
    weights = np.array([0.299, 0.587, 0.114])
    expected = [float((img.astype(np.float64) @ weights).mean()) for img in imgs]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    # cv2 rounds each grey pixel to an integer first: agreement within that rounding (mean |err| <= 0.5).
    via_cv2 = [cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).mean() for img in imgs]
    np.testing.assert_allclose(got, via_cv2, atol=0.5)


def test_luminance_of_huge_saturated_image_has_no_drift():
    img = np.full((5120, 5120, 3), 255, np.uint8)
    img[0, 0] = (254, 255, 255)
    # exact: (299 * (N*255 - 1) + 587 * 255N + 114 * 255N) / 1000N = 255 - 0.299 / N
    n = 5120 * 5120
    expected = (299 * (n * 255 - 1) + 587 * 255 * n + 114 * 255 * n) / (1000.0 * n)
    assert fastimg.batch_calculate_luminance([img])[0] == expected
    assert expected < 255.0


def test_luminance_of_strided_views_and_thread_invariance():
    big = textured(1500, 1700)
    views = [big[100:1400, 3:1603], big[::1, 5:7]]
    one = fastimg.batch_calculate_luminance(views, num_threads=1)
    two = fastimg.batch_calculate_luminance(views, num_threads=2)
    np.testing.assert_array_equal(one, two)
    assert one[0] == exact_luma(np.ascontiguousarray(views[0]))


def test_rgb_rgba_round_trip():
    imgs = [textured(31, 17, seed=i) for i in range(3)]
    rgba = fastimg.batch_rgb_to_rgba(imgs)
    for img, out in zip(imgs, rgba):
        assert out.shape == (31, 17, 4)
        np.testing.assert_array_equal(out[..., :3], img)
        assert (out[..., 3] == 255).all()
    back = fastimg.batch_rgba_to_rgb(rgba, stack=True)
    np.testing.assert_array_equal(back, np.stack(imgs))
    np.testing.assert_array_equal(fastimg.rgb_to_rgba(imgs[0]), rgba[0])
    np.testing.assert_array_equal(fastimg.rgba_to_rgb(rgba[1]), imgs[1])


def test_colour_conversion_rejects_wrong_channels():
    with pytest.raises(ValueError, match=r"images\[0\]: expected \(H, W, 3\), got shape \(5, 5, 4\)"):
        fastimg.rgb_to_rgba(textured(5, 5, 4))
    with pytest.raises(ValueError, match=r"expected \(H, W, 4\)"):
        fastimg.batch_rgba_to_rgb([textured(5, 5, None)])
