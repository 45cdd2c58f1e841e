// CudaBackend: one non-blocking stream and one cuBLAS handle per backend, device memory from a caching arena
// (cuda/device_arena.hpp) over cudaMalloc, a workspace for the two-pass reductions, pinned staging for uploads,
// and the dispatch of every op of host/core/op_list.hpp to the kernels of conv_ops.cu and cuda_ops.cu.
// Invariants: every entry point first makes the backend's device current (the search runs backends of several
// devices from several threads); all copies and kernels are stream-ordered on the backend's one stream, so a
// buffer released to the arena and handed out again is used only by work queued after its last reader;
// download() and synchronize() are the only calls that wait for the device (upload() waits only when it runs
// more than kStagingSlots uploads ahead of the device); every CUDA / cuBLAS error throws sparse::DeviceError
// naming "cuda:N", the entry point ("alloc", "download", "conv2d_forward", ...) and the runtime's reason,
// "out of memory" in it for allocation failures; free() never throws and never calls the driver (the block goes
// back to the arena); memory goes back to the driver when the backend is destroyed or when an allocation runs out
// of memory (the arena's cache is given back, after the stream drained, and the allocation retried once). A
// failed cudaFree, or a free of a pointer the arena did not hand out, marks the backend failed and every later
// call throws a DeviceError saying so.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>

#include "cuda/cuda_backend.hpp"
#include "cuda/cuda_common.cuh"
#include "cuda/device_arena.hpp"

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

int current_device_sms() {
  int d = 0, sms = 0;
  CUDA_CHECK(cudaGetDevice(&d));
  CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, d));
  return std::max(sms, 1);
}

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

constexpr int kStagingSlots = 4;                   // pinned upload buffers used in turn
constexpr size_t kMaxStagedBytes = size_t(64) << 20;  // larger uploads copy from pageable memory

class CudaBackend final : public Backend, private DeviceMemory, private Workspace {
 public:
  explicit CudaBackend(int device) : device_(device) {
    CUDA_CHECK(cudaSetDevice(device_));
    int sms = 0;
    CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device_));
    ctx_.sms = std::max(sms, 1);
    ctx_.workspace = this;
    CUDA_CHECK(cudaStreamCreateWithFlags(&ctx_.stream, cudaStreamNonBlocking));
    try {
      CUBLAS_CHECK(cublasCreate(&ctx_.blas));
      CUBLAS_CHECK(cublasSetStream(ctx_.blas, ctx_.stream));
      // Plain FP32 (no TF32): the results must match the CPU reference to float rounding.
      CUBLAS_CHECK(cublasSetMathMode(ctx_.blas, CUBLAS_PEDANTIC_MATH));
      arena_ = std::make_unique<DeviceArena>(static_cast<DeviceMemory&>(*this));
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
      workspace_ = nullptr;
      arena_.reset();  // every block back to the driver (cudaFree)
      for (auto& slot : staging_) {
        if (slot.host) cudaFreeHost(slot.host);
        if (slot.copied) cudaEventDestroy(slot.copied);
      }
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
    guarded("alloc", [&] { p = arena_alloc(bytes); });
    return p;  // arena blocks come from cudaMalloc whole: 256-byte aligned
  }
  // Runs in destructors, also while unwinding from an earlier error: the block goes back to the arena (no driver
  // call); a pointer the arena did not hand out marks the backend failed instead of throwing.
  void free(void* p) noexcept override {
    if (!p) return;
    if (!arena_->release(p)) record_failure("free() of a pointer this backend did not hand out (a double free?)");
  }
  void upload(void* dst, const void* src, size_t bytes) override {
    if (!bytes) return;
    guarded("upload", [&] {
      if (bytes > kMaxStagedBytes) {
        // Pageable source: returns once the bytes are staged, so the caller may reuse `src`.
        CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx_.stream));
        return;
      }
      // Pinned staging slot: refilled only after its previous copy finished; the host does not wait otherwise.
      Staging& slot = staging_[next_slot_++ % kStagingSlots];
      if (slot.copied) CUDA_CHECK(cudaEventSynchronize(slot.copied));
      else CUDA_CHECK(cudaEventCreateWithFlags(&slot.copied, cudaEventDisableTiming));
      if (slot.bytes < bytes) {
        if (slot.host) CUDA_CHECK(cudaFreeHost(slot.host));
        slot.host = nullptr;
        slot.bytes = 0;
        const size_t want = std::max(bytes, size_t(1) << 16);
        CUDA_CHECK(cudaMallocHost(&slot.host, want));
        slot.bytes = want;
      }
      std::memcpy(slot.host, src, bytes);
      CUDA_CHECK(cudaMemcpyAsync(dst, slot.host, bytes, cudaMemcpyHostToDevice, ctx_.stream));
      CUDA_CHECK(cudaEventRecord(slot.copied, ctx_.stream));
    });
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
  struct Staging {
    void* host = nullptr;          // pinned
    size_t bytes = 0;
    cudaEvent_t copied = nullptr;  // recorded after the slot's last copy
  };

  // DeviceMemory (the arena's source): cudaMalloc, nullptr when out of memory; cudaFree, failures recorded.
  void* allocate(size_t bytes) override {
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, bytes);
    if (err == cudaSuccess) return p;
    cudaGetLastError();
    if (err == cudaErrorMemoryAllocation) return nullptr;
    throw_cuda(err, "cudaMalloc(&p, bytes)", __FILE__, __LINE__);
  }
  void release(void* p) noexcept override {
    // cudaFree waits for the device; quiesce() has drained the stream before cached blocks come here.
    const cudaError_t err = cudaFree(p);
    if (err == cudaSuccess) return;
    cudaGetLastError();
    record_failure("an earlier cudaFree failed", err);
  }
  void quiesce() noexcept override {
    if (cudaStreamSynchronize(ctx_.stream) != cudaSuccess) cudaGetLastError();
  }

  // Workspace: grown to the largest plan's scratch_bytes; the old block goes back to the arena (stream order).
  void* get(size_t bytes) override {
    if (bytes <= workspace_bytes_ && workspace_) return workspace_;
    const size_t want = std::max(bytes, workspace_bytes_ * 2);
    void* p = arena_alloc(want);
    arena_->release(workspace_);
    workspace_ = p;
    workspace_bytes_ = want;
    return p;
  }

  // An arena block, or a DeviceError saying the device is out of memory (after the arena's retry).
  void* arena_alloc(size_t bytes) {
    void* p = arena_->allocate(bytes);
    if (p) return p;
    const ArenaStats st = arena_->stats();
    std::ostringstream os;
    os << "device out of memory allocating " << bytes << " bytes (cudaErrorMemoryAllocation; " << st.bytes_in_use
       << " bytes in use by this backend, its cache given back and the allocation retried)";
    throw DeviceError(name(), "alloc", os.str(), "cudaMalloc", __FILE__, __LINE__);
  }

  // Called from noexcept free() / release(): the message is built inside the try, so a host allocation failure
  // loses only the message, never calls std::terminate.
  void record_failure(const char* what, cudaError_t err = cudaSuccess) noexcept {
    try {
      if (failed_.empty()) {
        failed_ = what;
        if (err != cudaSuccess) failed_ += std::string(" (") + cudaGetErrorName(err) + ": " + cudaGetErrorString(err) + ")";
      }
    } catch (...) {  // no memory for the message: the failure is still recorded below
    }
    failed_flag_ = true;
  }

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
  void* workspace_ = nullptr;  // an arena block (released with the arena)
  size_t workspace_bytes_ = 0;
  std::array<Staging, kStagingSlots> staging_{};
  uint64_t next_slot_ = 0;
  bool failed_flag_ = false;  // a cudaFree failed or free() got a foreign pointer; failed_ says how
  std::string failed_;
  // Declared last, so destroyed first: when the destructor could not make the device current it leaves the arena
  // to this member's destructor, whose release() / quiesce() calls use ctx_ and failed_, still alive then.
  std::unique_ptr<DeviceArena> arena_;
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
