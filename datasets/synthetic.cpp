// Synthetic stroke-glyph images (see synthetic.hpp). Rendering: anti-aliased distance to each segment.
#include "datasets/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "host/core/error.hpp"
#include "host/core/philox.hpp"

namespace sparse::data {

namespace {

struct Segment {
  float x0, y0, x1, y1;  // in [-1, 1] glyph coordinates
};

constexpr int kStrokes = 3;

// Distance from (px, py) to segment s.
float segment_distance(float px, float py, const Segment& s) {
  const float dx = s.x1 - s.x0, dy = s.y1 - s.y0;
  const float len2 = dx * dx + dy * dy;
  float t = len2 > 0 ? ((px - s.x0) * dx + (py - s.y0) * dy) / len2 : 0.0f;
  t = std::clamp(t, 0.0f, 1.0f);
  const float ex = s.x0 + t * dx - px, ey = s.y0 + t * dy - py;
  return std::sqrt(ex * ex + ey * ey);
}

}  // namespace

ImageSet generate_synthetic(const SyntheticSpec& spec, size_t count, uint64_t stream) {
  SPARSE_CHECK(spec.num_classes >= 2 && spec.num_classes <= 1000,
               "synthetic dataset: classes = " << spec.num_classes << ", expected 2 to 1000");
  SPARSE_CHECK(spec.shape.height >= 4 && spec.shape.width >= 4 && spec.shape.height <= 1024 && spec.shape.width <= 1024,
               "synthetic dataset: image size " << spec.shape.height << "x" << spec.shape.width
                                                << " is out of range, expected 4 to 1024 per side");
  SPARSE_CHECK(spec.shape.channels >= 1 && spec.shape.channels <= 4,
               "synthetic dataset: channels = " << spec.shape.channels << ", expected 1 to 4");
  SPARSE_CHECK(spec.noise_std >= 0 && spec.noise_std <= 1, "synthetic dataset: noise = " << spec.noise_std
                                                                                         << ", expected 0 to 1");
  // Glyphs: three strokes per class from the seed's stream 0xC1A55.
  PhiloxStream glyph_rng(spec.seed, 0xC1A55);
  std::vector<Segment> glyphs(static_cast<size_t>(spec.num_classes) * kStrokes);
  for (auto& s : glyphs) {
    auto u = [&] { return static_cast<float>(glyph_rng.uniform() * 1.6 - 0.8); };
    s = {u(), u(), u(), u()};
  }
  ImageSet out;
  out.shape = spec.shape;
  out.num_classes = spec.num_classes;
  out.labels.resize(count);
  for (size_t i = 0; i < count; ++i) out.labels[i] = static_cast<int32_t>(i % static_cast<size_t>(spec.num_classes));
  PhiloxStream rng(spec.seed, 0x5EED0000ull + stream);
  rng.shuffle(out.labels.begin(), out.labels.end());
  const int H = spec.shape.height, W = spec.shape.width, C = spec.shape.channels;
  out.pixels.resize(count * spec.shape.pixels());
  const float half = 0.5f * static_cast<float>(std::min(H, W));
  std::vector<float> intensity(static_cast<size_t>(H) * W);
  for (size_t i = 0; i < count; ++i) {
    const Segment* g = &glyphs[static_cast<size_t>(out.labels[i]) * kStrokes];
    const float scale = static_cast<float>(0.75 + 0.2 * rng.uniform());
    const float angle = static_cast<float>((rng.uniform() - 0.5) * 0.35);
    const float sx = static_cast<float>((rng.uniform() - 0.5) * 0.25), sy = static_cast<float>((rng.uniform() - 0.5) * 0.25);
    const float width = static_cast<float>(0.07 + 0.06 * rng.uniform());
    const float aa = 1.5f / half;  // one and a half pixels of anti-aliasing
    const float ca = std::cos(angle), sa = std::sin(angle);
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        // Pixel centre to glyph coordinates: undo shift, rotation and scale.
        const float u = ((static_cast<float>(x) + 0.5f - 0.5f * static_cast<float>(W)) / half - sx) / scale;
        const float v = ((static_cast<float>(y) + 0.5f - 0.5f * static_cast<float>(H)) / half - sy) / scale;
        const float gx = ca * u + sa * v, gy = -sa * u + ca * v;
        float d = 1e9f;
        for (int k = 0; k < kStrokes; ++k) d = std::min(d, segment_distance(gx, gy, g[k]));
        intensity[static_cast<size_t>(y) * W + x] = std::clamp(1.0f - (d - width) / aa, 0.0f, 1.0f);
      }
    uint8_t* dst = out.pixels.data() + i * spec.shape.pixels();
    for (int c = 0; c < C; ++c) {
      const float tint = static_cast<float>(0.6 + 0.4 * rng.uniform());
      const float background = static_cast<float>(0.15 * rng.uniform());
      for (int p = 0; p < H * W; ++p) {
        float val = background + tint * intensity[static_cast<size_t>(p)] + spec.noise_std * static_cast<float>(rng.normal());
        val = std::clamp(val, 0.0f, 1.0f);
        dst[static_cast<size_t>(p) * C + c] = static_cast<uint8_t>(std::lround(val * 255.0f));
      }
    }
  }
  return out;
}

}  // namespace sparse::data
