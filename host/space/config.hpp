// Config Ω: one candidate CNN plus its training and pruning hyper-parameters (Table 5), read/written as JSON.
// Invariants: every variable is stored, active or not (inactive ones keep the value they had or the space's
// default); num-conv-blocks = blocks.size() and num-conv-layers-block-k = blocks[k].layers.size();
// the dataset's input shape and num-classes are part of the Config so a Config alone builds its network.
// Choices where Table 5 is silent or ambiguous (REFERENCE.md §2 settles the rest):
//  - annealing-epochs is always active: Table 5 prints "only active if pretraining=False" on this row and on
//    the pretraining row itself (an evident copy error); REFERENCE.md §5 anneals after the
//    zero-regularization epochs in every case.
//  - FC layers need pruning thresholds too: pruning-threshold-fc.{main,left,right,output}, same range as the
//    conv thresholds, active when that FC layer exists.
//  - residual-connections (Table 6, absent from Table 5) is one global switch; padding {same, valid} per layer.
//  - downsample lies in [0.01, 0.5] (0 would give a 1x1 conv to 0 channels); weight fractions step 0.01.
//  - merge-type is stored as Sum/Concatenate; inactive variables keep their value (the GP imputes them).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/space/space.hpp"

namespace sparse::space {

enum class LayerType { Conv2D, DownsampledConv2D, SeparableConv2D };
enum class Padding { same, valid };
enum class MergeType { Sum, Concatenate };

const char* to_string(LayerType t);
const char* to_string(Padding p);
const char* to_string(MergeType m);

struct ConvLayer {
  LayerType layer_type = LayerType::Conv2D;
  int kernel_size = 3;
  int num_filters = 8;
  Padding padding = Padding::same;
  double downsample = 0.5;         // DownsampledConv2D: 1x1 conv to ceil(downsample * C_prev) channels
  double pruning_threshold = 3.0;  // τ for this layer (SpVD log α threshold)
  bool operator==(const ConvLayer&) const = default;
};

struct ConvBlock {
  std::vector<ConvLayer> layers;
  bool operator==(const ConvBlock&) const = default;
};

// The FC layers a Config can have; index into Config::pruning_threshold_fc.
enum FcLayer { fc_main = 0, fc_left = 1, fc_right = 2, fc_output = 3 };
inline constexpr const char* kFcNames[4] = {"main", "left", "right", "output"};

struct Config {
  // Dataset (not searched): input shape H x W x C and number of classes.
  int input_height = 28, input_width = 28, input_channels = 1, num_classes = 10;
  bool downsample_input_in_depth = false;
  bool downsample_input = false;
  int input_downsampling_rate = 2;
  bool pretraining = true;
  int zero_regularization_epochs = 5;
  int annealing_epochs = 15;
  double alpha = 1.0;
  bool batch_norm = false;
  bool residual_connections = false;
  std::vector<ConvBlock> blocks;
  int num_fc_layers = 1;
  int total_fc_layer_weights = 10000;
  double weight_fraction_main_branch = 1.0;
  bool left_branch = false, right_branch = false;
  double weight_fraction_left_branch = 0.05, weight_fraction_right_branch = 0.05;
  MergeType merge_type = MergeType::Concatenate;
  double pruning_threshold_fc[4] = {3.0, 3.0, 3.0, 3.0};  // τ of FC main, left, right, output
  bool operator==(const Config&) const = default;

  int num_conv_blocks() const { return static_cast<int>(blocks.size()); }
  bool has_merge() const { return left_branch || right_branch; }
  bool has_fc(FcLayer f) const;
};

nlohmann::json to_json(const Config& c);
// Parse a Config; unknown keys, missing keys and wrong types are errors that name the field.
Config config_from_json(const nlohmann::json& j);
Config read_config(const std::string& path);

// Throws sparse::Error naming the field, its value and the allowed range or condition when `c` is outside
// `space` or its network cannot be built (a spatial size below 1).
void validate(const Config& c, const Space& space);
// Same check, returning the message ("" when valid) instead of throwing.
std::string validation_error(const Config& c, const Space& space);

// Fields that differ between a and b, as paths ("alpha", "blocks[0].layers[1].kernel-size",
// "num-conv-blocks", "blocks[1].num-conv-layers"). Layers past the shorter list are not compared.
std::vector<std::string> config_diff(const Config& a, const Config& b);

}  // namespace sparse::space
