// GP feature encoding (REFERENCE.md §7); the dimension list is documented in encode.hpp and built here in one order.
#include "host/space/encode.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "host/core/error.hpp"

namespace sparse::space {

namespace {

double scale(const VarSpec& s, double v) {
  if (s.hi <= s.lo) return kImputedNumeric;
  const double t = s.log_scale ? (std::log(v) - std::log(s.lo)) / (std::log(s.hi) - std::log(s.lo))
                               : (v - s.lo) / (s.hi - s.lo);
  return std::clamp(t, 0.0, 1.0);
}

// Writes dimensions through one visitor so the layout and the values can never disagree in order.
struct Sink {
  Encoding* e = nullptr;
  EncodingLayout* layout = nullptr;
  size_t ni = 0, ci = 0;
  void num(std::string_view name, const VarSpec& s, double v, bool active) {
    if (layout) layout->numeric_names.emplace_back(name);
    if (e && ni < e->numeric.size()) {
      e->numeric[ni] = active ? scale(s, v) : kImputedNumeric;
      e->numeric_active[ni] = active ? 1 : 0;
    }
    ++ni;
  }
  void cat(std::string_view name, int levels, int index, bool active) {
    if (layout) {
      layout->categorical_names.emplace_back(name);
      layout->categorical_levels.push_back(levels);
    }
    if (e && ci < e->categorical.size()) {
      e->categorical[ci] = active ? index : kImputedCategorical;
      e->categorical_active[ci] = active ? 1 : 0;
    }
    ++ci;
  }
};

// Names are only built when a layout is requested (the hot path passes layout == nullptr).
#define SPARSE_NAME(expr) (sink.layout ? std::string(expr) : std::string())

void visit(const Config* c, const Space& s, Sink& sink) {
  const Config empty;
  const Config& x = c ? *c : empty;
  sink.num("input-downsampling-rate", s.input_downsampling_rate, x.input_downsampling_rate, x.downsample_input);
  sink.num("zero-regularization-epochs", s.zero_regularization_epochs, x.zero_regularization_epochs, true);
  sink.num("annealing-epochs", s.annealing_epochs, x.annealing_epochs, true);
  sink.num("alpha", s.alpha, x.alpha, true);
  sink.num("num-conv-blocks", s.num_conv_blocks, x.num_conv_blocks(), true);
  sink.num("num-fc-layers", s.num_fc_layers, x.num_fc_layers, true);
  sink.num("total-fc-layer-weights", s.total_fc_layer_weights, x.total_fc_layer_weights, true);
  sink.num("weight-fraction-main-branch", s.weight_fraction_main_branch, x.weight_fraction_main_branch,
           x.num_fc_layers >= 1);
  sink.num("weight-fraction-left-branch", s.weight_fraction_left_branch, x.weight_fraction_left_branch, x.left_branch);
  sink.num("weight-fraction-right-branch", s.weight_fraction_right_branch, x.weight_fraction_right_branch,
           x.right_branch);
  for (int f = 0; f < 4; ++f)
    sink.num(SPARSE_NAME(std::string("pruning-threshold-fc-") + kFcNames[f]), s.pruning_threshold_fc,
             x.pruning_threshold_fc[f], x.has_fc(static_cast<FcLayer>(f)));
  const int B = s.max_blocks(), L = s.max_layers();
  for (int k = 0; k < B; ++k) {
    const bool exists = k < x.num_conv_blocks();
    sink.num(SPARSE_NAME("num-conv-layers-block-" + std::to_string(k + 1)), s.num_conv_layers,
             exists ? static_cast<double>(x.blocks[static_cast<size_t>(k)].layers.size()) : 0.0, exists);
  }
  for (int k = 0; k < B; ++k)
    for (int l = 0; l < L; ++l) {
      const bool exists = k < x.num_conv_blocks() && l < static_cast<int>(x.blocks[static_cast<size_t>(k)].layers.size());
      const ConvLayer layer = exists ? x.blocks[static_cast<size_t>(k)].layers[static_cast<size_t>(l)] : ConvLayer{};
      const std::string suffix = SPARSE_NAME("-block-" + std::to_string(k + 1) + "-layer-" + std::to_string(l + 1));
      sink.num(SPARSE_NAME("kernel-size" + suffix), s.kernel_size, layer.kernel_size, exists);
      sink.num(SPARSE_NAME("num-filters" + suffix), s.num_filters, layer.num_filters, exists);
      sink.num(SPARSE_NAME("pruning-thresholds" + suffix), s.pruning_threshold, layer.pruning_threshold, exists);
      sink.num(SPARSE_NAME("downsample" + suffix), s.downsample, layer.downsample,
               exists && layer.layer_type == LayerType::DownsampledConv2D);
    }
  sink.cat("downsample-input-in-depth", 2, x.downsample_input_in_depth, true);
  sink.cat("downsample-input", 2, x.downsample_input, true);
  sink.cat("pretraining", 2, x.pretraining, true);
  sink.cat("batch-norm", 2, x.batch_norm, true);
  sink.cat("residual-connections", 2, x.residual_connections, true);
  sink.cat("left-branch", 2, x.left_branch, true);
  sink.cat("right-branch", 2, x.right_branch, true);
  sink.cat("merge-type", static_cast<int>(s.merge_type.levels.size()),
           std::max(0, s.merge_type.level_index(to_string(x.merge_type))), x.has_merge());
  for (int k = 0; k < B; ++k)
    for (int l = 0; l < L; ++l) {
      const bool exists = k < x.num_conv_blocks() && l < static_cast<int>(x.blocks[static_cast<size_t>(k)].layers.size());
      const ConvLayer layer = exists ? x.blocks[static_cast<size_t>(k)].layers[static_cast<size_t>(l)] : ConvLayer{};
      const std::string suffix = SPARSE_NAME("-block-" + std::to_string(k + 1) + "-layer-" + std::to_string(l + 1));
      sink.cat(SPARSE_NAME("layer-type" + suffix), static_cast<int>(s.layer_type.levels.size()),
               std::max(0, s.layer_type.level_index(to_string(layer.layer_type))), exists);
      sink.cat(SPARSE_NAME("padding" + suffix), static_cast<int>(s.padding.levels.size()),
               std::max(0, s.padding.level_index(to_string(layer.padding))), exists);
    }
}

#undef SPARSE_NAME

}  // namespace

EncodingLayout encoding_layout(const Space& s) {
  EncodingLayout layout;
  Sink sink;
  sink.layout = &layout;
  visit(nullptr, s, sink);
  return layout;
}

void encode_into(const Config& c, const Space& s, Encoding& out) {
  SPARSE_CHECK(c.num_conv_blocks() <= s.max_blocks(),
               "encode: config has " << c.num_conv_blocks() << " blocks, the space at most " << s.max_blocks());
  for (const auto& b : c.blocks)
    SPARSE_CHECK(static_cast<int>(b.layers.size()) <= s.max_layers(),
                 "encode: a block has " << b.layers.size() << " layers, the space at most " << s.max_layers());
  // Sizes: count once with a dry run when the vectors are empty.
  if (out.numeric.empty() && out.categorical.empty()) {
    Sink count;
    visit(nullptr, s, count);
    out.numeric.assign(count.ni, 0.0);
    out.numeric_active.assign(count.ni, 0);
    out.categorical.assign(count.ci, 0);
    out.categorical_active.assign(count.ci, 0);
  }
  Sink sink;
  sink.e = &out;
  visit(&c, s, sink);
  SPARSE_CHECK(sink.ni == out.numeric.size() && sink.ci == out.categorical.size(),
               "encode: the Encoding passed in was sized for another space");
}

Encoding encode(const Config& c, const Space& s) {
  Encoding e;
  encode_into(c, s, e);
  return e;
}

}  // namespace sparse::space
