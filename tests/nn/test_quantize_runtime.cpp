// The int8 executor against the C runtime (codegen/runtime/sparse_rt.c, REFERENCE.md §6) and the float model:
// requantization primitives equal sprt's on random and edge values; on tiny.json and sampled configs (shrunk
// to small sizes, random weights with pruned zeros) every node equals the same node computed by the sprt
// kernels from the QuantizedModel's parameters (dense weights), and a whole network chained through sprt gives
// the same logits; dequantized logits stay close to the float executor's and the argmax agrees; int8_accuracy
// normalizes like datasets/batches.cpp and does not depend on its thread count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "host/core/error.hpp"
#include "host/core/philox.hpp"
#include "host/graph/graph.hpp"
#include "host/nn/float_executor.hpp"
#include "host/nn/int8_executor.hpp"
#include "host/nn/quantize.hpp"
#include "host/space/config.hpp"
#include "host/space/sample.hpp"
#include "host/space/space.hpp"

extern "C" {
#include "sparse_rt.h"
}

using namespace sparse;
using namespace sparse::nn;
using graph::NodeKind;
using graph::Shape;

namespace {

// Random deterministic weights: He-scaled normals, a fraction pruned to exact zeros, now and then a whole
// output channel pruned (its weight scale is then 1).
DeterministicModel random_model(const graph::Graph& g, PhiloxStream& rng, double pruned = 0.3) {
  DeterministicModel m;
  m.graph = g;
  m.layers.resize(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const graph::Node& n = g.nodes[i];
    if (!n.has_weights()) continue;
    const int64_t count = n.weights - n.biases, cout = n.biases;
    const double fan_in = static_cast<double>(count / cout);
    auto& L = m.layers[i];
    L.weights.resize(static_cast<size_t>(count));
    for (auto& w : L.weights)
      w = rng.uniform() < pruned ? 0.0f : static_cast<float>(rng.normal() * std::sqrt(2.0 / fan_in));
    const auto dead = static_cast<int64_t>(rng.below(static_cast<uint64_t>(cout) * 4));  // channel to prune, if < cout
    if (dead < cout)
      for (int64_t j = dead; j < count; j += cout) L.weights[static_cast<size_t>(j)] = 0.0f;
    L.bias.resize(static_cast<size_t>(cout));
    for (auto& b : L.bias) b = static_cast<float>(0.1 * rng.normal());
  }
  return m;
}

std::vector<float> random_images(PhiloxStream& rng, const Shape& s, size_t count) {
  std::vector<float> x(static_cast<size_t>(s.size()) * count);
  for (auto& v : x) v = static_cast<float>(rng.normal());
  return x;
}

graph::Graph tiny_graph() { return graph::build_graph(space::read_config(SPARSE_SOURCE_DIR "/bench/networks/tiny.json")); }

// A config from the sampler, shrunk (input, filters, FC weights) so a test runs in milliseconds, with the
// switches forced by `i` so that a dozen configs cover every node kind.
graph::Graph small_sampled_graph(int i, PhiloxStream& rng) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    space::Config c = space::sample_config(space::default_space(), rng);
    c.input_height = c.input_width = 10 + i % 3;
    c.input_channels = 1 + i % 3;
    c.num_classes = 2 + i % 5;
    c.downsample_input_in_depth = i % 4 == 1;
    c.downsample_input = i % 5 == 2;
    c.input_downsampling_rate = 2;
    c.residual_connections = i % 2 == 0;
    c.left_branch = i % 3 != 0;
    c.right_branch = i % 3 == 2 || i % 4 == 3;
    c.merge_type = i % 2 == 1 ? space::MergeType::Sum : space::MergeType::Concatenate;
    c.num_fc_layers = i % 6 == 4 ? 0 : 1;
    c.total_fc_layer_weights = std::min(c.total_fc_layer_weights, 1500);
    for (auto& b : c.blocks)
      for (auto& L : b.layers) {
        L.num_filters = std::min(L.num_filters, 2 + static_cast<int>(rng.below(5)));
        L.kernel_size = std::min(L.kernel_size, 3 + i % 2);
        if (i % 4 == 0) L.padding = space::Padding::valid;
      }
    try {
      graph::Graph g = graph::build_graph(c);
      if (g.nodes.back().out.c == c.num_classes) return g;
    } catch (const sparse::Error&) {
      // unbuildable after shrinking: draw again
    }
  }
  ADD_FAILURE() << "no buildable small config for case " << i;
  return {};
}

sprt_shape rt_shape(const Shape& s, int32_t zp) { return sprt_shape{s.h, s.w, s.c, zp}; }

// Node i computed by the sprt kernels from the QuantizedModel's parameters, reading its inputs from `act`.
std::vector<int8_t> runtime_node(const QuantizedModel& qm, size_t i, const std::vector<std::vector<int8_t>>& act) {
  const QuantizedNode& q = qm.nodes[i];
  std::vector<int8_t> y(static_cast<size_t>(q.out.size()));
  auto in = [&](size_t k) { return act[static_cast<size_t>(q.inputs[k])].data(); };
  const auto n = static_cast<int32_t>(y.size());
  switch (q.kind) {
    case NodeKind::input: return act[0];
    case NodeKind::channel_max: sprt_channel_max(in(0), rt_shape(q.in[0], q.in_quant[0].zero_point), y.data()); break;
    case NodeKind::max_pool:
      sprt_max_pool(in(0), rt_shape(q.in[0], q.in_quant[0].zero_point), q.pool, q.pool, q.out.h, q.out.w, y.data());
      break;
    case NodeKind::conv:
    case NodeKind::depthwise_conv:
    case NodeKind::fc: {
      const Shape s = q.kind == NodeKind::fc ? Shape{1, 1, static_cast<int>(q.in[0].size())} : q.in[0];
      const sprt_weights w{SPRT_DENSE, reinterpret_cast<const uint8_t*>(q.weights.data())};
      sprt_conv2d(in(0), rt_shape(s, q.in_quant[0].zero_point), &w, q.bias.data(), q.multiplier.data(), q.shift.data(),
                  q.cout, q.kernel_h, q.kernel_w, q.stride, q.pad_top, q.pad_left, q.groups, q.out.h, q.out.w,
                  q.output.zero_point, q.act_min, q.act_max, y.data());
      break;
    }
    case NodeKind::add: {
      const Shape a = q.in[0], b = q.in[1];
      std::vector<int8_t> crop(y.size());
      for (int r = 0; r < a.h; ++r)
        for (int c = 0; c < a.w; ++c)
          for (int ch = 0; ch < a.c; ++ch)
            crop[static_cast<size_t>((r * a.w + c) * a.c + ch)] =
                in(1)[((r + q.crop_top) * b.w + c + q.crop_left) * b.c + ch];
      const AddStep& s = q.add_steps.at(0);
      sprt_add(in(0), s.input1_zero_point, s.input1_multiplier, s.input1_shift, crop.data(), s.input2_zero_point,
               s.input2_multiplier, s.input2_shift, n, s.output.zero_point, s.output_multiplier, s.output_shift,
               s.act_min, s.act_max, y.data());
      break;
    }
    case NodeKind::merge_sum: {
      std::vector<int8_t> acc(in(0), in(0) + y.size()), next(y.size());
      for (size_t k = 0; k < q.add_steps.size(); ++k) {
        const AddStep& s = q.add_steps[k];
        sprt_add(acc.data(), s.input1_zero_point, s.input1_multiplier, s.input1_shift, in(k + 1), s.input2_zero_point,
                 s.input2_multiplier, s.input2_shift, n, s.output.zero_point, s.output_multiplier, s.output_shift,
                 s.act_min, s.act_max, next.data());
        std::swap(acc, next);
      }
      y = acc;
      break;
    }
    case NodeKind::merge_concat:
      for (size_t k = 0; k < q.concat_parts.size(); ++k) {
        const ConcatPart& p = q.concat_parts[k];
        sprt_concat_channels(in(k), q.out.h * q.out.w, p.channels, p.input_zero_point, p.identity ? 1 : 0, p.multiplier,
                             p.shift, q.out.c, p.channel_offset, q.output.zero_point, y.data());
      }
      break;
  }
  return y;
}

// For each image: every node of run_int8 equals runtime_node on run_int8's inputs, and the network chained
// through the runtime alone ends in the same logits. Returns the node kinds seen.
std::set<NodeKind> expect_bit_exact(const DeterministicModel& m, PhiloxStream& rng, size_t images, const std::string& what) {
  const Shape in = m.graph.nodes[0].out;
  const std::vector<float> calib = random_images(rng, in, 8);
  const QuantizedModel q = quantize(m, calib.data(), 8);
  std::set<NodeKind> kinds;
  for (size_t t = 0; t < images; ++t) {
    const std::vector<float> x = random_images(rng, in, 1);
    const std::vector<int8_t> xq = quantize_input(q, x.data());
    std::vector<std::vector<int8_t>> act;
    const std::vector<int8_t> logits = run_int8(q, xq.data(), &act);
    std::vector<std::vector<int8_t>> chained(act.size());
    chained[0] = xq;
    for (size_t i = 0; i < act.size(); ++i) {
      kinds.insert(q.nodes[i].kind);
      EXPECT_EQ(runtime_node(q, i, act), act[i]) << what << ", image " << t << ", node " << q.nodes[i].name;
      if (i > 0) chained[i] = runtime_node(q, i, chained);
    }
    EXPECT_EQ(chained.back(), logits) << what << ", image " << t;
  }
  return kinds;
}

}  // namespace

TEST(Int8VsRuntime, RequantizationPrimitivesAgree) {
  PhiloxStream rng(3);
  const int32_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  const int32_t edges[] = {lo, lo + 1, -(1 << 30), -3, -1, 0, 1, 3, 1 << 30, hi - 1, hi};
  for (int32_t a : edges)
    for (int32_t b : edges) ASSERT_EQ(saturating_rounding_doubling_high_mul(a, b), sprt_srdhm(a, b)) << a << " " << b;
  for (int t = 0; t < 200000; ++t) {
    // Mix full-range words with small ones so ties and sign changes come up.
    const auto a = static_cast<int32_t>(t % 3 == 0 ? rng.next_u32() : static_cast<int32_t>(rng.below(4001)) - 2000);
    const int32_t m = t % 5 == 0 ? (1 << 30) : static_cast<int32_t>((1u << 30) + rng.below(1u << 30));
    const int e = static_cast<int>(rng.below(32));
    const int shift = static_cast<int>(rng.below(62)) - 31;  // [-31, 30]
    ASSERT_EQ(saturating_rounding_doubling_high_mul(a, m), sprt_srdhm(a, m)) << a << " " << m;
    ASSERT_EQ(rounding_divide_by_pot(a, e), sprt_rdbpot(a, e)) << a << " " << e;
    ASSERT_EQ(multiply_by_quantized_multiplier(a, m, shift), sprt_mbqm(a, m, shift)) << a << " " << m << " " << shift;
  }
}

TEST(Int8VsRuntime, TinyNetEveryNodeBitExact) {
  PhiloxStream rng(17);
  const DeterministicModel m = random_model(tiny_graph(), rng);
  const std::set<NodeKind> kinds = expect_bit_exact(m, rng, 4, "tiny.json");
  EXPECT_TRUE(kinds.count(NodeKind::depthwise_conv) && kinds.count(NodeKind::fc) && kinds.count(NodeKind::max_pool));
}

TEST(Int8VsRuntime, SampledConfigsEveryNodeBitExact) {
  PhiloxStream rng(29);
  std::set<NodeKind> kinds;
  bool three_way_sum = false, cropped_add = false;
  for (int i = 0; i < 12; ++i) {
    const graph::Graph g = small_sampled_graph(i, rng);
    ASSERT_FALSE(g.nodes.empty());
    const DeterministicModel m = random_model(g, rng);
    const std::set<NodeKind> k = expect_bit_exact(m, rng, 2, "sampled config " + std::to_string(i));
    kinds.insert(k.begin(), k.end());
    for (const auto& n : g.nodes) {
      three_way_sum |= n.kind == NodeKind::merge_sum && n.inputs.size() == 3;
      cropped_add |= n.kind == NodeKind::add && g.nodes[static_cast<size_t>(n.inputs[1])].out.h > n.out.h;
    }
  }
  EXPECT_EQ(kinds.size(), 9u) << "every node kind is covered";
  EXPECT_TRUE(three_way_sum);
  EXPECT_TRUE(cropped_add);
}

TEST(Int8VsFloat, TinyNetLogitsCloseAndArgmaxAgrees) {
  // Calibrated on 256 images, tested on 400 others: a logit past the calibrated range saturates at the range's
  // end (q = −128 or 127) and is checked for that; every other logit must be within 4% of the float logits'
  // range (max over all), 0.5% on average.
  PhiloxStream rng(41);
  const DeterministicModel m = random_model(tiny_graph(), rng, 0.2);
  const Shape in = m.graph.nodes[0].out;
  const size_t n_calib = 256, n_test = 400;
  const std::vector<float> calib = random_images(rng, in, n_calib);
  const QuantizedModel q = quantize(m, calib.data(), n_calib);
  const TensorQuant out = q.output().output;
  const std::vector<float> test = random_images(rng, in, n_test);
  std::vector<std::vector<float>> f(n_test), d(n_test);
  std::vector<std::vector<int8_t>> s(n_test);
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  size_t agree = 0;
  for (size_t t = 0; t < n_test; ++t) {
    const float* x = test.data() + t * static_cast<size_t>(in.size());
    f[t] = run_float(m, x);
    s[t] = run_int8(q, quantize_input(q, x).data());
    d[t] = dequantize(out, s[t].data(), s[t].size());
    for (float v : f[t]) lo = std::min(lo, v), hi = std::max(hi, v);
    agree += static_cast<size_t>(predict(s[t]) == static_cast<int>(std::max_element(f[t].begin(), f[t].end()) - f[t].begin()));
  }
  const double range = hi - lo, tol = 0.04 * range;
  double max_err = 0, sum_err = 0;
  size_t inside = 0, saturated = 0;
  for (size_t t = 0; t < n_test; ++t)
    for (size_t c = 0; c < f[t].size(); ++c) {
      const double e = std::fabs(static_cast<double>(d[t][c]) - f[t][c]);
      if (s[t][c] == 127 || s[t][c] == -128) {  // saturated: the float logit lies at or past that end
        ++saturated;
        EXPECT_TRUE(s[t][c] == 127 ? f[t][c] >= d[t][c] - tol : f[t][c] <= d[t][c] + tol) << t << " " << c;
        continue;
      }
      ++inside;
      max_err = std::max(max_err, e);
      sum_err += e;
    }
  const double mean_err = sum_err / static_cast<double>(inside);
  std::printf("logit range %.3f; %zu logits inside the calibrated range: max |int8 - float| %.4f (%.2f%%), mean %.4f "
              "(%.3f%%); %zu saturated; argmax agrees on %zu/%zu\n",
              range, inside, max_err, 100 * max_err / range, mean_err, 100 * mean_err / range, saturated, agree, n_test);
  EXPECT_GT(inside, 9 * saturated);
  EXPECT_LE(max_err, tol);
  EXPECT_LE(mean_err, 0.005 * range);
  EXPECT_GE(agree, static_cast<size_t>(0.95 * n_test));
}

TEST(Int8Accuracy, NormalizesLikeBatchesAndIgnoresThreads) {
  PhiloxStream rng(53);
  const DeterministicModel m = random_model(tiny_graph(), rng, 0.2);
  data::ImageSet set;
  set.shape = {28, 28, 1};
  set.num_classes = 10;
  const size_t n = 120;
  set.pixels.resize(n * set.shape.pixels());
  for (auto& p : set.pixels) p = static_cast<uint8_t>(rng.below(256));
  set.labels.assign(n, 0);
  const data::Normalization norm = data::Normalization::fit(set);
  // Labels: the float model's prediction on the normalized image, except every 7th is shifted (a miss).
  std::vector<float> x(set.shape.pixels());
  for (size_t k = 0; k < n; ++k) {
    norm.apply(set.image(k), x.size(), 1, x.data());
    const std::vector<float> f = run_float(m, x.data());
    const auto label = static_cast<int32_t>(std::max_element(f.begin(), f.end()) - f.begin());
    set.labels[k] = k % 7 == 3 ? (label + 1) % 10 : label;
  }
  const QuantizedModel q = quantize(m, calibrate(m, set, norm, 0, 40));
  size_t correct = 0;
  for (size_t k = 20; k < n; ++k) {
    norm.apply(set.image(k), x.size(), 1, x.data());
    correct += static_cast<size_t>(predict(run_int8(q, quantize_input(q, x.data()).data())) == set.labels[k]);
  }
  const double acc = int8_accuracy(q, set, norm, 20, 1000, 1);
  EXPECT_DOUBLE_EQ(acc, static_cast<double>(correct) / 100.0);
  EXPECT_DOUBLE_EQ(int8_accuracy(q, set, norm, 20, 1000, 3), acc);
  // 14 or 15 of the 100 labels are misses by construction; the int8 model agrees with the float one elsewhere.
  EXPECT_GE(acc, 0.80);
  EXPECT_LE(acc, 0.87);
}
