"""Harmless faults decode as Pillow decodes them (issue #23): a PNG whose only fault is in an ancillary
chunk (libpng's benign errors), a TIFF whose StripByteCounts libtiff recalculates. The pixels equal
Pillow's exactly; strict mode says nothing, strict=False reports the fault as a DecodeWarning. Damage to
critical chunks, truncated data and (strict mode) a bad ancillary CRC, which Pillow refuses too, stay
DecodeErrors naming the reason. Every file is generated here: PNG chunks by hand, TIFFs by Pillow with
the StripByteCounts value patched."""

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

import fastimg

RNG = np.random.default_rng(23)
RGB = RNG.integers(0, 256, (7, 9, 3), dtype=np.uint8)
INDICES = RNG.integers(0, 4, (7, 9), dtype=np.uint8)
SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind, payload, crc=None):
    crc = zlib.crc32(kind + payload) if crc is None else crc
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def ihdr(color_type):
    height, width = INDICES.shape
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))


def idat(pixels, extra=b""):
    return chunk(b"IDAT", zlib.compress(b"".join(b"\0" + row.tobytes() for row in pixels) + extra))


IEND = chunk(b"IEND", b"")
PLTE = chunk(b"PLTE", bytes([10, 20, 30, 200, 100, 50, 0, 255, 0, 7, 7, 7]))
SBIT = chunk(b"sBIT", b"\x08\x08\x08")
SRGB = chunk(b"sRGB", b"\0")
ICC_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()  # valid, but not one libpng knows
ICCP = chunk(b"iCCP", b"profile\0\0" + zlib.compress(ICC_PROFILE))
BAD_TEXT = chunk(b"tEXt", b"Comment\0hello", crc=0x12345678)


def rgb_png(*before_idat, after_idat=b"", extra=b""):
    return SIGNATURE + ihdr(2) + b"".join(before_idat) + idat(RGB, extra) + after_idat + IEND


# name: (file, the fault libpng reports, or None where it reports none)
BENIGN_PNG = {
    "duplicate_sbit": (rgb_png(SBIT, SBIT), "sBIT: duplicate"),
    "srgb_then_iccp": (rgb_png(SRGB, ICCP), "iCCP: too many profiles"),
    # libpng 1.6 says "sRGB: too many profiles" here only when the iCCP is a profile it knows as sRGB
    "iccp_then_srgb": (rgb_png(ICCP, SRGB), None),
    "srgb_after_plte": (SIGNATURE + ihdr(3) + PLTE + SRGB + idat(INDICES) + IEND, "sRGB: out of place"),
    "extra_image_data": (rgb_png(extra=b"\0" * 40), "IDAT: Too much image data"),
    "bad_ancillary_crc_after_idat": (rgb_png(after_idat=BAD_TEXT), "tEXt: CRC error"),  # Pillow checks none there
}


def pillow_rgb(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def identity(reference, strict=True):
    return fastimg.Transform(reference.shape[:2], dtype="uint8", layout="NHWC", strict=strict)


def assert_decodes_as(data, reference, fault):
    """Both entry points, both modes: the pixels equal `reference`; only strict=False reports `fault`."""
    assert np.array_equal(fastimg.decode_images([data])[0], reference)
    batch = fastimg.load_batch([data], identity(reference))
    assert np.array_equal(batch.images[0], reference) and batch.warnings == []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", fastimg.DecodeWarning)
        assert np.array_equal(fastimg.decode_images([data], strict=False)[0], reference)
    batch = fastimg.load_batch([data], identity(reference, strict=False), indices=[7])
    assert np.array_equal(batch.images[0], reference) and batch.errors == []
    reported = [str(w.message) for w in caught] + [w.reason for w in batch.warnings]
    if fault is not None:
        assert len(reported) == 2, reported
        assert all(f"decoded anyway (strict=False): {fault}" in r for r in reported), reported
        assert [w.index for w in batch.warnings] == [7]


@pytest.mark.parametrize("name", sorted(BENIGN_PNG))
def test_png_with_a_harmless_chunk_fault_decodes_as_pillow_decodes_it(name):
    data, fault = BENIGN_PNG[name]
    assert_decodes_as(data, pillow_rgb(data), fault)


def test_bad_ancillary_crc_before_the_image_data_is_refused_only_in_strict_mode(monkeypatch):
    """Corrupted bytes, not a quirk: Pillow refuses the file unless told to load damaged images, which
    skips the check -- fastimg's strict and strict=False."""
    data = rgb_png(BAD_TEXT)
    with pytest.raises(UnidentifiedImageError):  # its SyntaxError('broken PNG file (bad header checksum')
        Image.open(io.BytesIO(data))
    with pytest.raises(fastimg.DecodeError, match="corrupt PNG: tEXt: CRC error"):
        fastimg.decode_images([data])
    with pytest.raises(fastimg.DecodeError, match="corrupt PNG: tEXt: CRC error"):
        fastimg.load_batch([data], identity(RGB))
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    reference = pillow_rgb(data)
    assert np.array_equal(reference, RGB)
    with pytest.warns(fastimg.DecodeWarning, match=r"decoded anyway \(strict=False\): tEXt: CRC error"):
        assert np.array_equal(fastimg.decode_images([data], strict=False)[0], reference)
    batch = fastimg.load_batch([data], identity(reference, strict=False))
    assert np.array_equal(batch.images[0], reference)
    assert "tEXt: CRC error" in batch.warnings[0].reason


def _bad_ihdr_crc():
    data = bytearray(rgb_png())
    data[8 + 8 + 13] ^= 0xFF  # first byte of IHDR's CRC
    return bytes(data)


CRITICAL_PNG = {
    "bad_ihdr_crc": (_bad_ihdr_crc(), "corrupt PNG: IHDR: CRC error"),
    "truncated_idat": (rgb_png()[:-30], "truncated PNG: the data ends early"),
    # tRNS sets alpha: libpng drops a misplaced one where Pillow applies it, so RGBA would differ
    "trns_before_plte": (
        SIGNATURE + ihdr(3) + chunk(b"tRNS", b"\0\x80") + PLTE + idat(INDICES) + IEND,
        "corrupt PNG: tRNS: out of place",
    ),
}


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("name", sorted(CRITICAL_PNG))
def test_critical_png_damage_stays_an_error(name, strict):
    data, reason = CRITICAL_PNG[name]
    with pytest.raises(fastimg.DecodeError, match=reason):
        fastimg.decode_images([data], strict=strict)
    with pytest.raises(fastimg.DecodeError, match=reason):
        fastimg.load_batch([data], identity(RGB, strict=strict))


def _tiff(compression=None):
    buf = io.BytesIO()
    Image.fromarray(RGB.repeat(3, 0).repeat(4, 1)).save(buf, "TIFF", compression=compression)
    return buf.getvalue()


def with_strip_byte_counts(data, value):
    """`data` (a little-endian one-strip TIFF from Pillow) with its StripByteCounts entry set to `value`."""
    assert data[:4] == b"II*\0"
    ifd = struct.unpack_from("<I", data, 4)[0]
    out = bytearray(data)
    for i in range(struct.unpack_from("<H", data, ifd)[0]):
        entry = ifd + 2 + 12 * i
        tag, kind, count = struct.unpack_from("<HHI", data, entry)
        if tag == 279:
            assert (kind, count) == (4, 1)
            struct.pack_into("<I", out, entry + 8, value)
            return bytes(out)
    raise AssertionError("no StripByteCounts")


BOGUS_TIFF = {
    "zero": with_strip_byte_counts(_tiff(), 0),
    "less_than_a_strip": with_strip_byte_counts(_tiff(), 7),
    "past_the_end": with_strip_byte_counts(_tiff(), 10**8),
    "lzw_zero": with_strip_byte_counts(_tiff("tiff_lzw"), 0),
}


@pytest.mark.parametrize("name", sorted(BOGUS_TIFF))
def test_tiff_whose_strip_byte_counts_libtiff_recalculates_decodes_as_pillow_decodes_it(name):
    data = BOGUS_TIFF[name]
    reference = pillow_rgb(data)
    assert np.array_equal(reference, RGB.repeat(3, 0).repeat(4, 1))
    assert_decodes_as(data, reference, 'Bogus "StripByteCounts" field, ignoring and calculating from imagelength')


@pytest.mark.parametrize("strict", [True, False])
def test_a_cut_tiff_with_a_bogus_strip_byte_count_is_still_truncated(strict):
    data = BOGUS_TIFF["zero"]
    with pytest.raises(fastimg.DecodeError, match=r"truncated TIFF: .*Read error"):
        fastimg.decode_images([data[: len(data) * 2 // 3]], strict=strict)
