// Backend selection by device name: "cpu" (threads) or "cuda:N".
#pragma once
#include <memory>
#include <string>

#include "host/core/backend.hpp"

namespace sparse::nn {

// Throws sparse::Error naming the device when it is unknown or not available in this build.
std::unique_ptr<Backend> make_backend(const std::string& device, int threads);

}  // namespace sparse::nn
