// Arguments of every backend op (REFERENCE.md §3-4, DESIGN.md "The backend"), templated on the scalar so the
// CPU reference loops run in float (training) and double (gradient checks). Pointers are backend memory
// (host memory on the CPU backend, device memory on CUDA); the shape of each buffer is written beside it.
// Conventions shared by all ops:
//  - layout NHWC; conv weights HWIO: [KH, KW, C_in/groups, C_out]; linear weights [In, Out].
//  - `accumulate` = false overwrites the output, true adds to it (gradients of a tensor read twice).
//  - a null optional pointer (bias, dbias) means "absent".
//  - scalar results (loss, KL sums) are written to a one-element backend buffer, summed in double inside.
//  - noise: ε of element e = philox_normal4(seed, offset, e / 4)[e % 4] (host/core/philox.hpp), so both
//    backends draw identical ε and a backward pass recomputes it instead of storing it.
#pragma once
#include <cstdint>

namespace sparse {

// One convolution: x [n, h, w, c_in] -> y [n, oh, ow, c_out], weights [kh, kw, c_in/groups, c_out].
// Output pixel (oy, ox) reads input rows oy·stride − pad_top + ky (zero outside). groups divides c_in and
// c_out; depthwise is groups = c_in = c_out; a 1×1 conv is kh = kw = 1.
struct ConvShape {
  int n = 0, h = 0, w = 0, c_in = 0, c_out = 0;
  int kh = 1, kw = 1, stride = 1, pad_top = 0, pad_left = 0, groups = 1;
  int oh = 0, ow = 0;
  int64_t weight_count() const { return int64_t(kh) * kw * (c_in / groups) * c_out; }
  int64_t x_count() const { return int64_t(n) * h * w * c_in; }
  int64_t y_count() const { return int64_t(n) * oh * ow * c_out; }
};
// Shape of a stride-s conv with "same" (pad (k-1)/2 before, the rest after; oh = ceil(h/s)) or "valid"
// (no padding; oh = (h-k)/s + 1) padding.
ConvShape conv_shape(int n, int h, int w, int c_in, int c_out, int k, bool same, int stride = 1, int groups = 1);

template <class T> struct Conv2dForwardArgsT {  // y = conv(x, w) + bias
  ConvShape s;
  const T* x;     // [n, h, w, c_in]
  const T* w;     // [kh, kw, c_in/groups, c_out]
  const T* bias;  // [c_out] or null
  T* y;           // [n, oh, ow, c_out]
};
template <class T> struct Conv2dBackwardDataArgsT {  // dx (+)= conv_transpose(dy, w)
  ConvShape s;
  const T* dy;  // [n, oh, ow, c_out]
  const T* w;   // [kh, kw, c_in/groups, c_out]
  T* dx;        // [n, h, w, c_in]
  bool accumulate;
};
template <class T> struct Conv2dBackwardFilterArgsT {  // dw (+)= Σ x ⊗ dy; dbias (+)= Σ_{n,oy,ox} dy
  ConvShape s;
  const T* x;   // [n, h, w, c_in]
  const T* dy;  // [n, oh, ow, c_out]
  T* dw;        // [kh, kw, c_in/groups, c_out]
  T* dbias;     // [c_out] or null
  bool accumulate;
};

template <class T> struct LinearForwardArgsT {  // y = x·w + bias
  int n, in, out;
  const T* x;     // [n, in]
  const T* w;     // [in, out]
  const T* bias;  // [out] or null
  T* y;           // [n, out]
};
template <class T> struct LinearBackwardDataArgsT {  // dx (+)= dy·wᵀ
  int n, in, out;
  const T* dy;  // [n, out]
  const T* w;   // [in, out]
  T* dx;        // [n, in]
  bool accumulate;
};
template <class T> struct LinearBackwardWeightArgsT {  // dw (+)= xᵀ·dy; dbias (+)= Σ_n dy
  int n, in, out;
  const T* x;   // [n, in]
  const T* dy;  // [n, out]
  T* dw;        // [in, out]
  T* dbias;     // [out] or null
  bool accumulate;
};

// Max pooling, window k×k, stride `stride`, no padding (floor): oh = (h-k)/stride + 1.
template <class T> struct MaxPoolForwardArgsT {
  int n, h, w, c, k, stride, oh, ow;
  const T* x;       // [n, h, w, c]
  T* y;             // [n, oh, ow, c]
  int32_t* argmax;  // [n, oh, ow, c]: flat index into x of the maximum (first one on ties); may be null
};
template <class T> struct MaxPoolBackwardArgsT {  // dx (+)= scatter of dy to argmax
  int n, h, w, c, oh, ow;
  const T* dy;            // [n, oh, ow, c]
  const int32_t* argmax;  // [n, oh, ow, c]
  T* dx;                  // [n, h, w, c]
  bool accumulate;
};
// Max over channels (downsample-input-in-depth); input layer only, so no backward.
template <class T> struct ChannelMaxForwardArgsT {
  int n, h, w, c;
  const T* x;  // [n, h, w, c]
  T* y;        // [n, h, w, 1]
};

// Batch-norm over rows = n·h·w, per channel c. Train: batch statistics (biased variance), running
// statistics updated as r = (1 − momentum)·r + momentum·batch (unbiased variance for running_var).
template <class T> struct BatchNormForwardArgsT {
  int64_t rows;
  int c;
  bool training;
  T eps, momentum;
  const T* x;        // [rows, c]
  const T* gamma;    // [c]
  const T* beta;     // [c]
  T* running_mean;   // [c]: read in eval, updated in training
  T* running_var;    // [c]
  T* save_mean;      // [c]: batch mean (training only)
  T* save_invstd;    // [c]: 1/sqrt(batch var + eps) (training only)
  T* y;              // [rows, c]
};
template <class T> struct BatchNormBackwardArgsT {  // training-mode backward
  int64_t rows;
  int c;
  const T* x;            // [rows, c]
  const T* dy;           // [rows, c]
  const T* gamma;        // [c]
  const T* save_mean;    // [c]
  const T* save_invstd;  // [c]
  T* dx;                 // [rows, c] (overwritten, or accumulated)
  T* dgamma;             // [c] (overwritten)
  T* dbeta;              // [c] (overwritten)
  bool accumulate;
};

template <class T> struct ReluForwardArgsT {  // y = max(x, 0); y may alias x
  int64_t count;
  const T* x;
  T* y;
};
template <class T> struct ReluBackwardArgsT {  // dx (+)= dy·[y > 0]; dx may alias dy when not accumulating
  int64_t count;
  const T* y;
  const T* dy;
  T* dx;
  bool accumulate;
};

// y[n, oh, ow, c] = a[n, oh, ow, c] + b[n, oh + off_h, ow + off_w, c]: a residual add whose skip input b
// ([n, bh, bw, c]) is center-cropped to a's size (off = 0 and bh = oh for equal shapes; also merge Sum).
template <class T> struct AddForwardArgsT {
  int n, oh, ow, c, bh, bw, off_h, off_w;
  const T* a;  // [n, oh, ow, c]
  const T* b;  // [n, bh, bw, c]
  T* y;        // [n, oh, ow, c]
};
template <class T> struct AddBackwardArgsT {  // da (+)= dy; db[crop] (+)= dy, db elsewhere 0 (or kept)
  int n, oh, ow, c, bh, bw, off_h, off_w;
  const T* dy;  // [n, oh, ow, c]
  T* da;        // [n, oh, ow, c] or null
  T* db;        // [n, bh, bw, c] or null
  bool accumulate;
};

// Channel concatenation, one part at a time: y[p, c_offset + j] = x[p, j] for rows p < rows, j < c_part.
template <class T> struct ConcatForwardArgsT {
  int64_t rows;
  int c_part, c_total, c_offset;
  const T* x;  // [rows, c_part]
  T* y;        // [rows, c_total]
};
template <class T> struct ConcatBackwardArgsT {  // dx (+)= dy[:, c_offset : c_offset + c_part]
  int64_t rows;
  int c_part, c_total, c_offset;
  const T* dy;  // [rows, c_total]
  T* dx;        // [rows, c_part]
  bool accumulate;
};

// Mean softmax cross-entropy over the batch: loss = (1/n) Σ_i −log softmax(logits_i)[label_i];
// dlogits = (softmax − onehot)·scale/n (scale multiplies the gradient, e.g. 1). correct = #argmax == label.
template <class T> struct SoftmaxCrossEntropyArgsT {
  int n, classes;
  T scale;
  const T* logits;        // [n, classes]
  const int32_t* labels;  // [n], each in [0, classes)
  T* loss;                // [1]
  T* dlogits;             // [n, classes] or null (forward only)
  int32_t* correct;       // [1] or null
};

// y = x ⊙ x (input of the variance conv, REFERENCE.md §3); backward dx (+)= 2·x·dy.
template <class T> struct SquareForwardArgsT {
  int64_t count;
  const T* x;
  T* y;
};
template <class T> struct SquareBackwardArgsT {
  int64_t count;
  const T* x;
  const T* dy;
  T* dx;
  bool accumulate;
};

// SpVD variance of each weight: σ² = exp(log σ²); backward dlog_sigma2 (+)= dsigma2·σ².
template <class T> struct SpvdVarianceForwardArgsT {
  int64_t count;
  const T* log_sigma2;
  T* sigma2;
};
template <class T> struct SpvdVarianceBackwardArgsT {
  int64_t count;
  const T* sigma2;
  const T* dsigma2;
  T* dlog_sigma2;
  bool accumulate;
};

// Local reparameterization sample (REFERENCE.md §3): y = μ + sqrt(v + 1e-8)·ε, ε from (seed, offset) at the
// element index. Backward: dmu (+)= dy, dvar (+)= dy·ε / (2·sqrt(v + 1e-8)).
template <class T> struct LrtSampleForwardArgsT {
  int64_t count;
  uint64_t seed, offset;
  const T* mu;   // [count]
  const T* var;  // [count]
  T* y;          // [count]
};
// With the forward's mu and y given (both non-null), ε = (y − μ)/sqrt(v + 1e-8) is taken from them instead of
// being drawn again (dvar = dy·(y − μ)/(2·(v + 1e-8))): equal up to rounding, and no second Philox pass.
template <class T> struct LrtSampleBackwardArgsT {
  int64_t count;
  uint64_t seed, offset;
  const T* var;  // [count]
  const T* dy;   // [count]
  T* dmu;        // [count] or null
  T* dvar;       // [count]
  bool accumulate;
  const T* mu = nullptr;  // [count] or null: the forward's mean
  const T* y = nullptr;   // [count] or null: the forward's sample
};

// log α = clip(log σ² − log(θ² + 1e-8), −8, 8) (REFERENCE.md §3, also the BC group log α of §4).
template <class T> struct LogAlphaArgsT {
  int64_t count;
  const T* theta;
  const T* log_sigma2;
  T* log_alpha;
};

// SpVD KL (REFERENCE.md §3): kl = Σ −(k1·sigmoid(k2 + k3·la) − 0.5·log1p(exp(−la)) − k1), la = log α.
// Backward: dtheta (+)= scale·∂kl/∂θ, dlog_sigma2 (+)= scale·∂kl/∂log σ² (zero where the clip is active).
template <class T> struct SpvdKlForwardArgsT {
  int64_t count;
  const T* theta;
  const T* log_sigma2;
  T* kl;  // [1]
};
template <class T> struct SpvdKlBackwardArgsT {
  int64_t count;
  T scale;
  const T* theta;
  const T* log_sigma2;
  T* dtheta;
  T* dlog_sigma2;
  bool accumulate;
};

// Bayesian Compression (REFERENCE.md §4). z per (example, group): z = μ_z + exp(0.5·log σ²_z)·ε.
// Backward: dmu_z (+)= Σ_n dz, dlog_sigma2_z (+)= Σ_n dz·ε·0.5·σ_z.
template <class T> struct BcSampleZForwardArgsT {
  int n, groups;
  uint64_t seed, offset;
  const T* mu_z;          // [groups]
  const T* log_sigma2_z;  // [groups]
  T* z;                   // [n, groups]
};
template <class T> struct BcSampleZBackwardArgsT {
  int n, groups;
  uint64_t seed, offset;
  const T* log_sigma2_z;  // [groups]
  const T* dz;            // [n, groups]
  T* dmu_z;               // [groups]
  T* dlog_sigma2_z;       // [groups]
  bool accumulate;
};
// y[i, p, g] = x[i, p, g]·z[i, g] (FC input scaling xz = x ⊙ z; p < pixels). Backward: dx (+)= dy·z,
// dz (+)= Σ_p dy·x.
template <class T> struct ScaleGroupsForwardArgsT {
  int n, pixels, groups;
  const T* x;  // [n, pixels, groups]
  const T* z;  // [n, groups]
  T* y;        // [n, pixels, groups]
};
template <class T> struct ScaleGroupsBackwardArgsT {
  int n, pixels, groups;
  const T* x;   // [n, pixels, groups]
  const T* z;   // [n, groups]
  const T* dy;  // [n, pixels, groups]
  T* dx;        // [n, pixels, groups] or null
  T* dz;        // [n, groups] or null
  bool accumulate;
};
// BC conv epilogue: y = μ·z + sqrt(v·z² + 1e-8)·ε, z broadcast over pixels. Backward: dmu, dvar, dz.
template <class T> struct BcEpilogueForwardArgsT {
  int n, pixels, groups;
  uint64_t seed, offset;
  const T* mu;   // [n, pixels, groups]
  const T* var;  // [n, pixels, groups]
  const T* z;    // [n, groups]
  T* y;          // [n, pixels, groups]
};
template <class T> struct BcEpilogueBackwardArgsT {
  int n, pixels, groups;
  uint64_t seed, offset;
  const T* mu;   // [n, pixels, groups]
  const T* var;  // [n, pixels, groups]
  const T* z;    // [n, groups]
  const T* dy;   // [n, pixels, groups]
  T* dmu;        // [n, pixels, groups]
  T* dvar;       // [n, pixels, groups]
  T* dz;         // [n, groups]
  bool accumulate;
};
// BC KL (REFERENCE.md §4): kl = −Σ_g [k1·sigmoid(k2 + k3·la_g) − 0.5·softplus(−la_g) − k1]
//                              + Σ_w [−0.5·log σ²_w + 0.5·(σ²_w + μ²_w) − 0.5],
// la_g = log σ²_z − log(μ_z² + 1e-8) *unclipped* (the init log σ²_z ≈ −9 lies below SpVD's −8 clip, where the
// gradient would vanish; Louizos et al. do not clip it). The log_alpha op's clip serves the pruning decision.
template <class T> struct BcKlForwardArgsT {
  int64_t groups, weights;
  const T* mu_z;          // [groups]
  const T* log_sigma2_z;  // [groups]
  const T* mu_w;          // [weights]
  const T* log_sigma2_w;  // [weights]
  T* kl;                  // [1]
};
template <class T> struct BcKlBackwardArgsT {  // gradients (+)= scale·∂kl
  int64_t groups, weights;
  T scale;
  const T* mu_z;
  const T* log_sigma2_z;
  const T* mu_w;
  const T* log_sigma2_w;
  T* dmu_z;
  T* dlog_sigma2_z;
  T* dmu_w;
  T* dlog_sigma2_w;
  bool accumulate;
};

// Adam (bias-corrected, step t >= 1): m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// p −= lr·(m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps).
template <class T> struct AdamArgsT {
  int64_t count;
  int64_t t;
  T lr, beta1, beta2, eps;
  T* param;
  const T* grad;
  T* m;
  T* v;
};

// Deterministic pruned weights (REFERENCE.md §3): out = value·[log α < threshold].
// With groups > 0, the mask is per group (BC, §4): element e belongs to group g = (e / inner) % groups, and
// out = value·group_scale[g]·[log α_g < threshold] (BC's deterministic weight μ_w·μ_z when group_scale = μ_z).
// Conv HWIO weights with groups = c_out: inner = 1; FC [In, Out] weights grouped by input: inner = Out.
template <class T> struct PruneMaskArgsT {
  int64_t count;
  T threshold;
  int64_t groups, inner;   // groups = 0: log_alpha has `count` entries (per weight)
  const T* value;          // [count]
  const T* log_alpha;      // [count] or [groups]
  const T* group_scale;    // [groups] or null (groups > 0 only)
  T* out;                  // [count]; may alias value
};

}  // namespace sparse
