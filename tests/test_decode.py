"""decode_images against Pillow (which decodes JPEG with libjpeg-turbo too) and against the pixels we
encoded, for every format and colour space we promise."""

import io
from pathlib import Path

import numpy as np
import pytest
from imaging import assert_image_close, decode_pil, encode, photo_like
from PIL import Image, ImageOps

import fastimg


@pytest.mark.parametrize("subsampling", [0, 1, 2])  # 4:4:4, 4:2:2, 4:2:0
@pytest.mark.parametrize("quality", [75, 95])
@pytest.mark.parametrize("shape", [(97, 131), (480, 640), (17, 9)])
def test_jpeg_matches_pillow(subsampling, quality, shape):
    data = encode(photo_like(*shape, seed=quality), quality=quality, subsampling=subsampling)
    ours = fastimg.decode_images([data])[0]
    # Same library, same IDCT; Pillow's libjpeg-turbo build may round chroma upsampling differently.
    assert_image_close(ours, decode_pil(data), max_abs=2, mean_abs=0.05)


def test_progressive_grayscale_and_modes():
    img = photo_like(120, 160, seed=3)
    progressive = encode(img, quality=90, progressive=True)
    assert_image_close(fastimg.decode_images([progressive])[0], decode_pil(progressive), max_abs=2, mean_abs=0.05)

    gray = encode(img[..., 1], quality=90)
    rgb, luma, rgba = (fastimg.decode_images([gray], mode)[0] for mode in ("RGB", "L", "RGBA"))
    ref = decode_pil(gray, "L")
    assert luma.shape == (120, 160)
    np.testing.assert_array_equal(luma, ref)
    np.testing.assert_array_equal(rgb, np.repeat(ref[..., None], 3, axis=2))
    assert rgba.shape == (120, 160, 4) and (rgba[..., 3] == 255).all()
    np.testing.assert_array_equal(rgba[..., :3], rgb)


def test_colour_jpeg_in_l_mode_is_its_luma():
    data = encode(photo_like(64, 80, seed=4), quality=95)
    luma = fastimg.decode_images([data], "L")[0].astype(int)
    # libjpeg returns the Y plane; Pillow converts the decoded RGB with the same Rec.601 weights.
    assert_image_close(luma.astype(np.uint8), decode_pil(data, "L"), max_abs=2)


def test_cmyk_jpeg_becomes_rgb():
    rgb = photo_like(64, 96, seed=5)
    cmyk = Image.fromarray(rgb).convert("CMYK")
    buf = io.BytesIO()
    cmyk.save(buf, format="JPEG", quality=95)  # Pillow writes an Adobe marker: inverted CMYK
    data = buf.getvalue()
    ours = fastimg.decode_images([data])[0]
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "CMYK"
        ref = np.asarray(im.convert("RGB"))
    assert_image_close(ours, ref, mean_abs=2.0, max_abs=12)
    assert_image_close(ours, rgb, mean_abs=6.0)  # and still the picture we encoded


@pytest.mark.parametrize(
    "fmt, options, exact",
    [
        ("PNG", {}, True),
        ("BMP", {}, True),
        ("WEBP", {"lossless": True}, True),
        ("WEBP", {"quality": 90}, False),
        ("TIFF", {}, True),
    ],
)
def test_other_formats_match_pillow(fmt, options, exact):
    img = photo_like(70, 90, seed=6)
    data = encode(img, fmt, **options)
    ours = fastimg.decode_images([data])[0]
    ref = decode_pil(data)
    if exact:
        np.testing.assert_array_equal(ours, ref)
    else:
        assert_image_close(ours, ref, max_abs=3, mean_abs=0.5)


def test_png_alpha_gray_and_16_bit():
    rgba = np.dstack([photo_like(40, 50, seed=7), np.arange(40 * 50, dtype=np.uint16).reshape(40, 50) % 256])
    data = encode(rgba.astype(np.uint8), "PNG")
    np.testing.assert_array_equal(fastimg.decode_images([data], "RGBA")[0], rgba)
    np.testing.assert_array_equal(fastimg.decode_images([data], "RGB")[0], rgba[..., :3])
    deep = np.arange(30 * 20, dtype=np.uint16).reshape(30, 20) * 100
    buf = io.BytesIO()
    Image.fromarray(deep).save(buf, format="PNG")
    out = fastimg.decode_images([buf.getvalue()], "L")[0]
    np.testing.assert_array_equal(out, (deep >> 8).astype(np.uint8))  # the high byte, as OpenCV (README)


def test_format_comes_from_bytes_not_name(tmp_path):
    png = encode(photo_like(20, 30, seed=8), "PNG")
    path = tmp_path / "actually_a_png.jpg"
    path.write_bytes(png)
    np.testing.assert_array_equal(fastimg.decode_images([str(path)])[0], decode_pil(png))


def test_all_source_kinds(tmp_path):
    data = encode(photo_like(33, 44, seed=9), quality=90)
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    sources = [str(path), Path(path), data, bytearray(data), memoryview(data), np.frombuffer(data, np.uint8)]
    outs = fastimg.decode_images(sources)
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])


def test_min_size_uses_dct_scaling():
    data = encode(photo_like(800, 1000, seed=10), quality=90)
    full = fastimg.decode_images([data])[0]
    quarter = fastimg.decode_images([data], min_size=(240, 190))[0]
    assert full.shape == (800, 1000, 3)
    assert quarter.shape == (200, 250, 3)  # 1/4 keeps >= (240, 190); 1/8 would not
    ref = np.asarray(Image.fromarray(full).reduce(4))
    assert_image_close(quarter, ref, mean_abs=2.5)
    assert fastimg.decode_images([data], min_size=(1000, 800))[0].shape == (800, 1000, 3)


def test_max_side_bounds_the_longer_side():
    data = encode(photo_like(600, 900, seed=11), quality=90)
    out = fastimg.decode_images([data], max_side=300)[0]
    assert out.shape == (200, 300, 3)
    ref = np.asarray(Image.fromarray(decode_pil(data)).resize((300, 200), Image.Resampling.BOX))
    assert_image_close(out, ref, mean_abs=2.5)
    assert fastimg.decode_images([data], max_side=2000)[0].shape == (600, 900, 3)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation(orientation):
    img = photo_like(60, 100, seed=12)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(img, quality=95, exif=exif.tobytes())
    raw = fastimg.decode_images([data])[0]
    turned = fastimg.decode_images([data], apply_exif_orientation=True)[0]
    np.testing.assert_array_equal(raw, decode_pil(data))
    with Image.open(io.BytesIO(data)) as im:
        ref = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    np.testing.assert_array_equal(turned, ref)


def test_thread_count_does_not_change_bytes():
    datas = [encode(photo_like(150 + i, 200 - i, seed=i), quality=85) for i in range(6)]
    one = fastimg.decode_images(datas, num_threads=1, min_size=(60, 60))
    two = fastimg.decode_images(datas, num_threads=2, min_size=(60, 60))
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
