// Weight encodings: exact byte counts from the documented layouts, round trips at every density, the gap
// padding of relative indices, the smallest-encoding choice, and corrupt encodings rejected.
#include <gtest/gtest.h>

#include "codegen/weight_encoding.hpp"
#include "host/core/error.hpp"
#include "host/core/philox.hpp"

using namespace sparse::codegen;

namespace {

std::vector<int8_t> random_sparse(int rows, int cols, double density, uint64_t seed) {
  sparse::PhiloxStream rng(seed);
  std::vector<int8_t> w(static_cast<size_t>(rows) * cols, 0);
  for (auto& v : w)
    if (rng.uniform() < density) {
      const int magnitude = 1 + static_cast<int>(rng.below(127));  // non-zero, in [-127, 127]
      v = static_cast<int8_t>(rng.below(2) ? magnitude : -magnitude);
    }
  return w;
}

}  // namespace

TEST(WeightEncoding, ByteCountsFollowTheLayouts) {
  // 2 rows x 10 cols; row 0: non-zeros at 0 and 9; row 1: at 3.
  std::vector<int8_t> w(20, 0);
  w[0] = 5, w[9] = -7, w[13] = 1;
  EXPECT_EQ(encoded_size(WeightEncoding::Dense, w.data(), 2, 10), 20);
  EXPECT_EQ(encoded_size(WeightEncoding::Bitmask, w.data(), 2, 10), 2 * 2 + 3);
  EXPECT_EQ(encoded_size(WeightEncoding::RelativeIndex, w.data(), 2, 10), 2 * 2 + 2 * 3);
  const auto rel = encode_weights(WeightEncoding::RelativeIndex, w.data(), 2, 10);
  const std::vector<uint8_t> expect = {2, 0, 0, 5, 8, static_cast<uint8_t>(-7), 1, 0, 3, 1};
  EXPECT_EQ(rel.bytes, expect);
  const auto bm = encode_weights(WeightEncoding::Bitmask, w.data(), 2, 10);
  const std::vector<uint8_t> expect_bm = {0x01, 0x02, 5, static_cast<uint8_t>(-7), 0x08, 0x00, 1};
  EXPECT_EQ(bm.bytes, expect_bm);
}

TEST(WeightEncoding, RoundTripAtEveryDensity) {
  for (double density : {0.0, 0.001, 0.02, 0.1, 0.3, 0.6, 1.0})
    for (auto [rows, cols] : {std::pair{1, 1}, {3, 7}, {20, 800}, {10, 1000}}) {
      const auto w = random_sparse(rows, cols, density, static_cast<uint64_t>(rows * 1000 + cols + density * 1e6));
      for (auto e : {WeightEncoding::Dense, WeightEncoding::Bitmask, WeightEncoding::RelativeIndex}) {
        const auto enc = encode_weights(e, w.data(), rows, cols);
        EXPECT_EQ(static_cast<int64_t>(enc.bytes.size()), encoded_size(e, w.data(), rows, cols));
        EXPECT_EQ(decode_weights(enc), w) << to_string(e) << " density " << density;
      }
    }
}

TEST(WeightEncoding, LongGapsArePadded) {
  std::vector<int8_t> w(1000, 0);
  w[0] = 1;
  w[600] = 2;  // gap of 599 columns: two padding entries (256 each) then gap 87
  w[999] = 3;  // gap of 398: one padding, then gap 142
  const auto enc = encode_weights(WeightEncoding::RelativeIndex, w.data(), 1, 1000);
  EXPECT_EQ(enc.bytes[0] | (enc.bytes[1] << 8), 6);
  EXPECT_EQ(enc.bytes.size(), 2u + 2 * 6);
  EXPECT_EQ(decode_weights(enc), w);
}

TEST(WeightEncoding, SmallestIsChosen) {
  const auto dense = random_sparse(16, 64, 1.0, 1);
  EXPECT_EQ(encode_smallest(dense.data(), 16, 64).encoding, WeightEncoding::Dense);
  const auto mid = random_sparse(16, 64, 0.3, 2);
  EXPECT_EQ(encode_smallest(mid.data(), 16, 64).encoding, WeightEncoding::Bitmask);
  const auto rare = random_sparse(16, 64, 0.02, 3);
  EXPECT_EQ(encode_smallest(rare.data(), 16, 64).encoding, WeightEncoding::RelativeIndex);
  for (const auto* w : {&dense, &mid, &rare}) {
    const auto best = encode_smallest(w->data(), 16, 64);
    for (auto e : {WeightEncoding::Dense, WeightEncoding::Bitmask, WeightEncoding::RelativeIndex})
      EXPECT_LE(static_cast<int64_t>(best.bytes.size()), encoded_size(e, w->data(), 16, 64));
  }
}

TEST(WeightEncoding, CorruptEncodingsAreRejected) {
  std::vector<int8_t> w = {1, 0, 2, 0};
  auto enc = encode_weights(WeightEncoding::RelativeIndex, w.data(), 1, 4);
  enc.bytes[4] = 9;  // second entry jumps past the row
  EXPECT_THROW(decode_weights(enc), sparse::Error);
  auto bm = encode_weights(WeightEncoding::Bitmask, w.data(), 1, 4);
  bm.bytes.pop_back();
  EXPECT_THROW(decode_weights(bm), sparse::Error);
  EXPECT_THROW(encode_weights(WeightEncoding::Dense, w.data(), 0, 4), sparse::Error);
}
