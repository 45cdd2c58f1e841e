// The search-space file: the shipped one matches Table 5; a bad file is rejected with a message naming the variable.
#include <gtest/gtest.h>

#include "host/core/error.hpp"
#include "host/core/file_io.hpp"
#include "host/space/space.hpp"

using namespace sparse::space;

TEST(SpaceFile, DefaultSpaceHasTable5Ranges) {
  const Space& s = default_space();
  EXPECT_EQ(s.input_downsampling_rate.lo, 2);
  EXPECT_EQ(s.input_downsampling_rate.hi, 4);
  EXPECT_EQ(s.zero_regularization_epochs.count(), 26);  // [5:1:30]
  EXPECT_EQ(s.annealing_epochs.count(), 11);            // [15:1:25]
  EXPECT_EQ(s.alpha.count(), 100);                      // [1e-2:1e-2:1]
  EXPECT_EQ(s.num_conv_blocks.count(), 2);
  EXPECT_EQ(s.num_fc_layers.count(), 2);
  EXPECT_EQ(s.pruning_threshold.count(), 91);           // [-6:0.1:3]
  EXPECT_EQ(s.total_fc_layer_weights.count(), 800);     // [1:1:800]e3
  EXPECT_EQ(s.num_conv_layers.count(), 3);
  EXPECT_EQ(s.layer_type.levels.size(), 3u);
  EXPECT_EQ(s.kernel_size.count(), 4);                  // [2:1:5]
  EXPECT_EQ(s.num_filters.count(), 100);                // [1:1:100]
  EXPECT_TRUE(s.num_filters.log_scale);
  EXPECT_TRUE(s.total_fc_layer_weights.log_scale);
  EXPECT_EQ(s.merge_type.condition, "left-branch || right-branch");
  EXPECT_EQ(s.max_blocks(), 2);
  EXPECT_EQ(s.max_layers(), 3);
}

TEST(SpaceFile, GridSnapsToDecimals) {
  const Space& s = default_space();
  EXPECT_DOUBLE_EQ(s.pruning_threshold.grid(37), -2.3);
  EXPECT_TRUE(s.pruning_threshold.on_grid(-2.3));
  EXPECT_FALSE(s.pruning_threshold.on_grid(-2.35));
  EXPECT_FALSE(s.pruning_threshold.on_grid(3.1));
}

namespace {
std::string load_error(const nlohmann::json& j) {
  try {
    space_from_json(j, "test-space");
  } catch (const sparse::Error& e) {
    return e.what();
  }
  return "";
}
nlohmann::json default_json() { return sparse::read_json_file(default_space_path()); }
}  // namespace

TEST(SpaceFile, BadFilesNameTheVariable) {
  auto j = default_json();
  j["variables"].erase("kernel-size");
  EXPECT_NE(load_error(j).find("kernel-size is missing"), std::string::npos) << load_error(j);

  j = default_json();
  j["variables"]["alpha"]["range"] = {1.0, 0.5};
  EXPECT_NE(load_error(j).find("variables.alpha.range"), std::string::npos) << load_error(j);

  j = default_json();
  j["variables"]["merge-type"]["condition"] = "left-branch";
  EXPECT_NE(load_error(j).find("variables.merge-type.condition"), std::string::npos) << load_error(j);

  j = default_json();
  j["variables"]["layer-type"]["levels"] = {"Conv2D", "Conv3D"};
  EXPECT_NE(load_error(j).find("unknown level 'Conv3D'"), std::string::npos) << load_error(j);

  j = default_json();
  j["variables"]["num-filters"]["default"] = 500;
  EXPECT_NE(load_error(j).find("variables.num-filters.default"), std::string::npos) << load_error(j);

  j = default_json();
  j["variables"]["dropout"] = j["variables"]["alpha"];
  EXPECT_NE(load_error(j).find("variables.dropout is not a variable"), std::string::npos) << load_error(j);

  EXPECT_EQ(load_error(default_json()), "");
}
