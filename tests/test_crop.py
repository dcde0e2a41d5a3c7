import numpy as np
import pytest
from imaging import textured

import fastimg


def test_crop_boxes_match_numpy_slicing():
    imgs = [textured(40, 50, 3, seed=1), textured(33, 21, None, seed=2), textured(64, 64, 4, seed=3)]
    boxes = [(5, 7, 20, 10), (0, 0, 21, 33), (63, 63, 1, 1)]
    outs = fastimg.batch_crop_images(imgs, boxes)
    for img, (x, y, w, h), out in zip(imgs, boxes, outs):
        np.testing.assert_array_equal(out, img[y : y + h, x : x + w])
        assert out.flags.c_contiguous and not np.shares_memory(out, img)


def test_center_crop_offsets_follow_floor_division():
    img = textured(11, 10)
    out = fastimg.batch_center_crop_images([img], (4, 5))[0]
    # offsets ((10 - 4) // 2, (11 - 5) // 2) = (3, 3)
    np.testing.assert_array_equal(out, img[3:8, 3:7])
    odd = fastimg.batch_center_crop_images([textured(9, 9)], (2, 2))[0]
    np.testing.assert_array_equal(odd, textured(9, 9)[3:5, 3:5])


def test_center_crop_of_strided_views_and_stack():
    big = textured(500, 600)
    views = [big[10:410, 20:520], big[50:450, 0:500]]
    out = fastimg.batch_center_crop_images(views, (224, 224), stack=True)
    assert out.shape == (2, 224, 224, 3)
    for view, o in zip(views, out):
        y, x = (view.shape[0] - 224) // 2, (view.shape[1] - 224) // 2
        np.testing.assert_array_equal(o, view[y : y + 224, x : x + 224])


def test_random_crop_is_reproducible_and_a_real_crop():
    imgs = [textured(60, 80, seed=i) for i in range(32)]
    a = fastimg.batch_random_crop_images(imgs, (30, 20), seed=123)
    b = fastimg.batch_random_crop_images(imgs, (30, 20), seed=123, num_threads=1)
    c = fastimg.batch_random_crop_images(imgs, (30, 20), seed=124)
    positions = set()
    for img, crop_a, crop_b in zip(imgs, a, b):
        np.testing.assert_array_equal(crop_a, crop_b)
        # locate the crop in the source: it must be an exact window
        matches = [(x, y) for y in range(41) for x in range(51) if np.array_equal(img[y : y + 20, x : x + 30], crop_a)]
        assert matches, "random crop is not a window of its source"
        positions.add(matches[0])
    assert len(positions) > 10, "positions should vary across images"
    assert any(not np.array_equal(x, y) for x, y in zip(a, c)), "another seed should give other crops"


def test_random_crop_depends_on_index_not_batch_split():
    imgs = [textured(50, 50, seed=i) for i in range(8)]
    whole = fastimg.batch_random_crop_images(imgs, (10, 10), seed=5)
    first = fastimg.batch_random_crop_images(imgs[:4], (10, 10), seed=5)
    for x, y in zip(whole[:4], first):
        np.testing.assert_array_equal(x, y)


def test_random_crop_without_seed_follows_python_random():
    import random

    imgs = [textured(50, 50, seed=i) for i in range(4)]
    random.seed(7)
    a = fastimg.batch_random_crop_images(imgs, (10, 10))
    random.seed(7)
    b = fastimg.batch_random_crop_images(imgs, (10, 10))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_crop_full_image_is_identity():
    img = textured(17, 19)
    np.testing.assert_array_equal(fastimg.batch_random_crop_images([img], (19, 17), seed=1)[0], img)


@pytest.mark.parametrize(
    "box, message",
    [
        (
            (45, 0, 10, 10),
            r"images\[0\]: box \(x=45, y=0, width=10, height=10\) does not fit in the 50x40 \(width x height\) image",
        ),
        ((-1, 0, 10, 10), r"does not fit"),
        ((0, 0, 0, 10), r"width and height must be positive"),
    ],
)
def test_crop_errors_name_the_box(box, message):
    with pytest.raises(ValueError, match=message):
        fastimg.batch_crop_images([textured(40, 50)], box)


def test_crop_size_larger_than_image():
    with pytest.raises(
        ValueError, match=r"images\[1\]: crop size 30x30 \(width x height\) does not fit in the 20x20 image"
    ):
        fastimg.batch_center_crop_images([textured(40, 40), textured(20, 20)], (30, 30))
    with pytest.raises(ValueError, match=r"does not fit"):
        fastimg.batch_random_crop_images([textured(20, 20)], (21, 5), seed=0)
