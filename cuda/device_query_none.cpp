// Device query for builds without CUDA: reports that the backend was not built.
#include "cuda/device_query.hpp"

namespace sparse::cuda {

DeviceQuery query_devices() {
  DeviceQuery q;
  q.unavailable_reason = "engine built without CUDA (nvcc not found or -DSPARSE_CUDA=OFF)";
  return q;
}

}  // namespace sparse::cuda
