"""The built wheel works on its own: installed into a new venv outside the source tree with nothing but numpy
from PyPI, it imports, decodes JPEG and PNG, runs load_batch, and loads only libraries it bundles (plus glibc,
libstdc++ and libgcc_s, which every manylinux wheel takes from the system, and libexpat).

`make wheel` (part of `make test`) builds the wheel and runs this file with FASTIMG_WHEEL set to it. Without
FASTIMG_WHEEL the newest wheel in wheelhouse/ is tested; a missing wheel, or one older than the sources (not
the code under test), fails with a pointer to `make wheel`. Nothing skips.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from imaging import textured

import fastimg

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# What a manylinux wheel may take from the system (glibc and the GCC runtime); everything else _core needs
# must resolve inside the wheel's fastimg.libs/.
SYSTEM_LIBS = {
    "linux-vdso.so.1",
    "ld-linux-x86-64.so.2",
    "libc.so.6",
    "libm.so.6",
    "libmvec.so.1",
    "libdl.so.2",
    "librt.so.1",
    "libpthread.so.0",
    "libresolv.so.2",
    "libnsl.so.1",
    "libutil.so.1",
    "libanl.so.1",
    "libstdc++.so.6",
    "libgcc_s.so.1",
    # manylinux-whitelisted; Debian 12's copy needs glibc 2.36, so bundling it would cost the manylinux_2_35
    # tag (scripts/build_wheel.sh). Nothing fastimg links needs it since OpenCV's imgcodecs went.
    "libexpat.so.1",
}
MUST_BUNDLE = [
    "libopencv_core-",
    "libopencv_imgproc-",
    "libjpeg-",
    "libpng16-",
    "libwebp-",
    "libwebpdemux-",
    "libgif-",
    "libtiff-",
]
# What OpenCV's imgcodecs used to drag in (66.7 MB wheels): the codecs are now one library per format.
# libgomp: the core runs its own threads (cpp/src/thread_team.cpp).
MUST_NOT_BUNDLE = [
    "libgomp",
    "libopencv_imgcodecs",
    "libgdal",
    "libgdcm",
    "libOpenEXR",
    "libIlmImf",
    "libpoppler",
    "libhdf5",
]
MAX_WHEEL_MB = 15

PROBE = r"""
import json, sys
import numpy as np
import fastimg
from fastimg import _core

args = json.loads(sys.argv[1])
paths = [args["jpeg"], args["png"]]
images = fastimg.decode_images(paths)
batch = fastimg.load_batch(paths, fastimg.Transform.imagenet_train(32), seed=3, epoch=1)
thumbs = fastimg.batch_resize_images(images, (16, 12), stack=True)
after = open("/proc/self/maps").read()
np.savez(args["out"], jpeg=images[0], png=images[1], batch=batch.images, thumbs=thumbs)

def mapped(maps):
    return sorted({line.split()[-1] for line in maps.splitlines() if ".so" in line and "/" in line})

print(json.dumps({
    "fastimg": fastimg.__file__, "core": _core.__file__, "version": fastimg.__version__,
    "indices": batch.indices.tolist(), "errors": [str(e) for e in batch.errors],
    "libs_after_decode": mapped(after),
}))
"""


def _wheel() -> Path:
    given = os.environ.get("FASTIMG_WHEEL")
    if given:
        path = Path(given)
        if not path.is_file():
            pytest.fail(f"FASTIMG_WHEEL={given} is not a file")
        return path
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    wheels = sorted(
        (ROOT / "wheelhouse").glob(f"fastimg-*-{tag}-{tag}-manylinux*.whl"), key=lambda p: p.stat().st_mtime
    )
    # `make test` builds the wheel first; a run without an up-to-date wheel has not tested it, so it fails.
    if not wheels:
        pytest.fail(
            f"no fastimg-*-{tag}-manylinux*.whl in wheelhouse/: run `make wheel` (part of `make test`) "
            "or set FASTIMG_WHEEL=path/to.whl"
        )
    sources = [p for d in ("src", "cpp", "cmake") for p in (ROOT / d).rglob("*") if p.is_file()]
    sources += [ROOT / "CMakeLists.txt", ROOT / "pyproject.toml"]
    newest = max(sources, key=lambda p: p.stat().st_mtime)
    if newest.stat().st_mtime > wheels[-1].stat().st_mtime:
        pytest.fail(
            f"{wheels[-1].relative_to(ROOT)} is older than {newest.relative_to(ROOT)}: run `make wheel` (part of "
            "`make test`) to rebuild and test it"
        )
    return wheels[-1]


def _clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "LD_LIBRARY_PATH", "LD_PRELOAD")
    }
    env.update(PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    return env


def _run(args: list[str], cwd: Path, timeout: float = 300) -> str:
    proc = subprocess.run(args, cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n"
            f"--- stderr\n{proc.stderr[-4000:]}"
        )
    return proc.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> dict:
    """A new venv in a temp directory holding only the wheel and numpy (from PyPI, the version under test)."""
    wheel = _wheel()
    work = tmp_path_factory.mktemp("wheel")
    assert ROOT not in work.resolve().parents, f"temp dir {work} is inside the source tree"
    env_dir = work / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    _run([base_python, "-m", "venv", str(env_dir)], cwd=work)
    python = env_dir / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", str(wheel), f"numpy=={np.__version__}"], cwd=work, timeout=600)
    return {"wheel": wheel, "work": work, "dir": env_dir, "python": python}


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict:
    """A JPEG and a PNG written by Pillow in this process (the venv has only fastimg and numpy)."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("wheel-images")
    jpeg_pixels, png_pixels = textured(48, 64, seed=1), textured(37, 51, seed=2)
    Image.fromarray(jpeg_pixels).save(folder / "a.jpg", quality=95)
    Image.fromarray(png_pixels).save(folder / "b.png")
    with Image.open(folder / "a.jpg") as im:
        jpeg_pillow = np.asarray(im.convert("RGB"))
    return {"jpeg": folder / "a.jpg", "png": folder / "b.png", "jpeg_pillow": jpeg_pillow, "png_pixels": png_pixels}


@pytest.fixture(scope="module")
def probe(venv, images) -> dict:
    out = venv["work"] / "probe.npz"
    script = venv["work"] / "probe.py"
    script.write_text(PROBE)
    args = json.dumps({"jpeg": str(images["jpeg"]), "png": str(images["png"]), "out": str(out)})
    # -I: no PYTHON* variables, no user site, no script or current directory on sys.path.
    stdout = _run([str(venv["python"]), "-I", str(script), args], cwd=venv["work"])
    info = json.loads(stdout.strip().splitlines()[-1])
    with np.load(out) as arrays:
        info["arrays"] = dict(arrays)
    return info


def test_only_fastimg_and_numpy_are_installed(venv):
    listing = _run([str(venv["python"]), "-m", "pip", "list", "--format=json"], cwd=venv["work"])
    names = {row["name"].lower() for row in json.loads(listing)}
    assert names - {"pip", "setuptools", "wheel"} == {"fastimg", "numpy"}


def test_imports_from_the_venv(venv, probe):
    site = venv["dir"].resolve()
    for key in ("fastimg", "core"):
        path = Path(probe[key]).resolve()
        assert site in path.parents, f"{key} imported from {path}, not from the venv {site}"
    assert probe["version"] == fastimg.__version__


def test_decodes_jpeg_and_png(probe, images):
    jpeg, png = probe["arrays"]["jpeg"], probe["arrays"]["png"]
    assert png.dtype == np.uint8 and np.array_equal(png, images["png_pixels"])
    expected = images["jpeg_pillow"]
    assert jpeg.shape == expected.shape == (48, 64, 3)
    diff = np.abs(jpeg.astype(np.int16) - expected.astype(np.int16))
    # Same libjpeg-turbo IDCT as Pillow's: equal up to rounding differences between library versions.
    assert diff.max() <= 4 and diff.mean() <= 0.5, f"JPEG differs from Pillow: max {diff.max()} mean {diff.mean()}"


def test_load_batch_matches_the_development_build(probe, images):
    batch = probe["arrays"]["batch"]
    assert batch.shape == (2, 3, 32, 32) and batch.dtype == np.float32
    assert probe["indices"] == [0, 1] and probe["errors"] == []
    assert np.isfinite(batch).all()
    expected = fastimg.load_batch(
        [str(images["jpeg"]), str(images["png"])], fastimg.Transform.imagenet_train(32), seed=3, epoch=1
    ).images
    # Same source, same libraries: identical unless the wheel is stale (then this tells you).
    np.testing.assert_allclose(batch, expected, atol=0.05)
    assert probe["arrays"]["thumbs"].shape == (2, 12, 16, 3)


def _ldd(path: Path) -> list[tuple[str, str | None]]:
    out = subprocess.run(["ldd", str(path)], env=_clean_env(), capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        line = line.strip()
        if "=>" in line:
            name, target = (s.strip() for s in line.split("=>", 1))
            rows.append((name, None if target.startswith("not found") else target.split(" (")[0]))
        elif line:
            path_or_name = line.split(" (")[0]
            rows.append((Path(path_or_name).name, path_or_name))
    return rows


def test_ldd_resolves_everything_from_the_bundled_libs(probe):
    core = Path(probe["core"])
    libs_dir = (core.parent.parent / "fastimg.libs").resolve()
    assert libs_dir.is_dir(), f"no fastimg.libs next to {core.parent}"
    rows = _ldd(core)
    missing = [name for name, target in rows if target is None]
    assert not missing, f"ldd {core.name}: not found: {missing}"
    bundled = [name for name, target in rows if Path(target).resolve().parent == libs_dir]
    outside = [
        f"{name} => {target}"
        for name, target in rows
        if Path(target).resolve().parent != libs_dir and name not in SYSTEM_LIBS
    ]
    assert not outside, "resolved outside the wheel: " + ", ".join(outside)
    for prefix in MUST_BUNDLE:
        assert any(name.startswith(prefix) for name in bundled), f"{prefix}* is not bundled: {bundled}"
    # Every bundled file is used and every used one is bundled (no stale extras).
    assert {p.name for p in libs_dir.iterdir()} == set(bundled)
    dragged = [name for name in bundled if name.startswith(tuple(MUST_NOT_BUNDLE))]
    assert not dragged, f"bundled libraries fastimg does not need: {dragged}"


def test_the_wheel_is_small():
    size_mb = _wheel().stat().st_size / 1e6
    assert size_mb <= MAX_WHEEL_MB, f"the wheel is {size_mb:.1f} MB (bound {MAX_WHEEL_MB} MB)"


def test_loads_no_system_library_beyond_glibc_and_the_gcc_runtime(venv, probe):
    """/proc/self/maps after decoding shows what was really loaded, dlopen included. The interpreter's own
    modules (lib-dynload, e.g. _lzma pulled in by importlib.metadata) and numpy's may load system libraries;
    anything else outside the venv came from fastimg."""
    venv_dir, base = venv["dir"].resolve(), Path(sys.base_prefix).resolve()
    mapped = [Path(p).resolve() for p in probe["libs_after_decode"]]
    fastimg_dirs = {
        venv_dir / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages" / d
        for d in ("fastimg", "fastimg.libs")
    }
    theirs = [p for p in mapped if (base in p.parents or venv_dir in p.parents) and not fastimg_dirs & set(p.parents)]
    allowed = {Path(target).resolve() for p in theirs for _, target in _ldd(p) if target and "/" in target}
    foreign = [
        str(p)
        for p in mapped
        if venv_dir not in p.parents
        and base not in p.parents
        and p not in allowed
        and not p.name.startswith(tuple(SYSTEM_LIBS))
    ]
    assert not foreign, f"fastimg loaded system libraries: {foreign}"
