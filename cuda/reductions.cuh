// Device pieces of the two-pass reductions of cuda/launch_config.hpp, shared by conv_ops.cu and cuda_ops.cu.
// Invariants: every sum runs in a fixed order that depends only on the launch configuration (no atomics), so a
// result is the same run to run; every thread of the block must call these (they synchronize the block).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/launch_config.hpp"

namespace sparse::cuda {

// Rows [*begin, *end) of chunk blockIdx.y out of gridDim.y chunks of `rows` (column_partials' split).
__device__ __forceinline__ void chunk_rows(int64_t rows, int64_t* begin, int64_t* end) {
  *begin = rows * int64_t(blockIdx.y) / int64_t(gridDim.y);
  *end = rows * (int64_t(blockIdx.y) + 1) / int64_t(gridDim.y);
}

// Block (32 lanes, 8 rows) of a column reduction: the 8 row partials `acc` of column `col` summed in row order.
// The sum is returned in threadIdx.y == 0 (0 elsewhere); the block is synchronized before and after.
template <class T>
__device__ __forceinline__ T column_block_sum(T acc) {
  __shared__ T part[kColumnRows][kColumnLanes + 1];
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  T sum = T(0);
  if (threadIdx.y == 0)
    for (int j = 0; j < kColumnRows; ++j) sum += part[j][threadIdx.x];
  __syncthreads();
  return sum;
}

// Σ v over a 1-D block (blockDim.x a multiple of 32, at most 256) in a fixed order: each warp by shuffles
// (offsets 16, 8, 4, 2, 1), then the warps in index order. Valid in thread 0 (0 elsewhere).
__device__ __forceinline__ double block_sum(double v) {
  __shared__ double warp_sum[kMaxBlockThreads / kWarp];
  for (int o = kWarp / 2; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  if (threadIdx.x % kWarp == 0) warp_sum[threadIdx.x / kWarp] = v;
  __syncthreads();
  double total = 0.0;
  if (threadIdx.x == 0)
    for (int w = 0; w < int(blockDim.x) / kWarp; ++w) total += warp_sum[w];
  __syncthreads();
  return total;
}

}  // namespace sparse::cuda
