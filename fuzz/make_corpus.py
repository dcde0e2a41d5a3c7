"""Writes the seed corpus of the fuzzers: small valid images of every format fastimg reads and broken ones
(truncated, bit-flipped, header-only, huge dimensions in the header, garbage after the end, empty).

Each seed is OPTION_BYTES option bytes (both fuzzers choose their options from them) followed by the image,
written twice with different options. Deterministic: the same files on every run. Usage:

    .venv/bin/python fuzz/make_corpus.py [OUT_DIR]        # default fuzz/corpus/seeds (git-ignored)
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import random
import struct
import sys
from pathlib import Path

import numpy as np
from PIL import Image

OPTION_BYTES = 12  # as kOptionBytes in decode_fuzzer.cpp and fuzz_python.py
DEFAULT_OUT = Path(__file__).resolve().parent / "corpus" / "seeds"


def photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth shading, a few blobs and fine texture: compresses like a photograph, unlike noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        img[..., c] = 110 + 60 * np.sin(xx / (w / rng.uniform(1, 3)) + c) * np.cos(yy / (h / rng.uniform(1, 3)))
    for _ in range(3):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.1, 0.3) * min(h, w)
        img += np.exp(-(((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r)))[..., None] * rng.uniform(-60, 60, 3)
    img += 8 * np.sin(xx * 1.3)[..., None] * np.sin(yy * 0.9)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def exif_with_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def app1(payload: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def insert_after_soi(jpeg: bytes, segment: bytes) -> bytes:
    return jpeg[:2] + segment + jpeg[2:]


def patch_sof(jpeg: bytes, width: int, height: int) -> bytes:
    """The JPEG with its frame header claiming width x height."""
    for marker in (b"\xff\xc0", b"\xff\xc1", b"\xff\xc2"):
        at = jpeg.find(marker)
        if at >= 0:
            return jpeg[: at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9 :]
    raise ValueError("no SOF marker")


def patch_tiff_size(tiff: bytes, width: int, height: int) -> bytes:
    """The TIFF with ImageWidth/ImageLength (tags 256/257) of its first IFD set, as LONG values."""
    data = bytearray(tiff)
    endian = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(endian + "I", data, 4)
    (count,) = struct.unpack_from(endian + "H", data, ifd)
    for i in range(count):
        at = ifd + 2 + 12 * i
        tag, _kind, _n = struct.unpack_from(endian + "HHI", data, at)
        if tag in (256, 257):
            struct.pack_into(endian + "HHII", data, at, tag, 4, 1, width if tag == 256 else height)
    return bytes(data)


def big_endian_tiff() -> bytes:
    """A 2x2 8-bit grey, uncompressed, big-endian ("MM") TIFF, which Pillow does not write."""
    entries = [
        (256, 3, 2),
        (257, 3, 2),
        (258, 3, 8),
        (259, 3, 1),
        (262, 3, 1),
        (273, 4, 0),
        (277, 3, 1),
        (278, 3, 2),
        (279, 4, 4),
    ]
    data_at = 8 + 2 + 12 * len(entries) + 4
    ifd = struct.pack(">H", len(entries))
    for tag, kind, value in entries:
        value = data_at if tag == 273 else value
        packed = struct.pack(">HH", value, 0) if kind == 3 else struct.pack(">I", value)
        ifd += struct.pack(">HHI", tag, kind, 1) + packed
    return b"MM\x00*" + struct.pack(">I", 8) + ifd + b"\x00" * 4 + bytes([0, 85, 170, 255])


def valid_images() -> dict[str, bytes]:
    rgb = Image.fromarray(photo(40, 48, seed=1))
    odd = Image.fromarray(photo(17, 33, seed=2))
    large = Image.fromarray(photo(192, 256, seed=3))
    gray = rgb.convert("L")
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.fromarray(photo(40, 48, seed=4)[..., 0]))
    out = {
        "jpeg_baseline_420.jpg": encode(rgb, "JPEG", quality=75),
        "jpeg_444.jpg": encode(rgb, "JPEG", quality=75, subsampling=0),
        "jpeg_422.jpg": encode(rgb, "JPEG", quality=75, subsampling=1),
        "jpeg_odd_size.jpg": encode(odd, "JPEG", quality=75),
        "jpeg_optimized.jpg": encode(rgb, "JPEG", quality=60, optimize=True),
        "jpeg_progressive.jpg": encode(rgb, "JPEG", quality=75, progressive=True),
        "jpeg_progressive_odd.jpg": encode(odd, "JPEG", quality=75, progressive=True, subsampling=0),
        "jpeg_grayscale.jpg": encode(gray, "JPEG", quality=75),
        "jpeg_grayscale_progressive.jpg": encode(gray, "JPEG", quality=75, progressive=True),
        "jpeg_cmyk.jpg": encode(rgb.convert("CMYK"), "JPEG", quality=75),
        "jpeg_cmyk_progressive.jpg": encode(rgb.convert("CMYK"), "JPEG", quality=75, progressive=True),
        "jpeg_restart_markers.jpg": encode(rgb, "JPEG", quality=75, restart_marker_blocks=2),
        "jpeg_comment_icc.jpg": encode(rgb, "JPEG", quality=75, comment=b"fuzz", icc_profile=b"\x00" * 64),
        "jpeg_large.jpg": encode(large, "JPEG", quality=40),
        "jpeg_large_progressive.jpg": encode(large, "JPEG", quality=40, progressive=True),
        "png_rgb.png": encode(rgb, "PNG"),
        "png_rgba.png": encode(rgba, "PNG"),
        "png_gray.png": encode(gray, "PNG"),
        "png_gray_alpha.png": encode(rgba.convert("LA"), "PNG"),
        "png_palette.png": encode(rgb.quantize(16), "PNG"),
        "png_palette_transparency.png": encode(rgb.quantize(16), "PNG", transparency=3),
        "png_16bit.png": encode(Image.fromarray(photo(24, 20, seed=5)[..., 0].astype(np.uint16) * 257), "PNG"),
        "png_1bit.png": encode(gray.convert("1"), "PNG"),
        "webp_lossy.webp": encode(rgb, "WEBP", quality=60),
        "webp_lossless.webp": encode(odd, "WEBP", lossless=True),
        "webp_alpha.webp": encode(rgba, "WEBP", quality=60),
        "bmp_rgb.bmp": encode(odd, "BMP"),
        "bmp_palette.bmp": encode(odd.quantize(16), "BMP"),
        "bmp_1bit.bmp": encode(odd.convert("1"), "BMP"),
        "bmp_rgba.bmp": encode(odd.convert("RGBA"), "BMP"),
        "tiff_raw.tif": encode(odd, "TIFF"),
        "tiff_lzw.tif": encode(rgb, "TIFF", compression="tiff_lzw"),
        "tiff_deflate.tif": encode(rgb, "TIFF", compression="tiff_adobe_deflate"),
        "tiff_packbits_gray.tif": encode(gray, "TIFF", compression="packbits"),
        "tiff_rgba.tif": encode(odd.convert("RGBA"), "TIFF"),
        "tiff_cmyk.tif": encode(odd.convert("CMYK"), "TIFF"),
        "tiff_16bit.tif": encode(Image.fromarray(photo(12, 10, seed=6)[..., 0].astype(np.uint16) * 257), "TIFF"),
        "tiff_big_endian.tif": big_endian_tiff(),
        "ppm_p6.ppm": encode(odd, "PPM"),
        "pgm_p5.pgm": encode(odd.convert("L"), "PPM"),
        "pbm_p4.pbm": encode(odd.convert("1"), "PPM"),
        "pnm_p3_ascii.ppm": b"P3\n# comment\n2 2\n255\n255 0 0  0 255 0\n0 0 255  255 255 255\n",
        "pnm_p2_ascii.pgm": b"P2 3 1 15 0 7 15\n",
        "pnm_p1_ascii.pbm": b"P1\n4 2\n0 1 0 1\n1 0 1 0\n",
        "gif.gif": encode(odd.quantize(8), "GIF"),
        "gif_interlaced.gif": encode(rgb.quantize(32), "GIF", interlace=True),
        "gif_transparency.gif": encode(odd.quantize(8), "GIF", transparency=2),
        "gif_animated.gif": encode(
            rgb.quantize(16), "GIF", save_all=True, append_images=[gray.quantize(4)], duration=10, disposal=2
        ),
        "webp_animated.webp": encode(rgb, "WEBP", save_all=True, append_images=[gray.convert("RGB")], lossless=True),
        "webp_exif.webp": encode(odd, "WEBP", lossless=True, exif=exif_with_orientation(6)),
        "png_exif.png": encode(odd, "PNG", exif=exif_with_orientation(3)),
        "png_small_rgb.png": encode(Image.fromarray(photo(12, 10, seed=7)), "PNG"),
        "tiff_exif_orientation.tif": encode(odd, "TIFF", exif=exif_with_orientation(6)),
        "tiff_palette.tif": encode(odd.quantize(16), "TIFF"),
        "tiff_1bit.tif": encode(odd.convert("1"), "TIFF", compression="group4"),
        "tiff_jpeg.tif": encode(rgb, "TIFF", compression="jpeg"),
    }
    for orientation in (2, 3, 5, 6, 7, 8):
        out[f"jpeg_exif_orientation_{orientation}.jpg"] = encode(
            odd, "JPEG", quality=75, exif=exif_with_orientation(orientation)
        )
    out["jpeg_progressive_exif_6.jpg"] = encode(
        rgb, "JPEG", quality=75, progressive=True, exif=exif_with_orientation(6)
    )
    return out


def broken_images(valid: dict[str, bytes]) -> dict[str, bytes]:
    base = valid["jpeg_baseline_420.jpg"]
    prog = valid["jpeg_progressive.jpg"]
    png = valid["png_rgb.png"]
    out: dict[str, bytes] = {
        "empty": b"",
        "soi_only.jpg": b"\xff\xd8\xff",
        "soi_garbage.jpg": b"\xff\xd8\xff" + bytes(range(256)),
        "soi_eoi.jpg": b"\xff\xd8\xff\xd9",
        "not_an_image.txt": b"hello, this is not an image at all",
        "jpeg_garbage_after_eoi.jpg": base + b"\x00garbage\xff\xd8\xff" * 8,
        "jpeg_header_only.jpg": base[: base.find(b"\xff\xda")],
        "jpeg_sos_no_data.jpg": base[: base.find(b"\xff\xda") + 14],
        "jpeg_huge_65535x65535.jpg": patch_sof(base, 65535, 65535),
        "jpeg_huge_65535x4096.jpg": patch_sof(base, 65535, 4096),
        "jpeg_huge_8192x8192_progressive.jpg": patch_sof(prog, 8192, 8192),
        "jpeg_wide_65535x1.jpg": patch_sof(base, 65535, 1),
        "jpeg_zero_size.jpg": patch_sof(base, 0, 0),
        "jpeg_cmyk_huge.jpg": patch_sof(valid["jpeg_cmyk.jpg"], 4096, 4096),
        "png_huge_ffffffff.png": png[:16] + struct.pack(">II", 0xFFFFFFFF, 0xFFFFFFFF) + png[24:],
        "png_huge_100000.png": png[:16] + struct.pack(">II", 100000, 100000) + png[24:],
        "png_zero_size.png": png[:16] + struct.pack(">II", 0, 0) + png[24:],
        "png_signature_only.png": png[:8],
        "bmp_huge.bmp": valid["bmp_rgb.bmp"][:18] + struct.pack("<ii", 1 << 20, -(1 << 20)) + valid["bmp_rgb.bmp"][26:],
        "bmp_core_header_huge.bmp": b"BM"
        + struct.pack("<IHHI", 26 + 3 * 4, 0, 0, 26)
        + struct.pack("<IHHHH", 12, 32000, 32000, 1, 24)
        + b"\x00" * 12,
        "bmp_core_header_2x2.bmp": b"BM"
        + struct.pack("<IHHI", 26 + 16, 0, 0, 26)
        + struct.pack("<IHHHH", 12, 2, 2, 1, 24)
        + b"\x00\x00\xff\xff\xff\xff\x00\x00" * 2,
        "webp_vp8x_huge.webp": b"RIFF"
        + struct.pack("<I", 22)
        + b"WEBPVP8X"
        + struct.pack("<I", 10)
        + b"\x00\x00\x00\x00"
        + b"\xff\xff\x3f" * 2,
        "tiff_huge_30000.tif": patch_tiff_size(valid["tiff_raw.tif"], 30000, 30000),
        "tiff_huge_1M_wide.tif": patch_tiff_size(valid["tiff_raw.tif"], 1 << 20, 4),
        "tiff_zero_size.tif": patch_tiff_size(valid["tiff_raw.tif"], 0, 0),
        "pnm_huge.ppm": b"P6\n30000 30000\n255\n" + b"\x80" * 64,
        "pnm_huge_p5.pgm": b"P5 65536 16384 255 " + b"\x80" * 64,
        "pnm_bad_maxval.ppm": b"P6\n2 2\n0\n" + b"\x80" * 12,
        "exif_bad_ifd_offset.jpg": insert_after_soi(base, app1(b"Exif\x00\x00II*\x00\xff\xff\xff\x7f")),
        "exif_many_entries.jpg": insert_after_soi(
            base, app1(b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + b"\x01\x12\x00\x03" * 4)
        ),
        "exif_orientation_9.jpg": insert_after_soi(
            base, app1(b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x09\x00\x00\x00")
        ),
        "exif_truncated.jpg": insert_after_soi(base, app1(b"Exif\x00\x00II*\x00\x08")),
    }
    for name, data in (
        ("jpeg", base),
        ("progressive", prog),
        ("png", png),
        ("webp", valid["webp_lossy.webp"]),
        ("tiff", valid["tiff_lzw.tif"]),
        ("cmyk", valid["jpeg_cmyk.jpg"]),
        ("large", valid["jpeg_large.jpg"]),
    ):
        for fraction in (0.1, 0.3, 0.5, 0.8, 0.97):
            out[f"{name}_truncated_{int(fraction * 100)}"] = data[: int(len(data) * fraction)]
    rng = random.Random(1234)
    for name in (
        "jpeg_baseline_420.jpg",
        "jpeg_progressive.jpg",
        "jpeg_cmyk.jpg",
        "jpeg_exif_orientation_6.jpg",
        "jpeg_large.jpg",
        "png_rgba.png",
        "webp_lossless.webp",
        "bmp_palette.bmp",
        "tiff_lzw.tif",
        "ppm_p6.ppm",
    ):
        for k in range(3):
            data = bytearray(valid[name])
            for _ in range(4):
                at = rng.randrange(len(data))
                data[at] ^= 1 << rng.randrange(8)
            out[f"bitflip_{k}_{name}"] = bytes(data)
    return out


def prepared_images(valid: dict[str, bytes]) -> dict[str, bytes]:
    """Every valid JPEG after `fastimg.prepare_jpeg` (restart intervals the crop splicer cuts), at two
    intervals, and prepared files whose restart markers are swapped, dropped or renumbered."""
    import fastimg

    out: dict[str, bytes] = {}
    for name, data in valid.items():
        if not name.startswith("jpeg_"):
            continue
        for interval in (None, 1):
            with contextlib.suppress(ValueError):
                out[f"prepared_{interval or 'auto'}_{name}"] = fastimg.prepare_jpeg(data, interval=interval)
    base = out["prepared_1_jpeg_large.jpg"]
    rst = [
        i + 1 for i in range(base.index(b"\xff\xda"), len(base) - 1) if base[i] == 0xFF and 0xD0 <= base[i + 1] <= 0xD7
    ]
    swapped, dropped, renumbered = bytearray(base), bytearray(base), bytearray(base)
    swapped[rst[3]], swapped[rst[4]] = swapped[rst[4]], swapped[rst[3]]
    dropped[rst[5]] = 0x00
    renumbered[rst[6]] = 0xD0 + (renumbered[rst[6]] - 0xD0 + 3) % 8
    out.update(restart_swapped=bytes(swapped), restart_dropped=bytes(dropped), restart_renumbered=bytes(renumbered))
    return out


def main() -> None:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    out_dir.mkdir(parents=True, exist_ok=True)
    valid = valid_images()
    seeds = {**valid, **broken_images(valid), **prepared_images(valid)}
    written = 0
    for name, data in sorted(seeds.items()):
        rng = random.Random(hashlib.sha256(name.encode()).digest())
        for variant in range(2):
            prefix = bytes(rng.randrange(256) for _ in range(OPTION_BYTES))
            path = out_dir / f"{name}.{variant}"
            content = prefix + data
            if not path.exists() or path.read_bytes() != content:
                path.write_bytes(content)
                written += 1
    total = sum(len(d) for d in seeds.values())
    print(f"make_corpus: {len(seeds)} images ({total} bytes), {written} seed files (re)written in {out_dir}")


if __name__ == "__main__":
    main()
