// GEMM-shaped ops on the CUDA backend: linear forward/backward through cuBLAS (FP32, pedantic math), a 1×1
// stride-1 unpadded ungrouped conv as the same GEMMs over n·h·w rows, and direct kernels for every other conv
// (the networks of the search are small: tens of channels, ≤ 32×32 images).
// Layout (op_args.hpp): NHWC activations, HWIO weights [kh, kw, c_in/groups, c_out], linear weights [in, out],
// all row-major; cuBLAS sees a row-major [r, c] matrix as a column-major [c, r] one, so y = x·w is computed as
// yᵀ = wᵀ·xᵀ with no transposes.
// Kernels: forward and data gradient are gather-form, one thread per output element with the channel fastest
// (coalesced writes and weight reads), so they overwrite or accumulate without atomics; the filter gradient and
// the bias gradients are column reductions, one block per (tap, 32 output channels): 32 lanes over channels ×
// 8 rows over positions, float partials reduced in shared memory.
#include "cuda/cuda_common.cuh"

namespace sparse::cuda::ops {
namespace {

constexpr int kThreads = 256;

bool is_plain_1x1(const ConvShape& s) {
  return s.kh == 1 && s.kw == 1 && s.stride == 1 && s.pad_top == 0 && s.pad_left == 0 && s.groups == 1 &&
         s.oh == s.h && s.ow == s.w;
}

__global__ void broadcast_rows_kernel(const float* __restrict__ bias, float* __restrict__ y, int64_t rows, int cols) {
  const int64_t total = rows * cols;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = bias[i % cols];
}

// out[c] (+)= Σ_r m[r, c]; block (32, 8), grid.x over column blocks of 32.
__global__ void column_sum_kernel(const float* __restrict__ m, int64_t rows, int cols, float* __restrict__ out,
                                  bool accumulate) {
  __shared__ float part[8][33];
  const int c = blockIdx.x * 32 + threadIdx.x;
  float acc = 0.0f;
  if (c < cols)
    for (int64_t r = threadIdx.y; r < rows; r += 8) acc += m[r * cols + c];
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    float s = 0.0f;
    for (int j = 0; j < 8; ++j) s += part[j][threadIdx.x];
    out[c] = accumulate ? out[c] + s : s;
  }
}

void column_sum(const float* m, int64_t rows, int cols, float* out, bool accumulate, const Ctx& ctx) {
  if (cols <= 0) return;
  column_sum_kernel<<<unsigned((cols + 31) / 32), dim3(32, 8), 0, ctx.stream>>>(m, rows, cols, out, accumulate);
  CUDA_CHECK_LAUNCH();
}

// y [rows, out] = x [rows, in] · w [in, out] + bias.
void gemm_forward(int64_t rows, int in, int out, const float* x, const float* w, const float* bias, float* y,
                  const Ctx& ctx) {
  if (rows <= 0 || out <= 0) return;
  SPARSE_CHECK(rows <= INT32_MAX, "linear: " << rows << " rows exceed the cuBLAS int range");
  float beta = 0.0f;
  if (bias) {
    broadcast_rows_kernel<<<grid_for(rows * out, kThreads), kThreads, 0, ctx.stream>>>(bias, y, rows, out);
    CUDA_CHECK_LAUNCH();
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

// dw [in, out] (+)= xᵀ · dy; dbias (+)= Σ_rows dy.
void gemm_backward_weight(int64_t rows, int in, int out, const float* x, const float* dy, float* dw, float* dbias,
                          bool accumulate, const Ctx& ctx) {
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
  if (dbias) column_sum(dy, rows, out, dbias, accumulate, ctx);
}

__global__ void conv_forward_kernel(ConvShape s, const float* __restrict__ x, const float* __restrict__ w,
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
__global__ void conv_backward_data_kernel(ConvShape s, const float* __restrict__ dy, const float* __restrict__ w,
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

// dw[ky, kx, ci, co] (+)= Σ_{n, oy, ox} x[n, iy, ix, g·cig + ci]·dy[n, oy, ox, co]. Block (32, 8): lanes over
// co (coalesced dy reads), rows over output positions; grid (c_out blocks of 32, kh·kw·cig).
__global__ void conv_backward_filter_kernel(ConvShape s, const float* __restrict__ x, const float* __restrict__ dy,
                                            float* __restrict__ dw, bool accumulate) {
  __shared__ float part[8][33];
  const int cig = s.c_in / s.groups, cog = s.c_out / s.groups;
  const int co = blockIdx.x * 32 + threadIdx.x;
  const int tap = blockIdx.y;  // (ky·kw + kx)·cig + ci
  const int ci = tap % cig;
  const int kx = (tap / cig) % s.kw;
  const int ky = tap / cig / s.kw;
  float acc = 0.0f;
  if (co < s.c_out) {
    const int c = (co / cog) * cig + ci;
    const int64_t positions = int64_t(s.n) * s.oh * s.ow;
    for (int64_t p = threadIdx.y; p < positions; p += 8) {
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
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && co < s.c_out) {
    float sum = 0.0f;
    for (int j = 0; j < 8; ++j) sum += part[j][threadIdx.x];
    const int64_t o = int64_t(tap) * s.c_out + co;
    dw[o] = accumulate ? dw[o] + sum : sum;
  }
}

}  // namespace

void linear_forward(const LinearForwardArgsT<float>& a, const Ctx& ctx) {
  gemm_forward(a.n, a.in, a.out, a.x, a.w, a.bias, a.y, ctx);
}
void linear_backward_data(const LinearBackwardDataArgsT<float>& a, const Ctx& ctx) {
  gemm_backward_data(a.n, a.in, a.out, a.dy, a.w, a.dx, a.accumulate, ctx);
}
void linear_backward_weight(const LinearBackwardWeightArgsT<float>& a, const Ctx& ctx) {
  gemm_backward_weight(a.n, a.in, a.out, a.x, a.dy, a.dw, a.dbias, a.accumulate, ctx);
}

void conv2d_forward(const Conv2dForwardArgsT<float>& a, const Ctx& ctx) {
  const ConvShape& s = a.s;
  if (is_plain_1x1(s)) return gemm_forward(int64_t(s.n) * s.h * s.w, s.c_in, s.c_out, a.x, a.w, a.bias, a.y, ctx);
  if (s.y_count() == 0) return;
  conv_forward_kernel<<<grid_for(s.y_count(), kThreads), kThreads, 0, ctx.stream>>>(s, a.x, a.w, a.bias, a.y, s.y_count());
  CUDA_CHECK_LAUNCH();
}

void conv2d_backward_data(const Conv2dBackwardDataArgsT<float>& a, const Ctx& ctx) {
  const ConvShape& s = a.s;
  if (is_plain_1x1(s))
    return gemm_backward_data(int64_t(s.n) * s.h * s.w, s.c_in, s.c_out, a.dy, a.w, a.dx, a.accumulate, ctx);
  if (s.x_count() == 0) return;
  conv_backward_data_kernel<<<grid_for(s.x_count(), kThreads), kThreads, 0, ctx.stream>>>(s, a.dy, a.w, a.dx,
                                                                                          a.accumulate, s.x_count());
  CUDA_CHECK_LAUNCH();
}

void conv2d_backward_filter(const Conv2dBackwardFilterArgsT<float>& a, const Ctx& ctx) {
  const ConvShape& s = a.s;
  if (is_plain_1x1(s))
    return gemm_backward_weight(int64_t(s.n) * s.h * s.w, s.c_in, s.c_out, a.x, a.dy, a.dw, a.dbias, a.accumulate,
                                ctx);
  const int64_t taps = int64_t(s.kh) * s.kw * (s.c_in / s.groups);
  SPARSE_CHECK(taps <= 65535, "conv2d_backward_filter: " << taps << " filter taps exceed the grid limit");
  if (taps > 0 && s.c_out > 0) {
    const dim3 grid(unsigned((s.c_out + 31) / 32), unsigned(taps));
    conv_backward_filter_kernel<<<grid, dim3(32, 8), 0, ctx.stream>>>(s, a.x, a.dy, a.dw, a.accumulate);
    CUDA_CHECK_LAUNCH();
  }
  if (a.dbias) column_sum(a.dy, int64_t(s.n) * s.oh * s.ow, s.c_out, a.dbias, a.accumulate, ctx);
}

}  // namespace sparse::cuda::ops
