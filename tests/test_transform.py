"""Transform: validation, presets, immutability."""

import numpy as np
import pytest

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
        (dict(size=224, crop="middle"), ValueError, "crop must be None, 'center' or 'random_resized'"),
        (dict(size=224, resize=256), ValueError, "without a crop gives images of different shapes"),
        (dict(size=224, resize=200, crop="center"), ValueError, "smaller than the 224x224 crop"),
        (dict(size=224, resize=256, crop="random_resized"), ValueError, "cannot be combined"),
        (dict(size=224, crop="random_resized", scale=(0.5, 0.1)), ValueError, "scale must satisfy"),
        (dict(size=224, crop="random_resized", scale=(0.1, 1.5)), ValueError, "scale must satisfy"),
        (dict(size=224, ratio=(0, 1)), ValueError, "ratio must satisfy"),
        (dict(size=224, hflip=1.5), ValueError, "hflip must be a probability"),
        (dict(size=224, color_jitter={"hue": 0.1}), ValueError, "hue is not supported"),
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
