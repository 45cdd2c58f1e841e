// ImageSet helpers: subsets and class counts.
#include "datasets/image_set.hpp"

#include <cstring>

namespace sparse::data {

ImageSet ImageSet::subset(const std::vector<size_t>& indices) const {
  ImageSet out;
  out.shape = shape;
  out.num_classes = num_classes;
  const size_t px = shape.pixels();
  out.pixels.resize(indices.size() * px);
  out.labels.resize(indices.size());
  for (size_t k = 0; k < indices.size(); ++k) {
    std::memcpy(out.pixels.data() + k * px, image(indices[k]), px);
    out.labels[k] = labels[indices[k]];
  }
  return out;
}

std::vector<size_t> ImageSet::class_counts() const {
  std::vector<size_t> counts(static_cast<size_t>(num_classes), 0);
  for (int32_t y : labels)
    if (y >= 0 && y < num_classes) ++counts[static_cast<size_t>(y)];
  return counts;
}

}  // namespace sparse::data
