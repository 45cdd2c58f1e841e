// Per-channel normalization (paper §4: subtract the training mean, divide by the training std).
// Statistics are in units of full scale (pixel / 255), so x = (pixel/255 − mean[c]) / std[c].
#pragma once
#include <cstdint>
#include <vector>

#include "datasets/image_set.hpp"

namespace sparse::data {

struct Normalization {
  std::vector<double> mean, std;  // [C]

  // Statistics of `train` (double accumulation; a constant channel gets std 1 to stay finite).
  static Normalization fit(const ImageSet& train);
  // out[n*H*W*C] = normalized pixels of n images starting at `pixels`.
  void apply(const uint8_t* pixels, size_t count_pixels, int channels, float* out) const;
};

}  // namespace sparse::data
