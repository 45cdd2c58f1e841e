#!/usr/bin/env bash
# The GPU verification run of issue 7, on a lent GPU machine, from the repo root, with the folder bench/gpu/build.sh
# staged (STAGE, default build-gpu/stage, carried over): the GPU tests, compute-sanitizer memcheck on the CUDA ops
# test, bench_step at batch 256 next to the PyTorch peer (eager and --compile), bench_concurrent, bench_proposal's
# GPU case and bench_kernels, then ONE table (bench/gpu/summarize.py): metric, ours, peer, ratio, target, pass/fail.
# Invariants: every step runs under `timeout`, within a total budget (BUDGET_S, default 450 s, so the whole run stays
# under 8 minutes); a step that fails is recorded as FAILED with its reason and the run goes on; the exit status is 0
# whenever the table was printed. Writes at most 4 files under $OUT (default ./gpu-out): run.log, results.json,
# results.md and logs.tar.gz (every step's log and raw JSON).
# Usage: bash bench/gpu/run.sh        (env: STAGE, OUT, BUDGET_S, PYTHON, PROPOSAL_ARGS)
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd -P)
STAGE=${STAGE:-build-gpu/stage}
OUT=${OUT:-./gpu-out}
BUDGET_S=${BUDGET_S:-450}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/gpu-run.XXXXXX")
exec > >(tee "$OUT/run.log") 2>&1
T0=$(date +%s)
export PYTHONUNBUFFERED=1
PY=${PYTHON:-$(command -v python3)}
: >"$LOGS/steps.tsv"

elapsed() { echo $(( $(date +%s) - T0 )); }
note() { printf '[%4ss] %s\n' "$(elapsed)" "$*"; }
# record NAME STATUS RC SECONDS REASON: one row of steps.tsv (STATUS ok | FAILED | skipped).
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$(printf '%s' "$5" | tr '\t\n' '  ' | cut -c1-300)" >>"$LOGS/steps.tsv"; }
last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | cut -c1-300; }
# step NAME LIMIT_S CMD...: runs CMD under timeout (LIMIT_S, cut to the budget left) into $LOGS/NAME.log.
step() {
  local name=$1 limit=$2; shift 2
  local left=$(( BUDGET_S - $(elapsed) ))
  if (( left < 10 )); then
    note "FAILED $name: not run, the run's budget of ${BUDGET_S}s is spent"
    record "$name" FAILED -1 0 "not run: budget of ${BUDGET_S}s spent"
    return 1
  fi
  (( limit > left )) && limit=$left
  note "run $name (limit ${limit}s): $*"
  local s0 rc; s0=$(date +%s)
  timeout -k 5 "$limit" "$@" >"$LOGS/$name.log" 2>&1
  rc=$?
  local secs=$(( $(date +%s) - s0 ))
  if (( rc == 0 )); then
    record "$name" ok 0 "$secs" ""
    note "ok $name (${secs}s)"
  elif (( rc == 124 || rc == 137 )); then
    record "$name" FAILED "$rc" "$secs" "timed out after ${limit}s; last line: $(last_line "$LOGS/$name.log")"
    note "FAILED $name: timed out after ${limit}s"
  else
    record "$name" FAILED "$rc" "$secs" "exit $rc: $(last_line "$LOGS/$name.log")"
    note "FAILED $name: exit $rc: $(last_line "$LOGS/$name.log")"
  fi
  return $rc
}
skip() { note "skipped $1: $2"; record "$1" skipped 0 0 "$2"; }

# ---- environment --------------------------------------------------------------------------------------------
note "repo $ROOT, stage $STAGE, out $OUT, budget ${BUDGET_S}s"
if [ ! -f "$STAGE/MANIFEST" ]; then
  note "FAILED: $STAGE/MANIFEST missing: run bench/gpu/build.sh on the build machine and carry $STAGE"
  record stage FAILED 1 0 "$STAGE/MANIFEST missing (run bench/gpu/build.sh and carry $STAGE)"
fi
GPU_NAME=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n 1)
GPU_NAME=${GPU_NAME:-none (nvidia-smi: $(nvidia-smi -L 2>&1 | head -n 1 | cut -c1-120))}
note "GPU: $GPU_NAME"
{
  echo "gpu=$GPU_NAME"
  echo "host=$(uname -n) $(uname -r) $(nproc) cpus"
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  [ -f "$STAGE/MANIFEST" ] && sed 's/^/stage./' "$STAGE/MANIFEST"
} >"$LOGS/env.txt"
TORCH_INFO=$(timeout 60 "$PY" -c 'import torch; c = torch.cuda.is_available(); print(torch.__version__, "cuda" if c else "no-cuda", torch.cuda.get_device_name(0) if c else "")' 2>"$LOGS/torch_probe.err" | tail -n 1)
[ -n "$TORCH_INFO" ] || TORCH_INFO="no torch: $(last_line "$LOGS/torch_probe.err")"
note "torch: $TORCH_INFO"
echo "torch=$TORCH_INFO" >>"$LOGS/env.txt"
TORCH_CUDA=0
[[ "$TORCH_INFO" == *" cuda"* ]] && TORCH_CUDA=1

# Libraries of our binaries: cudart, cuBLAS, cuSOLVER (and cuDNN where linked) from torch's pip install (nvidia/*/lib)
# or the CUDA toolkit;
# the staged lib/ (libraries the image may lack), lib-gcc/ only when the image's libstdc++ is too old, and the
# staged cudart last, as a fallback.
SITE_DIRS=$("$PY" -c 'import site; print("\n".join(site.getsitepackages()))' 2>/dev/null)
TORCH_LIB=$("$PY" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null)
CUDA_LD=""
add_dir() { [ -d "$1" ] && [[ ":$CUDA_LD:" != *":$1:"* ]] && CUDA_LD=${CUDA_LD:+$CUDA_LD:}$1; return 0; }
for sp in $SITE_DIRS; do
  for d in "$sp"/nvidia/cu13/lib "$sp"/nvidia/*/lib; do
    ls "$d"/lib*.so* >/dev/null 2>&1 && add_dir "$d"
  done
done
[ -n "$TORCH_LIB" ] && add_dir "$TORCH_LIB"
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do add_dir "$d"; done
OUR_LD="$ROOT/$STAGE/lib${CUDA_LD:+:$CUDA_LD}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}:$ROOT/$STAGE/lib-cuda"
BINS=$(find "$STAGE/bin" -type f 2>/dev/null | sort)
missing() { for b in $BINS; do LD_LIBRARY_PATH=$1 ldd "$b" 2>&1 | grep 'not found'; done | sort -u; }
if [ -n "$(missing "$OUR_LD")" ]; then
  OUR_LD="$ROOT/$STAGE/lib-gcc:$OUR_LD"
  note "image's libstdc++/libgomp too old or absent: using the staged $STAGE/lib-gcc"
fi
MISSING=$(missing "$OUR_LD")
if [ -n "$MISSING" ]; then note "libraries still missing: $(echo "$MISSING" | tr '\n' ' ')"; fi
{ echo "ld_library_path=$OUR_LD"; echo "ldd_missing=$(echo "$MISSING" | tr '\n' ' ')"; } >>"$LOGS/env.txt"
for b in $BINS; do echo "== $b"; LD_LIBRARY_PATH=$OUR_LD ldd "$b" 2>&1; done >"$LOGS/ldd.txt"
ours() { LD_LIBRARY_PATH=$OUR_LD "$@"; }

# The CUDA test reads bench/networks through the source path compiled into it: link it to this checkout if absent.
SRC_DIR=$(sed -n 's/^source_dir=//p' "$STAGE/MANIFEST" 2>/dev/null)
if [ -n "$SRC_DIR" ] && [ ! -e "$SRC_DIR/bench/networks/tiny.json" ] && [ ! -e "$SRC_DIR" ]; then
  mkdir -p "$(dirname "$SRC_DIR")" 2>/dev/null && ln -s "$ROOT" "$SRC_DIR" 2>/dev/null &&
    note "linked $SRC_DIR -> $ROOT (the tests' compiled-in source dir)" ||
    note "could not link $SRC_DIR -> $ROOT: the CUDA training tests will not find bench/networks"
fi

PEER=../shared/bench/peer_torch_spvd.py
[ -f "$PEER" ] || PEER=$STAGE/peer/peer_torch_spvd.py
NETS=bench/networks
[ -f "$NETS/tiny.json" ] || NETS=$STAGE/networks

# ---- 1. GPU tests -------------------------------------------------------------------------------------------
for t in "$STAGE"/bin/tests/*; do
  [ -x "$t" ] || continue
  n=$(basename "$t")
  step "gtest_$n" 150 env LD_LIBRARY_PATH="$OUR_LD" "$t" --gtest_output="json:$LOGS/gtest_$n.json" --gtest_color=no
done
[ -e "$STAGE/bin/tests" ] || record gtest_missing FAILED 1 0 "no test executables in $STAGE/bin/tests"

# ---- 2. training-step throughput next to the peer (eager first; --compile after the other GPU benches) ------------
for net in tiny lenet5; do
  step "step_$net" 60 env LD_LIBRARY_PATH="$OUR_LD" "$STAGE/bin/bench_step" --net "$NETS/$net.json" --batch 256 \
    --threads 1 --device cuda:0 --method spvd --steps 50 --warmup 10 --json
  if (( TORCH_CUDA )); then
    step "peer_eager_$net" 90 "$PY" "$PEER" --net "$net" --device cuda --batch 256 --steps 50
  else
    skip "peer_eager_$net" "torch has no usable CUDA device ($TORCH_INFO)"
  fi
done

# ---- 3. concurrent trials -----------------------------------------------------------------------------------
step concurrent 90 env LD_LIBRARY_PATH="$OUR_LD" "$STAGE/bin/bench_concurrent" --net "$NETS/tiny.json" \
  --device cuda:0 --trials 1,2,4,8,16 --batch 256 --steps 40 --warmup 5 --repeats 3 --json

# ---- 4. one Thompson-sampling proposal on the GPU (bench_proposal's GPU case) ----------------------------------
# Its CPU cases once (--repeats 1), the GPU case (10,000 candidates x 1,000 observations) 5 times, the CPU peer once.
PROPOSAL_ARGS=${PROPOSAL_ARGS:---json --repeats 1 --gpu-device 0 --gpu-n 1000 --gpu-m 10000 --gpu-repeats 5 --cpu-peer-repeats 1}
# shellcheck disable=SC2086
step proposal 120 env LD_LIBRARY_PATH="$OUR_LD" "$STAGE/bin/bench_proposal" $PROPOSAL_ARGS

# ---- 5. the peer under torch.compile ------------------------------------------------------------------------
for net in tiny lenet5; do
  if (( TORCH_CUDA )); then
    step "peer_compile_$net" 170 "$PY" "$PEER" --net "$net" --device cuda --batch 256 --steps 50 --compile
  else
    skip "peer_compile_$net" "torch has no usable CUDA device ($TORCH_INFO)"
  fi
done

# ---- 6. kernels ---------------------------------------------------------------------------------------------
step kernels 90 env LD_LIBRARY_PATH="$OUR_LD" "$STAGE/bin/bench_kernels" --networks "$NETS" --batch 256 \
  --benchmark_min_time=0.05 --benchmark_out="$LOGS/kernels.json" --benchmark_out_format=json

# ---- 7. compute-sanitizer memcheck on the CUDA ops test ---------------------------------------------------------
SAN=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer 2>/dev/null | head -n 1)
if [ -z "$SAN" ]; then
  skip memcheck "compute-sanitizer not found"
elif [ ! -x "$STAGE/bin/tests/test_backend_ops_cuda" ]; then
  skip memcheck "$STAGE/bin/tests/test_backend_ops_cuda not staged"
else
  # Every op case and the training comparisons, less the whole train() (minutes under memcheck).
  step memcheck 120 env LD_LIBRARY_PATH="$OUR_LD" "$SAN" --tool memcheck --leak-check no --error-exitcode 9 \
    "$STAGE/bin/tests/test_backend_ops_cuda" --gtest_color=no --gtest_filter=-CudaTrainingVsCpu.TrainOnSyntheticDataMatchesCpu
fi

# ---- table --------------------------------------------------------------------------------------------------
note "summary (run took $(elapsed)s)"
"$PY" bench/gpu/summarize.py "$LOGS" "$OUT" || note "FAILED: bench/gpu/summarize.py exit $?; raw logs in $OUT/logs.tar.gz"
tar -czf "$OUT/logs.tar.gz" -C "$LOGS" . 2>/dev/null || note "FAILED: could not write $OUT/logs.tar.gz"
note "done in $(elapsed)s; results in $OUT (run.log, results.md, results.json, logs.tar.gz)"
exit 0
