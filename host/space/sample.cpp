// Uniform sampling of Configs with rejection of unbuildable draws (Table 5 ranges and conditions).
#include "host/space/sample.hpp"

#include "host/core/error.hpp"
#include "host/space/canonical.hpp"

namespace sparse::space {

double sample_number(const VarSpec& s, PhiloxStream& rng) {
  return s.grid(static_cast<int>(rng.below(static_cast<uint64_t>(s.count()))));
}

bool sample_bool(const VarSpec& s, PhiloxStream& rng) {
  return s.levels[rng.below(s.levels.size())] == "true";
}

int sample_level(const VarSpec& s, PhiloxStream& rng) { return static_cast<int>(rng.below(s.levels.size())); }

namespace {

template <class E, size_t N>
E level_enum(const VarSpec& s, int index, const std::array<E, N>& values) {
  for (E v : values)
    if (s.levels[static_cast<size_t>(index)] == to_string(v)) return v;
  SPARSE_FAIL("space variable " << s.name << " has unknown level " << s.levels[static_cast<size_t>(index)]);
}

template <class E, size_t N>
E default_enum(const VarSpec& s, const std::array<E, N>& values) {
  for (E v : values)
    if (s.default_level == to_string(v)) return v;
  SPARSE_FAIL("space variable " << s.name << " has unknown default " << s.default_level);
}

constexpr std::array kLayerTypes{LayerType::Conv2D, LayerType::DownsampledConv2D, LayerType::SeparableConv2D};
constexpr std::array kPaddings{Padding::same, Padding::valid};
constexpr std::array kMergeTypes{MergeType::Sum, MergeType::Concatenate};

}  // namespace

MergeType default_merge_type(const Space& s) { return default_enum(s.merge_type, kMergeTypes); }

ConvLayer sample_conv_layer(const Space& s, PhiloxStream& rng) {
  ConvLayer l;
  l.layer_type = level_enum(s.layer_type, sample_level(s.layer_type, rng), kLayerTypes);
  l.kernel_size = static_cast<int>(sample_number(s.kernel_size, rng));
  l.num_filters = static_cast<int>(sample_number(s.num_filters, rng));
  l.padding = level_enum(s.padding, sample_level(s.padding, rng), kPaddings);
  l.downsample = l.layer_type == LayerType::DownsampledConv2D ? sample_number(s.downsample, rng) : s.downsample.default_value;
  l.pruning_threshold = sample_number(s.pruning_threshold, rng);
  return l;
}

Config sample_config_unchecked(const Space& s, PhiloxStream& rng) {
  Config c;
  c.input_height = s.input_height;
  c.input_width = s.input_width;
  c.input_channels = s.input_channels;
  c.num_classes = s.num_classes;
  c.downsample_input_in_depth = sample_bool(s.downsample_input_in_depth, rng);
  c.downsample_input = sample_bool(s.downsample_input, rng);
  c.input_downsampling_rate = static_cast<int>(c.downsample_input ? sample_number(s.input_downsampling_rate, rng)
                                                                   : s.input_downsampling_rate.default_value);
  c.pretraining = sample_bool(s.pretraining, rng);
  c.zero_regularization_epochs = static_cast<int>(sample_number(s.zero_regularization_epochs, rng));
  c.annealing_epochs = static_cast<int>(sample_number(s.annealing_epochs, rng));
  c.alpha = sample_number(s.alpha, rng);
  c.batch_norm = sample_bool(s.batch_norm, rng);
  c.residual_connections = sample_bool(s.residual_connections, rng);
  const int blocks = static_cast<int>(sample_number(s.num_conv_blocks, rng));
  c.blocks.resize(static_cast<size_t>(blocks));
  for (auto& b : c.blocks) {
    const int layers = static_cast<int>(sample_number(s.num_conv_layers, rng));
    for (int l = 0; l < layers; ++l) b.layers.push_back(sample_conv_layer(s, rng));
  }
  c.num_fc_layers = static_cast<int>(sample_number(s.num_fc_layers, rng));
  c.total_fc_layer_weights = static_cast<int>(sample_number(s.total_fc_layer_weights, rng));
  c.weight_fraction_main_branch = c.num_fc_layers >= 1 ? sample_number(s.weight_fraction_main_branch, rng)
                                                       : s.weight_fraction_main_branch.default_value;
  c.left_branch = sample_bool(s.left_branch, rng);
  c.right_branch = sample_bool(s.right_branch, rng);
  c.weight_fraction_left_branch =
      c.left_branch ? sample_number(s.weight_fraction_left_branch, rng) : s.weight_fraction_left_branch.default_value;
  c.weight_fraction_right_branch =
      c.right_branch ? sample_number(s.weight_fraction_right_branch, rng) : s.weight_fraction_right_branch.default_value;
  c.merge_type = c.has_merge() ? level_enum(s.merge_type, sample_level(s.merge_type, rng), kMergeTypes)
                               : default_enum(s.merge_type, kMergeTypes);
  for (int f = 0; f < 4; ++f)
    c.pruning_threshold_fc[f] = c.has_fc(static_cast<FcLayer>(f)) ? sample_number(s.pruning_threshold_fc, rng)
                                                                  : s.pruning_threshold_fc.default_value;
  return c;
}

Config sample_config(const Space& s, PhiloxStream& rng, SampleStats* stats, int max_attempts) {
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    Config c = sample_config_unchecked(s, rng);
    if (validation_error(c, s).empty()) {
      if (stats) ++stats->accepted;
      return canonical(c, s);
    }
    if (stats) ++stats->rejected;
  }
  SPARSE_FAIL("no buildable config in " << max_attempts << " uniform draws: the space's input ("
                                        << s.input_height << "x" << s.input_width
                                        << ") is too small for its kernel sizes and block count");
}

}  // namespace sparse::space
