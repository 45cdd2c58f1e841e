#!/usr/bin/env bash
# Test of bench/baselines.py (logistic-regression baselines on the max-pooled image).
# Writes a tiny learnable IDX dataset (8x8 images, 4 classes, class k = bright quadrant k; training files
# gzip-compressed, test files plain) into a temporary folder and checks: the engine's split sizes, the
# Philox split permutation (pinned to host/core/philox.hpp's output), accuracy well above chance, MS /
# WM5 / WM6 (and raw) equal to the formulas for every pool window, the budget verdicts and the best
# line, and that a truncated, corrupt or missing IDX file or a bad flag exits non-zero with a message
# naming the file or flag and no traceback.
# Usage: tests/bench/test_baselines.sh [path/to/baselines.py]. Exit 0 all passed, 1 a failure, 77 skipped
# (/usr/bin/python3 lacks numpy or sklearn). Prints "N passed, N failed" last.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
SCRIPT=${1:-$HERE/../../bench/baselines.py}
PY=/usr/bin/python3

if [ ! -x "$PY" ]; then
  echo "SKIP: $PY not found (install python3 and python3-sklearn)"
  exit 77
fi
if ! "$PY" -c "import numpy, sklearn" 2>/dev/null; then
  echo "SKIP: $PY lacks numpy or sklearn (apt-get install python3-sklearn)"
  exit 77
fi
if [ ! -f "$SCRIPT" ]; then
  echo "FAIL: $SCRIPT not found"
  echo "0 passed, 1 failed"
  exit 1
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; [ $# -gt 1 ] && echo "      $2"; }

# --- fixture: 400 training and 100 test images, 8x8, 4 classes ---------------------------------------
"$PY" - "$TMP/data" <<'EOF'
import gzip, os, sys
import numpy as np
out = sys.argv[1]
os.makedirs(out)
rng = np.random.default_rng(1234)
def make(n):
    y = rng.integers(0, 4, n).astype(np.uint8)
    x = rng.integers(0, 70, (n, 8, 8)).astype(np.uint8)
    for i, k in enumerate(y):
        r, c = (k // 2) * 4, (k % 2) * 4
        x[i, r:r + 4, c:c + 4] = rng.integers(150, 256, (4, 4))
    return x, y
def idx(a):
    hdr = bytes([0, 0, 8, a.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in a.shape)
    return hdr + a.tobytes()
xtr, ytr = make(400)
xte, yte = make(100)
with gzip.open(os.path.join(out, "train-images-idx3-ubyte.gz"), "wb") as f: f.write(idx(xtr))
with gzip.open(os.path.join(out, "train-labels-idx1-ubyte.gz"), "wb") as f: f.write(idx(ytr))
open(os.path.join(out, "t10k-images-idx3-ubyte"), "wb").write(idx(xte))
open(os.path.join(out, "t10k-labels-idx1-ubyte"), "wb").write(idx(yte))
EOF
[ -f "$TMP/data/t10k-labels-idx1-ubyte" ] || { bad "fixture written"; echo "$pass passed, $fail failed"; exit 1; }

# --- 1. JSON run: splits, formulas, accuracy, budgets -------------------------------------------------
POOLS=1,2,3,4,7
if "$PY" "$SCRIPT" --data-dir "$TMP/data" --json --train-limit 200 --pools $POOLS --c-grid 0.1,1 \
     --max-ms 70 --max-wm 80 --wm wm5 >"$TMP/out.json" 2>"$TMP/err.txt"; then
  ok "JSON run exits 0"
else
  bad "JSON run exits 0" "$(cat "$TMP/err.txt")"
fi

check() {  # check NAME PYTHON-EXPRESSION-PRINTING-"OK"-OR-A-REASON (r = the JSON object)
  local msg
  msg=$("$PY" -c "
import json, sys
r = json.load(open(sys.argv[1]))
$2" "$TMP/out.json" 2>&1)
  if [ "$msg" = "OK" ]; then ok "$1"; else bad "$1" "$msg"; fi
}

check "JSON is one object with one row per pool window, in order" "
print('OK' if [x['pool'] for x in r['rows']] == [1, 2, 3, 4, 7] else [x['pool'] for x in r['rows']])"

check "engine split sizes (val = round(400*5000/60000) = 33; --train-limit 200; test 100)" "
s = r['split']; print('OK' if (s['train'], s['val'], s['test']) == (200, 33, 100) else s)"

check "MS, WM5, WM6, WM5_raw, WM6_raw equal the formulas for 8x8 images and 4 classes" "
errs = []
for x in r['rows']:
    p = x['pool']; f = (8 // p) ** 2; ms = (f + 1) * 4
    want = dict(features=f, classes=4, ms=ms, wm5=f + ms, wm6=f + 4, wm5_raw=64 + ms, wm6_raw=64 + 4, input=[8 // p, 8 // p, 1])
    errs += ['pool %d %s=%s want %s' % (p, k, x[k], v) for k, v in want.items() if x[k] != v]
print('OK' if not errs else '; '.join(errs))"

check "float and int8 accuracy well above chance (25%) for pools 1, 2, 4: >= 90%" "
low = ['pool %d float %.2f int8 %.2f' % (x['pool'], x['test_acc_float'], x['test_acc_int8'])
       for x in r['rows'] if x['pool'] in (1, 2, 4) and min(x['test_acc_float'], x['test_acc_int8']) < 0.9]
print('OK' if not low else low)"

check "accuracies are fractions in [0, 1] and C comes from the grid" "
bad = [x['pool'] for x in r['rows'] if not (0 <= x['test_acc_float'] <= 1 and 0 <= x['test_acc_int8'] <= 1 and 0 <= x['val_acc'] <= 1 and x['C'] in (0.1, 1.0))]
print('OK' if not bad else bad)"

check "fits = MS <= 70 and WM5 <= 80 (pool 2: MS 68 fits, WM5 84 does not); best = highest int8 accuracy among those that fit" "
errs = ['pool %d fits=%s' % (x['pool'], x['fits']) for x in r['rows'] if x['fits'] != (x['ms'] <= 70 and x['wm5'] <= 80)]
fit = [x for x in r['rows'] if x['fits']]
want = max(x['test_acc_int8'] for x in fit) if fit else None
got = r['best']['test_acc_int8'] if r['best'] else None
if [x['pool'] for x in fit] != [3, 4, 7]: errs.append('fitting pools %s, want [3, 4, 7]' % [x['pool'] for x in fit])
if got != want: errs.append('best %s, want %s' % (got, want))
print('OK' if not errs else '; '.join(errs))"

check "budgets echoed; convergence reported per row" "
b = r['budgets']; ok = b == dict(max_ms=70, max_wm=80, wm='wm5') and all(isinstance(x['converged'], bool) for x in r['rows'])
print('OK' if ok else (b, [x['converged'] for x in r['rows']]))"

# --- 2. the split permutation is the engine's (values printed by host/core/philox.hpp) -----------------
msg=$("$PY" - "$SCRIPT" <<'EOF' 2>&1
import importlib.util, sys
spec = importlib.util.spec_from_file_location("baselines", sys.argv[1])
b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)
errs = []
if b.philox4x32_10(0, 0, 0, 0, 0, 0) != (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8):
    errs.append("Philox4x32-10 known answer")
# PhiloxStream(seed, 0x5B117).shuffle of 0..n-1, from a C++ program including host/core/philox.hpp
for seed, n, want in ((0, 300, (64, 274, 17)), (7, 300, (258, 192, 171)), (0, 60000, (8789, 12218, 3501))):
    o = list(range(n)); b.PhiloxStream(seed, 0x5B117).shuffle(o)
    if (o[0], o[1], o[-1]) != want: errs.append("seed %d n %d: %s want %s" % (seed, n, (o[0], o[1], o[-1]), want))
tr, va = b.split_validation(300, 25, 0)
if sorted(tr + va) != list(range(300)) or len(va) != 25: errs.append("split is not a partition")
print("OK" if not errs else "; ".join(errs))
EOF
)
if [ "$msg" = "OK" ]; then ok "split permutation equals the engine's Philox shuffle"; else bad "split permutation equals the engine's Philox shuffle" "$msg"; fi

# --- 3. table mode and --wm wm6 ---------------------------------------------------------------------
if "$PY" "$SCRIPT" --data-dir "$TMP/data" --train-limit 150 --pools 2,4 --c-grid 1 --max-ms 50 --max-wm 40 --wm wm6 \
     >"$TMP/table.txt" 2>"$TMP/err.txt" &&
   grep -q "^best baseline that fits: logistic regression, pool 4:" "$TMP/table.txt" &&
   grep -Eq "^ +4 +2x2x1 +4 .* 20 +24 +8 +84 +68 +yes" "$TMP/table.txt"; then
  ok "table mode: rows, WM6 budget and the best line"
else
  bad "table mode: rows, WM6 budget and the best line" "$(cat "$TMP/table.txt" "$TMP/err.txt")"
fi

# --- 4. bad input -----------------------------------------------------------------------------------
expect_error() {  # expect_error NAME NEEDLE ARGS...: non-zero exit, NEEDLE in stderr, no traceback
  local name=$1 needle=$2 rc
  shift 2
  "$PY" "$SCRIPT" "$@" >"$TMP/o.txt" 2>"$TMP/e.txt"
  rc=$?
  if [ $rc -ne 0 ] && grep -qF -- "$needle" "$TMP/e.txt" && ! grep -q "Traceback" "$TMP/e.txt" "$TMP/o.txt"; then
    ok "$name (exit $rc: $(tail -n 1 "$TMP/e.txt" | head -c 160))"
  else
    bad "$name" "exit $rc, stderr: $(cat "$TMP/e.txt")"
  fi
}

mkdir "$TMP/trunc"
cp "$TMP"/data/* "$TMP/trunc/"
head -c 1000 "$TMP/data/t10k-images-idx3-ubyte" >"$TMP/trunc/t10k-images-idx3-ubyte"
expect_error "truncated plain IDX file names the file" "$TMP/trunc/t10k-images-idx3-ubyte" --data-dir "$TMP/trunc" --json
grep -q "truncated" "$TMP/e.txt" && ok "truncated file message says 'truncated'" || bad "truncated file message says 'truncated'" "$(cat "$TMP/e.txt")"

mkdir "$TMP/truncgz"
cp "$TMP"/data/* "$TMP/truncgz/"
head -c 300 "$TMP/data/train-images-idx3-ubyte.gz" >"$TMP/truncgz/train-images-idx3-ubyte.gz"
expect_error "truncated gzip IDX file names the file" "$TMP/truncgz/train-images-idx3-ubyte.gz" --data-dir "$TMP/truncgz"

mkdir "$TMP/hdr"
cp "$TMP"/data/* "$TMP/hdr/"
head -c 6 "$TMP/data/t10k-labels-idx1-ubyte" >"$TMP/hdr/t10k-labels-idx1-ubyte"
expect_error "IDX file cut inside its header names the file" "$TMP/hdr/t10k-labels-idx1-ubyte" --data-dir "$TMP/hdr"

mkdir "$TMP/magic"
cp "$TMP"/data/* "$TMP/magic/"
printf 'not an idx file at all' >"$TMP/magic/t10k-images-idx3-ubyte"
expect_error "bad IDX magic names the file" "$TMP/magic/t10k-images-idx3-ubyte" --data-dir "$TMP/magic"

mkdir "$TMP/missing"
cp "$TMP"/data/train-* "$TMP"/data/t10k-images-idx3-ubyte "$TMP/missing/"
expect_error "missing IDX file names the file" "t10k-labels-idx1-ubyte" --data-dir "$TMP/missing"

expect_error "missing --data-dir folder names the flag" "--data-dir" --data-dir "$TMP/nowhere"
expect_error "bad --pools value names the flag" "--pools" --data-dir "$TMP/data" --pools 0,2
expect_error "non-numeric --pools names the flag" "--pools" --data-dir "$TMP/data" --pools two
expect_error "pool window larger than the image names --pools" "--pools" --data-dir "$TMP/data" --pools 9
expect_error "bad --wm value names the flag" "--wm" --data-dir "$TMP/data" --wm wm7
expect_error "negative --max-ms names the flag" "--max-ms" --data-dir "$TMP/data" --max-ms -5
expect_error "bad --train-limit names the flag" "--train-limit" --data-dir "$TMP/data" --train-limit 0
expect_error "bad --seed names the flag" "--seed" --data-dir "$TMP/data" --seed x

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
