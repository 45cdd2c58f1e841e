// CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (3 planes of 32x32, R then G then B).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/image_set.hpp"

namespace sparse::data {

inline constexpr size_t kCifarRecordBytes = 1 + 3 * 32 * 32;

// Append the records of one in-memory batch file to `out` (32x32x3 NHWC). Errors name the file, the
// record and its byte offset.
void parse_cifar10_batch(const uint8_t* bytes, size_t size, const std::string& name, ImageSet& out);

// Load data_batch_1..5.bin (train) or test_batch.bin (test) from `dir` or its cifar-10-batches-bin/.
ImageSet load_cifar10(const std::filesystem::path& dir, bool train);

}  // namespace sparse::data
