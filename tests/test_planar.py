"""The planar JPEG path: YCbCr JPEGs are decoded to their Y, Cb and Cr planes (no chroma upsampling or
colour conversion at source size), each plane is resampled from its own grid and the colour is converted
at output size. Checked against Pillow's full decode + antialiased resize of the same box, over every
chroma layout libjpeg writes, progressive files, odd sizes, every DCT scale and EXIF orientation.

Tolerances (0-255 scale) are the pipeline's own (test_pipeline.py): mean |err| <= 1.0 and PSNR >= 38 dB
where the decode is full size; where a DCT reduction applies (a box-like prefilter in place of Pillow's one
wide triangle) mean |err| <= 2.5 and PSNR >= 32 dB, as for every other path."""

import cv2
import numpy as np
import pytest
from imaging import assert_image_close, encode, photo_like
from test_pipeline import pil_reference, run_u8

import fastimg

SAMPLING = {
    "444": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
    "422": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
    "420": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420,
    "440": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_440,
    "411": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_411,
}


def encode_cv2(img, sampling, progressive=False):
    params = [cv2.IMWRITE_JPEG_QUALITY, 92, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, SAMPLING[sampling]]
    if progressive:
        params += [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(img[..., ::-1]), params)
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize("sampling", sorted(SAMPLING))
@pytest.mark.parametrize("progressive", [False, True])
def test_every_chroma_layout_matches_pillow(sampling, progressive):
    h, w = 333, 461  # odd: partial blocks, partial MCUs, a half-used last chroma sample
    data = encode_cv2(photo_like(h, w, seed=7), sampling, progressive)
    for size in [(224, 224), (150, 111), (300, 420)]:
        out = run_u8([data], dict(size=size))[0]
        assert_image_close(out, pil_reference(data, (0, 0, w, h), size), mean_abs=1.0, min_psnr=38)


@pytest.mark.parametrize("sampling", ["420", "422", "440"])
def test_random_crops_match_pillow(sampling):
    h, w = 375, 500
    data = encode_cv2(photo_like(h, w, seed=3), sampling)
    t = fastimg.Transform(224, crop="random_resized", hflip=0.5, dtype="uint8", mean=None, std=None, layout="NHWC")
    indices = list(range(12))
    out = fastimg.load_batch([data] * len(indices), t, seed=9, indices=indices).images
    for img, index in zip(out, indices):
        p = fastimg._core.plan_item(w, h, t._spec, 9, 0, index)
        assert_image_close(img, pil_reference(data, p["box"], (224, 224), flip=p["flip"]), mean_abs=1.0, min_psnr=38)


@pytest.mark.parametrize("sampling", ["420", "444"])
@pytest.mark.parametrize("size", [(300, 400), (140, 190), (70, 95), (36, 48)])
def test_every_dct_scale(sampling, size):
    """1200 x 900 to these sizes takes the 1/1, 1/2, 1/4 and 1/8 DCT scales (chroma of a 4:2:0 file is
    then decoded at the luma's resolution: its plane grid changes with the scale)."""
    h, w = 900, 1200
    data = encode_cv2(photo_like(h, w, seed=11), sampling)
    out = run_u8([data], dict(size=size))[0]
    full_size = size == (300, 400)
    assert_image_close(
        out,
        pil_reference(data, (0, 0, w, h), size),
        mean_abs=1.0 if full_size else 2.5,
        min_psnr=38 if full_size else 32,
    )


def test_exif_orientation_on_the_planar_path():
    img = photo_like(300, 401, seed=2)
    exif = fastimg_exif(6)  # stored landscape, shown portrait
    rotated = encode(img, quality=95, exif=exif, subsampling=2)
    upright = encode(np.ascontiguousarray(np.rot90(img, k=-1)), quality=95, subsampling=2)
    t = dict(size=(200, 150), apply_exif_orientation=True)
    a = run_u8([rotated], t)[0]
    b = run_u8([upright], t)[0]
    assert_image_close(a, b, mean_abs=2.0)


def fastimg_exif(orientation):
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def test_planar_and_exact_paths_agree():
    """exact=True keeps the RGB decode and Pillow's arithmetic: the planar default stays within the
    antialiased bound of it."""
    data = encode(photo_like(375, 500, seed=4), quality=90)
    for kwargs in [dict(size=224, resize=256, crop="center"), dict(size=(224, 224))]:
        fast = run_u8([data], kwargs)[0]
        exact = run_u8([data], {**kwargs, "exact": True})[0]
        assert_image_close(fast, exact, mean_abs=1.0, min_psnr=38)
