#!/usr/bin/env bash
# Installs what fastimg needs, idempotently: Debian packages, the .venv with pinned Python packages, and
# the package itself (rebuilt incrementally in build/). Usage: scripts/bootstrap.sh test|bench
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-test}

APT_PACKAGES=(g++ make pkg-config libopencv-core-dev libopencv-imgproc-dev libturbojpeg0-dev libpng-dev libwebp-dev libgif-dev libtiff-dev
              libjpeg62-turbo-dev libgtest-dev libbenchmark-dev)
# jpegtran, the reference `make bench` times `python -m fastimg prepare` against.
if [ "$profile" = bench ]; then APT_PACKAGES+=(libjpeg-turbo-progs); fi

scripts/apt_install.sh "${APT_PACKAGES[@]}"

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo ">> creating .venv"
  if ! "$PYTHON" -m venv .venv; then
    rm -rf .venv
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv python3-dev
    "$PYTHON" -m venv .venv
  fi
fi

# Reinstall pinned packages only when a requirements file changed.
stamp=".venv/.requirements-$profile"
digest=$(cat requirements/*.txt | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  echo ">> pip install -r requirements/build.txt -r requirements/$profile.txt"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements/build.txt -r "requirements/$profile.txt"
  echo "$digest" > "$stamp"
fi

# The torchvision reference for the conversion tests and the augment benchmark (requirements/reference.txt
# says why it lives apart). The tests fail without it, so a failed install stops here.
TV_REF=.venv/torchvision-ref
if [ ! -f "$TV_REF/.ok" ] || [ "$(cat "$TV_REF/.ok")" != "$digest" ]; then
  rm -rf "$TV_REF"
  .venv/bin/python -m pip install -q --no-deps --target "$TV_REF" -r requirements/reference.txt
  : > "$TV_REF/torchvision/_meta_registrations.py"
  echo "$digest" > "$TV_REF/.ok"
fi

# Non-editable install from a fixed build directory: CMake rebuilds only what changed, and tests run
# against the installed package exactly as users get it.
echo ">> pip install . (incremental native build in build/)"
.venv/bin/python -m pip install -q --no-build-isolation --no-deps .
