// Fixture writers for dataset tests: IDX pairs, CIFAR-10 batches, PGM/PPM/PNG image folders, gzip.
#pragma once
#include <stb_image_write.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "datasets/idx.hpp"
#include "host/core/error.hpp"
#include "tests/common/error_of.hpp"
#include "tests/common/gzip.hpp"
#include "tests/common/temp_dir.hpp"

namespace sparse::test {

// Deterministic pixel value of image i at byte p.
inline uint8_t fixture_pixel(size_t i, size_t p) { return static_cast<uint8_t>((i * 37 + p * 11 + (i ^ p)) & 0xff); }

// Writes <prefix>-images-idx3-ubyte and <prefix>-labels-idx1-ubyte (gzipped when gz) with n images of h×w
// and labels i % classes.
inline void write_idx_pair(const std::filesystem::path& dir, const std::string& prefix, size_t n, uint32_t h, uint32_t w,
                           int classes, bool gz) {
  std::vector<uint8_t> px(n * h * w), lab(n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t p = 0; p < h * w; ++p) px[i * h * w + p] = fixture_pixel(i, p);
    lab[i] = static_cast<uint8_t>(i % classes);
  }
  auto im = data::encode_idx({static_cast<uint32_t>(n), h, w}, px);
  auto la = data::encode_idx({static_cast<uint32_t>(n)}, lab);
  const std::string sfx = gz ? ".gz" : "";
  write_bytes(dir / (prefix + "-images-idx3-ubyte" + sfx), gz ? gzip(im) : im);
  write_bytes(dir / (prefix + "-labels-idx1-ubyte" + sfx), gz ? gzip(la) : la);
}

// Full MNIST-style folder: train (n_train) and t10k (n_test) pairs of 28×28.
inline void write_mnist_like(const std::filesystem::path& dir, size_t n_train, size_t n_test, bool gz) {
  write_idx_pair(dir, "train", n_train, 28, 28, 10, gz);
  write_idx_pair(dir, "t10k", n_test, 28, 28, 10, gz);
}

// One CIFAR-10 record per label in `labels`; pixel (c, p) of record r = (r*7 + c*50 + p) & 0xff.
inline std::vector<uint8_t> cifar_batch(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> b;
  for (size_t r = 0; r < labels.size(); ++r) {
    b.push_back(labels[r]);
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p) b.push_back(static_cast<uint8_t>((r * 7 + c * 50 + p) & 0xff));
  }
  return b;
}

// Binary PGM (P5) or PPM (P6) of a constant value per channel.
inline void write_pnm(const std::filesystem::path& p, int w, int h, const std::vector<uint8_t>& value) {
  const bool color = value.size() == 3;
  std::string header = std::string(color ? "P6" : "P5") + "\n" + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
  std::vector<uint8_t> bytes(header.begin(), header.end());
  for (int i = 0; i < w * h; ++i) bytes.insert(bytes.end(), value.begin(), value.end());
  write_bytes(p, bytes);
}

inline void write_png(const std::filesystem::path& p, int w, int h, int c, const std::vector<uint8_t>& pixels) {
  std::filesystem::create_directories(p.parent_path());
  SPARSE_CHECK(stbi_write_png(p.string().c_str(), w, h, c, pixels.data(), w * c) != 0, "cannot write " << p.string());
}

}  // namespace sparse::test
