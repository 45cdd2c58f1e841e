// GPU joint Thompson sampling (gp/cuda) against the CPU path: the same normals give the same samples (stated
// tolerances), jittered factors of an exactly and of a nearly singular Σ* (moments, not equal jitter), the
// posterior's moments, the 10,000-candidate × 1,000-observation × 3-objective case, and gp::Proposer on cuda:0. Every test is skipped, with the device query's reason, without a usable GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cuda/device_query.hpp"
#include "gp/cuda/thompson_cuda.hpp"
#include "gp/gp_regression.hpp"
#include "gp/kernel.hpp"
#include "gp/proposer.hpp"
#include "gp/thompson.hpp"
#include "host/core/error.hpp"
#include "tests/gp/near_singular_gp.hpp"

using namespace sparse::gp;

namespace {

#define SKIP_WITHOUT_GPU()                                                          \
  do {                                                                              \
    std::string why_;                                                               \
    if (!sparse::gp::cuda::available(0, &why_)) GTEST_SKIP() << "GPU test: " << why_; \
  } while (0)

// n random mixed points: dn numeric of which the last `conditional` are active on one branch only, dc
// categorical with `levels` levels.
std::vector<EncodedPoint> random_points(int n, int dn, int conditional, int dc, int levels, sparse::PhiloxStream& rng) {
  std::vector<EncodedPoint> pts;
  for (int i = 0; i < n; ++i) {
    EncodedPoint p;
    const bool branch = rng.uniform() < 0.5;
    for (int d = 0; d < dn; ++d) {
      p.numeric.push_back(rng.uniform());
      p.numeric_active.push_back(d < dn - conditional || branch ? 1 : 0);
    }
    for (int d = 0; d < dc; ++d) p.categorical.push_back(static_cast<int>(rng.below(static_cast<uint64_t>(levels))));
    pts.push_back(std::move(p));
  }
  return pts;
}

// A smooth target of point i for objective k.
Eigen::VectorXd targets(const Inputs& x, int k) {
  Eigen::VectorXd y(x.size());
  for (int i = 0; i < x.size(); ++i) {
    double v = 0.3 * k;
    for (int d = 0; d < std::min(6, x.num_numeric()); ++d) v += std::sin(2.0 * x.numeric(i, d) + d + k);
    if (x.num_categorical() > 0) v += 0.2 * x.categorical(i, 0);
    y[i] = 10.0 * v + 3.0 * k;  // scale ≠ 1 and mean ≠ 0 exercise the standardization
  }
  return y;
}

// θ (gp/kernel.hpp layout): length scale ℓ on every numeric and categorical dimension.
Eigen::VectorXd theta_for(const Inputs& x, double ell, double sf2, double sn2, int k) {
  const KernelLayout l = layout_of(x);
  Eigen::VectorXd th(l.size());
  for (int d = 0; d < l.num_numeric + l.num_categorical; ++d) th[d] = std::log(ell * (1.0 + 0.05 * ((d + k) % 4)));
  th[l.act()] = 0.0;
  th[l.signal()] = std::log(sf2);
  th[l.noise()] = std::log(sn2);
  return th;
}

struct Problem {
  Inputs x, pending, c;
  std::vector<cuda::ObjectiveGp> gps;
  std::vector<Eigen::MatrixXd> eps;
};

Problem make_problem(int n, int p, int m, int k_obj, int q, int dn, int conditional, int dc, double ell, uint64_t seed) {
  sparse::PhiloxStream rng(seed);
  Problem pr;
  pr.x = make_inputs(random_points(n, dn, conditional, dc, 3, rng));
  pr.pending = make_inputs(random_points(p, dn, conditional, dc, 3, rng), dn, dc);
  pr.c = make_inputs(random_points(m, dn, conditional, dc, 3, rng));
  for (int k = 0; k < k_obj; ++k) {
    pr.gps.push_back(cuda::ObjectiveGp{targets(pr.x, k), theta_for(pr.x, ell, 1.5, 1e-3, k)});
    pr.eps.push_back(standard_normals(m, q, rng));
  }
  return pr;
}

ThompsonDraw cpu_draw(const Problem& pr, int k) {
  GaussianProcess gp(pr.x, pr.gps[static_cast<size_t>(k)].y, pr.gps[static_cast<size_t>(k)].theta);
  gp.add_fantasies(pr.pending);
  return thompson_samples(gp, pr.c, pr.eps[static_cast<size_t>(k)]);
}

double max_abs(const Eigen::MatrixXd& a) { return a.size() ? a.cwiseAbs().maxCoeff() : 0.0; }

}  // namespace

TEST(ThompsonCuda, SameNormalsGiveTheCpuSamples) {
  SKIP_WITHOUT_GPU();
  // m = 200 candidates, n = 50 observations (+ 3 pending), K = 3, q = 4. 8 numeric dimensions (2 conditional)
  // and 3 categorical ones with ℓ = 0.5: Σ* is well conditioned, so both paths factor it without jitter and
  // the samples differ by rounding only. Tolerance: 1e-8 · (1 + max |sample|).
  const Problem pr = make_problem(50, 3, 200, 3, 4, 8, 2, 3, 0.5, 11);
  const std::vector<ThompsonDraw> gpu = cuda::thompson_samples(pr.x, pr.pending, pr.gps, pr.c, pr.eps, 0);
  ASSERT_EQ(gpu.size(), 3u);
  for (int k = 0; k < 3; ++k) {
    const ThompsonDraw cpu = cpu_draw(pr, k);
    const ThompsonDraw& g = gpu[static_cast<size_t>(k)];
    ASSERT_EQ(g.samples.rows(), 200);
    ASSERT_EQ(g.samples.cols(), 4);
    EXPECT_LT(max_abs(g.samples - cpu.samples), 1e-8 * (1.0 + max_abs(cpu.samples))) << "objective " << k;
    EXPECT_EQ(g.jitter, cpu.jitter) << "objective " << k;  // 0 on both: no try failed
  }
  // The one-objective overload is the batch of one.
  const ThompsonDraw one = cuda::thompson_samples(pr.x, pr.pending, pr.gps[1], pr.c, pr.eps[1], 0);
  EXPECT_LT(max_abs(one.samples - gpu[1].samples), 1e-12 * (1.0 + max_abs(gpu[1].samples)));
}

TEST(ThompsonCuda, ExactlySingularCovarianceNeedsJitterOnBothPaths) {
  SKIP_WITHOUT_GPU();
  // Every candidate five times: Σ* has rank ≤ 40 of 200, so the try without jitter fails on both paths
  // (160 pivots that are rounding noise) and a jittered try succeeds. Which try succeeds depends on rounding, so
  // the jitters are not required equal; when both paths settle at the same try the samples agree.
  Problem pr = make_problem(50, 0, 40, 3, 2, 8, 2, 3, 0.5, 12);
  std::vector<EncodedPoint> dup;
  sparse::PhiloxStream rng(13);
  const std::vector<EncodedPoint> base = random_points(40, 8, 2, 3, 3, rng);
  for (int r = 0; r < 5; ++r) dup.insert(dup.end(), base.begin(), base.end());
  pr.c = make_inputs(dup);
  for (auto& e : pr.eps) e = standard_normals(200, 2, rng);
  const std::vector<ThompsonDraw> gpu = cuda::thompson_samples(pr.x, pr.pending, pr.gps, pr.c, pr.eps, 0);
  for (int k = 0; k < 3; ++k) {
    const ThompsonDraw cpu = cpu_draw(pr, k);
    const ThompsonDraw& g = gpu[static_cast<size_t>(k)];
    EXPECT_GT(cpu.jitter, 0.0);
    EXPECT_GT(g.jitter, 0.0) << "objective " << k;
    EXPECT_LT(g.jitter, 1e3 * cpu.jitter) << "objective " << k;  // within a few tries of the CPU's
    EXPECT_GT(g.jitter, 1e-3 * cpu.jitter) << "objective " << k;
    EXPECT_TRUE(g.samples.allFinite()) << "objective " << k;
    // Same try (1e-8 × level × scale²; the levels differ by rounding only): the factors agree to ≈ 1e-8
    // relative at condition ≈ 1e8; tolerance 1e-5 · (1 + max |sample|).
    if (std::abs(g.jitter - cpu.jitter) <= 1e-9 * cpu.jitter) {
      EXPECT_LT(max_abs(g.samples - cpu.samples), 1e-5 * (1.0 + max_abs(cpu.samples))) << "objective " << k;
    }
  }
}

// A well-posed, nearly singular Σ* (twin candidates δ apart, condition number ~1e10: tests/gp/near_singular_gp.hpp,
// whose condition number test_thompson.cpp checks): both paths factor it, each with its own jitter (not required
// equal: whether the try without jitter passes depends on rounding), and the draws of each have the posterior's
// moments and agree with each other's, the twins' near-perfect correlation included.
TEST(ThompsonCuda, NearlySingularPosteriorFactorsOnBothPathsWithTheSameMoments) {
  SKIP_WITHOUT_GPU();
  const test::NearSingularGp g = test::near_singular_gp();
  GaussianProcess gp(g.x, g.y, g.theta);
  const Posterior p = gp.posterior(g.c, true);
  const int m = static_cast<int>(p.mean.size()), q = 40000;
  sparse::PhiloxStream rng(71);
  const Eigen::MatrixXd eps = standard_normals(m, q, rng);
  const Inputs none = make_inputs({}, g.x.num_numeric(), g.x.num_categorical());
  ThompsonDraw on_gpu, on_cpu;
  ASSERT_NO_THROW(on_gpu = cuda::thompson_samples(g.x, none, cuda::ObjectiveGp{g.y, g.theta}, g.c, eps, 0));
  ASSERT_NO_THROW(on_cpu = thompson_samples(gp, g.c, eps));
  const double level = p.cov.diagonal().mean();
  std::printf("near-singular Σ*: jitter %.3g on the GPU, %.3g on the CPU (mean variance %.3g)\n", on_gpu.jitter,
              on_cpu.jitter, level);
  const double cov_tol = 5.0 * std::sqrt(2.0 / q) * p.cov.diagonal().maxCoeff();
  Eigen::MatrixXd covs[2];
  int k = 0;
  for (const ThompsonDraw* d : {&on_gpu, &on_cpu}) {
    SCOPED_TRACE(d == &on_gpu ? "GPU" : "CPU");
    EXPECT_GE(d->jitter, 0.0);
    EXPECT_LE(d->jitter, 1e-6 * level);  // within the schedule's first tries (1e-8 × level, ×10 per try)
    ASSERT_TRUE(d->samples.allFinite());
    const Eigen::VectorXd emp_mean = d->samples.rowwise().mean();
    const Eigen::MatrixXd centered = d->samples.colwise() - emp_mean;
    covs[k] = centered * centered.transpose() / (q - 1);
    for (int i = 0; i < m; ++i) EXPECT_NEAR(emp_mean[i], p.mean[i], 5.0 * std::sqrt(p.cov(i, i) / q)) << i;
    EXPECT_LT((covs[k] - p.cov).cwiseAbs().maxCoeff(), cov_tol);
    for (int i = 0; i + 1 < m; i += 2)
      EXPECT_GT(covs[k](i, i + 1) / std::sqrt(covs[k](i, i) * covs[k](i + 1, i + 1)), 0.999) << "twins " << i;
    ++k;
  }
  EXPECT_LT((covs[0] - covs[1]).cwiseAbs().maxCoeff(), cov_tol);
}

TEST(ThompsonCuda, EmpiricalMomentsConvergeToThePosterior) {
  SKIP_WITHOUT_GPU();
  // 30 correlated candidates (ℓ = 1.2 on 3 numeric dimensions), 20 observations + 2 pending, 40,000 draws.
  const int m = 30, q = 40000;
  const Problem pr = make_problem(20, 2, m, 1, q, 3, 0, 1, 1.2, 21);
  const ThompsonDraw d = cuda::thompson_samples(pr.x, pr.pending, pr.gps[0], pr.c, pr.eps[0], 0);
  GaussianProcess gp(pr.x, pr.gps[0].y, pr.gps[0].theta);
  gp.add_fantasies(pr.pending);
  const Posterior p = gp.posterior(pr.c, true);
  const Eigen::VectorXd emp_mean = d.samples.rowwise().mean();
  const Eigen::MatrixXd centered = d.samples.colwise() - emp_mean;
  const Eigen::MatrixXd emp_cov = centered * centered.transpose() / (q - 1);
  // Tolerances as tests/gp/test_thompson.cpp: mean within 5 standard errors; covariance entries within
  // 5·sqrt(2/q)·max variance.
  for (int i = 0; i < m; ++i) EXPECT_NEAR(emp_mean[i], p.mean[i], 5.0 * std::sqrt(p.cov(i, i) / q) + 1e-12) << i;
  const double tol = 5.0 * std::sqrt(2.0 / q) * p.cov.diagonal().maxCoeff();
  EXPECT_LT((emp_cov - p.cov).cwiseAbs().maxCoeff(), tol);
  // Correlated enough that independent draws would fail the covariance check.
  double max_corr = 0.0;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < i; ++j)
      if (p.cov(i, i) > 1e-12 && p.cov(j, j) > 1e-12)
        max_corr = std::max(max_corr, p.cov(i, j) / std::sqrt(p.cov(i, i) * p.cov(j, j)));
  EXPECT_GT(max_corr, 0.5);
}

TEST(ThompsonCuda, TenThousandCandidatesThousandObservationsThreeObjectives) {
  SKIP_WITHOUT_GPU();
  // The size with bench_proposal's inputs (48 numeric, 8 conditional, 12 categorical): finite samples;
  // with ε = 0 in the first column the sample is the posterior mean, checked against the CPU's.
  const int n = 1000, m = 10000;
  Problem pr = make_problem(n, 0, m, 3, 2, 48, 8, 12, 2.0, 31);
  for (auto& e : pr.eps) e.col(0).setZero();
  cuda::thompson_samples(pr.x, pr.pending, pr.gps, pr.c, pr.eps, 0);  // warm-up: handles, pool pages
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<ThompsonDraw> gpu = cuda::thompson_samples(pr.x, pr.pending, pr.gps, pr.c, pr.eps, 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("GPU joint samples, %d candidates, %d observations, 3 objectives: %.1f ms\n", m, n, 1e3 * seconds);
  for (int k = 0; k < 3; ++k) {
    const ThompsonDraw& g = gpu[static_cast<size_t>(k)];
    ASSERT_EQ(g.samples.rows(), m);
    ASSERT_EQ(g.samples.cols(), 2);
    EXPECT_TRUE(g.samples.allFinite()) << "objective " << k;
    EXPECT_GE(g.jitter, 0.0);
    GaussianProcess gp(pr.x, pr.gps[static_cast<size_t>(k)].y, pr.gps[static_cast<size_t>(k)].theta);
    const Posterior p = gp.posterior(pr.c, false);
    // Tolerance 1e-6 · (1 + max |μ*|): μ* = K*ᵀ α with α from a factor of condition ≲ n σ_f² / σ_n² ≈ 1.5e6.
    EXPECT_LT((g.samples.col(0) - p.mean).cwiseAbs().maxCoeff(), 1e-6 * (1.0 + p.mean.cwiseAbs().maxCoeff()))
        << "objective " << k;
    EXPECT_GT((g.samples.col(1) - p.mean).cwiseAbs().maxCoeff(), 0.0) << "objective " << k;  // ε ≠ 0 moves it
  }
}

TEST(ThompsonCuda, RejectsBadShapesAndUnknownDevices) {
  SKIP_WITHOUT_GPU();
  const Problem pr = make_problem(10, 0, 20, 2, 1, 2, 0, 1, 0.5, 41);
  std::vector<Eigen::MatrixXd> wrong = pr.eps;
  wrong[1] = Eigen::MatrixXd::Zero(19, 1);
  EXPECT_THROW(cuda::thompson_samples(pr.x, pr.pending, pr.gps, pr.c, wrong, 0), sparse::Error);
  const int count = static_cast<int>(sparse::cuda::query_devices().devices.size());
  std::string why;
  EXPECT_FALSE(cuda::available(count, &why));
  EXPECT_NE(why.find("cuda:" + std::to_string(count)), std::string::npos) << why;
  EXPECT_THROW(cuda::thompson_samples(pr.x, pr.pending, pr.gps, pr.c, pr.eps, count), sparse::Error);
}

TEST(ThompsonCuda, ProposerOnTheGpuChoosesWhatTheCpuChooses) {
  SKIP_WITHOUT_GPU();
  // 30 trials, 2 pending, 150 candidates in 8 numeric + 1 categorical dimensions. θ is fixed (warm start,
  // no fit iterations) at ℓ = 0.5 so that Σ* is well conditioned: both paths factor it at the same jitter and
  // the samples agree to rounding (tolerance 1e-8 relative), hence the same choices.
  sparse::PhiloxStream gen(51);
  std::vector<CompletedTrial> done;
  for (const EncodedPoint& p : random_points(30, 8, 0, 1, 3, gen)) {
    double f1 = 0.0, f2 = 0.0, f3 = 0.0;
    for (int d = 0; d < 8; ++d) {
      f1 += std::sin(3.0 * p.numeric[static_cast<size_t>(d)] + d);
      f2 += (d % 2 ? 1.0 : -1.0) * p.numeric[static_cast<size_t>(d)];
      f3 += p.numeric[static_cast<size_t>(d)] * p.numeric[static_cast<size_t>(d)];
    }
    done.push_back({p, {f1, f2 + 0.1 * p.categorical[0], f3}, true});
  }
  const std::vector<EncodedPoint> cand = random_points(150, 8, 0, 1, 3, gen);
  const std::vector<EncodedPoint> pending = random_points(2, 8, 0, 1, 3, gen);
  std::vector<EncodedPoint> pts;
  for (const CompletedTrial& t : done) pts.push_back(t.point);
  const Inputs xi = make_inputs(pts);
  std::vector<Eigen::VectorXd> theta;
  for (int k = 0; k < 3; ++k) theta.push_back(theta_for(xi, 0.5, 1.5, 1e-3, k));
  ProposerSettings s;
  s.fit.restarts = 0;
  s.fit.max_iterations = 0;
  ProposerSettings g = s;
  g.device = "cuda:0";
  g.cuda_min_candidates = 100;
  Proposer cpu(s), gpu(g);
  cpu.set_warm_start(theta);
  gpu.set_warm_start(theta);
  sparse::PhiloxStream r1(5), r2(5);
  const auto a = cpu.propose(done, pending, cand, 3, r1);
  const auto b = gpu.propose(done, pending, cand, 3, r2);
  EXPECT_EQ(gpu.last_sampling().device, "cuda:0") << gpu.last_sampling().fallback_reason;
  EXPECT_EQ(cpu.last_sampling().device, "cpu");
  ASSERT_EQ(cpu.hyperparameters().size(), 3u);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(cpu.hyperparameters()[static_cast<size_t>(k)], gpu.hyperparameters()[static_cast<size_t>(k)]);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].model_based, b[i].model_based);
    EXPECT_EQ(a[i].candidate, b[i].candidate) << "slot " << i;
    ASSERT_EQ(a[i].sampled_objectives.size(), b[i].sampled_objectives.size());
    for (size_t k = 0; k < a[i].sampled_objectives.size(); ++k)
      EXPECT_NEAR(a[i].sampled_objectives[k], b[i].sampled_objectives[k], 1e-8 * (1.0 + std::abs(a[i].sampled_objectives[k])));
  }
  EXPECT_EQ(r1.next_u32(), r2.next_u32());  // the device does not change what the stream yields next
}
