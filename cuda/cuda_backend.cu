// CudaBackend: device memory from cudaMalloc, one non-blocking stream and one cuBLAS handle per backend, and the
// dispatch of every op of host/core/op_list.hpp to the kernels of conv_ops.cu and cuda_ops.cu.
// Invariants: every entry point first makes the backend's device current (the search runs backends of several
// devices from several threads); all copies are stream-ordered on the backend's stream, download() waits;
// every CUDA / cuBLAS error throws sparse::DeviceError naming "cuda:N", the entry point ("alloc", "download",
// "conv2d_forward", ...) and the runtime's reason, "out of memory" in it for allocation failures; free() never
// throws: a failed cudaFree marks the backend failed and every later call throws a DeviceError saying so.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <sstream>
#include <string>

#include "cuda/cuda_backend.hpp"
#include "cuda/cuda_common.cuh"

namespace sparse::cuda {

namespace {
// "cuda:N" of the calling thread's current device, "" when even that fails.
std::string current_device() {
  int d = -1;
  if (cudaGetDevice(&d) != cudaSuccess) {
    cudaGetLastError();
    return "";
  }
  return "cuda:" + std::to_string(d);
}
}  // namespace

void throw_cuda(cudaError_t err, const char* expr, const char* file, int line) {
  cudaGetLastError();  // clear it, out-of-memory included: a stale error must not be blamed on a later call
  std::ostringstream os;
  if (err == cudaErrorMemoryAllocation)
    os << "CUDA device out of memory (" << cudaGetErrorName(err) << ": " << cudaGetErrorString(err) << ")";
  else
    os << "CUDA error " << cudaGetErrorName(err) << ": " << cudaGetErrorString(err);
  throw DeviceError(current_device(), "", os.str(), expr, file, line);
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
  cudaGetLastError();  // a failed cuBLAS call may leave a CUDA error behind
  throw DeviceError(current_device(), "", os.str(), expr, file, line);
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
    void* p = nullptr;
    guarded("alloc", [&] {
      const size_t rounded = (std::max<size_t>(bytes, 1) + 255) / 256 * 256;
      const cudaError_t err = cudaMalloc(&p, rounded);
      if (err != cudaSuccess) {
        cudaGetLastError();
        std::ostringstream os;
        os << "device out of memory allocating " << bytes << " bytes (" << cudaGetErrorName(err) << ": "
           << cudaGetErrorString(err) << ")";
        throw DeviceError(name(), "alloc", os.str(), "cudaMalloc(&p, rounded)", __FILE__, __LINE__);
      }
    });
    return p;  // cudaMalloc returns 256-byte aligned memory
  }
  // Runs in destructors, also while unwinding from an earlier error: records a failure instead of throwing.
  void free(void* p) noexcept override {
    if (!p) return;
    cudaError_t err = cudaSetDevice(device_);
    // cudaFree implicitly synchronizes the device: pending kernels cannot use freed memory.
    if (err == cudaSuccess) err = cudaFree(p);
    if (err == cudaSuccess) return;
    cudaGetLastError();
    try {
      if (failed_.empty())
        failed_ = std::string("an earlier cudaFree failed (") + cudaGetErrorName(err) + ": " +
                  cudaGetErrorString(err) + ")";
    } catch (...) {  // no memory for the message: the failure is still recorded below
    }
    failed_flag_ = true;
  }
  void upload(void* dst, const void* src, size_t bytes) override {
    if (!bytes) return;
    // Pageable source: returns once the bytes are staged, so the caller may reuse `src`.
    guarded("upload", [&] { CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx_.stream)); });
  }
  void download(void* dst, const void* src, size_t bytes) override {
    if (!bytes) return;
    guarded("download", [&] {
      CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx_.stream));
      CUDA_CHECK(cudaStreamSynchronize(ctx_.stream));
    });
  }
  void copy(void* dst, const void* src, size_t bytes) override {
    if (!bytes || dst == src) return;
    guarded("copy", [&] { CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx_.stream)); });
  }
  void zero(void* p, size_t bytes) override {
    if (!bytes) return;
    guarded("zero", [&] { CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, ctx_.stream)); });
  }
  void synchronize() override {
    guarded("synchronize", [&] { CUDA_CHECK(cudaStreamSynchronize(ctx_.stream)); });
  }

#define SPARSE_CUDA_DEFINE_OP(op, Args) \
  void op(const Args<float>& a) override { guarded(#op, [&] { ops::op(a, ctx_); }); }
  SPARSE_OP_LIST(SPARSE_CUDA_DEFINE_OP)
#undef SPARSE_CUDA_DEFINE_OP

 private:
  // Runs `f` on this backend's device; a DeviceError from it is thrown again with this backend's name and `op`.
  // A non-sticky error another caller left on this thread is cleared first, so it is not blamed on `op`; a sticky
  // one (the context is lost) is reported by `f`'s first CUDA call. A backend whose free failed throws at every call.
  template <class F>
  void guarded(const char* op, F&& f) {
    if (failed_flag_)
      throw DeviceError(name(), op, failed_.empty() ? std::string("an earlier cudaFree failed") : failed_);
    try {
      cudaGetLastError();
      CUDA_CHECK(cudaSetDevice(device_));
      f();
    } catch (const DeviceError& e) {
      throw DeviceError(name(), op, e.reason(), e.expression().c_str(), e.file().c_str(), e.line());
    }
  }

  int device_;
  Ctx ctx_;
  bool failed_flag_ = false;  // a cudaFree failed; failed_ says how
  std::string failed_;
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
