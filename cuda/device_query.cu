// CUDA device query (cudaGetDeviceCount / cudaGetDeviceProperties) for `sparse devices` and test skips.
#include <cuda_runtime.h>

#include "cuda/device_query.hpp"

namespace sparse::cuda {

DeviceQuery query_devices() {
  DeviceQuery q;
  q.built_with_cuda = true;
  int rt = 0;
  if (cudaRuntimeGetVersion(&rt) == cudaSuccess)
    q.runtime_version = std::to_string(rt / 1000) + "." + std::to_string((rt % 1000) / 10);
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    q.unavailable_reason = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return q;
  }
  if (count == 0) q.unavailable_reason = "no CUDA device found";
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    DeviceInfo d;
    d.index = i;
    d.name = p.name;
    d.compute_major = p.major;
    d.compute_minor = p.minor;
    d.total_memory_bytes = p.totalGlobalMem;
    d.multiprocessors = p.multiProcessorCount;
    q.devices.push_back(d);
  }
  return q;
}

}  // namespace sparse::cuda
