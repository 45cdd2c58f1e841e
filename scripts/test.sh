#!/usr/bin/env bash
# The README's test command: installs dependencies, builds everything (CUDA compiled for sm_90 when nvcc
# is present, warnings as errors) and runs the whole CTest suite. GPU tests skip with a reason without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-test}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DSPARSE_WERROR=ON -DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCH:-90}
cmake --build "$BUILD_DIR" -j "$JOBS"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" "$@"
