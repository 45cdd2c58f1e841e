// IDX files (LeCun's MNIST format; also Fashion-MNIST), raw or gzip: parser and image/label pair loader.
// Format: 2 zero bytes, type byte (0x08 = unsigned byte, the only one image datasets use), number of
// dimensions, then each dimension as a big-endian uint32, then the data in row-major order.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/image_set.hpp"

namespace sparse::data {

struct IdxArray {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;  // product(dims) bytes
};

// Parse an in-memory IDX file. `name` (usually the path) appears in every error message, with the
// byte offset where the problem is.
IdxArray parse_idx(const uint8_t* bytes, size_t size, const std::string& name);

// Write an IDX file of unsigned bytes (used by tests and by `sparse data` exports).
std::vector<uint8_t> encode_idx(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data);

// Load an image file ([N, H, W] or [N, H, W, C]) and its label file ([N]); labels must be < num_classes.
ImageSet load_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels, int num_classes);

// Find `stem` (e.g. "train-images-idx3-ubyte") in `dir` as stem, stem.gz or with '.' in place of the
// '-' before "idx" ("train-images.idx3-ubyte"); errors list every name tried.
std::filesystem::path find_idx_file(const std::filesystem::path& dir, const std::string& stem);

}  // namespace sparse::data
