// Table 6 morphs, each a named function; morph() chains them and keeps only buildable results.
#include "host/space/morph.hpp"

#include <cmath>

#include "host/core/error.hpp"
#include "host/space/canonical.hpp"
#include "host/space/sample.hpp"

namespace sparse::space {

namespace {

constexpr const char* kMorphNames[kNumMorphKinds] = {
    "num-fc-layers", "num-conv-blocks", "layer-type", "num-conv-filters", "kernel-size", "downsampling-rate",
    "batch-norm", "residual-connections", "left-branch", "right-branch", "total-fc-layer-weights", "merge-type",
    "threshold", "weight-fraction", "alpha", "num-conv-layers", "zero-regularization-epochs", "annealing-epochs"};

// v moved by ±delta on the grid of s, sign chosen at random among those that stay in range.
// Returns false when neither direction stays in range.
bool step_value(double& v, double delta, const VarSpec& s, PhiloxStream& rng) {
  const long i = s.nearest_index(v), d = std::lround(delta / s.step);
  const bool up = i + d < s.count(), down = i - d >= 0;
  if (!up && !down) return false;
  const bool go_up = up && (!down || rng.below(2) == 0);
  v = s.grid(static_cast<int>(go_up ? i + d : i - d));
  return true;
}

// A grid value of s different from v, uniform over the others; false when s has a single value.
bool resample_other(double& v, const VarSpec& s, PhiloxStream& rng) {
  const int n = s.count();
  if (n < 2) return false;
  const long cur = s.nearest_index(v);
  long j = static_cast<long>(rng.below(static_cast<uint64_t>(n - 1)));
  if (cur >= 0 && cur < n && j >= cur) ++j;
  v = s.grid(static_cast<int>(j));
  return true;
}

template <class E>
bool resample_other_level(E& v, const VarSpec& s, PhiloxStream& rng, std::initializer_list<E> all) {
  const int n = static_cast<int>(s.levels.size());
  const int cur = s.level_index(to_string(v));
  if (n < 2 || (n == 1 && cur == 0)) return false;
  int j = static_cast<int>(rng.below(static_cast<uint64_t>(cur >= 0 ? n - 1 : n)));
  if (cur >= 0 && j >= cur) ++j;
  for (E e : all)
    if (s.levels[static_cast<size_t>(j)] == to_string(e)) {
      v = e;
      return true;
    }
  return false;
}

bool flip(bool& b, const VarSpec& s) {
  if (!s.allows(!b)) return false;
  b = !b;
  return true;
}

// A uniformly chosen conv layer (over all layers of all blocks).
ConvLayer* random_layer(Config& c, PhiloxStream& rng) {
  size_t total = 0;
  for (const auto& b : c.blocks) total += b.layers.size();
  if (total == 0) return nullptr;
  size_t k = rng.below(total);
  for (auto& b : c.blocks) {
    if (k < b.layers.size()) return &b.layers[k];
    k -= b.layers.size();
  }
  return nullptr;
}

}  // namespace

const char* to_string(MorphKind m) { return kMorphNames[static_cast<int>(m)]; }

MorphKind morph_kind_from_string(const std::string& name) {
  for (int i = 0; i < kNumMorphKinds; ++i)
    if (name == kMorphNames[i]) return static_cast<MorphKind>(i);
  SPARSE_FAIL("unknown morph '" << name << "' (Table 6 names, e.g. kernel-size, threshold)");
}

std::vector<MorphKind> all_morphs() {
  std::vector<MorphKind> v;
  for (int i = 0; i < kNumMorphKinds; ++i) v.push_back(static_cast<MorphKind>(i));
  return v;
}

std::vector<MorphKind> stage_morphs(int stage) {
  SPARSE_CHECK(stage >= 1 && stage <= 3, "stage = " << stage << ", expected 1, 2 or 3");
  if (stage == 2)
    return {MorphKind::threshold, MorphKind::alpha, MorphKind::zero_regularization_epochs, MorphKind::annealing_epochs};
  return all_morphs();
}

bool morph_num_fc_layers(Config& c, const Space& s, PhiloxStream& rng) {
  double v = c.num_fc_layers;
  if (!step_value(v, 1, s.num_fc_layers, rng)) return false;
  c.num_fc_layers = static_cast<int>(v);
  return true;
}

bool morph_num_conv_blocks(Config& c, const Space& s, PhiloxStream& rng) {
  double v = c.num_conv_blocks();
  if (!step_value(v, 1, s.num_conv_blocks, rng)) return false;
  if (static_cast<int>(v) > c.num_conv_blocks()) {
    if (!s.num_conv_layers.on_grid(1)) return false;  // the new block must hold exactly 1 layer (Table 6)
    c.blocks.push_back(ConvBlock{{sample_conv_layer(s, rng)}});
  } else {
    c.blocks.pop_back();
  }
  return true;
}

bool morph_layer_type(Config& c, const Space& s, PhiloxStream& rng) {
  ConvLayer* l = random_layer(c, rng);
  return l && resample_other_level(l->layer_type, s.layer_type, rng,
                                   {LayerType::Conv2D, LayerType::DownsampledConv2D, LayerType::SeparableConv2D});
}

bool morph_num_conv_filters(Config& c, const Space& s, PhiloxStream& rng) {
  ConvLayer* l = random_layer(c, rng);
  if (!l) return false;
  double v = l->num_filters;
  if (!resample_other(v, s.num_filters, rng)) return false;
  l->num_filters = static_cast<int>(v);
  return true;
}

bool morph_kernel_size(Config& c, const Space& s, PhiloxStream& rng) {
  ConvLayer* l = random_layer(c, rng);
  if (!l) return false;
  double v = l->kernel_size;
  if (!resample_other(v, s.kernel_size, rng)) return false;
  l->kernel_size = static_cast<int>(v);
  return true;
}

bool morph_downsampling_rate(Config& c, const Space& s, PhiloxStream& rng) {
  std::vector<ConvLayer*> ds;
  for (auto& b : c.blocks)
    for (auto& l : b.layers)
      if (l.layer_type == LayerType::DownsampledConv2D) ds.push_back(&l);
  if (ds.empty()) return false;
  ConvLayer* l = ds[rng.below(ds.size())];
  return resample_other(l->downsample, s.downsample, rng);
}

bool morph_batch_norm(Config& c, const Space& s, PhiloxStream&) { return flip(c.batch_norm, s.batch_norm); }

bool morph_residual_connections(Config& c, const Space& s, PhiloxStream&) {
  return flip(c.residual_connections, s.residual_connections);
}

namespace {
// Table 6: a branch switched on starts with weight fraction 0.05 (nearest grid point of the space).
bool switch_branch(bool& on, double& fraction, const VarSpec& on_spec, const VarSpec& fraction_spec) {
  if (!flip(on, on_spec)) return false;
  if (on) {
    const long i = std::clamp(fraction_spec.nearest_index(0.05), 0L, static_cast<long>(fraction_spec.count() - 1));
    fraction = fraction_spec.grid(static_cast<int>(i));
  }
  return true;
}
}  // namespace

bool morph_left_branch(Config& c, const Space& s, PhiloxStream&) {
  return switch_branch(c.left_branch, c.weight_fraction_left_branch, s.left_branch, s.weight_fraction_left_branch);
}

bool morph_right_branch(Config& c, const Space& s, PhiloxStream&) {
  return switch_branch(c.right_branch, c.weight_fraction_right_branch, s.right_branch, s.weight_fraction_right_branch);
}

bool morph_total_fc_layer_weights(Config& c, const Space& s, PhiloxStream& rng) {
  double v = c.total_fc_layer_weights;
  if (!step_value(v, 5000, s.total_fc_layer_weights, rng)) return false;
  c.total_fc_layer_weights = static_cast<int>(v);
  return true;
}

bool morph_merge_type(Config& c, const Space& s, PhiloxStream& rng) {
  if (!c.has_merge()) return false;  // inactive: switching it would change no network
  return resample_other_level(c.merge_type, s.merge_type, rng, {MergeType::Sum, MergeType::Concatenate});
}

bool morph_threshold(Config& c, const Space& s, PhiloxStream& rng) {
  std::vector<std::pair<double*, const VarSpec*>> t;
  for (auto& b : c.blocks)
    for (auto& l : b.layers) t.emplace_back(&l.pruning_threshold, &s.pruning_threshold);
  for (int f = 0; f < 4; ++f)
    if (c.has_fc(static_cast<FcLayer>(f))) t.emplace_back(&c.pruning_threshold_fc[f], &s.pruning_threshold_fc);
  const auto& [v, spec] = t[rng.below(t.size())];
  return step_value(*v, 0.5, *spec, rng);
}

bool morph_weight_fraction(Config& c, const Space& s, PhiloxStream& rng) {
  bool any = false;
  if (c.num_fc_layers >= 1) any = step_value(c.weight_fraction_main_branch, 0.05, s.weight_fraction_main_branch, rng) || any;
  if (c.left_branch) any = step_value(c.weight_fraction_left_branch, 0.05, s.weight_fraction_left_branch, rng) || any;
  if (c.right_branch) any = step_value(c.weight_fraction_right_branch, 0.05, s.weight_fraction_right_branch, rng) || any;
  return any;
}

bool morph_alpha(Config& c, const Space& s, PhiloxStream& rng) { return step_value(c.alpha, 0.1, s.alpha, rng); }

bool morph_num_conv_layers(Config& c, const Space& s, PhiloxStream& rng) {
  if (c.blocks.empty()) return false;
  ConvBlock& b = c.blocks[rng.below(c.blocks.size())];
  double v = static_cast<double>(b.layers.size());
  if (!step_value(v, 1, s.num_conv_layers, rng)) return false;
  if (static_cast<size_t>(v) > b.layers.size())
    b.layers.push_back(sample_conv_layer(s, rng));
  else
    b.layers.pop_back();
  return true;
}

bool morph_zero_regularization_epochs(Config& c, const Space& s, PhiloxStream& rng) {
  double v = c.zero_regularization_epochs;
  if (!resample_other(v, s.zero_regularization_epochs, rng)) return false;
  c.zero_regularization_epochs = static_cast<int>(v);
  return true;
}

bool morph_annealing_epochs(Config& c, const Space& s, PhiloxStream& rng) {
  double v = c.annealing_epochs;
  if (!resample_other(v, s.annealing_epochs, rng)) return false;
  c.annealing_epochs = static_cast<int>(v);
  return true;
}

bool apply_morph(MorphKind m, Config& c, const Space& s, PhiloxStream& rng) {
  switch (m) {
    case MorphKind::num_fc_layers: return morph_num_fc_layers(c, s, rng);
    case MorphKind::num_conv_blocks: return morph_num_conv_blocks(c, s, rng);
    case MorphKind::layer_type: return morph_layer_type(c, s, rng);
    case MorphKind::num_conv_filters: return morph_num_conv_filters(c, s, rng);
    case MorphKind::kernel_size: return morph_kernel_size(c, s, rng);
    case MorphKind::downsampling_rate: return morph_downsampling_rate(c, s, rng);
    case MorphKind::batch_norm: return morph_batch_norm(c, s, rng);
    case MorphKind::residual_connections: return morph_residual_connections(c, s, rng);
    case MorphKind::left_branch: return morph_left_branch(c, s, rng);
    case MorphKind::right_branch: return morph_right_branch(c, s, rng);
    case MorphKind::total_fc_layer_weights: return morph_total_fc_layer_weights(c, s, rng);
    case MorphKind::merge_type: return morph_merge_type(c, s, rng);
    case MorphKind::threshold: return morph_threshold(c, s, rng);
    case MorphKind::weight_fraction: return morph_weight_fraction(c, s, rng);
    case MorphKind::alpha: return morph_alpha(c, s, rng);
    case MorphKind::num_conv_layers: return morph_num_conv_layers(c, s, rng);
    case MorphKind::zero_regularization_epochs: return morph_zero_regularization_epochs(c, s, rng);
    case MorphKind::annealing_epochs: return morph_annealing_epochs(c, s, rng);
  }
  return false;
}

MorphResult morph(const Config& reference, const Space& s, PhiloxStream& rng, const std::vector<MorphKind>& allowed,
                  int max_morphs) {
  SPARSE_CHECK(!allowed.empty(), "morph: the allowed set is empty");
  SPARSE_CHECK(max_morphs >= 1, "morph: max_morphs = " << max_morphs << ", expected >= 1");
  const Config start = canonical(reference, s);
  MorphResult r{start, {}};
  const int k = 1 + static_cast<int>(rng.below(static_cast<uint64_t>(max_morphs)));
  constexpr int kDrawsPerStep = 64;
  for (int step = 0; step < k; ++step) {
    bool done = false;
    for (int draw = 0; draw < kDrawsPerStep && !done; ++draw) {
      const MorphKind m = allowed[rng.below(allowed.size())];
      Config candidate = r.config;
      if (!apply_morph(m, candidate, s, rng)) continue;
      if (!validation_error(candidate, s).empty()) continue;
      candidate = canonical(candidate, s);
      // Changed only inert variables, or undid an earlier step: the reference's own network.
      if (candidate == r.config || candidate == start) continue;
      r.config = std::move(candidate);
      r.applied.push_back(m);
      done = true;
    }
    if (!done) break;
  }
  SPARSE_CHECK(!r.applied.empty(), "morph: none of the " << allowed.size() << " allowed morphs gives a valid config in "
                                                         << kDrawsPerStep << " draws");
  return r;
}

}  // namespace sparse::space
