// CUDA device query behind a plain C++ interface (nothing outside cuda/ includes a CUDA header).
#pragma once
#include <string>
#include <vector>

namespace sparse::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int compute_major = 0, compute_minor = 0;
  size_t total_memory_bytes = 0;
  int multiprocessors = 0;
};

struct DeviceQuery {
  bool built_with_cuda = false;  // false when the engine was built with -DSPARSE_CUDA=OFF or without nvcc
  std::string runtime_version;   // e.g. "13.0", empty when not built with CUDA
  std::string unavailable_reason;  // why no device is usable (no driver, no device), empty when devices exist
  std::vector<DeviceInfo> devices;
};

// Never throws: a machine without a GPU or driver gives an empty list and a reason.
DeviceQuery query_devices();

}  // namespace sparse::cuda
