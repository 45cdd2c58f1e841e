// The search space Ω of Table 5 as data: one VarSpec per variable (range, step, levels, default, condition).
// Invariants after load: every Table 5 variable is present with the engine's condition, lo <= default <= hi,
// steps > 0, categorical levels are known names; the file decides ranges, never names or conditions.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sparse::space {

enum class VarType { boolean, integer, real, categorical };

struct VarSpec {
  std::string name;       // paper name, e.g. "kernel-size"
  VarType type = VarType::integer;
  double lo = 0, hi = 0, step = 1;  // integer/real: grid lo, lo+step, ..., hi
  std::vector<std::string> levels;  // categorical: allowed level names; boolean: allowed of "false","true"
  double default_value = 0;         // integer/real/boolean (0/1): value stored while inactive
  std::string default_level;        // categorical
  bool log_scale = false;           // encode on log scale (counts)
  std::string condition;            // when the variable is active ("" = always)

  // Number of grid points (integer/real) or levels.
  int count() const;
  // Grid point i in [0, count()), snapped to 6 decimals so JSON round-trips print cleanly.
  double grid(int i) const;
  // Index of the grid point nearest to v (may be outside [0, count()) when v is outside the range).
  long nearest_index(double v) const;
  bool on_grid(double v) const;
  bool allows(bool b) const;                      // boolean
  int level_index(const std::string& level) const;  // categorical: index or -1
  std::string range_text() const;                 // "[2:1:5]" or "{Conv2D, SeparableConv2D}"
};

struct Space {
  int input_height = 28, input_width = 28, input_channels = 1, num_classes = 10;
  VarSpec downsample_input_in_depth, downsample_input, input_downsampling_rate, pretraining,
      zero_regularization_epochs, annealing_epochs, alpha, batch_norm, residual_connections, num_conv_blocks,
      num_conv_layers, layer_type, kernel_size, num_filters, padding, downsample, pruning_threshold, num_fc_layers,
      total_fc_layer_weights, weight_fraction_main_branch, left_branch, right_branch, weight_fraction_left_branch,
      weight_fraction_right_branch, merge_type, pruning_threshold_fc;

  int max_blocks() const { return static_cast<int>(num_conv_blocks.hi); }
  int max_layers() const { return static_cast<int>(num_conv_layers.hi); }
};

// The space file shipped with the sources (host/space/default_space.json).
std::filesystem::path default_space_path();
// Parse and check a space; errors name the file, the variable and what was expected.
Space load_space(const std::filesystem::path& path);
Space space_from_json(const nlohmann::json& j, const std::string& origin);
// The default space, loaded once.
const Space& default_space();

}  // namespace sparse::space
