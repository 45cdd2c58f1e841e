#!/usr/bin/env bash
# Builds, on the build machine (no GPU needed), exactly what bench/gpu/run.sh needs on a lent GPU machine, and
# stages it into ONE ignored folder to carry there (default build-gpu/stage, <= 60 MiB; the size is printed):
#   bin/tests/  the gpu-labelled GoogleTest executables (`ctest -L gpu`), found from tests/**/CMakeLists.txt and
#               checked against ctest's list; bin/ bench_step bench_kernels bench_concurrent bench_proposal (stripped)
#   lib/        the shared libraries they need beyond glibc, CUDA and the GCC runtime (e.g. libbenchmark)
#   lib-gcc/    libstdc++, libgcc_s, libgomp of this machine (run.sh uses them only if the image's are too old)
#   lib-cuda/   this toolkit's libcudart (last-resort fallback; cuBLAS comes from the GPU machine's install)
#   networks/   bench/networks;  peer/  a copy of ../shared/bench/peer_torch_spvd.py;  MANIFEST (key=value)
# The build is configured like scripts/test.sh, for sm_90 and a portable x86-64-v3 host ISA.
# Usage: bench/gpu/build.sh   (env: BUILD_DIR=build-gpu, JOBS=2, CUDA_ARCH=90, HOST_ARCH=x86-64-v3)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd -P)
BUILD_DIR=${BUILD_DIR:-build-gpu}
JOBS=${JOBS:-2}
STAGE="$BUILD_DIR/stage"
LIMIT_MIB=60

mkdir -p "$BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DSPARSE_WERROR=ON -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" \
  -DSPARSE_CPU_ARCH="${HOST_ARCH:-x86-64-v3}" -DSPARSE_GP_ARCH="${HOST_ARCH:-x86-64-v3}" >"$BUILD_DIR/configure.log" 2>&1 ||
  { cat "$BUILD_DIR/configure.log"; exit 1; }
grep -q 'sparse: CUDA backend ON' "$BUILD_DIR/configure.log" ||
  { echo "build.sh: the CUDA backend is not configured (nvcc not found?): see $BUILD_DIR/configure.log" >&2; exit 1; }

# gpu-labelled test targets: sparse_test(<name> ... LABELS gpu) calls, possibly over several lines.
GPU_TESTS=$(find tests -name CMakeLists.txt -print0 | xargs -0 cat |
  python3 -c 'import re, sys
src = sys.stdin.read()
for m in re.finditer(r"sparse_test\(\s*(\w+)([^)]*)\)", src):
    if re.search(r"LABELS\s+[^)]*\bgpu\b", m.group(2)):
        print(m.group(1))')
BENCHES="bench_step bench_kernels bench_concurrent bench_proposal"
echo "build.sh: gpu tests: $(echo $GPU_TESTS); benches: $BENCHES"
cmake --build "$BUILD_DIR" -j "$JOBS" --target $GPU_TESTS $BENCHES

# Cross-check with CTest: every test labelled gpu must run one of the executables staged.
ctest --test-dir "$BUILD_DIR" -L gpu --show-only=json-v1 >"$BUILD_DIR/gpu-tests.json"
python3 - "$BUILD_DIR/gpu-tests.json" $GPU_TESTS <<'PY'
import json, os, sys
j = json.load(open(sys.argv[1])); staged = set(sys.argv[2:])
exes = {os.path.basename(t["command"][0]) for t in j.get("tests", []) if t.get("command")}
missing = exes - staged
print(f"build.sh: ctest -L gpu: {len(j.get('tests', []))} tests in {sorted(exes)}")
if missing:
    sys.exit(f"build.sh: gpu tests run executables not staged: {sorted(missing)}")
if not exes:
    sys.exit("build.sh: ctest lists no gpu test")
PY

rm -rf "$STAGE"
mkdir -p "$STAGE/bin/tests" "$STAGE/lib" "$STAGE/lib-gcc" "$STAGE/lib-cuda" "$STAGE/networks" "$STAGE/peer"
for t in $GPU_TESTS; do
  f=$(find "$BUILD_DIR/tests" -type f -name "$t" -perm -u+x | head -n 1)
  [ -n "$f" ] || { echo "build.sh: test executable $t not found under $BUILD_DIR/tests" >&2; exit 1; }
  cp "$f" "$STAGE/bin/tests/"
done
for b in $BENCHES; do cp "$BUILD_DIR/bench/$b" "$STAGE/bin/"; done
find "$STAGE/bin" -type f -exec strip --strip-unneeded {} +

# Shared libraries: glibc's and the driver's stay behind; CUDA's come from the GPU machine (cudart also staged as a
# fallback); the GCC runtime goes to lib-gcc/; the rest to lib/.
for f in "$STAGE"/bin/* "$STAGE"/bin/tests/*; do
  [ -f "$f" ] || continue
  ldd "$f" | awk '/=> \// {print $1, $3}'
done | sort -u | while read -r name path; do
  case "$name" in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libresolv.so.*|libcuda.so.*) ;;
    libcudart.so.*) cp -L "$path" "$STAGE/lib-cuda/$name" ;;
    libcublas*|libcudnn*|libnvrtc*|libnvJitLink*|libcufft*|libcurand*|libcusparse*|libcusolver*) ;;
    libstdc++.so.*|libgcc_s.so.*|libgomp.so.*) cp -L "$path" "$STAGE/lib-gcc/$name" ;;
    *) cp -L "$path" "$STAGE/lib/$name" ;;
  esac
done
cp bench/networks/*.json "$STAGE/networks/"
PEER=../shared/bench/peer_torch_spvd.py
[ -f "$PEER" ] || { echo "build.sh: $PEER not found" >&2; exit 1; }
cp "$PEER" "$STAGE/peer/"

# What the binaries need at run time (for the report).
DYN=$(for f in "$STAGE"/bin/* "$STAGE"/bin/tests/*; do [ -f "$f" ] && ldd "$f"; done | awk '{print $1}' | sort -u |
  grep -E 'cudart|cublas|cudnn|cusolver|cusparse|nvJitLink' | tr '\n' ' ')
GLIBC_MAX=$(for f in "$STAGE"/bin/* "$STAGE"/bin/tests/* "$STAGE"/lib/*; do [ -f "$f" ] && objdump -T "$f" 2>/dev/null; done |
  grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)
{
  echo "source_dir=$ROOT"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD 2>/dev/null || echo '+dirty')"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n), $(. /etc/os-release && echo "$PRETTY_NAME"), $(c++ --version | head -n 1)"
  echo "nvcc=$(/usr/local/cuda/bin/nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' | head -n 1)"
  echo "cuda_arch=${CUDA_ARCH:-90} host_arch=${HOST_ARCH:-x86-64-v3}"
  echo "gpu_tests=$(echo $GPU_TESTS)"
  echo "benches=$BENCHES"
  echo "dynamic_cuda_libs=$DYN"
  echo "glibc_max=$GLIBC_MAX"
} >"$STAGE/MANIFEST"

echo "build.sh: staged $STAGE:"
(cd "$STAGE" && find . -type f -printf '%s\t%p\n' | sort -k2 | awk -F'\t' '{printf "  %8.2f MiB  %s\n", $1 / 1048576, $2}')
BYTES=$(du -sb "$STAGE" | cut -f1)
TREE=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1)
awk -v s="$BYTES" -v t="$TREE" -v l="$LIMIT_MIB" 'BEGIN { m = 1048576;
  printf "build.sh: stage %.2f MiB (limit %d MiB); working tree %.2f MiB; together %.2f MiB (carry limit 64 MiB)\n",
         s / m, l, t / m, (s + t) / m }'
echo "build.sh: binaries link dynamically: $DYN; newest glibc symbol: $GLIBC_MAX"
if (( BYTES > LIMIT_MIB * 1048576 )); then
  echo "build.sh: FAILED: the stage is over $LIMIT_MIB MiB" >&2
  exit 1
fi
echo "build.sh: on the GPU machine: carry [\"$STAGE\"] and run: bash bench/gpu/run.sh"
