// Ops checked against numbers worked out by hand, on the CPU backend and the reference: one Adam step (t = 1 and
// t = 3, bias correction), the SpVD and BC KL terms and their gradients (log α = 8, 0, −3, the clip at ±8, the BC
// group asymptote, the BC weight term at (0, 0)), prune_mask per weight and per group (conv inner = 1, FC inner = Out) with and without
// group_scale, softmax cross-entropy loss and `correct` (first maximum on ties); the noise contract (same
// seed/offset → same ε, another offset or seed → other ε, ε of element e = philox_normal4(seed, offset, e/4)[e%4]
// (to 2e-6 relative),
// independent of the thread count, mean ≈ 0 and variance ≈ 1 over 1e5 elements); conv_shape and backend memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "host/core/backend.hpp"
#include "host/core/error.hpp"
#include "host/cpu/cpu_backend.hpp"
#include "host/cpu/ref_ops.hpp"
#include "tests/common/error_of.hpp"

namespace sparse::test {
namespace {

Backend& cpu() {
  static const std::unique_ptr<Backend> b = cpu::make_cpu_backend(2);
  return *b;
}

template <class T>
Buffer<T> upload(const std::vector<T>& v) {
  Buffer<T> b(cpu(), v.size());
  b.upload(v);
  return b;
}

TEST(ByHand, AdamOneStep) {
  // p = 1, g = 0.5, m = v = 0 and p = −0.5, g = −2, m = 0.1, v = 0.04; lr 0.1, β = (0.9, 0.999), eps 1e-8.
  // m = 0.9·m + 0.1·g, v = 0.999·v + 0.001·g², p −= lr·(m/(1 − 0.9^t)) / (sqrt(v/(1 − 0.999^t)) + eps).
  struct Want {
    int64_t t;
    double p0, p1;
  };
  for (const Want& want : {Want{1, 0.900000002, -0.48340933314633683}, Want{3, 0.9361186422719572, -0.4894016564024777}}) {
    for (int side = 0; side < 2; ++side) {
      std::vector<float> p{1.0f, -0.5f}, g{0.5f, -2.0f}, m{0.0f, 0.1f}, v{0.0f, 0.04f};
      if (side == 0) {
        ref::adam(AdamArgsT<float>{.count = 2, .t = want.t, .lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                                   .param = p.data(), .grad = g.data(), .m = m.data(), .v = v.data()});
      } else {
        Buffer<float> bp = upload(p), bg = upload(g), bm = upload(m), bv = upload(v);
        cpu().adam(AdamArgsT<float>{.count = 2, .t = want.t, .lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                                    .param = bp.data(), .grad = bg.data(), .m = bm.data(), .v = bv.data()});
        p = bp.download();
        m = bm.download();
        v = bv.download();
      }
      SCOPED_TRACE(side == 0 ? "reference" : "cpu backend");
      EXPECT_NEAR(p[0], want.p0, 1e-6) << "t " << want.t;
      EXPECT_NEAR(p[1], want.p1, 1e-6) << "t " << want.t;
      EXPECT_NEAR(m[0], 0.05, 1e-7);
      EXPECT_NEAR(m[1], -0.11, 1e-7);
      EXPECT_NEAR(v[0], 0.00025, 1e-8);  // float: 1 − 0.999f = 0.00099999, relative 1e-5
      EXPECT_NEAR(v[1], 0.04396, 1e-6);
    }
  }
}

std::vector<float> prune(bool on_backend, std::vector<float> value, const std::vector<float>& log_alpha,
                         const std::vector<float>& group_scale, int64_t groups, int64_t inner) {
  const float threshold = 0.5f;
  if (!on_backend) {
    std::vector<float> out(value.size(), NAN);
    ref::prune_mask(PruneMaskArgsT<float>{.count = int64_t(value.size()), .threshold = threshold, .groups = groups,
                                          .inner = inner, .value = value.data(), .log_alpha = log_alpha.data(),
                                          .group_scale = group_scale.empty() ? nullptr : group_scale.data(),
                                          .out = out.data()});
    return out;
  }
  Buffer<float> v = upload(value), la = upload(log_alpha), out(cpu(), value.size());
  Buffer<float> gs = group_scale.empty() ? Buffer<float>() : upload(group_scale);
  cpu().prune_mask(PruneMaskArgsT<float>{.count = int64_t(value.size()), .threshold = threshold, .groups = groups,
                                         .inner = inner, .value = v.data(), .log_alpha = la.data(),
                                         .group_scale = group_scale.empty() ? nullptr : gs.data(), .out = out.data()});
  return out.download();
}

TEST(ByHand, PruneMaskPerWeightAndPerGroup) {
  for (bool backend : {false, true}) {
    SCOPED_TRACE(backend ? "cpu backend" : "reference");
    // Per weight, threshold 0.5 (kept when log α < 0.5; 0.5 itself is pruned).
    EXPECT_EQ(prune(backend, {1, 2, 3, 4}, {-1.0f, 0.5f, 2.0f, 0.49f}, {}, 0, 0), (std::vector<float>{1, 0, 0, 4}));
    // Conv HWIO [.., .., .., c_out = 3], groups = output channels, inner = 1: group of e is e % 3; group 1 pruned.
    EXPECT_EQ(prune(backend, {1, 2, 3, 4, 5, 6}, {0.0f, 5.0f, -2.0f}, {2.0f, 3.0f, 0.5f}, 3, 1),
              (std::vector<float>{2, 0, 1.5f, 8, 0, 3}));
    EXPECT_EQ(prune(backend, {1, 2, 3, 4, 5, 6}, {0.0f, 5.0f, -2.0f}, {}, 3, 1), (std::vector<float>{1, 0, 3, 4, 0, 6}));
    // FC [In = 3, Out = 2] grouped by input neuron, inner = Out: group of e is e / 2; input 1 pruned.
    EXPECT_EQ(prune(backend, {1, 2, 3, 4, 5, 6}, {0.0f, 5.0f, -2.0f}, {}, 3, 2), (std::vector<float>{1, 2, 0, 0, 5, 6}));
    EXPECT_EQ(prune(backend, {1, 2, 3, 4, 5, 6}, {0.0f, 5.0f, -2.0f}, {2.0f, 3.0f, 0.5f}, 3, 2),
              (std::vector<float>{2, 4, 0, 0, 2.5f, 3}));
  }
}

TEST(ByHand, SoftmaxCrossEntropyLossAndCorrect) {
  // Row 0: all equal (loss log 4; the first maximum, class 0, is not label 2). Row 1: argmax 1 == label.
  // Row 2: argmax 2 != label 0. Mean loss 0.8193101086725744, 1 correct.
  const std::vector<float> logits{0, 0, 0, 0, 1, 5, 2, 0, 3, -1, 3.5f, 0};
  const std::vector<int32_t> labels{2, 1, 0};
  for (bool backend : {false, true}) {
    SCOPED_TRACE(backend ? "cpu backend" : "reference");
    float loss = NAN;
    int32_t correct = -1;
    std::vector<float> d(12, NAN);
    if (!backend) {
      ref::softmax_cross_entropy(SoftmaxCrossEntropyArgsT<float>{.n = 3, .classes = 4, .scale = 3.0f,
                                                                 .logits = logits.data(), .labels = labels.data(),
                                                                 .loss = &loss, .dlogits = d.data(), .correct = &correct});
    } else {
      Buffer<float> bl = upload(logits), bloss(cpu(), 1), bd(cpu(), 12);
      Buffer<int32_t> blab = upload(labels), bc(cpu(), 1);
      cpu().softmax_cross_entropy(SoftmaxCrossEntropyArgsT<float>{.n = 3, .classes = 4, .scale = 3.0f,
                                                                  .logits = bl.data(), .labels = blab.data(),
                                                                  .loss = bloss.data(), .dlogits = bd.data(),
                                                                  .correct = bc.data()});
      loss = bloss.download()[0];
      correct = bc.download()[0];
      d = bd.download();
    }
    EXPECT_NEAR(loss, 0.8193101086725744, 1e-6);
    EXPECT_EQ(correct, 1);
    // Row 0 with scale 3 and n = 3: dlogits = softmax − onehot = 0.25 − [j == 2].
    EXPECT_NEAR(d[0], 0.25, 1e-7);
    EXPECT_NEAR(d[2], -0.75, 1e-7);
    double row_sum = 0.0;
    for (int j = 4; j < 8; ++j) row_sum += d[size_t(j)];
    EXPECT_NEAR(row_sum, 0.0, 1e-6);
  }
}

std::vector<float> lrt_noise(Backend& b, int64_t count, uint64_t seed, uint64_t offset) {
  Buffer<float> mu(b, size_t(count)), var(b, size_t(count)), y(b, size_t(count));
  mu.zero();
  var.upload(std::vector<float>(size_t(count), 1.0f));  // sqrt(1 + 1e-8) rounds to 1 in float: y = ε
  b.lrt_sample_forward(LrtSampleForwardArgsT<float>{
      .count = count, .seed = seed, .offset = offset, .mu = mu.data(), .var = var.data(), .y = y.data()});
  return y.download();
}

// The KL terms at points worked out independently of ref_ops.hpp (40-digit decimal arithmetic of REFERENCE.md §3-4
// with k1 = 0.63576, k2 = 1.87320, k3 = 1.48695), on the reference (double) and the CPU backend (float).
TEST(ByHand, SpvdKlAtLogAlphaEightZeroAndTheClip) {
  struct Case {
    float theta, log_sigma2;
    double kl, dtheta, dlog_sigma2;  // ∂KL/∂log σ² = ∂KL/∂log α; ∂KL/∂θ = ∂KL/∂log α · (−2/θ)
  };
  const Case cases[] = {
      {1.0f, 8.0f, 1.683693469553989e-4, 3.373312231239497e-4, -1.686656115619748e-4},  // log α = 8 (clip edge)
      {1.0f, 0.0f, 0.4312389509903088, 0.7182554566399083, -0.3591277283199541},         // log α = 0
      {1.0f, -3.0f, 2.115590218970038, 1.075556175923214, -0.5377780879616072},  // log α = −3
      {1.0f, 30.0f, 1.683693469553989e-4, 0.0, 0.0},   // log α = 30, clipped to 8: no gradient
      {1.0f, -30.0f, 4.635899480334027, 0.0, 0.0},     // log α = −30, clipped to −8: no gradient
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("theta " + std::to_string(c.theta) + " log_sigma2 " + std::to_string(c.log_sigma2));
    double kl = 0, dth = 0, dls = 0;
    const double th = c.theta, ls = c.log_sigma2;
    ref::spvd_kl_forward(SpvdKlForwardArgsT<double>{.count = 1, .theta = &th, .log_sigma2 = &ls, .kl = &kl});
    ref::spvd_kl_backward(SpvdKlBackwardArgsT<double>{.count = 1, .scale = 1.0, .theta = &th, .log_sigma2 = &ls,
                                                      .dtheta = &dth, .dlog_sigma2 = &dls, .accumulate = false});
    EXPECT_NEAR(kl, c.kl, 1e-6 * std::fabs(c.kl));
    EXPECT_NEAR(dth, c.dtheta, 1e-6 * std::fabs(c.dtheta) + 1e-12);
    EXPECT_NEAR(dls, c.dlog_sigma2, 1e-6 * std::fabs(c.dlog_sigma2) + 1e-12);
    Buffer<float> t = upload(std::vector<float>{c.theta}), l = upload(std::vector<float>{c.log_sigma2});
    Buffer<float> k(cpu(), 1), gt(cpu(), 1), gl(cpu(), 1);
    cpu().spvd_kl_forward({1, t.data(), l.data(), k.data()});
    cpu().spvd_kl_backward({1, 1.0f, t.data(), l.data(), gt.data(), gl.data(), false});
    EXPECT_NEAR(k.download()[0], c.kl, 2e-6 * std::fabs(c.kl));
    EXPECT_NEAR(gt.download()[0], c.dtheta, 2e-5 * std::fabs(c.dtheta) + 1e-9);
    EXPECT_NEAR(gl.download()[0], c.dlog_sigma2, 2e-5 * std::fabs(c.dlog_sigma2) + 1e-9);
  }
}

// BC: the group term is not clipped (log α_z → −∞ gives KL + 0.5·log α → k1), the weight term vanishes at
// (μ, log σ²) = (0, 0) with zero gradient and is 3 − 0.5·log 3 at (2, log 3).
TEST(ByHand, BcKlGroupAsymptoteAndWeightTerm) {
  const std::vector<float> mu_z = {1.0f, 1.0f}, ls_z = {-30.0f, 0.0f}, mu_w = {0.0f, 2.0f},
                           ls_w = {0.0f, std::log(3.0f)};
  const double want_kl = (15.63576 + 4.7e-14) + 0.4312389509903088 + 0.0 + 2.450693855665945;
  double kl = 0;
  const std::vector<double> mz(mu_z.begin(), mu_z.end()), lz(ls_z.begin(), ls_z.end()), mw(mu_w.begin(), mu_w.end()),
      lw(ls_w.begin(), ls_w.end());
  ref::bc_kl_forward(BcKlForwardArgsT<double>{.groups = 2, .weights = 2, .mu_z = mz.data(), .log_sigma2_z = lz.data(),
                                              .mu_w = mw.data(), .log_sigma2_w = lw.data(), .kl = &kl});
  EXPECT_NEAR(kl, want_kl, 1e-6);
  std::vector<double> dmz(2), dlz(2), dmw(2), dlw(2);
  ref::bc_kl_backward(BcKlBackwardArgsT<double>{.groups = 2, .weights = 2, .scale = 1.0, .mu_z = mz.data(),
                                                .log_sigma2_z = lz.data(), .mu_w = mw.data(), .log_sigma2_w = lw.data(),
                                                .dmu_z = dmz.data(), .dlog_sigma2_z = dlz.data(), .dmu_w = dmw.data(),
                                                .dlog_sigma2_w = dlw.data(), .accumulate = false});
  EXPECT_NEAR(dlz[0], -0.4999999999999532, 1e-9);  // −0.5 on the asymptote
  EXPECT_NEAR(dmz[0], 2 * 0.4999999999999532, 1e-8);
  EXPECT_NEAR(dlz[1], -0.3591277283199541, 1e-8);  // log α = −log(1 + 1e-8) ≈ −1e-8
  EXPECT_DOUBLE_EQ(dmw[0], 0.0);
  EXPECT_DOUBLE_EQ(dlw[0], 0.0);
  EXPECT_NEAR(dmw[1], 2.0, 1e-12);
  EXPECT_NEAR(dlw[1], 1.0, 1e-6);  // 0.5·(σ² − 1) with σ² = 3 (float log 3)
  Buffer<float> bmz = upload(mu_z), blz = upload(ls_z), bmw = upload(mu_w), blw = upload(ls_w);
  Buffer<float> k(cpu(), 1), gmz(cpu(), 2), glz(cpu(), 2), gmw(cpu(), 2), glw(cpu(), 2);
  cpu().bc_kl_forward({2, 2, bmz.data(), blz.data(), bmw.data(), blw.data(), k.data()});
  cpu().bc_kl_backward({2, 2, 1.0f, bmz.data(), blz.data(), bmw.data(), blw.data(), gmz.data(), glz.data(), gmw.data(),
                        glw.data(), false});
  EXPECT_NEAR(k.download()[0], want_kl, 2e-6 * want_kl);
  EXPECT_NEAR(glz.download()[0], -0.5, 1e-5);
  EXPECT_NEAR(gmz.download()[0], 1.0, 1e-5);
  EXPECT_NEAR(glw.download()[0], 0.0, 1e-6);
  EXPECT_NEAR(gmw.download()[1], 2.0, 1e-5);
}

TEST(Noise, LrtSampleIsAPureFunctionOfSeedAndOffset) {
  const int64_t count = 100000;
  const std::vector<float> a = lrt_noise(cpu(), count, 1234, 5), b = lrt_noise(cpu(), count, 1234, 5);
  EXPECT_EQ(a, b) << "same seed and offset";
  const auto single = cpu::make_cpu_backend(1);
  EXPECT_EQ(lrt_noise(*single, count, 1234, 5), a) << "the thread count changes nothing";
  const std::vector<float> other_offset = lrt_noise(cpu(), count, 1234, 6), other_seed = lrt_noise(cpu(), count, 1235, 5);
  int64_t same_offset = 0, same_seed = 0;
  for (int64_t i = 0; i < count; ++i) {
    same_offset += a[size_t(i)] == other_offset[size_t(i)];
    same_seed += a[size_t(i)] == other_seed[size_t(i)];
  }
  EXPECT_LT(same_offset, count / 1000) << "another offset gives other noise";
  EXPECT_LT(same_seed, count / 1000) << "another seed gives other noise";
  // Layout: element e is normal e % 4 of Philox block e / 4 (to a few ulp: SIMD log/sin/cos on the backend).
  double worst = 0.0;
  for (int64_t e = 0; e < count; e += 7) {
    float n4[4];
    philox_normal4(1234, 5, uint64_t(e) / 4, n4);
    worst = std::max(worst, std::abs(double(a[size_t(e)]) - n4[e % 4]) / std::max(1.0, std::abs(double(n4[e % 4]))));
  }
  EXPECT_LT(worst, 2e-6);
  // Moments of ε over 1e5 elements (standard errors 0.0032 and 0.0045).
  double sum = 0.0, sq = 0.0;
  for (float v : a) sum += v;
  const double mean = sum / double(count);
  for (float v : a) sq += (v - mean) * (v - mean);
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(sq / double(count - 1), 1.0, 0.03);
}

// The backward's two ways to get ε (Philox again, or (y − μ)/sqrt(v + 1e-8) from the forward) agree.
TEST(Noise, LrtBackwardFromTheForwardSampleEqualsRedrawing) {
  constexpr size_t count = 4099;
  std::vector<double> mu(count), var(count), y(count), dy(count);
  for (size_t i = 0; i < count; ++i) {
    mu[i] = std::sin(0.37 * double(i));
    var[i] = 0.01 + 2.0 * std::fabs(std::cos(0.11 * double(i)));
    dy[i] = std::cos(0.71 * double(i));
  }
  ref::lrt_sample_forward(LrtSampleForwardArgsT<double>{.count = int64_t(count), .seed = 9, .offset = 4, .mu = mu.data(),
                                                        .var = var.data(), .y = y.data()});
  std::vector<double> redraw(count), from_y(count);
  ref::lrt_sample_backward(LrtSampleBackwardArgsT<double>{.count = int64_t(count), .seed = 9, .offset = 4, .var = var.data(),
                                                          .dy = dy.data(), .dmu = nullptr, .dvar = redraw.data(),
                                                          .accumulate = false});
  ref::lrt_sample_backward(LrtSampleBackwardArgsT<double>{.count = int64_t(count), .seed = 9, .offset = 4, .var = var.data(),
                                                          .dy = dy.data(), .dmu = nullptr, .dvar = from_y.data(),
                                                          .accumulate = false, .mu = mu.data(), .y = y.data()});
  for (size_t i = 0; i < count; ++i) EXPECT_NEAR(from_y[i], redraw[i], 1e-9) << i;
}

TEST(ConvShape, SameAndValidPadding) {
  const ConvShape same = conv_shape(2, 28, 27, 3, 8, 5, true);
  EXPECT_EQ(same.oh, 28);
  EXPECT_EQ(same.ow, 27);
  EXPECT_EQ(same.pad_top, 2);
  EXPECT_EQ(same.pad_left, 2);
  const ConvShape valid = conv_shape(2, 28, 28, 1, 20, 5, false);
  EXPECT_EQ(valid.oh, 24);
  EXPECT_EQ(valid.pad_top, 0);
  EXPECT_EQ(valid.weight_count(), 5 * 5 * 1 * 20);
  const ConvShape s2 = conv_shape(1, 7, 8, 4, 4, 3, true, 2, 4);
  EXPECT_EQ(s2.oh, 4);
  EXPECT_EQ(s2.ow, 4);
  EXPECT_EQ(s2.pad_top, 1);
  EXPECT_EQ(s2.weight_count(), 3 * 3 * 1 * 4);
  const ConvShape even = conv_shape(1, 6, 6, 1, 1, 4, true);  // (k−1)/2 = 1 before, 2 after
  EXPECT_EQ(even.pad_top, 1);
  EXPECT_EQ(even.oh, 6);
  const ConvShape valid_s2 = conv_shape(1, 9, 8, 2, 2, 3, false, 2);
  EXPECT_EQ(valid_s2.oh, 4);
  EXPECT_EQ(valid_s2.ow, 3);
  EXPECT_NE(error_of([] { conv_shape(1, 8, 8, 6, 4, 3, true, 1, 4); }).find("groups 4 must divide"), std::string::npos);
  EXPECT_NE(error_of([] { conv_shape(1, 4, 8, 1, 1, 5, false); }).find("larger than"), std::string::npos);
}

TEST(CpuBackendMemory, AlignedRoundTrip) {
  Backend& b = cpu();
  EXPECT_EQ(b.name(), "cpu");
  for (size_t bytes : {size_t(0), size_t(1), size_t(100), size_t(1) << 20}) {
    void* p = b.alloc(bytes);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << bytes;
    b.free(p);
  }
  b.free(nullptr);
  Buffer<float> x(b, 5), y(b, 5);
  x.upload({1, 2, 3, 4, 5});
  b.copy(y.data(), x.data(), 5 * sizeof(float));
  EXPECT_EQ(y.download(), (std::vector<float>{1, 2, 3, 4, 5}));
  y.zero();
  EXPECT_EQ(y.download(), (std::vector<float>(5, 0.0f)));
  EXPECT_EQ(cpu::make_cpu_backend(0)->name(), "cpu");  // 0 threads: one per hardware thread
}

}  // namespace
}  // namespace sparse::test
