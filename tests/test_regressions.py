"""Inputs that once broke a decoder (found by the fuzzers in fuzz/, see `make fuzz`) and hand-made tricky
ones, kept in tests/regressions/. Every file goes through fastimg.decode_images and fastimg.load_batch with
several options; each call must succeed or raise fastimg.DecodeError, never crash, hang or take the memory
its header asks for. The calls run in a subprocess (with an address-space cap), so a crash fails one test
instead of killing pytest."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REGRESSIONS = Path(__file__).parent / "regressions"

# Files whose header claims more pixels than the limit: refused from the header, before anything is
# allocated (the fixes for these findings), with the reason given (the child runs under a 6 GiB
# address-space cap, so an allocation for the claimed size would fail the run instead).
TOO_LARGE = {
    "png_ihdr_size_product_overflow.png": "image too large",  # 0xcbcbcbcb x 0xff00cbcb: w * h overflowed int64
    # "P6 109481\08276": OpenCV read NUL as a separator and allocated 2.7 GB; netpbm allows only whitespace
    "pnm_nul_delimited_size_bomb.ppm": "corrupt PNM",
    # 30000 x 30000 in the IFD: OpenCV allocated 2.7 GB; libtiff warns about its tag 0 first
    "tiff_header_size_bomb.tif": "image too large|corrupt TIFF",
    "bmp_os2_core_header_size_bomb.bmp": "image too large",  # 32000 x 32000 in a 12-byte OS/2 header
}
# Valid files that must decode, with their (height, width).
DECODES = {
    "bmp_os2_core_header_2x2.bmp": (2, 2),  # was refused: the 16-bit OS/2 sizes were read as 32-bit
    "jpeg_exif_ifd_offset_out_of_range.jpg": (32, 40),
    "jpeg_garbage_after_eoi.jpg": (32, 40),
}

CHILD = r"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
import fastimg

data = open(sys.argv[1], "rb").read()
transforms = [
    fastimg.Transform.imagenet_train(24, color_jitter=0.4),
    fastimg.Transform.imagenet_eval(16, dtype="float16", layout="NHWC"),
    fastimg.Transform((12, 20), dtype="uint8", antialias=False, apply_exif_orientation=True),
]
options = {
    "plain": {},
    "max_side": {"max_side": 7},
    "min_size_exif": {"min_size": (8, 8), "apply_exif_orientation": True},
}
calls = []
for mode in ("RGB", "L", "RGBA"):
    for label, kwargs in options.items():
        calls.append((f"decode {mode} {label}", lambda m=mode, k=kwargs: fastimg.decode_images([data], m, **k)[0]))
for i, t in enumerate(transforms):
    calls.append((f"load_batch {i}", lambda t=t: fastimg.load_batch([data, bytearray(data)], t, seed=1).images))

outcomes = {}
for name, call in calls:
    try:
        outcomes[name] = ["ok", list(call().shape)]
    except fastimg.DecodeError as e:
        outcomes[name] = ["DecodeError", str(e)]

# on_error="skip": a failed item is recorded, never raised, and the others are kept.
for t in transforms:
    batch = fastimg.load_batch([data, data], t, on_error="skip", num_threads=1)
    assert len(batch.images) + len(batch.errors) == 2, batch
errors = []
decoded = fastimg.decode_images([data, data], on_error="skip", errors=errors)
assert len(decoded) == 2 and [d is None for d in decoded] == [bool(errors)] * 2, (decoded, errors)
print(json.dumps(outcomes))
"""


def regression_files():
    return sorted(p.name for p in REGRESSIONS.iterdir() if p.is_file())


def test_regressions_are_small():
    assert regression_files(), "tests/regressions is empty"
    for name in regression_files():
        assert (REGRESSIONS / name).stat().st_size <= 16 * 1024, f"{name}: keep regression inputs small"


@pytest.mark.parametrize("name", regression_files())
def test_regression_input_decodes_or_raises_decode_error(name):
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(REGRESSIONS / name)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"{name}: exit status {proc.returncode}\n{proc.stderr[-3000:]}"
    outcomes = json.loads(proc.stdout.strip().splitlines()[-1])
    failed = {k: v[1] for k, v in outcomes.items() if v[0] != "ok"}
    if name in TOO_LARGE:
        assert len(failed) == len(outcomes), outcomes
        assert all(re.search(TOO_LARGE[name], reason) for reason in failed.values()), failed
    if name in DECODES:
        assert not failed, failed
        assert outcomes["decode RGB plain"][1] == [*DECODES[name], 3]
    # The same full-size decode in three modes succeeds or fails alike: the decoders are reused between
    # calls, so a difference would mean state leaking from one image into the next.
    plain = [outcomes[f"decode {mode} plain"][0] for mode in ("RGB", "L", "RGBA")]
    assert len(set(plain)) == 1, outcomes
