// CudaBackend: device memory from cudaMalloc, one non-blocking stream and one cuBLAS handle per backend, and the
// dispatch of every op of host/core/op_list.hpp to the kernels of conv_ops.cu and cuda_ops.cu.
// Invariants: every entry point first makes the backend's device current (the search runs backends of several
// devices from several threads); all copies are stream-ordered on the backend's stream, download() waits;
// errors throw sparse::Error (CUDA_CHECK / CUBLAS_CHECK), "out of memory" in the message for allocation failures.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <sstream>
#include <string>

#include "cuda/cuda_backend.hpp"
#include "cuda/cuda_common.cuh"

namespace sparse::cuda {

void throw_cuda(cudaError_t err, const char* expr, const char* file, int line) {
  std::ostringstream os;
  if (err == cudaErrorMemoryAllocation)
    os << "CUDA device out of memory (" << cudaGetErrorName(err) << ": " << cudaGetErrorString(err) << ")";
  else
    os << "CUDA error " << cudaGetErrorName(err) << ": " << cudaGetErrorString(err);
  if (err != cudaErrorMemoryAllocation) cudaGetLastError();  // clear a non-sticky error
  throw_error(os.str(), expr, file, line);
}

namespace {
const char* cublas_status_name(cublasStatus_t st) {
  switch (st) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "CUBLAS_STATUS_UNKNOWN";
  }
}
}  // namespace

void throw_cublas(cublasStatus_t st, const char* expr, const char* file, int line) {
  std::ostringstream os;
  if (st == CUBLAS_STATUS_ALLOC_FAILED)
    os << "cuBLAS: device out of memory (" << cublas_status_name(st) << ")";
  else
    os << "cuBLAS error " << cublas_status_name(st) << " (" << int(st) << ")";
  throw_error(os.str(), expr, file, line);
}

namespace {

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {
    CUDA_CHECK(cudaSetDevice(device_));
    CUDA_CHECK(cudaStreamCreateWithFlags(&ctx_.stream, cudaStreamNonBlocking));
    try {
      CUBLAS_CHECK(cublasCreate(&ctx_.blas));
      CUBLAS_CHECK(cublasSetStream(ctx_.blas, ctx_.stream));
      // Plain FP32 (no TF32): the results must match the CPU reference to float rounding.
      CUBLAS_CHECK(cublasSetMathMode(ctx_.blas, CUBLAS_PEDANTIC_MATH));
    } catch (...) {
      if (ctx_.blas) cublasDestroy(ctx_.blas);
      cudaStreamDestroy(ctx_.stream);
      throw;
    }
  }
  ~CudaBackend() override {
    // Never throws: at process exit the runtime may already be unloading.
    if (cudaSetDevice(device_) == cudaSuccess) {
      cudaStreamSynchronize(ctx_.stream);
      if (ctx_.blas) cublasDestroy(ctx_.blas);
      cudaStreamDestroy(ctx_.stream);
    }
    cudaGetLastError();
  }
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override { return "cuda:" + std::to_string(device_); }

  void* alloc(size_t bytes) override {
    use();
    void* p = nullptr;
    const size_t rounded = (std::max<size_t>(bytes, 1) + 255) / 256 * 256;
    const cudaError_t err = cudaMalloc(&p, rounded);
    if (err != cudaSuccess) {
      cudaGetLastError();
      std::ostringstream os;
      os << name() << ": device out of memory allocating " << bytes << " bytes (" << cudaGetErrorName(err) << ": "
         << cudaGetErrorString(err) << ")";
      throw_error(os.str(), "cudaMalloc(&p, rounded)", __FILE__, __LINE__);
    }
    return p;  // cudaMalloc returns 256-byte aligned memory
  }
  void free(void* p) override {
    if (!p) return;
    use();
    CUDA_CHECK(cudaFree(p));  // implicitly synchronizes the device: pending kernels cannot use freed memory
  }
  void upload(void* dst, const void* src, size_t bytes) override {
    if (!bytes) return;
    use();
    // Pageable source: returns once the bytes are staged, so the caller may reuse `src`.
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx_.stream));
  }
  void download(void* dst, const void* src, size_t bytes) override {
    if (!bytes) return;
    use();
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx_.stream));
    CUDA_CHECK(cudaStreamSynchronize(ctx_.stream));
  }
  void copy(void* dst, const void* src, size_t bytes) override {
    if (!bytes || dst == src) return;
    use();
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx_.stream));
  }
  void zero(void* p, size_t bytes) override {
    if (!bytes) return;
    use();
    CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, ctx_.stream));
  }
  void synchronize() override {
    use();
    CUDA_CHECK(cudaStreamSynchronize(ctx_.stream));
  }

#define SPARSE_CUDA_DEFINE_OP(op, Args) \
  void op(const Args<float>& a) override { \
    use();                                 \
    ops::op(a, ctx_);                      \
  }
  SPARSE_OP_LIST(SPARSE_CUDA_DEFINE_OP)
#undef SPARSE_CUDA_DEFINE_OP

 private:
  void use() const { CUDA_CHECK(cudaSetDevice(device_)); }

  int device_;
  Ctx ctx_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    SPARSE_FAIL("device 'cuda:" << device << "': no usable CUDA device (" << cudaGetErrorName(err) << ": "
                                << cudaGetErrorString(err) << ")");
  }
  SPARSE_CHECK(device >= 0 && device < count,
               "device 'cuda:" << device << "': " << (count == 0 ? std::string("no CUDA device found")
                                                                  : "only " + std::to_string(count) +
                                                                        " CUDA device(s) (cuda:0 .. cuda:" +
                                                                        std::to_string(count - 1) + ")"));
  return std::make_unique<CudaBackend>(device);
}

}  // namespace sparse::cuda
