// Synthetic images: a procedural, learnable dataset of any size, class count, channels and resolution.
// Each class is a glyph of three strokes drawn from the seed; every image renders its class's glyph
// with a random shift, scale, rotation, stroke width, per-channel tint and Gaussian pixel noise.
#pragma once
#include <cstdint>

#include "datasets/image_set.hpp"

namespace sparse::data {

struct SyntheticSpec {
  int num_classes = 10;
  ImageShape shape{28, 28, 1};
  float noise_std = 0.08f;  // pixel noise, in units of full scale
  uint64_t seed = 1;        // glyphs depend on the seed only; images on (seed, stream)
};

// `count` images; `stream` separates train (0) from test (1) with the same glyphs. Labels are balanced
// (i mod K) and the order is shuffled.
ImageSet generate_synthetic(const SyntheticSpec& spec, size_t count, uint64_t stream);

}  // namespace sparse::data
