// Shared by the CUDA backend's .cu files: error macros, the launch context and the per-op entry points.
// Invariants: every CUDA / cuBLAS call goes through CUDA_CHECK / CUBLAS_CHECK, which clear the thread's last CUDA
// error (so no stale error, out-of-memory included, is blamed on a later call) and throw sparse::DeviceError with
// the current device, the runtime's reason, the expression, file and line; an allocation failure's reason contains
// "out of memory". The search runner turns a DeviceError into a DeviceFailure: the trial is re-queued and the
// slot's backend rebuilt (host/search/runner.hpp). Ops only enqueue work on ctx.stream: no host synchronization,
// no allocation (the workspace is grown once, on first use, through Ctx::scratch); every kernel is launched through
// launch() with a plan of cuda/launch_config.hpp and compiled with __launch_bounds__(kMaxBlockThreads, 1).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "cuda/launch_config.hpp"
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

// Device scratch of the two-pass reductions (OpPlan::scratch_bytes): one per backend, grown (never shrunk) on
// first use, outside steady-state steps; the ops of the backend's one stream use it in turn (stream order).
class Workspace {
 public:
  virtual ~Workspace() = default;
  // At least `bytes` of device memory, 256-byte aligned; throws sparse::DeviceError when out of memory.
  virtual void* get(size_t bytes) = 0;
};

struct Ctx {
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  int sms = 1;                     // multiprocessors of the device (launch_config.hpp's plans)
  Workspace* workspace = nullptr;  // the backend's scratch
  // Region r of the plan's workspace (launch_config.hpp OpPlan::scratch_at), as T*.
  template <class T>
  T* scratch(const OpPlan& p, int region) const {
    char* base = static_cast<char*>(workspace->get(p.scratch_bytes));
    return reinterpret_cast<T*>(base + p.scratch_at[size_t(region)]);
  }
};

inline dim3 to_dim3(const Dim3& d) { return dim3(d.x, d.y, d.z); }

#if defined(__CUDACC__)  // gp/cuda's host .cpp files include this header for the error macros only
// The one kernel launch of cuda/ and gp/cuda/ (tests/cuda counts the `<<<` in those files): grid and block from
// a launch_config.hpp plan, no dynamic shared memory, then the launch-configuration check (no synchronization).
template <class... KArgs, class... Args>
void launch(const Launch& l, void (*kernel)(KArgs...), cudaStream_t stream, Args&&... args) {
  if (!l) return;
  kernel<<<to_dim3(l.grid), to_dim3(l.block), 0, stream>>>(std::forward<Args>(args)...);
  CUDA_CHECK_LAUNCH();
}
#endif

// Multiprocessors of the calling thread's current device (gp/cuda's launches; the backend caches its own).
int current_device_sms();

// One entry point per op of SPARSE_OP_LIST: conv/linear in conv_ops.cu, the rest in cuda_ops.cu.
#define SPARSE_CUDA_DECLARE_OP(op, Args) void op(const Args<float>& a, const Ctx& ctx);
namespace ops {
SPARSE_OP_LIST(SPARSE_CUDA_DECLARE_OP)
}
#undef SPARSE_CUDA_DECLARE_OP

}  // namespace sparse::cuda
