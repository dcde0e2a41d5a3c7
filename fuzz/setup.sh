#!/usr/bin/env bash
# Installs what the fuzzers need, idempotently (as scripts/bootstrap.sh does for the build): clang-14 with
# libFuzzer and the sanitizer runtimes (Debian packages), and atheris in .venv. Run by `make fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(clang-14 libclang-rt-14-dev)
ATHERIS=atheris==3.0.0

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo ">> apt-get install ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! .venv/bin/python -c "import atheris" 2>/dev/null; then
  echo ">> pip install $ATHERIS"
  .venv/bin/python -m pip install -q "$ATHERIS"
fi
