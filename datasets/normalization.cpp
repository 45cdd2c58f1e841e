// Per-channel mean/std fitting and application (see normalization.hpp).
#include "datasets/normalization.hpp"

#include <cmath>

#include "host/core/error.hpp"

namespace sparse::data {

Normalization Normalization::fit(const ImageSet& train) {
  const int C = train.shape.channels;
  SPARSE_CHECK(C > 0 && train.size() > 0, "cannot fit normalization on an empty training set");
  std::vector<uint64_t> sum(static_cast<size_t>(C), 0), sumsq(static_cast<size_t>(C), 0);
  const size_t n = train.pixels.size();
  for (size_t i = 0; i < n; ++i) {
    const uint64_t v = train.pixels[i];
    sum[i % C] += v;
    sumsq[i % C] += v * v;
  }
  Normalization z;
  const double count = static_cast<double>(n / C);
  for (int c = 0; c < C; ++c) {
    const double m = static_cast<double>(sum[c]) / count;
    const double var = std::max(0.0, static_cast<double>(sumsq[c]) / count - m * m);
    z.mean.push_back(m / 255.0);
    const double sd = std::sqrt(var) / 255.0;
    z.std.push_back(sd > 1e-12 ? sd : 1.0);
  }
  return z;
}

void Normalization::apply(const uint8_t* pixels, size_t count_pixels, int channels, float* out) const {
  float scale[8], offset[8];
  SPARSE_CHECK(channels > 0 && channels <= 8 && static_cast<size_t>(channels) == mean.size(),
               "normalization has " << mean.size() << " channels, images have " << channels);
  for (int c = 0; c < channels; ++c) {
    scale[c] = static_cast<float>(1.0 / (255.0 * std[c]));
    offset[c] = static_cast<float>(mean[c] / std[c]);
  }
  if (channels == 1) {
    for (size_t i = 0; i < count_pixels; ++i) out[i] = static_cast<float>(pixels[i]) * scale[0] - offset[0];
    return;
  }
  for (size_t i = 0; i < count_pixels; i += channels)
    for (int c = 0; c < channels; ++c) out[i + c] = static_cast<float>(pixels[i + c]) * scale[c] - offset[c];
}

}  // namespace sparse::data
