// Exported C against the int8 executor: a sparse model, a branched one (left/right branches + merge, residual
// with a projection and a center crop), a BC-pruned one (zeroed channels), and shrunk sampled configs, with
// random weights calibrated on synthetic data. Each host build (ASan + UBSan) prints scores identical bit for
// bit to nn::run_int8 on test images and random int8 inputs; Cortex-M0 and M3 under QEMU print the host's
// scores, and their measured flash/RAM/stack/instructions are checked against bounds that follow from the model;
// one tiny model runs on every target (M4, M7, M33, AVR too). Lowering: encodings, planner, kernel-contract
// errors; fit checks with the numbers.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <set>

#include "codegen/export.hpp"
#include "codegen/verify.hpp"
#include "datasets/preset.hpp"
#include "host/core/error.hpp"
#include "host/core/philox.hpp"
#include "host/graph/graph.hpp"
#include "host/nn/int8_executor.hpp"
#include "host/nn/network.hpp"
#include "host/space/sample.hpp"
#include "host/space/space.hpp"
#include "tests/common/run_cli.hpp"
#include "tests/common/temp_dir.hpp"

using namespace sparse;
using namespace sparse::codegen;
using graph::NodeKind;

namespace {

data::Dataset synthetic(const space::Config& c, size_t train = 160, size_t test = 12) {
  data::DatasetOptions o;
  o.name = "synthetic";
  o.synthetic_classes = c.num_classes;
  o.synthetic_train = train;
  o.synthetic_test = test;
  o.split_seed = 5;
  o.image_shape = data::ImageShape{c.input_height, c.input_width, c.input_channels};
  return data::load_dataset(o);
}

// Random deterministic weights, He-scaled, `pruned` of them exact zeros; with `dead_channels`, every third
// output channel of each weighted node (and its bias) is zeroed as Bayesian Compression prunes a group, and the
// weights reading those channels are removed. Dead weights are removed as in a trained model
// (nn::remove_dead_weights).
nn::DeterministicModel random_model(const graph::Graph& g, PhiloxStream& rng, double pruned, bool dead_channels = false) {
  nn::DeterministicModel m;
  m.graph = g;
  m.layers.resize(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const graph::Node& n = g.nodes[i];
    if (!n.has_weights()) continue;
    const int64_t count = n.weights - n.biases, cout = n.biases;
    const double fan_in = static_cast<double>(count / cout);
    auto& L = m.layers[i];
    L.weights.resize(static_cast<size_t>(count));
    const double p = i + 1 == g.nodes.size() ? std::min(pruned, 0.2) : pruned;  // keep the output layer alive
    for (auto& w : L.weights) w = rng.uniform() < p ? 0.0f : static_cast<float>(rng.normal() * std::sqrt(2.0 / fan_in));
    L.bias.resize(static_cast<size_t>(cout));
    for (auto& b : L.bias) b = static_cast<float>(0.1 * rng.normal());
    if (dead_channels && i + 1 < g.nodes.size() && cout > 1)
      for (int64_t o = 1; o < cout; o += 3) {
        for (int64_t j = o; j < count; j += cout) L.weights[static_cast<size_t>(j)] = 0.0f;
        L.bias[static_cast<size_t>(o)] = 0.0f;
      }
  }
  nn::remove_dead_weights(m);  // as Network::deterministic_model() does
  return m;
}

space::ConvLayer layer(space::LayerType t, int k, int filters, space::Padding p = space::Padding::same) {
  space::ConvLayer L;
  L.layer_type = t;
  L.kernel_size = k;
  L.num_filters = filters;
  L.padding = p;
  L.downsample = 0.5;
  return L;
}

space::Config base_config(int h, int w, int c, int classes) {
  space::Config cfg;
  cfg.input_height = h;
  cfg.input_width = w;
  cfg.input_channels = c;
  cfg.num_classes = classes;
  cfg.pretraining = false;
  cfg.num_fc_layers = 1;
  return cfg;
}

// One block of two 3x3 convs, FC: the plain sparse model.
space::Config sparse_config() {
  space::Config c = base_config(16, 16, 1, 4);
  c.blocks = {{{layer(space::LayerType::Conv2D, 3, 6), layer(space::LayerType::Conv2D, 3, 8)}}};
  c.total_fc_layer_weights = 4000;
  return c;
}

// Residual pairs (projection + crop from valid padding), separable and downsampled convs, left and right
// branches merged by `merge`, input downsampled in depth.
space::Config branched_config(space::MergeType merge) {
  space::Config c = base_config(14, 14, 3, 5);
  c.residual_connections = true;
  c.downsample_input_in_depth = merge == space::MergeType::Sum;
  c.blocks = {{{layer(space::LayerType::Conv2D, 3, 4), layer(space::LayerType::Conv2D, 3, 6, space::Padding::valid)}},
              {{layer(space::LayerType::SeparableConv2D, 3, 6), layer(space::LayerType::DownsampledConv2D, 3, 6)}}};
  c.left_branch = c.right_branch = true;
  c.merge_type = merge;
  c.total_fc_layer_weights = 900;
  c.weight_fraction_main_branch = 0.6;
  c.weight_fraction_left_branch = c.weight_fraction_right_branch = 0.2;
  return c;
}

// The input downsampled by `rate` (0: not at all) and/or in depth, then one small block: a 28x28 (MNIST-sized)
// image whose layers after the downsampling are small.
space::Config downsampling_config(int h, int w, int c, int rate, bool depth, int filters = 4) {
  space::Config cfg = base_config(h, w, c, 3);
  cfg.downsample_input = rate > 0;
  cfg.input_downsampling_rate = rate > 0 ? rate : 2;
  cfg.downsample_input_in_depth = depth;
  cfg.blocks = {{{layer(space::LayerType::Conv2D, 3, filters, space::Padding::valid)}}};
  cfg.total_fc_layer_weights = 80;
  return cfg;
}

// A model small enough for the ATmega328P's 2 KB of RAM.
space::Config tiny_config() {
  space::Config c = base_config(8, 8, 1, 3);
  c.downsample_input = false;
  c.blocks = {{{layer(space::LayerType::Conv2D, 3, 4, space::Padding::valid)}}};
  c.total_fc_layer_weights = 60;
  return c;
}

struct Exported {
  PreparedModel p;
  VerifyReport report;
  std::vector<std::vector<int8_t>> expected;
  test::TempDir dir;
};

// Export `m` with `k` test images plus `random` random int8 inputs, verify on `targets`.
std::unique_ptr<Exported> export_and_verify(const nn::DeterministicModel& m, const data::Dataset& data,
                                            const std::vector<std::string>& targets, size_t k, size_t random,
                                            uint64_t seed) {
  auto e = std::make_unique<Exported>();
  e->p = prepare_model(m, data, 64, seed);
  std::vector<int8_t> images;
  std::vector<int> labels;
  quantized_test_images(e->p.q, data, k, images, labels);
  PhiloxStream rng(seed, 77);
  const size_t px = static_cast<size_t>(e->p.q.nodes[0].out.size());
  for (size_t r = 0; r < random; ++r) {
    for (size_t j = 0; j < px; ++j) images.push_back(static_cast<int8_t>(static_cast<int>(rng.below(256)) - 128));
    labels.push_back(0);
  }
  for (size_t i = 0; i < labels.size(); ++i) e->expected.push_back(nn::run_int8(e->p.q, images.data() + i * px));
  write_sources(e->p, "net", e->dir.path(), images, labels);
  VerifyOptions o;
  o.targets = targets;
  o.timeout_seconds = 120;
  e->report = verify(e->p, "net", e->dir.path(), e->dir / "build", e->expected, o);
  return e;
}

// A lower bound on multiply-accumulates: non-zero weights times output positions, a quarter of it (padded taps of
// the border positions are skipped).
double mac_lower_bound(const nn::QuantizedModel& q) {
  double n = 0;
  for (const auto& node : q.nodes) {
    int64_t nz = 0;
    for (int8_t w : node.weights) nz += w != 0;
    n += static_cast<double>(nz) * node.out.h * node.out.w;
  }
  return n / 4;
}

// Every target report: bit exact; MCU figures consistent with the model's own numbers.
void expect_report_sound(const Exported& e, const std::set<std::string>& required) {
  const VerifyReport& r = e.report;
  std::printf("%s", format_report(r).c_str());
  ASSERT_FALSE(r.targets.empty());
  EXPECT_EQ(r.targets[0].target, "host");
  for (const TargetReport& t : r.targets) {
    if (!t.skipped.empty()) {
      if (required.count(t.target)) ADD_FAILURE() << t.target << " " << t.skipped;
      continue;
    }
    ASSERT_TRUE(t.ran) << t.target << ": " << t.fit_error;
    EXPECT_EQ(t.mismatches, 0) << t.target << ": " << t.first_mismatch;
    EXPECT_EQ(t.images, static_cast<int>(e.expected.size())) << t.target;
    if (t.target == "host") continue;
    const LoweredModel& m = e.p.lowered;
    // Flash holds every emitted constant plus code; the static RAM is the arena (rounded to alignment).
    EXPECT_GE(t.flash_bytes, m.data_bytes()) << t.target;
    EXPECT_LE(t.flash_bytes, m.data_bytes() + 8000) << t.target << ": code of the kernels and helpers";
    EXPECT_GE(t.static_ram_bytes, m.plan.arena_bytes) << t.target;
    EXPECT_LE(t.static_ram_bytes, m.plan.arena_bytes + 16) << t.target;
    EXPECT_GT(t.stack_bytes, 16) << t.target;
    EXPECT_LT(t.stack_bytes, 1024) << t.target;
    EXPECT_EQ(t.total_ram_bytes, t.static_ram_bytes + t.stack_bytes + m.input_ram_bytes() + m.output_bytes());
    EXPECT_TRUE(t.fit_error.empty()) << t.fit_error;
    // The measured RAM stays within the paper's WM eq. 6 plus the runtime's own bytes (verify.hpp).
    EXPECT_EQ(t.ram_overhead_bytes, t.stack_bytes + t.planner_excess_bytes + t.alignment_bytes) << t.target;
    EXPECT_LE(t.alignment_bytes, 7) << t.target;
    EXPECT_EQ(t.wm_bound_bytes, r.wm6_bytes + t.ram_overhead_bytes) << t.target;
    EXPECT_LE(t.total_ram_bytes, t.wm_bound_bytes) << t.target << ": " << t.wm_error;
    EXPECT_TRUE(t.wm_error.empty()) << t.wm_error;
    // Each non-zero multiply-accumulate is at least one instruction (or cycle).
    EXPECT_GE(t.per_inference, mac_lower_bound(e.p.q)) << t.target;
    EXPECT_GT(t.resolution, 0) << t.target;
  }
  bool skipped = false;
  for (const TargetReport& t : r.targets) skipped |= !t.skipped.empty();
  EXPECT_EQ(r.ok(), !skipped) << format_report(r);
}

std::set<NodeKind> kinds_of(const nn::QuantizedModel& q) {
  std::set<NodeKind> k;
  for (const auto& n : q.nodes) k.insert(n.kind);
  return k;
}

const std::vector<std::string> kCiTargets = {"host", "cortex-m0", "cortex-m3"};
const std::set<std::string> kRequired = {"host", "cortex-m0", "cortex-m3"};

}  // namespace

TEST(Export, SparseModelBitExactOnHostM0M3) {
  PhiloxStream rng(11);
  const space::Config c = sparse_config();
  const data::Dataset data = synthetic(c);
  const nn::DeterministicModel m = random_model(graph::build_graph(c), rng, 0.8);
  auto e = export_and_verify(m, data, kCiTargets, 8, 4, 1);
  expect_report_sound(*e, kRequired);
  std::set<WeightEncoding> enc;
  for (const auto& w : e->p.lowered.weights)
    if (w) enc.insert(w->encoding);
  EXPECT_TRUE(enc.count(WeightEncoding::Bitmask) || enc.count(WeightEncoding::RelativeIndex))
      << "an 80%-sparse model stores some layer sparsely";
  EXPECT_GT(e->p.lowered.index_bytes(), 0);
  int64_t dense = 0;
  for (const auto& f : e->p.lowered.flash) dense += f.dense;
  EXPECT_LT(e->p.lowered.weight_value_bytes() + e->p.lowered.index_bytes(), dense);
  // The header carries the figures and the API; the source has no malloc and only the allowed includes.
  const std::string h = test::slurp(e->dir / "net.h"), src = test::slurp(e->dir / "net.c");
  EXPECT_NE(h.find("int net_predict(const int8_t *input, int8_t *scores);"), std::string::npos);
  EXPECT_NE(h.find("#define NET_INPUT_ZERO_POINT (" + std::to_string(e->p.q.input.zero_point) + ")"), std::string::npos);
  EXPECT_NE(h.find("MS " + std::to_string(e->p.facts.paper.ms_bytes)), std::string::npos);
  EXPECT_NE(h.find("arena " + std::to_string(e->p.lowered.plan.arena_bytes)), std::string::npos);
  EXPECT_EQ(src.find("malloc"), std::string::npos);
  EXPECT_EQ(src.find("#include <stdio.h>"), std::string::npos);
  EXPECT_NE(src.find("static const uint8_t n1_w["), std::string::npos);
}

TEST(Export, BranchedResidualModelsBitExactOnHostM0M3) {
  for (auto merge : {space::MergeType::Sum, space::MergeType::Concatenate}) {
    SCOPED_TRACE(space::to_string(merge));
    PhiloxStream rng(23 + static_cast<int>(merge));
    const space::Config c = branched_config(merge);
    const data::Dataset data = synthetic(c);
    const graph::Graph g = graph::build_graph(c);
    const nn::DeterministicModel m = random_model(g, rng, 0.4);
    auto e = export_and_verify(m, data, kCiTargets, 6, 3, 2);
    const auto k = kinds_of(e->p.q);
    EXPECT_TRUE(k.count(NodeKind::add) && k.count(NodeKind::depthwise_conv) && k.count(NodeKind::max_pool));
    EXPECT_TRUE(k.count(merge == space::MergeType::Sum ? NodeKind::merge_sum : NodeKind::merge_concat));
    bool cropped = false;
    for (const auto& n : e->p.q.nodes) cropped |= n.kind == NodeKind::add && n.in[1].h > n.out.h;
    EXPECT_TRUE(cropped) << "the valid-padded residual pair crops its skip input";
    if (merge == space::MergeType::Sum) {
      EXPECT_TRUE(k.count(NodeKind::channel_max));
    }
    // Branches: the planner searched several orders and kept one no worse than graph order.
    const MemoryPlan in_order = plan_memory(e->p.lowered.tensors, e->p.lowered.ops, 1);
    EXPECT_GT(e->p.lowered.plan.orders_tried, 1);
    EXPECT_LE(e->p.lowered.plan.arena_bytes, in_order.arena_bytes);
    expect_report_sound(*e, kRequired);
  }
}

TEST(Export, BcPrunedModelWithZeroedChannelsBitExact) {
  PhiloxStream rng(31);
  space::Config c = sparse_config();
  c.blocks[0].layers.push_back(layer(space::LayerType::SeparableConv2D, 3, 9));
  const data::Dataset data = synthetic(c);
  const nn::DeterministicModel m = random_model(graph::build_graph(c), rng, 0.1, true);
  const memory::PruningState ps = nn::pruning_state(m);
  bool channels_pruned = false;
  for (size_t i = 0; i < m.graph.nodes.size(); ++i)
    if (m.graph.nodes[i].has_weights()) channels_pruned |= ps.active_channels[i] < m.graph.nodes[i].out.c;
  ASSERT_TRUE(channels_pruned);
  auto e = export_and_verify(m, data, kCiTargets, 6, 3, 3);
  expect_report_sound(*e, kRequired);
  // Zeroed channels cost no weight values in a sparse encoding: the stored values stay below the dense count.
  int64_t values = 0, dense = 0;
  for (const auto& f : e->p.lowered.flash) values += f.values, dense += f.dense;
  EXPECT_LT(values, dense);
}

TEST(Export, SampledConfigsBitExactOnHost) {
  PhiloxStream rng(41);
  int done = 0;
  for (int i = 0; i < 60 && done < 4; ++i) {
    space::Config c = space::sample_config(space::default_space(), rng);
    c.input_height = c.input_width = 10 + i % 3;
    c.input_channels = 1 + i % 2;
    c.num_classes = 2 + i % 4;
    c.input_downsampling_rate = 2;
    c.total_fc_layer_weights = std::min(c.total_fc_layer_weights, 800);
    for (auto& b : c.blocks)
      for (auto& L : b.layers) L.num_filters = std::min(L.num_filters, 5), L.kernel_size = std::min(L.kernel_size, 3);
    graph::Graph g;
    try {
      g = graph::build_graph(c);
    } catch (const Error&) {
      continue;
    }
    SCOPED_TRACE("sampled config " + std::to_string(i));
    const data::Dataset data = synthetic(c, 80, 6);
    auto e = export_and_verify(random_model(g, rng, 0.5), data, {"host"}, 4, 4, 10 + static_cast<uint64_t>(i));
    expect_report_sound(*e, {"host"});
    ++done;
  }
  EXPECT_EQ(done, 4);
}

TEST(Export, TinyModelOnEveryTarget) {
  PhiloxStream rng(53);
  const space::Config c = tiny_config();
  const data::Dataset data = synthetic(c);
  auto e = export_and_verify(random_model(graph::build_graph(c), rng, 0.3), data,
                             {"host", "cortex-m0", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "avr"}, 4, 2, 4);
  expect_report_sound(*e, kRequired);
  EXPECT_EQ(e->report.targets.size(), 7u);
  for (const auto& t : e->report.targets)
    if (t.target == "avr" && t.ran) {
      EXPECT_EQ(t.per_inference_unit, "cycles");
      EXPECT_LE(t.total_ram_bytes, 2048);
    }
}

TEST(Export, FitChecksCarryTheNumbers) {
  PhiloxStream rng(61);
  const space::Config c = sparse_config();
  const data::Dataset data = synthetic(c, 40, 4);
  const PreparedModel p = prepare_model(random_model(graph::build_graph(c), rng, 0.8), data, 16, 0);
  EXPECT_NO_THROW(check_fits(p.lowered, find_target("cortex-m3")));
  try {
    check_fits(p.lowered, find_target("avr"));
    FAIL() << "a 16x16x6 + 16x16x8 activation pair does not fit 2 KB";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("does not fit avr"), std::string::npos) << msg;
    EXPECT_NE(msg.find("arena " + std::to_string(p.lowered.plan.arena_bytes)), std::string::npos) << msg;
    EXPECT_NE(msg.find("2048"), std::string::npos) << msg;
  }
  // A dense 40,000-weight FC does not fit the ATmega328P's 32 KB of flash.
  space::Config big = base_config(16, 16, 1, 4);
  big.blocks = {{{layer(space::LayerType::Conv2D, 1, 1)}}};
  big.total_fc_layer_weights = 40000;
  const data::Dataset bd = synthetic(big, 40, 4);
  const PreparedModel bp = prepare_model(random_model(graph::build_graph(big), rng, 0.0), bd, 16, 0);
  try {
    check_fits(bp.lowered, find_target("avr"));
    FAIL();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("constants alone take " + std::to_string(bp.lowered.data_bytes())), std::string::npos) << msg;
    EXPECT_NE(msg.find("32768"), std::string::npos) << msg;
  }
}

TEST(Export, TestImageChecksCarryTheNumbers) {
  PhiloxStream rng(62);
  const space::Config c = sparse_config();
  const data::Dataset data = synthetic(c, 40, 4);
  const PreparedModel p = prepare_model(random_model(graph::build_graph(c), rng, 0.8), data, 16, 0);
  const int64_t each = p.lowered.input_bytes();
  ASSERT_GT(each, 0);
  const Target& avr = find_target("avr");
  const size_t avr_max = static_cast<size_t>(32767 / each);
  EXPECT_NO_THROW(check_test_images_fit(p.lowered, avr, 0));
  EXPECT_NO_THROW(check_test_images_fit(p.lowered, find_target("host"), 100000));
  try {
    check_test_images_fit(p.lowered, avr, avr_max + 1);
    FAIL() << (avr_max + 1) << " images of " << each << " bytes exceed avr-gcc's largest object";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("--test-images " + std::to_string(avr_max + 1)), std::string::npos) << msg;
    EXPECT_NE(msg.find("32767"), std::string::npos) << msg;
    EXPECT_NE(msg.find("use --test-images " + std::to_string(avr_max) + " or fewer"), std::string::npos) << msg;
  }
  // Beside the constants, the flash bounds the count on a Cortex-M too.
  const Target& m0 = find_target("cortex-m0");
  const int64_t left = m0.flash_bytes - p.lowered.data_bytes();
  const size_t m0_max = static_cast<size_t>(left / each);
  EXPECT_NO_THROW(check_test_images_fit(p.lowered, m0, m0_max));
  try {
    check_test_images_fit(p.lowered, m0, m0_max + 1);
    FAIL() << (m0_max + 1) << " images exceed the M0's flash";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(std::to_string(p.lowered.data_bytes()) + " bytes of constants"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(m0.flash_bytes)), std::string::npos) << msg;
    EXPECT_NE(msg.find("use --test-images " + std::to_string(m0_max) + " or fewer"), std::string::npos) << msg;
  }
}

TEST(Lowering, KernelContractErrorsNameTheNode) {
  PhiloxStream rng(71);
  const space::Config c = tiny_config();
  const data::Dataset data = synthetic(c, 40, 4);
  const PreparedModel p = prepare_model(random_model(graph::build_graph(c), rng, 0.3), data, 16, 0);
  nn::QuantizedModel q = p.q;
  q.nodes[1].kind = static_cast<NodeKind>(99);
  try {
    lower(q);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("node 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not supported by the C runtime"), std::string::npos) << e.what();
  }
  q = p.q;
  q.nodes[1].weights.pop_back();
  try {
    lower(q);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(q.nodes[1].weights.size()) + " weights"), std::string::npos) << e.what();
  }
  q = p.q;
  q.nodes[2].in[0].c += 1;
  EXPECT_THROW(lower(q), Error);
  EXPECT_THROW(check_c_name("9lives"), Error);
  EXPECT_THROW(check_c_name("int"), Error);
  EXPECT_NO_THROW(check_c_name("mnist_2kb"));
}

TEST(Lowering, PlanIsValidAndInPlaceWhereSafe) {
  PhiloxStream rng(83);
  const space::Config c = branched_config(space::MergeType::Sum);
  const data::Dataset data = synthetic(c, 40, 4);
  const PreparedModel p = prepare_model(random_model(graph::build_graph(c), rng, 0.3), data, 16, 0);
  const LoweredModel& L = p.lowered;
  const size_t n = L.q.nodes.size();
  // No two arena tensors alive at the same step overlap, unless one is computed in place over the other.
  std::vector<int> step(n, -1), last(n, -1);
  for (size_t s = 0; s < L.plan.order.size(); ++s) step[static_cast<size_t>(L.plan.order[s]) + 1] = static_cast<int>(s);
  for (size_t t = 1; t < n; ++t) last[t] = step[t];
  for (size_t t = 1; t < n; ++t)
    for (int in : L.q.nodes[t].inputs) last[static_cast<size_t>(in)] = std::max(last[static_cast<size_t>(in)], step[t]);
  int in_place = 0;
  for (size_t a = 1; a + 1 < n; ++a) {
    EXPECT_LE(L.plan.offset[a] + L.tensors[a].bytes, L.plan.arena_bytes);
    if (L.plan.shares_with[a] != static_cast<int>(a)) {
      ++in_place;
      const NodeKind k = L.q.nodes[a].kind;
      EXPECT_TRUE(k == NodeKind::add || k == NodeKind::merge_sum || k == NodeKind::max_pool || k == NodeKind::channel_max)
          << graph::to_string(k) << " never runs in place";
    }
    for (size_t b = a + 1; b + 1 < n; ++b) {
      if (L.plan.shares_with[a] == L.plan.shares_with[b]) continue;
      const bool overlap_time = step[a] <= last[b] && step[b] <= last[a];
      const bool overlap_bytes = L.plan.offset[a] < L.plan.offset[b] + L.tensors[b].bytes &&
                                 L.plan.offset[b] < L.plan.offset[a] + L.tensors[a].bytes;
      EXPECT_FALSE(overlap_time && overlap_bytes) << "tensors " << a << " and " << b;
    }
  }
  EXPECT_GT(in_place, 0) << "max pools and adds reuse their input's bytes";
  EXPECT_GE(L.plan.arena_bytes, L.plan.live_bytes_bound);
}

TEST(Harness, ParserRejectsMalformedOutput) {
  const HarnessOutput o = parse_harness_output("calib 100 5\nimg 0 pred 1 label 1 stack 40 ticks 7 wrap 0 scores -3 9\ndone 1\n");
  ASSERT_EQ(o.images.size(), 1u);
  EXPECT_EQ(o.images[0].scores, (std::vector<int8_t>{-3, 9}));
  EXPECT_EQ(o.calib_ticks, 5);
  EXPECT_EQ(o.correct, 1);
  EXPECT_THROW(parse_harness_output("img 0 pred 1 label 1 stack 40 ticks 7 wrap 0 scores 1\n"), Error);  // no done
  EXPECT_THROW(parse_harness_output("img 0 pred x\ndone 0\n"), Error);
  EXPECT_THROW(parse_harness_output("img 0 pred 1 label 1 stack 4 ticks 7 wrap 0 scores 300\ndone 0\n"), Error);
}

// The host build's sanitizers are live: an arena one byte too small (edited into the generated source) makes the
// verify run fail with AddressSanitizer's report instead of passing.
TEST(Export, HostSanitizerCatchesAnArenaOverrun) {
  PhiloxStream rng(97);
  const space::Config c = tiny_config();
  const data::Dataset data = synthetic(c, 40, 4);
  const PreparedModel p = prepare_model(random_model(graph::build_graph(c), rng, 0.3), data, 16, 0);
  std::vector<int8_t> images;
  std::vector<int> labels;
  quantized_test_images(p.q, data, 2, images, labels);
  test::TempDir d;
  write_sources(p, "net", d.path(), images, labels);
  std::string src = test::slurp(d / "net.c");
  const std::string decl = "static int8_t arena[" + std::to_string(p.lowered.plan.arena_bytes) + "];";
  const auto at = src.find(decl);
  ASSERT_NE(at, std::string::npos);
  src.replace(at, decl.size(), "static int8_t arena[" + std::to_string(p.lowered.plan.arena_bytes - 1) + "];");
  test::write_text(d / "net.c", src);
  std::vector<std::vector<int8_t>> expected;
  for (size_t i = 0; i < labels.size(); ++i) expected.push_back(nn::run_int8(p.q, images.data() + i * 64));
  try {
    verify(p, "net", d.path(), d / "build", expected, VerifyOptions{});
    FAIL() << "the overrun went unnoticed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("AddressSanitizer"), std::string::npos) << e.what();
  }
}

// Input downsampling is part of acquiring the input (REFERENCE.md §1): the exported C pools the raw rows as it
// reads them, so the raw image and the intermediate downsampled tensors are never arena tensors; the scores are
// still bit-exact with nn::run_int8, which runs channel_max / max_pool as nodes, through predict() (raw image
// read in place) and predict_rows() (the host harness checks both give the same scores).
TEST(Export, DownsampledInputIsPooledOnReadBitExact) {
  struct Case {
    int h, w, c, rate;
    bool depth;
  };
  // Rate 3 on 16x16 drops the last raw row and column (floor), as max_pool does.
  for (const Case& k : {Case{16, 16, 1, 2, false}, Case{16, 16, 3, 3, false}, Case{15, 17, 3, 3, true},
                        Case{12, 12, 3, 0, true}}) {
    SCOPED_TRACE(std::to_string(k.h) + "x" + std::to_string(k.w) + "x" + std::to_string(k.c) + " rate " +
                 std::to_string(k.rate) + (k.depth ? " depth max" : ""));
    PhiloxStream rng(static_cast<uint64_t>(400 + k.rate * 10 + k.c));
    const space::Config c = downsampling_config(k.h, k.w, k.c, k.rate, k.depth);
    const graph::Graph g = graph::build_graph(c);
    const data::Dataset data = synthetic(c, 60, 6);
    auto e = export_and_verify(random_model(g, rng, 0.3), data, {"host"}, 6, 4, 7);
    std::printf("%s", format_report(e->report).c_str());
    const LoweredModel& L = e->p.lowered;
    ASSERT_EQ(L.model_input, g.model_input);
    ASSERT_GT(L.model_input, 0);
    EXPECT_EQ(L.acquire_pool, k.rate > 0 ? k.rate : 1);
    EXPECT_EQ(L.acquire_depth_max, k.depth);
    EXPECT_EQ(L.input_ram_bytes(), 0);
    for (int t = 0; t < L.model_input; ++t) EXPECT_EQ(L.plan.offset[static_cast<size_t>(t)], -1) << "tensor " << t;
    EXPECT_GE(L.plan.offset[static_cast<size_t>(L.model_input)], 0);
    ASSERT_EQ(e->report.targets.size(), 1u);
    EXPECT_TRUE(e->report.ok()) << format_report(e->report);
    EXPECT_EQ(e->report.targets[0].mismatches, 0) << e->report.targets[0].first_mismatch;
    EXPECT_EQ(e->report.targets[0].images, 10);
    EXPECT_TRUE(e->report.input_fused);
    EXPECT_EQ(e->report.input_bytes, 0);
    EXPECT_EQ(e->report.raw_input_bytes, static_cast<int64_t>(k.h) * k.w * k.c);
    // No kernel runs over the raw image: the pooling is in the acquisition loop only.
    const std::string src = test::slurp(e->dir / "net.c");
    EXPECT_EQ(src.find("sprt_max_pool(input"), std::string::npos);
    EXPECT_EQ(src.find("sprt_channel_max(input"), std::string::npos);
    EXPECT_NE(src.find("int net_predict_rows(net_row_fn read_row, void *ctx, int8_t *scores)"), std::string::npos);
    const std::string hdr = test::slurp(e->dir / "net.h");
    EXPECT_NE(hdr.find("#define NET_INPUT_IN_RAM_BYTES 0"), std::string::npos);
  }
}

// A 28x28 image downsampled 4x4 into a 7x7 one: the arena holds the downsampled image and the layers after it,
// far below the 784-byte raw image, which the unfused lowering (model input 0) has to keep in RAM.
TEST(Export, ArenaHoldsNoRawInput) {
  PhiloxStream rng(431);
  const space::Config c = downsampling_config(28, 28, 1, 4, false, 2);
  const data::Dataset data = synthetic(c, 40, 4);
  const PreparedModel p = prepare_model(random_model(graph::build_graph(c), rng, 0.3), data, 16, 0);
  const LoweredModel& L = p.lowered;
  ASSERT_TRUE(L.fused_input());
  EXPECT_EQ(L.raw_input_bytes(), 784);
  EXPECT_EQ(L.input_ram_bytes(), 0);
  // 7x7x1 input + 5x5x2 conv output live at once, then the FC.
  EXPECT_EQ(L.plan.arena_bytes, 49 + 50);
  EXPECT_LT(L.plan.arena_bytes + L.input_ram_bytes(), L.raw_input_bytes());
  EXPECT_LE(L.plan.arena_bytes, p.facts.paper.wm6_bytes);
  // The same model lowered with the raw image as a tensor: 784 B of input in RAM and the 28x28 and 7x7 tensors.
  const LoweredModel raw = lower(p.q, 2000, 0);
  EXPECT_FALSE(raw.fused_input());
  EXPECT_EQ(raw.input_ram_bytes(), 784);
  EXPECT_GT(raw.plan.arena_bytes + raw.input_ram_bytes(), L.raw_input_bytes());
  std::printf("28x28, 4x4 input pool: fused arena %lld + input in RAM %lld; unfused arena %lld + input %lld; WM6 %lld\n",
              static_cast<long long>(L.plan.arena_bytes), static_cast<long long>(L.input_ram_bytes()),
              static_cast<long long>(raw.plan.arena_bytes), static_cast<long long>(raw.input_ram_bytes()),
              static_cast<long long>(p.facts.paper.wm6_bytes));
  // The RAM check before the build counts only what is in RAM: it fits the ATmega328P's 2 KB with room to spare.
  EXPECT_NO_THROW(check_fits(L, find_target("avr")));
  // A model input that is not a downsampling chain is refused.
  EXPECT_THROW(lower(p.q, 2000, 3), Error);
}

// The 28x28 model on the emulated targets: bit-exact with the host, the raw test images read from flash
// (PROGMEM rows through predict_rows on AVR), measured RAM within WM eq. 6 + runtime overhead, static RAM = arena.
TEST(Export, DownsampledInputOnTargetsWithinWorkingMemory) {
  PhiloxStream rng(433);
  const space::Config c = downsampling_config(28, 28, 1, 2, false, 2);
  const data::Dataset data = synthetic(c, 40, 4);
  auto e = export_and_verify(random_model(graph::build_graph(c), rng, 0.3), data, {"host", "cortex-m0", "cortex-m3", "avr"},
                             4, 2, 11);
  expect_report_sound(*e, kRequired);
  for (const auto& t : e->report.targets) {
    if (t.target == "host" || !t.ran) continue;
    EXPECT_EQ(t.input_ram_bytes, 0) << t.target;
    EXPECT_LE(t.static_ram_bytes, e->p.lowered.plan.arena_bytes + 8) << t.target << ": no raw input in RAM";
    EXPECT_LT(t.total_ram_bytes - t.stack_bytes, e->p.lowered.raw_input_bytes()) << t.target;
    if (t.target == "avr") {
      EXPECT_LE(t.total_ram_bytes, 2048);
    }
  }
}

// An AVR model whose arena and I/O pass the RAM check but leave too little for the stack: the run reports a
// stack overflow with the RAM figures (the harness's guard below the statics), not a time-out.
TEST(Export, AvrStackOverflowIsReportedAsSuch) {
  if (!target_available(find_target("avr"))) GTEST_SKIP() << "avr-gcc / simavr not installed";
  PhiloxStream rng(435);
  space::Config c = base_config(20, 20, 1, 3);
  c.blocks = {{{layer(space::LayerType::Conv2D, 3, 4)}}};  // 20x20x4 = 1600 B arena + 400 B input in RAM
  c.total_fc_layer_weights = 60;
  const data::Dataset data = synthetic(c, 40, 4);
  auto m = random_model(graph::build_graph(c), rng, 0.3);
  auto e = std::make_unique<Exported>();
  e->p = prepare_model(m, data, 16, 3);
  ASSERT_NO_THROW(check_fits(e->p.lowered, find_target("avr")));
  std::vector<int8_t> images;
  std::vector<int> labels;
  quantized_test_images(e->p.q, data, 2, images, labels);
  for (size_t i = 0; i < labels.size(); ++i) e->expected.push_back(nn::run_int8(e->p.q, images.data() + i * 400));
  write_sources(e->p, "net", e->dir.path(), images, labels);
  VerifyOptions o;
  o.targets = {"host", "avr"};
  o.timeout_seconds = 120;
  const auto t0 = std::chrono::steady_clock::now();
  e->report = verify(e->p, "net", e->dir.path(), e->dir / "build", e->expected, o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string text = format_report(e->report);
  std::printf("%s", text.c_str());
  ASSERT_EQ(e->report.targets.size(), 2u);
  const TargetReport& avr = e->report.targets[1];
  EXPECT_FALSE(avr.ok());
  EXPECT_NE(avr.fit_error.find("stack overflow"), std::string::npos) << avr.fit_error << avr.run_error;
  EXPECT_NE(avr.fit_error.find("2048"), std::string::npos) << avr.fit_error;
  EXPECT_TRUE(avr.run_error.empty()) << avr.run_error;
  EXPECT_LT(seconds, 100) << "reported by the harness, not by the time limit";
  EXPECT_NE(text.find("RUN FAILED: stack overflow"), std::string::npos) << text;
}

// The RAM-vs-WM check fails when anything but the arena (rounded to alignment) is static RAM, e.g. a copy of the
// raw input, and passes at exactly WM eq. 6 + stack + liveness excess + alignment.
TEST(Export, RamCheckAgainstWorkingMemoryCanFail) {
  PhiloxStream rng(437);
  const space::Config c = downsampling_config(28, 28, 1, 2, false, 2);
  const data::Dataset data = synthetic(c, 40, 4);
  const PreparedModel p = prepare_model(random_model(graph::build_graph(c), rng, 0.3), data, 16, 0);
  const LoweredModel& L = p.lowered;
  const int64_t wm6 = p.facts.paper.wm6_bytes;
  TargetReport r;
  r.stack_bytes = 200;
  r.static_ram_bytes = L.plan.arena_bytes + 4;
  r.total_ram_bytes = r.static_ram_bytes + r.stack_bytes + L.output_bytes();
  check_ram_against_wm(r, L, wm6);
  EXPECT_TRUE(r.wm_error.empty()) << r.wm_error;
  EXPECT_EQ(r.wm_bound_bytes, r.total_ram_bytes);
  r.static_ram_bytes = L.plan.arena_bytes + L.raw_input_bytes();  // the raw image copied to RAM
  r.total_ram_bytes = r.static_ram_bytes + r.stack_bytes + L.output_bytes();
  check_ram_against_wm(r, L, wm6);
  EXPECT_NE(r.wm_error.find("exceeds WM eq.6 " + std::to_string(wm6)), std::string::npos) << r.wm_error;
  EXPECT_FALSE(r.ok());
}

// A run that hangs (an endless loop edited into the harness after the second image) is reported as hung with the
// images it printed and the RAM figures, without throwing.
TEST(Export, AvrHangIsReportedWithWhatItPrinted) {
  if (!target_available(find_target("avr"))) GTEST_SKIP() << "avr-gcc / simavr not installed";
  PhiloxStream rng(439);
  const space::Config c = tiny_config();
  const data::Dataset data = synthetic(c, 40, 4);
  const PreparedModel p = prepare_model(random_model(graph::build_graph(c), rng, 0.3), data, 16, 0);
  std::vector<int8_t> images;
  std::vector<int> labels;
  quantized_test_images(p.q, data, 3, images, labels);
  test::TempDir d;
  write_sources(p, "net", d.path(), images, labels);
  std::string src = test::slurp(d / "net_test.c");
  const std::string at = "    correct += pred == label;\n";
  const auto pos = src.find(at);
  ASSERT_NE(pos, std::string::npos);
  src.insert(pos, "#ifdef __AVR__\n    if (i == 2) for (;;) {}\n#endif\n");  // the host run stays sound
  test::write_text(d / "net_test.c", src);
  std::vector<std::vector<int8_t>> expected;
  for (size_t i = 0; i < labels.size(); ++i) expected.push_back(nn::run_int8(p.q, images.data() + i * 64));
  VerifyOptions o;
  o.targets = {"host", "avr"};
  o.timeout_seconds = 5;
  const VerifyReport rep = verify(p, "net", d.path(), d / "build", expected, o);
  const std::string text = format_report(rep);
  std::printf("%s", text.c_str());
  ASSERT_EQ(rep.targets.size(), 2u);
  EXPECT_TRUE(rep.targets[0].ok());
  const TargetReport& avr = rep.targets[1];
  EXPECT_FALSE(avr.ok());
  EXPECT_NE(avr.run_error.find("avr run hung"), std::string::npos) << avr.run_error;
  EXPECT_NE(avr.run_error.find("printed 2 of 3 images"), std::string::npos) << avr.run_error;
  EXPECT_NE(avr.run_error.find("2048"), std::string::npos) << avr.run_error;
  EXPECT_TRUE(avr.fit_error.empty()) << avr.fit_error;
  EXPECT_NE(text.find("RUN FAILED: avr run hung"), std::string::npos) << text;
  EXPECT_FALSE(rep.ok());
}
