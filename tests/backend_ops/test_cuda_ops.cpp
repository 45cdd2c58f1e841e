// The CUDA side of tests/backend_ops: every op of SPARSE_OP_LIST on the CUDA backend against the float reference,
// with exactly the cases of the CPU suite (test_ops_vs_reference.cpp is compiled here a second time, its
// backends() built by make_cuda_backend and its TESTs renamed to BackendOpsCudaVsReference on a fixture that
// skips without a usable device); whole training runs on CUDA against the CPU are in test_cuda_training.cpp.
// Without a usable device or a CUDA build, every case reports skipped with the reason, never passed.
// Tolerances are the CPU suite's, except where the CUDA backend cannot be bit-identical: ε drawn on the device
// (expf/logf/sinf/cosf a few ulp from the host libm) in bc_sample_z, and max_pool_backward's atomic scatter
// where pooling windows overlap (float addition order); there a normalized MSE of 1e-13 replaces 0.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda/cuda_backend.hpp"
#include "host/core/backend.hpp"
#include "host/core/error.hpp"
#include "tests/backend_ops/cuda_fixture.hpp"
#include "tests/backend_ops/op_harness.hpp"

namespace {
using sparse::test::cuda_skip_reason;
class CudaOpsFixture : public sparse::test::CudaFixture {};
}  // namespace

namespace sparse::test {

// Tolerance of the CPU suite, relaxed where the device cannot be bit-identical (see the file comment).
inline double cuda_tolerance(const std::string& label, double tol) {
  if (tol != 0.0) return tol;
  if (label.rfind("bc_sample_z", 0) == 0 || label.rfind("max_pool_backward", 0) == 0) return 1e-13;
  return 0.0;
}

// OpRun whose check() applies cuda_tolerance (the CPU suite's cases bind through CudaOpRun&).
class CudaOpRun : public OpRun {
 public:
  explicit CudaOpRun(std::string label) : OpRun(label), label_(std::move(label)) {}
  template <class Args>
  void check(const std::type_identity_t<std::function<Args(CudaOpRun&)>>& bind, void (*reference)(const Args&),
             void (Backend::*op)(const Args&), const std::vector<Backend*>& backends, double tol = 1e-10) {
    OpRun::check<Args>([&](OpRun& o) { return bind(static_cast<CudaOpRun&>(o)); }, reference, op, backends,
                       cuda_tolerance(label_, tol));
  }

 private:
  std::string label_;
};

}  // namespace sparse::test

// The CPU suite, re-targeted: make_cpu_backend(threads) -> two CUDA backends on device 0 (two streams), OpRun ->
// CudaOpRun, TEST(BackendOpsCpuVsReference, op) -> a CudaOpsFixture test BackendOpsCudaVsReference.op.
#define make_cpu_backend make_cuda_backend_under_test
#define OpRun CudaOpRun
#undef TEST
#define TEST(suite, name) \
  GTEST_TEST_(BackendOpsCudaVsReference, name, ::CudaOpsFixture, ::testing::internal::GetTypeId<::CudaOpsFixture>())
#include "tests/backend_ops/test_ops_vs_reference.cpp"
#undef TEST
#define TEST(test_suite_name, test_name) GTEST_TEST(test_suite_name, test_name)
#undef OpRun
#undef make_cpu_backend

namespace sparse::cpu {
std::unique_ptr<Backend> make_cuda_backend_under_test(int) { return cuda::make_cuda_backend(0); }
}  // namespace sparse::cpu

namespace {

// Runs on every machine: without a device the factory's error names the device and a reason.
TEST(CudaBackendErrors, UnusableDeviceIsNamed) {
  if (cuda_skip_reason().empty()) {
    try {
      (void)sparse::cuda::make_cuda_backend(1 << 20);
      FAIL() << "cuda:1048576 accepted";
    } catch (const sparse::Error& e) {
      EXPECT_NE(std::string(e.what()).find("cuda:1048576"), std::string::npos) << e.what();
    }
    return;
  }
  try {
    (void)sparse::cuda::make_cuda_backend(0);
    FAIL() << "make_cuda_backend(0) succeeded although " << cuda_skip_reason();
  } catch (const sparse::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:0"), std::string::npos) << e.what();
  }
}

}  // namespace
