// Config JSON round trip and validation: every kind of bad config is rejected with a message naming the field.
#include <gtest/gtest.h>

#include <functional>

#include "host/core/error.hpp"
#include "host/core/philox.hpp"
#include "host/space/config.hpp"
#include "host/space/sample.hpp"

using namespace sparse::space;

namespace {
Config lenet() { return read_config(std::string(SPARSE_SOURCE_DIR) + "/bench/networks/lenet5.json"); }

std::string parse_error(const nlohmann::json& j) {
  try {
    config_from_json(j);
  } catch (const sparse::Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Config, ReferenceNetworksAreValid) {
  const Config c = lenet();
  EXPECT_EQ(c.num_conv_blocks(), 2);
  EXPECT_EQ(c.blocks[1].layers[0].num_filters, 50);
  EXPECT_EQ(validation_error(c, default_space()), "");
  const Config t = read_config(std::string(SPARSE_SOURCE_DIR) + "/bench/networks/tiny.json");
  EXPECT_EQ(t.blocks[1].layers[0].layer_type, LayerType::SeparableConv2D);
  EXPECT_EQ(validation_error(t, default_space()), "");
}

TEST(Config, JsonRoundTripIsExact) {
  sparse::PhiloxStream rng(11);
  for (int i = 0; i < 200; ++i) {
    const Config c = sample_config(default_space(), rng);
    const Config back = config_from_json(nlohmann::json::parse(to_json(c).dump()));
    ASSERT_EQ(back, c) << to_json(c).dump();
  }
}

TEST(Config, ParseErrorsNameTheField) {
  auto j = to_json(lenet());
  j.erase("alpha");
  EXPECT_NE(parse_error(j).find("'alpha' is missing"), std::string::npos) << parse_error(j);

  j = to_json(lenet());
  j["batch-norm"] = 1;
  EXPECT_NE(parse_error(j).find("'batch-norm' = 1, expected true or false"), std::string::npos) << parse_error(j);

  j = to_json(lenet());
  j["blocks"][0]["layers"][0]["layer-type"] = "Conv3D";
  EXPECT_NE(parse_error(j).find("'blocks[0].layers[0].layer-type' = \"Conv3D\""), std::string::npos) << parse_error(j);

  j = to_json(lenet());
  j["blocks"][1]["layers"][0]["kernel-size"] = 2.5;
  EXPECT_NE(parse_error(j).find("'blocks[1].layers[0].kernel-size' = 2.5, expected an integer"), std::string::npos)
      << parse_error(j);

  j = to_json(lenet());
  j["kernal-size"] = 3;
  EXPECT_NE(parse_error(j).find("'kernal-size' is not a Config field"), std::string::npos) << parse_error(j);

  j = to_json(lenet());
  j["merge-type"] = "Max";
  EXPECT_NE(parse_error(j).find("'merge-type' = \"Max\", expected one of: Sum Concatenate"), std::string::npos)
      << parse_error(j);

  j = to_json(lenet());
  j["pruning-threshold-fc"].erase("output");
  EXPECT_NE(parse_error(j).find("'pruning-threshold-fc.output' is missing"), std::string::npos) << parse_error(j);
}

struct BadCase {
  const char* what;
  std::function<void(Config&)> mutate;
  const char* expected;  // substring of the message
};

TEST(Config, ValidationErrorsNameFieldValueAndRange) {
  const std::vector<BadCase> cases = {
      {"kernel too large", [](Config& c) { c.blocks[0].layers[0].kernel_size = 7; },
       "'blocks[0].layers[0].kernel-size' = 7 is outside the allowed range [2:1:5]"},
      {"too many filters", [](Config& c) { c.blocks[1].layers[0].num_filters = 101; },
       "'blocks[1].layers[0].num-filters' = 101 is outside the allowed range [1:1:100]"},
      {"threshold off grid", [](Config& c) { c.blocks[0].layers[0].pruning_threshold = 0.25; },
       "'blocks[0].layers[0].pruning-threshold' = 0.25 is outside the allowed range [-6:0.1:3]"},
      {"downsample zero", [](Config& c) { c.blocks[0].layers[0].downsample = 0.0; },
       "'blocks[0].layers[0].downsample' = 0 is outside the allowed range [0.01:0.01:0.5]"},
      {"alpha zero", [](Config& c) { c.alpha = 0.0; }, "'alpha' = 0 is outside the allowed range [0.01:0.01:1]"},
      {"zero-reg epochs", [](Config& c) { c.zero_regularization_epochs = 31; },
       "'zero-regularization-epochs' = 31 is outside the allowed range [5:1:30]"},
      {"annealing epochs", [](Config& c) { c.annealing_epochs = 14; },
       "'annealing-epochs' = 14 is outside the allowed range [15:1:25]"},
      {"downsampling rate", [](Config& c) { c.input_downsampling_rate = 5; },
       "'input-downsampling-rate' = 5 is outside the allowed range [2:1:4]"},
      {"three blocks", [](Config& c) { c.blocks.push_back(c.blocks[0]); },
       "'num-conv-blocks' = 3 is outside the allowed range [1:1:2]"},
      {"no blocks", [](Config& c) { c.blocks.clear(); }, "'num-conv-blocks' = 0 is outside the allowed range [1:1:2]"},
      {"four layers", [](Config& c) { c.blocks[0].layers.resize(4, c.blocks[0].layers[0]); },
       "'blocks[0].num-conv-layers' = 4 is outside the allowed range [1:1:3]"},
      {"two fc layers", [](Config& c) { c.num_fc_layers = 2; }, "'num-fc-layers' = 2 is outside the allowed range [0:1:1]"},
      {"fc weights", [](Config& c) { c.total_fc_layer_weights = 1500; },
       "'total-fc-layer-weights' = 1500 is outside the allowed range [1000:1000:800000]"},
      {"main fraction", [](Config& c) { c.weight_fraction_main_branch = 1.5; },
       "'weight-fraction-main-branch' = 1.5 is outside the allowed range [0:0.01:1]"},
      {"left fraction", [](Config& c) { c.weight_fraction_left_branch = 0.0; },
       "'weight-fraction-left-branch' = 0 is outside the allowed range [0.01:0.01:1]"},
      {"fc threshold", [](Config& c) { c.pruning_threshold_fc[fc_output] = -7; },
       "'pruning-threshold-fc.output' = -7 is outside the allowed range [-6:0.1:3]"},
      {"input", [](Config& c) { c.input_height = 0; }, "'input' = 0x28x1, expected height, width and channels >= 1"},
      {"classes", [](Config& c) { c.num_classes = 1; }, "'num-classes' = 1, expected >= 2"},
      {"spatial < 1 after convs",
       [](Config& c) {
         c.blocks[1].layers.assign(3, c.blocks[1].layers[0]);  // 12x12 -> 8 -> 4 -> 0 with 5x5 valid
       },
       "'blocks[1].layers[2].kernel-size' = 5 with padding valid on a 4x4 input gives 0x0"},
      {"spatial < 1 after pool",
       [](Config& c) {
         c.input_height = c.input_width = 10;     // conv 5x5 valid -> 6, pool -> 3
         c.blocks[1].layers[0].kernel_size = 3;  // 3x3 valid -> 1, pool -> 0
       },
       "'blocks[1]': the block-end 2x2 max pool on a 1x1 input gives 0x0"},
      {"input downsampling too strong",
       [](Config& c) {
         c.input_height = 3;
         c.downsample_input = true;
         c.input_downsampling_rate = 4;
       },
       "'input-downsampling-rate' = 4 turns the 3x28 input into 0x7"},
  };
  for (const auto& bc : cases) {
    Config c = lenet();
    bc.mutate(c);
    const std::string msg = validation_error(c, default_space());
    EXPECT_NE(msg.find(bc.expected), std::string::npos) << bc.what << ": got '" << msg << "'";
  }
}

TEST(Config, NarrowerSpaceRejectsWhatTheDefaultAllows) {
  Space s = default_space();
  s.layer_type.levels = {"Conv2D"};
  Config c = read_config(std::string(SPARSE_SOURCE_DIR) + "/bench/networks/tiny.json");
  EXPECT_NE(validation_error(c, s).find("'blocks[1].layers[0].layer-type' = \"SeparableConv2D\" is not allowed"),
            std::string::npos)
      << validation_error(c, s);
  s.batch_norm.levels = {"true"};
  EXPECT_NE(validation_error(lenet(), s).find("'batch-norm' = false is not allowed"), std::string::npos);
}

TEST(Config, DiffNamesChangedFields) {
  Config a = lenet(), b = lenet();
  EXPECT_TRUE(config_diff(a, b).empty());
  b.blocks[1].layers[0].kernel_size = 3;
  b.alpha = 0.5;
  b.blocks.push_back(b.blocks[0]);
  const auto d = config_diff(a, b);
  EXPECT_EQ(d, (std::vector<std::string>{"alpha", "num-conv-blocks", "blocks[1].layers[0].kernel-size"}));
}
