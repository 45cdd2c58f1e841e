// make_backend(): the CPU backend, or an error naming why a CUDA device cannot be used by this build.
#include "host/nn/backend_factory.hpp"

#include "host/core/error.hpp"
#include "host/core/threads.hpp"
#include "host/cpu/cpu_backend.hpp"

namespace sparse::nn {

std::unique_ptr<Backend> make_backend(const std::string& device, int threads) {
  if (device == "cpu") return cpu::make_cpu_backend(threads > 0 ? threads : hardware_threads());
  if (device.rfind("cuda", 0) == 0)
    SPARSE_FAIL("device '" << device << "': the CUDA training backend is not part of this build yet; use --device cpu");
  SPARSE_FAIL("device '" << device << "': expected cpu or cuda:N");
}

}  // namespace sparse::nn
