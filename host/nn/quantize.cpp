// Post-training int8 quantization (see quantize.hpp): calibration ranges, per-tensor activation and
// per-channel weight quantization, Q31 requantization factors (REFERENCE.md §6).
#include "host/nn/quantize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "host/core/error.hpp"
#include "host/nn/float_executor.hpp"

namespace sparse::nn {

using graph::Node;
using graph::NodeKind;
using graph::Shape;

std::pair<int32_t, int> quantize_multiplier(double real) {
  SPARSE_CHECK(std::isfinite(real) && real >= 0, "requantization factor " << real << " must be finite and >= 0");
  if (real == 0.0) return {0, 0};
  int shift = 0;
  const double q = std::frexp(real, &shift);  // real = q·2^shift, q in [0.5, 1)
  auto q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {  // q rounded up to 1.0
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) {  // every bit would be shifted out: flush to zero as TFLite does
    shift = 0;
    q_fixed = 0;
  }
  return {static_cast<int32_t>(q_fixed), shift};
}

TensorQuant choose_quantization(TensorRange r) {
  SPARSE_CHECK(std::isfinite(r.min) && std::isfinite(r.max) && r.min <= r.max,
               "calibration range [" << r.min << ", " << r.max << "] is not a finite interval");
  const double lo = std::min(0.0, static_cast<double>(r.min)), hi = std::max(0.0, static_cast<double>(r.max));
  const auto scale = static_cast<float>((hi - lo) / 255.0);
  if (!(scale > 0.0f)) return {1.0f, -128};  // always 0 (or a width that underflows float)
  const double zp = -128.0 - std::round(lo / static_cast<double>(scale));
  return {scale, static_cast<int32_t>(std::clamp(zp, -128.0, 127.0))};
}

namespace {

void widen(TensorRange& r, const float* v, size_t n) {
  for (size_t e = 0; e < n; ++e) {
    r.min = std::min(r.min, v[e]);
    r.max = std::max(r.max, v[e]);
  }
}

Calibration empty_calibration(const DeterministicModel& m) {
  Calibration cal;
  const auto& nodes = m.graph.nodes;
  const TensorRange none{std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  cal.node.assign(nodes.size(), none);
  cal.partial_sums.resize(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].kind == NodeKind::merge_sum && nodes[i].inputs.size() > 2)
      cal.partial_sums[i].assign(nodes[i].inputs.size() - 2, none);
  return cal;
}

// Adds one forward pass (every node's output) to the ranges.
void observe(const DeterministicModel& m, const std::vector<std::vector<float>>& act, Calibration& cal) {
  const auto& nodes = m.graph.nodes;
  std::vector<float> sum;
  for (size_t i = 0; i < nodes.size(); ++i) {
    widen(cal.node[i], act[i].data(), act[i].size());
    auto& partial = cal.partial_sums[i];
    if (partial.empty()) continue;
    // Partial sums in the float executor's order: s1 = x0 + x1, s2 = s1 + x2, ...
    sum = act[static_cast<size_t>(nodes[i].inputs[0])];
    for (size_t j = 1; j + 1 < nodes[i].inputs.size(); ++j) {
      const auto& xj = act[static_cast<size_t>(nodes[i].inputs[j])];
      for (size_t e = 0; e < sum.size(); ++e) sum[e] += xj[e];
      widen(partial[j - 1], sum.data(), sum.size());
    }
  }
}

// A requantization factor as (multiplier, shift), shift within what the kernels take ([−31, 30]).
std::pair<int32_t, int> requantization(double real, const Node& n) {
  const auto ms = quantize_multiplier(real);
  SPARSE_CHECK(ms.second <= 30, "node '" << n.name << "': requantization factor " << real
                                         << " is too large (>= 2^30); the calibration range is degenerate");
  return ms;
}

AddStep make_add_step(const Node& n, TensorQuant a, TensorQuant b, TensorQuant y, int32_t act_min, int32_t act_max) {
  // TFLite int8 ADD (REFERENCE.md §6): inputs to a common scale twice_max / 2^20, summed, requantized.
  const double twice_max = 2.0 * static_cast<double>(std::max(a.scale, b.scale));
  AddStep s;
  s.input1_zero_point = a.zero_point;
  s.input2_zero_point = b.zero_point;
  std::tie(s.input1_multiplier, s.input1_shift) = requantization(static_cast<double>(a.scale) / twice_max, n);
  std::tie(s.input2_multiplier, s.input2_shift) = requantization(static_cast<double>(b.scale) / twice_max, n);
  std::tie(s.output_multiplier, s.output_shift) =
      requantization(twice_max / (static_cast<double>(int64_t{1} << kAddLeftShift) * static_cast<double>(y.scale)), n);
  s.output = y;
  s.act_min = act_min;
  s.act_max = act_max;
  return s;
}

int8_t quantize_weight(float w, float scale) {
  const double q = std::round(static_cast<double>(w) / static_cast<double>(scale));
  return static_cast<int8_t>(std::clamp(q, -127.0, 127.0));
}

int32_t quantize_bias(float b, double scale) {
  const double q = std::round(static_cast<double>(b) / scale);
  return static_cast<int32_t>(std::clamp(q, static_cast<double>(std::numeric_limits<int32_t>::min()),
                                         static_cast<double>(std::numeric_limits<int32_t>::max())));
}

// Weighted node: weight rows (OHWI), per-channel scales, bias, multipliers and shifts.
void quantize_weighted(const Node& n, const DenseLayer& L, TensorQuant x, QuantizedNode& q) {
  const Shape in = q.in[0];
  if (n.kind == NodeKind::fc) {
    q.kernel_h = q.kernel_w = 1;
    q.groups = 1;
  } else {
    q.kernel_h = q.kernel_w = n.kernel;
    q.pad_top = q.pad_left = n.padding == space::Padding::same ? (n.kernel - 1) / 2 : 0;
    q.groups = n.kind == NodeKind::depthwise_conv ? in.c : 1;
  }
  q.stride = 1;
  q.cout = n.out.c;
  const int cout = q.cout;
  const int64_t cols = n.kind == NodeKind::fc ? in.size()
                                              : static_cast<int64_t>(n.kernel) * n.kernel * (in.c / q.groups);
  // Float weight of row o, column j (j in (kh, kw, ci) order): the three layouts (conv [KH, KW, C_in, C_out],
  // depthwise [KH, KW, 1, C], fc [In, Out]) all put the output channel innermost after the columns.
  auto w_at = [&](int o, int64_t j) { return L.weights[static_cast<size_t>(j * cout + o)]; };
  q.weights.assign(static_cast<size_t>(cout * cols), 0);
  q.weight_scales.assign(static_cast<size_t>(cout), 1.0f);
  q.bias.assign(static_cast<size_t>(cout), 0);
  q.multiplier.assign(static_cast<size_t>(cout), 0);
  q.shift.assign(static_cast<size_t>(cout), 0);
  for (int o = 0; o < cout; ++o) {
    float max_abs = 0.0f;
    for (int64_t j = 0; j < cols; ++j) max_abs = std::max(max_abs, std::fabs(w_at(o, j)));
    SPARSE_CHECK(std::isfinite(max_abs), "node '" << n.name << "' has a non-finite weight in output channel " << o);
    const float s_w = max_abs > 0.0f ? static_cast<float>(static_cast<double>(max_abs) / 127.0) : 1.0f;
    q.weight_scales[static_cast<size_t>(o)] = s_w;
    if (max_abs > 0.0f)
      for (int64_t j = 0; j < cols; ++j) q.weights[static_cast<size_t>(o * cols + j)] = quantize_weight(w_at(o, j), s_w);
    const double s_acc = static_cast<double>(x.scale) * static_cast<double>(s_w);  // bias / accumulator scale
    const float b = L.bias[static_cast<size_t>(o)];
    SPARSE_CHECK(std::isfinite(b), "node '" << n.name << "' has a non-finite bias in output channel " << o);
    q.bias[static_cast<size_t>(o)] = quantize_bias(b, s_acc);
    const auto [mult, sh] = requantization(s_acc / static_cast<double>(q.output.scale), n);
    q.multiplier[static_cast<size_t>(o)] = mult;
    q.shift[static_cast<size_t>(o)] = static_cast<int8_t>(sh);
  }
}

}  // namespace

Calibration calibrate(const DeterministicModel& m, const float* images, size_t count) {
  check_model(m);
  SPARSE_CHECK(count >= 1, "calibration needs at least one image");
  Calibration cal = empty_calibration(m);
  const auto px = static_cast<size_t>(m.graph.nodes[0].out.size());
  std::vector<std::vector<float>> act;
  for (size_t k = 0; k < count; ++k) {
    run_float(m, images + k * px, &act);
    observe(m, act, cal);
  }
  cal.images = count;
  return cal;
}

Calibration calibrate(const DeterministicModel& m, const data::ImageSet& set, const data::Normalization& norm,
                      size_t first, size_t count) {
  const Shape s = m.graph.nodes.at(0).out;
  SPARSE_CHECK(set.shape.height == s.h && set.shape.width == s.w && set.shape.channels == s.c,
               "calibration images are " << set.shape.height << "x" << set.shape.width << "x" << set.shape.channels
                                         << ", the model's input is " << s.h << "x" << s.w << "x" << s.c);
  SPARSE_CHECK(first < set.size(), "calibration start " << first << " is past the " << set.size() << " images");
  count = std::min(count, set.size() - first);
  const size_t px = set.shape.pixels();
  std::vector<float> x(count * px);
  for (size_t k = 0; k < count; ++k) norm.apply(set.image(first + k), px, set.shape.channels, x.data() + k * px);
  return calibrate(m, x.data(), count);
}

QuantizedModel quantize(const DeterministicModel& m, const Calibration& cal) {
  check_model(m);
  const auto& nodes = m.graph.nodes;
  SPARSE_CHECK(cal.node.size() == nodes.size() && cal.partial_sums.size() == nodes.size(),
               "calibration has " << cal.node.size() << " node ranges for " << nodes.size() << " nodes");
  QuantizedModel qm;
  qm.nodes.resize(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    QuantizedNode& q = qm.nodes[i];
    q.kind = n.kind;
    q.name = n.name;
    q.inputs = n.inputs;
    for (int j : n.inputs) {
      q.in.push_back(nodes[static_cast<size_t>(j)].out);
      q.in_quant.push_back(qm.nodes[static_cast<size_t>(j)].output);
    }
    q.out = n.out;
    q.relu = n.relu;
    auto input_quant = [&](size_t k) { return qm.nodes[static_cast<size_t>(n.inputs[k])].output; };
    const bool passes_scale = n.kind == NodeKind::max_pool || n.kind == NodeKind::channel_max;
    SPARSE_CHECK(!n.relu || !(passes_scale || n.kind == NodeKind::merge_concat || n.kind == NodeKind::input),
                 "node '" << n.name << "' (" << graph::to_string(n.kind) << ") has a ReLU the int8 kernels cannot apply");
    q.output = passes_scale ? input_quant(0) : choose_quantization(cal.node[i]);
    q.act_min = n.relu ? std::max<int32_t>(-128, q.output.zero_point) : -128;
    q.act_max = 127;
    switch (n.kind) {
      case NodeKind::input:
      case NodeKind::channel_max: break;
      case NodeKind::max_pool: q.pool = n.kernel; break;
      case NodeKind::conv:
      case NodeKind::depthwise_conv:
      case NodeKind::fc: quantize_weighted(n, m.layers[i], input_quant(0), q); break;
      case NodeKind::add:
        q.crop_top = center_crop_offset(q.in[1].h, q.in[0].h);
        q.crop_left = center_crop_offset(q.in[1].w, q.in[0].w);
        q.add_steps.push_back(make_add_step(n, input_quant(0), input_quant(1), q.output, q.act_min, q.act_max));
        break;
      case NodeKind::merge_sum: {
        SPARSE_CHECK(n.inputs.size() >= 2, "node '" << n.name << "': a merge sum needs at least two inputs");
        const size_t steps = n.inputs.size() - 1;
        SPARSE_CHECK(cal.partial_sums[i].size() == steps - 1,
                     "calibration of node '" << n.name << "' has " << cal.partial_sums[i].size() << " partial sums");
        TensorQuant acc = input_quant(0);
        for (size_t k = 0; k < steps; ++k) {
          const bool last = k + 1 == steps;
          const TensorQuant y = last ? q.output : choose_quantization(cal.partial_sums[i][k]);
          q.add_steps.push_back(make_add_step(n, acc, input_quant(k + 1), y, last ? q.act_min : -128, 127));
          acc = y;
        }
        break;
      }
      case NodeKind::merge_concat: {
        int offset = 0;
        const int64_t pixels = static_cast<int64_t>(n.out.h) * n.out.w;
        for (size_t k = 0; k < n.inputs.size(); ++k) {
          const TensorQuant x = input_quant(k);
          ConcatPart p;
          p.channels = static_cast<int>(q.in[k].size() / pixels);  // a 1×1 output: the flattened input
          p.channel_offset = offset;
          p.input_zero_point = x.zero_point;
          p.identity = x.scale == q.output.scale && x.zero_point == q.output.zero_point;
          std::tie(p.multiplier, p.shift) =
              requantization(static_cast<double>(x.scale) / static_cast<double>(q.output.scale), n);
          q.concat_parts.push_back(p);
          offset += p.channels;
        }
        break;
      }
    }
  }
  qm.input = qm.nodes[0].output;
  return qm;
}

QuantizedModel quantize(const DeterministicModel& m, const float* images, size_t count) {
  return quantize(m, calibrate(m, images, count));
}

}  // namespace sparse::nn
