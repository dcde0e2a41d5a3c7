"""load_batch: geometry exactly as torchvision computes it, pixels against a Pillow reference of the same
geometry (full decode, antialiased resize), and invariance to threads and batch splits.

Tolerances (0-255 scale) against Pillow's antialiased bilinear: the default (antialiased) mean |err| <=
1.0 and PSNR >= 38 dB; the cheaper antialias=False mean |err| <= 2.5 and PSNR >= 32 dB."""

import io
import math

import numpy as np
import pytest
from imaging import assert_image_close, decode_pil, encode, photo_like
from PIL import Image

import fastimg
from fastimg import Transform, _core

SIZES = [(375, 500), (500, 333), (300, 300), (1200, 1600)]


@pytest.fixture(scope="module")
def jpegs():
    return [encode(photo_like(h, w, seed=i), quality=92) for i, (h, w) in enumerate(SIZES)]


def pil_reference(data, box, size_hw, flip=False):
    """Full decode, then Pillow's antialiased bilinear resize of the real-valued box."""
    h, w = size_hw
    with Image.open(io.BytesIO(data)) as im:
        out = im.convert("RGB").resize((w, h), Image.Resampling.BILINEAR, box=box)
    arr = np.asarray(out)
    return arr[:, ::-1] if flip else arr


def run_u8(sources, transform_kwargs, **kwargs):
    t = Transform(**{**transform_kwargs, "dtype": "uint8", "layout": "NHWC", "mean": None, "std": None})
    return fastimg.load_batch(sources, t, **kwargs).images


def plan(transform, width, height, seed=0, epoch=0, index=0):
    return _core.plan_item(width, height, transform._spec, seed, epoch, index)


def tv_resize_center_box(width, height, resize, crop_h, crop_w):
    """torchvision Resize(int) + CenterCrop, expressed as a box in source pixels."""
    if width <= height:
        rw, rh = resize, int(resize * height / width)
    else:
        rw, rh = int(resize * width / height), resize
    top, left = int(round((rh - crop_h) / 2.0)), int(round((rw - crop_w) / 2.0))
    fx, fy = width / rw, height / rh
    return (left * fx, top * fy, (left + crop_w) * fx, (top + crop_h) * fy)


def tv_random_resized_crop(width, height, scale, ratio, draws):
    """torchvision RandomResizedCrop.get_params with its random draws taken from `draws`."""
    it = iter(draws)
    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * (scale[0] + (scale[1] - scale[0]) * next(it))
        aspect = math.exp(log_ratio[0] + (log_ratio[1] - log_ratio[0]) * next(it))
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            top = int(next(it) * (height - h + 1))
            left = int(next(it) * (width - w + 1))
            return (left, top, left + w, top + h)
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        h, w = height, int(round(height * max(ratio)))
    else:
        w, h = width, height
    return ((width - w) // 2, (height - h) // 2, (width - w) // 2 + w, (height - h) // 2 + h)


@pytest.mark.parametrize("width, height", [(500, 375), (333, 500), (256, 256), (1000, 99), (257, 1031)])
def test_eval_geometry_is_torchvision_resize_then_center_crop(width, height):
    t = Transform.imagenet_eval(224)
    got = plan(t, width, height)["box"]
    assert got == pytest.approx(tv_resize_center_box(width, height, 256, 224, 224), abs=1e-9)


@pytest.mark.parametrize(
    "scale, ratio", [((0.08, 1.0), (3 / 4, 4 / 3)), ((0.9, 1.0), (2.0, 3.0)), ((0.5, 1.0), (0.2, 0.3))]
)
@pytest.mark.parametrize("width, height", [(500, 375), (64, 512), (300, 300)])
def test_random_resized_crop_geometry_matches_torchvision(width, height, scale, ratio):
    t = Transform(224, crop="random_resized", scale=scale, ratio=ratio)
    for index in range(40):
        draws = _core._testing.sample_uniforms(7, 3, 1, index, 64)  # seed 7, epoch 3, the crop stream
        expected = tv_random_resized_crop(width, height, scale, ratio, draws)
        assert plan(t, width, height, seed=7, epoch=3, index=index)["box"] == expected


def test_random_choices_depend_on_seed_epoch_and_index_only():
    t = Transform(224, crop="random_resized", hflip=0.5, color_jitter=0.4)
    a = [plan(t, 500, 375, seed=1, epoch=0, index=i) for i in range(50)]
    assert a == [plan(t, 500, 375, seed=1, epoch=0, index=i) for i in range(50)]
    assert a != [plan(t, 500, 375, seed=1, epoch=1, index=i) for i in range(50)]
    assert a != [plan(t, 500, 375, seed=2, epoch=0, index=i) for i in range(50)]
    flips = sum(p["flip"] for p in a)
    assert 10 < flips < 40
    assert all(0.6 <= p["brightness"] <= 1.4 and sorted(p["jitter_order"]) == [0, 1, 2] for p in a)


@pytest.mark.parametrize("antialias, mean_abs, min_psnr", [(False, 2.5, 32.0), (True, 1.0, 38.0)])
def test_eval_pixels_match_pillow_reference(jpegs, antialias, mean_abs, min_psnr):
    t = dict(size=224, resize=256, crop="center", antialias=antialias)
    out = run_u8(jpegs, t)
    for data, img, (h, w) in zip(jpegs, out, SIZES):
        ref = pil_reference(data, tv_resize_center_box(w, h, 256, 224, 224), (224, 224))
        assert_image_close(img, ref, mean_abs=mean_abs, min_psnr=min_psnr)


@pytest.mark.parametrize("antialias, mean_abs, min_psnr", [(False, 2.5, 32.0), (True, 1.0, 38.0)])
def test_random_resized_crop_pixels_match_pillow_reference(jpegs, antialias, mean_abs, min_psnr):
    t = Transform(
        224, crop="random_resized", hflip=0.5, antialias=antialias, dtype="uint8", mean=None, std=None, layout="NHWC"
    )
    indices = [11, 12, 13, 14]
    out = fastimg.load_batch(jpegs, t, seed=5, epoch=2, indices=indices).images
    for data, img, (h, w), index in zip(jpegs, out, SIZES, indices):
        p = plan(t, w, h, seed=5, epoch=2, index=index)
        ref = pil_reference(data, p["box"], (224, 224), flip=p["flip"])
        assert_image_close(img, ref, mean_abs=mean_abs, min_psnr=min_psnr)


def test_stretch_and_small_outputs(jpegs):
    out = run_u8(jpegs, dict(size=(32, 48)))
    for data, img, (h, w) in zip(jpegs, out, SIZES):
        ref = pil_reference(data, (0, 0, w, h), (32, 48))
        assert img.shape == (32, 48, 3)
        # A 10-50x shrink: DCT scaling (a box-like prefilter) then the triangle, against one wide triangle.
        assert_image_close(img, ref, mean_abs=2.5, min_psnr=32)


def test_normalisation_dtypes_and_layouts(jpegs):
    base = dict(size=64, resize=80, crop="center")
    raw = fastimg.load_batch(jpegs, Transform(**base, dtype="uint8", mean=None, std=None, layout="NHWC")).images
    unit = fastimg.load_batch(jpegs, Transform(**base, mean=None, std=None, layout="NHWC")).images
    norm = fastimg.load_batch(jpegs, Transform(**base)).images
    half = fastimg.load_batch(jpegs, Transform(**base, dtype="float16")).images
    assert norm.shape == (4, 3, 64, 64) and norm.dtype == np.float32 and half.dtype == np.float16
    assert unit.min() >= 0.0 and unit.max() <= 1.0
    assert np.abs(unit * 255 - raw).max() <= 0.5 + 1e-4  # uint8 is the rounded float pixel
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    expected = ((unit - mean) / std).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(norm, expected, atol=1e-5)
    np.testing.assert_array_equal(half, norm.astype(np.float16))


def test_flip_mirrors_the_output(jpegs):
    base = dict(size=96, resize=128, crop="center", dtype="uint8", mean=None, std=None, layout="NHWC")
    plain = fastimg.load_batch(jpegs, Transform(**base)).images
    flipped = fastimg.load_batch(jpegs, Transform(**base, hflip=1.0)).images
    np.testing.assert_array_equal(flipped, plain[:, :, ::-1])


def test_color_jitter_matches_torchvision_formulas(jpegs):
    base = dict(size=48, resize=64, crop="center", mean=None, std=None, layout="NHWC")
    t = Transform(**base, color_jitter={"brightness": 0.5, "contrast": 0.5, "saturation": 0.5})
    plain = fastimg.load_batch(jpegs[:2], Transform(**base)).images.astype(np.float64)
    got = fastimg.load_batch(jpegs[:2], t, seed=3, indices=[5, 6]).images
    for img, out, index in zip(plain, got, [5, 6]):
        p = plan(t, 1, 1, seed=3, index=index)  # jitter choices do not depend on the image size
        x = img.copy()
        for step in p["jitter_order"]:
            gray = 0.2989 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
            if step == 0:
                x = np.clip(x * p["brightness"], 0, 1)
            elif step == 1:
                x = np.clip(p["contrast"] * x + (1 - p["contrast"]) * gray.mean(), 0, 1)
            else:
                x = np.clip(p["saturation"] * x + (1 - p["saturation"]) * gray[..., None], 0, 1)
        np.testing.assert_allclose(out, x, atol=1e-4)
        assert not np.allclose(out, img, atol=1e-3)


def test_threads_and_batch_splits_give_identical_bytes(jpegs):
    t = Transform.imagenet_train(64)
    whole = fastimg.load_batch(jpegs, t, seed=9, num_threads=2).images
    single = fastimg.load_batch(jpegs, t, seed=9, num_threads=1).images
    np.testing.assert_array_equal(whole, single)
    halves = [
        fastimg.load_batch(jpegs[:2], t, seed=9, indices=[0, 1]).images,
        fastimg.load_batch(jpegs[2:], t, seed=9, indices=[2, 3]).images,
    ]
    np.testing.assert_array_equal(whole, np.concatenate(halves))


def test_out_parameter_is_filled_in_place(jpegs):
    t = Transform(32)
    out = np.full((6, 3, 32, 32), np.nan, np.float32)
    batch = fastimg.load_batch(jpegs, t, out=out)
    assert np.shares_memory(batch.images, out) and batch.images.shape == (4, 3, 32, 32)
    assert np.isnan(out[4:]).all() and not np.isnan(out[:4]).any()
    with pytest.raises(ValueError, match=r"out must have dtype float32 and shape"):
        fastimg.load_batch(jpegs, t, out=np.empty((4, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match=r"shape \(4 or more"):
        fastimg.load_batch(jpegs, t, out=np.empty((2, 3, 32, 32), np.float32))


def test_skip_compacts_good_items_in_order(jpegs, tmp_path):
    t = Transform(32)
    bad = jpegs[0][: len(jpegs[0]) // 3]
    sources = [bad, jpegs[1], str(tmp_path / "missing.jpg"), jpegs[2], b"not an image"]
    batch = fastimg.load_batch(sources, t, on_error="skip", indices=[10, 11, 12, 13, 14])
    assert batch.indices.tolist() == [11, 13]
    assert [e.index for e in batch.errors] == [10, 12, 14]
    alone = fastimg.load_batch([jpegs[1], jpegs[2]], t, indices=[11, 13]).images
    np.testing.assert_array_equal(batch.images, alone)
    with pytest.raises(fastimg.DecodeError, match=r"index 10\): truncated JPEG"):
        fastimg.load_batch(sources, t, indices=[10, 11, 12, 13, 14])


@pytest.mark.parametrize(
    "indices",
    [
        [7, 8, 9],
        range(7, 10),
        np.array([7, 8, 9], np.int64),
        np.array([7, 8, 9], np.uint16),
        np.array([7, 8, 9], object),
        (7, 8, 9),
        (i for i in (7, 8, 9)),
        "tensor",
    ],
)
def test_indices_as_list_range_array_or_tuple_agree(jpegs, indices):
    t = Transform(32, crop="random_resized", hflip=0.5)
    if isinstance(indices, str):
        import torch

        indices = torch.tensor([7, 8, 9])
    expected = fastimg.load_batch(jpegs[:3], t, indices=[7, 8, 9])
    batch = fastimg.load_batch(jpegs[:3], t, indices=indices)
    assert batch.indices.dtype == np.int64 and batch.indices.tolist() == [7, 8, 9]
    np.testing.assert_array_equal(batch.images, expected.images)


@pytest.mark.parametrize(
    "indices, error, message",
    [
        (range(-1, 2), ValueError, r"indices\[0\] must be a non-negative integer below 2\*\*63, got -1"),
        (range(1, -2, -1), ValueError, r"indices\[2\] .* got -1"),
        (np.array([1, -2, 3]), ValueError, r"indices\[1\] .* got -2"),
        (np.array([1, 2, 2**63], np.uint64), ValueError, r"indices\[2\] .* got 9223372036854775808"),
        ([1, 2, 2**70], ValueError, r"indices\[2\] .* got 1180591620717411303424"),
        ([1, True, 2], ValueError, r"indices\[1\] .* got True"),
        ([1, 2.0, 3], ValueError, r"indices\[1\] .* got 2.0"),
        (np.array([1.0, 2.0, 3.0]), TypeError, "one-dimensional integers, got float64"),
        (np.zeros((3, 1), np.int64), TypeError, "one-dimensional integers, got int64 of shape"),
        (7, TypeError, "a sequence of ints, one per source, got int"),
        ([1, 2], ValueError, "3 sources but 2 indices"),
        (range(4), ValueError, "3 sources but 4 indices"),
    ],
)
def test_bad_indices_are_refused_naming_the_position(jpegs, indices, error, message):
    with pytest.raises(error, match=message):
        fastimg.load_batch(jpegs[:3], Transform(32), indices=indices)


def test_epoch_past_64_bits_is_refused(jpegs):
    with pytest.raises(ValueError, match=r"epoch must be below 2\*\*64"):
        fastimg.load_batch(jpegs[:1], Transform(32), epoch=2**64)


def test_center_crop_without_resize_and_too_small_images(jpegs):
    # Smaller than the crop: torchvision pads with zeros ((300 - 200) // 2 rows above), then crops the width.
    small = encode(photo_like(200, 400, seed=1), quality=90)
    t = Transform(300, crop="center", dtype="uint8", mean=None, std=None, layout="NHWC", exact=True)
    got = fastimg.load_batch([small], t).images[0]
    expected = np.zeros((300, 300, 3), np.uint8)
    expected[50:250] = decode_pil(small)[:, 50:350]
    np.testing.assert_array_equal(got, expected)
    img = fastimg.load_batch(
        [jpegs[1]], Transform(300, crop="center", dtype="uint8", mean=None, std=None, layout="NHWC")
    ).images[0]
    full = decode_pil(jpegs[1])
    top, left = round((500 - 300) / 2), round((333 - 300) / 2)
    assert_image_close(img, full[top : top + 300, left : left + 300], max_abs=2, mean_abs=0.1)


def test_exif_orientation_in_the_pipeline():
    img = photo_like(300, 400, seed=2)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    rotated = encode(img, quality=95, exif=exif.tobytes())
    upright = encode(np.ascontiguousarray(np.rot90(img, k=-1)), quality=95)
    t = dict(size=(200, 100), mean=None, std=None, dtype="uint8", layout="NHWC")
    a = fastimg.load_batch([rotated], Transform(**t, apply_exif_orientation=True)).images[0]
    b = fastimg.load_batch([upright], Transform(**t)).images[0]
    assert_image_close(a, b, mean_abs=2.0)
    ignored = fastimg.load_batch([rotated], Transform(**t)).images[0]
    assert np.abs(ignored.astype(int) - b).mean() > 10


def test_png_and_grayscale_sources_in_the_pipeline():
    img = photo_like(120, 160, seed=3)
    png = encode(img, "PNG")
    gray = encode(img[..., 0], quality=95)
    out = run_u8([png, gray], dict(size=(60, 80)))
    assert_image_close(out[0], pil_reference(png, (0, 0, 160, 120), (60, 80)), mean_abs=1.5)
    assert (out[1][..., 0] == out[1][..., 1]).all()


def test_large_images_use_every_reduction_without_quality_loss():
    big = encode(photo_like(2400, 3200, seed=4), quality=90)
    out = run_u8([big], dict(size=224, resize=256, crop="center"))[0]
    ref = pil_reference(big, tv_resize_center_box(3200, 2400, 256, 224, 224), (224, 224))
    assert_image_close(out, ref, mean_abs=2.5, min_psnr=32)


def test_fast_dct_is_close_but_not_identical(jpegs):
    t = dict(size=224, resize=256, crop="center")
    accurate = run_u8(jpegs, t)
    fast = run_u8(jpegs, dict(t, fast_dct=True))
    assert not np.array_equal(accurate, fast)  # the option reaches the decoder
    for a, f in zip(accurate, fast):
        assert_image_close(f, a, mean_abs=1.5, min_psnr=38)
