// CIFAR-10 binary batches: planar-to-NHWC layout, batch discovery, truncation and bad labels.
#include <gtest/gtest.h>

#include "datasets/cifar10.hpp"
#include "tests/datasets/fixtures.hpp"

using namespace sparse;
using sparse::test::error_of;
using sparse::test::TempDir;

TEST(Cifar10, PlanarRecordsBecomeNhwc) {
  const auto b = test::cifar_batch({3, 9});
  data::ImageSet s;
  data::parse_cifar10_batch(b.data(), b.size(), "b", s);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.labels, (std::vector<int32_t>{3, 9}));
  EXPECT_EQ(s.shape, (data::ImageShape{32, 32, 3}));
  for (int r = 0; r < 2; ++r)
    for (int p : {0, 1, 500, 1023})
      for (int c = 0; c < 3; ++c) EXPECT_EQ(s.image(r)[p * 3 + c], (r * 7 + c * 50 + p) & 0xff);
}

TEST(Cifar10, LoadsFiveTrainingBatchesAndTestFromSubfolder) {
  TempDir d;
  for (int i = 1; i <= 5; ++i)
    test::write_bytes(d / "cifar-10-batches-bin" / ("data_batch_" + std::to_string(i) + ".bin"),
                      test::cifar_batch({static_cast<uint8_t>(i), 0}));
  test::write_bytes(d / "cifar-10-batches-bin" / "test_batch.bin", test::cifar_batch({7}));
  const auto train = data::load_cifar10(d.path(), true);
  const auto test_set = data::load_cifar10(d.path(), false);
  EXPECT_EQ(train.size(), 10u);
  EXPECT_EQ(train.labels[8], 5);
  EXPECT_EQ(test_set.size(), 1u);
  EXPECT_EQ(test_set.labels[0], 7);
}

TEST(Cifar10, TruncatedRecordNamesOffset) {
  auto b = test::cifar_batch({1, 2});
  b.resize(b.size() - 100);
  data::ImageSet s;
  const std::string msg = error_of([&] { data::parse_cifar10_batch(b.data(), b.size(), "x.bin", s); });
  EXPECT_NE(msg.find("'x.bin': truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find("record 1 starts at byte offset 3073 and is 100 bytes short"), std::string::npos) << msg;
}

TEST(Cifar10, LabelOutOfRange) {
  auto b = test::cifar_batch({1, 10});
  data::ImageSet s;
  const std::string msg = error_of([&] { data::parse_cifar10_batch(b.data(), b.size(), "x.bin", s); });
  EXPECT_NE(msg.find("record 1 at byte offset 3073 has label 10, expected 0 to 9"), std::string::npos) << msg;
}

TEST(Cifar10, EmptyAndMissingBatch) {
  data::ImageSet s;
  const uint8_t none = 0;
  EXPECT_NE(error_of([&] { data::parse_cifar10_batch(&none, 0, "e.bin", s); }).find("'e.bin' is empty"), std::string::npos);
  TempDir d;
  test::write_bytes(d / "test_batch.bin", test::cifar_batch({1}));
  EXPECT_NE(error_of([&] { data::load_cifar10(d.path(), true); }).find("missing batch file 'data_batch_1.bin'"),
            std::string::npos);
}
