// Integer-only int8 inference of a QuantizedModel (REFERENCE.md §6): the golden model that codegen's C
// (codegen/runtime/sparse_rt.c) must equal bit for bit.
// Invariants: every value after quantize_input is an integer; the arithmetic is the runtime's, written
// independently: int32 accumulators (two's-complement wrap-around, as the C kernels on every target), gemmlowp
// SaturatingRoundingDoublingHighMul + RoundingDivideByPOT requantization, clamp to [act_min, act_max]; padded
// conv taps contribute nothing. No state; safe to call from several threads.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "datasets/image_set.hpp"
#include "datasets/normalization.hpp"
#include "host/nn/quantize.hpp"

namespace sparse::nn {

// round(a·b / 2^31) to nearest, ties toward +∞ (gemmlowp's nudge: 2^30 for a product >= 0, 1 − 2^30 below,
// then division truncating toward zero: 0.5 -> 1, −0.5 -> 0, −1.5 -> −1); INT32_MIN·INT32_MIN saturates to
// INT32_MAX.
int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b);
// x / 2^exponent rounded half away from zero, 0 <= exponent <= 31.
int32_t rounding_divide_by_pot(int32_t x, int exponent);
// x·multiplier·2^(shift − 31): left shift first (wrapping to int32 as the C does), then the high multiply,
// then the rounding right shift.
int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift);

// q[n] = clamp(round(x[n] / scale) + zero_point, −128, 127), round half away from zero, x / scale in double.
void quantize_input(const TensorQuant& q, const float* x, size_t n, int8_t* out);
std::vector<int8_t> quantize_input(const QuantizedModel& m, const float* x);  // x [H, W, C] of the input node
// real = scale·(q − zero_point).
std::vector<float> dequantize(const TensorQuant& q, const int8_t* x, size_t n);

// Inference on one quantized image x [H, W, C]. Returns the output node's int8 scores [num_classes]. When
// `node_outputs` is given it receives every node's int8 output, index = node, each [out.h, out.w, out.c].
std::vector<int8_t> run_int8(const QuantizedModel& m, const int8_t* x,
                             std::vector<std::vector<int8_t>>* node_outputs = nullptr);

// Index of the largest score, the first one on ties.
int predict(const int8_t* scores, int n);
int predict(const std::vector<int8_t>& scores);

// Fraction of images of `set` in [first, first + count) (count clipped to the set) whose int8 prediction
// equals the label: each image normalized as datasets/batches.cpp does (Normalization::apply), quantized with
// quantize_input, run with run_int8. `threads` workers (>= 1) split the range; the result does not depend on it.
double int8_accuracy(const QuantizedModel& m, const data::ImageSet& set, const data::Normalization& norm,
                     size_t first = 0, size_t count = SIZE_MAX, int threads = 1);

}  // namespace sparse::nn
