// Every op of SPARSE_OP_LIST on the CPU backend (1 and 3 threads) against the float reference on random
// inputs: conv shapes with odd sizes, stride 2, same/valid padding, groups 1 / depthwise / grouped / 1×1,
// sizes large enough to split over threads, accumulate true and false, null optional pointers, aliasing.
// Tolerance: normalized MSE < 1e-10 for GEMM/summation-order differences, < 1e-12 for float SIMD math
// (exp/log/sin/cos) against the reference's libm/double math, 0 (bit-identical) for pure data movement and
// ops that run the reference loops on chunks.
// Invariant: each op has a case struct `<op>_case`, declared here through the X-macro and used by its TEST, so
// an op added to the list without a case does not compile (incomplete type).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/core/op_list.hpp"
#include "host/cpu/cpu_backend.hpp"
#include "host/cpu/ref_ops.hpp"
#include "tests/backend_ops/op_harness.hpp"

namespace sparse::test {
namespace {

// The backends under test: 1 thread, and 3 threads (splits unevenly, reduces partials).
const std::vector<Backend*>& backends() {
  static const std::unique_ptr<Backend> one = cpu::make_cpu_backend(1), three = cpu::make_cpu_backend(3);
  static const std::vector<Backend*> list{one.get(), three.get()};
  return list;
}

// An output's initial contents: random for an accumulated output, NaN for an overwritten one.
std::vector<float> out_init(Random& rng, size_t n, bool accumulate) {
  return accumulate ? rng.floats(n) : std::vector<float>(n, kNaN);
}
std::string acc_label(bool accumulate) { return accumulate ? " accumulate" : " overwrite"; }
float* opt(OpRun& o, int k) { return k >= 0 ? o.f(k) : nullptr; }

struct ConvCase {
  const char* label;
  int n, h, w, c_in, c_out, k;
  bool same;
  int stride, groups;
  bool bias;
};
const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases{
      {"3x3 same s1 odd sizes", 2, 7, 6, 3, 5, 3, true, 1, 1, true},
      {"3x3 same s2", 3, 9, 8, 4, 6, 3, true, 2, 1, false},
      {"5x5 valid s1", 2, 8, 7, 3, 4, 5, false, 1, 1, true},
      {"3x3 valid s2", 2, 9, 9, 2, 3, 3, false, 2, 1, true},
      {"4x4 same (even kernel)", 1, 6, 5, 2, 3, 4, true, 1, 1, true},
      {"depthwise 3x3 same", 2, 7, 7, 8, 8, 3, true, 1, 8, true},
      {"depthwise 5x5 same s2", 2, 8, 9, 6, 6, 5, true, 2, 6, false},
      {"depthwise multiplier 2", 2, 6, 5, 4, 8, 3, true, 1, 4, true},
      {"grouped 3 groups", 2, 6, 6, 6, 9, 3, true, 1, 3, true},
      {"grouped valid s2", 2, 9, 8, 4, 8, 3, false, 2, 2, false},
      {"1x1 (plain GEMM)", 3, 5, 7, 6, 10, 1, true, 1, 1, true},
      {"1x1 s2", 2, 7, 6, 6, 4, 1, true, 2, 1, true},
      {"1x1 grouped", 2, 5, 5, 6, 4, 1, false, 1, 2, true},
      {"LeNet conv1 28x28x1 5x5x20", 4, 28, 28, 1, 20, 5, false, 1, 1, true},
      {"LeNet conv2 12x12x20 5x5x50 threaded", 16, 12, 12, 20, 50, 5, false, 1, 1, true},
      {"depthwise threaded", 8, 16, 16, 32, 32, 3, true, 1, 32, true},
      {"1x1 threaded", 8, 16, 16, 32, 48, 1, true, 1, 1, false},
  };
  return cases;
}
ConvShape shape_of(const ConvCase& c) {
  return conv_shape(c.n, c.h, c.w, c.c_in, c.c_out, c.k, c.same, c.stride, c.groups);
}

#define SPARSE_DECLARE_CASE(op, Args) struct op##_case;
SPARSE_OP_LIST(SPARSE_DECLARE_CASE)
#undef SPARSE_DECLARE_CASE

// ---- convolution -----------------------------------------------------------------------------------------

struct conv2d_forward_case {
  static void run() {
    uint64_t seed = 100;
    for (const ConvCase& c : conv_cases()) {
      Random rng(seed++);
      const ConvShape s = shape_of(c);
      OpRun r(std::string("conv2d_forward ") + c.label);
      const int x = r.input("x", rng.floats(size_t(s.x_count())));
      const int w = r.input("w", rng.floats(size_t(s.weight_count())));
      const int b = c.bias ? r.input("bias", rng.floats(size_t(s.c_out))) : -1;
      const int y = r.output("y", out_init(rng, size_t(s.y_count()), false));
      r.check<Conv2dForwardArgsT<float>>(
          [&](OpRun& o) { return Conv2dForwardArgsT<float>{.s = s, .x = o.f(x), .w = o.f(w), .bias = opt(o, b), .y = o.f(y)}; },
          &ref::conv2d_forward<float>, &Backend::conv2d_forward, backends());
    }
  }
};

struct conv2d_backward_data_case {
  static void run() {
    uint64_t seed = 200;
    for (const ConvCase& c : conv_cases())
      for (bool acc : {false, true}) {
        Random rng(seed++);
        const ConvShape s = shape_of(c);
        OpRun r(std::string("conv2d_backward_data ") + c.label + acc_label(acc));
        const int dy = r.input("dy", rng.floats(size_t(s.y_count())));
        const int w = r.input("w", rng.floats(size_t(s.weight_count())));
        const int dx = r.output("dx", out_init(rng, size_t(s.x_count()), acc));
        r.check<Conv2dBackwardDataArgsT<float>>(
            [&](OpRun& o) {
              return Conv2dBackwardDataArgsT<float>{.s = s, .dy = o.f(dy), .w = o.f(w), .dx = o.f(dx), .accumulate = acc};
            },
            &ref::conv2d_backward_data<float>, &Backend::conv2d_backward_data, backends());
      }
  }
};

struct conv2d_backward_filter_case {
  static void run() {
    uint64_t seed = 300;
    for (const ConvCase& c : conv_cases())
      for (bool acc : {false, true}) {
        Random rng(seed++);
        const ConvShape s = shape_of(c);
        OpRun r(std::string("conv2d_backward_filter ") + c.label + acc_label(acc));
        const int x = r.input("x", rng.floats(size_t(s.x_count())));
        const int dy = r.input("dy", rng.floats(size_t(s.y_count())));
        const int dw = r.output("dw", out_init(rng, size_t(s.weight_count()), acc));
        const int db = c.bias ? r.output("dbias", out_init(rng, size_t(s.c_out), acc)) : -1;
        r.check<Conv2dBackwardFilterArgsT<float>>(
            [&](OpRun& o) {
              return Conv2dBackwardFilterArgsT<float>{
                  .s = s, .x = o.f(x), .dy = o.f(dy), .dw = o.f(dw), .dbias = opt(o, db), .accumulate = acc};
            },
            &ref::conv2d_backward_filter<float>, &Backend::conv2d_backward_filter, backends());
      }
  }
};

// ---- linear ----------------------------------------------------------------------------------------------

struct LinearCase {
  int n, in, out;
  bool bias;
};
const std::vector<LinearCase> kLinearCases{{3, 7, 5, true}, {1, 13, 1, false}, {33, 65, 17, true}, {64, 800, 500, true}};
std::string linear_label(const char* op, const LinearCase& c, bool acc) {
  return std::string(op) + " " + std::to_string(c.n) + "x" + std::to_string(c.in) + "->" + std::to_string(c.out) +
         acc_label(acc);
}

struct linear_forward_case {
  static void run() {
    uint64_t seed = 400;
    for (const LinearCase& c : kLinearCases) {
      Random rng(seed++);
      OpRun r(linear_label("linear_forward", c, false));
      const int x = r.input("x", rng.floats(size_t(c.n) * c.in));
      const int w = r.input("w", rng.floats(size_t(c.in) * c.out));
      const int b = c.bias ? r.input("bias", rng.floats(size_t(c.out))) : -1;
      const int y = r.output("y", out_init(rng, size_t(c.n) * c.out, false));
      r.check<LinearForwardArgsT<float>>(
          [&](OpRun& o) {
            return LinearForwardArgsT<float>{
                .n = c.n, .in = c.in, .out = c.out, .x = o.f(x), .w = o.f(w), .bias = opt(o, b), .y = o.f(y)};
          },
          &ref::linear_forward<float>, &Backend::linear_forward, backends());
    }
  }
};

struct linear_backward_data_case {
  static void run() {
    uint64_t seed = 500;
    for (const LinearCase& c : kLinearCases)
      for (bool acc : {false, true}) {
        Random rng(seed++);
        OpRun r(linear_label("linear_backward_data", c, acc));
        const int dy = r.input("dy", rng.floats(size_t(c.n) * c.out));
        const int w = r.input("w", rng.floats(size_t(c.in) * c.out));
        const int dx = r.output("dx", out_init(rng, size_t(c.n) * c.in, acc));
        r.check<LinearBackwardDataArgsT<float>>(
            [&](OpRun& o) {
              return LinearBackwardDataArgsT<float>{
                  .n = c.n, .in = c.in, .out = c.out, .dy = o.f(dy), .w = o.f(w), .dx = o.f(dx), .accumulate = acc};
            },
            &ref::linear_backward_data<float>, &Backend::linear_backward_data, backends());
      }
  }
};

struct linear_backward_weight_case {
  static void run() {
    uint64_t seed = 600;
    for (const LinearCase& c : kLinearCases)
      for (bool acc : {false, true}) {
        Random rng(seed++);
        OpRun r(linear_label("linear_backward_weight", c, acc));
        const int x = r.input("x", rng.floats(size_t(c.n) * c.in));
        const int dy = r.input("dy", rng.floats(size_t(c.n) * c.out));
        const int dw = r.output("dw", out_init(rng, size_t(c.in) * c.out, acc));
        const int db = c.bias ? r.output("dbias", out_init(rng, size_t(c.out), acc)) : -1;
        r.check<LinearBackwardWeightArgsT<float>>(
            [&](OpRun& o) {
              return LinearBackwardWeightArgsT<float>{.n = c.n,
                                                      .in = c.in,
                                                      .out = c.out,
                                                      .x = o.f(x),
                                                      .dy = o.f(dy),
                                                      .dw = o.f(dw),
                                                      .dbias = opt(o, db),
                                                      .accumulate = acc};
            },
            &ref::linear_backward_weight<float>, &Backend::linear_backward_weight, backends());
      }
  }
};

// ---- pooling ---------------------------------------------------------------------------------------------

struct PoolCase {
  int n, h, w, c, k, stride;
  bool argmax;
};
const std::vector<PoolCase> kPoolCases{{2, 8, 8, 3, 2, 2, true},
                                       {2, 7, 9, 5, 3, 2, true},  // overlapping windows, odd sizes
                                       {3, 9, 9, 4, 3, 3, false},
                                       {64, 24, 24, 20, 2, 2, true}};  // threaded
int pool_out(int in, int k, int stride) { return (in - k) / stride + 1; }
std::string pool_label(const char* op, const PoolCase& c, bool acc) {
  return std::string(op) + " " + std::to_string(c.n) + "x" + std::to_string(c.h) + "x" + std::to_string(c.w) + "x" +
         std::to_string(c.c) + " k" + std::to_string(c.k) + " s" + std::to_string(c.stride) + acc_label(acc);
}

struct max_pool_forward_case {
  static void run() {
    uint64_t seed = 700;
    for (const PoolCase& c : kPoolCases) {
      Random rng(seed++);
      const int oh = pool_out(c.h, c.k, c.stride), ow = pool_out(c.w, c.k, c.stride);
      const size_t out = size_t(c.n) * oh * ow * c.c;
      OpRun r(pool_label("max_pool_forward", c, false));
      const int x = r.input("x", rng.floats(size_t(c.n) * c.h * c.w * c.c));
      const int y = r.output("y", out_init(rng, out, false));
      const int am = c.argmax ? r.output_i32("argmax", std::vector<int32_t>(out, -1)) : -1;
      r.check<MaxPoolForwardArgsT<float>>(
          [&](OpRun& o) {
            return MaxPoolForwardArgsT<float>{.n = c.n, .h = c.h, .w = c.w, .c = c.c, .k = c.k, .stride = c.stride,
                                              .oh = oh, .ow = ow, .x = o.f(x), .y = o.f(y),
                                              .argmax = am >= 0 ? o.i(am) : nullptr};
          },
          &ref::max_pool_forward<float>, &Backend::max_pool_forward, backends(), 0.0);
    }
  }
};

struct max_pool_backward_case {
  static void run() {
    uint64_t seed = 800;
    for (const PoolCase& c : kPoolCases)
      for (bool acc : {false, true}) {
        Random rng(seed++);
        const int oh = pool_out(c.h, c.k, c.stride), ow = pool_out(c.w, c.k, c.stride);
        const size_t in = size_t(c.n) * c.h * c.w * c.c, out = size_t(c.n) * oh * ow * c.c;
        // argmax of a real forward pass (duplicates where windows overlap).
        std::vector<float> xv = rng.floats(in), yv(out);
        std::vector<int32_t> argmax(out);
        ref::max_pool_forward(MaxPoolForwardArgsT<float>{.n = c.n, .h = c.h, .w = c.w, .c = c.c, .k = c.k,
                                                         .stride = c.stride, .oh = oh, .ow = ow, .x = xv.data(),
                                                         .y = yv.data(), .argmax = argmax.data()});
        OpRun r(pool_label("max_pool_backward", c, acc));
        const int dy = r.input("dy", rng.floats(out));
        const int am = r.input_i32("argmax", argmax);
        const int dx = r.output("dx", out_init(rng, in, acc));
        r.check<MaxPoolBackwardArgsT<float>>(
            [&](OpRun& o) {
              return MaxPoolBackwardArgsT<float>{.n = c.n, .h = c.h, .w = c.w, .c = c.c, .oh = oh, .ow = ow,
                                                 .dy = o.f(dy), .argmax = o.i(am), .dx = o.f(dx), .accumulate = acc};
            },
            &ref::max_pool_backward<float>, &Backend::max_pool_backward, backends(), 0.0);
      }
  }
};

struct channel_max_forward_case {
  static void run() {
    uint64_t seed = 900;
    for (auto [n, h, w, c] : std::vector<std::array<int, 4>>{{2, 5, 7, 3}, {3, 4, 4, 1}, {64, 32, 32, 3}}) {
      Random rng(seed++);
      OpRun r("channel_max_forward " + std::to_string(n) + "x" + std::to_string(h) + "x" + std::to_string(w) + "x" +
              std::to_string(c));
      const int x = r.input("x", rng.floats(size_t(n) * h * w * c));
      const int y = r.output("y", out_init(rng, size_t(n) * h * w, false));
      r.check<ChannelMaxForwardArgsT<float>>(
          [&](OpRun& o) { return ChannelMaxForwardArgsT<float>{.n = n, .h = h, .w = w, .c = c, .x = o.f(x), .y = o.f(y)}; },
          &ref::channel_max_forward<float>, &Backend::channel_max_forward, backends(), 0.0);
    }
  }
};

// ---- batch norm ------------------------------------------------------------------------------------------

struct batch_norm_forward_case {
  static void run() {
    uint64_t seed = 1000;
    struct Case {
      int64_t rows;
      int c;
      bool training;
    };
    for (const Case& k : {Case{37, 5, true}, Case{37, 5, false}, Case{70001, 3, true}, Case{70001, 3, false}}) {
      Random rng(seed++);
      OpRun r("batch_norm_forward rows " + std::to_string(k.rows) + " c " + std::to_string(k.c) +
              (k.training ? " train" : " eval"));
      const size_t n = size_t(k.rows) * k.c, c = size_t(k.c);
      const int x = r.input("x", rng.floats(n, -0.5, 2.5));
      const int gamma = r.input("gamma", rng.floats(c, 0.5, 1.5));
      const int beta = r.input("beta", rng.floats(c));
      const int rmean = r.output("running_mean", rng.floats(c));
      const int rvar = r.output("running_var", rng.floats(c, 0.5, 2.0));
      // In eval the saved statistics are not written: finite initial values must survive.
      const int smean = r.output("save_mean", k.training ? out_init(rng, c, false) : rng.floats(c));
      const int sinv = r.output("save_invstd", k.training ? out_init(rng, c, false) : rng.floats(c));
      const int y = r.output("y", out_init(rng, n, false));
      r.check<BatchNormForwardArgsT<float>>(
          [&](OpRun& o) {
            return BatchNormForwardArgsT<float>{.rows = k.rows, .c = k.c, .training = k.training, .eps = 1e-5f,
                                                .momentum = 0.1f, .x = o.f(x), .gamma = o.f(gamma), .beta = o.f(beta),
                                                .running_mean = o.f(rmean), .running_var = o.f(rvar),
                                                .save_mean = o.f(smean), .save_invstd = o.f(sinv), .y = o.f(y)};
          },
          &ref::batch_norm_forward<float>, &Backend::batch_norm_forward, backends());
    }
  }
};

struct batch_norm_backward_case {
  static void run() {
    uint64_t seed = 1100;
    for (auto [rows, c] : std::vector<std::pair<int64_t, int>>{{37, 5}, {70001, 3}})
      for (bool acc : {false, true}) {
        Random rng(seed++);
        const size_t n = size_t(rows) * size_t(c);
        std::vector<float> xv = rng.floats(n, -0.5, 2.5), gv = rng.floats(size_t(c), 0.5, 1.5),
                           bv = rng.floats(size_t(c)), rm(size_t(c), 0.0f), rv(size_t(c), 1.0f), sm(rm.size()),
                           si(rm.size()), yv(n);
        ref::batch_norm_forward(BatchNormForwardArgsT<float>{.rows = rows, .c = c, .training = true, .eps = 1e-5f,
                                                             .momentum = 0.1f, .x = xv.data(), .gamma = gv.data(),
                                                             .beta = bv.data(), .running_mean = rm.data(),
                                                             .running_var = rv.data(), .save_mean = sm.data(),
                                                             .save_invstd = si.data(), .y = yv.data()});
        OpRun r("batch_norm_backward rows " + std::to_string(rows) + acc_label(acc));
        const int x = r.input("x", xv);
        const int dy = r.input("dy", rng.floats(n));
        const int gamma = r.input("gamma", gv);
        const int smean = r.input("save_mean", sm);
        const int sinv = r.input("save_invstd", si);
        const int dx = r.output("dx", out_init(rng, n, acc));
        const int dgamma = r.output("dgamma", out_init(rng, size_t(c), false));
        const int dbeta = r.output("dbeta", out_init(rng, size_t(c), false));
        r.check<BatchNormBackwardArgsT<float>>(
            [&](OpRun& o) {
              return BatchNormBackwardArgsT<float>{.rows = rows, .c = c, .x = o.f(x), .dy = o.f(dy),
                                                   .gamma = o.f(gamma), .save_mean = o.f(smean),
                                                   .save_invstd = o.f(sinv), .dx = o.f(dx), .dgamma = o.f(dgamma),
                                                   .dbeta = o.f(dbeta), .accumulate = acc};
            },
            &ref::batch_norm_backward<float>, &Backend::batch_norm_backward, backends());
      }
  }
};

// ---- elementwise -----------------------------------------------------------------------------------------

const std::vector<int64_t> kCounts{1, 37, 200003};  // the largest splits over threads

struct relu_forward_case {
  static void run() {
    uint64_t seed = 1200;
    for (int64_t count : kCounts)
      for (bool in_place : {false, true}) {
        Random rng(seed++);
        OpRun r("relu_forward " + std::to_string(count) + (in_place ? " in place" : ""));
        const std::vector<float> xv = rng.floats(size_t(count));
        const int x = in_place ? r.output("x=y", xv) : r.input("x", xv);
        const int y = in_place ? x : r.output("y", out_init(rng, size_t(count), false));
        r.check<ReluForwardArgsT<float>>(
            [&](OpRun& o) { return ReluForwardArgsT<float>{.count = count, .x = o.f(x), .y = o.f(y)}; },
            &ref::relu_forward<float>, &Backend::relu_forward, backends(), 0.0);
      }
  }
};

struct relu_backward_case {
  static void run() {
    uint64_t seed = 1300;
    for (int64_t count : kCounts)
      for (int mode = 0; mode < 3; ++mode) {  // overwrite, accumulate, in place (dx aliases dy)
        const bool acc = mode == 1, in_place = mode == 2;
        Random rng(seed++);
        OpRun r("relu_backward " + std::to_string(count) + (in_place ? " in place" : acc_label(acc)));
        std::vector<float> yv = rng.floats(size_t(count));
        for (auto& v : yv) v = std::max(v, 0.0f);
        const int y = r.input("y", yv);
        const std::vector<float> dyv = rng.floats(size_t(count));
        const int dy = in_place ? r.output("dy=dx", dyv) : r.input("dy", dyv);
        const int dx = in_place ? dy : r.output("dx", out_init(rng, size_t(count), acc));
        r.check<ReluBackwardArgsT<float>>(
            [&](OpRun& o) {
              return ReluBackwardArgsT<float>{.count = count, .y = o.f(y), .dy = o.f(dy), .dx = o.f(dx), .accumulate = acc};
            },
            &ref::relu_backward<float>, &Backend::relu_backward, backends(), 0.0);
      }
  }
};

struct AddCase {
  int n, oh, ow, c, bh, bw, off_h, off_w;
};
const std::vector<AddCase> kAddCases{{2, 5, 4, 3, 5, 4, 0, 0}, {2, 5, 4, 3, 8, 7, 1, 2}, {32, 24, 24, 16, 26, 26, 1, 1}};

struct add_forward_case {
  static void run() {
    uint64_t seed = 1400;
    for (const AddCase& c : kAddCases) {
      Random rng(seed++);
      OpRun r("add_forward b " + std::to_string(c.bh) + "x" + std::to_string(c.bw) + " -> " + std::to_string(c.oh) +
              "x" + std::to_string(c.ow));
      const int a = r.input("a", rng.floats(size_t(c.n) * c.oh * c.ow * c.c));
      const int b = r.input("b", rng.floats(size_t(c.n) * c.bh * c.bw * c.c));
      const int y = r.output("y", out_init(rng, size_t(c.n) * c.oh * c.ow * c.c, false));
      r.check<AddForwardArgsT<float>>(
          [&](OpRun& o) {
            return AddForwardArgsT<float>{.n = c.n, .oh = c.oh, .ow = c.ow, .c = c.c, .bh = c.bh, .bw = c.bw,
                                          .off_h = c.off_h, .off_w = c.off_w, .a = o.f(a), .b = o.f(b), .y = o.f(y)};
          },
          &ref::add_forward<float>, &Backend::add_forward, backends(), 0.0);
    }
  }
};

struct add_backward_case {
  static void run() {
    uint64_t seed = 1500;
    for (const AddCase& c : kAddCases)
      for (int mode = 0; mode < 4; ++mode) {  // overwrite, accumulate, da null, db null
        const bool acc = mode == 1, has_da = mode != 2, has_db = mode != 3;
        Random rng(seed++);
        OpRun r("add_backward b " + std::to_string(c.bh) + "x" + std::to_string(c.bw) + acc_label(acc) +
                (has_da ? "" : " da null") + (has_db ? "" : " db null"));
        const size_t na = size_t(c.n) * c.oh * c.ow * c.c, nb = size_t(c.n) * c.bh * c.bw * c.c;
        const int dy = r.input("dy", rng.floats(na));
        const int da = has_da ? r.output("da", out_init(rng, na, acc)) : -1;
        const int db = has_db ? r.output("db", out_init(rng, nb, acc)) : -1;
        r.check<AddBackwardArgsT<float>>(
            [&](OpRun& o) {
              return AddBackwardArgsT<float>{.n = c.n, .oh = c.oh, .ow = c.ow, .c = c.c, .bh = c.bh, .bw = c.bw,
                                             .off_h = c.off_h, .off_w = c.off_w, .dy = o.f(dy), .da = opt(o, da),
                                             .db = opt(o, db), .accumulate = acc};
            },
            &ref::add_backward<float>, &Backend::add_backward, backends(), 0.0);
      }
  }
};

struct ConcatCase {
  int64_t rows;
  int c_part, c_total, c_offset;
};
const std::vector<ConcatCase> kConcatCases{{37, 3, 7, 2}, {5, 4, 4, 0}, {50001, 4, 10, 6}};

struct concat_forward_case {
  static void run() {
    uint64_t seed = 1600;
    for (const ConcatCase& c : kConcatCases) {
      Random rng(seed++);
      OpRun r("concat_forward rows " + std::to_string(c.rows) + " part " + std::to_string(c.c_part) + " of " +
              std::to_string(c.c_total) + " at " + std::to_string(c.c_offset));
      const int x = r.input("x", rng.floats(size_t(c.rows) * c.c_part));
      // Columns outside the part keep their values.
      const int y = r.output("y", rng.floats(size_t(c.rows) * c.c_total));
      r.check<ConcatForwardArgsT<float>>(
          [&](OpRun& o) {
            return ConcatForwardArgsT<float>{.rows = c.rows, .c_part = c.c_part, .c_total = c.c_total,
                                             .c_offset = c.c_offset, .x = o.f(x), .y = o.f(y)};
          },
          &ref::concat_forward<float>, &Backend::concat_forward, backends(), 0.0);
    }
  }
};

struct concat_backward_case {
  static void run() {
    uint64_t seed = 1700;
    for (const ConcatCase& c : kConcatCases)
      for (bool acc : {false, true}) {
        Random rng(seed++);
        OpRun r("concat_backward rows " + std::to_string(c.rows) + acc_label(acc));
        const int dy = r.input("dy", rng.floats(size_t(c.rows) * c.c_total));
        const int dx = r.output("dx", out_init(rng, size_t(c.rows) * c.c_part, acc));
        r.check<ConcatBackwardArgsT<float>>(
            [&](OpRun& o) {
              return ConcatBackwardArgsT<float>{.rows = c.rows, .c_part = c.c_part, .c_total = c.c_total,
                                                .c_offset = c.c_offset, .dy = o.f(dy), .dx = o.f(dx), .accumulate = acc};
            },
            &ref::concat_backward<float>, &Backend::concat_backward, backends(), 0.0);
      }
  }
};

struct softmax_cross_entropy_case {
  static void run() {
    uint64_t seed = 1800;
    struct Case {
      int n, classes;
      float scale;
      bool with_grad, with_correct;
    };
    for (const Case& c : {Case{5, 7, 1.0f, true, true}, Case{64, 10, 2.5f, true, false}, Case{9, 3, 1.0f, false, true}}) {
      Random rng(seed++);
      OpRun r("softmax_cross_entropy " + std::to_string(c.n) + "x" + std::to_string(c.classes));
      std::vector<int32_t> labels(size_t(c.n));
      for (auto& l : labels) l = int32_t(rng.below(uint64_t(c.classes)));
      const int logits = r.input("logits", rng.floats(size_t(c.n) * c.classes, -4.0, 4.0));
      const int lab = r.input_i32("labels", labels);
      const int loss = r.output("loss", {kNaN});
      const int dl = c.with_grad ? r.output("dlogits", out_init(rng, size_t(c.n) * c.classes, false)) : -1;
      const int correct = c.with_correct ? r.output_i32("correct", {-1}) : -1;
      r.check<SoftmaxCrossEntropyArgsT<float>>(
          [&](OpRun& o) {
            return SoftmaxCrossEntropyArgsT<float>{.n = c.n, .classes = c.classes, .scale = c.scale,
                                                   .logits = o.f(logits), .labels = o.i(lab), .loss = o.f(loss),
                                                   .dlogits = opt(o, dl),
                                                   .correct = correct >= 0 ? o.i(correct) : nullptr};
          },
          &ref::softmax_cross_entropy<float>, &Backend::softmax_cross_entropy, backends());
    }
  }
};

struct square_forward_case {
  static void run() {
    uint64_t seed = 1900;
    for (int64_t count : kCounts) {
      Random rng(seed++);
      OpRun r("square_forward " + std::to_string(count));
      const int x = r.input("x", rng.floats(size_t(count)));
      const int y = r.output("y", out_init(rng, size_t(count), false));
      r.check<SquareForwardArgsT<float>>(
          [&](OpRun& o) { return SquareForwardArgsT<float>{.count = count, .x = o.f(x), .y = o.f(y)}; },
          &ref::square_forward<float>, &Backend::square_forward, backends(), 0.0);
    }
  }
};

struct square_backward_case {
  static void run() {
    uint64_t seed = 2000;
    for (int64_t count : kCounts)
      for (bool acc : {false, true}) {
        Random rng(seed++);
        OpRun r("square_backward " + std::to_string(count) + acc_label(acc));
        const int x = r.input("x", rng.floats(size_t(count)));
        const int dy = r.input("dy", rng.floats(size_t(count)));
        const int dx = r.output("dx", out_init(rng, size_t(count), acc));
        r.check<SquareBackwardArgsT<float>>(
            [&](OpRun& o) {
              return SquareBackwardArgsT<float>{.count = count, .x = o.f(x), .dy = o.f(dy), .dx = o.f(dx), .accumulate = acc};
            },
            &ref::square_backward<float>, &Backend::square_backward, backends(), 0.0);
      }
  }
};

const std::vector<int64_t> kMathCounts{1, 37, 20003};  // the largest splits over threads

struct spvd_variance_forward_case {
  static void run() {
    uint64_t seed = 2100;
    for (int64_t count : kMathCounts) {
      Random rng(seed++);
      OpRun r("spvd_variance_forward " + std::to_string(count));
      const int ls = r.input("log_sigma2", rng.floats(size_t(count), -12.0, 2.0));
      const int s2 = r.output("sigma2", out_init(rng, size_t(count), false));
      r.check<SpvdVarianceForwardArgsT<float>>(
          [&](OpRun& o) { return SpvdVarianceForwardArgsT<float>{.count = count, .log_sigma2 = o.f(ls), .sigma2 = o.f(s2)}; },
          &ref::spvd_variance_forward<float>, &Backend::spvd_variance_forward, backends(), 1e-12);
    }
  }
};

struct spvd_variance_backward_case {
  static void run() {
    uint64_t seed = 2200;
    for (int64_t count : kMathCounts)
      for (bool acc : {false, true}) {
        Random rng(seed++);
        OpRun r("spvd_variance_backward " + std::to_string(count) + acc_label(acc));
        const int s2 = r.input("sigma2", rng.floats(size_t(count), 0.0, 2.0));
        const int ds = r.input("dsigma2", rng.floats(size_t(count)));
        const int dls = r.output("dlog_sigma2", out_init(rng, size_t(count), acc));
        r.check<SpvdVarianceBackwardArgsT<float>>(
            [&](OpRun& o) {
              return SpvdVarianceBackwardArgsT<float>{
                  .count = count, .sigma2 = o.f(s2), .dsigma2 = o.f(ds), .dlog_sigma2 = o.f(dls), .accumulate = acc};
            },
            &ref::spvd_variance_backward<float>, &Backend::spvd_variance_backward, backends(), 0.0);
      }
  }
};

// ---- SpVD ------------------------------------------------------------------------------------------------

struct lrt_sample_forward_case {
  static void run() {
    uint64_t seed = 2300;
    for (int64_t count : kMathCounts) {
      Random rng(seed++);
      OpRun r("lrt_sample_forward " + std::to_string(count));
      const int mu = r.input("mu", rng.floats(size_t(count)));
      const int var = r.input("var", rng.floats(size_t(count), 0.0, 2.0));
      const int y = r.output("y", out_init(rng, size_t(count), false));
      r.check<LrtSampleForwardArgsT<float>>(
          [&](OpRun& o) {
            return LrtSampleForwardArgsT<float>{
                .count = count, .seed = 0x5EEDull + seed, .offset = 12345, .mu = o.f(mu), .var = o.f(var), .y = o.f(y)};
          },
          &ref::lrt_sample_forward<float>, &Backend::lrt_sample_forward, backends(), 1e-12);
    }
  }
};

struct lrt_sample_backward_case {
  static void run() {
    uint64_t seed = 2400;
    for (int64_t count : kMathCounts)
      for (int mode = 0; mode < 5; ++mode) {  // overwrite, accumulate, dmu null; 3, 4: ε from the forward's mu, y
        const bool acc = mode == 1 || mode == 4, has_dmu = mode != 2, from_y = mode >= 3;
        Random rng(seed++);
        OpRun r("lrt_sample_backward " + std::to_string(count) + acc_label(acc) + (has_dmu ? "" : " dmu null") +
                (from_y ? " eps from y" : ""));
        std::vector<float> var_h = rng.floats(size_t(count), 0.0, 2.0), mu_h = rng.floats(size_t(count));
        std::vector<float> y_h(static_cast<size_t>(count));
        ref::lrt_sample_forward(LrtSampleForwardArgsT<float>{.count = count, .seed = 77, .offset = 1ull << 33,
                                                             .mu = mu_h.data(), .var = var_h.data(), .y = y_h.data()});
        const int var = r.input("var", var_h);
        const int mu = r.input("mu", mu_h);
        const int y = r.input("y", y_h);
        const int dy = r.input("dy", rng.floats(size_t(count)));
        const int dmu = has_dmu ? r.output("dmu", out_init(rng, size_t(count), acc)) : -1;
        const int dvar = r.output("dvar", out_init(rng, size_t(count), acc));
        r.check<LrtSampleBackwardArgsT<float>>(
            [&](OpRun& o) {
              return LrtSampleBackwardArgsT<float>{.count = count, .seed = 77, .offset = 1ull << 33, .var = o.f(var),
                                                   .dy = o.f(dy), .dmu = opt(o, dmu), .dvar = o.f(dvar),
                                                   .accumulate = acc, .mu = from_y ? o.f(mu) : nullptr,
                                                   .y = from_y ? o.f(y) : nullptr};
            },
            &ref::lrt_sample_backward<float>, &Backend::lrt_sample_backward, backends(), 1e-12);
      }
  }
};

// θ and log σ² with some log α clipped at both ends.
void spvd_params(Random& rng, int64_t count, std::vector<float>& theta, std::vector<float>& ls2) {
  theta = rng.floats(size_t(count));
  ls2 = rng.floats(size_t(count), -14.0, 0.0);
  for (size_t i = 0; i < theta.size(); i += 7) theta[i] = 1e-4f;  // log α > 8: clipped
}

struct log_alpha_case {
  static void run() {
    uint64_t seed = 2500;
    for (int64_t count : kMathCounts) {
      Random rng(seed++);
      std::vector<float> th, ls;
      spvd_params(rng, count, th, ls);
      OpRun r("log_alpha " + std::to_string(count));
      const int theta = r.input("theta", th);
      const int lsi = r.input("log_sigma2", ls);
      const int la = r.output("log_alpha", out_init(rng, size_t(count), false));
      r.check<LogAlphaArgsT<float>>(
          [&](OpRun& o) {
            return LogAlphaArgsT<float>{.count = count, .theta = o.f(theta), .log_sigma2 = o.f(lsi), .log_alpha = o.f(la)};
          },
          &ref::log_alpha<float>, &Backend::log_alpha, backends(), 1e-12);
    }
  }
};

struct spvd_kl_forward_case {
  static void run() {
    uint64_t seed = 2600;
    for (int64_t count : {int64_t(1), int64_t(37), int64_t(100003)}) {
      Random rng(seed++);
      std::vector<float> th, ls;
      spvd_params(rng, count, th, ls);
      OpRun r("spvd_kl_forward " + std::to_string(count));
      const int theta = r.input("theta", th);
      const int lsi = r.input("log_sigma2", ls);
      const int kl = r.output("kl", {kNaN});
      r.check<SpvdKlForwardArgsT<float>>(
          [&](OpRun& o) {
            return SpvdKlForwardArgsT<float>{.count = count, .theta = o.f(theta), .log_sigma2 = o.f(lsi), .kl = o.f(kl)};
          },
          &ref::spvd_kl_forward<float>, &Backend::spvd_kl_forward, backends(), 1e-12);
    }
  }
};

struct spvd_kl_backward_case {
  static void run() {
    uint64_t seed = 2700;
    for (int64_t count : kMathCounts)
      for (bool acc : {false, true}) {
        Random rng(seed++);
        std::vector<float> th, ls;
        spvd_params(rng, count, th, ls);
        OpRun r("spvd_kl_backward " + std::to_string(count) + acc_label(acc));
        const int theta = r.input("theta", th);
        const int lsi = r.input("log_sigma2", ls);
        const int dth = r.output("dtheta", out_init(rng, size_t(count), acc));
        const int dls = r.output("dlog_sigma2", out_init(rng, size_t(count), acc));
        r.check<SpvdKlBackwardArgsT<float>>(
            [&](OpRun& o) {
              return SpvdKlBackwardArgsT<float>{.count = count, .scale = 0.37f, .theta = o.f(theta),
                                                .log_sigma2 = o.f(lsi), .dtheta = o.f(dth), .dlog_sigma2 = o.f(dls),
                                                .accumulate = acc};
            },
            &ref::spvd_kl_backward<float>, &Backend::spvd_kl_backward, backends(), 1e-12);
      }
  }
};

// ---- Bayesian Compression --------------------------------------------------------------------------------

struct BcCase {
  int n, pixels, groups;
};
const std::vector<BcCase> kBcCases{{3, 5, 4}, {1, 1, 7}, {32, 64, 50}};  // the last splits over threads
std::string bc_label(const char* op, const BcCase& c, bool acc) {
  return std::string(op) + " n " + std::to_string(c.n) + " pixels " + std::to_string(c.pixels) + " groups " +
         std::to_string(c.groups) + acc_label(acc);
}

struct bc_sample_z_forward_case {
  static void run() {
    uint64_t seed = 2800;
    for (const BcCase& c : kBcCases) {
      Random rng(seed++);
      OpRun r(bc_label("bc_sample_z_forward", c, false));
      const int mu = r.input("mu_z", rng.floats(size_t(c.groups), 0.5, 1.5));
      const int ls = r.input("log_sigma2_z", rng.floats(size_t(c.groups), -9.0, 0.0));
      const int z = r.output("z", out_init(rng, size_t(c.n) * c.groups, false));
      r.check<BcSampleZForwardArgsT<float>>(
          [&](OpRun& o) {
            return BcSampleZForwardArgsT<float>{.n = c.n, .groups = c.groups, .seed = 9, .offset = seed,
                                                .mu_z = o.f(mu), .log_sigma2_z = o.f(ls), .z = o.f(z)};
          },
          &ref::bc_sample_z_forward<float>, &Backend::bc_sample_z_forward, backends(), 0.0);
    }
  }
};

struct bc_sample_z_backward_case {
  static void run() {
    uint64_t seed = 2900;
    for (const BcCase& c : kBcCases)
      for (bool acc : {false, true}) {
        Random rng(seed++);
        OpRun r(bc_label("bc_sample_z_backward", c, acc));
        const int ls = r.input("log_sigma2_z", rng.floats(size_t(c.groups), -9.0, 0.0));
        const int dz = r.input("dz", rng.floats(size_t(c.n) * c.groups));
        const int dmu = r.output("dmu_z", out_init(rng, size_t(c.groups), acc));
        const int dls = r.output("dlog_sigma2_z", out_init(rng, size_t(c.groups), acc));
        r.check<BcSampleZBackwardArgsT<float>>(
            [&](OpRun& o) {
              return BcSampleZBackwardArgsT<float>{.n = c.n, .groups = c.groups, .seed = 9, .offset = seed,
                                                   .log_sigma2_z = o.f(ls), .dz = o.f(dz), .dmu_z = o.f(dmu),
                                                   .dlog_sigma2_z = o.f(dls), .accumulate = acc};
            },
            &ref::bc_sample_z_backward<float>, &Backend::bc_sample_z_backward, backends(), 0.0);
      }
  }
};

struct scale_groups_forward_case {
  static void run() {
    uint64_t seed = 3000;
    for (const BcCase& c : kBcCases) {
      Random rng(seed++);
      OpRun r(bc_label("scale_groups_forward", c, false));
      const size_t n = size_t(c.n) * c.pixels * c.groups;
      const int x = r.input("x", rng.floats(n));
      const int z = r.input("z", rng.floats(size_t(c.n) * c.groups, 0.0, 2.0));
      const int y = r.output("y", out_init(rng, n, false));
      r.check<ScaleGroupsForwardArgsT<float>>(
          [&](OpRun& o) {
            return ScaleGroupsForwardArgsT<float>{
                .n = c.n, .pixels = c.pixels, .groups = c.groups, .x = o.f(x), .z = o.f(z), .y = o.f(y)};
          },
          &ref::scale_groups_forward<float>, &Backend::scale_groups_forward, backends(), 0.0);
    }
  }
};

struct scale_groups_backward_case {
  static void run() {
    uint64_t seed = 3100;
    for (const BcCase& c : kBcCases)
      for (int mode = 0; mode < 4; ++mode) {  // overwrite, accumulate, dx null, dz null
        const bool acc = mode == 1, has_dx = mode != 2, has_dz = mode != 3;
        Random rng(seed++);
        OpRun r(bc_label("scale_groups_backward", c, acc) + (has_dx ? "" : " dx null") + (has_dz ? "" : " dz null"));
        const size_t n = size_t(c.n) * c.pixels * c.groups;
        const int x = r.input("x", rng.floats(n));
        const int z = r.input("z", rng.floats(size_t(c.n) * c.groups, 0.0, 2.0));
        const int dy = r.input("dy", rng.floats(n));
        const int dx = has_dx ? r.output("dx", out_init(rng, n, acc)) : -1;
        const int dz = has_dz ? r.output("dz", out_init(rng, size_t(c.n) * c.groups, acc)) : -1;
        r.check<ScaleGroupsBackwardArgsT<float>>(
            [&](OpRun& o) {
              return ScaleGroupsBackwardArgsT<float>{.n = c.n, .pixels = c.pixels, .groups = c.groups, .x = o.f(x),
                                                     .z = o.f(z), .dy = o.f(dy), .dx = opt(o, dx), .dz = opt(o, dz),
                                                     .accumulate = acc};
            },
            &ref::scale_groups_backward<float>, &Backend::scale_groups_backward, backends(), 0.0);
      }
  }
};

struct bc_epilogue_forward_case {
  static void run() {
    uint64_t seed = 3200;
    for (const BcCase& c : kBcCases) {
      Random rng(seed++);
      OpRun r(bc_label("bc_epilogue_forward", c, false));
      const size_t n = size_t(c.n) * c.pixels * c.groups;
      const int mu = r.input("mu", rng.floats(n));
      const int var = r.input("var", rng.floats(n, 0.0, 2.0));
      const int z = r.input("z", rng.floats(size_t(c.n) * c.groups, 0.5, 1.5));
      const int y = r.output("y", out_init(rng, n, false));
      r.check<BcEpilogueForwardArgsT<float>>(
          [&](OpRun& o) {
            return BcEpilogueForwardArgsT<float>{.n = c.n, .pixels = c.pixels, .groups = c.groups, .seed = 3,
                                                 .offset = seed, .mu = o.f(mu), .var = o.f(var), .z = o.f(z),
                                                 .y = o.f(y)};
          },
          &ref::bc_epilogue_forward<float>, &Backend::bc_epilogue_forward, backends(), 1e-12);
    }
  }
};

struct bc_epilogue_backward_case {
  static void run() {
    uint64_t seed = 3300;
    for (const BcCase& c : kBcCases)
      for (bool acc : {false, true}) {
        Random rng(seed++);
        OpRun r(bc_label("bc_epilogue_backward", c, acc));
        const size_t n = size_t(c.n) * c.pixels * c.groups, nz = size_t(c.n) * c.groups;
        const int mu = r.input("mu", rng.floats(n));
        const int var = r.input("var", rng.floats(n, 0.0, 2.0));
        const int z = r.input("z", rng.floats(nz, 0.5, 1.5));
        const int dy = r.input("dy", rng.floats(n));
        const int dmu = r.output("dmu", out_init(rng, n, acc));
        const int dvar = r.output("dvar", out_init(rng, n, acc));
        const int dz = r.output("dz", out_init(rng, nz, acc));
        // ε in SIMD batches (a few ulp from philox_normal4) and dz summed over pixels in another order.
        r.check<BcEpilogueBackwardArgsT<float>>(
            [&](OpRun& o) {
              return BcEpilogueBackwardArgsT<float>{.n = c.n, .pixels = c.pixels, .groups = c.groups, .seed = 3,
                                                    .offset = seed, .mu = o.f(mu), .var = o.f(var), .z = o.f(z),
                                                    .dy = o.f(dy), .dmu = o.f(dmu), .dvar = o.f(dvar), .dz = o.f(dz),
                                                    .accumulate = acc};
            },
            &ref::bc_epilogue_backward<float>, &Backend::bc_epilogue_backward, backends(), 1e-12);
      }
  }
};

struct bc_kl_forward_case {
  static void run() {
    uint64_t seed = 3400;
    for (auto [groups, weights] : std::vector<std::pair<int64_t, int64_t>>{{7, 37}, {1, 0}, {50, 25000}}) {
      Random rng(seed++);
      OpRun r("bc_kl_forward groups " + std::to_string(groups) + " weights " + std::to_string(weights));
      const int muz = r.input("mu_z", rng.floats(size_t(groups), 0.5, 1.5));
      const int lsz = r.input("log_sigma2_z", rng.floats(size_t(groups), -9.0, 0.0));
      const int muw = r.input("mu_w", rng.floats(size_t(weights)));
      const int lsw = r.input("log_sigma2_w", rng.floats(size_t(weights), -10.0, 0.0));
      const int kl = r.output("kl", {kNaN});
      r.check<BcKlForwardArgsT<float>>(
          [&](OpRun& o) {
            return BcKlForwardArgsT<float>{.groups = groups, .weights = weights, .mu_z = o.f(muz),
                                           .log_sigma2_z = o.f(lsz), .mu_w = weights ? o.f(muw) : nullptr,
                                           .log_sigma2_w = weights ? o.f(lsw) : nullptr, .kl = o.f(kl)};
          },
          &ref::bc_kl_forward<float>, &Backend::bc_kl_forward, backends(), 1e-12);
    }
  }
};

struct bc_kl_backward_case {
  static void run() {
    uint64_t seed = 3500;
    for (auto [groups, weights] : std::vector<std::pair<int64_t, int64_t>>{{7, 37}, {50, 25000}})
      for (bool acc : {false, true}) {
        Random rng(seed++);
        OpRun r("bc_kl_backward groups " + std::to_string(groups) + " weights " + std::to_string(weights) + acc_label(acc));
        const int muz = r.input("mu_z", rng.floats(size_t(groups), 0.5, 1.5));
        const int lsz = r.input("log_sigma2_z", rng.floats(size_t(groups), -9.0, 0.0));
        const int muw = r.input("mu_w", rng.floats(size_t(weights)));
        const int lsw = r.input("log_sigma2_w", rng.floats(size_t(weights), -10.0, 0.0));
        const int dmuz = r.output("dmu_z", out_init(rng, size_t(groups), acc));
        const int dlsz = r.output("dlog_sigma2_z", out_init(rng, size_t(groups), acc));
        const int dmuw = r.output("dmu_w", out_init(rng, size_t(weights), acc));
        const int dlsw = r.output("dlog_sigma2_w", out_init(rng, size_t(weights), acc));
        r.check<BcKlBackwardArgsT<float>>(
            [&](OpRun& o) {
              return BcKlBackwardArgsT<float>{.groups = groups, .weights = weights, .scale = 1.7f, .mu_z = o.f(muz),
                                              .log_sigma2_z = o.f(lsz), .mu_w = o.f(muw), .log_sigma2_w = o.f(lsw),
                                              .dmu_z = o.f(dmuz), .dlog_sigma2_z = o.f(dlsz), .dmu_w = o.f(dmuw),
                                              .dlog_sigma2_w = o.f(dlsw), .accumulate = acc};
            },
            &ref::bc_kl_backward<float>, &Backend::bc_kl_backward, backends(), 1e-12);
      }
  }
};

// ---- optimizer and masks ---------------------------------------------------------------------------------

struct adam_case {
  static void run() {
    uint64_t seed = 3600;
    for (int64_t count : kMathCounts)
      for (int64_t t : {int64_t(1), int64_t(7)}) {
        Random rng(seed++);
        OpRun r("adam " + std::to_string(count) + " t " + std::to_string(t));
        const int p = r.output("param", rng.floats(size_t(count)));
        const int g = r.input("grad", rng.floats(size_t(count)));
        const int m = r.output("m", rng.floats(size_t(count), -0.1, 0.1));
        const int v = r.output("v", rng.floats(size_t(count), 0.0, 0.01));
        r.check<AdamArgsT<float>>(
            [&](OpRun& o) {
              return AdamArgsT<float>{.count = count, .t = t, .lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                                      .param = o.f(p), .grad = o.f(g), .m = o.f(m), .v = o.f(v)};
            },
            &ref::adam<float>, &Backend::adam, backends(), 0.0);
      }
  }
};

struct prune_mask_case {
  static void run() {
    uint64_t seed = 3700;
    struct Case {
      const char* label;
      int64_t count, groups, inner;
      bool scale, in_place;
    };
    for (const Case& c : {Case{"per weight", 37, 0, 0, false, false}, Case{"per weight in place", 200003, 0, 0, false, true},
                          Case{"conv channels", 3 * 3 * 4 * 5, 5, 1, true, false},
                          Case{"conv channels threaded", 9 * 250 * 100, 100, 1, false, false},
                          Case{"fc inputs", 6 * 4, 6, 4, true, true}}) {
      Random rng(seed++);
      OpRun r(std::string("prune_mask ") + c.label);
      const std::vector<float> value = rng.floats(size_t(c.count));
      const int val = c.in_place ? r.output("value=out", value) : r.input("value", value);
      const int la = r.input("log_alpha", rng.floats(size_t(c.groups ? c.groups : c.count), -6.0, 6.0));
      const int gs = c.scale ? r.input("group_scale", rng.floats(size_t(c.groups), 0.5, 1.5)) : -1;
      const int out = c.in_place ? val : r.output("out", out_init(rng, size_t(c.count), false));
      r.check<PruneMaskArgsT<float>>(
          [&](OpRun& o) {
            return PruneMaskArgsT<float>{.count = c.count, .threshold = 0.5f, .groups = c.groups, .inner = c.inner,
                                         .value = o.f(val), .log_alpha = o.f(la), .group_scale = opt(o, gs),
                                         .out = o.f(out)};
          },
          &ref::prune_mask<float>, &Backend::prune_mask, backends(), 0.0);
    }
  }
};

// One TEST per op; `<op>_case` must be complete here.
#define SPARSE_OP_TEST(op, Args)                                                   \
  TEST(BackendOpsCpuVsReference, op) {                                             \
    static_assert(sizeof(op##_case) > 0, "every op of SPARSE_OP_LIST needs a case"); \
    op##_case::run();                                                              \
  }
SPARSE_OP_LIST(SPARSE_OP_TEST)
#undef SPARSE_OP_TEST

}  // namespace
}  // namespace sparse::test
