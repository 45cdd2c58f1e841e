#!/usr/bin/python3
"""Baseline bench: multinomial logistic regression on the max-pooled image, with the engine's
memory models, to put the SpArSe search results next to the simplest model that fits the budgets.

Run with Debian's Python and packages (python3-sklearn, python3-numpy; scripts/install-deps.sh):
    /usr/bin/python3 bench/baselines.py [--data-dir DIR] [--pools 1,2,3,4,7] [--max-ms 2048]
        [--max-wm 2048] [--wm wm5|wm6] [--json] [--train-limit N] [--seed S] [--c-grid 0.01,0.1,1]

Data: a folder of IDX files as the engine reads them (datasets/idx.cpp find_idx_file): for each of
train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte the
first of STEM, STEM.gz, the dotted name (train-images.idx3-ubyte) and the dotted name .gz. A file is
decompressed when it starts with the gzip magic, whatever its name. Images [N,H,W] or [N,H,W,C].
Default: /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist).

Splits, as the engine's preset (datasets/preset.cpp load_dataset + split_validation): validation is
NOT the last 5,000 training images but 5,000 images drawn by a Fisher-Yates shuffle of the 60,000
training indices with PhiloxStream(seed = --seed, stream = 0x5B117) (host/core/philox.hpp, Lemire's
unbiased below()); the first 5,000 shuffled indices are the validation split, the other 55,000 the
training split, both kept in file order. --seed is the engine's --split-seed (default 0), so the
splits here are the engine's, image for image. With a different number of training images the
validation size scales as the engine's (round(n * 5000 / 60000), at least 1). Test = the t10k files.
--train-limit N keeps only the first N images of the training split (validation and test unchanged).

Model: per pool window r in --pools, the input is max-pooled spatially with window = stride = r and
floor output size (H // r x W // r; host/space/shape_rules.hpp pool_out_size), on each channel, as
the engine's downsample-input. Features in HWC order. Normalization as datasets/normalization.cpp:
per channel, subtract the training mean and divide by the training std of the raw training images
(pixel / 255), fitted on the training split actually used. Max pooling commutes with this increasing
affine map, so pooling then normalizing equals the engine's normalize-then-pool. Classifier:
sklearn LogisticRegression (lbfgs, multinomial softmax for 3+ classes, L2), fitted on the training
split for each C of --c-grid, each fit from zeros (no warm start: with a gradient tolerance a
warm-started fit at a weaker L2 can stop at once, so results would depend on the grid); the C with
the best validation accuracy is kept (ties: smaller C) and its test accuracy reported. Stopping rule: lbfgs's gradient tolerance --tol (default 1e-4) on
the MEAN training loss, sklearn >= 1.4's scale; sklearn < 1.4 (Debian 12 has 1.2) minimizes the
SUMMED loss, so there --tol is passed as tol * n_train, the same criterion (the unscaled 1e-4 would
ask for a gradient ~55,000 times smaller and only change the third decimal of the accuracy, at 2-3x
the time). A fit that stopped at --max-iter is reported as not converged ('!' in the table), and a
chosen C at the edge of the grid is noted.

int8 scheme (simple and integer-only at inference; the engine's codegen uses the full TFLite scheme):
  - input: asymmetric per tensor, x_q = clamp(round(x / s_x) + z_x, -128, 127), with s_x and z_x
    from the min and max of the normalized, pooled training features (range widened to contain 0);
  - weights: symmetric per output class k, s_w[k] = max|W[k]| / 127, W_q = clamp(round(W / s_w[k]),
    -127, 127);
  - bias: int32, b_q[k] = round(b[k] / (s_x * s_w[k]));
  - accumulator: acc[k] = sum_j W_q[k, j] * (x_q[j] - z_x) + b_q[k] (int32 range; computed in int64);
  - argmax: the classes' accumulators are on different scales s_x * s_w[k], so each is multiplied by
    the integer M[k] = round(2^30 * s_w[k] / max_k s_w) (int64) before the integer argmax (first
    maximum on ties). No float at inference; the only rounding is in W_q, b_q, x_q and M.
  A 2-class sklearn fit has one weight row w; it is written as the two rows (-w/2, w/2), which give the
  same softmax, so that every model has one row per class.

Memory models (REFERENCE.md §1; bytes, 8-bit weights and activations):
  features  = (H // r) * (W // r) * C, the pooled image is the model input (the paper counts input
              downsampling as acquisition, not as a layer);
  MS        = (features + 1) * classes: eq. 4 counts non-zero parameters at 8 bits, and a dense L2
              logistic regression has no zero weight (one byte per bias, as eq. 4 counts it);
  WM5       = features + MS           (eq. 5: the layer's input and weights);
  WM6       = features + classes      (eq. 6: the layer's input and output);
  WM5_raw   = H*W*C + MS, WM6_raw = H*W*C + classes: the same counting the raw image, for comparison.
  fits      = MS <= --max-ms and (WM5 or WM6 per --wm) <= --max-wm.
The int8 model's non-zero parameter count is reported too (nonzero_int8), for information.

Speed: with Debian's reference BLAS (libblas3) a full Fashion-MNIST run takes about an hour; with
OpenBLAS (apt-get install libopenblas0-pthread, which takes over libblas.so.3) about 10 minutes on one
core. The BLAS in use is printed (threadpoolctl, python3-threadpoolctl).
Threads: OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS default to 1 when unset (so the
bench uses one core next to other benchmarks); set them to use more.

Exit status: 0 on success; 2 with a one-line message naming the file or flag on bad input (missing
or truncated IDX file, bad flag value, missing sklearn); never a traceback for those.
"""

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import gzip
import json
import platform
import sys
import time
import warnings
import zlib

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
PRESET_TRAIN, PRESET_VAL = 55000, 5000  # fashion-mnist / mnist preset (datasets/preset.cpp)
SPLIT_STREAM = 0x5B117  # split_validation's PhiloxStream stream
MASK32 = 0xFFFFFFFF


class InputError(Exception):
    """Bad input: reported as one line, exit status 2."""


def fail(msg):
    print("baselines.py: error: " + msg, file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- Philox (host/core/philox.hpp)

def philox4x32_10(c0, c1, c2, c3, k0, k1):
    for _ in range(10):
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & MASK32, (p0 >> 32) ^ c3 ^ k1, p0 & MASK32
        k0 = (k0 + 0x9E3779B9) & MASK32
        k1 = (k1 + 0xBB67AE85) & MASK32
    return (c0, c1, c2, c3)


class PhiloxStream:
    def __init__(self, seed, stream=0):
        self.seed, self.stream, self.counter = seed, stream, 0
        self.block, self.used = (0, 0, 0, 0), 4

    def next_u32(self):
        if self.used == 4:
            self.block = philox4x32_10(self.counter & MASK32, self.counter >> 32, self.stream & MASK32,
                                       self.stream >> 32, self.seed & MASK32, self.seed >> 32)
            self.counter += 1
            self.used = 0
        v = self.block[self.used]
        self.used += 1
        return v

    def below(self, n):  # n < 2^32 here (image counts)
        m = self.next_u32() * n
        low = m & MASK32
        if low < n:
            threshold = ((1 << 32) - n) % n
            while low < threshold:
                m = self.next_u32() * n
                low = m & MASK32
        return m >> 32

    def shuffle(self, a):
        for i in range(len(a) - 1, 0, -1):
            j = self.below(i + 1)
            a[i], a[j] = a[j], a[i]


def split_validation(n, val_n, seed):
    """(train indices, val indices), both sorted, as datasets/preset.cpp split_validation."""
    if not 1 <= val_n < n:
        raise InputError("validation size %d leaves no training image (only %d training images)" % (val_n, n))
    order = list(range(n))
    PhiloxStream(seed, SPLIT_STREAM).shuffle(order)
    return sorted(order[val_n:]), sorted(order[:val_n])


def scaled_val(available):
    whole = PRESET_TRAIN + PRESET_VAL
    if available == whole:
        return PRESET_VAL
    return max(1, int(available * PRESET_VAL / whole + 0.5))


# ---------------------------------------------------------------- IDX files (datasets/idx.cpp)

def find_idx_file(d, stem):
    names = [stem, stem + ".gz"]
    dash = stem.find("-idx")
    if dash >= 0:
        dotted = stem[:dash] + "." + stem[dash + 1:]
        names += [dotted, dotted + ".gz"]
    for n in names:
        p = os.path.join(d, n)
        if os.path.isfile(p):
            return p
    raise InputError("dataset folder '%s': no file '%s' (tried %s)" % (d, stem, ", ".join(names)))


def read_idx(path, np, expect_ndims):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise InputError("file '%s': cannot read: %s" % (path, e.strerror or e))
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise InputError("file '%s': not a valid gzip stream (%s), expected a gzip-compressed IDX file"
                             % (path, str(e) or type(e).__name__))
    if len(raw) < 4:
        raise InputError("file '%s': truncated: %d bytes, expected at least the 4-byte IDX magic" % (path, len(raw)))
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise InputError("file '%s': bad IDX magic %s at offset 0, expected 00 00 08 (unsigned byte) and a "
                         "dimension count" % (path, raw[:4].hex(" ")))
    nd = raw[3]
    if nd not in expect_ndims:
        raise InputError("file '%s': %d dimensions at offset 3, expected %s"
                         % (path, nd, " or ".join(str(x) for x in expect_ndims)))
    if len(raw) < 4 + 4 * nd:
        raise InputError("file '%s': truncated header: %d bytes, expected %d (magic and %d dimensions)"
                         % (path, len(raw), 4 + 4 * nd, nd))
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    need = 1
    for x in dims:
        need *= x
    have = len(raw) - 4 - 4 * nd
    if have < need:
        raise InputError("file '%s': truncated: header says %s = %d data bytes, found %d"
                         % (path, "x".join(map(str, dims)), need, have))
    if have > need:
        raise InputError("file '%s': %d bytes after the data, expected exactly %d data bytes for %s"
                         % (path, have - need, need, "x".join(map(str, dims))))
    if 0 in dims:
        raise InputError("file '%s': empty (dimensions %s), expected at least one item of size >= 1"
                         % (path, "x".join(map(str, dims))))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def load_pair(d, prefix, np):
    ip = find_idx_file(d, prefix + "-images-idx3-ubyte")
    lp = find_idx_file(d, prefix + "-labels-idx1-ubyte")
    x = read_idx(ip, np, (3, 4))
    y = read_idx(lp, np, (1,))
    if x.ndim == 3:
        x = x[:, :, :, None]
    if x.shape[0] != y.shape[0]:
        raise InputError("files '%s' (%d images) and '%s' (%d labels): counts differ, expected equal"
                         % (ip, x.shape[0], lp, y.shape[0]))
    return x, y.astype(np.int64), ip, lp


# ---------------------------------------------------------------- flags

def pools_arg(text):
    try:
        vals = [int(t) for t in text.split(",")]
    except ValueError:
        vals = []
    if not vals or any(v < 1 for v in vals):
        raise argparse.ArgumentTypeError("'%s' is invalid, expected a comma-separated list of integers >= 1 "
                                         "(e.g. 1,2,3,4,7)" % text)
    return sorted(set(vals), key=vals.index)


def cgrid_arg(text):
    try:
        vals = [float(t) for t in text.split(",")]
    except ValueError:
        vals = []
    if not vals or any(not (v > 0 and v < float("inf")) for v in vals):
        raise argparse.ArgumentTypeError("'%s' is invalid, expected a comma-separated list of positive numbers "
                                         "(e.g. 0.01,0.1,1)" % text)
    return sorted(set(vals))


def checked(convert, ok, expected):
    """An argparse type: convert(text), accepted when ok(value); otherwise 'TEXT' is invalid, expected EXPECTED."""
    def parse(text):
        try:
            v = convert(text)
        except ValueError:
            v = None
        if v is None or not ok(v):
            raise argparse.ArgumentTypeError("'%s' is invalid, expected %s" % (text, expected))
        return v
    return parse


nonneg_int = checked(int, lambda v: v >= 0, "an integer >= 0 (bytes)")
pos_int = checked(int, lambda v: v >= 1, "an integer >= 1")
pos_float = checked(float, lambda v: 0 < v < float("inf"), "a positive number")
seed_arg = checked(lambda t: int(t, 0), lambda v: 0 <= v < 2 ** 64, "an integer in [0, 2^64)")


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="baselines.py",
        description="Logistic regression on the max-pooled image: float and int8 accuracy, MS, WM5, WM6, "
                    "and whether each fits the budgets (see the header comment for the exact definitions).")
    ap.add_argument("--data-dir", default=DEFAULT_DIR, help="folder of IDX files (default %(default)s)")
    ap.add_argument("--pools", type=pools_arg, default=[1, 2, 3, 4, 7],
                    help="pool windows (window = stride, floor), 1 = none (default 1,2,3,4,7)")
    ap.add_argument("--max-ms", type=nonneg_int, default=2048, help="model-size budget in bytes (default 2048)")
    ap.add_argument("--max-wm", type=nonneg_int, default=2048, help="working-memory budget in bytes (default 2048)")
    ap.add_argument("--wm", choices=["wm5", "wm6"], default="wm5", help="memory model for --max-wm (default wm5)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--train-limit", type=pos_int, default=None,
                    help="use only the first N images of the training split (quick runs)")
    ap.add_argument("--seed", "--split-seed", dest="seed", type=seed_arg, default=0,
                    help="validation split seed, the engine's --split-seed (default 0)")
    ap.add_argument("--c-grid", type=cgrid_arg, default=[0.001, 0.01, 0.1, 1.0],
                    help="inverse L2 strengths tried, best on validation kept (default 0.001,0.01,0.1,1)")
    ap.add_argument("--max-iter", type=pos_int, default=2000, help="lbfgs iteration limit (default 2000)")
    ap.add_argument("--tol", type=pos_float, default=1e-4,
                    help="lbfgs gradient tolerance on the mean training loss (default 1e-4)")
    return ap.parse_args(argv)


# ---------------------------------------------------------------- model

def pool_images(x, r, np):
    n, h, w, c = x.shape
    ho, wo = h // r, w // r
    if r == 1:
        return x
    return x[:, :ho * r, :wo * r, :].reshape(n, ho, r, wo, r, c).max(axis=(2, 4))


def quantize_eval(coef, intercept, xtr, xte, yte, np):
    """int8 model as in the header comment; returns (test accuracy, non-zero int8 parameters)."""
    lo, hi = min(0.0, float(xtr.min())), max(0.0, float(xtr.max()))
    s_x = (hi - lo) / 255.0 if hi > lo else 1.0
    z_x = int(np.clip(np.round(-128.0 - lo / s_x), -128, 127))
    amax = np.abs(coef).max(axis=1)
    s_w = np.where(amax > 0, amax / 127.0, 1.0)
    w_q = np.clip(np.round(coef / s_w[:, None]), -127, 127).astype(np.int64)
    b_q = np.round(intercept / (s_x * s_w)).astype(np.int64)
    x_q = np.clip(np.round(xte / s_x) + z_x, -128, 127).astype(np.int64)
    acc = (x_q - z_x) @ w_q.T + b_q[None, :]
    mult = np.round(s_w / s_w.max() * (1 << 30)).astype(np.int64)
    score = acc * mult[None, :]
    acc_ok = int(np.count_nonzero(np.abs(acc) > 2 ** 31 - 1)) == 0
    pred = score.argmax(axis=1)
    return float((pred == yte).mean()), int(np.count_nonzero(w_q) + np.count_nonzero(b_q)), acc_ok


def sklearn_sums_loss(version):
    """True for sklearn < 1.4, whose lbfgs objective is the summed (not mean) loss (PR #26721)."""
    try:
        major, minor = (int(t) for t in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) < (1, 4)


def blas_name():
    try:
        from threadpoolctl import threadpool_info
        libs = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    except Exception:  # threadpoolctl missing or failing: not essential
        return "unknown"
    if not libs:
        return "reference or unknown (slow: apt-get install libopenblas0-pthread)"
    i = libs[0]
    return "%s %s, %s thread(s)" % (i.get("internal_api"), i.get("version"), i.get("num_threads"))


def fit_one(model, xtr, ytr, C, ConvergenceWarning):
    """Fit `model` at C from zeros; (iterations, converged, seconds)."""
    model.set_params(C=C)
    t0 = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(xtr, ytr)
    secs = time.monotonic() - t0
    iters = int(max(model.n_iter_))
    converged = iters < model.max_iter and not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return iters, converged, secs


def full_coef(model, classes, np):
    coef, b = model.coef_.astype(np.float64).copy(), model.intercept_.astype(np.float64).copy()
    if coef.shape[0] == 1 and classes == 2:
        coef = np.vstack([-coef / 2, coef / 2])
        b = np.array([-b[0] / 2, b[0] / 2])
    return coef, b


def run(args):
    try:
        import numpy as np
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression
        import sklearn
    except ImportError as e:
        raise InputError("Python module missing (%s): install python3-sklearn and python3-numpy "
                         "(apt-get install -y python3-sklearn; scripts/install-deps.sh)" % e.name)

    d = args.data_dir
    if not os.path.isdir(d):
        raise InputError("--data-dir '%s' is not a folder, expected a folder of IDX files" % d)
    t_load = time.monotonic()
    xall, yall, tr_ip, tr_lp = load_pair(d, "train", np)
    xte_raw, yte, te_ip, te_lp = load_pair(d, "t10k", np)
    if xall.shape[1:] != xte_raw.shape[1:]:
        raise InputError("file '%s': images are %s (HxWxC), training images in '%s' are %s, expected equal"
                         % (te_ip, "x".join(map(str, xte_raw.shape[1:])), tr_ip, "x".join(map(str, xall.shape[1:]))))
    classes = int(max(yall.max(), yte.max())) + 1
    if classes < 2:
        raise InputError("file '%s': all labels are 0, expected at least 2 classes" % tr_lp)
    n_all = xall.shape[0]
    val_n = scaled_val(n_all)
    tr_idx, va_idx = split_validation(n_all, val_n, args.seed)
    if args.train_limit is not None:
        tr_idx = tr_idx[:args.train_limit]
    xtr_raw, ytr = xall[tr_idx], yall[tr_idx]
    xva_raw, yva = xall[va_idx], yall[va_idx]
    if len(np.unique(ytr)) < 2:
        raise InputError("the training split (%d images) has a single class, expected at least 2 "
                         "(raise --train-limit)" % len(tr_idx))
    _, H, W, Cc = xall.shape
    for r in args.pools:
        if H // r < 1 or W // r < 1:
            raise InputError("--pools: window %d on %dx%d images gives %dx%d, expected windows <= %d"
                             % (r, H, W, H // r, W // r, min(H, W)))
    # Per-channel normalization over the raw training images (datasets/normalization.cpp).
    px = xtr_raw.reshape(-1, Cc).astype(np.float64) / 255.0
    mean = px.mean(axis=0)
    std = px.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    load_s = time.monotonic() - t_load

    def features(xr, r):
        p = pool_images(xr, r, np).astype(np.float64) / 255.0
        return ((p - mean) / std).reshape(p.shape[0], -1)

    rows = []
    for r in args.pools:
        t_row = time.monotonic()
        ftr, fva, fte = features(xtr_raw, r), features(xva_raw, r), features(xte_raw, r)
        nfeat = ftr.shape[1]
        tried = []
        best = None
        tol = args.tol * (ftr.shape[0] if sklearn_sums_loss(sklearn.__version__) else 1)
        model = LogisticRegression(solver="lbfgs", max_iter=args.max_iter, tol=tol)
        for C in args.c_grid:
            iters, conv, secs = fit_one(model, ftr, ytr, C, ConvergenceWarning)
            coef, b = full_coef(model, classes, np)
            va = float(((fva @ coef.T + b).argmax(axis=1) == yva).mean())
            tried.append({"C": C, "val_acc": va, "iterations": iters, "converged": conv, "fit_seconds": round(secs, 2)})
            if best is None or va > best[1]:
                best = (coef, va, C, iters, conv, b)
        coef, va, C, iters, conv, b = best
        test_f = float(((fte @ coef.T + b).argmax(axis=1) == yte).mean())
        test_q, nz_q, acc_ok = quantize_eval(coef, b, ftr, fte, yte, np)
        ms = (nfeat + 1) * classes
        raw = H * W * Cc
        wm5, wm6 = nfeat + ms, nfeat + classes
        wm = wm5 if args.wm == "wm5" else wm6
        rows.append({
            "pool": r, "input": [H // r, W // r, Cc], "features": nfeat, "classes": classes,
            "C": C, "val_acc": va, "test_acc_float": test_f, "test_acc_int8": test_q,
            "ms": ms, "wm5": wm5, "wm6": wm6, "wm5_raw": raw + ms, "wm6_raw": raw + classes,
            "nonzero_int8": nz_q, "int8_acc_in_int32": acc_ok,
            "fits": ms <= args.max_ms and wm <= args.max_wm,
            "iterations": iters, "converged": conv, "all_converged": all(t["converged"] for t in tried),
            "c_grid": tried, "seconds": round(time.monotonic() - t_row, 2)})

    fitting = [r for r in rows if r["fits"]]
    best_row = max(fitting, key=lambda r: (r["test_acc_int8"], -r["ms"])) if fitting else None
    return {
        "data_dir": os.path.abspath(d),
        "files": {"train_images": tr_ip, "train_labels": tr_lp, "test_images": te_ip, "test_labels": te_lp},
        "image": [H, W, Cc], "classes": classes,
        "split": {"train": len(tr_idx), "val": len(va_idx), "test": int(xte_raw.shape[0]), "seed": args.seed,
                  "rule": "engine split_validation: Philox shuffle, stream 0x5B117"},
        "normalization": {"mean": [float(m) for m in mean], "std": [float(s) for s in std]},
        "budgets": {"max_ms": args.max_ms, "max_wm": args.max_wm, "wm": args.wm},
        "c_grid": args.c_grid, "max_iter": args.max_iter, "tol": args.tol,
        "rows": rows,
        "best": None if best_row is None else {k: best_row[k] for k in ("pool", "test_acc_int8", "test_acc_float", "ms", "wm5", "wm6")},
        "load_seconds": round(load_s, 2),
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "sklearn": sklearn.__version__,
                     "blas": blas_name()},
        "threads": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
    }


def print_table(res):
    s = res["split"]
    print("Logistic regression on the max-pooled image (window = stride, floor)")
    print("data    %s  (%s, %d classes)" % (res["data_dir"], "x".join(map(str, res["image"])), res["classes"]))
    print("split   train %d / val %d / test %d  (split seed %d, as the engine's preset)"
          % (s["train"], s["val"], s["test"], s["seed"]))
    b = res["budgets"]
    print("budget  MS <= %d B, %s <= %d B" % (b["max_ms"], b["wm"].upper(), b["max_wm"]))
    v = res["versions"]
    print("fit     C grid %s, lbfgs max_iter %d, tol %g (mean loss); python %s, numpy %s, sklearn %s, BLAS %s"
          % (",".join("%g" % c for c in res["c_grid"]), res["max_iter"], res["tol"], v["python"], v["numpy"],
             v["sklearn"], v["blas"]))
    print()
    hdr = ("pool", "input", "feat", "C", "val%", "float%", "int8%", "MS", "WM5", "WM6", "WM5raw", "WM6raw", "fits",
           "iters", "time")
    fmt = "%4s %8s %5s %6s %6s %6s %6s %6s %6s %5s %6s %6s %4s %6s %6s"
    print(fmt % hdr)
    for r in res["rows"]:
        print(fmt % (r["pool"], "x".join(map(str, r["input"])), r["features"], "%g" % r["C"],
                     "%.2f" % (100 * r["val_acc"]), "%.2f" % (100 * r["test_acc_float"]),
                     "%.2f" % (100 * r["test_acc_int8"]), r["ms"], r["wm5"], r["wm6"], r["wm5_raw"], r["wm6_raw"],
                     "yes" if r["fits"] else "no", "%d%s" % (r["iterations"], "" if r["converged"] else "!"),
                     "%.0fs" % r["seconds"]))
    notes = []
    for r in res["rows"]:
        bad = [t for t in r["c_grid"] if not t["converged"]]
        if bad:
            notes.append("pool %d: lbfgs did not converge in %d iterations for C = %s%s"
                         % (r["pool"], res["max_iter"], ",".join("%g" % t["C"] for t in bad),
                            " (the chosen C)" if not r["converged"] else " (not the chosen C)"))
        grid = res["c_grid"]
        if len(grid) > 1 and r["C"] in (grid[0], grid[-1]):
            notes.append("pool %d: the chosen C = %g is at the edge of the C grid" % (r["pool"], r["C"]))
        if not r["int8_acc_in_int32"]:
            notes.append("pool %d: an int8 accumulator left the int32 range" % r["pool"])
    print()
    print("MS = (features+1)*classes; WM5 = features + MS; WM6 = features + classes; *raw: %d-B raw image "
          "instead of the pooled one. '!' = not converged." % (res["image"][0] * res["image"][1] * res["image"][2]))
    for n in notes:
        print("note: " + n)
    if res["best"] is None:
        print("best baseline that fits: none (no pool window meets MS <= %d and %s <= %d)"
              % (b["max_ms"], b["wm"].upper(), b["max_wm"]))
    else:
        x = res["best"]
        print("best baseline that fits: logistic regression, pool %d: int8 %.2f %% (float %.2f %%), MS %d B, "
              "WM5 %d B, WM6 %d B" % (x["pool"], 100 * x["test_acc_int8"], 100 * x["test_acc_float"], x["ms"],
                                       x["wm5"], x["wm6"]))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        res = run(args)
    except InputError as e:
        fail(str(e))
    except MemoryError:
        fail("out of memory loading or fitting the data in --data-dir '%s' (try --train-limit)" % args.data_dir)
    if args.json:
        print(json.dumps(res))
    else:
        print_table(res)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        fail("interrupted")
    except BrokenPipeError:
        sys.exit(1)
