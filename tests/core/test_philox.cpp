// Philox4x32-10: Random123 known-answer vectors, stream independence, unbiased ranges, normal moments.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <set>

#include "host/core/philox.hpp"

using sparse::Philox4x32;
using sparse::philox4x32_10;

TEST(Philox, KnownAnswerVectorsOfRandom123) {
  {
    const Philox4x32 r = philox4x32_10({{0, 0, 0, 0}}, 0, 0);
    EXPECT_EQ(r.v[0], 0x6627e8d5u);
    EXPECT_EQ(r.v[1], 0xe169c58du);
    EXPECT_EQ(r.v[2], 0xbc57ac4cu);
    EXPECT_EQ(r.v[3], 0x9b00dbd8u);
  }
  {
    const Philox4x32 r = philox4x32_10({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
    EXPECT_EQ(r.v[0], 0x408f276du);
    EXPECT_EQ(r.v[1], 0x41c83b0eu);
    EXPECT_EQ(r.v[2], 0xa20bc7c6u);
    EXPECT_EQ(r.v[3], 0x6d5451fdu);
  }
  {
    const Philox4x32 r = philox4x32_10({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
    EXPECT_EQ(r.v[0], 0xd16cfe09u);
    EXPECT_EQ(r.v[1], 0x94fdccebu);
    EXPECT_EQ(r.v[2], 0x5001e420u);
    EXPECT_EQ(r.v[3], 0x24126ea1u);
  }
}

TEST(Philox, SameSeedSameStreamDifferentStreamsDiffer) {
  sparse::PhiloxStream a(42, 7), b(42, 7), c(42, 8);
  int same_c = 0;
  for (int i = 0; i < 1000; ++i) {
    const uint32_t x = a.next_u32();
    EXPECT_EQ(x, b.next_u32());
    same_c += x == c.next_u32();
  }
  EXPECT_LT(same_c, 3);
}

TEST(Philox, BelowIsUniformAndInRange) {
  sparse::PhiloxStream rng(1);
  const uint64_t n = 7;
  std::vector<int> counts(n, 0);
  const int draws = 70000;
  for (int i = 0; i < draws; ++i) {
    const uint64_t x = rng.below(n);
    ASSERT_LT(x, n);
    ++counts[x];
  }
  // Chi-square with 6 degrees of freedom: 22.46 is the 0.999 quantile.
  double chi2 = 0;
  for (int c : counts) chi2 += (c - draws / 7.0) * (c - draws / 7.0) / (draws / 7.0);
  EXPECT_LT(chi2, 22.46);
  EXPECT_LT(rng.below(uint64_t(1) << 40), uint64_t(1) << 40);
}

TEST(Philox, NormalMomentsAndUniformBounds) {
  sparse::PhiloxStream rng(3);
  double s = 0, s2 = 0, s4 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double z = rng.normal();
    s += z;
    s2 += z * z;
    s4 += z * z * z * z;
  }
  EXPECT_NEAR(s / n, 0.0, 0.01);
  EXPECT_NEAR(s2 / n, 1.0, 0.015);
  EXPECT_NEAR(s4 / n, 3.0, 0.08);
  EXPECT_GT(sparse::philox_uniform01(0), 0.0f);
  EXPECT_LE(sparse::philox_uniform01(0xffffffffu), 1.0f);
}

TEST(Philox, Normal4IsADeterministicFunctionOfSeedOffsetIndex) {
  float a[4], b[4], c[4];
  sparse::philox_normal4(5, 9, 123, a);
  sparse::philox_normal4(5, 9, 123, b);
  sparse::philox_normal4(5, 10, 123, c);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(a[i], b[i]);
    EXPECT_NE(a[i], c[i]);
    EXPECT_TRUE(std::isfinite(a[i]));
  }
}

TEST(Philox, ShuffleIsAPermutation) {
  std::vector<int> v(1000);
  std::iota(v.begin(), v.end(), 0);
  sparse::PhiloxStream rng(11);
  rng.shuffle(v.begin(), v.end());
  std::set<int> s(v.begin(), v.end());
  EXPECT_EQ(s.size(), 1000u);
  int fixed = 0;
  for (int i = 0; i < 1000; ++i) fixed += v[i] == i;
  EXPECT_LT(fixed, 10);
}
