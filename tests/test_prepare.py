"""Restart-interval crops and lossless preparation (#24): a prepared JPEG decodes to exactly the original's
pixels, and a crop of a prepared file (decoded from the restart intervals covering it) equals the crop of
the whole-file decode in every mode: default (planar), exact, nearest, uint8 and float, every DCT scale,
EXIF orientations, grey and CMYK. `python -m fastimg prepare` mirrors a tree without touching it."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest
from imaging import encode, photo_like
from PIL import Image

import fastimg
from fastimg import _core


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def _files() -> dict[str, bytes]:
    """JPEGs of the shapes and codings crops meet: 4:2:0/4:2:2/4:4:4, progressive, grey, CMYK, EXIF,
    sizes from tiny to camera-like (every DCT scale is taken by some crop), odd sides."""
    out = {}
    sizes = [(375, 500), (333, 500), (500, 353), (1200, 1600), (97, 61), (16, 16), (8, 300)]
    for k, (h, w) in enumerate(sizes):
        img = photo_like(h, w, seed=k)
        out[f"{h}x{w}-420.jpg"] = encode(img, quality=90)
        if k < 3:
            out[f"{h}x{w}-444.jpg"] = encode(img, quality=92, subsampling=0)
            out[f"{h}x{w}-422.jpg"] = encode(img, quality=85, subsampling=1)
            out[f"{h}x{w}-progressive.jpg"] = encode(img, quality=90, progressive=True)
            out[f"{h}x{w}-grey.jpg"] = encode(img[..., 1], quality=90)
    cmyk = Image.fromarray(photo_like(300, 400, seed=9)).convert("CMYK")
    import io

    buf = io.BytesIO()
    cmyk.save(buf, "JPEG", quality=90)
    out["cmyk.jpg"] = buf.getvalue()
    for o in (3, 6, 8):
        out[f"exif{o}.jpg"] = encode(photo_like(240, 400, seed=o), quality=90, exif=_exif(o))
    return out


@pytest.fixture(scope="module")
def files():
    return _files()


@pytest.fixture(scope="module")
def prepared(files):
    return {name: fastimg.prepare_jpeg(data) for name, data in files.items()}


@pytest.fixture
def whole_file():
    """Crops decoded from the whole file inside the `with`, as before restart splicing."""

    class Toggle:
        def __enter__(self):
            _core.set_restart_splicing(False)

        def __exit__(self, *exc):
            _core.set_restart_splicing(True)

    yield Toggle()
    _core.set_restart_splicing(True)


def test_prepared_files_decode_to_the_originals_pixels(files, prepared):
    for name, data in files.items():
        assert prepared[name] != data, name
        for mode in ("RGB", "L"):
            a, b = fastimg.decode_images([data, prepared[name]], mode=mode, apply_exif_orientation=True)
            assert a.shape == b.shape and np.array_equal(a, b), (name, mode)
        for side in (100, 40, 9):  # DCT-scaled decodes
            a, b = fastimg.decode_images([data, prepared[name]], max_side=side)
            assert np.array_equal(a, b), (name, side)


def test_preparing_twice_and_other_files_keep_the_bytes(files, prepared):
    for name, data in prepared.items():
        assert fastimg.prepare_jpeg(data) is data or fastimg.prepare_jpeg(data) == data, name
    png = encode(photo_like(20, 30), "PNG")
    assert fastimg.prepare_jpeg(png) == png
    with pytest.raises(fastimg.DecodeError, match="truncated"):
        fastimg.prepare_jpeg(files["375x500-420.jpg"][:5000])
    with pytest.raises(ValueError, match="interval"):
        fastimg.prepare_jpeg(png, interval=0)


def test_progressive_files_become_baseline_and_sizes_stay_close(files, prepared):
    total_in = sum(len(files[n]) for n in files)
    total_out = sum(len(prepared[n]) for n in files)
    assert total_out <= 1.03 * total_in, total_out / total_in
    p = prepared["375x500-progressive.jpg"]
    sof = p.index(b"\xff\xc0")  # baseline frame header, no progressive SOF2
    assert sof > 0 and b"\xff\xc2" not in p[:sof]
    assert b"\xff\xdd" in p[:sof] or b"\xff\xdd" in p  # DRI


TRANSFORMS = {
    "train": dict(size=224, crop="random_resized", hflip=0.5),
    "train-small": dict(size=32, crop="random_resized", scale=(0.05, 0.3)),
    "train-exact": dict(size=224, crop="random_resized", exact=True),
    "train-nearest-uint8": dict(size=64, crop="random_resized", interpolation="nearest", dtype="uint8"),
    "eval": dict(size=224, resize=256, crop="center"),
    "eval-exact-bicubic": dict(size=160, resize=180, crop="center", exact=True, interpolation="bicubic"),
    "eval-exif": dict(size=96, resize=110, crop="center", apply_exif_orientation=True),
    "train-exif": dict(size=48, crop="random_resized", apply_exif_orientation=True, hflip=0.5),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_crops_of_prepared_files_equal_whole_file_crops(name, files, prepared, whole_file):
    transform = fastimg.Transform(**TRANSFORMS[name])
    sources = [prepared[n] for n in sorted(files)]
    for epoch in range(3):
        spliced = fastimg.load_batch(sources, transform, seed=7, epoch=epoch).images
        with whole_file:
            whole = fastimg.load_batch(sources, transform, seed=7, epoch=epoch).images
        originals = fastimg.load_batch([files[n] for n in sorted(files)], transform, seed=7, epoch=epoch).images
        assert np.array_equal(spliced, whole), name
        assert np.array_equal(spliced, originals), name


def _swap_restarts(data: bytes) -> bytes:
    # The fifth and sixth RSTn markers of the scan, exchanged: intervals out of order.
    positions = [
        i for i in range(data.index(b"\xff\xda"), len(data) - 1) if data[i] == 0xFF and 0xD0 <= data[i + 1] <= 0xD7
    ]
    a, b = positions[4] + 1, positions[5] + 1
    out = bytearray(data)
    out[a], out[b] = out[b], out[a]
    return bytes(out)


def test_out_of_order_restarts_fail_whatever_the_crop(prepared):
    bad = _swap_restarts(prepared["1200x1600-420.jpg"])
    transform = fastimg.Transform(32, crop="random_resized", scale=(0.01, 0.02))
    for epoch in range(4):
        with pytest.raises(fastimg.DecodeError, match="restart markers out of order"):
            fastimg.load_batch([bad], transform, epoch=epoch)
    errors = fastimg.load_batch([prepared["97x61-420.jpg"], bad], transform, on_error="skip").errors
    assert [e.index for e in errors] == [1] and "restart markers" in errors[0].reason
    lenient = fastimg.Transform(32, crop="random_resized", strict=False)
    assert fastimg.load_batch([bad], lenient).images.shape[0] == 1


def _tree_digest(root) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


def test_prepare_command_mirrors_a_tree_and_never_touches_it(tmp_path, files):
    src, dst = tmp_path / "src", tmp_path / "dst"
    for k, (name, data) in enumerate(sorted(files.items())):
        folder = src / f"class{k % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    (src / "class0" / "notes.txt").write_text("not an image")
    (src / "class1" / "cut.jpg").write_bytes(files["375x500-420.jpg"][:3000])
    (src / "class2" / "really-a-png.jpg").write_bytes(encode(photo_like(20, 30), "PNG"))
    before = _tree_digest(src)
    cmd = [sys.executable, "-m", "fastimg", "prepare", str(src), str(dst)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert _tree_digest(src) == before
    assert "class1/cut.jpg: not prepared (truncated JPEG" in run.stderr
    assert f"prepared {len(files)} JPEGs" in run.stderr
    after = _tree_digest(dst)
    assert sorted(after) == sorted(before)
    for rel in ("class0/notes.txt", "class1/cut.jpg", "class2/really-a-png.jpg"):
        assert after[rel] == before[rel]
    for rel in before:
        if rel.endswith(".jpg") and "cut" not in rel and "png" not in rel:
            a, b = fastimg.decode_images([str(src / rel), str(dst / rel)])
            assert np.array_equal(a, b), rel
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and f"{len(before)} already in DST" in again.stderr
    inside = subprocess.run([*cmd[:-1], str(src / "out")], capture_output=True, text=True, timeout=60)
    assert inside.returncode == 2 and "outside SRC" in inside.stderr
    code = "import sys, fastimg.prepare; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_prepare_tree_reports_sizes_and_an_explicit_interval(tmp_path, files):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.jpg").write_bytes(files["375x500-progressive.jpg"])
    report = fastimg.prepare_tree(tmp_path / "src", tmp_path / "dst", interval=8, progress=False)
    assert report.prepared == 1 and not report.failed and 0.8 < report.size_ratio < 1.1
    data = (tmp_path / "dst" / "a.jpg").read_bytes()
    dri = data.index(b"\xff\xdd")
    assert int.from_bytes(data[dri + 4 : dri + 6], "big") == 8
