// Ops checked against numbers worked out by hand, on the CPU backend and the reference: one Adam step (t = 1 and
// t = 3, bias correction), prune_mask per weight and per group (conv inner = 1, FC inner = Out) with and without
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
