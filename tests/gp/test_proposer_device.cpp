// gp::Proposer's sampling device (ProposerSettings::device), on any machine: "cpu" is the default and gives
// the proposals it always gave; a GPU that cannot be used (no such device, or no GPU at all) falls back to the
// CPU path with the same proposals and a recorded reason; malformed device strings are errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gp/cuda/thompson_cuda.hpp"
#include "gp/proposer.hpp"
#include "host/core/error.hpp"

using namespace sparse::gp;

namespace {

std::vector<EncodedPoint> points(int n, sparse::PhiloxStream& rng) {
  std::vector<EncodedPoint> pts;
  for (int i = 0; i < n; ++i) {
    EncodedPoint p;
    p.numeric = {rng.uniform(), rng.uniform()};
    p.categorical = {static_cast<int>(rng.below(3))};
    pts.push_back(p);
  }
  return pts;
}

struct Data {
  std::vector<CompletedTrial> done;
  std::vector<EncodedPoint> pending, cand;
};

Data data() {
  sparse::PhiloxStream gen(3);
  Data d;
  for (const EncodedPoint& p : points(12, gen)) {
    const double a = p.numeric[0], b = p.numeric[1];
    d.done.push_back({p, {std::sin(3 * a) + b, (1 - a) * (1 - a) + 0.1 * p.categorical[0]}, true});
  }
  d.pending = points(1, gen);
  d.cand = points(80, gen);
  return d;
}

struct Outcome {
  std::vector<Proposal> proposals;
  SamplingReport sampling;
};

Outcome propose_with(const ProposerSettings& s, const Data& d) {
  Proposer p(s);
  sparse::PhiloxStream rng(17);
  Outcome o;
  o.proposals = p.propose(d.done, d.pending, d.cand, 3, rng);
  o.sampling = p.last_sampling();
  return o;
}

ProposerSettings base() {
  ProposerSettings s;
  s.num_objectives = 2;
  s.fit.restarts = 1;
  return s;
}

void expect_same(const std::vector<Proposal>& a, const std::vector<Proposal>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].model_based, b[i].model_based) << i;
    EXPECT_EQ(a[i].candidate, b[i].candidate) << i;
    EXPECT_EQ(a[i].sampled_objectives, b[i].sampled_objectives) << i;  // bit for bit: the same CPU path
    EXPECT_EQ(a[i].lambda, b[i].lambda) << i;
  }
}

}  // namespace

TEST(ProposerDevice, CpuIsTheDefaultAndUnchanged) {
  const Data d = data();
  EXPECT_EQ(ProposerSettings{}.device, "cpu");
  ProposerSettings explicit_cpu = base();
  explicit_cpu.device = "cpu";
  const Outcome a = propose_with(base(), d), b = propose_with(explicit_cpu, d);
  expect_same(a.proposals, b.proposals);
  EXPECT_EQ(a.sampling.device, "cpu");
  EXPECT_EQ(b.sampling.device, "cpu");
  EXPECT_TRUE(b.sampling.fallback_reason.empty());
  for (const Proposal& x : a.proposals) EXPECT_TRUE(x.model_based);
  // A GPU asked for but a candidate set below cuda_min_candidates: the CPU path, no fallback reason.
  ProposerSettings small = base();
  small.device = "cuda:0";
  small.cuda_min_candidates = 81;
  const Outcome c = propose_with(small, d);
  expect_same(a.proposals, c.proposals);
  EXPECT_EQ(c.sampling.device, "cpu");
  EXPECT_TRUE(c.sampling.fallback_reason.empty());
}

TEST(ProposerDevice, AnUnusableGpuFallsBackToTheCpuWithAReason) {
  // cuda:99 exists on no machine: the CPU draws the same samples and the reason names the device or says
  // that there is no GPU (or no CUDA build).
  const Data d = data();
  const Outcome cpu = propose_with(base(), d);
  ProposerSettings s = base();
  s.device = "cuda:99";
  s.cuda_min_candidates = 0;
  const Outcome far = propose_with(s, d);
  expect_same(cpu.proposals, far.proposals);
  EXPECT_EQ(far.sampling.device, "cpu");
  const std::string why = far.sampling.fallback_reason;
  EXPECT_FALSE(why.empty());
  std::string expected;
  EXPECT_FALSE(cuda::available(99, &expected));
  EXPECT_EQ(why, expected);
  // "cuda" (= cuda:0) on a machine without a usable GPU or built without CUDA: the same fallback.
  if (cuda::available(0)) GTEST_SKIP() << "a GPU is present: cuda:0 samples on it (tests/gp/test_thompson_cuda.cpp)";
  s.device = "cuda";
  const Outcome none = propose_with(s, d);
  expect_same(cpu.proposals, none.proposals);
  EXPECT_EQ(none.sampling.device, "cpu");
  EXPECT_FALSE(none.sampling.fallback_reason.empty());
}

TEST(ProposerDevice, MalformedDeviceStringsAreErrors) {
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "CUDA:0", "cuda:-1", "cuda0", " cpu"}) {
    ProposerSettings s = base();
    s.device = bad;
    EXPECT_THROW({ const Proposer p(s); }, sparse::Error) << bad;
  }
  for (const char* good : {"cpu", "cuda", "cuda:0", "cuda:12"}) {
    ProposerSettings s = base();
    s.device = good;
    EXPECT_NO_THROW({ const Proposer p(s); }) << good;
  }
  ProposerSettings s = base();
  s.cuda_min_candidates = -1;
  EXPECT_THROW({ const Proposer p(s); }, sparse::Error);
}
