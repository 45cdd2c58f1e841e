// Presets: split sizes and determinism, binary relabelling, normalization statistics, folder layouts.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "datasets/preset.hpp"
#include "host/core/file_io.hpp"
#include "tests/datasets/fixtures.hpp"

using namespace sparse;
using sparse::test::error_of;
using sparse::test::TempDir;

namespace {

data::Dataset load(const std::string& name, const std::filesystem::path& dir, uint64_t seed = 0) {
  data::DatasetOptions o;
  o.name = name;
  o.data_dir = dir;
  o.split_seed = seed;
  return data::load_dataset(o);
}

// Multiset of (first pixel bytes, label) signatures, to compare splits as sets of images.
std::multiset<std::string> signatures(const data::ImageSet& s) {
  std::multiset<std::string> out;
  for (size_t i = 0; i < s.size(); ++i)
    out.insert(std::string(reinterpret_cast<const char*>(s.image(i)), 16) + char('0' + s.labels[i]));
  return out;
}

}  // namespace

TEST(Presets, MnistSplitKeepsThePapersValidationFraction) {
  TempDir d;
  test::write_mnist_like(d.path(), 120, 20, true);
  const auto ds = load("mnist", d.path());
  EXPECT_EQ(ds.val.size(), 10u);  // 120 * 5000 / 60000
  EXPECT_EQ(ds.train.size(), 110u);
  EXPECT_EQ(ds.test.size(), 20u);
  EXPECT_EQ(ds.train.num_classes, 10);
  // Train and validation partition the training file.
  auto all = signatures(ds.train);
  for (const auto& s : signatures(ds.val)) all.insert(s);
  data::ImageSet file = data::load_idx_pair(d / "train-images-idx3-ubyte.gz", d / "train-labels-idx1-ubyte.gz", 10);
  EXPECT_EQ(all, signatures(file));
}

TEST(Presets, ValidationSplitIsSeeded) {
  TempDir d;
  test::write_mnist_like(d.path(), 200, 10, false);
  const auto a = load("mnist", d.path(), 1), b = load("mnist", d.path(), 1), c = load("mnist", d.path(), 2);
  EXPECT_EQ(a.val.pixels, b.val.pixels);
  EXPECT_EQ(a.val.labels, b.val.labels);
  EXPECT_NE(a.val.pixels, c.val.pixels);
}

TEST(Presets, BinaryVariantsRelabel) {
  TempDir d;
  test::write_mnist_like(d.path(), 60, 20, false);
  const auto ds = load("mnist-binary", d.path());
  EXPECT_EQ(ds.test.num_classes, 2);
  for (size_t i = 0; i < ds.test.size(); ++i) EXPECT_EQ(ds.test.labels[i], static_cast<int>(i % 10) % 2);
  EXPECT_EQ(ds.test.class_counts(), (std::vector<size_t>{10, 10}));

  TempDir c;
  for (int i = 1; i <= 5; ++i)
    test::write_bytes(c / ("data_batch_" + std::to_string(i) + ".bin"), test::cifar_batch({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  test::write_bytes(c / "test_batch.bin", test::cifar_batch({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  const auto cf = load("cifar10-binary", c.path());
  EXPECT_EQ(cf.test.labels, (std::vector<int32_t>{1, 1, 0, 0, 0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(cf.train.size() + cf.val.size(), 50u);
  EXPECT_EQ(cf.val.size(), 5u);  // 50 * 5000 / 50000
}

TEST(Presets, NormalizationMatchesHandComputedStatistics) {
  TempDir d;
  test::write_mnist_like(d.path(), 48, 12, false);
  const auto ds = load("mnist", d.path());
  double s = 0, s2 = 0;
  for (uint8_t p : ds.train.pixels) {
    s += p / 255.0;
    s2 += (p / 255.0) * (p / 255.0);
  }
  const double n = static_cast<double>(ds.train.pixels.size());
  const double mean = s / n, sd = std::sqrt(s2 / n - mean * mean);
  ASSERT_EQ(ds.norm.mean.size(), 1u);
  EXPECT_NEAR(ds.norm.mean[0], mean, 1e-12);
  EXPECT_NEAR(ds.norm.std[0], sd, 1e-9);
  std::vector<float> out(4);
  const uint8_t px[4] = {0, 50, 128, 255};
  ds.norm.apply(px, 4, 1, out.data());
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(out[i], (px[i] / 255.0 - mean) / sd, 1e-5);
}

TEST(Presets, PerChannelNormalization) {
  data::ImageSet s;
  s.shape = {1, 2, 3};
  s.num_classes = 1;
  s.labels = {0, 0};
  s.pixels = {0, 10, 255, 0, 30, 255, 255, 10, 255, 255, 30, 255};
  const auto z = data::Normalization::fit(s);
  EXPECT_NEAR(z.mean[0], 0.5, 1e-12);
  EXPECT_NEAR(z.std[0], 0.5, 1e-12);
  EXPECT_NEAR(z.mean[1], 20 / 255.0, 1e-12);
  EXPECT_NEAR(z.std[1], 10 / 255.0, 1e-12);
  EXPECT_EQ(z.std[2], 1.0);  // constant channel
}

TEST(Presets, FolderPresetWithTrainAndTestSubfolders) {
  TempDir d;
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 10; ++i) {
      test::write_pnm(d / "train" / ("class" + std::to_string(k)) / (std::to_string(i) + ".pgm"), 6, 6,
                      {static_cast<uint8_t>(k * 80 + i)});
      if (i < 4)
        test::write_pnm(d / "test" / ("class" + std::to_string(k)) / (std::to_string(i) + ".pgm"), 6, 6,
                        {static_cast<uint8_t>(k * 80)});
    }
  data::DatasetOptions o;
  o.name = "folder";
  o.data_dir = d.path();
  o.image_shape = data::ImageShape{8, 8, 1};
  const auto ds = data::load_dataset(o);
  EXPECT_EQ(ds.test.size(), 12u);
  EXPECT_EQ(ds.train.size() + ds.val.size(), 30u);
  EXPECT_EQ(ds.val.size(), 4u);  // the preset's 1000 / (7000 + 1000) of the training folder, rounded
  EXPECT_EQ(ds.train.shape, (data::ImageShape{8, 8, 1}));
  EXPECT_EQ(ds.class_names, (std::vector<std::string>{"class0", "class1", "class2"}));
}

TEST(Presets, SingleFolderIsSplitWithThePresetsFractions) {
  TempDir d;
  for (int k = 0; k < 62; ++k)
    for (int i = 0; i < 5; ++i)
      test::write_pnm(d / ("Sample" + std::to_string(1000 + k)) / (std::to_string(i) + ".pgm"), 4, 4,
                      {static_cast<uint8_t>(k)});
  const auto ds = load("chars4k-binary", d.path());
  const size_t total = 62 * 5;
  EXPECT_EQ(ds.train.size() + ds.val.size() + ds.test.size(), total);
  EXPECT_EQ(ds.test.size(), static_cast<size_t>(std::llround(total * 1886.0 / 6283.0)));
  EXPECT_EQ(ds.val.size(), static_cast<size_t>(std::llround(total * 500.0 / 6283.0)));
  EXPECT_EQ(ds.train.shape, (data::ImageShape{32, 32, 1}));
  // Digits (first 10 class folders) are group 0: pixel value k < 10.
  for (const auto* s : {&ds.train, &ds.val, &ds.test})
    for (size_t i = 0; i < s->size(); ++i) EXPECT_EQ(s->labels[i], s->image(i)[0] < 10 ? 0 : 1);
}

TEST(Presets, WrongClassCountForPreset) {
  TempDir d;
  test::write_pnm(d / "a" / "0.pgm", 4, 4, {1});
  test::write_pnm(d / "b" / "0.pgm", 4, 4, {2});
  const std::string msg = error_of([&] { load("curet", d.path()); });
  EXPECT_NE(msg.find("has 2 class folders, expected 61"), std::string::npos) << msg;
}

TEST(Presets, MissingFilesAndFolders) {
  TempDir d;
  EXPECT_NE(error_of([&] { load("mnist", d / "nowhere"); }).find("folder '" + (d / "nowhere").string() + "' does not exist"),
            std::string::npos);
  EXPECT_NE(error_of([&] { load("mnist", d.path()); }).find("no file 'train-images-idx3-ubyte'"), std::string::npos);
  EXPECT_NE(error_of([&] { load("mnistt", d.path()); }).find("unknown dataset 'mnistt', expected one of: mnist"),
            std::string::npos);
  data::DatasetOptions o;
  o.name = "folder";
  EXPECT_NE(error_of([&] { data::load_dataset(o); }).find("has no default folder: pass --data-dir"), std::string::npos);
}

TEST(Presets, TruncatedTestFileThroughThePreset) {
  TempDir d;
  test::write_mnist_like(d.path(), 24, 10, false);
  auto bytes = sparse::read_file_bytes(d / "t10k-images-idx3-ubyte");
  bytes.resize(bytes.size() - 1);
  test::write_bytes(d / "t10k-images-idx3-ubyte", bytes);
  const std::string msg = error_of([&] { load("mnist", d.path()); });
  EXPECT_NE(msg.find("t10k-images-idx3-ubyte': truncated"), std::string::npos) << msg;
}

TEST(Presets, ImageShapeParsing) {
  EXPECT_EQ(data::parse_image_shape("32x32x3"), (data::ImageShape{32, 32, 3}));
  EXPECT_EQ(data::parse_image_shape("28x14x1"), (data::ImageShape{28, 14, 1}));
  for (const char* bad : {"32x32", "32x32x2", "0x5x1", "axbxc", "32x32x3x", "-1x4x1"})
    EXPECT_NE(error_of([&] { data::parse_image_shape(bad); }).find("expected HxWxC"), std::string::npos) << bad;
}

TEST(Presets, EveryPresetHasConsistentSizes) {
  for (const auto& p : data::presets()) {
    EXPECT_GT(p.train, 0u) << p.name;
    EXPECT_GT(p.val, 0u) << p.name;
    EXPECT_GT(p.test, 0u) << p.name;
    EXPECT_EQ(p.binary_of.empty(), !p.binary_group) << p.name;
  }
  const auto& m = data::find_preset("mnist");
  EXPECT_EQ(m.train + m.val, 60000u);
  const auto& c = data::find_preset("curet");
  EXPECT_EQ(c.train + c.val + c.test, 5612u);
}
