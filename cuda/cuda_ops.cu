// Every non-GEMM op of host/core/op_list.hpp on the CUDA backend: pooling, batch norm, elementwise, loss, the
// SpVD and Bayesian Compression layers (REFERENCE.md §3-4), Adam and the prune mask.
// Invariants (host/cpu/ref_ops.hpp is the specification, read side by side):
//  - each kernel evaluates the reference's float expression in the same order; this file is compiled with
//    -fmad=false (and IEEE sqrt/division, nvcc's default), so pure float arithmetic (adam, square, scale groups,
//    data movement, max pool) is bit-identical to the reference; expf/logf/sinf/cosf and the ε of
//    philox_normal4 differ from the host libm by a few ulp only.
//  - ε of element e is philox_normal4(seed, offset, e / 4)[e % 4] (host/core/philox.hpp, the same code).
//  - reductions the interface sums in double (loss, KL, batch statistics) are two-pass (cuda/launch_config.hpp):
//    per-block or per-chunk partials in double in the workspace, then summed in a fixed order, so results are
//    deterministic run to run (the order differs from the reference's, within the tests' tolerances); per-group
//    sums over the batch or over pixels (BC, scale groups) loop in the reference's order in one thread per group.
//  - batch norm reads rows with lanes over channels (coalesced), never a channel's column with stride c.
//  - grids and blocks come from the op's plan (launch_config.hpp); every kernel has __launch_bounds__(256, 1).
//  - the cropped add's gradient is computed in gather form (no atomics, overwrite or accumulate in one pass);
//    max pool's is an atomic scatter (its args carry no window), exact when windows do not overlap.
//  - no host synchronization and no allocation: scalars (loss, kl, correct) are written by the device.
#include <cmath>

#include "cuda/cuda_common.cuh"
#include "cuda/reductions.cuh"
#include "host/core/philox.hpp"

namespace sparse::cuda::ops {
namespace {

#define SPARSE_GRID_LOOP(i, count) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (count); i += int64_t(gridDim.x) * blockDim.x)
#define SPARSE_KERNEL __global__ void __launch_bounds__(kMaxBlockThreads, 1)

__device__ __forceinline__ float noise(uint64_t seed, uint64_t offset, uint64_t e) {
  float n[4];
  philox_normal4(seed, offset, e / 4, n);
  return n[e % 4];
}
__device__ __forceinline__ float store_value(const float* dst, float v, bool accumulate) {
  return accumulate ? *dst + v : v;
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

SPARSE_KERNEL max_pool_forward_kernel(MaxPoolForwardArgsT<float> a) {
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
SPARSE_KERNEL max_pool_backward_kernel(MaxPoolBackwardArgsT<float> a) {
  const int64_t total = int64_t(a.n) * a.oh * a.ow * a.c;
  SPARSE_GRID_LOOP(o, total) atomicAdd(a.dx + a.argmax[o], a.dy[o]);
}

SPARSE_KERNEL channel_max_forward_kernel(ChannelMaxForwardArgsT<float> a) {
  const int64_t rows = int64_t(a.n) * a.h * a.w;
  SPARSE_GRID_LOOP(p, rows) {
    float best = a.x[p * a.c];
    for (int c = 1; c < a.c; ++c) best = fmaxf(best, a.x[p * a.c + c]);
    a.y[p] = best;
  }
}

// ---- batch norm ------------------------------------------------------------------------------------------
// Training forward, as ref_ops.hpp batch_norm_forward in double: mean = Σx / rows, var = Σ(x − mean)² / rows
// (two passes, biased), y = (x − mean)·invstd·γ + β with invstd = 1/sqrt(var + eps) in double. Each Σ is a
// column reduction (block: lanes over channels, 8 rows; grid: channel blocks × row chunks) into double
// partials [chunks, c], summed per channel in chunk order.

SPARSE_KERNEL batch_norm_eval_kernel(BatchNormForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.rows * a.c) {
    const int c = int(i % a.c);
    const double invstd = 1.0 / sqrt(double(a.running_var[c]) + double(a.eps));
    a.y[i] = float((double(a.x[i]) - double(a.running_mean[c])) * invstd * double(a.gamma[c]) + double(a.beta[c]));
  }
}

// partials[chunk, c] = Σ_{rows r of the chunk} (x[r, c] − center[c]) ^ power, power 1 (center null) or 2.
template <int kPower>
__device__ __forceinline__ void bn_column_partials(const BatchNormForwardArgsT<float>& a, const double* center,
                                                   double* partials) {
  const int64_t col = blockIdx.x * int64_t(kColumnLanes) + threadIdx.x;
  int64_t r0, r1;
  chunk_rows(a.rows, &r0, &r1);
  double acc = 0.0;
  if (col < a.c) {
    const double m = kPower == 2 ? center[col] : 0.0;
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kColumnRows) {
      const double d = double(a.x[r * a.c + col]) - m;
      acc += kPower == 2 ? d * d : d;
    }
  }
  const double sum = column_block_sum(acc);
  if (threadIdx.y == 0 && col < a.c) partials[int64_t(blockIdx.y) * a.c + col] = sum;
}
SPARSE_KERNEL bn_sum_partials_kernel(BatchNormForwardArgsT<float> a, double* partials) {
  bn_column_partials<1>(a, nullptr, partials);
}
SPARSE_KERNEL bn_square_partials_kernel(BatchNormForwardArgsT<float> a, const double* mean, double* partials) {
  bn_column_partials<2>(a, mean, partials);
}
// Σ_k partials[k, c] in chunk order.
__device__ __forceinline__ double sum_chunks(const double* partials, int64_t chunks, int64_t cols, int64_t c) {
  double s = 0.0;
  for (int64_t k = 0; k < chunks; ++k) s += partials[k * cols + c];
  return s;
}
SPARSE_KERNEL bn_mean_kernel(BatchNormForwardArgsT<float> a, const double* partials, int64_t chunks, double* mean) {
  SPARSE_GRID_LOOP(c, int64_t(a.c)) mean[c] = sum_chunks(partials, chunks, a.c, c) / double(a.rows);
}
SPARSE_KERNEL bn_statistics_kernel(BatchNormForwardArgsT<float> a, const double* partials, int64_t chunks,
                                   const double* mean, double* invstd_out) {
  SPARSE_GRID_LOOP(c, int64_t(a.c)) {
    const double var = sum_chunks(partials, chunks, a.c, c) / double(a.rows);
    const double invstd = 1.0 / sqrt(var + double(a.eps));
    const double unbiased = a.rows > 1 ? var * double(a.rows) / double(a.rows - 1) : var;
    const double m = double(a.momentum);
    invstd_out[c] = invstd;
    a.save_mean[c] = float(mean[c]);
    a.save_invstd[c] = float(invstd);
    a.running_mean[c] = float((1.0 - m) * double(a.running_mean[c]) + m * mean[c]);
    a.running_var[c] = float((1.0 - m) * double(a.running_var[c]) + m * unbiased);
  }
}
SPARSE_KERNEL bn_normalize_kernel(BatchNormForwardArgsT<float> a, const double* mean, const double* invstd) {
  SPARSE_GRID_LOOP(i, a.rows * a.c) {
    const int64_t c = i % a.c;
    a.y[i] = float((double(a.x[i]) - mean[c]) * invstd[c] * double(a.gamma[c]) + double(a.beta[c]));
  }
}

// Backward (ref_ops.hpp batch_norm_backward): dβ = Σ dy, dγ = Σ dy·x̂ per channel (column reductions, partials
// [2, chunks, c] in double), then dx = γ·invstd·(dy − dβ/rows − x̂·dγ/rows).
SPARSE_KERNEL bn_grad_partials_kernel(BatchNormBackwardArgsT<float> a, double* partials) {
  const int64_t col = blockIdx.x * int64_t(kColumnLanes) + threadIdx.x;
  int64_t r0, r1;
  chunk_rows(a.rows, &r0, &r1);
  double db = 0.0, dg = 0.0;
  if (col < a.c) {
    const double mean = double(a.save_mean[col]), invstd = double(a.save_invstd[col]);
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kColumnRows) {
      const int64_t i = r * a.c + col;
      db += double(a.dy[i]);
      dg += double(a.dy[i]) * (double(a.x[i]) - mean) * invstd;
    }
  }
  const double sum_db = column_block_sum(db);
  const double sum_dg = column_block_sum(dg);
  if (threadIdx.y == 0 && col < a.c) {
    const int64_t chunks = gridDim.y;
    partials[int64_t(blockIdx.y) * a.c + col] = sum_db;
    partials[(chunks + blockIdx.y) * int64_t(a.c) + col] = sum_dg;
  }
}
SPARSE_KERNEL bn_grad_combine_kernel(BatchNormBackwardArgsT<float> a, const double* partials, int64_t chunks,
                                     double* sums) {
  SPARSE_GRID_LOOP(c, int64_t(a.c)) {
    const double dbeta = sum_chunks(partials, chunks, a.c, c);
    const double dgamma = sum_chunks(partials + chunks * a.c, chunks, a.c, c);
    sums[c] = dbeta;
    sums[a.c + c] = dgamma;
    a.dgamma[c] = float(dgamma);
    a.dbeta[c] = float(dbeta);
  }
}
SPARSE_KERNEL bn_dx_kernel(BatchNormBackwardArgsT<float> a, const double* sums) {
  const double rows = double(a.rows);
  SPARSE_GRID_LOOP(i, a.rows * a.c) {
    const int64_t c = i % a.c;
    const double mean = double(a.save_mean[c]), invstd = double(a.save_invstd[c]);
    const double k = double(a.gamma[c]) * invstd;
    const double xhat = (double(a.x[i]) - mean) * invstd;
    const float v = float(k * (double(a.dy[i]) - sums[c] / rows - xhat * sums[a.c + c] / rows));
    a.dx[i] = store_value(a.dx + i, v, a.accumulate);
  }
}

// ---- elementwise -----------------------------------------------------------------------------------------

SPARSE_KERNEL relu_forward_kernel(ReluForwardArgsT<float> a) {  // y may alias x
  SPARSE_GRID_LOOP(i, a.count) {
    const float x = a.x[i];
    a.y[i] = x > 0.0f ? x : 0.0f;
  }
}
SPARSE_KERNEL relu_backward_kernel(ReluBackwardArgsT<float> a) {  // dx may alias dy
  SPARSE_GRID_LOOP(i, a.count) {
    const float v = a.y[i] > 0.0f ? a.dy[i] : 0.0f;
    a.dx[i] = store_value(a.dx + i, v, a.accumulate);
  }
}

SPARSE_KERNEL add_forward_kernel(AddForwardArgsT<float> a) {
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
SPARSE_KERNEL add_backward_da_kernel(AddBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, int64_t(a.n) * a.oh * a.ow * a.c) a.da[i] = store_value(a.da + i, a.dy[i], a.accumulate);
}
// db[b] = (accumulate ? db[b] : 0) + (b inside the crop ? dy[o] : 0), as the reference's fill-then-add.
SPARSE_KERNEL add_backward_db_kernel(AddBackwardArgsT<float> a) {
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

SPARSE_KERNEL concat_forward_kernel(ConcatForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.rows * a.c_part) {
    const int64_t p = i / a.c_part;
    const int j = int(i % a.c_part);
    a.y[p * a.c_total + a.c_offset + j] = a.x[i];
  }
}
SPARSE_KERNEL concat_backward_kernel(ConcatBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.rows * a.c_part) {
    const int64_t p = i / a.c_part;
    const int j = int(i % a.c_part);
    a.dx[i] = store_value(a.dx + i, a.dy[p * a.c_total + a.c_offset + j], a.accumulate);
  }
}

// Pass 1: one thread per example: its loss lse − z[label] and hit (1 or 0) to the workspace, and its dlogits.
SPARSE_KERNEL softmax_cross_entropy_rows_kernel(SoftmaxCrossEntropyArgsT<float> a, double* loss_of,
                                                double* hit_of) {
  SPARSE_GRID_LOOP(i, int64_t(a.n)) {
    const float* z = a.logits + i * a.classes;
    const int label = a.labels[i];
    int arg = 0;
    for (int j = 1; j < a.classes; ++j)
      if (z[j] > z[arg]) arg = j;
    hit_of[i] = arg == label ? 1.0 : 0.0;
    const double mx = double(z[arg]);
    double se = 0.0;
    for (int j = 0; j < a.classes; ++j) se += exp(double(z[j]) - mx);
    const double lse = mx + log(se);
    loss_of[i] = lse - double(z[label]);
    if (a.dlogits) {
      const double k = double(a.scale) / double(a.n);
      for (int j = 0; j < a.classes; ++j) {
        const double p = exp(double(z[j]) - lse);
        a.dlogits[i * a.classes + j] = float((p - (j == label ? 1.0 : 0.0)) * k);
      }
    }
  }
}
// Pass 2, one block: loss = Σ loss / n, correct = Σ hit.
SPARSE_KERNEL softmax_cross_entropy_combine_kernel(SoftmaxCrossEntropyArgsT<float> a, const double* loss_of,
                                                   const double* hit_of) {
  double total = 0.0, correct = 0.0;
  for (int64_t i = threadIdx.x; i < a.n; i += blockDim.x) {
    total += loss_of[i];
    correct += hit_of[i];
  }
  const double t = block_sum(total);
  const double c = block_sum(correct);
  if (threadIdx.x == 0) {
    *a.loss = float(t / double(a.n));
    if (a.correct) *a.correct = int32_t(c);
  }
}

SPARSE_KERNEL square_forward_kernel(SquareForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.count) a.y[i] = a.x[i] * a.x[i];
}
SPARSE_KERNEL square_backward_kernel(SquareBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.count) a.dx[i] = store_value(a.dx + i, 2.0f * a.x[i] * a.dy[i], a.accumulate);
}
SPARSE_KERNEL spvd_variance_forward_kernel(SpvdVarianceForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.count) a.sigma2[i] = expf(a.log_sigma2[i]);
}
SPARSE_KERNEL spvd_variance_backward_kernel(SpvdVarianceBackwardArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.count) a.dlog_sigma2[i] = store_value(a.dlog_sigma2 + i, a.dsigma2[i] * a.sigma2[i], a.accumulate);
}

// ---- SpVD ------------------------------------------------------------------------------------------------

// One thread per 4 consecutive elements e = 4q .. 4q + 3: one philox_normal4(seed, offset, q) gives their ε
// (the same ε as noise(seed, offset, e)).
SPARSE_KERNEL lrt_sample_forward_kernel(LrtSampleForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(q, (a.count + 3) / 4) {
    float eps[4];
    philox_normal4(a.seed, a.offset, uint64_t(q), eps);
    for (int j = 0; j < 4; ++j) {
      const int64_t e = 4 * q + j;
      if (e < a.count) a.y[e] = a.mu[e] + sqrtf(a.var[e] + 1e-8f) * eps[j];
    }
  }
}
SPARSE_KERNEL lrt_sample_backward_kernel(LrtSampleBackwardArgsT<float> a) {
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

SPARSE_KERNEL log_alpha_kernel(LogAlphaArgsT<float> a) {
  SPARSE_GRID_LOOP(i, a.count) a.log_alpha[i] = clip_log_alpha(log_alpha_raw(a.theta[i], a.log_sigma2[i]));
}

// Pass 1 of the SpVD KL: each block's Σ kl_term (double) to partials[blockIdx.x].
SPARSE_KERNEL spvd_kl_partials_kernel(SpvdKlForwardArgsT<float> a, double* partials) {
  double kl = 0.0;
  SPARSE_GRID_LOOP(i, a.count) kl += kl_term(double(clip_log_alpha(log_alpha_raw(a.theta[i], a.log_sigma2[i]))));
  const double total = block_sum(kl);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}
// Pass 2 of a block reduction, one block: *out = float(Σ partials) (0 without partials).
SPARSE_KERNEL sum_block_partials_kernel(const double* partials, int64_t count, float* out) {
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) s += partials[i];
  const double total = block_sum(s);
  if (threadIdx.x == 0) *out = float(total);
}

SPARSE_KERNEL spvd_kl_backward_kernel(SpvdKlBackwardArgsT<float> a) {
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

SPARSE_KERNEL bc_sample_z_forward_kernel(BcSampleZForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(e, int64_t(a.n) * a.groups) {
    const int g = int(e % a.groups);
    const float eps = noise(a.seed, a.offset, uint64_t(e));
    a.z[e] = a.mu_z[g] + expf(0.5f * a.log_sigma2_z[g]) * eps;
  }
}
// One thread per group, the batch summed in the reference's order.
SPARSE_KERNEL bc_sample_z_backward_kernel(BcSampleZBackwardArgsT<float> a) {
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

SPARSE_KERNEL scale_groups_forward_kernel(ScaleGroupsForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(e, int64_t(a.n) * a.pixels * a.groups) {
    const int g = int(e % a.groups);
    const int64_t i = e / (int64_t(a.pixels) * a.groups);
    a.y[e] = a.x[e] * a.z[i * a.groups + g];
  }
}
// One thread per (example, group): consecutive threads take consecutive groups (coalesced over g).
SPARSE_KERNEL scale_groups_backward_kernel(ScaleGroupsBackwardArgsT<float> a) {
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

SPARSE_KERNEL bc_epilogue_forward_kernel(BcEpilogueForwardArgsT<float> a) {
  SPARSE_GRID_LOOP(e, int64_t(a.n) * a.pixels * a.groups) {
    const int g = int(e % a.groups);
    const int64_t i = e / (int64_t(a.pixels) * a.groups);
    const float z = a.z[i * a.groups + g];
    const float eps = noise(a.seed, a.offset, uint64_t(e));
    a.y[e] = a.mu[e] * z + sqrtf(a.var[e] * z * z + 1e-8f) * eps;
  }
}
SPARSE_KERNEL bc_epilogue_backward_kernel(BcEpilogueBackwardArgsT<float> a) {
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

// Pass 1 of the BC KL: items [0, groups) are the group terms through the *unclipped* group log α (ref_ops.hpp
// group_kl_term_of), [groups, groups + weights) the weight terms; each block's Σ (double) to partials.
SPARSE_KERNEL bc_kl_partials_kernel(BcKlForwardArgsT<float> a, double* partials) {
  double kl = 0.0;
  SPARSE_GRID_LOOP(k, a.groups + a.weights) {
    if (k < a.groups) {
      kl += kl_term(double(log_alpha_raw(a.mu_z[k], a.log_sigma2_z[k])));
    } else {
      const int64_t w = k - a.groups;
      const double ls = double(a.log_sigma2_w[w]), mu = double(a.mu_w[w]);
      kl += -0.5 * ls + 0.5 * (exp(ls) + mu * mu) - 0.5;
    }
  }
  const double total = block_sum(kl);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}
// Elements [0, groups) are the group terms, [groups, groups + weights) the weight terms.
SPARSE_KERNEL bc_kl_backward_kernel(BcKlBackwardArgsT<float> a) {
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

SPARSE_KERNEL adam_kernel(AdamArgsT<float> a, float bc1, float bc2) {
  SPARSE_GRID_LOOP(i, a.count) {
    const float g = a.grad[i];
    const float m = a.beta1 * a.m[i] + (1.0f - a.beta1) * g;
    const float v = a.beta2 * a.v[i] + (1.0f - a.beta2) * g * g;
    a.m[i] = m;
    a.v[i] = v;
    a.param[i] -= a.lr * (m / bc1) / (sqrtf(v / bc2) + a.eps);
  }
}

SPARSE_KERNEL prune_mask_kernel(PruneMaskArgsT<float> a) {  // out may alias value
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

// An op with one kernel: its plan's slot 0 with the op's args.
template <class Args>
void run_one(const Args& a, void (*kernel)(Args), const Ctx& ctx) {
  launch(plan(a, ctx.sms).k[kOnly], kernel, ctx.stream, a);
}

// The two passes of a KL forward: per-block partials in the workspace, then one block writes *kl.
template <class Args>
void run_kl_forward(const Args& a, void (*partials_kernel)(Args, double*), const Ctx& ctx) {
  const OpPlan p = plan(a, ctx.sms);
  double* partials = ctx.scratch<double>(p, 0);
  launch(p.k[kKlPartials], partials_kernel, ctx.stream, a, partials);
  const int64_t blocks = p.k[kKlPartials] ? int64_t(p.k[kKlPartials].grid.x) : 0;
  launch(p.k[kKlCombine], sum_block_partials_kernel, ctx.stream, static_cast<const double*>(partials), blocks, a.kl);
}

}  // namespace

void max_pool_forward(const MaxPoolForwardArgsT<float>& a, const Ctx& ctx) { run_one(a, max_pool_forward_kernel, ctx); }
void max_pool_backward(const MaxPoolBackwardArgsT<float>& a, const Ctx& ctx) {
  const int64_t x_count = int64_t(a.n) * a.h * a.w * a.c;
  if (!a.accumulate && x_count > 0) CUDA_CHECK(cudaMemsetAsync(a.dx, 0, size_t(x_count) * sizeof(float), ctx.stream));
  run_one(a, max_pool_backward_kernel, ctx);
}
void channel_max_forward(const ChannelMaxForwardArgsT<float>& a, const Ctx& ctx) {
  run_one(a, channel_max_forward_kernel, ctx);
}

void batch_norm_forward(const BatchNormForwardArgsT<float>& a, const Ctx& ctx) {
  const OpPlan p = plan(a, ctx.sms);
  if (!a.training) return launch(p.k[kBnEval], batch_norm_eval_kernel, ctx.stream, a);
  if (!p.k[kBnSumPartials]) return;
  double* partials = ctx.scratch<double>(p, 0);
  double* mean = ctx.scratch<double>(p, 1);
  double* invstd = ctx.scratch<double>(p, 2);
  const int64_t chunks = chunks_of(p.k[kBnSumPartials]);
  launch(p.k[kBnSumPartials], bn_sum_partials_kernel, ctx.stream, a, partials);
  launch(p.k[kBnMean], bn_mean_kernel, ctx.stream, a, static_cast<const double*>(partials), chunks, mean);
  launch(p.k[kBnSquarePartials], bn_square_partials_kernel, ctx.stream, a, static_cast<const double*>(mean), partials);
  launch(p.k[kBnStatistics], bn_statistics_kernel, ctx.stream, a, static_cast<const double*>(partials), chunks,
         static_cast<const double*>(mean), invstd);
  launch(p.k[kBnNormalize], bn_normalize_kernel, ctx.stream, a, static_cast<const double*>(mean),
         static_cast<const double*>(invstd));
}
void batch_norm_backward(const BatchNormBackwardArgsT<float>& a, const Ctx& ctx) {
  const OpPlan p = plan(a, ctx.sms);
  if (!p.k[kBnGradPartials]) return;
  double* partials = ctx.scratch<double>(p, 0);
  double* sums = ctx.scratch<double>(p, 1);
  launch(p.k[kBnGradPartials], bn_grad_partials_kernel, ctx.stream, a, partials);
  launch(p.k[kBnGradCombine], bn_grad_combine_kernel, ctx.stream, a, static_cast<const double*>(partials),
         chunks_of(p.k[kBnGradPartials]), sums);
  launch(p.k[kBnDx], bn_dx_kernel, ctx.stream, a, static_cast<const double*>(sums));
}
void relu_forward(const ReluForwardArgsT<float>& a, const Ctx& ctx) { run_one(a, relu_forward_kernel, ctx); }
void relu_backward(const ReluBackwardArgsT<float>& a, const Ctx& ctx) { run_one(a, relu_backward_kernel, ctx); }
void add_forward(const AddForwardArgsT<float>& a, const Ctx& ctx) { run_one(a, add_forward_kernel, ctx); }
void add_backward(const AddBackwardArgsT<float>& a, const Ctx& ctx) {
  const OpPlan p = plan(a, ctx.sms);
  launch(p.k[kAddDa], add_backward_da_kernel, ctx.stream, a);
  launch(p.k[kAddDb], add_backward_db_kernel, ctx.stream, a);
}
void concat_forward(const ConcatForwardArgsT<float>& a, const Ctx& ctx) { run_one(a, concat_forward_kernel, ctx); }
void concat_backward(const ConcatBackwardArgsT<float>& a, const Ctx& ctx) { run_one(a, concat_backward_kernel, ctx); }
void softmax_cross_entropy(const SoftmaxCrossEntropyArgsT<float>& a, const Ctx& ctx) {
  const OpPlan p = plan(a, ctx.sms);
  double* loss_of = ctx.scratch<double>(p, 0);
  double* hit_of = ctx.scratch<double>(p, 1);
  launch(p.k[kSoftmaxRows], softmax_cross_entropy_rows_kernel, ctx.stream, a, loss_of, hit_of);
  launch(p.k[kSoftmaxCombine], softmax_cross_entropy_combine_kernel, ctx.stream, a, static_cast<const double*>(loss_of),
         static_cast<const double*>(hit_of));
}
void square_forward(const SquareForwardArgsT<float>& a, const Ctx& ctx) { run_one(a, square_forward_kernel, ctx); }
void square_backward(const SquareBackwardArgsT<float>& a, const Ctx& ctx) { run_one(a, square_backward_kernel, ctx); }
void spvd_variance_forward(const SpvdVarianceForwardArgsT<float>& a, const Ctx& ctx) {
  run_one(a, spvd_variance_forward_kernel, ctx);
}
void spvd_variance_backward(const SpvdVarianceBackwardArgsT<float>& a, const Ctx& ctx) {
  run_one(a, spvd_variance_backward_kernel, ctx);
}
void lrt_sample_forward(const LrtSampleForwardArgsT<float>& a, const Ctx& ctx) {
  run_one(a, lrt_sample_forward_kernel, ctx);
}
void lrt_sample_backward(const LrtSampleBackwardArgsT<float>& a, const Ctx& ctx) {
  run_one(a, lrt_sample_backward_kernel, ctx);
}
void log_alpha(const LogAlphaArgsT<float>& a, const Ctx& ctx) { run_one(a, log_alpha_kernel, ctx); }
void spvd_kl_forward(const SpvdKlForwardArgsT<float>& a, const Ctx& ctx) {
  run_kl_forward(a, spvd_kl_partials_kernel, ctx);
}
void spvd_kl_backward(const SpvdKlBackwardArgsT<float>& a, const Ctx& ctx) { run_one(a, spvd_kl_backward_kernel, ctx); }
void bc_sample_z_forward(const BcSampleZForwardArgsT<float>& a, const Ctx& ctx) {
  run_one(a, bc_sample_z_forward_kernel, ctx);
}
void bc_sample_z_backward(const BcSampleZBackwardArgsT<float>& a, const Ctx& ctx) {
  run_one(a, bc_sample_z_backward_kernel, ctx);
}
void scale_groups_forward(const ScaleGroupsForwardArgsT<float>& a, const Ctx& ctx) {
  run_one(a, scale_groups_forward_kernel, ctx);
}
void scale_groups_backward(const ScaleGroupsBackwardArgsT<float>& a, const Ctx& ctx) {
  run_one(a, scale_groups_backward_kernel, ctx);
}
void bc_epilogue_forward(const BcEpilogueForwardArgsT<float>& a, const Ctx& ctx) {
  run_one(a, bc_epilogue_forward_kernel, ctx);
}
void bc_epilogue_backward(const BcEpilogueBackwardArgsT<float>& a, const Ctx& ctx) {
  run_one(a, bc_epilogue_backward_kernel, ctx);
}
void bc_kl_forward(const BcKlForwardArgsT<float>& a, const Ctx& ctx) { run_kl_forward(a, bc_kl_partials_kernel, ctx); }
void bc_kl_backward(const BcKlBackwardArgsT<float>& a, const Ctx& ctx) { run_one(a, bc_kl_backward_kernel, ctx); }
void adam(const AdamArgsT<float>& a, const Ctx& ctx) {
  // As the reference: the bias corrections in double, rounded to float.
  const float bc1 = float(1.0 - std::pow(double(a.beta1), double(a.t)));
  const float bc2 = float(1.0 - std::pow(double(a.beta2), double(a.t)));
  launch(plan(a, ctx.sms).k[kOnly], adam_kernel, ctx.stream, a, bc1, bc2);
}
void prune_mask(const PruneMaskArgsT<float>& a, const Ctx& ctx) { run_one(a, prune_mask_kernel, ctx); }

}  // namespace sparse::cuda::ops
