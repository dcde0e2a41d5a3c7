import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from imaging import assert_image_close, textured
from PIL import Image

import fastimg

CV2_FLAGS = {
    "nearest": cv2.INTER_NEAREST,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
    "lanczos4": cv2.INTER_LANCZOS4,
}


@pytest.mark.parametrize("mode", sorted(CV2_FLAGS))
@pytest.mark.parametrize("channels", [None, 1, 3, 4])
@pytest.mark.parametrize("size", [(64, 48), (301, 199), (17, 230)])
def test_matches_opencv(mode, channels, size):
    img = textured(157, 211, channels, seed=size[0])
    out = fastimg.batch_resize_images([img], size, mode)[0]
    ref = cv2.resize(img, size, interpolation=CV2_FLAGS[mode])
    if channels == 1:
        ref = ref[..., None]  # cv2 drops a trailing channel axis of 1; fastimg keeps the input's rank
    assert out.shape == ref.shape
    assert_image_close(out, ref, max_abs=1)


def test_default_interpolation_is_area_to_shrink_and_bilinear_to_grow():
    img = textured(120, 90)
    shrunk = fastimg.batch_resize_images([img], (37, 52))[0]
    grown = fastimg.batch_resize_images([img], (200, 300))[0]
    mixed = fastimg.batch_resize_images([img], (45, 300))[0]
    np.testing.assert_array_equal(shrunk, fastimg.batch_resize_images([img], (37, 52), "area")[0])
    np.testing.assert_array_equal(grown, fastimg.batch_resize_images([img], (200, 300), "bilinear")[0])
    np.testing.assert_array_equal(mixed, fastimg.batch_resize_images([img], (45, 300), "bilinear")[0])
    assert not np.array_equal(shrunk, fastimg.batch_resize_images([img], (37, 52), "bilinear")[0])


def test_area_at_integer_factor_matches_pillow_box_and_numpy_block_mean():
    img = textured(96, 128)
    out = fastimg.batch_resize_images([img], (32, 24), "area")[0]
    block_mean = img.reshape(24, 4, 32, 4, 3).astype(np.float64).mean(axis=(1, 3))
    # Same average; rounding of exact .5 ties may differ by one level.
    assert np.abs(out - block_mean).max() <= 0.5 + 1e-9
    pil = np.asarray(Image.fromarray(img).resize((32, 24), Image.Resampling.BOX))
    assert_image_close(out, pil, max_abs=1)


def test_bilinear_is_close_to_pillow_when_growing():
    # Different implementations of the same filter (no antialias when growing): rounding-level differences.
    img = textured(50, 70)
    out = fastimg.batch_resize_images([img], (140, 100), "bilinear")[0]
    pil = np.asarray(Image.fromarray(img).resize((140, 100), Image.Resampling.BILINEAR))
    assert_image_close(out, pil, mean_abs=1.0, min_psnr=40)


def test_cv2_codes_accepted():
    img = textured(40, 40)
    for name, code in CV2_FLAGS.items():
        np.testing.assert_array_equal(
            fastimg.batch_resize_images([img], (13, 17), code)[0], fastimg.batch_resize_images([img], (13, 17), name)[0]
        )


def test_batch_array_input_list_output_and_stack():
    batch = np.stack([textured(64, 80, seed=i) for i in range(5)])
    outs = fastimg.batch_resize_images(batch, (20, 10))
    assert isinstance(outs, list) and len(outs) == 5
    stacked = fastimg.batch_resize_images(batch, (20, 10), stack=True)
    assert stacked.shape == (5, 10, 20, 3) and stacked.flags.c_contiguous
    for i in range(5):
        np.testing.assert_array_equal(outs[i], stacked[i])
        np.testing.assert_array_equal(stacked[i], cv2.resize(batch[i], (20, 10), interpolation=cv2.INTER_AREA))


def test_per_image_sizes_and_mixed_channels():
    imgs = [textured(30, 40, 3), textured(50, 20, None), textured(33, 33, 4)]
    sizes = [(10, 12), (7, 9), (66, 66)]
    outs = fastimg.batch_resize_images(imgs, sizes, "bilinear")
    assert [o.shape for o in outs] == [(12, 10, 3), (9, 7), (66, 66, 4)]
    with pytest.raises(ValueError, match="stack=True needs outputs of one shape"):
        fastimg.batch_resize_images(imgs, sizes, stack=True)


def test_strided_view_is_read_in_place():
    big = textured(300, 400)
    view = big[50:250, 100:350]  # row-strided: not C-contiguous
    assert not view.flags.c_contiguous
    out = fastimg.batch_resize_images([view], (100, 80), "bilinear")[0]
    np.testing.assert_array_equal(out, cv2.resize(np.ascontiguousarray(view), (100, 80)))


def test_other_layouts_are_copied_not_rejected():
    img = textured(60, 80)
    flipped = img[::-1, ::2]  # negative row stride and skipped columns
    out = fastimg.batch_resize_images([flipped], (20, 30), "nearest")[0]
    np.testing.assert_array_equal(
        out, cv2.resize(np.ascontiguousarray(flipped), (20, 30), interpolation=cv2.INTER_NEAREST)
    )


@pytest.mark.parametrize("mode", ["bilinear", "area", "lanczos4"])
def test_single_large_image_is_thread_count_invariant(mode):
    img = textured(1800, 2400)
    one = fastimg.batch_resize_images([img], (700, 500), mode, num_threads=1)[0]
    two = fastimg.batch_resize_images([img], (700, 500), mode, num_threads=2)[0]
    four = fastimg.batch_resize_images([img], (700, 500), mode, num_threads=4)[0]
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, four)


def test_videos_resize_every_frame():
    videos = [np.stack([textured(48, 64, seed=t) for t in range(5)]), np.stack([textured(30, 20, seed=9)] * 3)]
    outs = fastimg.batch_resize_videos(videos, [(32, 24), (10, 15)])
    assert [o.shape for o in outs] == [(5, 24, 32, 3), (3, 15, 10, 3)]
    for video, out, size in zip(videos, outs, [(32, 24), (10, 15)]):
        for t in range(video.shape[0]):
            np.testing.assert_array_equal(out[t], cv2.resize(video[t], size, interpolation=cv2.INTER_AREA))


def test_videos_reject_non_4d():
    with pytest.raises(ValueError, match=r"videos\[0\]: expected a \(T, H, W, C\) array"):
        fastimg.batch_resize_videos([textured(10, 10)], (5, 5))


@settings(deadline=None, max_examples=60)
@given(
    h=st.integers(1, 120),
    w=st.integers(1, 120),
    c=st.sampled_from([None, 3, 4]),
    out_w=st.integers(1, 150),
    out_h=st.integers(1, 150),
    mode=st.sampled_from(sorted(CV2_FLAGS)),
    seed=st.integers(0, 2**16),
)
def test_random_shapes_match_opencv(h, w, c, out_w, out_h, mode, seed):
    img = textured(h, w, c, seed=seed)
    out = fastimg.batch_resize_images([img], (out_w, out_h), mode)[0]
    ref = cv2.resize(img, (out_w, out_h), interpolation=CV2_FLAGS[mode])
    assert_image_close(out, ref.reshape(out.shape), max_abs=1)
