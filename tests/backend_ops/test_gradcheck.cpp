// Gradient checks of the reference in double precision: for every forward/backward pair, the backward ops
// against central finite differences of L = Σ r ⊙ forward(...) for a random r (relative error < 1e-6), on
// small shapes (conv regular / stride 2 / valid / depthwise / grouped / 1×1 / even kernel). Noise ops use a
// fixed (seed, offset), so forward is a pure function. KL terms also assert an exactly zero gradient where
// the log α clip is active. The fast backend is checked against this reference in test_ops_vs_reference.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "host/cpu/ref_ops.hpp"
#include "tests/backend_ops/op_harness.hpp"

namespace sparse::test {
namespace {

using Vec = std::vector<double>;
using Grads = std::vector<Vec>;

TEST(GradCheck, Conv2dDataFilterAndBias) {
  struct Case {
    const char* label;
    int n, h, w, c_in, c_out, k;
    bool same;
    int stride, groups;
  };
  uint64_t seed = 1;
  for (const Case& c : {Case{"3x3 same", 2, 5, 6, 3, 4, 3, true, 1, 1}, Case{"3x3 same s2", 1, 7, 6, 2, 3, 3, true, 2, 1},
                        Case{"5x5 valid s2", 1, 9, 8, 2, 2, 5, false, 2, 1},
                        Case{"4x4 same", 1, 6, 5, 2, 2, 4, true, 1, 1},
                        Case{"depthwise 3x3 s2", 2, 6, 7, 4, 4, 3, true, 2, 4},
                        Case{"grouped", 1, 5, 5, 4, 6, 3, true, 1, 2}, Case{"1x1", 2, 3, 4, 3, 5, 1, true, 1, 1}}) {
    const ConvShape s = conv_shape(c.n, c.h, c.w, c.c_in, c.c_out, c.k, c.same, c.stride, c.groups);
    Random rng(seed++);
    Vec x = rng.doubles(size_t(s.x_count())), w = rng.doubles(size_t(s.weight_count())), b = rng.doubles(size_t(s.c_out));
    const auto forward = [&] {
      Vec y(size_t(s.y_count()));
      ref::conv2d_forward(Conv2dForwardArgsT<double>{.s = s, .x = x.data(), .w = w.data(), .bias = b.data(), .y = y.data()});
      return y;
    };
    const auto backward = [&](const Vec& r) {
      Vec dx(x.size()), dw(w.size()), db(b.size());
      ref::conv2d_backward_data(
          Conv2dBackwardDataArgsT<double>{.s = s, .dy = r.data(), .w = w.data(), .dx = dx.data(), .accumulate = false});
      ref::conv2d_backward_filter(Conv2dBackwardFilterArgsT<double>{
          .s = s, .x = x.data(), .dy = r.data(), .dw = dw.data(), .dbias = db.data(), .accumulate = false});
      return Grads{dx, dw, db};
    };
    grad_check(std::string("conv2d ") + c.label, {{"x", &x}, {"w", &w}, {"bias", &b}}, forward, backward, seed);
  }
}

TEST(GradCheck, Linear) {
  const int n = 3, in = 7, out = 5;
  Random rng(11);
  Vec x = rng.doubles(size_t(n) * in), w = rng.doubles(size_t(in) * out), b = rng.doubles(size_t(out));
  const auto forward = [&] {
    Vec y(size_t(n) * out);
    ref::linear_forward(LinearForwardArgsT<double>{
        .n = n, .in = in, .out = out, .x = x.data(), .w = w.data(), .bias = b.data(), .y = y.data()});
    return y;
  };
  const auto backward = [&](const Vec& r) {
    Vec dx(x.size()), dw(w.size()), db(b.size());
    ref::linear_backward_data(LinearBackwardDataArgsT<double>{
        .n = n, .in = in, .out = out, .dy = r.data(), .w = w.data(), .dx = dx.data(), .accumulate = false});
    ref::linear_backward_weight(LinearBackwardWeightArgsT<double>{.n = n, .in = in, .out = out, .x = x.data(),
                                                                  .dy = r.data(), .dw = dw.data(), .dbias = db.data(),
                                                                  .accumulate = false});
    return Grads{dx, dw, db};
  };
  grad_check("linear", {{"x", &x}, {"w", &w}, {"bias", &b}}, forward, backward, 12);
}

TEST(GradCheck, MaxPool) {
  struct Case {
    int n, h, w, c, k, stride;
  };
  uint64_t seed = 20;
  for (const Case& c : {Case{2, 6, 6, 2, 2, 2}, Case{1, 7, 8, 3, 3, 2}}) {
    const int oh = (c.h - c.k) / c.stride + 1, ow = (c.w - c.k) / c.stride + 1;
    // Distinct values 0.01 apart, so a step of 1e-5 never changes the argmax.
    Vec x(size_t(c.n) * c.h * c.w * c.c);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.01 * double(i);
    Random rng(seed++);
    rng.shuffle(x.begin(), x.end());
    std::vector<int32_t> argmax(size_t(c.n) * oh * ow * c.c);
    const auto pool = [&](int32_t* am) {
      Vec y(argmax.size());
      ref::max_pool_forward(MaxPoolForwardArgsT<double>{.n = c.n, .h = c.h, .w = c.w, .c = c.c, .k = c.k,
                                                        .stride = c.stride, .oh = oh, .ow = ow, .x = x.data(),
                                                        .y = y.data(), .argmax = am});
      return y;
    };
    pool(argmax.data());
    const auto backward = [&](const Vec& r) {
      Vec dx(x.size());
      ref::max_pool_backward(MaxPoolBackwardArgsT<double>{.n = c.n, .h = c.h, .w = c.w, .c = c.c, .oh = oh, .ow = ow,
                                                          .dy = r.data(), .argmax = argmax.data(), .dx = dx.data(),
                                                          .accumulate = false});
      return Grads{dx};
    };
    grad_check("max_pool k" + std::to_string(c.k) + " s" + std::to_string(c.stride), {{"x", &x}},
               [&] { return pool(nullptr); }, backward, seed);
  }
}

TEST(GradCheck, BatchNormTraining) {
  const int64_t rows = 12;
  const int c = 3;
  Random rng(30);
  Vec x = rng.doubles(size_t(rows) * c, -1.0, 2.0), gamma = rng.doubles(size_t(c), 0.5, 1.5), beta = rng.doubles(size_t(c));
  Vec save_mean(gamma.size()), save_invstd(gamma.size());
  const auto forward = [&] {
    Vec y(x.size()), rm(size_t(c), 0.0), rv(size_t(c), 1.0);
    ref::batch_norm_forward(BatchNormForwardArgsT<double>{.rows = rows, .c = c, .training = true, .eps = 1e-5,
                                                          .momentum = 0.1, .x = x.data(), .gamma = gamma.data(),
                                                          .beta = beta.data(), .running_mean = rm.data(),
                                                          .running_var = rv.data(), .save_mean = save_mean.data(),
                                                          .save_invstd = save_invstd.data(), .y = y.data()});
    return y;
  };
  const auto backward = [&](const Vec& r) {
    forward();  // statistics of the unperturbed input
    Vec dx(x.size()), dg(gamma.size()), db(gamma.size());
    ref::batch_norm_backward(BatchNormBackwardArgsT<double>{.rows = rows, .c = c, .x = x.data(), .dy = r.data(),
                                                            .gamma = gamma.data(), .save_mean = save_mean.data(),
                                                            .save_invstd = save_invstd.data(), .dx = dx.data(),
                                                            .dgamma = dg.data(), .dbeta = db.data(), .accumulate = false});
    return Grads{dx, dg, db};
  };
  grad_check("batch_norm", {{"x", &x}, {"gamma", &gamma}, {"beta", &beta}}, forward, backward, 31);
}

TEST(GradCheck, Relu) {
  Random rng(40);
  Vec x = rng.doubles(50, 0.05, 1.0);
  for (size_t i = 0; i < x.size(); i += 2) x[i] = -x[i];  // away from the kink at 0
  const auto forward = [&] {
    Vec y(x.size());
    ref::relu_forward(ReluForwardArgsT<double>{.count = int64_t(x.size()), .x = x.data(), .y = y.data()});
    return y;
  };
  const auto backward = [&](const Vec& r) {
    const Vec y = forward();
    Vec dx(x.size());
    ref::relu_backward(ReluBackwardArgsT<double>{
        .count = int64_t(x.size()), .y = y.data(), .dy = r.data(), .dx = dx.data(), .accumulate = false});
    return Grads{dx};
  };
  grad_check("relu", {{"x", &x}}, forward, backward, 41);
}

TEST(GradCheck, AddWithCrop) {
  const int n = 2, oh = 3, ow = 4, c = 2, bh = 5, bw = 7, off_h = 1, off_w = 2;
  Random rng(50);
  Vec a = rng.doubles(size_t(n) * oh * ow * c), b = rng.doubles(size_t(n) * bh * bw * c);
  const auto forward = [&] {
    Vec y(a.size());
    ref::add_forward(AddForwardArgsT<double>{.n = n, .oh = oh, .ow = ow, .c = c, .bh = bh, .bw = bw, .off_h = off_h,
                                             .off_w = off_w, .a = a.data(), .b = b.data(), .y = y.data()});
    return y;
  };
  const auto backward = [&](const Vec& r) {
    Vec da(a.size()), db(b.size());
    ref::add_backward(AddBackwardArgsT<double>{.n = n, .oh = oh, .ow = ow, .c = c, .bh = bh, .bw = bw, .off_h = off_h,
                                               .off_w = off_w, .dy = r.data(), .da = da.data(), .db = db.data(),
                                               .accumulate = false});
    return Grads{da, db};
  };
  grad_check("add crop", {{"a", &a}, {"b", &b}}, forward, backward, 51);
}

TEST(GradCheck, Concat) {
  const int64_t rows = 6;
  const int c1 = 2, c2 = 3, total = c1 + c2;
  Random rng(60);
  Vec x1 = rng.doubles(size_t(rows) * c1), x2 = rng.doubles(size_t(rows) * c2);
  const auto forward = [&] {
    Vec y(size_t(rows) * total);
    ref::concat_forward(ConcatForwardArgsT<double>{
        .rows = rows, .c_part = c1, .c_total = total, .c_offset = 0, .x = x1.data(), .y = y.data()});
    ref::concat_forward(ConcatForwardArgsT<double>{
        .rows = rows, .c_part = c2, .c_total = total, .c_offset = c1, .x = x2.data(), .y = y.data()});
    return y;
  };
  const auto backward = [&](const Vec& r) {
    Vec d1(x1.size()), d2(x2.size());
    ref::concat_backward(ConcatBackwardArgsT<double>{
        .rows = rows, .c_part = c1, .c_total = total, .c_offset = 0, .dy = r.data(), .dx = d1.data(), .accumulate = false});
    ref::concat_backward(ConcatBackwardArgsT<double>{.rows = rows, .c_part = c2, .c_total = total, .c_offset = c1,
                                                     .dy = r.data(), .dx = d2.data(), .accumulate = false});
    return Grads{d1, d2};
  };
  grad_check("concat", {{"x1", &x1}, {"x2", &x2}}, forward, backward, 61);
}

TEST(GradCheck, SoftmaxCrossEntropy) {
  const int n = 4, classes = 5;
  Random rng(70);
  Vec logits = rng.doubles(size_t(n) * classes, -3.0, 3.0);
  const std::vector<int32_t> labels{0, 3, 4, 1};
  const auto loss = [&](double scale, double* dlogits) {
    double l = 0.0;
    ref::softmax_cross_entropy(SoftmaxCrossEntropyArgsT<double>{.n = n, .classes = classes, .scale = scale,
                                                                .logits = logits.data(), .labels = labels.data(),
                                                                .loss = &l, .dlogits = dlogits, .correct = nullptr});
    return l;
  };
  const auto backward = [&](const Vec& r) {
    Vec d(logits.size());
    loss(r[0], d.data());  // dlogits = scale·∂loss/∂logits with scale = ∂L/∂loss
    return Grads{d};
  };
  grad_check("softmax_cross_entropy", {{"logits", &logits}}, [&] { return Vec{loss(1.0, nullptr)}; }, backward, 71);
}

TEST(GradCheck, Square) {
  Random rng(80);
  Vec x = rng.doubles(20);
  const auto forward = [&] {
    Vec y(x.size());
    ref::square_forward(SquareForwardArgsT<double>{.count = int64_t(x.size()), .x = x.data(), .y = y.data()});
    return y;
  };
  const auto backward = [&](const Vec& r) {
    Vec dx(x.size());
    ref::square_backward(SquareBackwardArgsT<double>{
        .count = int64_t(x.size()), .x = x.data(), .dy = r.data(), .dx = dx.data(), .accumulate = false});
    return Grads{dx};
  };
  grad_check("square", {{"x", &x}}, forward, backward, 81);
}

TEST(GradCheck, SpvdVariance) {
  Random rng(90);
  Vec ls = rng.doubles(20, -10.0, 1.0);
  const auto forward = [&] {
    Vec s2(ls.size());
    ref::spvd_variance_forward(
        SpvdVarianceForwardArgsT<double>{.count = int64_t(ls.size()), .log_sigma2 = ls.data(), .sigma2 = s2.data()});
    return s2;
  };
  const auto backward = [&](const Vec& r) {
    const Vec s2 = forward();
    Vec d(ls.size());
    ref::spvd_variance_backward(SpvdVarianceBackwardArgsT<double>{
        .count = int64_t(ls.size()), .sigma2 = s2.data(), .dsigma2 = r.data(), .dlog_sigma2 = d.data(), .accumulate = false});
    return Grads{d};
  };
  grad_check("spvd_variance", {{"log_sigma2", &ls}}, forward, backward, 91);
}

TEST(GradCheck, LrtSampleWithFixedSeed) {
  Random rng(100);
  const int64_t count = 23;
  Vec mu = rng.doubles(size_t(count)), var = rng.doubles(size_t(count), 0.2, 2.0);
  const auto forward = [&] {
    Vec y(mu.size());
    ref::lrt_sample_forward(LrtSampleForwardArgsT<double>{
        .count = count, .seed = 42, .offset = 7, .mu = mu.data(), .var = var.data(), .y = y.data()});
    return y;
  };
  const auto backward = [&](const Vec& r) {
    Vec dmu(mu.size()), dvar(var.size());
    ref::lrt_sample_backward(LrtSampleBackwardArgsT<double>{.count = count, .seed = 42, .offset = 7, .var = var.data(),
                                                            .dy = r.data(), .dmu = dmu.data(), .dvar = dvar.data(),
                                                            .accumulate = false});
    return Grads{dmu, dvar};
  };
  grad_check("lrt_sample", {{"mu", &mu}, {"var", &var}}, forward, backward, 101);
}

TEST(GradCheck, LogAlphaAndSpvdKlZeroWhereClipped) {
  Random rng(110);
  Vec theta = rng.doubles(24, 0.2, 1.0), ls = rng.doubles(24, -6.0, 0.0);
  for (size_t i = 1; i < theta.size(); i += 3) theta[i] = -theta[i];
  // Clipped: log α ≈ 13.8 > 8 and ≈ −14.2 < −8.
  const std::vector<size_t> clipped{5, 17};
  theta[5] = 1e-3;
  ls[5] = 0.0;
  theta[17] = 3.0;
  ls[17] = -12.0;
  // The unclipped log α stay away from the clip boundaries.
  Vec la(theta.size());
  ref::log_alpha(LogAlphaArgsT<double>{.count = int64_t(la.size()), .theta = theta.data(), .log_sigma2 = ls.data(),
                                       .log_alpha = la.data()});
  for (size_t i = 0; i < la.size(); ++i) {
    const bool is_clipped = i == 5 || i == 17;
    if (is_clipped) EXPECT_EQ(std::abs(la[i]), 8.0) << i;
    else EXPECT_LT(std::abs(la[i]), 7.5) << i;
  }
  const auto forward = [&] {
    double kl = 0.0;
    ref::spvd_kl_forward(SpvdKlForwardArgsT<double>{
        .count = int64_t(theta.size()), .theta = theta.data(), .log_sigma2 = ls.data(), .kl = &kl});
    return Vec{kl};
  };
  const auto backward = [&](const Vec& r) {
    Vec dth(theta.size()), dls(ls.size());
    ref::spvd_kl_backward(SpvdKlBackwardArgsT<double>{.count = int64_t(theta.size()), .scale = r[0],
                                                      .theta = theta.data(), .log_sigma2 = ls.data(),
                                                      .dtheta = dth.data(), .dlog_sigma2 = dls.data(),
                                                      .accumulate = false});
    return Grads{dth, dls};
  };
  const Grads g = grad_check("spvd_kl", {{"theta", &theta}, {"log_sigma2", &ls}}, forward, backward, 111);
  for (size_t i : clipped) {
    EXPECT_EQ(g[0][i], 0.0) << "dtheta where log alpha is clipped, element " << i;
    EXPECT_EQ(g[1][i], 0.0) << "dlog_sigma2 where log alpha is clipped, element " << i;
  }
}

TEST(GradCheck, BcSampleZWithFixedSeed) {
  const int n = 4, groups = 5;
  Random rng(120);
  Vec mu = rng.doubles(size_t(groups), 0.5, 1.5), ls = rng.doubles(size_t(groups), -4.0, 0.0);
  const auto forward = [&] {
    Vec z(size_t(n) * groups);
    ref::bc_sample_z_forward(BcSampleZForwardArgsT<double>{.n = n, .groups = groups, .seed = 5, .offset = 99,
                                                           .mu_z = mu.data(), .log_sigma2_z = ls.data(), .z = z.data()});
    return z;
  };
  const auto backward = [&](const Vec& r) {
    Vec dmu(mu.size()), dls(ls.size());
    ref::bc_sample_z_backward(BcSampleZBackwardArgsT<double>{.n = n, .groups = groups, .seed = 5, .offset = 99,
                                                             .log_sigma2_z = ls.data(), .dz = r.data(),
                                                             .dmu_z = dmu.data(), .dlog_sigma2_z = dls.data(),
                                                             .accumulate = false});
    return Grads{dmu, dls};
  };
  grad_check("bc_sample_z", {{"mu_z", &mu}, {"log_sigma2_z", &ls}}, forward, backward, 121);
}

TEST(GradCheck, ScaleGroups) {
  const int n = 2, pixels = 3, groups = 4;
  Random rng(130);
  Vec x = rng.doubles(size_t(n) * pixels * groups), z = rng.doubles(size_t(n) * groups, 0.0, 2.0);
  const auto forward = [&] {
    Vec y(x.size());
    ref::scale_groups_forward(ScaleGroupsForwardArgsT<double>{
        .n = n, .pixels = pixels, .groups = groups, .x = x.data(), .z = z.data(), .y = y.data()});
    return y;
  };
  const auto backward = [&](const Vec& r) {
    Vec dx(x.size()), dz(z.size());
    ref::scale_groups_backward(ScaleGroupsBackwardArgsT<double>{.n = n, .pixels = pixels, .groups = groups,
                                                                .x = x.data(), .z = z.data(), .dy = r.data(),
                                                                .dx = dx.data(), .dz = dz.data(), .accumulate = false});
    return Grads{dx, dz};
  };
  grad_check("scale_groups", {{"x", &x}, {"z", &z}}, forward, backward, 131);
}

TEST(GradCheck, BcEpilogueWithFixedSeed) {
  const int n = 2, pixels = 3, groups = 4;
  Random rng(140);
  Vec mu = rng.doubles(size_t(n) * pixels * groups), var = rng.doubles(mu.size(), 0.2, 2.0),
      z = rng.doubles(size_t(n) * groups, 0.5, 1.5);
  const auto forward = [&] {
    Vec y(mu.size());
    ref::bc_epilogue_forward(BcEpilogueForwardArgsT<double>{.n = n, .pixels = pixels, .groups = groups, .seed = 8,
                                                            .offset = 3, .mu = mu.data(), .var = var.data(),
                                                            .z = z.data(), .y = y.data()});
    return y;
  };
  const auto backward = [&](const Vec& r) {
    Vec dmu(mu.size()), dvar(var.size()), dz(z.size());
    ref::bc_epilogue_backward(BcEpilogueBackwardArgsT<double>{
        .n = n, .pixels = pixels, .groups = groups, .seed = 8, .offset = 3, .mu = mu.data(), .var = var.data(),
        .z = z.data(), .dy = r.data(), .dmu = dmu.data(), .dvar = dvar.data(), .dz = dz.data(), .accumulate = false});
    return Grads{dmu, dvar, dz};
  };
  grad_check("bc_epilogue", {{"mu", &mu}, {"var", &var}, {"z", &z}}, forward, backward, 141);
}

TEST(GradCheck, BcKlGroupTermIsNotClipped) {
  const int64_t groups = 6, weights = 15;
  Random rng(150);
  Vec muz = rng.doubles(size_t(groups), 0.5, 1.5), lsz = rng.doubles(size_t(groups), -6.0, 0.0),
      muw = rng.doubles(size_t(weights)), lsw = rng.doubles(size_t(weights), -9.0, 0.0);
  muz[2] = 1e-3;  // group log α ≈ 13.8: beyond SpVD's clip, still differentiable
  lsz[2] = 0.0;
  lsz[4] = -9.0;  // the BC initialization (log α ≈ −9): gradient must not vanish
  const auto forward = [&] {
    double kl = 0.0;
    ref::bc_kl_forward(BcKlForwardArgsT<double>{.groups = groups, .weights = weights, .mu_z = muz.data(),
                                                .log_sigma2_z = lsz.data(), .mu_w = muw.data(),
                                                .log_sigma2_w = lsw.data(), .kl = &kl});
    return Vec{kl};
  };
  const auto backward = [&](const Vec& r) {
    Vec dmuz(muz.size()), dlsz(lsz.size()), dmuw(muw.size()), dlsw(lsw.size());
    ref::bc_kl_backward(BcKlBackwardArgsT<double>{.groups = groups, .weights = weights, .scale = r[0],
                                                  .mu_z = muz.data(), .log_sigma2_z = lsz.data(), .mu_w = muw.data(),
                                                  .log_sigma2_w = lsw.data(), .dmu_z = dmuz.data(),
                                                  .dlog_sigma2_z = dlsz.data(), .dmu_w = dmuw.data(),
                                                  .dlog_sigma2_w = dlsw.data(), .accumulate = false});
    return Grads{dmuz, dlsz, dmuw, dlsw};
  };
  const Grads g = grad_check("bc_kl", {{"mu_z", &muz}, {"log_sigma2_z", &lsz}, {"mu_w", &muw}, {"log_sigma2_w", &lsw}},
                             forward, backward, 151);
  EXPECT_NE(g[0][2], 0.0);
  EXPECT_NE(g[1][2], 0.0);
  // At the BC initialization (log α ≈ −9) ∂KL/∂log σ²_z ≈ −0.5: the KL pushes toward pruning.
  const Grads unit = backward(Vec{1.0});
  EXPECT_LT(unit[1][4], -0.4);
  EXPECT_GT(unit[1][4], -0.6);
}

}  // namespace
}  // namespace sparse::test
