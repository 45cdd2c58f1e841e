// Synthetic dataset: determinism, balance, shapes, and learnability (nearest centroid beats chance).
#include <gtest/gtest.h>

#include <cmath>

#include "datasets/preset.hpp"
#include "datasets/synthetic.hpp"
#include "tests/datasets/fixtures.hpp"

using namespace sparse;

TEST(Synthetic, DeterministicAndBalanced) {
  data::SyntheticSpec spec;
  spec.num_classes = 7;
  spec.shape = {12, 10, 3};
  const auto a = data::generate_synthetic(spec, 70, 0), b = data::generate_synthetic(spec, 70, 0);
  const auto c = data::generate_synthetic(spec, 70, 1);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_NE(a.pixels, c.pixels);
  EXPECT_EQ(a.pixels.size(), 70u * 12 * 10 * 3);
  EXPECT_EQ(a.class_counts(), std::vector<size_t>(7, 10));
}

TEST(Synthetic, LearnableByNearestCentroid) {
  data::SyntheticSpec spec;
  spec.num_classes = 10;
  const auto train = data::generate_synthetic(spec, 2000, 0);
  const auto test = data::generate_synthetic(spec, 500, 1);
  const size_t px = spec.shape.pixels();
  std::vector<double> centroid(10 * px, 0.0);
  for (size_t i = 0; i < train.size(); ++i)
    for (size_t p = 0; p < px; ++p) centroid[train.labels[i] * px + p] += train.image(i)[p] / 200.0;
  size_t correct = 0;
  for (size_t i = 0; i < test.size(); ++i) {
    int best = -1;
    double best_d = 1e300;
    for (int k = 0; k < 10; ++k) {
      double dist = 0;
      for (size_t p = 0; p < px; ++p) {
        const double e = test.image(i)[p] - centroid[k * px + p];
        dist += e * e;
      }
      if (dist < best_d) best_d = dist, best = k;
    }
    correct += best == test.labels[i];
  }
  // Chance is 10%; a centroid classifier on these glyphs gets far above it (a CNN does better still).
  EXPECT_GT(static_cast<double>(correct) / test.size(), 0.5);
}

TEST(Synthetic, PresetSizesAndBadSpecs) {
  data::DatasetOptions o;
  o.name = "synthetic";
  o.synthetic_train = 300;
  o.synthetic_test = 50;
  o.synthetic_classes = 4;
  const auto ds = data::load_dataset(o);
  EXPECT_EQ(ds.train.size(), 300u);
  EXPECT_EQ(ds.val.size(), 30u);
  EXPECT_EQ(ds.test.size(), 50u);
  EXPECT_EQ(ds.train.num_classes, 4);
  data::SyntheticSpec bad;
  bad.num_classes = 1;
  EXPECT_NE(test::error_of([&] { data::generate_synthetic(bad, 5, 0); }).find("classes = 1, expected 2 to 1000"),
            std::string::npos);
  bad = {};
  bad.shape = {2, 28, 1};
  EXPECT_NE(test::error_of([&] { data::generate_synthetic(bad, 5, 0); }).find("image size 2x28"), std::string::npos);
}
