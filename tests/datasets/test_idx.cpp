// IDX loader: raw and gzip round trips, file-name variants, and every kind of bad input with its message.
#include <gtest/gtest.h>

#include "datasets/idx.hpp"
#include "tests/datasets/fixtures.hpp"

using namespace sparse;
using sparse::test::error_of;
using sparse::test::TempDir;

TEST(Idx, RoundTripRawAndGzip) {
  for (bool gz : {false, true}) {
    TempDir d;
    test::write_idx_pair(d.path(), "train", 37, 5, 7, 10, gz);
    const std::string sfx = gz ? ".gz" : "";
    const data::ImageSet s =
        data::load_idx_pair(d / ("train-images-idx3-ubyte" + sfx), d / ("train-labels-idx1-ubyte" + sfx), 10);
    ASSERT_EQ(s.size(), 37u);
    EXPECT_EQ(s.shape, (data::ImageShape{5, 7, 1}));
    for (size_t i = 0; i < 37; ++i) {
      EXPECT_EQ(s.labels[i], static_cast<int>(i % 10));
      for (size_t p = 0; p < 35; ++p) ASSERT_EQ(s.image(i)[p], test::fixture_pixel(i, p));
    }
  }
}

TEST(Idx, FourDimensionalImagesKeepChannels) {
  TempDir d;
  std::vector<uint8_t> px(2 * 3 * 3 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i);
  test::write_bytes(d / "im", data::encode_idx({2, 3, 3, 3}, px));
  test::write_bytes(d / "la", data::encode_idx({2}, {1, 0}));
  const auto s = data::load_idx_pair(d / "im", d / "la", 2);
  EXPECT_EQ(s.shape, (data::ImageShape{3, 3, 3}));
  EXPECT_EQ(s.pixels, px);
}

TEST(Idx, FindsNameVariants) {
  TempDir d;
  test::write_bytes(d / "train-images.idx3-ubyte", data::encode_idx({1}, {0}));
  EXPECT_EQ(data::find_idx_file(d.path(), "train-images-idx3-ubyte").filename(), "train-images.idx3-ubyte");
  const std::string msg = error_of([&] { data::find_idx_file(d.path(), "t10k-images-idx3-ubyte"); });
  EXPECT_NE(msg.find("no file 't10k-images-idx3-ubyte'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("t10k-images.idx3-ubyte.gz"), std::string::npos) << msg;
}

namespace {

std::string parse_error(const std::vector<uint8_t>& bytes) {
  return error_of([&] { data::parse_idx(bytes.data(), bytes.size(), "f.idx"); });
}

}  // namespace

TEST(Idx, WrongMagic) {
  const std::string msg = parse_error({0x1f, 0x00, 0x08, 0x01, 0, 0, 0, 1, 5});
  EXPECT_NE(msg.find("'f.idx': wrong magic number"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected 0x00 0x00"), std::string::npos) << msg;
}

TEST(Idx, UnsupportedType) {
  const std::string msg = parse_error({0, 0, 0x0d, 0x01, 0, 0, 0, 1, 0, 0, 0, 0});
  EXPECT_NE(msg.find("data type 0xd at byte offset 2 is not supported"), std::string::npos) << msg;
}

TEST(Idx, BadDimensionCount) {
  EXPECT_NE(parse_error({0, 0, 8, 0}).find("0 dimensions at byte offset 3, expected 1 to 4"), std::string::npos);
  EXPECT_NE(parse_error({0, 0, 8, 9}).find("9 dimensions"), std::string::npos);
}

TEST(Idx, TruncatedHeaderAndData) {
  EXPECT_NE(parse_error({0, 0}).find("truncated"), std::string::npos);
  EXPECT_NE(parse_error({0, 0, 8, 3, 0, 0, 0, 2}).find("truncated header: 8 bytes, expected 16"), std::string::npos);
  auto full = data::encode_idx({4, 2, 2}, std::vector<uint8_t>(16, 1));
  full.resize(full.size() - 5);
  const std::string msg = parse_error(full);
  EXPECT_NE(msg.find("truncated: header promises 16 data bytes (32-byte file)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ends at byte offset 27"), std::string::npos) << msg;
}

TEST(Idx, TrailingBytes) {
  auto full = data::encode_idx({2}, {1, 2});
  full.push_back(9);
  EXPECT_NE(parse_error(full).find("1 unexpected bytes after the data at byte offset 10"), std::string::npos);
}

TEST(Idx, ZeroDimension) {
  EXPECT_NE(parse_error({0, 0, 8, 1, 0, 0, 0, 0}).find("dimension 0 at byte offset 4 is 0"), std::string::npos);
}

TEST(Idx, CountMismatchNamesBothFiles) {
  TempDir d;
  test::write_bytes(d / "im", data::encode_idx({3, 2, 2}, std::vector<uint8_t>(12, 0)));
  test::write_bytes(d / "la", data::encode_idx({2}, {0, 1}));
  const std::string msg = error_of([&] { data::load_idx_pair(d / "im", d / "la", 10); });
  EXPECT_NE(msg.find("image/label count mismatch"), std::string::npos) << msg;
  EXPECT_NE(msg.find((d / "im").string() + "' holds 3 images"), std::string::npos) << msg;
  EXPECT_NE(msg.find((d / "la").string() + "' holds 2 labels"), std::string::npos) << msg;
}

TEST(Idx, LabelOutOfRangeWithOffset) {
  TempDir d;
  test::write_bytes(d / "im", data::encode_idx({3, 2, 2}, std::vector<uint8_t>(12, 0)));
  test::write_bytes(d / "la", data::encode_idx({3}, {0, 1, 12}));
  const std::string msg = error_of([&] { data::load_idx_pair(d / "im", d / "la", 10); });
  EXPECT_NE(msg.find("label 12 of item 2 at byte offset 10 is out of range, expected 0 to 9"), std::string::npos) << msg;
}

TEST(Idx, WrongRankForImagesOrLabels) {
  TempDir d;
  test::write_bytes(d / "im", data::encode_idx({3}, {0, 0, 0}));
  test::write_bytes(d / "la", data::encode_idx({3}, {0, 1, 2}));
  EXPECT_NE(error_of([&] { data::load_idx_pair(d / "im", d / "la", 10); }).find("expected 3 [N, H, W]"), std::string::npos);
  test::write_bytes(d / "im", data::encode_idx({3, 1, 1}, {0, 0, 0}));
  test::write_bytes(d / "la", data::encode_idx({3, 1}, {0, 1, 2}));
  EXPECT_NE(error_of([&] { data::load_idx_pair(d / "im", d / "la", 10); }).find("expected 1 [N]"), std::string::npos);
}

TEST(Idx, MissingFile) {
  TempDir d;
  const std::string msg = error_of([&] { data::load_idx_pair(d / "none", d / "none2", 10); });
  EXPECT_NE(msg.find("none' does not exist"), std::string::npos) << msg;
}
