// host/nn Network: gradients of whole networks (noise fixed) against finite differences, the deterministic
// model (masks, BN folding, dead weights), pruning state counts, φ files and inheritance.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "host/cpu/cpu_backend.hpp"
#include "host/core/philox.hpp"
#include "host/nn/network.hpp"
#include "host/nn/phi.hpp"
#include "tests/common/error_of.hpp"
#include "tests/common/temp_dir.hpp"
#include "tests/nn/nn_fixtures.hpp"

namespace sparse::nn {
namespace {

using test::error_of;

struct Loss {
  Network& net;
  Mode mode;
  float kl_scale;
  uint64_t step;
  double operator()() {
    net.forward_loss(mode, step);
    const StepStats s = net.stats();
    return s.ce + double(kl_scale) * s.kl;
  }
};

void random_batch(Network& net, int n, uint64_t seed) {
  const auto& in = net.graph().nodes[0].out;
  PhiloxStream rng(seed);
  std::vector<float> x(static_cast<size_t>(n * in.size()));
  for (auto& v : x) v = static_cast<float>(rng.normal());
  std::vector<int32_t> y(static_cast<size_t>(n));
  for (auto& v : y) v = static_cast<int32_t>(rng.below(static_cast<uint64_t>(net.config().num_classes)));
  net.set_batch(x.data(), y.data(), n);
}

// Central differences on a few elements of every trained tensor against backward() with the same noise (same
// step). The network is float and has ReLU / max-pool kinks, so each element is differenced at two steps
// (1e-3 and 5e-4); an element whose two estimates disagree by more than 3% crossed a kink or lost precision and
// is skipped. At least 70% of the elements must be usable, and every usable one must match within 3% (+2e-3).
void check_gradients(Network& net, Mode mode, float kl_scale) {
  const uint64_t step = 7;
  Loss loss{net, mode, kl_scale, step};
  loss();
  net.backward(mode, kl_scale, step);
  PhiloxStream pick(11);
  int sampled = 0, checked = 0;
  for (auto& p : net.params()) {
    if (!p.trained) continue;
    const bool det_param = p.name.find("log_sigma2") == std::string::npos && p.name.find("mu_z") == std::string::npos;
    if (mode == Mode::deterministic && !det_param) continue;
    const std::vector<float> grad = p.grad.download();
    std::vector<float> value = p.value.download();
    auto numeric = [&](size_t e, float h) {
      const float orig = value[e];
      value[e] = orig + h;
      p.value.upload(value);
      const double up = loss();
      value[e] = orig - h;
      p.value.upload(value);
      const double down = loss();
      value[e] = orig;
      p.value.upload(value);
      return (up - down) / (2.0 * double(h));
    };
    for (int k = 0; k < 4; ++k) {
      const size_t e = static_cast<size_t>(pick.below(value.size()));
      const double n1 = numeric(e, 1e-3f), n2 = numeric(e, 5e-4f);
      ++sampled;
      if (std::fabs(n1 - n2) > 0.03 * std::max(std::fabs(n1), std::fabs(n2)) + 1e-3) continue;
      ++checked;
      const double tol = 3e-2 * std::max(std::fabs(n2), std::fabs(double(grad[e]))) + 2e-3;
      EXPECT_NEAR(grad[e], n2, tol) << p.name << "[" << e << "]";
    }
  }
  EXPECT_GT(sampled, 8);
  EXPECT_GE(checked, 0.7 * sampled) << checked << " of " << sampled << " elements had a stable finite difference";
}

// Directional finite differences along a random direction d over a whole tensor: (L(v + h·d) − L(v − h·d)) / 2h
// against Σ grad·d. Log-variance gradients are ~5e-4 per element at initialization, under the element check's
// absolute tolerance, so a zero or sign-flipped one would pass it; summed along d they are well above float noise,
// and the relative error tells a right gradient (≈ 0) from a zero (1) or a flipped one (2). `corrupt` is applied to
// the analytic gradient first (the test shows the check catches those faults). Returns the largest relative
// error over the tensors whose name contains `which` (steps h and 2h); `checked` counts them.
enum class Corrupt { none, zero, flip };
double directional_error(Network& net, Mode mode, float kl_scale, const std::string& which, float h, Corrupt corrupt,
                         int& checked) {
  const uint64_t step = 5;
  Loss loss{net, mode, kl_scale, step};
  loss();
  net.backward(mode, kl_scale, step);
  PhiloxStream dir(13);
  double worst = 0;
  checked = 0;
  for (auto& p : net.params()) {
    if (!p.trained || p.name.find(which) == std::string::npos) continue;
    std::vector<float> grad = p.grad.download();
    for (auto& g : grad) g = corrupt == Corrupt::zero ? 0.0f : corrupt == Corrupt::flip ? -g : g;
    const std::vector<float> value = p.value.download();
    std::vector<float> d(value.size());
    double analytic = 0;
    for (size_t e = 0; e < d.size(); ++e) {
      d[e] = static_cast<float>(dir.normal());
      analytic += double(grad[e]) * double(d[e]);
    }
    auto numeric = [&](float step_size) {
      std::vector<float> moved(value.size());
      for (size_t e = 0; e < d.size(); ++e) moved[e] = value[e] + step_size * d[e];
      p.value.upload(moved);
      const double up = loss();
      for (size_t e = 0; e < d.size(); ++e) moved[e] = value[e] - step_size * d[e];
      p.value.upload(moved);
      const double down = loss();
      p.value.upload(value);
      return (up - down) / (2.0 * double(step_size));
    };
    const double n1 = numeric(2 * h), n2 = numeric(h);
    // A tensor whose two step sizes disagree crossed a ReLU or max-pool kink along d: skipped, as in
    // check_gradients. A usable one must have a derivative well above float noise.
    if (std::fabs(n1 - n2) > 0.02 * std::fabs(n2) + 1e-6) continue;
    EXPECT_GT(std::fabs(n2), 1e-5) << p.name << ": directional derivative too small to test";
    worst = std::max(worst, std::fabs(analytic - n2) / std::fabs(n2));
    ++checked;
  }
  return worst;
}

space::Config branched_config(bool bn, bool residual) {
  space::Config c = test::small_config(3, {4, 4}, 600);
  c.batch_norm = bn;
  c.residual_connections = residual;
  c.left_branch = true;
  c.right_branch = true;
  c.merge_type = space::MergeType::Concatenate;
  c.blocks[0].layers[1].layer_type = space::LayerType::SeparableConv2D;
  c.blocks[0].layers[0].padding = space::Padding::valid;
  return c;
}

TEST(NetworkGradients, SpvdVariationalMatchesFiniteDifferences) {
  auto be = cpu::make_cpu_backend(1);
  Network net(*be, branched_config(false, true), Method::spvd, 4, 1);
  random_batch(net, 4, 2);
  check_gradients(net, Mode::variational, 1e-3f);
}

TEST(NetworkGradients, BcVariationalMatchesFiniteDifferences) {
  auto be = cpu::make_cpu_backend(1);
  space::Config c = branched_config(false, false);
  c.merge_type = space::MergeType::Sum;
  Network net(*be, c, Method::bc, 4, 1);
  random_batch(net, 4, 3);
  check_gradients(net, Mode::variational, 1e-3f);
}

TEST(NetworkGradients, DeterministicWithBatchNormMatchesFiniteDifferences) {
  auto be = cpu::make_cpu_backend(1);
  Network net(*be, branched_config(true, true), Method::spvd, 6, 1);
  random_batch(net, 6, 4);
  check_gradients(net, Mode::deterministic, 0.0f);
}

TEST(NetworkNoise, SameStepSameLossOtherStepOtherLoss) {
  auto be = cpu::make_cpu_backend(1);
  Network net(*be, test::small_config(3, {4}, 300), Method::spvd, 8, 5);
  // Large variances so the noise matters.
  for (auto& p : net.params())
    if (p.name.find("log_sigma2") != std::string::npos) p.value.upload(std::vector<float>(p.value.size(), -1.0f));
  random_batch(net, 8, 6);
  net.forward_loss(Mode::variational, 3);
  const double a = net.stats().ce;
  net.forward_loss(Mode::variational, 3);
  const double b = net.stats().ce;
  net.forward_loss(Mode::variational, 4);
  const double c = net.stats().ce;
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

// Statistics stay on the backend until drained (the trainer drains every kStatsSlots steps): each drained step
// is that step's forward, in order, with its own mode's KL; older steps than the slots hold are counted as dropped;
// evaluation does not touch them.
TEST(NetworkStats, DrainReturnsEveryStepInOrderAndCountsOverwrittenOnes) {
  auto be = cpu::make_cpu_backend(1);
  Network net(*be, test::small_config(3, {4}, 300), Method::spvd, 8, 5);
  for (auto& p : net.params())  // large variances: the noise of each step changes its loss
    if (p.name.find("log_sigma2") != std::string::npos) p.value.upload(std::vector<float>(p.value.size(), -1.0f));
  random_batch(net, 8, 1);
  std::vector<StepStats> each;
  for (int s = 1; s <= 5; ++s) {
    net.forward_loss(s % 2 ? Mode::variational : Mode::deterministic, uint64_t(s));
    each.push_back(net.stats());
  }
  net.load_eval_weights(net.deterministic_model());
  (void)net.eval_batch();
  EXPECT_EQ(net.pending_stats(), 5);
  int64_t dropped = -1;
  std::vector<StepStats> drained = net.drain_stats(&dropped);
  EXPECT_EQ(dropped, 0);
  ASSERT_EQ(drained.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(drained[i].ce, each[i].ce) << i;
    EXPECT_EQ(drained[i].kl, each[i].kl) << i;
    EXPECT_EQ(drained[i].correct, each[i].correct) << i;
  }
  EXPECT_NE(drained[0].ce, drained[2].ce);  // other step, other noise
  EXPECT_GT(drained[0].kl, 0.0);
  EXPECT_EQ(drained[1].kl, 0.0);  // deterministic forward: no KL
  EXPECT_EQ(net.pending_stats(), 0);
  EXPECT_TRUE(net.drain_stats().empty());
  for (int s = 1; s <= Network::kStatsSlots + 3; ++s) net.forward_loss(Mode::variational, uint64_t(100 + s));
  const StepStats last = net.stats();
  drained = net.drain_stats(&dropped);
  EXPECT_EQ(dropped, 3);
  ASSERT_EQ(drained.size(), size_t(Network::kStatsSlots));
  EXPECT_EQ(drained.back().ce, last.ce);
}

TEST(DeterministicModel, SpvdMasksWeightsAboveThreshold) {
  auto be = cpu::make_cpu_backend(1);
  space::Config c = test::small_config(3, {2}, 60);
  c.blocks[0].layers[0].pruning_threshold = 0.0;
  Network net(*be, c, Method::spvd, 2, 1);
  Param* th = net.find_param("block1.layer1.conv/theta");
  Param* ls = net.find_param("block1.layer1.conv/log_sigma2");
  ASSERT_TRUE(th && ls);
  std::vector<float> theta(th->value.size(), 0.5f), lsig(ls->value.size(), -10.0f);
  // log α = log σ² − log θ²: weight 0 gets log α = 1 - log(0.25) > 0 → pruned; weight 1 = -10 + 1.39 → kept.
  lsig[0] = 1.0f;
  th->value.upload(theta);
  ls->value.upload(lsig);
  const DeterministicModel m = net.deterministic_model();
  const int conv = m.graph.index("block1.layer1.conv");
  ASSERT_GE(conv, 0);
  EXPECT_EQ(m.layers[size_t(conv)].weights[0], 0.0f);
  EXPECT_EQ(m.layers[size_t(conv)].weights[1], 0.5f);
  const auto st = pruning_state(m);
  EXPECT_EQ(st.nonzero_weights[size_t(conv)], int64_t(theta.size()) - 1);  // biases are 0
}

TEST(DeterministicModel, BcPrunedChannelRemovesItsWeightsAndTheNextLayersSlice) {
  auto be = cpu::make_cpu_backend(1);
  space::Config c = test::small_config(3, {4, 5}, 200);
  Network net(*be, c, Method::bc, 2, 1);
  // Prune channel 2 of layer 1: log σ²_z large → group log α = clip(8) ≥ τ = 3.
  Param* lz = net.find_param("block1.layer1.conv/log_sigma2_z");
  ASSERT_TRUE(lz);
  std::vector<float> v = lz->value.download();
  v[2] = 5.0f;
  lz->value.upload(v);
  const DeterministicModel m = net.deterministic_model();
  const int l1 = m.graph.index("block1.layer1.conv"), l2 = m.graph.index("block1.layer2.conv");
  const auto& w1 = m.layers[size_t(l1)].weights;  // [3, 3, 1, 4]
  const auto& w2 = m.layers[size_t(l2)].weights;  // [3, 3, 4, 5]
  for (size_t e = 0; e < w1.size(); ++e) EXPECT_EQ(w1[e] == 0.0f, e % 4 == 2) << e;
  for (size_t e = 0; e < w2.size(); ++e) {
    if ((e / 5) % 4 == 2) {
      EXPECT_EQ(w2[e], 0.0f) << e;
    }
  }
  const auto st = pruning_state(m);
  EXPECT_EQ(st.active_channels[size_t(l1)], 3);
  EXPECT_EQ(st.active_channels[size_t(l2)], 5);
  EXPECT_EQ(st.nonzero_weights[size_t(l1)], 9 * 3);  // biases 0
  EXPECT_EQ(st.nonzero_weights[size_t(l2)], 9 * 3 * 5);
  const auto rep = memory::memory_report(m.graph, st);
  const auto dense = memory::memory_report(m.graph, memory::dense_state(m.graph));
  EXPECT_LT(rep.wm6_bytes, dense.wm6_bytes);
}

TEST(DeterministicModel, BatchNormIsFoldedWithRunningStatistics) {
  auto be = cpu::make_cpu_backend(1);
  space::Config c = test::small_config(3, {2}, 60);
  c.batch_norm = true;
  Network net(*be, c, Method::spvd, 2, 1);
  const std::string n = "block1.layer1.conv";
  net.find_param(n + "/gamma")->value.upload(std::vector<float>{2.0f, 1.0f});
  net.find_param(n + "/beta")->value.upload(std::vector<float>{0.5f, -1.0f});
  net.find_param(n + "/running_mean")->value.upload(std::vector<float>{1.0f, 0.0f});
  net.find_param(n + "/running_var")->value.upload(std::vector<float>{3.0f, 1.0f});
  net.find_param(n + "/bias")->value.upload(std::vector<float>{0.25f, 0.0f});
  const std::vector<float> theta = net.find_param(n + "/theta")->value.download();
  const DeterministicModel m = net.deterministic_model();
  const auto& L = m.layers[size_t(m.graph.index(n))];
  const double s0 = 2.0 / std::sqrt(3.0 + 1e-5), s1 = 1.0 / std::sqrt(1.0 + 1e-5);
  EXPECT_NEAR(L.weights[0], theta[0] * s0, 1e-6);
  EXPECT_NEAR(L.weights[1], theta[1] * s1, 1e-6);
  EXPECT_NEAR(L.bias[0], (0.25 - 1.0) * s0 + 0.5, 1e-6);
  EXPECT_NEAR(L.bias[1], -1.0, 1e-6);
}

TEST(Phi, RoundTripAndExactLoad) {
  auto be = cpu::make_cpu_backend(1);
  const space::Config c = test::small_config(3, {3}, 100);
  Network a(*be, c, Method::bc, 2, 1), b(*be, c, Method::bc, 2, 99);
  test::TempDir tmp;
  write_phi(tmp / "phi.bin", phi_of(a));
  const Phi phi = read_phi(tmp / "phi.bin");
  EXPECT_EQ(phi.method, Method::bc);
  load_phi(b, phi);
  for (auto& p : a.params()) EXPECT_EQ(p.value.download(), b.find_param(p.name)->value.download()) << p.name;
  Network spvd(*be, c, Method::spvd, 2, 1);
  EXPECT_NE(error_of([&] { load_phi(spvd, phi); }).find("trained with bc"), std::string::npos);
}

TEST(Phi, CorruptFilesAreRefusedWithTheirNameAndOffset) {
  auto be = cpu::make_cpu_backend(1);
  Network a(*be, test::small_config(3, {3}, 100), Method::spvd, 2, 1);
  const std::vector<uint8_t> good = serialize_phi(phi_of(a));
  std::vector<uint8_t> bad = good;
  bad[0] = 'X';
  EXPECT_NE(error_of([&] { parse_phi(bad, "f.bin"); }).find("f.bin: not a φ file"), std::string::npos);
  bad = good;
  bad[good.size() / 2] ^= 0x40;
  EXPECT_NE(error_of([&] { parse_phi(bad, "f.bin"); }).find("checksum mismatch"), std::string::npos);
  bad.assign(good.begin(), good.begin() + static_cast<long>(good.size() / 3));
  EXPECT_NE(error_of([&] { parse_phi(bad, "f.bin"); }).find("f.bin"), std::string::npos);
  bad = good;
  bad[4] = 9;  // version 9
  EXPECT_NE(error_of([&] { parse_phi(bad, "f.bin"); }).find("version 9"), std::string::npos);
  test::TempDir tmp;
  EXPECT_NE(error_of([&] { read_phi(tmp / "missing.bin"); }).find("missing.bin"), std::string::npos);
}

TEST(Phi, InheritanceCopiesIdenticalNodesAndOverlappingSlices) {
  auto be = cpu::make_cpu_backend(1);
  const space::Config ref_cfg = test::small_config(3, {4, 4}, 400);
  Network ref(*be, ref_cfg, Method::spvd, 2, 1);
  const Phi phi = phi_of(ref);
  // Same config: everything inherited.
  Network same(*be, ref_cfg, Method::spvd, 2, 2);
  const InheritReport all = inherit_phi(same, phi);
  EXPECT_EQ(all.inherited, all.total);
  EXPECT_EQ(all.tensors_fresh, 0);
  // Wider second layer and a 5x5 first kernel: slices copied, kernel centre-aligned.
  space::Config morph = ref_cfg;
  morph.blocks[0].layers[1].num_filters = 6;
  morph.blocks[0].layers[0].kernel_size = 5;
  Network m(*be, morph, Method::spvd, 2, 3);
  const InheritReport part = inherit_phi(m, phi);
  EXPECT_GT(part.tensors_sliced, 0);
  EXPECT_GT(part.inherited, 0);
  EXPECT_LT(part.inherited, part.total);
  const auto rt = ref.find_param("block1.layer1.conv/theta")->value.download();  // [3,3,1,4]
  const auto mt = m.find_param("block1.layer1.conv/theta")->value.download();    // [5,5,1,4]
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 3; ++x)
      for (int o = 0; o < 4; ++o)
        EXPECT_EQ(mt[size_t(((y + 1) * 5 + (x + 1)) * 4 + o)], rt[size_t((y * 3 + x) * 4 + o)]);
  const auto r2 = ref.find_param("block1.layer2.conv/theta")->value.download();  // [3,3,4,4]
  const auto m2 = m.find_param("block1.layer2.conv/theta")->value.download();    // [3,3,4,6]
  EXPECT_EQ(m2[size_t(((1 * 3 + 2) * 4 + 3) * 6 + 3)], r2[size_t(((1 * 3 + 2) * 4 + 3) * 4 + 3)]);
}

}  // namespace
}  // namespace sparse::nn

namespace sparse::nn {
namespace {

// The log-variance gradients (SpVD log σ², BC log σ²_w and log σ²_z, BC μ_z) along random directions: right within
// 2 %, and a zeroed or sign-flipped gradient is caught.
TEST(NetworkGradients, LogVarianceGradientsAlongRandomDirectionsCatchZeroAndSignFlip) {
  auto be = cpu::make_cpu_backend(1);
  for (const Method method : {Method::spvd, Method::bc}) {
    space::Config c = branched_config(false, false);
    c.merge_type = space::MergeType::Sum;
    Network net(*be, c, method, 4, 1);
    random_batch(net, 4, 9);
    // Raise every variance to log α = −2 (σ ≈ 0.37·|mean|): the noise then matters to the data term too, and no
    // log α sits at the clip, where the gradient is zero by design.
    auto& ps = net.params();
    auto find = [&](const std::string& name) -> Param& {
      for (auto& q : ps)
        if (q.name == name) return q;
      ADD_FAILURE() << "no parameter " << name;
      return ps.front();
    };
    for (auto& q : ps) {
      const auto slash = q.name.rfind('/');
      const std::string leaf = q.name.substr(slash + 1), base = q.name.substr(0, slash);
      if (leaf != "log_sigma2" && leaf != "log_sigma2_z") continue;
      const std::vector<float> mean = find(base + (leaf == "log_sigma2" ? "/theta" : "/mu_z")).value.download();
      std::vector<float> ls(mean.size());
      for (size_t e = 0; e < ls.size(); ++e) ls[e] = std::log(mean[e] * mean[e] + 1e-8f) - 2.0f;
      q.value.upload(ls);
    }
    for (const std::string& which : method == Method::bc ? std::vector<std::string>{"log_sigma2", "mu_z"}
                                                        : std::vector<std::string>{"log_sigma2"}) {
      SCOPED_TRACE(to_string(method) + std::string(" ") + which);
      int checked = 0;
      // μ_z scales whole channels (larger, more curved derivatives): a smaller step.
      const float h = which == "mu_z" ? 5e-4f : 5e-3f;
      EXPECT_LT(directional_error(net, Mode::variational, 1e-3f, which, h, Corrupt::none, checked), 0.02);
      EXPECT_GE(checked, 2);
      EXPECT_GT(directional_error(net, Mode::variational, 1e-3f, which, h, Corrupt::zero, checked), 0.9);
      EXPECT_GT(directional_error(net, Mode::variational, 1e-3f, which, h, Corrupt::flip, checked), 1.8);
    }
  }
}

}  // namespace
}  // namespace sparse::nn
