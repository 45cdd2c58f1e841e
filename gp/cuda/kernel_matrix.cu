// Device kernels of the GPU Thompson sampler: covariance tiles of gp/kernel.hpp's mixed-variable kernel and
// the triangle copies of the jittered Cholesky (see kernel_matrix.cuh for the contracts).
// Invariant: double precision throughout, as the CPU path (gp/kernel.cpp, gp/cholesky.cpp).
#include "gp/cuda/kernel_matrix.cuh"

#include "cuda/cuda_common.cuh"
#include "host/core/error.hpp"

namespace sparse::gp::cuda {
namespace {

using ::sparse::cuda::kMaxBlockThreads;
constexpr double kSqrt5 = 2.23606797749978969640;
// Grids and blocks: cuda/launch_config.hpp (gp_kernel_matrix, gp_triangle_copy, gp_diagonal).
constexpr int kTile = ::sparse::cuda::kGpTile;            // kernel_matrix: 16 × 16 outputs per block, 16 dims staged
constexpr int kTTile = ::sparse::cuda::kGpTriangleTile;   // triangle copies: 32 × 32 tiles through shared memory,
constexpr int kTRows = ::sparse::cuda::kGpTriangleRows;   // 32 × 8 threads

// Thread (tx, ty) of block (bx, by) computes out(i0 + tx, j0 + ty); each stage loads 16 dimensions of the
// block's 16 a-points and 16 b-points (scaled by 1/ℓ_d) into shared memory.
__global__ void __launch_bounds__(kMaxBlockThreads, 1) kernel_matrix_tiles(DevicePoints a, DevicePoints b, DeviceHyper h, double* out, size_t ld,
                                    bool lower_only) {
  const int i0 = blockIdx.x * kTile, j0 = blockIdx.y * kTile;
  if (lower_only && j0 > i0 + kTile - 1) return;  // the whole tile lies above the diagonal (block-uniform)
  __shared__ double sa[kTile][kTile + 1], sb[kTile][kTile + 1], sl[kTile];
  __shared__ int ia[kTile][kTile + 1], ib[kTile][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int pa = i0 + ty, pb = j0 + ty;  // the points this thread stages
  double r2 = 0.0, cat = 0.0;
  int act = 0;
  for (int d0 = 0; d0 < h.dn; d0 += kTile) {  // numeric: r² and activity mismatches
    const int d = d0 + tx;
    const bool dv = d < h.dn;
    const double il = dv ? h.inv_l[d] : 0.0;
    const bool av = dv && pa < a.size, bv = dv && pb < b.size;
    sa[ty][tx] = av ? a.numeric[size_t(pa) * h.dn + d] * il : 0.0;
    sb[ty][tx] = bv ? b.numeric[size_t(pb) * h.dn + d] * il : 0.0;
    ia[ty][tx] = av ? a.active[size_t(pa) * h.dn + d] : 0;
    ib[ty][tx] = bv ? b.active[size_t(pb) * h.dn + d] : 0;
    __syncthreads();
    const int len = min(kTile, h.dn - d0);
    for (int e = 0; e < len; ++e) {
      const double diff = sa[tx][e] - sb[ty][e];
      r2 += diff * diff;
      act += ia[tx][e] != ib[ty][e];
    }
    __syncthreads();
  }
  for (int d0 = 0; d0 < h.dc; d0 += kTile) {  // categorical mismatches, weighted by 1/ℓ_d
    const int d = d0 + tx;
    const bool dv = d < h.dc;
    ia[ty][tx] = dv && pa < a.size ? a.categorical[size_t(pa) * h.dc + d] : 0;
    ib[ty][tx] = dv && pb < b.size ? b.categorical[size_t(pb) * h.dc + d] : 0;
    if (ty == 0) sl[tx] = dv ? h.inv_lc[d] : 0.0;
    __syncthreads();
    const int len = min(kTile, h.dc - d0);
    for (int e = 0; e < len; ++e)
      if (ia[tx][e] != ib[ty][e]) cat += sl[e];
    __syncthreads();
  }
  const int i = i0 + tx, j = j0 + ty;
  if (i < a.size && j < b.size) {
    const double r = sqrt(r2);
    const double ex = h.sf2 * exp(-kSqrt5 * r - (cat + act * h.inv_lact));
    out[i + size_t(j) * ld] = (1.0 + kSqrt5 * r + (5.0 / 3.0) * r2) * ex;
  }
}

// Tile pair (bi ≥ bj). to_upper: the lower tile (rows bi, cols bj) is copied transposed into the upper tile
// (rows bj, cols bi), strictly above the diagonal. Otherwise the reverse, strictly below, and the diagonal of
// the tile set to diag + jitter.
__global__ void __launch_bounds__(kMaxBlockThreads, 1) triangle_copy(double* a, size_t ld, int n, bool to_upper, const double* diag, double jitter) {
  const int bi = blockIdx.x, bj = blockIdx.y;
  if (bj > bi) return;
  __shared__ double t[kTTile][kTTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int src_r0 = (to_upper ? bi : bj) * kTTile, src_c0 = (to_upper ? bj : bi) * kTTile;
  for (int k = ty; k < kTTile; k += kTRows) {
    const int r = src_r0 + tx, c = src_c0 + k;
    if (r < n && c < n) t[k][tx] = a[r + size_t(c) * ld];
  }
  __syncthreads();
  const int dst_r0 = src_c0, dst_c0 = src_r0;
  for (int k = ty; k < kTTile; k += kTRows) {
    const int r = dst_r0 + tx, c = dst_c0 + k;
    if (r >= n || c >= n) continue;
    if (to_upper ? r < c : r > c) a[r + size_t(c) * ld] = t[tx][k];
    else if (!to_upper && r == c) a[r + size_t(c) * ld] = diag[r] + jitter;
  }
}

__global__ void __launch_bounds__(kMaxBlockThreads, 1) diagonal_add(double* a, size_t ld, int n, double value) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) a[i + size_t(i) * ld] += value;
}

__global__ void __launch_bounds__(kMaxBlockThreads, 1) diagonal_copy(const double* a, size_t ld, int n, double* d) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) d[i] = a[i + size_t(i) * ld];
}

}  // namespace

void kernel_matrix(DevicePoints a, DevicePoints b, DeviceHyper h, double* out, size_t ld, bool lower_only,
                   cudaStream_t stream) {
  if (a.size == 0 || b.size == 0) return;
  SPARSE_CHECK(ld >= size_t(a.size), "kernel matrix leading dimension " << ld << " < rows " << a.size);
  const ::sparse::cuda::Launch l = ::sparse::cuda::gp_kernel_matrix(a.size, b.size);
  SPARSE_CHECK(l.grid.y <= 65535u, "kernel matrix has " << b.size << " columns, at most " << 65535 * kTile << " supported");
  ::sparse::cuda::launch(l, kernel_matrix_tiles, stream, a, b, h, out, ld, lower_only);
}

void add_to_diagonal(double* a, size_t ld, int n, double value, cudaStream_t stream) {
  if (n == 0) return;
  ::sparse::cuda::launch(::sparse::cuda::gp_diagonal("diagonal_add", n, ::sparse::cuda::current_device_sms()),
                         diagonal_add, stream, a, ld, n, value);
}

void mirror_lower_to_upper(double* a, size_t ld, int n, cudaStream_t stream) {
  if (n == 0) return;
  ::sparse::cuda::launch(::sparse::cuda::gp_triangle_copy(n), triangle_copy, stream, a, ld, n, true,
                         static_cast<const double*>(nullptr), 0.0);
}

void restore_lower_from_upper(double* a, size_t ld, int n, const double* diag, double jitter, cudaStream_t stream) {
  if (n == 0) return;
  ::sparse::cuda::launch(::sparse::cuda::gp_triangle_copy(n), triangle_copy, stream, a, ld, n, false, diag, jitter);
}

void copy_diagonal(const double* a, size_t ld, int n, double* d, cudaStream_t stream) {
  if (n == 0) return;
  ::sparse::cuda::launch(::sparse::cuda::gp_diagonal("diagonal_copy", n, ::sparse::cuda::current_device_sms()),
                         diagonal_copy, stream, a, ld, n, d);
}

}  // namespace sparse::gp::cuda
