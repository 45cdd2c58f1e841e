// Launch configuration of every CUDA kernel of cuda/ and gp/cuda/, in plain C++ (no CUDA header, built with or
// without nvcc), so that a CPU test (tests/cuda/test_launch_config.cpp) asserts the block counts at the bench shapes.
// Invariants:
//  - every kernel launch in cuda/*.cu and gp/cuda/*.cu takes its grid and block from a Launch returned here
//    (launch() in cuda/cuda_common.cuh is the only `<<<` in those files; a CPU test counts them);
//  - blocks have 32..256 threads, a multiple of 32 (every kernel is compiled with __launch_bounds__(256, 1));
//  - a grid fills an H100 (>= 4 blocks per SM) whenever the kernel's decomposition has that many blocks of work
//    at the shape: grid >= min(4·SMs, max_blocks), max_blocks = the most blocks the decomposition can use
//    (one 32-thread block per 32 items for one-thread-per-item kernels, one (32 × 8) block per 32 columns and
//    8 rows for column reductions);
//  - reductions are two-pass and deterministic: pass 1 (role partials) writes one partial per (chunk, column)
//    or per block into the workspace, pass 2 (role combine) sums them in a fixed order; a pass 1 with a single
//    chunk writes the result directly and has no pass 2. Grid sizes depend only on the shape and the SM count,
//    so a result is the same run to run on one device model.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

#include "host/core/op_list.hpp"

namespace sparse::cuda {

inline constexpr int kWarp = 32;
inline constexpr int kMaxBlockThreads = 256;  // every kernel: __launch_bounds__(kMaxBlockThreads, 1)
inline constexpr int kFillBlocksPerSm = 4;    // the fill target: 4 blocks per SM
inline constexpr int kMaxBlocksPerSm = 32;    // cap of grid-stride grids (H100: 32 resident blocks per SM at most)
inline constexpr int kColumnLanes = 32;       // column reductions: block (32 lanes over columns, 8 rows)
inline constexpr int kColumnRows = 8;
inline constexpr int kH100Sms = 132;          // the bench target (H100 SXM); tests assert fill against it

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
  uint64_t count() const { return uint64_t(x) * y * z; }
};

enum class LaunchRole {
  parallel,  // one thread per independent item (grid-stride loop)
  partials,  // pass 1 of a two-pass reduction (or the only pass, writing the result, when it has one chunk)
  combine,   // pass 2: sums pass 1's partials in a fixed order
};
const char* to_string(LaunchRole r);

struct Launch {
  const char* kernel = nullptr;  // the __global__ function's name; null: this slot is not launched
  Dim3 grid, block;
  LaunchRole role = LaunchRole::parallel;
  int64_t items = 0;       // parallel: items; partials: input rows (or terms); combine: outputs
  int64_t max_blocks = 0;  // the most blocks this decomposition can use at this shape (fill bound, see above)
  explicit operator bool() const { return kernel != nullptr; }
  unsigned threads() const { return block.x * block.y * block.z; }
};

// The kernels one op launches, in the order it launches them (unused slots have a null kernel), whether it
// also calls cuBLAS, and the workspace its kernels use: scratch_bytes in all, region r at byte scratch_at[r]
// (256-byte aligned). Slot and region meanings are per op (the enums below).
inline constexpr int kMaxLaunches = 6;
struct OpPlan {
  std::array<Launch, kMaxLaunches> k{};
  bool cublas = false;
  size_t scratch_bytes = 0;
  std::array<size_t, 4> scratch_at{};
};

// ---- building blocks ---------------------------------------------------------------------------------------

// One thread per item, grid-stride loop: block = clamp(⌊items / (4·SMs) / 32⌋·32, 32, 256), grid =
// min(⌈items / block⌉, 32·SMs): >= 4 blocks per SM when items >= 4·SMs·32, else one 32-thread block per 32 items.
Launch grid_stride(const char* kernel, int64_t items, int sms);

// Pass 1 of a column reduction of a [rows, cols] matrix: block (32, 8), grid (⌈cols/32⌉, chunks), chunk c sums
// rows [rows·c/chunks, rows·(c+1)/chunks). chunks = min(⌈4·SMs / ⌈cols/32⌉⌉, ⌈rows/8⌉, 65535), at least 1.
Launch column_partials(const char* kernel, int64_t rows, int64_t cols, int sms);
inline int64_t chunks_of(const Launch& column_pass) { return column_pass.grid.y; }

// Pass 2 of a block reduction: one block of 256 threads over `partials` values.
Launch single_block(const char* kernel, int64_t partials);

// ---- per-op plans (one per op of SPARSE_OP_LIST; what cuda/conv_ops.cu and cuda/cuda_ops.cu launch) -------

#define SPARSE_CUDA_DECLARE_PLAN(op, Args) OpPlan plan(const Args<float>& a, int sms);
SPARSE_OP_LIST(SPARSE_CUDA_DECLARE_PLAN)
#undef SPARSE_CUDA_DECLARE_PLAN

// Slots. Ops with one kernel use slot 0 (kOnly).
enum : int { kOnly = 0 };
// conv2d_forward / linear_forward: bias broadcast before a cuBLAS GEMM (plain 1×1 conv, linear); direct conv.
enum : int { kBroadcastBias = 0, kConvForward = 1 };
// conv2d_backward_filter / linear_backward_weight: filter gradient (direct conv only) and bias gradient, each a
// column reduction (partials, then combine unless one chunk). Scratch regions: 0 filter partials, 1 bias partials.
enum : int { kFilterPartials = 0, kFilterCombine = 1, kBiasPartials = 2, kBiasCombine = 3 };
// batch_norm_forward, training: Σx partials, mean, Σ(x − mean)² partials, statistics, normalization;
// evaluation: kBnEval only. Scratch regions: 0 partials (double [chunks, c]), 1 mean, 2 invstd (double [c]).
enum : int { kBnSumPartials = 0, kBnMean = 1, kBnSquarePartials = 2, kBnStatistics = 3, kBnNormalize = 4, kBnEval = 5 };
// batch_norm_backward: (Σdy, Σdy·x̂) partials, their sums, dx. Scratch regions: 0 partials (double [2, chunks,
// c]), 1 dβ and dγ (double [2, c]).
enum : int { kBnGradPartials = 0, kBnGradCombine = 1, kBnDx = 2 };
// add_backward.
enum : int { kAddDa = 0, kAddDb = 1 };
// softmax_cross_entropy: one thread per example (loss and hit to scratch), then one block sums them. Scratch
// regions: 0 per-example loss (double [n]), 1 per-example hit (double [n]).
enum : int { kSoftmaxRows = 0, kSoftmaxCombine = 1 };
// spvd_kl_forward / bc_kl_forward: per-block sums (double [blocks], scratch region 0), then one block sums them.
enum : int { kKlPartials = 0, kKlCombine = 1 };

// ---- gp/cuda ------------------------------------------------------------------------------------------------

inline constexpr int kGpTile = 16;          // kernel_matrix: 16 × 16 outputs per block
inline constexpr int kGpTriangleTile = 32;  // triangle copies: 32 × 32 tiles, 32 × 8 threads
inline constexpr int kGpTriangleRows = 8;
Launch gp_kernel_matrix(int64_t rows, int64_t cols);
Launch gp_triangle_copy(int64_t n);
Launch gp_diagonal(const char* kernel, int64_t n, int sms);

}  // namespace sparse::cuda
