// canonical(): inactive variables to the space's defaults (see canonical.hpp for what counts as inactive).
#include "host/space/canonical.hpp"

#include "host/space/sample.hpp"

namespace sparse::space {

Config canonical(const Config& in, const Space& s) {
  Config c = in;
  if (!c.downsample_input) c.input_downsampling_rate = static_cast<int>(s.input_downsampling_rate.default_value);
  bool pairs = false;
  for (auto& b : c.blocks) {
    pairs = pairs || b.layers.size() >= 2;
    for (auto& l : b.layers)
      if (l.layer_type != LayerType::DownsampledConv2D) l.downsample = s.downsample.default_value;
  }
  if (!pairs) c.residual_connections = s.residual_connections.default_value != 0;
  const bool has[3] = {c.num_fc_layers >= 1, c.left_branch, c.right_branch};
  const int hidden = int(has[0]) + int(has[1]) + int(has[2]);
  // A Sum merge without a main FC layer sizes every branch to the main flatten: W and the fractions are inert.
  const bool sum_flatten = !has[0] && c.has_merge() && c.merge_type == MergeType::Sum;
  if (hidden == 0 || sum_flatten) c.total_fc_layer_weights = static_cast<int>(s.total_fc_layer_weights.default_value);
  // A fraction matters only relative to the others: with one hidden layer it is inert.
  if (!has[0] || hidden == 1) c.weight_fraction_main_branch = s.weight_fraction_main_branch.default_value;
  if (!has[1] || hidden == 1 || sum_flatten) c.weight_fraction_left_branch = s.weight_fraction_left_branch.default_value;
  if (!has[2] || hidden == 1 || sum_flatten) c.weight_fraction_right_branch = s.weight_fraction_right_branch.default_value;
  if (!c.has_merge()) c.merge_type = default_merge_type(s);
  for (int f = 0; f < 4; ++f)
    if (!c.has_fc(static_cast<FcLayer>(f))) c.pruning_threshold_fc[f] = s.pruning_threshold_fc.default_value;
  return c;
}

std::string canonical_key(const Config& c, const Space& s) { return to_json(canonical(c, s)).dump(); }

}  // namespace sparse::space
