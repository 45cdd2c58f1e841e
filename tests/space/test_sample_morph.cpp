// Property tests: 10,000 uniform samples and 10,000 chained morphs per stage are valid, buildable, with finite
// sizes; each Table 6 morph changes what the table says and nothing else.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "host/core/error.hpp"
#include "host/core/philox.hpp"
#include "host/graph/graph.hpp"
#include "host/memory/memory.hpp"
#include "host/space/morph.hpp"
#include "host/space/sample.hpp"

using namespace sparse::space;

namespace {

void expect_buildable(const Config& c, const std::string& context) {
  ASSERT_EQ(validation_error(c, default_space()), "") << context;
  const sparse::graph::Graph g = sparse::graph::build_graph(c);
  const auto r = sparse::memory::memory_report(g, sparse::memory::dense_state(g));
  ASSERT_GT(r.params, 0) << context;
  ASSERT_GT(r.wm5_bytes, 0) << context;
  ASSERT_GT(r.wm6_bytes, 0) << context;
  ASSERT_LT(r.params, int64_t{1} << 40) << context;
  for (const auto& n : g.nodes) ASSERT_TRUE(n.out.h >= 1 && n.out.w >= 1 && n.out.c >= 1) << n.name << " " << context;
}

// Whether `path` is a variable that has no effect in `c` (canonical.hpp resets those to the space's default, so a
// morph that makes a variable inert also moves it to its default): restated here from the rules, not from the code.
bool inert_in(const Config& c, const std::string& path) {
  const bool has[3] = {c.num_fc_layers >= 1, c.left_branch, c.right_branch};
  const int hidden = int(has[0]) + int(has[1]) + int(has[2]);
  const bool sum_flatten = !has[0] && c.has_merge() && c.merge_type == MergeType::Sum;
  bool pairs = false;
  for (const auto& b : c.blocks) pairs = pairs || b.layers.size() >= 2;
  if (path == "input-downsampling-rate") return !c.downsample_input;
  if (path == "residual-connections") return !pairs;
  if (path == "total-fc-layer-weights") return hidden == 0 || sum_flatten;
  if (path == "weight-fraction-main-branch") return !has[0] || hidden == 1;
  if (path == "weight-fraction-left-branch") return !has[1] || hidden == 1 || sum_flatten;
  if (path == "weight-fraction-right-branch") return !has[2] || hidden == 1 || sum_flatten;
  if (path == "merge-type") return !c.has_merge();
  for (int f = 0; f < 4; ++f)
    if (path == std::string("pruning-threshold-fc.") + kFcNames[f]) return !c.has_fc(static_cast<FcLayer>(f));
  std::smatch m;
  static const std::regex ds(R"(blocks\[(\d+)\]\.layers\[(\d+)\]\.downsample)");
  if (std::regex_match(path, m, ds)) {
    const auto& l = c.blocks[std::stoul(m[1])].layers[std::stoul(m[2])];
    return l.layer_type != LayerType::DownsampledConv2D;
  }
  return false;
}

// The fields a morph changed, less those that are inert in its result (canonicalized to their defaults).
std::vector<std::string> active_diff(const Config& a, const Config& b) {
  std::vector<std::string> d;
  for (const auto& p : config_diff(a, b))
    if (!inert_in(b, p)) d.push_back(p);
  return d;
}

bool all_match(const std::vector<std::string>& diff, const std::regex& re) {
  for (const auto& d : diff)
    if (!std::regex_match(d, re)) return false;
  return true;
}

// What Table 6 allows each morph to change, checked on (before, after, diff).
void expect_table6(MorphKind m, const Config& a, const Config& b, const std::vector<std::string>& d) {
  const std::string ctx = std::string(to_string(m)) + " changed:" + [&] {
    std::string s;
    for (const auto& x : d) s += " " + x;
    return s;
  }();
  ASSERT_FALSE(d.empty()) << ctx;
  const std::string layer = R"(blocks\[\d+\]\.layers\[\d+\]\.)";
  switch (m) {
    case MorphKind::num_fc_layers:
      ASSERT_EQ(d, std::vector<std::string>{"num-fc-layers"}) << ctx;
      ASSERT_EQ(std::abs(a.num_fc_layers - b.num_fc_layers), 1) << ctx;
      break;
    case MorphKind::num_conv_blocks:
      ASSERT_EQ(d, std::vector<std::string>{"num-conv-blocks"}) << ctx;
      ASSERT_EQ(std::abs(a.num_conv_blocks() - b.num_conv_blocks()), 1) << ctx;
      if (b.num_conv_blocks() > a.num_conv_blocks()) {
        ASSERT_EQ(b.blocks.back().layers.size(), 1u) << ctx;
      }
      break;
    case MorphKind::layer_type:
      ASSERT_EQ(d.size(), 1u) << ctx;
      ASSERT_TRUE(all_match(d, std::regex(layer + "layer-type"))) << ctx;
      break;
    case MorphKind::num_conv_filters:
      ASSERT_EQ(d.size(), 1u) << ctx;
      ASSERT_TRUE(all_match(d, std::regex(layer + "num-filters"))) << ctx;
      break;
    case MorphKind::kernel_size:
      ASSERT_EQ(d.size(), 1u) << ctx;
      ASSERT_TRUE(all_match(d, std::regex(layer + "kernel-size"))) << ctx;
      break;
    case MorphKind::downsampling_rate: {
      ASSERT_EQ(d.size(), 1u) << ctx;
      ASSERT_TRUE(all_match(d, std::regex(layer + "downsample"))) << ctx;
      std::smatch sm;
      std::regex_search(d[0], sm, std::regex(R"(blocks\[(\d+)\]\.layers\[(\d+)\])"));
      const auto& l = b.blocks[std::stoul(sm[1])].layers[std::stoul(sm[2])];
      ASSERT_EQ(l.layer_type, LayerType::DownsampledConv2D) << ctx;
      break;
    }
    case MorphKind::batch_norm: ASSERT_EQ(d, std::vector<std::string>{"batch-norm"}) << ctx; break;
    case MorphKind::residual_connections: ASSERT_EQ(d, std::vector<std::string>{"residual-connections"}) << ctx; break;
    case MorphKind::left_branch:
      ASSERT_EQ(d[0], "left-branch") << ctx;
      if (b.left_branch) {
        ASSERT_DOUBLE_EQ(b.weight_fraction_left_branch, 0.05) << ctx;
        ASSERT_TRUE(all_match(d, std::regex("left-branch|weight-fraction-left-branch"))) << ctx;
      } else {
        ASSERT_EQ(d.size(), 1u) << ctx;
      }
      break;
    case MorphKind::right_branch:
      ASSERT_EQ(d[0], "right-branch") << ctx;
      if (b.right_branch) {
        ASSERT_DOUBLE_EQ(b.weight_fraction_right_branch, 0.05) << ctx;
        ASSERT_TRUE(all_match(d, std::regex("right-branch|weight-fraction-right-branch"))) << ctx;
      } else {
        ASSERT_EQ(d.size(), 1u) << ctx;
      }
      break;
    case MorphKind::total_fc_layer_weights:
      ASSERT_EQ(d, std::vector<std::string>{"total-fc-layer-weights"}) << ctx;
      ASSERT_EQ(std::abs(a.total_fc_layer_weights - b.total_fc_layer_weights), 5000) << ctx;
      break;
    case MorphKind::merge_type:
      ASSERT_EQ(d, std::vector<std::string>{"merge-type"}) << ctx;
      ASSERT_TRUE(a.has_merge()) << ctx;
      break;
    case MorphKind::threshold: {
      ASSERT_EQ(d.size(), 1u) << ctx;
      ASSERT_TRUE(all_match(d, std::regex(layer + "pruning-threshold|pruning-threshold-fc\\.(main|left|right|output)")))
          << ctx;
      break;
    }
    case MorphKind::weight_fraction:
      ASSERT_TRUE(all_match(d, std::regex("weight-fraction-(main|left|right)-branch"))) << ctx;
      if (a.weight_fraction_main_branch != b.weight_fraction_main_branch) {
        ASSERT_GE(a.num_fc_layers, 1) << ctx;
        ASSERT_NEAR(std::fabs(a.weight_fraction_main_branch - b.weight_fraction_main_branch), 0.05, 1e-9) << ctx;
      }
      if (a.weight_fraction_left_branch != b.weight_fraction_left_branch) {
        ASSERT_TRUE(a.left_branch) << ctx;
        ASSERT_NEAR(std::fabs(a.weight_fraction_left_branch - b.weight_fraction_left_branch), 0.05, 1e-9) << ctx;
      }
      if (a.weight_fraction_right_branch != b.weight_fraction_right_branch) {
        ASSERT_TRUE(a.right_branch) << ctx;
        ASSERT_NEAR(std::fabs(a.weight_fraction_right_branch - b.weight_fraction_right_branch), 0.05, 1e-9) << ctx;
      }
      break;
    case MorphKind::alpha:
      ASSERT_EQ(d, std::vector<std::string>{"alpha"}) << ctx;
      ASSERT_NEAR(std::fabs(a.alpha - b.alpha), 0.1, 1e-9) << ctx;
      break;
    case MorphKind::num_conv_layers: {
      ASSERT_EQ(d.size(), 1u) << ctx;
      ASSERT_TRUE(all_match(d, std::regex(R"(blocks\[\d+\]\.num-conv-layers)"))) << ctx;
      break;
    }
    case MorphKind::zero_regularization_epochs:
      ASSERT_EQ(d, std::vector<std::string>{"zero-regularization-epochs"}) << ctx;
      break;
    case MorphKind::annealing_epochs: ASSERT_EQ(d, std::vector<std::string>{"annealing-epochs"}) << ctx; break;
  }
}

}  // namespace

TEST(Sample, TenThousandSamplesAreValidAndBuildable) {
  sparse::PhiloxStream rng(2024);
  SampleStats stats;
  std::set<int> kernels, blocks;
  int separable = 0, branches = 0;
  for (int i = 0; i < 10000; ++i) {
    const Config c = sample_config(default_space(), rng, &stats);
    expect_buildable(c, "sample " + std::to_string(i));
    if (testing::Test::HasFatalFailure()) return;
    blocks.insert(c.num_conv_blocks());
    for (const auto& b : c.blocks)
      for (const auto& l : b.layers) {
        kernels.insert(l.kernel_size);
        separable += l.layer_type == LayerType::SeparableConv2D;
      }
    branches += c.left_branch;
  }
  EXPECT_EQ(stats.accepted, 10000u);
  EXPECT_GT(stats.rejected, 0u);  // 28x28 input with up to six 5x5 valid convs: some draws cannot be built
  EXPECT_GT(stats.rejection_rate(), 0.01);
  EXPECT_LT(stats.rejection_rate(), 0.9);
  EXPECT_EQ(kernels, (std::set<int>{2, 3, 4, 5}));
  EXPECT_EQ(blocks, (std::set<int>{1, 2}));
  EXPECT_NEAR(branches / 10000.0, 0.5, 0.05);  // a boolean is uniform over its two levels
  EXPECT_GT(separable, 0);
}

TEST(Sample, InactiveVariablesTakeTheSpaceDefault) {
  sparse::PhiloxStream rng(5);
  for (int i = 0; i < 2000; ++i) {
    const Config c = sample_config(default_space(), rng);
    if (!c.downsample_input) {
      ASSERT_EQ(c.input_downsampling_rate, 2);
    }
    if (!c.left_branch) {
      ASSERT_DOUBLE_EQ(c.weight_fraction_left_branch, 0.05);
    }
    if (!c.has_merge()) {
      ASSERT_EQ(c.merge_type, MergeType::Concatenate);
    }
    for (const auto& b : c.blocks)
      for (const auto& l : b.layers)
        if (l.layer_type != LayerType::DownsampledConv2D) {
          ASSERT_DOUBLE_EQ(l.downsample, 0.5);
        }
  }
}

TEST(Sample, SameSeedSameConfigs) {
  sparse::PhiloxStream a(9), b(9), c(10);
  const Config x = sample_config(default_space(), a), y = sample_config(default_space(), b);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, sample_config(default_space(), c));
}

TEST(Sample, ImpossibleSpaceThrows) {
  Space s = default_space();
  s.input_height = s.input_width = 1;  // a 1x1 input cannot pass the block-end 2x2 pool
  sparse::PhiloxStream rng(1);
  EXPECT_THROW(sample_config(s, rng, nullptr, 1000), sparse::Error);
}

class MorphStage : public testing::TestWithParam<int> {};

TEST_P(MorphStage, TenThousandChainedMorphsFollowTable6) {
  const int stage = GetParam();
  const std::vector<MorphKind> allowed = stage_morphs(stage);
  sparse::PhiloxStream rng(100 + static_cast<uint64_t>(stage));
  Config c = sample_config(default_space(), rng);
  std::map<MorphKind, int> used;
  for (int i = 0; i < 10000; ++i) {
    if (i % 500 == 0) c = sample_config(default_space(), rng);  // fresh references now and then
    const MorphResult r = morph(c, default_space(), rng, allowed, 1);
    ASSERT_EQ(r.applied.size(), 1u);
    ASSERT_NE(std::find(allowed.begin(), allowed.end(), r.applied[0]), allowed.end());
    expect_table6(r.applied[0], c, r.config, active_diff(c, r.config));
    expect_buildable(r.config, "stage " + std::to_string(stage) + " morph " + std::to_string(i));
    if (testing::Test::HasFatalFailure()) return;
    ++used[r.applied[0]];
    c = r.config;
  }
  EXPECT_EQ(used.size(), allowed.size()) << "every allowed morph should occur in 10,000 draws";
  if (stage == 2) {
    for (const auto& [m, n] : used)
      EXPECT_TRUE(m == MorphKind::threshold || m == MorphKind::alpha || m == MorphKind::zero_regularization_epochs ||
                  m == MorphKind::annealing_epochs)
          << to_string(m);
  }
}

TEST_P(MorphStage, MultiMorphsStayValid) {
  sparse::PhiloxStream rng(7 + static_cast<uint64_t>(GetParam()));
  Config c = sample_config(default_space(), rng);
  std::set<size_t> counts;
  for (int i = 0; i < 2000; ++i) {
    const MorphResult r = morph(c, default_space(), rng, stage_morphs(GetParam()), 3);
    counts.insert(r.applied.size());
    ASSERT_EQ(validation_error(r.config, default_space()), "");
    c = r.config;
  }
  EXPECT_TRUE(counts.count(1) && counts.count(3));
}

INSTANTIATE_TEST_SUITE_P(Stages, MorphStage, testing::Values(1, 2, 3));

TEST(Morph, FunctionsReportWhenTheyDoNotApply) {
  Config c = read_config(std::string(SPARSE_SOURCE_DIR) + "/bench/networks/lenet5.json");
  sparse::PhiloxStream rng(3);
  const Config before = c;
  EXPECT_FALSE(morph_downsampling_rate(c, default_space(), rng));  // no DownsampledConv2D layer
  EXPECT_FALSE(morph_merge_type(c, default_space(), rng));         // no branch: merge-type inactive
  EXPECT_EQ(c, before);
  EXPECT_TRUE(morph_left_branch(c, default_space(), rng));
  EXPECT_TRUE(c.left_branch);
  EXPECT_DOUBLE_EQ(c.weight_fraction_left_branch, 0.05);
  EXPECT_TRUE(morph_merge_type(c, default_space(), rng));
  EXPECT_EQ(c.merge_type, MergeType::Sum);
  EXPECT_THROW(morph(before, default_space(), rng, {MorphKind::downsampling_rate}), sparse::Error);
  EXPECT_EQ(morph_kind_from_string("kernel-size"), MorphKind::kernel_size);
  EXPECT_THROW(morph_kind_from_string("kernel"), sparse::Error);
}

TEST(Morph, NumFcLayersAndBlocksStepWithinRange) {
  Config c = read_config(std::string(SPARSE_SOURCE_DIR) + "/bench/networks/lenet5.json");
  sparse::PhiloxStream rng(4);
  ASSERT_TRUE(morph_num_conv_blocks(c, default_space(), rng));  // 2 blocks is the maximum: must go down
  EXPECT_EQ(c.num_conv_blocks(), 1);
  ASSERT_TRUE(morph_num_fc_layers(c, default_space(), rng));  // 1 is the maximum: must go down
  EXPECT_EQ(c.num_fc_layers, 0);
  ASSERT_TRUE(morph_total_fc_layer_weights(c, default_space(), rng));
  EXPECT_EQ(std::abs(c.total_fc_layer_weights - 400000), 5000);
}
