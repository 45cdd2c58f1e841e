// GP encoding: fixed lengths per space, values in [0, 1], documented activity and imputation, log scale for counts.
#include <gtest/gtest.h>

#include <cmath>

#include "host/core/philox.hpp"
#include "host/space/encode.hpp"
#include "host/space/sample.hpp"

using namespace sparse::space;

namespace {
int numeric_index(const EncodingLayout& l, const std::string& name) {
  for (size_t i = 0; i < l.numeric_names.size(); ++i)
    if (l.numeric_names[i] == name) return static_cast<int>(i);
  return -1;
}
int categorical_index(const EncodingLayout& l, const std::string& name) {
  for (size_t i = 0; i < l.categorical_names.size(); ++i)
    if (l.categorical_names[i] == name) return static_cast<int>(i);
  return -1;
}
}  // namespace

TEST(Encode, LayoutHasFixedDocumentedLength) {
  const EncodingLayout l = encoding_layout(default_space());
  // numeric: 10 globals + 4 FC thresholds + B=2 layer counts + B*L=6 layers x 4 = 40
  EXPECT_EQ(l.numeric_names.size(), 40u);
  // categorical: 8 globals + 6 layers x 2 = 20
  EXPECT_EQ(l.categorical_names.size(), 20u);
  EXPECT_EQ(l.categorical_levels.size(), 20u);
  EXPECT_EQ(l.categorical_levels[static_cast<size_t>(categorical_index(l, "layer-type-block-2-layer-3"))], 3);
  EXPECT_EQ(l.categorical_levels[static_cast<size_t>(categorical_index(l, "batch-norm"))], 2);
  EXPECT_GE(numeric_index(l, "pruning-thresholds-block-1-layer-1"), 0);
  EXPECT_GE(numeric_index(l, "downsample-block-2-layer-3"), 0);
}

TEST(Encode, LeNetValuesAndActivity) {
  const Config c = read_config(std::string(SPARSE_SOURCE_DIR) + "/bench/networks/lenet5.json");
  const EncodingLayout l = encoding_layout(default_space());
  const Encoding e = encode(c, default_space());
  ASSERT_EQ(e.numeric.size(), l.numeric_names.size());
  auto num = [&](const std::string& n) { return e.numeric[static_cast<size_t>(numeric_index(l, n))]; };
  auto act = [&](const std::string& n) { return e.numeric_active[static_cast<size_t>(numeric_index(l, n))]; };
  // num-filters 20 on log scale over [1, 100]: log(20)/log(100)
  EXPECT_NEAR(num("num-filters-block-1-layer-1"), std::log(20.0) / std::log(100.0), 1e-12);
  // kernel 5 over [2, 5]: 1
  EXPECT_DOUBLE_EQ(num("kernel-size-block-2-layer-1"), 1.0);
  // total 400000 over [1e3, 8e5], log scale
  EXPECT_NEAR(num("total-fc-layer-weights"), std::log(400.0) / std::log(800.0), 1e-12);
  // threshold 3 over [-6, 3]: 1
  EXPECT_DOUBLE_EQ(num("pruning-thresholds-block-1-layer-1"), 1.0);
  // layer 2 of block 1 does not exist: inactive, imputed 0.5
  EXPECT_EQ(act("kernel-size-block-1-layer-2"), 0);
  EXPECT_DOUBLE_EQ(num("kernel-size-block-1-layer-2"), 0.5);
  EXPECT_EQ(act("downsample-block-1-layer-1"), 0);  // Conv2D: downsample inactive
  EXPECT_EQ(act("input-downsampling-rate"), 0);
  EXPECT_EQ(act("weight-fraction-left-branch"), 0);
  EXPECT_EQ(act("weight-fraction-main-branch"), 1);
  EXPECT_EQ(act("pruning-threshold-fc-output"), 1);
  EXPECT_EQ(act("pruning-threshold-fc-left"), 0);
  const int merge = categorical_index(l, "merge-type");
  EXPECT_EQ(e.categorical_active[static_cast<size_t>(merge)], 0);
  EXPECT_EQ(e.categorical[static_cast<size_t>(merge)], 0);
  EXPECT_EQ(e.categorical[static_cast<size_t>(categorical_index(l, "pretraining"))], 1);
}

TEST(Encode, RandomConfigsInUnitCubeAndInactiveValuesIgnored) {
  sparse::PhiloxStream rng(77);
  Encoding reuse;
  for (int i = 0; i < 2000; ++i) {
    Config c = sample_config(default_space(), rng);
    const Encoding e = encode(c, default_space());
    for (size_t k = 0; k < e.numeric.size(); ++k) {
      ASSERT_GE(e.numeric[k], 0.0);
      ASSERT_LE(e.numeric[k], 1.0);
      if (!e.numeric_active[k]) {
        ASSERT_EQ(e.numeric[k], kImputedNumeric);
      }
    }
    for (size_t k = 0; k < e.categorical.size(); ++k)
      if (!e.categorical_active[k]) {
        ASSERT_EQ(e.categorical[k], kImputedCategorical);
      }
    encode_into(c, default_space(), reuse);
    ASSERT_EQ(reuse.numeric, e.numeric);
    ASSERT_EQ(reuse.categorical_active, e.categorical_active);
    // Changing an inactive value leaves the encoding unchanged.
    if (!c.left_branch) {
      c.weight_fraction_left_branch = 0.7;
      ASSERT_EQ(encode(c, default_space()).numeric, e.numeric);
    }
  }
}
