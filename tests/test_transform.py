"""Transform: validation, presets, immutability."""

import numpy as np
import pytest
from imaging import encode, photo_like

import fastimg
from fastimg import Transform


def test_presets_match_torchvision_chains():
    train = Transform.imagenet_train(224)
    assert (train.size, train.crop, train.hflip) == ((224, 224), "random_resized", 0.5)
    assert train.mean == (0.485, 0.456, 0.406) and train.std == (0.229, 0.224, 0.225)
    evaluation = Transform.imagenet_eval(224)
    assert (evaluation.resize, evaluation.crop, evaluation.size) == (256, "center", (224, 224))
    assert Transform.imagenet_eval(160).resize == 182
    assert train == Transform(224, crop="random_resized", hflip=0.5)
    assert hash(train) == hash(Transform(224, crop="random_resized", hflip=0.5))


def test_immutable():
    t = Transform(32)
    with pytest.raises(AttributeError, match="immutable"):
        t.hflip = 0.5


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        (dict(size=0), ValueError, "size must be positive"),
        (dict(size=(3, 4, 5)), TypeError, r"size must be an int or a \(height, width\) pair"),
        (dict(size=224, crop="middle"), ValueError, "crop must be None, 'center', 'random_resized' or 'random'"),
        (dict(size=224, resize=256), ValueError, "without a crop gives images of different shapes"),
        (dict(size=224, resize=256, max_size=256, crop="center"), ValueError, "max_size=256 must be larger"),
        (dict(size=224, resize=(256, 256), max_size=300, crop="center"), ValueError, "max_size applies to resize=int"),
        (dict(size=224, resize=256, crop="random_resized"), ValueError, "cannot be combined"),
        (dict(size=224, crop="random_resized", scale=(0.5, 0.1)), ValueError, "scale must satisfy"),
        (dict(size=224, crop="random_resized", scale=(0.1, 1.5)), ValueError, "scale must satisfy"),
        (dict(size=224, ratio=(0, 1)), ValueError, "ratio must satisfy"),
        (dict(size=224, hflip=1.5), ValueError, "hflip must be a probability"),
        (dict(size=224, color_jitter={"hue": 0.6}), ValueError, "hue must be in"),
        (dict(size=224, color_jitter=-0.1), ValueError, "must be >= 0"),
        (dict(size=224, mean=(0.5, 0.5)), ValueError, "mean must have 3 values"),
        (dict(size=224, std=(0.5, 0.0, 0.5)), ValueError, "std must be positive"),
        (dict(size=224, dtype="int32"), ValueError, "dtype must be one of"),
        (dict(size=224, dtype="uint8", mean=(0.5, 0.5, 0.5)), ValueError, "raw 0-255 pixels"),
        (dict(size=224, layout="CHW"), ValueError, "layout must be"),
        (dict(size=224, interpolation="antialias"), ValueError, "interpolation must be one of bilinear, bicubic"),
    ],
)
def test_invalid_combinations_are_rejected(kwargs, exc, message):
    size = kwargs.pop("size")
    with pytest.raises(exc, match=message):
        Transform(size, **kwargs)


def test_batch_shape_and_dtype():
    t = Transform((32, 48), dtype=np.float16, layout="NHWC")
    assert t.batch_shape(5) == (5, 32, 48, 3) and t.numpy_dtype == np.float16
    assert Transform(8).batch_shape(2) == (2, 3, 8, 8)


def test_load_batch_rejects_non_transform():
    with pytest.raises(TypeError, match=r"fastimg\.Transform"):
        fastimg.load_batch([], {"size": 224})


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_hflip_refuses_bools_and_says_what_to_write(value):
    with pytest.raises(TypeError, match=r"hflip=0\.5 flips at random.*hflip=1\.0 always flips"):
        Transform(32, hflip=value)
    assert Transform(32, hflip=0.5).hflip == 0.5 and Transform(32, hflip=1).hflip == 1.0


def test_params_tell_what_a_sample_gets():
    t = Transform(96, crop="random_resized", hflip=0.5, color_jitter=0.4)
    p = t.params(500, 375, 7, seed=3, epoch=1)
    assert set(p) == {"box", "flip", "brightness", "contrast", "saturation", "jitter_order", "vflip", "grayscale"} | {
        "erase",
        "padding",
        "hue",
        "augment",
    }
    x0, y0, x1, y1 = p["box"]
    assert 0 <= x0 < x1 <= 500 and 0 <= y0 < y1 <= 375 and sorted(p["jitter_order"]) == [0, 1, 2]
    assert p == t.params(500, 375, 7, seed=3, epoch=1) != t.params(500, 375, 7, seed=3, epoch=2)
    # the flip it reports is the one load_batch applies
    img = photo_like(375, 500, seed=1)
    data = encode(img, "PNG")
    plain = t.replace(hflip=0.0, color_jitter=None, mean=None, std=None, dtype="uint8")
    flips = [t.params(500, 375, i)["flip"] for i in range(8)]
    assert True in flips and False in flips
    got = fastimg.load_batch([data] * 8, t.replace(color_jitter=None, mean=None, std=None, dtype="uint8"))
    unflipped = fastimg.load_batch([data] * 8, plain)
    for i, flip in enumerate(flips):
        expected = unflipped.images[i][..., ::-1] if flip else unflipped.images[i]
        np.testing.assert_array_equal(got.images[i], expected)
    # Resize(256) makes 500x375 into 341x256; CenterCrop(224) takes x 58..282, y 16..240 of that
    fx, fy = 500 / 341, 375 / 256
    box = Transform.imagenet_eval(224).params(500, 375, 0)["box"]
    assert box == pytest.approx((58 * fx, 16 * fy, 282 * fx, 240 * fy))
    for bad in ((0, 10, 0), (10, 10, -1)):
        with pytest.raises(ValueError):
            t.params(*bad)


def test_every_parameter_survives_pickling_and_replace():
    """Spawned DataLoader workers get Transforms by pickling: each stored value must build the same one."""
    import pickle

    t = Transform(
        32,
        crop="random",
        padding=4,
        hflip=0.5,
        vflip=0.25,
        grayscale=0.2,
        erasing=dict(p=0.5, value=(0.1, 0.2, 0.3)),
        auto_augment="trivial_augment_wide",
        color_jitter=(0.4, 0.4, 0.4, 0.1),
    )
    assert pickle.loads(pickle.dumps(t)) == t
    assert t.replace(vflip=0.0).replace(vflip=0.25) == t
    eval_t = Transform(224, resize=256, max_size=300, crop="center")
    assert pickle.loads(pickle.dumps(eval_t)) == eval_t


def test_one_mean_and_std_value_serve_every_channel():
    """As torchvision's Normalize broadcasts Normalize(0.5, 0.5) / Normalize([0.5], [0.5])."""
    assert Transform(8, mean=0.5, std=[0.25]).mean == (0.5, 0.5, 0.5)
    assert Transform(8, mean=[0.5], std=0.25).std == (0.25, 0.25, 0.25)
