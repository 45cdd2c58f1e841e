#!/usr/bin/env bash
# Training-step throughput of bench_step next to the PyTorch peer (../shared/bench/peer_torch_spvd.py), measured in
# the same run, and the ratio table (issue 4: >= 1.5x on lenet5, >= 3x on tiny, 2 threads, batch 64 and 256).
# Usage: bench/step_vs_torch.sh [BUILD_DIR] [THREADS] [DEVICE]   (DEVICE cpu or cuda:N; the peer gets cpu or cuda)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
THREADS=${2:-2}
DEVICE=${3:-cpu}
PEER_DEVICE=cpu
[[ "$DEVICE" == cuda* ]] && PEER_DEVICE=cuda
PEER=../shared/bench/peer_torch_spvd.py
[ -f "$PEER" ] || { echo "step_vs_torch: $PEER not found" >&2; exit 1; }
PYBIN=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
"$PYBIN" -c "import torch" 2>/dev/null || { echo "step_vs_torch: python3 torch missing (apt-get install python3-torch)" >&2; exit 1; }
printf "%-8s %6s %14s %14s %8s %10s\n" net batch sparse_img/s torch_img/s ratio sparse_GF/s
for net in lenet5 tiny; do
  for batch in 64 256; do
    s=$("$BUILD/bench/bench_step" --net "bench/networks/$net.json" --batch "$batch" --threads "$THREADS" \
        --device "$DEVICE" --steps 30 --json | tail -n 1)
    t=$("$PYBIN" "$PEER" --net "$net" --device "$PEER_DEVICE" --threads "$THREADS" --batch "$batch" --steps 30 | tail -n 1)
    "$PYBIN" - "$net" "$batch" "$s" "$t" <<'PY'
import json, sys
net, batch, s, t = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
print(f"{net:<8} {batch:>6} {s['images_per_s']:>14.0f} {t['images_per_s']:>14.0f} "
      f"{s['images_per_s'] / t['images_per_s']:>7.2f}x {s['gflops']:>10.2f}")
PY
  done
done
