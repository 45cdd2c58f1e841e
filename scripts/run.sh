#!/usr/bin/env bash
# The README's main command: installs dependencies, builds the engine in Release and runs the main job on
# the default dataset (Fashion-MNIST) and device. Extra arguments replace the default job: scripts/run.sh devices
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target sparse
if [ $# -eq 0 ]; then
  set -- data info --dataset fashion-mnist
fi
exec "$BUILD_DIR/sparse" "$@"
