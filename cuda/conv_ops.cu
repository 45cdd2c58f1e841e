// GEMM-shaped ops on the CUDA backend: linear forward/backward through cuBLAS (FP32, pedantic math), a 1×1
// stride-1 unpadded ungrouped conv as the same GEMMs over n·h·w rows, and direct kernels for every other conv
// (the networks of the search are small: tens of channels, ≤ 32×32 images).
// Layout (op_args.hpp): NHWC activations, HWIO weights [kh, kw, c_in/groups, c_out], linear weights [in, out],
// all row-major; cuBLAS sees a row-major [r, c] matrix as a column-major [c, r] one, so y = x·w is computed as
// yᵀ = wᵀ·xᵀ with no transposes.
// Kernels (grids and blocks: cuda/launch_config.cpp): forward and data gradient are gather-form, one thread per
// output element with the channel fastest (coalesced writes and weight reads), so they overwrite or accumulate
// without atomics. The filter gradient and the bias gradients are two-pass column reductions over the
// n·oh·ow output positions: pass 1, block (32 lanes over columns, 8 rows over positions), grid (column blocks,
// chunks of positions) with enough chunks for 4 blocks per SM; each block sums its chunk in float (8 row
// partials, then in row order) into a [chunks, columns] workspace; pass 2 sums the chunks in order and stores or
// accumulates. The filter gradient's columns are dw's flattened (tap, c_out) index, so every lane has work even
// when c_out < 32. With one chunk, pass 1 writes the result and there is no pass 2.
#include "cuda/cuda_common.cuh"
#include "cuda/reductions.cuh"

namespace sparse::cuda::ops {
namespace {

__global__ void __launch_bounds__(kMaxBlockThreads, 1)
    broadcast_rows_kernel(const float* __restrict__ bias, float* __restrict__ y, int64_t rows, int cols) {
  const int64_t total = rows * cols;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = bias[i % cols];
}

// Stores a column's block sum: the result itself (direct: out[col] = or += sum) or chunk blockIdx.y's partial
// (out [chunks, cols]).
__device__ __forceinline__ void store_column(float acc, int64_t col, int64_t cols, float* __restrict__ out, bool direct,
                                             bool accumulate) {
  const float sum = column_block_sum(acc);
  if (threadIdx.y != 0 || col >= cols) return;
  if (direct) out[col] = accumulate ? out[col] + sum : sum;
  else out[int64_t(blockIdx.y) * cols + col] = sum;
}

// Pass 1 of out[c] (+)= Σ_r m[r, c]: this block's chunk of rows, 32 columns.
__global__ void __launch_bounds__(kMaxBlockThreads, 1)
    column_sum_partials_kernel(const float* __restrict__ m, int64_t rows, float* __restrict__ out, int64_t cols,
                               bool direct, bool accumulate) {
  const int64_t col = blockIdx.x * int64_t(kColumnLanes) + threadIdx.x;
  int64_t r0, r1;
  chunk_rows(rows, &r0, &r1);
  float acc = 0.0f;
  if (col < cols)
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kColumnRows) acc += m[r * cols + col];
  store_column(acc, col, cols, out, direct, accumulate);
}

// Pass 1 of dw[ky, kx, ci, co] (+)= Σ_{n, oy, ox} x[n, iy, ix, g·cig + ci]·dy[n, oy, ox, co] (ref_ops.hpp
// conv2d_backward_filter): column col = (tap, co) flattened as dw's index, tap = (ky·kw + kx)·cig + ci; rows are
// output positions p = (n·oh + oy)·ow + ox.
__global__ void __launch_bounds__(kMaxBlockThreads, 1)
    conv_filter_partials_kernel(ConvShape s, const float* __restrict__ x, const float* __restrict__ dy,
                                float* __restrict__ out, int64_t cols, bool direct, bool accumulate) {
  const int cig = s.c_in / s.groups, cog = s.c_out / s.groups;
  const int64_t col = blockIdx.x * int64_t(kColumnLanes) + threadIdx.x;
  int64_t r0, r1;
  chunk_rows(int64_t(s.n) * s.oh * s.ow, &r0, &r1);
  float acc = 0.0f;
  if (col < cols) {
    const int co = int(col % s.c_out);
    const int tap = int(col / s.c_out);
    const int ci = tap % cig;
    const int kx = (tap / cig) % s.kw;
    const int ky = tap / cig / s.kw;
    const int c = (co / cog) * cig + ci;
    for (int64_t p = r0 + threadIdx.y; p < r1; p += kColumnRows) {
      const int ox = int(p % s.ow);
      const int64_t t = p / s.ow;
      const int oy = int(t % s.oh);
      const int n = int(t / s.oh);
      const int iy = oy * s.stride - s.pad_top + ky;
      const int ix = ox * s.stride - s.pad_left + kx;
      if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
      acc += x[((int64_t(n) * s.h + iy) * s.w + ix) * s.c_in + c] * dy[p * s.c_out + co];
    }
  }
  store_column(acc, col, cols, out, direct, accumulate);
}

// Pass 2: out[c] (+)= Σ_k partials[k, c], k in chunk order.
__global__ void __launch_bounds__(kMaxBlockThreads, 1)
    sum_partials_kernel(const float* __restrict__ partials, int64_t chunks, int64_t cols, float* __restrict__ out,
                        bool accumulate) {
  for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < cols; c += int64_t(gridDim.x) * blockDim.x) {
    float sum = 0.0f;
    for (int64_t k = 0; k < chunks; ++k) sum += partials[k * cols + c];
    out[c] = accumulate ? out[c] + sum : sum;
  }
}

// Runs a column reduction of plan p into out [cols]: pass 1 (`kernel` with `args`, then its output, cols, direct,
// accumulate), straight into `out` when the plan has one chunk, else into workspace region `region` and pass 2.
template <class... KArgs, class... A>
void column_reduction(const OpPlan& p, int partials_slot, int combine_slot, int region, int64_t cols, float* out,
                      bool accumulate, const Ctx& ctx, void (*kernel)(KArgs...), A... args) {
  const Launch& first = p.k[size_t(partials_slot)];
  if (!first) return;
  const Launch& second = p.k[size_t(combine_slot)];
  const bool direct = !second;
  float* partials = direct ? out : ctx.scratch<float>(p, region);
  launch(first, kernel, ctx.stream, args..., partials, cols, direct, accumulate);
  if (!direct)
    launch(second, sum_partials_kernel, ctx.stream, static_cast<const float*>(partials), chunks_of(first), cols, out,
           accumulate);
}

// y [rows, out] = x [rows, in] · w [in, out] + bias; the bias is broadcast first by the plan's kBroadcastBias.
void gemm_forward(const OpPlan& p, int64_t rows, int in, int out, const float* x, const float* w, const float* bias,
                  float* y, const Ctx& ctx) {
  if (rows <= 0 || out <= 0) return;
  SPARSE_CHECK(rows <= INT32_MAX, "linear: " << rows << " rows exceed the cuBLAS int range");
  float beta = 0.0f;
  if (bias) {
    launch(p.k[kBroadcastBias], broadcast_rows_kernel, ctx.stream, bias, y, rows, out);
    beta = 1.0f;
  }
  if (in <= 0) {
    if (!bias) CUDA_CHECK(cudaMemsetAsync(y, 0, size_t(rows) * out * sizeof(float), ctx.stream));
    return;
  }
  const float alpha = 1.0f;
  // column-major: yᵀ [out, rows] = wᵀ [out, in] · xᵀ [in, rows]
  CUBLAS_CHECK(cublasSgemm(ctx.blas, CUBLAS_OP_N, CUBLAS_OP_N, out, int(rows), in, &alpha, w, out, x, in, &beta, y, out));
}

// dx [rows, in] (+)= dy [rows, out] · wᵀ.
void gemm_backward_data(int64_t rows, int in, int out, const float* dy, const float* w, float* dx, bool accumulate,
                        const Ctx& ctx) {
  if (rows <= 0 || in <= 0) return;
  SPARSE_CHECK(rows <= INT32_MAX, "linear: " << rows << " rows exceed the cuBLAS int range");
  if (out <= 0) {
    if (!accumulate) CUDA_CHECK(cudaMemsetAsync(dx, 0, size_t(rows) * in * sizeof(float), ctx.stream));
    return;
  }
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  // column-major: dxᵀ [in, rows] = (wᵀ)ᵀ [in, out] · dyᵀ [out, rows]; w is wᵀ [out, in] with ld = out
  CUBLAS_CHECK(
      cublasSgemm(ctx.blas, CUBLAS_OP_T, CUBLAS_OP_N, in, int(rows), out, &alpha, w, out, dy, out, &beta, dx, in));
}

// dw [in, out] (+)= xᵀ · dy; then dbias (+)= Σ_rows dy by the plan's bias column reduction.
void gemm_backward_weight(const OpPlan& p, int64_t rows, int in, int out, const float* x, const float* dy, float* dw,
                          float* dbias, bool accumulate, const Ctx& ctx) {
  if (in > 0 && out > 0) {
    if (rows <= 0) {
      if (!accumulate) CUDA_CHECK(cudaMemsetAsync(dw, 0, size_t(in) * out * sizeof(float), ctx.stream));
    } else {
      SPARSE_CHECK(rows <= INT32_MAX, "linear: " << rows << " rows exceed the cuBLAS int range");
      const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
      // column-major: dwᵀ [out, in] = dyᵀ [out, rows] · (xᵀ)ᵀ [rows, in]; x is xᵀ [in, rows] with ld = in
      CUBLAS_CHECK(
          cublasSgemm(ctx.blas, CUBLAS_OP_N, CUBLAS_OP_T, out, in, int(rows), &alpha, dy, out, x, in, &beta, dw, out));
    }
  }
  if (dbias)
    column_reduction(p, kBiasPartials, kBiasCombine, 1, out, dbias, accumulate, ctx, column_sum_partials_kernel, dy,
                     rows);
}

__global__ void __launch_bounds__(kMaxBlockThreads, 1)
    conv_forward_kernel(ConvShape s, const float* __restrict__ x, const float* __restrict__ w,
                                    const float* __restrict__ bias, float* __restrict__ y, int64_t total) {
  const int cig = s.c_in / s.groups, cog = s.c_out / s.groups;
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int co = int(o % s.c_out);
    int64_t t = o / s.c_out;
    const int ox = int(t % s.ow);
    t /= s.ow;
    const int oy = int(t % s.oh);
    const int n = int(t / s.oh);
    const int g = co / cog;
    float acc = bias ? bias[co] : 0.0f;
    for (int ky = 0; ky < s.kh; ++ky) {
      const int iy = oy * s.stride - s.pad_top + ky;
      if (iy < 0 || iy >= s.h) continue;
      for (int kx = 0; kx < s.kw; ++kx) {
        const int ix = ox * s.stride - s.pad_left + kx;
        if (ix < 0 || ix >= s.w) continue;
        const float* xp = x + ((int64_t(n) * s.h + iy) * s.w + ix) * s.c_in + int64_t(g) * cig;
        const float* wp = w + (int64_t(ky) * s.kw + kx) * cig * s.c_out + co;
        for (int ci = 0; ci < cig; ++ci) acc += xp[ci] * wp[int64_t(ci) * s.c_out];
      }
    }
    y[o] = acc;
  }
}

// dx[n, iy, ix, g·cig + ci] = Σ_{ky, kx: (iy + pad − ky) = oy·stride} Σ_{co ∈ g} dy[n, oy, ox, co]·w[ky, kx, ci, co].
__global__ void __launch_bounds__(kMaxBlockThreads, 1)
    conv_backward_data_kernel(ConvShape s, const float* __restrict__ dy, const float* __restrict__ w,
                                          float* __restrict__ dx, bool accumulate, int64_t total) {
  const int cig = s.c_in / s.groups, cog = s.c_out / s.groups;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int c = int(i % s.c_in);
    int64_t t = i / s.c_in;
    const int ix = int(t % s.w);
    t /= s.w;
    const int iy = int(t % s.h);
    const int n = int(t / s.h);
    const int g = c / cig, ci = c % cig;
    float acc = 0.0f;
    for (int ky = 0; ky < s.kh; ++ky) {
      const int ty = iy + s.pad_top - ky;
      if (ty < 0 || ty % s.stride != 0) continue;
      const int oy = ty / s.stride;
      if (oy >= s.oh) continue;
      for (int kx = 0; kx < s.kw; ++kx) {
        const int tx = ix + s.pad_left - kx;
        if (tx < 0 || tx % s.stride != 0) continue;
        const int ox = tx / s.stride;
        if (ox >= s.ow) continue;
        const float* dyp = dy + ((int64_t(n) * s.oh + oy) * s.ow + ox) * s.c_out + int64_t(g) * cog;
        const float* wp = w + ((int64_t(ky) * s.kw + kx) * cig + ci) * s.c_out + int64_t(g) * cog;
        for (int co = 0; co < cog; ++co) acc += dyp[co] * wp[co];
      }
    }
    dx[i] = accumulate ? dx[i] + acc : acc;
  }
}

}  // namespace

void linear_forward(const LinearForwardArgsT<float>& a, const Ctx& ctx) {
  gemm_forward(plan(a, ctx.sms), a.n, a.in, a.out, a.x, a.w, a.bias, a.y, ctx);
}
void linear_backward_data(const LinearBackwardDataArgsT<float>& a, const Ctx& ctx) {
  gemm_backward_data(a.n, a.in, a.out, a.dy, a.w, a.dx, a.accumulate, ctx);
}
void linear_backward_weight(const LinearBackwardWeightArgsT<float>& a, const Ctx& ctx) {
  gemm_backward_weight(plan(a, ctx.sms), a.n, a.in, a.out, a.x, a.dy, a.dw, a.dbias, a.accumulate, ctx);
}

void conv2d_forward(const Conv2dForwardArgsT<float>& a, const Ctx& ctx) {
  const ConvShape& s = a.s;
  const OpPlan p = plan(a, ctx.sms);
  if (p.cublas) return gemm_forward(p, int64_t(s.n) * s.h * s.w, s.c_in, s.c_out, a.x, a.w, a.bias, a.y, ctx);
  launch(p.k[kConvForward], conv_forward_kernel, ctx.stream, s, a.x, a.w, a.bias, a.y, s.y_count());
}

void conv2d_backward_data(const Conv2dBackwardDataArgsT<float>& a, const Ctx& ctx) {
  const ConvShape& s = a.s;
  const OpPlan p = plan(a, ctx.sms);
  if (p.cublas)
    return gemm_backward_data(int64_t(s.n) * s.h * s.w, s.c_in, s.c_out, a.dy, a.w, a.dx, a.accumulate, ctx);
  launch(p.k[kOnly], conv_backward_data_kernel, ctx.stream, s, a.dy, a.w, a.dx, a.accumulate, s.x_count());
}

void conv2d_backward_filter(const Conv2dBackwardFilterArgsT<float>& a, const Ctx& ctx) {
  const ConvShape& s = a.s;
  const OpPlan p = plan(a, ctx.sms);
  const int64_t positions = int64_t(s.n) * s.oh * s.ow;
  if (p.cublas)
    return gemm_backward_weight(p, positions, s.c_in, s.c_out, a.x, a.dy, a.dw, a.dbias, a.accumulate, ctx);
  column_reduction(p, kFilterPartials, kFilterCombine, 0, s.weight_count(), a.dw, a.accumulate, ctx,
                   conv_filter_partials_kernel, s, a.x, a.dy);
  if (a.dbias)
    column_reduction(p, kBiasPartials, kBiasCombine, 1, s.c_out, a.dbias, a.accumulate, ctx, column_sum_partials_kernel,
                     a.dy, positions);
}

}  // namespace sparse::cuda::ops
