// Integer-only int8 executor (see int8_executor.hpp): plain loops per node kind, REFERENCE.md §6 arithmetic.
#include "host/nn/int8_executor.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <thread>

#include "host/core/error.hpp"

namespace sparse::nn {

using graph::NodeKind;
using graph::Shape;

int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
  if (a == kMin && b == kMin) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));  // division truncates toward zero
}

int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const auto mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);  // >> of a negative int is arithmetic (C++20)
}

int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const auto shifted = static_cast<int32_t>(static_cast<int64_t>(x) * (int64_t{1} << left));  // modulo 2^32
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right);
}

namespace {

// a + b modulo 2^32: the int32 addition of the C kernels, without C++ signed-overflow UB.
int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

int8_t clamp8(int32_t v, int32_t lo, int32_t hi) { return static_cast<int8_t>(std::clamp(v, lo, hi)); }

// conv / depthwise / fc: y [oh, ow, cout] from x [h, w, c] (FC: the input read as 1×1×size).
void conv_int8(const QuantizedNode& q, const int8_t* x, int8_t* y) {
  const Shape in = q.kind == NodeKind::fc ? Shape{1, 1, static_cast<int>(q.in[0].size())} : q.in[0];
  const int32_t zp_x = q.in_quant[0].zero_point;
  const int cpg = in.c / q.groups, opg = q.cout / q.groups;
  const int oh = q.out.h, ow = q.out.w;
  const int64_t cols = static_cast<int64_t>(q.kernel_h) * q.kernel_w * cpg;
  for (int oy = 0; oy < oh; ++oy)
    for (int ox = 0; ox < ow; ++ox)
      for (int o = 0; o < q.cout; ++o) {
        const int8_t* row = q.weights.data() + o * cols;  // [kernel_h, kernel_w, cpg]
        const int c0 = (o / opg) * cpg;
        int64_t dot = 0;  // exact; reduced modulo 2^32 below, as the int32 accumulator wraps
        for (int ky = 0; ky < q.kernel_h; ++ky) {
          const int iy = oy * q.stride - q.pad_top + ky;
          if (iy < 0 || iy >= in.h) continue;
          for (int kx = 0; kx < q.kernel_w; ++kx) {
            const int ix = ox * q.stride - q.pad_left + kx;
            if (ix < 0 || ix >= in.w) continue;
            const int8_t* px = x + (static_cast<int64_t>(iy) * in.w + ix) * in.c + c0;
            const int8_t* wk = row + (static_cast<int64_t>(ky) * q.kernel_w + kx) * cpg;
            for (int ci = 0; ci < cpg; ++ci)
              dot += static_cast<int64_t>(wk[ci]) * (static_cast<int32_t>(px[ci]) - zp_x);
          }
        }
        const int32_t acc = wrap_add(q.bias[static_cast<size_t>(o)], static_cast<int32_t>(dot));
        const int32_t v = multiply_by_quantized_multiplier(acc, q.multiplier[static_cast<size_t>(o)],
                                                           q.shift[static_cast<size_t>(o)]);
        y[(static_cast<int64_t>(oy) * ow + ox) * q.cout + o] = clamp8(wrap_add(v, q.output.zero_point), q.act_min, q.act_max);
      }
}

// One TFLite ADD over n elements: y = x1 + x2 in real values.
void add_int8(const AddStep& s, const int8_t* x1, const int8_t* x2, size_t n, int8_t* y) {
  for (size_t e = 0; e < n; ++e) {
    const int32_t a = multiply_by_quantized_multiplier((static_cast<int32_t>(x1[e]) - s.input1_zero_point) * (1 << kAddLeftShift),
                                                       s.input1_multiplier, s.input1_shift);
    const int32_t b = multiply_by_quantized_multiplier((static_cast<int32_t>(x2[e]) - s.input2_zero_point) * (1 << kAddLeftShift),
                                                       s.input2_multiplier, s.input2_shift);
    const int32_t v = multiply_by_quantized_multiplier(wrap_add(a, b), s.output_multiplier, s.output_shift);
    y[e] = clamp8(wrap_add(v, s.output.zero_point), s.act_min, s.act_max);
  }
}

}  // namespace

void quantize_input(const TensorQuant& q, const float* x, size_t n, int8_t* out) {
  for (size_t e = 0; e < n; ++e) {
    SPARSE_CHECK(std::isfinite(x[e]), "input value " << e << " is not finite");
    const double v = std::round(static_cast<double>(x[e]) / static_cast<double>(q.scale)) + q.zero_point;
    out[e] = static_cast<int8_t>(std::clamp(v, -128.0, 127.0));
  }
}

std::vector<int8_t> quantize_input(const QuantizedModel& m, const float* x) {
  std::vector<int8_t> q(static_cast<size_t>(m.nodes.at(0).out.size()));
  quantize_input(m.input, x, q.size(), q.data());
  return q;
}

std::vector<float> dequantize(const TensorQuant& q, const int8_t* x, size_t n) {
  std::vector<float> r(n);
  for (size_t e = 0; e < n; ++e) r[e] = q.scale * static_cast<float>(static_cast<int32_t>(x[e]) - q.zero_point);
  return r;
}

std::vector<int8_t> run_int8(const QuantizedModel& m, const int8_t* x, std::vector<std::vector<int8_t>>* node_outputs) {
  SPARSE_CHECK(!m.nodes.empty(), "quantized model has no nodes");
  std::vector<std::vector<int8_t>> local;
  std::vector<std::vector<int8_t>>& act = node_outputs ? *node_outputs : local;
  act.assign(m.nodes.size(), {});
  std::vector<int8_t> tmp, tmp2;
  for (size_t i = 0; i < m.nodes.size(); ++i) {
    const QuantizedNode& q = m.nodes[i];
    std::vector<int8_t>& y = act[i];  // [out.h, out.w, out.c]
    y.assign(static_cast<size_t>(q.out.size()), 0);
    auto input = [&](size_t k) { return act[static_cast<size_t>(q.inputs[k])].data(); };
    switch (q.kind) {
      case NodeKind::input: std::copy(x, x + y.size(), y.begin()); break;
      case NodeKind::channel_max: {
        const Shape in = q.in[0];
        const int8_t* x0 = input(0);  // [h, w, c]
        for (int64_t p = 0; p < static_cast<int64_t>(in.h) * in.w; ++p)
          y[static_cast<size_t>(p)] = *std::max_element(x0 + p * in.c, x0 + (p + 1) * in.c);
        break;
      }
      case NodeKind::max_pool: {
        const Shape in = q.in[0];
        const int8_t* x0 = input(0);  // [h, w, c]
        for (int oy = 0; oy < q.out.h; ++oy)
          for (int ox = 0; ox < q.out.w; ++ox)
            for (int c = 0; c < in.c; ++c) {
              int8_t v = std::numeric_limits<int8_t>::min();
              for (int dy = 0; dy < q.pool; ++dy)
                for (int dx = 0; dx < q.pool; ++dx)
                  v = std::max(v, x0[((static_cast<int64_t>(oy) * q.pool + dy) * in.w + ox * q.pool + dx) * in.c + c]);
              y[(static_cast<size_t>(oy) * q.out.w + ox) * in.c + c] = v;
            }
        break;
      }
      case NodeKind::conv:
      case NodeKind::depthwise_conv:
      case NodeKind::fc: conv_int8(q, input(0), y.data()); break;
      case NodeKind::add: {
        // Center crop of the second input [b.h, b.w, c] to the first's H×W, then one ADD.
        const Shape a = q.in[0], b = q.in[1];
        const int8_t* xb = input(1);
        tmp.resize(y.size());
        for (int oy = 0; oy < a.h; ++oy)
          for (int ox = 0; ox < a.w; ++ox)
            std::copy_n(xb + (static_cast<int64_t>(oy + q.crop_top) * b.w + ox + q.crop_left) * b.c, a.c,
                        tmp.begin() + (static_cast<int64_t>(oy) * a.w + ox) * a.c);
        add_int8(q.add_steps.at(0), input(0), tmp.data(), y.size(), y.data());
        break;
      }
      case NodeKind::merge_sum: {
        // Chain ((x0 + x1) + x2) + ...: each partial sum an int8 tensor at its own quantization.
        tmp.assign(input(0), input(0) + y.size());
        for (size_t k = 0; k < q.add_steps.size(); ++k) {
          tmp2.resize(y.size());
          add_int8(q.add_steps[k], tmp.data(), input(k + 1), y.size(), tmp2.data());
          std::swap(tmp, tmp2);
        }
        y = tmp;
        break;
      }
      case NodeKind::merge_concat: {
        const int64_t pixels = static_cast<int64_t>(q.out.h) * q.out.w;
        for (size_t k = 0; k < q.concat_parts.size(); ++k) {
          const ConcatPart& p = q.concat_parts[k];
          const int8_t* xk = input(k);  // [pixels, p.channels]
          for (int64_t px = 0; px < pixels; ++px)
            for (int c = 0; c < p.channels; ++c) {
              const int8_t v = xk[px * p.channels + c];
              int8_t& out = y[static_cast<size_t>(px * q.out.c + p.channel_offset + c)];
              if (p.identity) {
                out = v;
              } else {
                const int32_t r =
                    multiply_by_quantized_multiplier(static_cast<int32_t>(v) - p.input_zero_point, p.multiplier, p.shift);
                out = clamp8(wrap_add(r, q.output.zero_point), -128, 127);
              }
            }
        }
        break;
      }
    }
  }
  return act.back();
}

int predict(const int8_t* scores, int n) {
  SPARSE_CHECK(n >= 1, "no scores to predict from");
  return static_cast<int>(std::max_element(scores, scores + n) - scores);  // first maximum
}

int predict(const std::vector<int8_t>& scores) { return predict(scores.data(), static_cast<int>(scores.size())); }

double int8_accuracy(const QuantizedModel& m, const data::ImageSet& set, const data::Normalization& norm, size_t first,
                     size_t count, int threads) {
  const Shape s = m.nodes.at(0).out;
  SPARSE_CHECK(set.shape.height == s.h && set.shape.width == s.w && set.shape.channels == s.c,
               "images are " << set.shape.height << "x" << set.shape.width << "x" << set.shape.channels
                             << ", the model's input is " << s.h << "x" << s.w << "x" << s.c);
  SPARSE_CHECK(threads >= 1, "int8 accuracy needs at least one thread, got " << threads);
  SPARSE_CHECK(first < set.size(), "accuracy start " << first << " is past the " << set.size() << " images");
  count = std::min(count, set.size() - first);
  const size_t px = set.shape.pixels();
  const auto workers = static_cast<size_t>(std::min<int64_t>(threads, static_cast<int64_t>(count)));
  std::vector<size_t> correct(workers, 0);
  std::vector<std::exception_ptr> errors(workers);
  auto work = [&](size_t w) {
    try {
      std::vector<float> x(px);
      std::vector<int8_t> xq(px);
      for (size_t k = first + w; k < first + count; k += workers) {
        norm.apply(set.image(k), px, set.shape.channels, x.data());
        quantize_input(m.input, x.data(), px, xq.data());
        if (predict(run_int8(m, xq.data())) == set.labels[k]) ++correct[w];
      }
    } catch (...) {
      errors[w] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  size_t total = 0;
  for (size_t c : correct) total += c;
  return static_cast<double>(total) / static_cast<double>(count);
}

}  // namespace sparse::nn
