// BatchIterator: prefetch equals synchronous iteration, epochs are seeded permutations, normalization applied.
#include <gtest/gtest.h>

#include <set>

#include "datasets/batches.hpp"
#include "datasets/synthetic.hpp"
#include "tests/datasets/fixtures.hpp"

using namespace sparse;

namespace {

data::ImageSet small_set(size_t n) {
  data::SyntheticSpec spec;
  spec.shape = {6, 5, 2};
  spec.num_classes = 3;
  return data::generate_synthetic(spec, n, 0);
}

std::vector<std::pair<std::vector<float>, std::vector<int32_t>>> epoch(data::BatchIterator& it, uint64_t e) {
  std::vector<std::pair<std::vector<float>, std::vector<int32_t>>> out;
  it.start_epoch(e);
  data::Batch b;
  while (it.next(b)) {
    const size_t px = b.x.size() / b.y.size();
    out.emplace_back(std::vector<float>(b.x.begin(), b.x.begin() + b.size * px),
                     std::vector<int32_t>(b.y.begin(), b.y.begin() + b.size));
  }
  return out;
}

}  // namespace

TEST(Batches, PrefetchGivesTheSameSequenceAsSynchronous) {
  const auto set = small_set(103);
  const auto norm = data::Normalization::fit(set);
  data::BatchOptions o;
  o.batch_size = 10;
  o.seed = 5;
  data::BatchIterator pre(set, norm, o);
  o.prefetch = false;
  data::BatchIterator sync(set, norm, o);
  for (uint64_t e = 0; e < 3; ++e) {
    const auto a = epoch(pre, e), b = epoch(sync, e);
    ASSERT_EQ(a.size(), 11u);
    EXPECT_EQ(a, b) << "epoch " << e;
  }
}

TEST(Batches, EachImageOncePerEpochAndEpochsDiffer) {
  const auto set = small_set(50);
  const auto norm = data::Normalization::fit(set);
  data::BatchOptions o;
  o.batch_size = 8;
  data::BatchIterator it(set, norm, o);
  std::vector<float> first_x;
  for (uint64_t e = 0; e < 2; ++e) {
    std::multiset<std::vector<float>> seen;
    it.start_epoch(e);
    data::Batch b;
    size_t batches = 0;
    while (it.next(b)) {
      ++batches;
      const size_t px = set.shape.pixels();
      for (size_t k = 0; k < b.size; ++k) seen.insert(std::vector<float>(b.x.begin() + k * px, b.x.begin() + (k + 1) * px));
      if (batches == 1 && e == 0) first_x = b.x;
      if (batches == 1 && e == 1) {
        EXPECT_NE(first_x, b.x);
      }
    }
    EXPECT_EQ(batches, 7u);
    std::multiset<std::vector<float>> expected;
    std::vector<float> one(set.shape.pixels());
    for (size_t i = 0; i < set.size(); ++i) {
      norm.apply(set.image(i), set.shape.pixels(), set.shape.channels, one.data());
      expected.insert(one);
    }
    EXPECT_EQ(seen, expected);
  }
}

TEST(Batches, NoShuffleKeepsOrderAndDropLast) {
  const auto set = small_set(25);
  const auto norm = data::Normalization::fit(set);
  data::BatchOptions o;
  o.batch_size = 10;
  o.shuffle = false;
  o.drop_last = true;
  data::BatchIterator it(set, norm, o);
  EXPECT_EQ(it.batches_per_epoch(), 2u);
  const auto batches = epoch(it, 0);
  ASSERT_EQ(batches.size(), 2u);
  for (size_t k = 0; k < 10; ++k) EXPECT_EQ(batches[1].second[k], set.labels[10 + k]);
  std::vector<float> expect(set.shape.pixels());
  norm.apply(set.image(13), set.shape.pixels(), set.shape.channels, expect.data());
  EXPECT_EQ(std::vector<float>(batches[1].first.begin() + 3 * expect.size(), batches[1].first.begin() + 4 * expect.size()),
            expect);
}

TEST(Batches, StartingANewEpochMidwayIsSafe) {
  const auto set = small_set(200);
  const auto norm = data::Normalization::fit(set);
  data::BatchOptions o;
  o.batch_size = 7;
  data::BatchIterator it(set, norm, o);
  data::Batch b;
  it.start_epoch(0);
  ASSERT_TRUE(it.next(b));
  it.start_epoch(1);  // abandons epoch 0 with batches still queued
  size_t n = 0;
  while (it.next(b)) n += b.size;
  EXPECT_EQ(n, 200u);
}

TEST(Batches, BadOptions) {
  const auto set = small_set(10);
  const auto norm = data::Normalization::fit(set);
  data::BatchOptions o;
  o.batch_size = 0;
  EXPECT_NE(test::error_of([&] { data::BatchIterator it(set, norm, o); }).find("batch size 0 is out of range"),
            std::string::npos);
  data::Normalization wrong = norm;
  wrong.mean.push_back(0);
  wrong.std.push_back(1);
  o.batch_size = 4;
  EXPECT_NE(test::error_of([&] { data::BatchIterator it(set, wrong, o); }).find("normalization has 3 channels"),
            std::string::npos);
}
