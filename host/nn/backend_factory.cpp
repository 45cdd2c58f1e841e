// make_backend(): the CPU backend or the CUDA backend of device N, or an error naming the device and why it cannot
// be used (unknown name, no CUDA in this build, no usable device and the runtime's reason).
#include "host/nn/backend_factory.hpp"

#include <cstdlib>

#include "cuda/cuda_backend.hpp"
#include "cuda/device_query.hpp"
#include "host/core/error.hpp"
#include "host/core/threads.hpp"
#include "host/cpu/cpu_backend.hpp"

namespace sparse::nn {

std::unique_ptr<Backend> make_backend(const std::string& device, int threads) {
  if (device == "cpu") return cpu::make_cpu_backend(threads > 0 ? threads : hardware_threads());
  if (device.rfind("cuda", 0) == 0) {
    // "cuda:N" (N decimal digits); "cuda" alone is device 0.
    int index = 0;
    if (device != "cuda") {
      const std::string digits = device.size() > 5 && device[4] == ':' ? device.substr(5) : std::string();
      SPARSE_CHECK(!digits.empty() && digits.size() <= 6 && digits.find_first_not_of("0123456789") == std::string::npos,
                   "device '" << device << "': expected cpu or cuda:N");
      index = std::atoi(digits.c_str());
    }
    const cuda::DeviceQuery q = cuda::query_devices();
    SPARSE_CHECK(q.built_with_cuda, "device '" << device << "': " << q.unavailable_reason << "; use --device cpu");
    SPARSE_CHECK(!q.devices.empty(), "device '" << device << "': no usable CUDA device (" << q.unavailable_reason << ")");
    SPARSE_CHECK(index < int(q.devices.size()), "device '" << device << "': only " << q.devices.size()
                                                            << " CUDA device(s) (cuda:0 .. cuda:"
                                                            << q.devices.size() - 1 << ")");
    return cuda::make_cuda_backend(index);
  }
  SPARSE_FAIL("device '" << device << "': expected cpu or cuda:N");
}

}  // namespace sparse::nn
