// ImageSet: a labelled image collection as stored in memory, uint8 NHWC pixels (normalization happens per batch).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sparse::data {

struct ImageShape {
  int height = 0, width = 0, channels = 0;
  size_t pixels() const { return static_cast<size_t>(height) * width * channels; }
  bool operator==(const ImageShape&) const = default;
};

struct ImageSet {
  ImageShape shape;
  std::vector<uint8_t> pixels;  // [size(), H, W, C], row-major
  std::vector<int32_t> labels;  // [size()], each in [0, num_classes)
  int num_classes = 0;

  size_t size() const { return labels.size(); }
  const uint8_t* image(size_t i) const { return pixels.data() + i * shape.pixels(); }
  // Images at `indices`, in that order.
  ImageSet subset(const std::vector<size_t>& indices) const;
  // Count of each label in [0, num_classes).
  std::vector<size_t> class_counts() const;
};

}  // namespace sparse::data
