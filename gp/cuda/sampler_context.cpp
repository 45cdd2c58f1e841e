// Per-device lanes, memory pool and device guard of the GPU Thompson sampler (see sampler_context.hpp).
#include "gp/cuda/sampler_context.hpp"

#include <cstdint>
#include <map>
#include <sstream>

#include "host/core/error.hpp"

namespace sparse::gp::cuda {

void throw_cusolver(cusolverStatus_t st, const char* expr, const char* file, int line) {
  std::ostringstream os;
  if (st == CUSOLVER_STATUS_ALLOC_FAILED) os << "cuSOLVER: device out of memory (CUSOLVER_STATUS_ALLOC_FAILED)";
  else os << "cuSOLVER error " << int(st);
  cudaGetLastError();  // clear what the failed call may have left, so no later call is blamed for it
  int device = -1;
  const bool known = cudaGetDevice(&device) == cudaSuccess;
  cudaGetLastError();
  throw DeviceError(known ? "cuda:" + std::to_string(device) : std::string(), "", os.str(), expr, file, line);
}

std::unique_lock<std::mutex> SamplerContext::acquire(int device, SamplerContext*& ctx) {
  static std::mutex registry_mu;
  static std::map<int, SamplerContext*> registry;  // never freed, see the header
  {
    const std::lock_guard<std::mutex> lock(registry_mu);
    auto it = registry.find(device);
    if (it == registry.end()) it = registry.emplace(device, new SamplerContext(device)).first;
    ctx = it->second;
  }
  return std::unique_lock<std::mutex>(ctx->mu_);
}

SamplerContext::SamplerContext(int device) : device_(device) {
  const DeviceGuard guard(device_);
  cudaMemPoolProps props{};
  props.allocType = cudaMemAllocationTypePinned;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = device_;
  CUDA_CHECK(cudaMemPoolCreate(&pool_, &props));
  // Keep freed pages for the next proposal: Σ* of 10,000 candidates is 800 MB per objective, and mapping it
  // anew each time would cost more than the sampling kernels.
  uint64_t keep = UINT64_MAX;
  CUDA_CHECK(cudaMemPoolSetAttribute(pool_, cudaMemPoolAttrReleaseThreshold, &keep));
}

Lane SamplerContext::lane(int k) {
  const DeviceGuard guard(device_);
  while (static_cast<int>(lanes_.size()) <= k) {
    Lane l;
    CUDA_CHECK(cudaStreamCreateWithFlags(&l.stream, cudaStreamNonBlocking));
    CUBLAS_CHECK(cublasCreate(&l.blas));
    CUBLAS_CHECK(cublasSetStream(l.blas, l.stream));
    CUSOLVER_CHECK(cusolverDnCreate(&l.solver));
    CUSOLVER_CHECK(cusolverDnSetStream(l.solver, l.stream));
    CUSOLVER_CHECK(cusolverDnCreateParams(&l.params));
    lanes_.push_back(l);
  }
  return lanes_[static_cast<size_t>(k)];
}

size_t SamplerContext::pool_idle_bytes() const {
  uint64_t reserved = 0, used = 0;
  CUDA_CHECK(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrReservedMemCurrent, &reserved));
  CUDA_CHECK(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrUsedMemCurrent, &used));
  return reserved > used ? static_cast<size_t>(reserved - used) : 0;
}

DeviceGuard::DeviceGuard(int device) {
  CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device) CUDA_CHECK(cudaSetDevice(device));
}

DeviceGuard::~DeviceGuard() {
  int now = -1;
  if (cudaGetDevice(&now) == cudaSuccess && now != previous_) cudaSetDevice(previous_);
}

}  // namespace sparse::gp::cuda
