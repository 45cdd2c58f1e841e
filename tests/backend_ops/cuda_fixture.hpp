// Shared by the CUDA test files of tests/backend_ops: why the CUDA cases cannot run here (no CUDA build, no usable
// device), and a fixture that skips with that reason, so a machine without a GPU reports them skipped, never passed.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "cuda/cuda_backend.hpp"
#include "cuda/device_query.hpp"
#include "host/core/error.hpp"

namespace sparse::test {

// Why the CUDA cases cannot run here, or "" when they can.
inline const std::string& cuda_skip_reason() {
  static const std::string reason = [] {
#if !defined(SPARSE_HAVE_CUDA)
    return std::string("CUDA backend not built (configured with SPARSE_CUDA=OFF or without nvcc)");
#else
    const sparse::cuda::DeviceQuery q = sparse::cuda::query_devices();
    if (q.devices.empty()) return "no usable CUDA device: " + q.unavailable_reason;
    try {
      (void)sparse::cuda::make_cuda_backend(0);
    } catch (const sparse::Error& e) {
      return std::string("CUDA device 0 unusable: ") + e.what();
    }
    return std::string();
#endif
  }();
  return reason;
}

class CudaFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_skip_reason().empty()) GTEST_SKIP() << cuda_skip_reason();
  }
};

}  // namespace sparse::test
