// Shared fixtures of the host/nn tests: small synthetic datasets and Configs built in code.
#pragma once
#include "datasets/preset.hpp"
#include "host/space/config.hpp"

namespace sparse::test {

// Synthetic 16x16x1 images of `classes` classes (a learnable glyph task), deterministic.
inline data::Dataset small_synthetic(int classes = 4, size_t train = 2000, size_t test = 500, uint64_t seed = 3) {
  data::DatasetOptions o;
  o.name = "synthetic";
  o.synthetic_classes = classes;
  o.synthetic_train = train;
  o.synthetic_test = test;
  o.split_seed = seed;
  o.image_shape = data::ImageShape{16, 16, 1};
  return data::load_dataset(o);
}

// One block of Conv2D layers, then FC layers of `fc_weights` weights in total (Config semantics of host/graph).
inline space::Config small_config(int classes, std::vector<int> filters, int fc_weights, int kernel = 3) {
  space::Config c;
  c.input_height = 16;
  c.input_width = 16;
  c.input_channels = 1;
  c.num_classes = classes;
  c.pretraining = false;
  c.zero_regularization_epochs = 5;
  c.annealing_epochs = 15;
  c.alpha = 1.0;
  space::ConvBlock b;
  for (int f : filters) {
    space::ConvLayer L;
    L.kernel_size = kernel;
    L.num_filters = f;
    L.padding = space::Padding::same;
    b.layers.push_back(L);
  }
  c.blocks = {b};
  c.num_fc_layers = 1;
  c.total_fc_layer_weights = fc_weights;
  return c;
}

}  // namespace sparse::test
