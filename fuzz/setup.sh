#!/usr/bin/env bash
# Installs what the fuzzers need, idempotently (as scripts/bootstrap.sh does for the build): clang-14 with
# libFuzzer and the sanitizer runtimes (Debian packages), and atheris in .venv. Run by `make fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(clang-14 libclang-rt-14-dev)
ATHERIS=atheris==3.0.0

scripts/apt_install.sh "${APT_PACKAGES[@]}"

if ! .venv/bin/python -c "import atheris" 2>/dev/null; then
  echo ">> pip install $ATHERIS"
  .venv/bin/python -m pip install -q "$ATHERIS"
fi
