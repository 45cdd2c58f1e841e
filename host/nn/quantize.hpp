// int8 post-training quantization of a DeterministicModel (REFERENCE.md §6, TFLite int8 scheme): the
// QuantizedModel holds every integer the int8 executor (int8_executor.hpp) and codegen's C need.
// Invariants of a QuantizedModel:
//  - nodes[i] is graph node i (same kind, name, inputs, shapes); nodes[0] is the input, nodes.back() the logits.
//  - activations: asymmetric per tensor, real = scale·(q − zero_point), q in [−128, 127], zero_point in
//    [−128, 127], scale > 0.
//  - weights: symmetric per output channel, zero point 0, q in [−127, 127], scale = max|w| / 127 (an all-zero
//    channel: scale 1, weights 0); rows = output channels, columns in (kh, kw, ci) order (OHWI; depthwise
//    [C, kh, kw]; FC [Out, In] with In the NHWC flattening of the input), the order sparse_rt's sprt_conv2d reads.
//  - bias: int32 at scale s_in·s_w[o], q = round(b / (s_in·s_w[o])) saturated to int32.
//  - requantization: the real factor is applied as a Q31 multiplier and a shift (positive = left), from
//    quantize_multiplier below; every shift lies in [−31, 30].
// Decisions where REFERENCE.md §6 leaves a choice:
//  - calibration range: min and max over all calibration images of each node's output (after ReLU), widened to
//    include 0 (so 0 is exact); scale = (max − min) / 255, zero_point = −128 − round(min / scale); a range of
//    width 0 (a tensor that is always 0) gets scale 1 (zero_point −128). The full min/max is kept (no
//    percentile clipping): the calibration sets are small and outliers are rare in these tiny nets.
//  - rounding of real values (weights, bias, inputs, zero points, multipliers): half away from zero
//    (std::round). The integer requantization is gemmlowp's exactly (see int8_executor.hpp), whose high
//    multiply rounds ties toward +∞ and whose rounding shift rounds ties away from zero.
//  - ReLU is the clamp act_min = max(−128, zero_point); act_max = 127.
//  - max_pool and channel_max keep their input's scale and zero point (max commutes with the affine map).
//  - add: TFLite ADD (left_shift 20): twice_max = 2·max(s1, s2); inputs scaled by s_k / twice_max; the sum by
//    twice_max / (2^20·s_out). The second input is center-cropped (center_crop_offset) to the first's H×W.
//  - merge nodes read their inputs flattened (see float_executor.hpp).
//  - merge_sum of n inputs: a chain of n − 1 such adds in input order, ((x0 + x1) + x2) + ...; each partial
//    sum is an int8 tensor of its own, quantized from its calibrated range (min/max of the float partial sum).
//  - merge_concat: output quantized from its calibrated range (the union of its parts'); each part is
//    copied when its scale and zero point equal the output's, else requantized by q_y = zp_y +
//    requant(q_x − zp_x) with the multiplier of s_x / s_y.
//  - inputs: q = clamp(round(x / s) + zp, −128, 127), x / s in double, round half away from zero.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "datasets/image_set.hpp"
#include "datasets/normalization.hpp"
#include "host/graph/graph.hpp"
#include "host/nn/deterministic_model.hpp"

namespace sparse::nn {

// TFLite QuantizeMultiplier: real = multiplier·2^(shift − 31) with multiplier in [2^30, 2^31) (Q31 mantissa
// from frexp, rounded half away from zero; a mantissa rounding up to 2^31 is halved and shift + 1); real = 0
// gives (0, 0); shift < −31 (real below about 2^−32) is flushed to (0, 0). real must be finite and >= 0.
std::pair<int32_t, int> quantize_multiplier(double real);

struct TensorQuant {  // real = scale·(q − zero_point)
  float scale = 1.0f;
  int32_t zero_point = 0;
};

struct TensorRange {  // observed real values
  float min = 0.0f, max = 0.0f;
};

// Quantization of a real range (widened to include 0): scale = (max − min) / 255 (1 when max == min == 0),
// zero_point = clamp(−128 − round(min / scale), −128, 127).
TensorQuant choose_quantization(TensorRange r);

// Calibration result: ranges of every tensor the int8 model stores.
struct Calibration {
  std::vector<TensorRange> node;  // [nodes]: each node's output (node 0: the input)
  // [nodes]: for a merge_sum with n > 2 inputs, the ranges of x0 + x1, x0 + x1 + x2, ... (n − 2 partial sums,
  // the last sum is the node itself); empty for every other node.
  std::vector<std::vector<TensorRange>> partial_sums;
  size_t images = 0;  // how many images were seen
};

// Min/max over `count` images [count, H, W, C] (normalized floats) of every node output, through run_float.
Calibration calibrate(const DeterministicModel& m, const float* images, size_t count);
// The same over images of `set` [first, first + count) (count clipped to the set), normalized as
// datasets/batches.cpp does (Normalization::apply).
Calibration calibrate(const DeterministicModel& m, const data::ImageSet& set, const data::Normalization& norm,
                      size_t first = 0, size_t count = SIZE_MAX);

// One TFLite ADD: y = clamp(zp_y + requant_y(requant_1((x1 − zp_1)·2^20) + requant_2((x2 − zp_2)·2^20))).
struct AddStep {
  int32_t input1_zero_point = 0, input1_multiplier = 0;
  int input1_shift = 0;
  int32_t input2_zero_point = 0, input2_multiplier = 0;
  int input2_shift = 0;
  int32_t output_multiplier = 0;
  int output_shift = 0;
  TensorQuant output;  // this step's result (the node's output for the last step)
  int32_t act_min = -128, act_max = 127;
};
inline constexpr int kAddLeftShift = 20;  // TFLite's left_shift for int8 ADD

// One input of a merge_concat: channels [channel_offset, channel_offset + channels) of the output; with a 1×1
// output (as the graph builds it) the part is the flattened input, channels = its size.
struct ConcatPart {
  int channels = 0, channel_offset = 0;
  int32_t input_zero_point = 0;
  bool identity = false;  // same scale and zero point as the output: copied
  int32_t multiplier = 0;  // of s_x / s_y (unused when identity)
  int shift = 0;
};

struct QuantizedNode {
  graph::NodeKind kind = graph::NodeKind::input;
  std::string name;
  std::vector<int> inputs;           // earlier node indices
  std::vector<graph::Shape> in;      // [inputs]: each input's shape (an FC reads in[0] flattened to 1×1×size)
  std::vector<TensorQuant> in_quant;  // [inputs]: each input's quantization (= that node's `output`)
  graph::Shape out;
  bool relu = false;
  TensorQuant output;                // quantization of `out`
  int32_t act_min = -128, act_max = 127;  // clamp of the output (ReLU: act_min = zero point)

  // conv, depthwise_conv, fc (an FC is a 1×1 conv of a 1×1×In input): sprt_conv2d's parameters.
  int kernel_h = 0, kernel_w = 0, stride = 1, pad_top = 0, pad_left = 0, groups = 1, cout = 0;
  std::vector<int8_t> weights;        // [cout, kernel_h, kernel_w, cin / groups] (see the header comment)
  std::vector<float> weight_scales;   // [cout]
  std::vector<int32_t> bias;          // [cout], scale s_in·weight_scales[o]
  std::vector<int32_t> multiplier;    // [cout], Q31 of s_in·s_w[o] / s_out
  std::vector<int8_t> shift;          // [cout], positive = left

  int pool = 0;                       // max_pool: window = stride
  int crop_top = 0, crop_left = 0;    // add: first row/column of the second input's center crop
  std::vector<AddStep> add_steps;     // add: 1; merge_sum: inputs − 1 (chain); else empty
  std::vector<ConcatPart> concat_parts;  // merge_concat: [inputs]
};

struct QuantizedModel {
  std::vector<QuantizedNode> nodes;  // graph order
  TensorQuant input;                 // = nodes[0].output: how normalized float images are quantized
  const QuantizedNode& output() const { return nodes.back(); }
  int num_classes() const { return nodes.back().out.c; }
};

// Quantize `m` with the given calibration (from calibrate, or set by hand). Throws sparse::Error when the model
// breaks its invariants (check_model), when a ReLU sits on a node whose kernel cannot clamp (max_pool,
// channel_max, merge_concat), when a merge_sum has fewer than two inputs, or when a requantization factor is
// 2^30 or more (a shift above 30).
QuantizedModel quantize(const DeterministicModel& m, const Calibration& calibration);
// calibrate + quantize over `count` images [count, H, W, C].
QuantizedModel quantize(const DeterministicModel& m, const float* images, size_t count);

}  // namespace sparse::nn
