#!/usr/bin/env bash
# The README's main command: installs dependencies, builds the engine in Release and runs the main job: a ten-minute
# SpArSe search on Fashion-MNIST (accuracy, model size, working memory eq. 5 with MS, WM <= 2 KB) on every GPU the
# CUDA backend can use, else the CPU; the store runs/fashion-mnist.db is resumed when it exists; the Pareto front
# is printed at the end. Extra arguments replace the default job: scripts/run.sh devices
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target sparse
if [ $# -gt 0 ]; then
  exec "$BUILD_DIR/sparse" "$@"
fi
STORE=runs/fashion-mnist.db
mkdir -p runs
WORKERS=$(( $(nproc) > 1 ? $(nproc) : 1 ))
if [ -f "$STORE" ]; then
  "$BUILD_DIR/sparse" search --resume "$STORE" --cpu-workers "$WORKERS" --threads 1
else
  "$BUILD_DIR/sparse" search --dataset fashion-mnist --objectives acc,ms,wm5 --max-ms 2KB --max-wm 2KB \
    --min-acc 0.8 --space host/search/spaces/mcu_kb.json --time 10m --trials 98 --initial 8 --stage-trials 30,30,30 \
    --epochs 4 --morph-epochs 2 --lr 0.01 --log-variance-lr-scale 10 --early-stop off --prescreen 4 --prescreen-wm 1.25 \
    --val-limit 1000 \
    --cpu-workers "$WORKERS" --threads 1 --seed 1 --store "$STORE"
fi
exec "$BUILD_DIR/sparse" pareto "$STORE"
