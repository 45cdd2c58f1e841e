// The proposal interface: distinct candidates with their λ and samples, ρ = 0, budgets, mixed inputs, and
// that proposals concentrate where the model predicts the optimum.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "gp/proposer.hpp"
#include "host/core/error.hpp"

using namespace sparse::gp;

namespace {

EncodedPoint point1d(double x) {
  EncodedPoint p;
  p.numeric = {x};
  return p;
}

std::vector<EncodedPoint> grid(int m) {
  std::vector<EncodedPoint> c;
  for (int i = 0; i < m; ++i) c.push_back(point1d((i + 0.5) / m));
  return c;
}

}  // namespace

TEST(Proposer, ChoosesDistinctCandidatesAndRecordsLambdaAndSamples) {
  std::vector<CompletedTrial> done;
  for (double x : {0.05, 0.3, 0.55, 0.8, 0.95}) done.push_back({point1d(x), {x, (1 - x) * (1 - x)}, true});
  ProposerSettings s;
  s.num_objectives = 2;
  s.fit.restarts = 1;
  Proposer prop(s);
  sparse::PhiloxStream rng(1);
  const auto out = prop.propose(done, {point1d(0.5)}, grid(50), 4, rng);
  ASSERT_EQ(out.size(), 4u);
  std::set<int> seen;
  for (const Proposal& p : out) {
    ASSERT_TRUE(p.model_based);
    ASSERT_GE(p.candidate, 0);
    ASSERT_LT(p.candidate, 50);
    seen.insert(p.candidate);
    ASSERT_EQ(p.lambda.size(), 2u);
    EXPECT_NEAR(p.lambda[0] + p.lambda[1], 1.0, 1e-12);
    ASSERT_EQ(p.sampled_objectives.size(), 2u);
    // The sample of f1 = x is nearly exact after fitting (noise-free linear function).
    EXPECT_NEAR(p.sampled_objectives[0], (p.candidate + 0.5) / 50, 0.1);
  }
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_EQ(prop.hyperparameters().size(), 2u);
}

TEST(Proposer, NeverReproposesACompletedOrPendingTrial) {
  // Candidates = the completed and pending points plus one new point: only the new one may be chosen.
  std::vector<CompletedTrial> done;
  std::vector<EncodedPoint> cand;
  for (double x : {0.1, 0.2, 0.3}) {
    done.push_back({point1d(x), {(x - 0.2) * (x - 0.2)}, true});
    cand.push_back(point1d(x));
  }
  cand.push_back(point1d(0.25));  // pending
  cand.push_back(point1d(0.9));   // the only new point, and a poor one
  ProposerSettings s;
  s.num_objectives = 1;
  s.fit.restarts = 0;
  Proposer prop(s);
  sparse::PhiloxStream rng(8);
  const auto out = prop.propose(done, {point1d(0.25)}, cand, 3, rng);
  EXPECT_TRUE(out[0].model_based);
  EXPECT_EQ(out[0].candidate, 4);
  EXPECT_FALSE(out[1].model_based);  // nothing left to choose
  EXPECT_FALSE(out[2].model_based);
}

TEST(Proposer, RhoZeroAndTooFewTrialsGiveRandomSlots) {
  ProposerSettings s;
  s.num_objectives = 1;
  s.rho = 0.0;
  Proposer prop(s);
  sparse::PhiloxStream rng(2);
  std::vector<CompletedTrial> done{{point1d(0.1), {1.0}, true}, {point1d(0.9), {2.0}, true}};
  for (const Proposal& p : prop.propose(done, {}, grid(10), 3, rng)) {
    EXPECT_FALSE(p.model_based);
    EXPECT_EQ(p.candidate, -1);
  }
  s.rho = 1.0;
  Proposer one(s);
  done.pop_back();
  for (const Proposal& p : one.propose(done, {}, grid(10), 2, rng)) EXPECT_FALSE(p.model_based);
}

TEST(Proposer, ConcentratesNearTheMinimumOfOneObjective) {
  std::vector<CompletedTrial> done;
  for (int i = 0; i < 10; ++i) {
    const double x = (i + 0.5) / 10.0;
    done.push_back({point1d(x), {(x - 0.33) * (x - 0.33)}, true});
  }
  ProposerSettings s;
  s.num_objectives = 1;
  s.fit.restarts = 1;
  Proposer prop(s);
  sparse::PhiloxStream rng(3);
  int near = 0;
  for (int r = 0; r < 10; ++r) {
    const auto out = prop.propose(done, {}, grid(200), 1, rng);
    near += std::abs((out[0].candidate + 0.5) / 200 - 0.33) < 0.05;
  }
  EXPECT_GE(near, 8);
}

TEST(Proposer, BudgetsKeepChoicesInsideWhenPossible) {
  // f2 = x is a budgeted objective (≤ 0.4); f1 = 1 − x pulls towards large x.
  std::vector<CompletedTrial> done;
  for (int i = 0; i < 8; ++i) {
    const double x = (i + 0.5) / 8.0;
    done.push_back({point1d(x), {1 - x, x}, x <= 0.4});
  }
  ProposerSettings s;
  s.num_objectives = 2;
  s.budgets = {std::numeric_limits<double>::quiet_NaN(), 0.4};
  s.lambda_lower = {0.9, 0.0};  // box prior: care almost only about f1
  s.lambda_upper = {1.0, 0.1};
  s.fit.restarts = 1;
  Proposer prop(s);
  sparse::PhiloxStream rng(4);
  const auto out = prop.propose(done, {}, grid(100), 5, rng);
  for (const Proposal& p : out) {
    ASSERT_TRUE(p.model_based);
    EXPECT_LE(p.sampled_objectives[1], 0.4);
    EXPECT_LE((p.candidate + 0.5) / 100, 0.45);
    EXPECT_GE(p.lambda[0], 0.9 / 1.1 - 1e-12);
  }
}

TEST(Proposer, MixedConditionalInputsAndValidation) {
  sparse::PhiloxStream gen(5);
  auto make = [&](bool long_branch) {
    EncodedPoint p;
    p.numeric = {gen.uniform(), long_branch ? gen.uniform() : 0.0};
    p.numeric_active = {1, static_cast<uint8_t>(long_branch)};
    p.categorical = {static_cast<int>(gen.below(3))};
    p.categorical_active = {1};
    return p;
  };
  std::vector<CompletedTrial> done;
  for (int i = 0; i < 12; ++i) {
    EncodedPoint p = make(i % 2 == 0);
    const double f = p.numeric[0] + (p.numeric_active[1] ? p.numeric[1] : 0.5) + 0.3 * p.categorical[0];
    done.push_back({p, {f}, true});
  }
  std::vector<EncodedPoint> cand;
  for (int i = 0; i < 30; ++i) cand.push_back(make(i % 3 == 0));
  ProposerSettings s;
  s.num_objectives = 1;
  s.fit.restarts = 1;
  Proposer prop(s);
  sparse::PhiloxStream rng(6);
  const auto out = prop.propose(done, {cand[0]}, cand, 2, rng);
  EXPECT_TRUE(out[0].model_based && out[1].model_based);
  EXPECT_NE(out[0].candidate, out[1].candidate);
  done[3].objectives = {std::nan("")};
  EXPECT_THROW(prop.propose(done, {}, cand, 1, rng), sparse::Error);
}

namespace {

// Three objectives of mixed, conditional points (6 numeric, the last two conditional; 2 categorical).
void mixed_problem(int n, int m, std::vector<CompletedTrial>& done, std::vector<EncodedPoint>& cand) {
  sparse::PhiloxStream gen(12);
  auto point = [&] {
    EncodedPoint p;
    const bool branch = gen.uniform() < 0.5;
    for (int d = 0; d < 6; ++d) {
      p.numeric.push_back(gen.uniform());
      p.numeric_active.push_back(d < 4 || branch ? 1 : 0);
    }
    for (int d = 0; d < 2; ++d) p.categorical.push_back(static_cast<int>(gen.below(3)));
    return p;
  };
  for (int i = 0; i < n; ++i) {
    CompletedTrial t;
    t.point = point();
    const auto& x = t.point.numeric;
    t.objectives = {std::sin(3 * x[0]) + x[1], (x[2] - 0.3) * (x[2] - 0.3) + 0.2 * t.point.categorical[0],
                    x[3] + (t.point.numeric_active[5] ? x[5] : 0.5)};
    done.push_back(t);
  }
  for (int i = 0; i < m; ++i) cand.push_back(point());
}

}  // namespace

TEST(Proposer, ThreadCountDoesNotChangeTheProposals) {
  std::vector<CompletedTrial> done;
  std::vector<EncodedPoint> cand;
  mixed_problem(40, 150, done, cand);
  std::vector<std::vector<Proposal>> runs;
  std::vector<std::vector<Eigen::VectorXd>> thetas;
  for (int threads : {1, 2, 3}) {
    ProposerSettings s;
    s.num_objectives = 3;
    s.fit.restarts = 1;
    s.fit.probe_iterations = 3;
    s.fit.economy_from_observations = 10;  // probing and warm settings on at this size too
    s.fit.max_iterations = 20;
    s.threads = threads;
    Proposer prop(s);
    sparse::PhiloxStream rng(9);
    runs.push_back(prop.propose(done, {cand[0]}, cand, 3, rng));
    thetas.push_back(prop.hyperparameters());
  }
  for (size_t r = 1; r < runs.size(); ++r) {
    for (int k = 0; k < 3; ++k) EXPECT_EQ(thetas[r][static_cast<size_t>(k)], thetas[0][static_cast<size_t>(k)]);
    for (size_t q = 0; q < 3; ++q) {
      EXPECT_EQ(runs[r][q].candidate, runs[0][q].candidate);
      EXPECT_EQ(runs[r][q].lambda, runs[0][q].lambda);
      EXPECT_EQ(runs[r][q].sampled_objectives, runs[0][q].sampled_objectives);
    }
  }
}

TEST(Proposer, WarmStartRefitsFromTheGivenHyperparameters) {
  std::vector<CompletedTrial> done;
  std::vector<EncodedPoint> cand;
  mixed_problem(30, 60, done, cand);
  ProposerSettings s;
  s.num_objectives = 3;
  s.fit.restarts = 1;
  s.fit.max_iterations = 25;
  Proposer first(s);
  sparse::PhiloxStream rng(10);
  first.propose(std::vector<CompletedTrial>(done.begin(), done.end() - 1), {}, cand, 1, rng);
  EXPECT_GT(first.last_fit_evaluations(), 3 * 25 / 2);
  // A new proposer given those θ: with no warm iterations and no warm restarts the θ stay as given and
  // each objective costs one likelihood evaluation.
  s.fit.economy_from_observations = 10;
  s.fit.warm_restarts = 0;
  s.fit.warm_max_iterations = 0;
  Proposer next(s);
  next.set_warm_start(first.hyperparameters());
  next.propose(done, {}, cand, 1, rng);
  EXPECT_EQ(next.last_fit_evaluations(), 3);
  EXPECT_EQ(next.fits(), 1);
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ(next.hyperparameters()[k], first.hyperparameters()[k]);
  // With a few warm iterations the fit moves from there and costs far less than the cold one.
  s.fit.warm_max_iterations = 5;
  Proposer warm(s);
  warm.set_warm_start(first.hyperparameters());
  warm.propose(done, {}, cand, 1, rng);
  EXPECT_LE(warm.last_fit_evaluations(), 3 * 5 * 3);
  EXPECT_THROW(warm.set_warm_start({first.hyperparameters()[0]}), sparse::Error);
}
