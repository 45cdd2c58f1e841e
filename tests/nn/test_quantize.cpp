// int8 quantization (REFERENCE.md §6): quantize_multiplier against TFLite's hand values and the real product;
// the requantization primitives' rounding; choose_quantization and calibration; the int8 executor on small
// hand-built models (1x1 conv, depthwise, FC, residual add with crop, merge sum, concat, max pool, channel max)
// against integers worked out by hand from power-of-two scales, and the float executor on the same models.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "host/core/error.hpp"
#include "host/core/philox.hpp"
#include "host/nn/float_executor.hpp"
#include "host/nn/int8_executor.hpp"
#include "host/nn/quantize.hpp"

using namespace sparse;
using namespace sparse::nn;
using graph::NodeKind;
using graph::Shape;

namespace {

constexpr int32_t kQ30 = int32_t{1} << 30;  // Q31 mantissa of a power of two

// A hand-built model: nodes appended in order, ranges set per node.
struct Hand {
  DeterministicModel m;
  std::vector<TensorRange> ranges;

  int add(NodeKind kind, std::vector<int> inputs, Shape out, TensorRange r, std::vector<float> w = {},
          std::vector<float> b = {}, int kernel = 0, space::Padding pad = space::Padding::valid, bool relu = false) {
    graph::Node n;
    n.kind = kind;
    n.name = std::string(graph::to_string(kind)) + std::to_string(m.graph.nodes.size());
    n.inputs = std::move(inputs);
    n.out = out;
    n.kernel = kernel;
    n.padding = pad;
    n.relu = relu;
    n.biases = static_cast<int64_t>(b.size());
    n.weights = static_cast<int64_t>(w.size() + b.size());
    m.graph.nodes.push_back(n);
    m.layers.push_back({std::move(w), std::move(b)});
    ranges.push_back(r);
    return static_cast<int>(m.graph.nodes.size()) - 1;
  }
  Calibration calibration() const {
    Calibration c;
    c.node = ranges;
    c.partial_sums.resize(ranges.size());
    return c;
  }
};

// Ranges with power-of-two scales: width 255·2^-k.
constexpr TensorRange kIn16{-4.0f, 11.9375f};    // scale 1/16, zero point −64
constexpr TensorRange kPos16{0.0f, 15.9375f};    // scale 1/16, zero point −128
constexpr TensorRange kOut8{-8.0f, 23.875f};     // scale 1/8, zero point −64

// Float image whose quantization at (1/16, zp) has q − zp = d.
std::vector<float> from_steps(const std::vector<int>& d) {
  std::vector<float> x;
  for (int v : d) x.push_back(static_cast<float>(v) / 16.0f);
  return x;
}

std::vector<int8_t> run_q(const QuantizedModel& q, const std::vector<float>& x,
                          std::vector<std::vector<int8_t>>* nodes = nullptr) {
  return run_int8(q, quantize_input(q, x.data()).data(), nodes);
}

}  // namespace

TEST(QuantizeMultiplier, TfliteHandValues) {
  EXPECT_EQ(quantize_multiplier(0.0), std::make_pair(0, 0));
  EXPECT_EQ(quantize_multiplier(0.5), std::make_pair(kQ30, 0));
  EXPECT_EQ(quantize_multiplier(1.0), std::make_pair(kQ30, 1));
  EXPECT_EQ(quantize_multiplier(0.25), std::make_pair(kQ30, -1));
  EXPECT_EQ(quantize_multiplier(0.75), std::make_pair(0x60000000, 0));
  EXPECT_EQ(quantize_multiplier(3.0), std::make_pair(0x60000000, 2));
  // 1/3 = 0.666..·2^-1: mantissa round(2^31·2/3) = 1431655765.33.. -> 1431655765.
  EXPECT_EQ(quantize_multiplier(1.0 / 3.0), std::make_pair(1431655765, -1));
  // A mantissa that rounds up to 2^31 is halved and the shift incremented.
  EXPECT_EQ(quantize_multiplier(1.0 - std::ldexp(1.0, -40)), std::make_pair(kQ30, 1));
  // Half of the last Q31 step rounds away from zero: (2^30 + 0.5)/2^31 -> 2^30 + 1.
  EXPECT_EQ(quantize_multiplier(std::ldexp(static_cast<double>(kQ30) + 0.5, -31)), std::make_pair(kQ30 + 1, 0));
  // Smallest kept shift is −31; below, TFLite flushes to zero.
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -32)), std::make_pair(kQ30, -31));
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -33)), std::make_pair(0, 0));
  EXPECT_THROW(quantize_multiplier(-0.5), sparse::Error);
  EXPECT_THROW(quantize_multiplier(std::numeric_limits<double>::infinity()), sparse::Error);
}

TEST(QuantizeMultiplier, MatchesTheRealProductWithinOne) {
  PhiloxStream rng(11);
  for (int t = 0; t < 20000; ++t) {
    const double real = std::ldexp(0.5 + 0.5 * rng.uniform(), static_cast<int>(rng.below(40)) - 30);  // 2^-31..2^9
    const auto [m, s] = quantize_multiplier(real);
    ASSERT_GE(m, kQ30);
    ASSERT_GE(s, -31);
    ASSERT_NEAR(std::ldexp(static_cast<double>(m), s - 31), real, real * std::ldexp(1.0, -31)) << real;
    // |x·real| < 2^28 and the left-shifted x fits int32: the Q31 mantissa's error is then below 1/8, the two
    // roundings (high multiply, then right shift) below 1/2 + 1/4, so the result is within 1 of x·real.
    const double bound = std::min(std::ldexp(1.0, 28) / real, std::ldexp(1.0, 31 - std::max(s, 0)) - 1);
    const auto x = static_cast<int32_t>((2 * rng.uniform() - 1) * std::min(bound, 2147483647.0));
    const int32_t got = multiply_by_quantized_multiplier(x, m, s);
    ASSERT_LE(std::fabs(static_cast<double>(got) - static_cast<double>(x) * real), 1.0) << x << " * " << real;
  }
}

TEST(Requantization, RoundingOfTheFixedPointSteps) {
  // SaturatingRoundingDoublingHighMul: round(a·b/2^31) with gemmlowp's nudge: positive ties up, negative ties
  // toward zero (the nudge for a negative product is 1 − 2^30).
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1, kQ30), 1);     // 0.5 -> 1
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-1, kQ30), 0);    // -0.5 -> 0
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, kQ30), -1);   // -1.5 -> -1
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-135, kQ30), -67);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1520, kQ30), 760);
  const int32_t lo = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(saturating_rounding_doubling_high_mul(lo, lo), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(saturating_rounding_doubling_high_mul(lo, std::numeric_limits<int32_t>::max()), lo + 1);
  // RoundingDivideByPOT: half away from zero.
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);
  EXPECT_EQ(rounding_divide_by_pot(-3, 1), -2);
  EXPECT_EQ(rounding_divide_by_pot(-2784, 6), -44);  // -43.5
  EXPECT_EQ(rounding_divide_by_pot(760, 6), 12);      // 11.875
  EXPECT_EQ(rounding_divide_by_pot(-4, 7), 0);
  EXPECT_EQ(rounding_divide_by_pot(lo, 31), -1);
  // Two roundings can differ from one: 5·2^-2 = 1.25, yet (5/2 -> 3) then (3/2 -> 2).
  EXPECT_EQ(multiply_by_quantized_multiplier(5, kQ30, -1), 2);
  EXPECT_EQ(multiply_by_quantized_multiplier(3, kQ30, 2), 6);  // 3·2^30·2^2 / 2^31
}

TEST(Quantization, ChooseFromRange) {
  TensorQuant q = choose_quantization({0.0f, 0.0f});
  EXPECT_EQ(q.scale, 1.0f);
  EXPECT_EQ(q.zero_point, -128);
  q = choose_quantization({2.0f, 5.1f});  // widened to [0, 5.1]
  EXPECT_FLOAT_EQ(q.scale, 0.02f);
  EXPECT_EQ(q.zero_point, -128);
  q = choose_quantization({-1.0f, -0.5f});  // widened to [-1, 0]
  EXPECT_FLOAT_EQ(q.scale, 1.0f / 255.0f);
  EXPECT_EQ(q.zero_point, 127);
  q = choose_quantization(kIn16);
  EXPECT_EQ(q.scale, 0.0625f);
  EXPECT_EQ(q.zero_point, -64);
  // float(2/255) is slightly above 2/255, so −1/scale = −127.499992 -> −127 and the zero point is −1.
  q = choose_quantization({-1.0f, 1.0f});
  EXPECT_EQ(q.scale, static_cast<float>(2.0 / 255.0));
  EXPECT_EQ(q.zero_point, -1);
  EXPECT_THROW(choose_quantization({1.0f, 0.0f}), sparse::Error);
}

TEST(Quantization, InputRoundsHalfAwayFromZeroAndClamps) {
  const TensorQuant q{0.0625f, -64};
  const float x[] = {0.03125f, -0.03125f, 0.09375f, -0.09375f, 0.0f, 100.0f, -100.0f, 0.031f};
  int8_t out[8];
  quantize_input(q, x, 8, out);
  const int8_t want[] = {-63, -65, -62, -66, -64, 127, -128, -64};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out[i], want[i]) << i;
  const std::vector<float> back = dequantize(q, out, 3);
  EXPECT_EQ(back[0], 0.0625f);
  EXPECT_EQ(back[1], -0.0625f);
}

TEST(Int8Executor, PointwiseConvByHand) {
  // Input 1x2x2 at (1/16, −64); 1x1 conv to 3 channels at (1/8, −64). HWIO weights w[ci][o]:
  // o0 = (127/64, −1/2) -> s_w 1/64, q (127, −32); o1 = (0, 127/128) -> 1/128, (0, 127); o2 all zero -> scale 1.
  Hand h;
  h.add(NodeKind::input, {}, {1, 2, 2}, kIn16);
  const int c = h.add(NodeKind::conv, {0}, {1, 2, 3}, kOut8, {1.984375f, 0.0f, 0.0f, -0.5f, 0.9921875f, 0.0f},
                      {0.5f, -0.25f, 1.0f}, 1, space::Padding::same);
  const QuantizedModel q = quantize(h.m, h.calibration());
  const QuantizedNode& n = q.nodes[static_cast<size_t>(c)];
  EXPECT_EQ(q.input.scale, 0.0625f);
  EXPECT_EQ(q.input.zero_point, -64);
  EXPECT_EQ(n.output.scale, 0.125f);
  EXPECT_EQ(n.output.zero_point, -64);
  EXPECT_EQ(n.weights, (std::vector<int8_t>{127, -32, 0, 127, 0, 0}));
  EXPECT_EQ(n.weight_scales, (std::vector<float>{1.0f / 64, 1.0f / 128, 1.0f}));
  // bias / (s_in·s_w): 0.5·1024, −0.25·2048, 1·16.
  EXPECT_EQ(n.bias, (std::vector<int32_t>{512, -512, 16}));
  // s_in·s_w/s_out = 2^-7, 2^-8, 2^-1.
  EXPECT_EQ(n.multiplier, (std::vector<int32_t>{kQ30, kQ30, kQ30}));
  EXPECT_EQ(n.shift, (std::vector<int8_t>{-6, -7, 0}));
  EXPECT_EQ(n.groups, 1);
  EXPECT_EQ(n.act_min, -128);
  // Pixel 0: x = (1, 2) -> q − zp = (16, 32); pixel 1: x = (−4, −4) -> (−64, −64).
  //  o0: 512 + 127·16 − 32·32 = 1520 -> ·2^-7 = 11.875 -> 12 -> −52;  −5568 -> −43.5 -> −44 -> −108
  //  o1: −512 + 127·32 = 3552 -> 13.875 -> 14 -> −50;                 −8640 -> −33.75 -> −34 -> −98
  //  o2: 16 -> ·1/2 = 8 -> −56 for both pixels.
  const std::vector<float> x = {1.0f, 2.0f, -4.0f, -4.0f};
  EXPECT_EQ(run_q(q, x), (std::vector<int8_t>{-52, -50, -56, -108, -98, -56}));
  const std::vector<float> f = run_float(h.m, x.data());
  const std::vector<float> want_f = {1.484375f, 1.734375f, 1.0f, -5.4375f, -4.21875f, 1.0f};
  for (size_t i = 0; i < f.size(); ++i) EXPECT_FLOAT_EQ(f[i], want_f[i]) << i;
  // With a ReLU the clamp is act_min = zero point.
  h.m.graph.nodes[1].relu = true;
  const QuantizedModel qr = quantize(h.m, h.calibration());
  EXPECT_EQ(qr.nodes[1].act_min, -64);
  EXPECT_EQ(run_q(qr, x), (std::vector<int8_t>{-52, -50, -56, -64, -64, -56}));
}

TEST(Int8Executor, DepthwiseSamePaddingByHand) {
  // Input 2x2x2 at (1/16, −128); depthwise 2x2 `same` (pad 0 before, 1 after) at (1/8, −64) with ReLU.
  // Weights [KH, KW, 1, C]: channel 0 all 127/64 (q 127); channel 1 = (127/128, 0, 0, −127/128) (q 127, 0, 0, −127).
  Hand h;
  h.add(NodeKind::input, {}, {2, 2, 2}, kPos16);
  std::vector<float> w(8);
  for (int t = 0; t < 4; ++t) w[static_cast<size_t>(t * 2)] = 1.984375f;
  w[1] = 0.9921875f;
  w[7] = -0.9921875f;
  h.add(NodeKind::depthwise_conv, {0}, {2, 2, 2}, kOut8, w, {0.0f, -0.5f}, 2, space::Padding::same, true);
  const QuantizedModel q = quantize(h.m, h.calibration());
  const QuantizedNode& n = q.nodes[1];
  EXPECT_EQ(n.groups, 2);
  EXPECT_EQ(n.pad_top, 0);
  EXPECT_EQ(n.pad_left, 0);
  EXPECT_EQ(n.weights, (std::vector<int8_t>{127, 127, 127, 127, 127, 0, 0, -127}));  // rows [C][kh][kw]
  EXPECT_EQ(n.bias, (std::vector<int32_t>{0, -1024}));
  EXPECT_EQ(n.shift, (std::vector<int8_t>{-6, -7}));
  // q − zp, channel 0: [[10, 20], [30, 40]]; channel 1: [[50, 6], [7, 8]].
  // c0 (·127·2^-7): (0,0) 12700 -> 99.2 -> 35; (0,1) 7620 -> 59.5 -> 60 -> −4; (1,0) 8890 -> 69.5 -> 69 -> 5
  //   (srdhm 4445, then 4445/64 = 69.45); (1,1) 5080 -> 39.7 -> 40 -> −24.
  // c1 (·2^-8): (0,0) −1024 + 127·50 − 127·8 = 4310 -> 16.8 -> 17 -> −47; (0,1) −262 -> −1 -> −65, ReLU −64;
  //   (1,0) −135 -> −64 after ReLU; (1,1) −8 -> 0 -> −64.
  const std::vector<float> x = from_steps({10, 50, 20, 6, 30, 7, 40, 8});
  EXPECT_EQ(run_q(q, x), (std::vector<int8_t>{35, -47, -4, -64, 5, -64, -24, -64}));
  const std::vector<float> f = run_float(h.m, x.data());
  EXPECT_FLOAT_EQ(f[0], 1.984375f * 100 / 16);
  EXPECT_FLOAT_EQ(f[1], -0.5f + 0.9921875f * 42 / 16);
  EXPECT_FLOAT_EQ(f[3], 0.0f);  // −0.5 + 0.99·6/16 < 0, ReLU
}

TEST(Int8Executor, FullyConnectedByHand) {
  // Input 1x2x2 (flattened NHWC, In = 4) at (1/16, −64); FC to 2 at (1/2, −64). w [In, Out]:
  // o0 = (127/64, 0, −1, 1/2) -> 1/64, q (127, 0, −64, 32); o1 = (0, 0, 0, −127/32) -> 1/32, q (0, 0, 0, −127).
  Hand h;
  h.add(NodeKind::input, {}, {1, 2, 2}, kIn16);
  h.add(NodeKind::fc, {0}, {1, 1, 2}, {-32.0f, 95.5f}, {1.984375f, 0.0f, 0.0f, 0.0f, -1.0f, 0.0f, 0.5f, -3.96875f},
        {0.25f, -1.0f});
  const QuantizedModel q = quantize(h.m, h.calibration());
  const QuantizedNode& n = q.nodes[1];
  EXPECT_EQ(n.output.scale, 0.5f);
  EXPECT_EQ(n.output.zero_point, -64);
  EXPECT_EQ(n.weights, (std::vector<int8_t>{127, 0, -64, 32, 0, 0, 0, -127}));  // rows [Out][In]
  EXPECT_EQ(n.bias, (std::vector<int32_t>{256, -512}));
  EXPECT_EQ(n.shift, (std::vector<int8_t>{-8, -7}));
  // x = (1, 1/2, 2, −1) -> (16, 8, 32, −16). o0: 256 + 2032 − 2048 − 512 = −272 -> ·2^-9 = −0.53 -> −1 -> −65.
  // o1: −512 + 2032 = 1520 -> ·2^-8 = 5.94 -> 6 -> −58.
  const std::vector<float> x = {1.0f, 0.5f, 2.0f, -1.0f};
  EXPECT_EQ(run_q(q, x), (std::vector<int8_t>{-65, -58}));
  const std::vector<float> f = run_float(h.m, x.data());
  EXPECT_FLOAT_EQ(f[0], -0.265625f);
  EXPECT_FLOAT_EQ(f[1], 2.96875f);
  EXPECT_EQ(predict(run_q(q, x)), 1);
}

TEST(Int8Executor, ResidualAddCropsTheCenter) {
  // Input 3x3x1 at (1/16, −128) -> valid 3x3 conv (center weight 127/64 only) 1x1x1 at (1/8, −64)
  // -> add(conv, input) at (1/4, −64): the input is cropped to its center pixel (offset (3 − 1)/2 = 1).
  Hand h;
  h.add(NodeKind::input, {}, {3, 3, 1}, kPos16);
  std::vector<float> w(9, 0.0f);
  w[4] = 1.984375f;
  h.add(NodeKind::conv, {0}, {1, 1, 1}, kOut8, w, {0.0f}, 3, space::Padding::valid);
  h.add(NodeKind::add, {1, 0}, {1, 1, 1}, {-16.0f, 47.75f});
  const QuantizedModel q = quantize(h.m, h.calibration());
  const QuantizedNode& a = q.nodes[2];
  EXPECT_EQ(a.crop_top, 1);
  EXPECT_EQ(a.crop_left, 1);
  ASSERT_EQ(a.add_steps.size(), 1u);
  // twice_max = 2·(1/8): input 1 ·(1/8)/(1/4) = 1/2, input 2 ·1/4, output (1/4)/(2^20·1/4) = 2^-20.
  const AddStep& s = a.add_steps[0];
  EXPECT_EQ(std::make_pair(s.input1_multiplier, s.input1_shift), std::make_pair(kQ30, 0));
  EXPECT_EQ(std::make_pair(s.input2_multiplier, s.input2_shift), std::make_pair(kQ30, -1));
  EXPECT_EQ(std::make_pair(s.output_multiplier, s.output_shift), std::make_pair(kQ30, -19));
  EXPECT_EQ(s.input1_zero_point, -64);
  EXPECT_EQ(s.input2_zero_point, -128);
  // q − zp of the input [[1, 2, 3], [4, 64, 6], [7, 8, 9]]. conv: 127·64·2^-7 = 63.5 -> 64 -> q 0.
  // add: 64/2 + 64/4 = 48 -> −16 (the corner pixel instead would give 32 -> −32).
  const std::vector<float> x = from_steps({1, 2, 3, 4, 64, 6, 7, 8, 9});
  std::vector<std::vector<int8_t>> nodes;
  EXPECT_EQ(run_q(q, x, &nodes), (std::vector<int8_t>{-16}));
  EXPECT_EQ(nodes[1], (std::vector<int8_t>{0}));
  EXPECT_FLOAT_EQ(run_float(h.m, x.data())[0], 1.984375f * 4 + 4);
}

TEST(Int8Executor, MergeSumIsAChainOfAdds) {
  // merge_sum(x, x, x) of a 1x1x2 input at (1/16, −128): partial x + x at (1/8, −128), output at (1/4, −128).
  Hand h;
  h.add(NodeKind::input, {}, {1, 1, 2}, kPos16);
  h.add(NodeKind::merge_sum, {0, 0, 0}, {1, 1, 2}, {0.0f, 63.75f});
  Calibration cal = h.calibration();
  cal.partial_sums[1] = {{0.0f, 31.875f}};
  const QuantizedModel q = quantize(h.m, cal);
  const QuantizedNode& n = q.nodes[1];
  ASSERT_EQ(n.add_steps.size(), 2u);
  EXPECT_EQ(n.add_steps[0].output.scale, 0.125f);
  EXPECT_EQ(n.add_steps[0].output.zero_point, -128);
  EXPECT_EQ(n.add_steps[1].output.scale, 0.25f);
  EXPECT_EQ(n.add_steps[1].input1_zero_point, -128);
  EXPECT_EQ(std::make_pair(n.add_steps[1].input2_multiplier, n.add_steps[1].input2_shift), std::make_pair(kQ30, -1));
  // d = q − zp: partial = d (at 1/8), sum = d/2 + d/4 at 1/4: d = 6 -> 4.5 -> 5 -> −123; d = 200 -> 150 -> 22.
  EXPECT_EQ(run_q(q, from_steps({6, 200})), (std::vector<int8_t>{-123, 22}));
  // Without calibrated partial sums the model does not quantize.
  EXPECT_THROW(quantize(h.m, h.calibration()), sparse::Error);
}

TEST(Int8Executor, ConcatRequantizesOrCopiesEachPart) {
  // concat(input at (1/16, −128), conv at (1/8, −64)) at (1/8, −64): part 0 requantized by 1/2, part 1 copied.
  Hand h;
  h.add(NodeKind::input, {}, {1, 1, 2}, kPos16);
  h.add(NodeKind::conv, {0}, {1, 1, 1}, kOut8, {1.984375f, 0.0f}, {0.0f}, 1, space::Padding::same);
  h.add(NodeKind::merge_concat, {0, 1}, {1, 1, 3}, kOut8);
  const QuantizedModel q = quantize(h.m, h.calibration());
  const QuantizedNode& n = q.nodes[2];
  ASSERT_EQ(n.concat_parts.size(), 2u);
  EXPECT_FALSE(n.concat_parts[0].identity);
  EXPECT_EQ(std::make_pair(n.concat_parts[0].multiplier, n.concat_parts[0].shift), std::make_pair(kQ30, 0));
  EXPECT_EQ(n.concat_parts[0].channel_offset, 0);
  EXPECT_TRUE(n.concat_parts[1].identity);
  EXPECT_EQ(n.concat_parts[1].channel_offset, 2);
  // d = (5, 10): part 0 -> round(2.5) = 3, 5 -> −61, −59; conv 127·5·2^-7 = 4.96 -> 5 -> −59, copied.
  EXPECT_EQ(run_q(q, from_steps({5, 10})), (std::vector<int8_t>{-61, -59, -59}));
}

TEST(Int8Executor, MaxPoolAndChannelMaxKeepTheScale) {
  Hand h;
  h.add(NodeKind::input, {}, {5, 5, 1}, kIn16);
  h.add(NodeKind::max_pool, {0}, {2, 2, 1}, {-100.0f, 100.0f}, {}, {}, 2);  // range ignored: scale passes through
  const QuantizedModel q = quantize(h.m, h.calibration());
  EXPECT_EQ(q.nodes[1].output.scale, 0.0625f);
  EXPECT_EQ(q.nodes[1].output.zero_point, -64);
  EXPECT_EQ(q.nodes[1].pool, 2);
  std::vector<int> d(25);
  for (int i = 0; i < 25; ++i) d[static_cast<size_t>(i)] = (i * 7) % 25 - 12;
  d[24] = 100;  // row 4 / column 4 are dropped by the floor
  // q − zp by rows: [-12 -5 2 9 -9] [-2 5 12 -6 1] [8 -10 -3 4 11] [-7 0 7 -11 -4] [3 10 -8 -1 100].
  // Windows: (rows 0-1, cols 0-1) -> 5; (0-1, 2-3) -> 12; (2-3, 0-1) -> 8; (2-3, 2-3) -> 7. Output q = zp + max.
  const std::vector<int8_t> y = run_q(q, from_steps(d));
  EXPECT_EQ(y, (std::vector<int8_t>{-59, -52, -56, -57}));

  Hand c;
  c.add(NodeKind::input, {}, {2, 1, 3}, kIn16);
  c.add(NodeKind::channel_max, {0}, {2, 1, 1}, {0.0f, 0.0f});
  const QuantizedModel qc = quantize(c.m, c.calibration());
  EXPECT_EQ(qc.nodes[1].output.zero_point, -64);
  EXPECT_EQ(run_q(qc, from_steps({3, -7, 40, -2, -1, -30})), (std::vector<int8_t>{-24, -65}));
  EXPECT_FLOAT_EQ(run_float(c.m, from_steps({3, -7, 40, -2, -1, -30}).data())[1], -1.0f / 16);
}

TEST(Quantization, CalibrationRecordsEveryTensorsRange) {
  // input 1x1x2 -> merge_sum(x, x, x): partial range is that of 2x, the node's that of 3x.
  Hand h;
  h.add(NodeKind::input, {}, {1, 1, 2}, {});
  h.add(NodeKind::fc, {0}, {1, 1, 1}, {}, {1.0f, -2.0f}, {0.5f}, 0, space::Padding::valid, true);
  h.add(NodeKind::merge_sum, {0, 0, 0}, {1, 1, 2}, {});
  const std::vector<float> images = {1.0f, -0.5f, 3.0f, 2.0f, -1.0f, 0.25f};
  const Calibration cal = calibrate(h.m, images.data(), 3);
  EXPECT_EQ(cal.images, 3u);
  EXPECT_EQ(cal.node[0].min, -1.0f);
  EXPECT_EQ(cal.node[0].max, 3.0f);
  EXPECT_EQ(cal.node[1].min, 0.0f);   // fc: 2.5, 0.0 (ReLU of −0.5), 0.0 (ReLU of −1)
  EXPECT_EQ(cal.node[1].max, 2.5f);
  ASSERT_EQ(cal.partial_sums[2].size(), 1u);
  EXPECT_EQ(cal.partial_sums[2][0].min, -2.0f);
  EXPECT_EQ(cal.partial_sums[2][0].max, 6.0f);
  EXPECT_EQ(cal.node[2].min, -3.0f);
  EXPECT_EQ(cal.node[2].max, 9.0f);
  const QuantizedModel q = quantize(h.m, cal);
  EXPECT_FLOAT_EQ(q.nodes[2].add_steps[0].output.scale, 8.0f / 255.0f);
  EXPECT_FLOAT_EQ(q.nodes[2].output.scale, 12.0f / 255.0f);
  EXPECT_EQ(q.nodes[1].act_min, -128);  // ReLU on a range starting at 0: zero point −128
}

TEST(Quantization, RejectsWhatTheKernelsCannotDo) {
  Hand h;
  h.add(NodeKind::input, {}, {2, 2, 1}, kIn16);
  h.add(NodeKind::max_pool, {0}, {1, 1, 1}, kIn16, {}, {}, 2, space::Padding::valid, true);
  EXPECT_THROW(quantize(h.m, h.calibration()), sparse::Error);  // ReLU on a max pool
  Hand w;
  w.add(NodeKind::input, {}, {1, 1, 2}, kIn16);
  w.add(NodeKind::fc, {0}, {1, 1, 1}, kOut8, {1.0f}, {0.0f});  // 1 weight for In = 2
  EXPECT_THROW(quantize(w.m, w.calibration()), sparse::Error);
  Hand t;  // an output range so small that s_in·s_w/s_out >= 2^30
  t.add(NodeKind::input, {}, {1, 1, 1}, {-1000.0f, 1000.0f});
  t.add(NodeKind::fc, {0}, {1, 1, 1}, {0.0f, 1e-30f}, {1000.0f}, {0.0f});
  EXPECT_THROW(quantize(t.m, t.calibration()), sparse::Error);
}
