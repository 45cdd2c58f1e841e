// The CUDA side of tests/backend_ops: one case per op of SPARSE_OP_LIST (through the X-macro), each comparing
// the CUDA backend with the CPU reference once that backend exists. Until then every case is reported as
// skipped with the reason (no usable CUDA device, or the CUDA backend not built), never as passed.
#include <gtest/gtest.h>

#include <string>

#include "cuda/device_query.hpp"
#include "host/core/op_list.hpp"

namespace {

// Why the CUDA cases cannot run here.
std::string cuda_skip_reason() {
  const sparse::cuda::DeviceQuery q = sparse::cuda::query_devices();
  if (q.devices.empty()) return "no usable CUDA device: " + q.unavailable_reason;
  return "CUDA backend not built (" + std::to_string(q.devices.size()) + " device(s) present)";
}

#define SPARSE_CUDA_OP_TEST(op, Args) \
  TEST(BackendOpsCudaVsReference, op) { GTEST_SKIP() << cuda_skip_reason(); }
SPARSE_OP_LIST(SPARSE_CUDA_OP_TEST)
#undef SPARSE_CUDA_OP_TEST

}  // namespace
