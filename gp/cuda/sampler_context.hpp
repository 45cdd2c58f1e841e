// Per-device resources of the GPU Thompson sampler: one lane (stream, cuBLAS and cuSOLVER handles) per objective
// of a batch, a memory pool that keeps its pages between proposals, RAII device arrays, CUSOLVER_CHECK.
// Invariants: a context is created once per device and process (handles are costly to create) and kept for the
// process's life (never destroyed: destroying handles during static destruction races the CUDA runtime's own
// teardown); it is used by one caller at a time (SamplerContext::acquire holds its mutex); device arrays are stream-ordered allocations from
// the context's pool, freed on the stream they were allocated on; every error throws sparse::DeviceError and is
// cleared from the thread's last CUDA error, and an allocation failure's message contains "out of memory"
// (CUDA_CHECK / CUBLAS_CHECK of cuda/cuda_common.cuh); a failed free is cleared too, never left to a later call.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "cuda/cuda_common.cuh"

namespace sparse::gp::cuda {

[[noreturn]] void throw_cusolver(cusolverStatus_t st, const char* expr, const char* file, int line);

}  // namespace sparse::gp::cuda

#define CUSOLVER_CHECK(expr)                                                           \
  do {                                                                                 \
    const cusolverStatus_t sparse_cusolver_st_ = (expr);                               \
    if (sparse_cusolver_st_ != CUSOLVER_STATUS_SUCCESS)                                \
      ::sparse::gp::cuda::throw_cusolver(sparse_cusolver_st_, #expr, __FILE__, __LINE__); \
  } while (0)

namespace sparse::gp::cuda {

struct Lane {  // the resources of one objective of a batch
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  cusolverDnHandle_t solver = nullptr;
  cusolverDnParams_t params = nullptr;
};

class SamplerContext {
 public:
  // The context of `device` (created on first use), with its mutex held until the returned lock is released.
  static std::unique_lock<std::mutex> acquire(int device, SamplerContext*& ctx);

  SamplerContext(const SamplerContext&) = delete;
  SamplerContext& operator=(const SamplerContext&) = delete;

  int device() const { return device_; }
  cudaMemPool_t pool() const { return pool_; }
  // Lane k (lanes up to k are created when first asked for).
  Lane lane(int k);
  // Bytes the pool holds but no array uses (reusable without a new device allocation).
  size_t pool_idle_bytes() const;

 private:
  explicit SamplerContext(int device);
  int device_;
  cudaMemPool_t pool_ = nullptr;
  std::vector<Lane> lanes_;
  std::mutex mu_;
};

// Makes `device` current for the guard's lifetime and restores the caller's device afterwards.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// Move-only device array of `count` T from the context's pool, allocated and freed in order on `stream`.
template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  DeviceArray(const SamplerContext& ctx, size_t count, cudaStream_t stream) : count_(count), stream_(stream) {
    if (count_ > 0)
      CUDA_CHECK(cudaMallocFromPoolAsync(reinterpret_cast<void**>(&p_), count_ * sizeof(T), ctx.pool(), stream_));
  }
  ~DeviceArray() {
    // No throw from a destructor; a failure is cleared so that no later call on this thread is blamed for it.
    if (p_ && cudaFreeAsync(p_, stream_) != cudaSuccess) cudaGetLastError();
  }
  DeviceArray(DeviceArray&& o) noexcept : p_(o.p_), count_(o.count_), stream_(o.stream_) { o.p_ = nullptr; }
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) {
      if (p_ && cudaFreeAsync(p_, stream_) != cudaSuccess) cudaGetLastError();
      p_ = o.p_;
      count_ = o.count_;
      stream_ = o.stream_;
      o.p_ = nullptr;
    }
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* get() const { return p_; }
  size_t size() const { return count_; }

 private:
  T* p_ = nullptr;
  size_t count_ = 0;
  cudaStream_t stream_ = nullptr;
};

}  // namespace sparse::gp::cuda
