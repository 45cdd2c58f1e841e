// CUDA device query: on a GPU machine every device reports a name, memory and a supported architecture;
// elsewhere the test is skipped with the reason the runtime gave.
#include <gtest/gtest.h>

#include "cuda/device_query.hpp"

TEST(CudaDevices, EveryDeviceIsDescribed) {
  const auto q = sparse::cuda::query_devices();
  if (q.devices.empty()) GTEST_SKIP() << "no usable CUDA device: " << q.unavailable_reason;
  EXPECT_TRUE(q.built_with_cuda);
  EXPECT_FALSE(q.runtime_version.empty());
  for (const auto& d : q.devices) {
    EXPECT_FALSE(d.name.empty());
    EXPECT_GE(d.compute_major, 7) << d.name;
    EXPECT_GT(d.total_memory_bytes, size_t(1) << 30) << d.name;
    EXPECT_GT(d.multiprocessors, 0) << d.name;
  }
}

TEST(CudaDevices, NoDeviceMeansAReason) {
  const auto q = sparse::cuda::query_devices();
  if (!q.devices.empty()) GTEST_SKIP() << q.devices.size() << " device(s) present";
  EXPECT_FALSE(q.unavailable_reason.empty());
}
