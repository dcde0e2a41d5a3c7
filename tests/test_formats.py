"""Every format through a library made for it (DESIGN §9): the first frame as Pillow's
Image.open(f).convert("RGB") gives it, within 1 level, or a DecodeError that says unsupported and names the
variant. Test files are generated here with Pillow (and libtiff's conventions by hand); the references are
computed in the test."""

import io
import struct
import zlib

import numpy as np
import pytest
from imaging import photo_like
from PIL import Image, ImageOps, PngImagePlugin

import fastimg

RGB = photo_like(37, 53, seed=11)
ALPHA = np.dstack([RGB, (np.arange(37 * 53).reshape(37, 53) % 251).astype(np.uint8)])


def save(image, fmt, **options):
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def variants():
    rgb, rgba, gray = Image.fromarray(RGB), Image.fromarray(ALPHA), Image.fromarray(RGB[..., 1])
    palette = rgb.convert("P")
    out = {
        "png_rgb": save(rgb, "PNG"),
        "png_rgba": save(rgba, "PNG"),
        "png_gray": save(gray, "PNG"),
        "png_gray_alpha": save(rgb.convert("LA"), "PNG"),
        "png_palette": save(palette, "PNG"),
        "png_palette_transparency": save(palette, "PNG", transparency=5),
        "png_bilevel": save(rgb.convert("1"), "PNG"),
        "webp_lossless": save(rgb, "WEBP", lossless=True),
        "webp_lossless_alpha": save(rgba, "WEBP", lossless=True),
        "gif": save(palette, "GIF"),
        "gif_interlaced": save(palette, "GIF", interlace=True),
        "gif_transparency": save(palette, "GIF", transparency=3),
        "tiff_rgb": save(rgb, "TIFF"),
        "tiff_rgb_lzw": save(rgb, "TIFF", compression="tiff_lzw"),
        "tiff_rgb_deflate": save(rgb, "TIFF", compression="tiff_adobe_deflate"),
        "tiff_rgb_packbits": save(rgb, "TIFF", compression="packbits"),
        "tiff_rgba": save(rgba, "TIFF"),
        "tiff_gray": save(gray, "TIFF"),
        "tiff_palette": save(palette, "TIFF"),
        "tiff_bilevel": save(rgb.convert("1"), "TIFF"),
        "tiff_cmyk": save(rgb.convert("CMYK"), "TIFF"),
        "bmp_rgb": save(rgb, "BMP"),
        "bmp_palette": save(palette, "BMP"),
        "bmp_gray": save(gray, "BMP"),
        "bmp_bilevel": save(rgb.convert("1"), "BMP"),
        "ppm": save(rgb, "PPM"),
        "pgm": save(gray, "PPM"),
        "pbm": save(rgb.convert("1"), "PPM"),
    }
    frames = [palette, Image.fromarray(255 - RGB).convert("P")]
    out["gif_animated"] = save(frames[0], "GIF", save_all=True, append_images=frames[1:])
    out["webp_animated"] = save(rgb, "WEBP", save_all=True, append_images=[Image.fromarray(255 - RGB)], lossless=True)
    return out


VARIANTS = variants()


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_each_variant_matches_pillow(name):
    data = VARIANTS[name]
    reference = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    for source in (data, np.frombuffer(data, np.uint8)):
        got = fastimg.decode_images([source])[0].astype(int)
        assert got.shape == reference.shape
        assert np.abs(got - reference).max() <= 1, name
    gray = fastimg.decode_images([data], mode="L")[0].astype(int)
    assert np.abs(gray - np.asarray(Image.open(io.BytesIO(data)).convert("L"))).max() <= 1, name
    t = fastimg.Transform((20, 30), dtype="uint8", exact=True)
    out = fastimg.load_batch([data], t).images[0].transpose(1, 2, 0).astype(int)
    ref = np.asarray(Image.open(io.BytesIO(data)).convert("RGB").resize((30, 20), Image.BILINEAR)).astype(int)
    assert np.abs(out - ref).max() <= 1, name


def test_lossy_webp_is_close_to_pillow():
    data = save(Image.fromarray(RGB), "WEBP", quality=80)
    reference = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    assert np.abs(fastimg.decode_images([data])[0].astype(int) - reference).max() <= 3


def test_sixteen_bit_samples_keep_the_high_byte():
    wide = (RGB[..., 0].astype(np.uint16) * 257 + 77).astype(np.uint16)
    data = save(Image.fromarray(wide), "PNG")
    got = fastimg.decode_images([data], mode="L")[0]
    # >> 8, as OpenCV does; Pillow clips 16-bit gray at 255 instead (documented in the README)
    assert np.array_equal(got, (wide >> 8).astype(np.uint8))


def _exif(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def _xmp(orientation):
    return f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description tiff:Orientation="{orientation}"/></x:xmpmeta>'


def orientation_files():
    rgb = Image.fromarray(RGB)
    raw_profile = PngImagePlugin.PngInfo()
    hexed = _exif(5).hex()
    raw_profile.add_text("Raw profile type exif", f"\nexif\n{len(hexed) // 2:8d}\n{hexed}\n")
    xmp_png = PngImagePlugin.PngInfo()
    xmp_png.add_itxt("XML:com.adobe.xmp", _xmp(7))
    return {
        "jpeg_exif": save(rgb, "JPEG", quality=95, exif=_exif(6)),
        "jpeg_xmp": save(rgb, "JPEG", quality=95, xmp=_xmp(8).encode()),
        "png_exif": save(rgb, "PNG", exif=_exif(3)),
        "png_raw_profile": save(rgb, "PNG", pnginfo=raw_profile),
        "png_xmp": save(rgb, "PNG", pnginfo=xmp_png),
        "webp_exif": save(rgb, "WEBP", lossless=True, exif=_exif(6)),
        "webp_xmp": save(rgb, "WEBP", lossless=True, xmp=_xmp(8).encode()),
        "tiff_tag": save(rgb, "TIFF", exif=_exif(8)),
    }


ORIENTED = orientation_files()


@pytest.mark.parametrize("name", sorted(ORIENTED))
def test_orientation_in_every_container_matches_exif_transpose(name):
    data = ORIENTED[name]
    im = Image.open(io.BytesIO(data))
    expected = np.asarray(ImageOps.exif_transpose(im).convert("RGB")).astype(int)
    got = fastimg.decode_images([data], apply_exif_orientation=True)[0].astype(int)
    tolerance = 1 if not name.startswith("jpeg") else 0
    assert got.shape == expected.shape, name
    assert np.abs(got - expected).max() <= tolerance, name
    stored = fastimg.decode_images([data])[0]
    assert stored.shape == np.asarray(im.convert("RGB")).shape  # untouched without the option


def _png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


UNSUPPORTED = {
    "ico": (b"\0\0\1\0\1\0" + b"\0" * 40, "unsupported format: ICO"),
    "jpeg2000": (b"\0\0\0\x0cjP  \r\n\x87\n" + b"\0" * 40, "unsupported format: JPEG 2000"),
    "avif": (b"\0\0\0\x1cftypavif" + b"\0" * 40, "unsupported format: AVIF"),
    "psd": (b"8BPS\0\1" + b"\0" * 40, "unsupported format: PSD"),
    "qoi": (b"qoif" + b"\0" * 40, "unsupported format: QOI"),
    "text": (b"just some text, not an image at all", "not an image"),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_recognised_but_unsupported_formats_are_named(name):
    data, message = UNSUPPORTED[name]
    with pytest.raises(fastimg.DecodeError, match=message):
        fastimg.decode_images([data])


def _tiff(bits, sample_format, samples=1):
    """A minimal little-endian strip TIFF of 2x2 pixels."""
    width = height = 2
    pixel_bytes = bits // 8 * samples * width * height
    entries = [
        (256, 3, 1, width),
        (257, 3, 1, height),
        (258, 3, 1, bits),
        (259, 3, 1, 1),
        (262, 3, 1, 1 if samples == 1 else 2),
        (273, 4, 1, 0),  # strip offset, patched below
        (277, 3, 1, samples),
        (278, 3, 1, height),
        (279, 4, 1, pixel_bytes),
        (339, 3, 1, sample_format),
    ]
    ifd_offset = 8
    data_offset = ifd_offset + 2 + 12 * len(entries) + 4
    entries[5] = (273, 4, 1, data_offset)
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack("<HHI", tag, kind, count) + (
            struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        )
    return b"II*\0" + struct.pack("<I", ifd_offset) + ifd + b"\0\0\0\0" + bytes(range(pixel_bytes))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_tiff(8, 2), "unsupported TIFF: signed"),
        (_tiff(32, 3), "unsupported TIFF: 32-bit float"),
    ],
    ids=["signed_8bit", "float32"],
)
def test_tiff_variants_that_would_give_wrong_pixels_are_refused(data, message):
    with pytest.raises(fastimg.DecodeError, match=message):
        fastimg.decode_images([data])


@pytest.mark.parametrize("name", ["png_rgb", "gif", "tiff_rgb_lzw", "bmp_rgb", "ppm", "webp_lossless"])
def test_truncated_files_of_every_format_fail_every_time(name):
    data = VARIANTS[name]
    for cut in (len(data) // 3, len(data) // 2, len(data) - len(data) // 5):
        for _ in range(2):
            with pytest.raises(fastimg.DecodeError):
                fastimg.decode_images([data[:cut]])


@pytest.mark.parametrize("name", ["png_rgb", "tiff_rgb", "bmp_rgb", "ppm", "gif", "webp_lossless"])
def test_results_are_repeatable(name):
    """No uninitialised memory reaches the output: two decodes give the same bytes."""
    a = fastimg.decode_images([VARIANTS[name]])[0]
    b = fastimg.decode_images([VARIANTS[name]])[0]
    assert np.array_equal(a, b)


def _damaged_jpeg():
    """Entropy-coded data cut short inside the scan, the EOI kept: libjpeg's recoverable "Corrupt JPEG
    data: premature end of data segment" (the rest of the scan is filled in)."""
    data = save(Image.fromarray(photo_like(64, 96, seed=2)), "JPEG", quality=90)
    sos = data.index(b"\xff\xda")
    start = sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")
    middle = (start + len(data) - 2) // 2
    while data[middle - 1] == 0xFF:
        middle += 1
    return data[:middle] + b"\xff\xd9"


def test_strict_false_delivers_recoverable_jpeg_damage_with_a_warning():
    data = _damaged_jpeg()
    with pytest.raises(fastimg.DecodeError, match="corrupt JPEG"):
        fastimg.decode_images([data])
    with pytest.warns(fastimg.DecodeWarning, match=r"<\d+ bytes at position 0>: corrupt JPEG data, decoded anyway"):
        image = fastimg.decode_images([data], strict=False)[0]
    assert image.shape == (64, 96, 3)
    pillow = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    assert np.abs(image.astype(int) - pillow).mean() < 1.0  # the same recovery as Pillow's libjpeg
    batch = fastimg.load_batch([data, VARIANTS["png_rgb"]], fastimg.Transform(16, strict=False), indices=[4, 5])
    assert len(batch.images) == 2 and batch.errors == []
    assert [w.index for w in batch.warnings] == [4] and "corrupt JPEG data" in batch.warnings[0].reason
    assert len(tuple(batch)) == 3  # still the (images, indices, errors) tuple
    with pytest.raises(fastimg.DecodeError, match="truncated JPEG"):
        fastimg.decode_images([data[: len(data) // 2]], strict=False)


def test_grey_mode_of_a_colour_jpeg_is_pillows_convert_l():
    """Pillow's convert("L") of the RGB image, not libjpeg's Y plane (they differ where chroma is subsampled)."""
    data = save(Image.fromarray(photo_like(48, 64, seed=9, grain=12.0)), "JPEG", quality=90)
    ours = fastimg.decode_images([data], mode="L")[0].astype(int)
    assert np.abs(ours - np.asarray(Image.open(io.BytesIO(data)).convert("L"))).max() <= 1


@pytest.mark.parametrize("cut", [0.4, 0.7])
def test_a_cut_tiff_says_truncated(cut):
    data = VARIANTS["tiff_rgb"]
    with pytest.raises(fastimg.DecodeError, match="truncated TIFF"):
        fastimg.decode_images([data[: int(len(data) * cut)]])


def _adam7_png(pixels):
    """An interlaced (Adam7) 8-bit RGB PNG, which Pillow does not write: each pass's rows, filter 0."""
    h, w, _ = pixels.shape
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = pixels[y0::dy, x0::dx]
        if sub.size:
            raw += b"".join(b"\0" + row.tobytes() for row in sub)
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


def test_interlaced_png():
    data = _adam7_png(RGB)
    reference = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.array_equal(reference, RGB)  # the test's encoder is right
    assert np.array_equal(fastimg.decode_images([data])[0], RGB)
