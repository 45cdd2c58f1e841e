// Every non-GEMM op of host/core/op_list.hpp on the CUDA backend: pooling, batch norm, elementwise, loss, the
// SpVD and Bayesian Compression layers (REFERENCE.md §3-4), Adam and the prune mask.
// Invariants (host/cpu/ref_ops.hpp is the specification, read side by side):
//  - each kernel evaluates the reference's float expression in the same order; this file is compiled with
//    -fmad=false (and IEEE sqrt/division, nvcc's default), so pure float arithmetic (adam, square, scale groups,
//    data movement, max pool) is bit-identical to the reference; expf/logf/sinf/cosf and the ε of
//    philox_normal4 differ from the host libm by a few ulp only.
//  - ε of element e is philox_normal4(seed, offset, e / 4)[e % 4] (host/core/philox.hpp, the same code).
//  - reductions the interface sums in double (loss, KL, batch statistics) are summed in double by one block with
//    a fixed tree, so results are deterministic run to run; per-group sums over the batch or over pixels
//    (BC, scale groups) loop in the reference's order in one thread per group.
//  - the cropped add's gradient is computed in gather form (no atomics, overwrite or accumulate in one pass);
//    max pool's is an atomic scatter (its args carry no window), exact when windows do not overlap.
//  - no host synchronization and no allocation: scalars (loss, kl, correct) are written by the device.
#include <cmath>

#include "cuda/cuda_common.cuh"
#include "host/core/philox.hpp"

namespace sparse::cuda::ops {
namespace {

constexpr int kThreads = 256;
constexpr int kReduceThreads = 512;  // single-block double reductions

#define SPARSE_GRID_LOOP(i, count) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (count); i += int64_t(gridDim.x) * blockDim.x)

template <class K, class... A>
void launch(K kernel, int64_t count, const Ctx& ctx, A... args) {
  if (count <= 0) return;
  kernel<<<grid_for(count, kThreads), kThreads, 0, ctx.stream>>>(args...);
  CUDA_CHECK_LAUNCH();
}

__device__ __forceinline__ float noise(uint64_t seed, uint64_t offset, uint64_t e) {
  float n[4];
  philox_normal4(seed, offset, e / 4, n);
  return n[e % 4];
}
__device__ __forceinline__ float store_value(const float* dst, float v, bool accumulate) {
  return accumulate ? *dst + v : v;
}

// Sum of v over the block (blockDim.x == N, a power of two); valid in thread 0.
template <int N>
__device__ double block_sum(double v, double* sh) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = N / 2; s > 0; s >>= 1) {
    if (int(threadIdx.x) < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  const double r = sh[0];
  __syncthreads();
  return r;
}

// KL approximation (REFERENCE.md §3), in double as ref_ops.hpp.
constexpr double kK1 = 0.63576, kK2 = 1.87320, kK3 = 1.48695;
__device__ __forceinline__ double kl_term(double la) {
  const double sig = 1.0 / (1.0 + exp(-(kK2 + kK3 * la)));
  return -(kK1 * sig - 0.5 * log1p(exp(-la)) - kK1);
}
__device__ __forceinline__ double kl_term_dla(double la) {
  const double sig = 1.0 / (1.0 + exp(-(kK2 + kK3 * la)));
  return -(kK1 * kK3 * sig * (1.0 - sig) + 0.5 / (1.0 + exp(la)));
}
__device__ __forceinline__ float log_alpha_raw(float theta, float log_sigma2) {
  return log_sigma2 - logf(theta * theta + 1e-8f);
}
__device__ __forceinline__ float clip_log_alpha(float raw) { return fminf(fmaxf(raw, -8.0f), 8.0f); }

// ---- pooling ---------------------------------------------------------------------------------------------

__global__ void max_pool_forward_kernel(MaxPoolForwardArgsT<float> a) {
  const int64_t total = int64_t(a.n) * a.oh * a.ow * a.c;
  SPARSE_GRID_LOOP(o, total) {
    const int c = int(o % a.c);
    int64_t t = o / a.c;
    const int ox = int(t % a.ow);
    t /= a.ow;
    const int oy = int(t % a.oh);
    const int n = int(t / a.oh);
    int64_t best_i = -1;
    float best = 0.0f;
    for (int ky = 0; ky < a.k; ++ky)
      for (int kx = 0; kx < a.k; ++kx) {
        const int64_t i = ((int64_t(n) * a.h + oy * a.stride + ky) * a.w + ox * a.stride + kx) * a.c + c;
        const float v = a.x[i];
        if (best_i < 0 || v > best) {  // strictly greater: the first maximum wins ties
          best = v;
          best_i = i;
        }
      }
    a.y[o] = best;
    if (a.argmax) a.argmax[o] = int32_t(best_i);
  }
}

// dx[argmax[o]] += dy[o] (dx zeroed first unless accumulating). The args carry no window, so the scatter is
// atomic: exact and deterministic when windows do not overlap (k <= stride, the engine's pooling: at most one
// add per element); with overlapping windows and >= 2 adds per element the float order may differ from the
// reference's ascending o.
__global__ void max_pool_backward_kernel(MaxPoolBackwardArgsT<float> a) {
  const int64_t total = int64_t(a.n) * a.oh * a.ow * a.c;
  SPARSE_GRID_LOOP(o, total) atomicAdd(a.dx + a.argmax[o], a.dy[o]);
}

__global__ void channel_max_kernel(ChannelMaxForwardArgsT<float> a) {
  const int64_t rows = int64_t(a.n) * a.h * a.w;
  SPARSE_GRID_LOOP(p, rows) {
    float best = a.x[p * a.c];
    for (int c = 1; c < a.c; ++c) best = fmaxf(best, a.x[p * a.c + c]);
    a.y[p] = best;
  }
}

// ---- batch norm ------------------------------------------------------------------------------------------

__global__ void batch_norm_eval_kernel(BatchNormForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.rows * a.c) {
    const int c = int(i % a.c);
    const double invstd = 1.0 / sqrt(double(a.running_var[c]) + double(a.eps));
    a.y[i] = float((double(a.x[i]) - double(a.running_mean[c])) * invstd * double(a.gamma[c]) + double(a.beta[c]));
  }
}

// One block per channel: two passes in double (mean, then Σ(x − mean)²), then the normalization.
__global__ void batch_norm_train_kernel(BatchNormForwardArgsT<float> a) {
  __shared__ double sh[kReduceThreads];
  const int c = blockIdx.x;
  double sum = 0.0;
  for (int64_t r = threadIdx.x; r < a.rows; r += kReduceThreads) sum += double(a.x[r * a.c + c]);
  const double mean = block_sum<kReduceThreads>(sum, sh) / double(a.rows);
  double sq = 0.0;
  for (int64_t r = threadIdx.x; r < a.rows; r += kReduceThreads) {
    const double d = double(a.x[r * a.c + c]) - mean;
    sq += d * d;
  }
  const double var = block_sum<kReduceThreads>(sq, sh) / double(a.rows);
  const double invstd = 1.0 / sqrt(var + double(a.eps));
  const double gamma = double(a.gamma[c]), beta = double(a.beta[c]);
  for (int64_t r = threadIdx.x; r < a.rows; r += kReduceThreads) {
    const int64_t i = r * a.c + c;
    a.y[i] = float((double(a.x[i]) - mean) * invstd * gamma + beta);
  }
  if (threadIdx.x == 0) {
    const double unbiased = a.rows > 1 ? var * double(a.rows) / double(a.rows - 1) : var;
    const double m = double(a.momentum);
    a.save_mean[c] = float(mean);
    a.save_invstd[c] = float(invstd);
    a.running_mean[c] = float((1.0 - m) * double(a.running_mean[c]) + m * mean);
    a.running_var[c] = float((1.0 - m) * double(a.running_var[c]) + m * unbiased);
  }
}

__global__ void batch_norm_backward_kernel(BatchNormBackwardArgsT<float> a) {
  __shared__ double sh[kReduceThreads];
  const int c = blockIdx.x;
  const double mean = double(a.save_mean[c]), invstd = double(a.save_invstd[c]);
  double db = 0.0, dg = 0.0;
  for (int64_t r = threadIdx.x; r < a.rows; r += kReduceThreads) {
    const int64_t i = r * a.c + c;
    db += double(a.dy[i]);
    dg += double(a.dy[i]) * (double(a.x[i]) - mean) * invstd;
  }
  const double dbeta = block_sum<kReduceThreads>(db, sh);
  const double dgamma = block_sum<kReduceThreads>(dg, sh);
  const double k = double(a.gamma[c]) * invstd, rows = double(a.rows);
  for (int64_t r = threadIdx.x; r < a.rows; r += kReduceThreads) {
    const int64_t i = r * a.c + c;
    const double xhat = (double(a.x[i]) - mean) * invstd;
    const float v = float(k * (double(a.dy[i]) - dbeta / rows - xhat * dgamma / rows));
    a.dx[i] = store_value(a.dx + i, v, a.accumulate);
  }
  if (threadIdx.x == 0) {
    a.dgamma[c] = float(dgamma);
    a.dbeta[c] = float(dbeta);
  }
}

// ---- elementwise -----------------------------------------------------------------------------------------

__global__ void relu_forward_kernel(ReluForwardArgsT<float> a) {  // y may alias x
  SPARSE_GRID_LOOP(i, a.count) {
    const float x = a.x[i];
    a.y[i] = x > 0.0f ? x : 0.0f;
  }
}
__global__ void relu_backward_kernel(ReluBackwardArgsT<float> a) {  // dx may alias dy
  SPARSE_GRID_LOOP(i, a.count) {
    const float v = a.y[i] > 0.0f ? a.dy[i] : 0.0f;
    a.dx[i] = store_value(a.dx + i, v, a.accumulate);
  }
}

__global__ void add_forward_kernel(AddForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(o, int64_t(a.n) * a.oh * a.ow * a.c) {
    const int c = int(o % a.c);
    int64_t t = o / a.c;
    const int x = int(t % a.ow);
    t /= a.ow;
    const int y = int(t % a.oh);
    const int n = int(t / a.oh);
    const int64_t b = ((int64_t(n) * a.bh + y + a.off_h) * a.bw + x + a.off_w) * a.c + c;
    a.y[o] = a.a[o] + a.b[b];
  }
}
__global__ void add_backward_da_kernel(AddBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, int64_t(a.n) * a.oh * a.ow * a.c) a.da[i] = store_value(a.da + i, a.dy[i], a.accumulate);
}
// db[b] = (accumulate ? db[b] : 0) + (b inside the crop ? dy[o] : 0), as the reference's fill-then-add.
__global__ void add_backward_db_kernel(AddBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(b, int64_t(a.n) * a.bh * a.bw * a.c) {
    const int c = int(b % a.c);
    int64_t t = b / a.c;
    const int bx = int(t % a.bw);
    t /= a.bw;
    const int by = int(t % a.bh);
    const int n = int(t / a.bh);
    const int y = by - a.off_h, x = bx - a.off_w;
    float v = a.accumulate ? a.db[b] : 0.0f;
    if (y >= 0 && y < a.oh && x >= 0 && x < a.ow) v += a.dy[((int64_t(n) * a.oh + y) * a.ow + x) * a.c + c];
    a.db[b] = v;
  }
}

__global__ void concat_forward_kernel(ConcatForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.rows * a.c_part) {
    const int64_t p = i / a.c_part;
    const int j = int(i % a.c_part);
    a.y[p * a.c_total + a.c_offset + j] = a.x[i];
  }
}
__global__ void concat_backward_kernel(ConcatBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.rows * a.c_part) {
    const int64_t p = i / a.c_part;
    const int j = int(i % a.c_part);
    a.dx[i] = store_value(a.dx + i, a.dy[p * a.c_total + a.c_offset + j], a.accumulate);
  }
}

// One block; a thread per example (strided), loss summed in double, correct counted in the same tree.
__global__ void softmax_cross_entropy_kernel(SoftmaxCrossEntropyArgsT<float> a) {
  __shared__ double sh[kReduceThreads];
  double total = 0.0, correct = 0.0;
  for (int i = threadIdx.x; i < a.n; i += kReduceThreads) {
    const float* z = a.logits + int64_t(i) * a.classes;
    const int label = a.labels[i];
    int arg = 0;
    for (int j = 1; j < a.classes; ++j)
      if (z[j] > z[arg]) arg = j;
    if (arg == label) correct += 1.0;
    const double mx = double(z[arg]);
    double se = 0.0;
    for (int j = 0; j < a.classes; ++j) se += exp(double(z[j]) - mx);
    const double lse = mx + log(se);
    total += lse - double(z[label]);
    if (a.dlogits) {
      const double k = double(a.scale) / double(a.n);
      for (int j = 0; j < a.classes; ++j) {
        const double p = exp(double(z[j]) - lse);
        a.dlogits[int64_t(i) * a.classes + j] = float((p - (j == label ? 1.0 : 0.0)) * k);
      }
    }
  }
  const double t = block_sum<kReduceThreads>(total, sh);
  const double c = block_sum<kReduceThreads>(correct, sh);
  if (threadIdx.x == 0) {
    *a.loss = float(t / double(a.n));
    if (a.correct) *a.correct = int32_t(c);
  }
}

__global__ void square_forward_kernel(SquareForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.count) a.y[i] = a.x[i] * a.x[i];
}
__global__ void square_backward_kernel(SquareBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.count) a.dx[i] = store_value(a.dx + i, 2.0f * a.x[i] * a.dy[i], a.accumulate);
}
__global__ void spvd_variance_forward_kernel(SpvdVarianceForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.count) a.sigma2[i] = expf(a.log_sigma2[i]);
}
__global__ void spvd_variance_backward_kernel(SpvdVarianceBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.count) a.dlog_sigma2[i] = store_value(a.dlog_sigma2 + i, a.dsigma2[i] * a.sigma2[i], a.accumulate);
}

// ---- SpVD ------------------------------------------------------------------------------------------------

__global__ void lrt_sample_forward_kernel(LrtSampleForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(e, a.count) {
    const float eps = noise(a.seed, a.offset, uint64_t(e));
    a.y[e] = a.mu[e] + sqrtf(a.var[e] + 1e-8f) * eps;
  }
}
__global__ void lrt_sample_backward_kernel(LrtSampleBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(e, a.count) {
    const float dy = a.dy[e];
    if (a.dmu) a.dmu[e] = store_value(a.dmu + e, dy, a.accumulate);
    float dv;
    if (a.mu && a.y) {
      dv = dy * (a.y[e] - a.mu[e]) / (2.0f * (a.var[e] + 1e-8f));
    } else {
      const float eps = noise(a.seed, a.offset, uint64_t(e));
      dv = dy * eps / (2.0f * sqrtf(a.var[e] + 1e-8f));
    }
    a.dvar[e] = store_value(a.dvar + e, dv, a.accumulate);
  }
}

__global__ void log_alpha_kernel(LogAlphaArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.count) a.log_alpha[i] = clip_log_alpha(log_alpha_raw(a.theta[i], a.log_sigma2[i]));
}

__global__ void spvd_kl_forward_kernel(SpvdKlForwardArgsT<float> a) {
  __shared__ double sh[kReduceThreads];
  double kl = 0.0;
  for (int64_t i = threadIdx.x; i < a.count; i += kReduceThreads)
    kl += kl_term(double(clip_log_alpha(log_alpha_raw(a.theta[i], a.log_sigma2[i]))));
  const double total = block_sum<kReduceThreads>(kl, sh);
  if (threadIdx.x == 0) *a.kl = float(total);
}

__global__ void spvd_kl_backward_kernel(SpvdKlBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.count) {
    const float raw = log_alpha_raw(a.theta[i], a.log_sigma2[i]);
    double dth = 0.0, dls = 0.0;
    const double r = double(raw);
    if (!(r < -8.0 || r > 8.0)) {
      const double g = kl_term_dla(r);
      const double th = double(a.theta[i]);
      dls = g;
      dth = g * (-2.0 * th / (th * th + 1e-8));
    }
    const double scale = double(a.scale);
    a.dtheta[i] = store_value(a.dtheta + i, float(scale * dth), a.accumulate);
    a.dlog_sigma2[i] = store_value(a.dlog_sigma2 + i, float(scale * dls), a.accumulate);
  }
}

// ---- Bayesian Compression --------------------------------------------------------------------------------

__global__ void bc_sample_z_forward_kernel(BcSampleZForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(e, int64_t(a.n) * a.groups) {
    const int g = int(e % a.groups);
    const float eps = noise(a.seed, a.offset, uint64_t(e));
    a.z[e] = a.mu_z[g] + expf(0.5f * a.log_sigma2_z[g]) * eps;
  }
}
// One thread per group, the batch summed in the reference's order.
__global__ void bc_sample_z_backward_kernel(BcSampleZBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(g, int64_t(a.groups)) {
    const float sigma = expf(0.5f * a.log_sigma2_z[g]);
    float dmu = 0.0f, dls = 0.0f;
    for (int i = 0; i < a.n; ++i) {
      const int64_t e = int64_t(i) * a.groups + g;
      const float eps = noise(a.seed, a.offset, uint64_t(e));
      dmu += a.dz[e];
      dls += a.dz[e] * eps * 0.5f * sigma;
    }
    a.dmu_z[g] = store_value(a.dmu_z + g, dmu, a.accumulate);
    a.dlog_sigma2_z[g] = store_value(a.dlog_sigma2_z + g, dls, a.accumulate);
  }
}

__global__ void scale_groups_forward_kernel(ScaleGroupsForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(e, int64_t(a.n) * a.pixels * a.groups) {
    const int g = int(e % a.groups);
    const int64_t i = e / (int64_t(a.pixels) * a.groups);
    a.y[e] = a.x[e] * a.z[i * a.groups + g];
  }
}
// One thread per (example, group): consecutive threads take consecutive groups (coalesced over g).
__global__ void scale_groups_backward_kernel(ScaleGroupsBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(ig, int64_t(a.n) * a.groups) {
    const int g = int(ig % a.groups);
    const int64_t i = ig / a.groups;
    const float z = a.z[ig];
    float dz = 0.0f;
    for (int p = 0; p < a.pixels; ++p) {
      const int64_t e = (i * a.pixels + p) * a.groups + g;
      if (a.dx) a.dx[e] = store_value(a.dx + e, a.dy[e] * z, a.accumulate);
      dz += a.dy[e] * a.x[e];
    }
    if (a.dz) a.dz[ig] = store_value(a.dz + ig, dz, a.accumulate);
  }
}

__global__ void bc_epilogue_forward_kernel(BcEpilogueForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(e, int64_t(a.n) * a.pixels * a.groups) {
    const int g = int(e % a.groups);
    const int64_t i = e / (int64_t(a.pixels) * a.groups);
    const float z = a.z[i * a.groups + g];
    const float eps = noise(a.seed, a.offset, uint64_t(e));
    a.y[e] = a.mu[e] * z + sqrtf(a.var[e] * z * z + 1e-8f) * eps;
  }
}
__global__ void bc_epilogue_backward_kernel(BcEpilogueBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(ig, int64_t(a.n) * a.groups) {
    const int g = int(ig % a.groups);
    const int64_t i = ig / a.groups;
    const float z = a.z[ig];
    float dz = 0.0f;
    for (int p = 0; p < a.pixels; ++p) {
      const int64_t e = (i * a.pixels + p) * a.groups + g;
      const float eps = noise(a.seed, a.offset, uint64_t(e));
      const float v = a.var[e], dy = a.dy[e];
      const float s = sqrtf(v * z * z + 1e-8f);
      if (a.dmu) a.dmu[e] = store_value(a.dmu + e, dy * z, a.accumulate);
      if (a.dvar) a.dvar[e] = store_value(a.dvar + e, dy * eps * z * z / (2.0f * s), a.accumulate);
      dz += dy * (a.mu[e] + eps * v * z / s);
    }
    if (a.dz) a.dz[ig] = store_value(a.dz + ig, dz, a.accumulate);
  }
}

// Group terms through the *unclipped* group log α (ref_ops.hpp group_kl_term_of), plus the weight terms.
__global__ void bc_kl_forward_kernel(BcKlForwardArgsT<float> a) {
  __shared__ double sh[kReduceThreads];
  double kl = 0.0;
  for (int64_t g = threadIdx.x; g < a.groups; g += kReduceThreads)
    kl += kl_term(double(log_alpha_raw(a.mu_z[g], a.log_sigma2_z[g])));
  for (int64_t w = threadIdx.x; w < a.weights; w += kReduceThreads) {
    const double ls = double(a.log_sigma2_w[w]), mu = double(a.mu_w[w]);
    kl += -0.5 * ls + 0.5 * (exp(ls) + mu * mu) - 0.5;
  }
  const double total = block_sum<kReduceThreads>(kl, sh);
  if (threadIdx.x == 0) *a.kl = float(total);
}
// Elements [0, groups) are the group terms, [groups, groups + weights) the weight terms.
__global__ void bc_kl_backward_kernel(BcKlBackwardArgsT<float> a) {
  const double scale = double(a.scale);
  SPARSE_GRID_LOOP(k, a.groups + a.weights) {
    if (k < a.groups) {
      const double g = kl_term_dla(double(log_alpha_raw(a.mu_z[k], a.log_sigma2_z[k])));
      const double m = double(a.mu_z[k]);
      const double dmu = g * (-2.0 * m / (m * m + 1e-8));
      a.dmu_z[k] = store_value(a.dmu_z + k, float(scale * dmu), a.accumulate);
      a.dlog_sigma2_z[k] = store_value(a.dlog_sigma2_z + k, float(scale * g), a.accumulate);
    } else {
      const int64_t w = k - a.groups;
      a.dmu_w[w] = store_value(a.dmu_w + w, float(scale * double(a.mu_w[w])), a.accumulate);
      a.dlog_sigma2_w[w] =
          store_value(a.dlog_sigma2_w + w, float(scale * 0.5 * (exp(double(a.log_sigma2_w[w])) - 1.0)), a.accumulate);
    }
  }
}

// ---- optimizer and masks ---------------------------------------------------------------------------------

__global__ void adam_kernel(AdamArgsT<float> a, float bc1, float bc2) {
  SPARSE_GRID_LOOP(i, a.count) {
    const float g = a.grad[i];
    const float m = a.beta1 * a.m[i] + (1.0f - a.beta1) * g;
    const float v = a.beta2 * a.v[i] + (1.0f - a.beta2) * g * g;
    a.m[i] = m;
    a.v[i] = v;
    a.param[i] -= a.lr * (m / bc1) / (sqrtf(v / bc2) + a.eps);
  }
}

__global__ void prune_mask_kernel(PruneMaskArgsT<float> a) {  // out may alias value
  SPARSE_GRID_LOOP(e, a.count) {
    if (a.groups == 0) {
      a.out[e] = a.log_alpha[e] < a.threshold ? a.value[e] : 0.0f;
    } else {
      const int64_t g = (e / a.inner) % a.groups;
      const float scale = a.group_scale ? a.group_scale[g] : 1.0f;
      a.out[e] = a.log_alpha[g] < a.threshold ? a.value[e] * scale : 0.0f;
    }
  }
}

void reduce_launch_check() { CUDA_CHECK_LAUNCH(); }

}  // namespace

void max_pool_forward(const MaxPoolForwardArgsT<float>& a, const Ctx& ctx) {
  launch(max_pool_forward_kernel, int64_t(a.n) * a.oh * a.ow * a.c, ctx, a);
}
void max_pool_backward(const MaxPoolBackwardArgsT<float>& a, const Ctx& ctx) {
  const int64_t x_count = int64_t(a.n) * a.h * a.w * a.c;
  if (!a.accumulate && x_count > 0) CUDA_CHECK(cudaMemsetAsync(a.dx, 0, size_t(x_count) * sizeof(float), ctx.stream));
  launch(max_pool_backward_kernel, int64_t(a.n) * a.oh * a.ow * a.c, ctx, a);
}
void channel_max_forward(const ChannelMaxForwardArgsT<float>& a, const Ctx& ctx) {
  launch(channel_max_kernel, int64_t(a.n) * a.h * a.w, ctx, a);
}
void batch_norm_forward(const BatchNormForwardArgsT<float>& a, const Ctx& ctx) {
  if (a.c <= 0 || a.rows <= 0) return;
  if (!a.training) return launch(batch_norm_eval_kernel, a.rows * a.c, ctx, a);
  batch_norm_train_kernel<<<unsigned(a.c), kReduceThreads, 0, ctx.stream>>>(a);
  reduce_launch_check();
}
void batch_norm_backward(const BatchNormBackwardArgsT<float>& a, const Ctx& ctx) {
  if (a.c <= 0) return;
  batch_norm_backward_kernel<<<unsigned(a.c), kReduceThreads, 0, ctx.stream>>>(a);
  reduce_launch_check();
}
void relu_forward(const ReluForwardArgsT<float>& a, const Ctx& ctx) { launch(relu_forward_kernel, a.count, ctx, a); }
void relu_backward(const ReluBackwardArgsT<float>& a, const Ctx& ctx) { launch(relu_backward_kernel, a.count, ctx, a); }
void add_forward(const AddForwardArgsT<float>& a, const Ctx& ctx) {
  launch(add_forward_kernel, int64_t(a.n) * a.oh * a.ow * a.c, ctx, a);
}
void add_backward(const AddBackwardArgsT<float>& a, const Ctx& ctx) {
  if (a.da) launch(add_backward_da_kernel, int64_t(a.n) * a.oh * a.ow * a.c, ctx, a);
  if (a.db) launch(add_backward_db_kernel, int64_t(a.n) * a.bh * a.bw * a.c, ctx, a);
}
void concat_forward(const ConcatForwardArgsT<float>& a, const Ctx& ctx) {
  launch(concat_forward_kernel, a.rows * a.c_part, ctx, a);
}
void concat_backward(const ConcatBackwardArgsT<float>& a, const Ctx& ctx) {
  launch(concat_backward_kernel, a.rows * a.c_part, ctx, a);
}
void softmax_cross_entropy(const SoftmaxCrossEntropyArgsT<float>& a, const Ctx& ctx) {
  softmax_cross_entropy_kernel<<<1, kReduceThreads, 0, ctx.stream>>>(a);
  reduce_launch_check();
}
void square_forward(const SquareForwardArgsT<float>& a, const Ctx& ctx) { launch(square_forward_kernel, a.count, ctx, a); }
void square_backward(const SquareBackwardArgsT<float>& a, const Ctx& ctx) {
  launch(square_backward_kernel, a.count, ctx, a);
}
void spvd_variance_forward(const SpvdVarianceForwardArgsT<float>& a, const Ctx& ctx) {
  launch(spvd_variance_forward_kernel, a.count, ctx, a);
}
void spvd_variance_backward(const SpvdVarianceBackwardArgsT<float>& a, const Ctx& ctx) {
  launch(spvd_variance_backward_kernel, a.count, ctx, a);
}
void lrt_sample_forward(const LrtSampleForwardArgsT<float>& a, const Ctx& ctx) {
  launch(lrt_sample_forward_kernel, a.count, ctx, a);
}
void lrt_sample_backward(const LrtSampleBackwardArgsT<float>& a, const Ctx& ctx) {
  launch(lrt_sample_backward_kernel, a.count, ctx, a);
}
void log_alpha(const LogAlphaArgsT<float>& a, const Ctx& ctx) { launch(log_alpha_kernel, a.count, ctx, a); }
void spvd_kl_forward(const SpvdKlForwardArgsT<float>& a, const Ctx& ctx) {
  spvd_kl_forward_kernel<<<1, kReduceThreads, 0, ctx.stream>>>(a);
  reduce_launch_check();
}
void spvd_kl_backward(const SpvdKlBackwardArgsT<float>& a, const Ctx& ctx) {
  launch(spvd_kl_backward_kernel, a.count, ctx, a);
}
void bc_sample_z_forward(const BcSampleZForwardArgsT<float>& a, const Ctx& ctx) {
  launch(bc_sample_z_forward_kernel, int64_t(a.n) * a.groups, ctx, a);
}
void bc_sample_z_backward(const BcSampleZBackwardArgsT<float>& a, const Ctx& ctx) {
  launch(bc_sample_z_backward_kernel, int64_t(a.groups), ctx, a);
}
void scale_groups_forward(const ScaleGroupsForwardArgsT<float>& a, const Ctx& ctx) {
  launch(scale_groups_forward_kernel, int64_t(a.n) * a.pixels * a.groups, ctx, a);
}
void scale_groups_backward(const ScaleGroupsBackwardArgsT<float>& a, const Ctx& ctx) {
  launch(scale_groups_backward_kernel, int64_t(a.n) * a.groups, ctx, a);
}
void bc_epilogue_forward(const BcEpilogueForwardArgsT<float>& a, const Ctx& ctx) {
  launch(bc_epilogue_forward_kernel, int64_t(a.n) * a.pixels * a.groups, ctx, a);
}
void bc_epilogue_backward(const BcEpilogueBackwardArgsT<float>& a, const Ctx& ctx) {
  launch(bc_epilogue_backward_kernel, int64_t(a.n) * a.groups, ctx, a);
}
void bc_kl_forward(const BcKlForwardArgsT<float>& a, const Ctx& ctx) {
  bc_kl_forward_kernel<<<1, kReduceThreads, 0, ctx.stream>>>(a);
  reduce_launch_check();
}
void bc_kl_backward(const BcKlBackwardArgsT<float>& a, const Ctx& ctx) {
  launch(bc_kl_backward_kernel, a.groups + a.weights, ctx, a);
}
void adam(const AdamArgsT<float>& a, const Ctx& ctx) {
  // As the reference: the bias corrections in double, rounded to float.
  const float bc1 = float(1.0 - std::pow(double(a.beta1), double(a.t)));
  const float bc2 = float(1.0 - std::pow(double(a.beta2), double(a.t)));
  launch(adam_kernel, a.count, ctx, a, bc1, bc2);
}
void prune_mask(const PruneMaskArgsT<float>& a, const Ctx& ctx) { launch(prune_mask_kernel, a.count, ctx, a); }

}  // namespace sparse::cuda::ops
