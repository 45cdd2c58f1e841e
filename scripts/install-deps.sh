#!/usr/bin/env bash
# Installs the Debian packages the engine needs, only those missing (idempotent). Later issues append here.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libeigen3-dev libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
  libsqlite3-dev zlib1g-dev libstb-dev
  libpq-dev postgresql
  dataset-fashion-mnist
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  gcc-avr avr-libc simavr
  graphviz
  chromium
  python3-sklearn libopenblas0-pthread
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: missing ${missing[*]} and not root (no sudo): install them as root" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
