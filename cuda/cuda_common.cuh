// Shared by the CUDA backend's .cu files: error macros, the launch context and the per-op entry points.
// Invariants: every CUDA / cuBLAS call goes through CUDA_CHECK / CUBLAS_CHECK, which clear the thread's last CUDA
// error (so no stale error, out-of-memory included, is blamed on a later call) and throw sparse::DeviceError with
// the current device, the runtime's reason, the expression, file and line; an allocation failure's reason contains
// "out of memory". The search runner turns a DeviceError into a DeviceFailure: the trial is re-queued and the
// slot's backend rebuilt (host/search/runner.hpp). Ops only enqueue work on ctx.stream: no host synchronization,
// no allocation (scratch is grown once, outside steady-state steps, through Ctx::scratch).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "host/core/error.hpp"
#include "host/core/op_list.hpp"

namespace sparse::cuda {

// Both throw sparse::DeviceError naming the current device ("cuda:N"); the op is left to the caller (CudaBackend
// fills in the backend call).
[[noreturn]] void throw_cuda(cudaError_t err, const char* expr, const char* file, int line);
[[noreturn]] void throw_cublas(cublasStatus_t st, const char* expr, const char* file, int line);

}  // namespace sparse::cuda

#define CUDA_CHECK(expr)                                                               \
  do {                                                                                 \
    const cudaError_t sparse_cuda_err_ = (expr);                                       \
    if (sparse_cuda_err_ != cudaSuccess)                                               \
      ::sparse::cuda::throw_cuda(sparse_cuda_err_, #expr, __FILE__, __LINE__);         \
  } while (0)
#define CUBLAS_CHECK(expr)                                                             \
  do {                                                                                 \
    const cublasStatus_t sparse_cublas_st_ = (expr);                                   \
    if (sparse_cublas_st_ != CUBLAS_STATUS_SUCCESS)                                    \
      ::sparse::cuda::throw_cublas(sparse_cublas_st_, #expr, __FILE__, __LINE__);      \
  } while (0)
// After a kernel launch: launch-configuration errors (no synchronization).
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

namespace sparse::cuda {

struct Ctx {
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
};

// Grid size for `count` elements, `threads` per block, grid-stride loops inside (capped).
inline unsigned grid_for(int64_t count, int threads = 256) {
  int64_t blocks = (count + threads - 1) / threads;
  if (blocks < 1) blocks = 1;
  if (blocks > 65535 * 8) blocks = 65535 * 8;
  return unsigned(blocks);
}

// One entry point per op of SPARSE_OP_LIST: conv/linear in conv_ops.cu, the rest in cuda_ops.cu.
#define SPARSE_CUDA_DECLARE_OP(op, Args) void op(const Args<float>& a, const Ctx& ctx);
namespace ops {
SPARSE_OP_LIST(SPARSE_CUDA_DECLARE_OP)
}
#undef SPARSE_CUDA_DECLARE_OP

}  // namespace sparse::cuda
