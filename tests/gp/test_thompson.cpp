// Joint Thompson samples converge to the GP posterior (fixed seed, stated tolerances); the jitter schedule.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "gp/cholesky.hpp"
#include "gp/gp_regression.hpp"
#include "gp/thompson.hpp"
#include "host/core/error.hpp"
#include "tests/gp/near_singular_gp.hpp"

using namespace sparse::gp;

TEST(Thompson, EmpiricalMomentsConvergeToPosterior) {
  // 1-D GP on 4 observations, posterior on 6 correlated candidates.
  Eigen::MatrixXd xt(4, 1), xc(6, 1);
  xt << 0.1, 0.35, 0.6, 0.9;
  xc << 0.0, 0.2, 0.25, 0.5, 0.75, 1.0;
  Eigen::VectorXd y(4);
  y << 1.0, 3.0, -2.0, 0.5;
  Eigen::VectorXd th(4);  // ℓ, ℓ_act, σ_f², σ_n²
  th << std::log(0.3), 0.0, std::log(1.5), std::log(1e-4);
  GaussianProcess gp(make_inputs(points_from_matrix(xt)), y, th);
  const Posterior p = gp.posterior(make_inputs(points_from_matrix(xc)), true);
  sparse::PhiloxStream rng(2024);
  const int n = 40000;
  const ThompsonDraw d = thompson_samples(p.mean, p.cov, n, rng);
  ASSERT_EQ(d.samples.rows(), 6);
  ASSERT_EQ(d.samples.cols(), n);
  const Eigen::VectorXd emp_mean = d.samples.rowwise().mean();
  const Eigen::MatrixXd centered = d.samples.colwise() - emp_mean;
  const Eigen::MatrixXd emp_cov = centered * centered.transpose() / (n - 1);
  // Tolerances: mean within 5 standard errors; covariance entries within 5·sqrt(2/n)·max variance (≈ 3.5%).
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(emp_mean[i], p.mean[i], 5.0 * std::sqrt(p.cov(i, i) / n)) << i;
  const double tol = 5.0 * std::sqrt(2.0 / n) * p.cov.diagonal().maxCoeff();
  EXPECT_LT((emp_cov - p.cov).cwiseAbs().maxCoeff(), tol);
  // The candidates are strongly correlated, so a test of the diagonal alone would not catch independent draws.
  EXPECT_GT(p.cov(1, 2) / std::sqrt(p.cov(1, 1) * p.cov(2, 2)), 0.5);
}

TEST(Thompson, SingularCovarianceNeedsJitterAndStaysOnItsRange) {
  Eigen::VectorXd v(5);
  v << 1.0, -2.0, 0.5, 3.0, 1.5;
  const Eigen::MatrixXd cov = v * v.transpose();  // rank one
  sparse::PhiloxStream rng(7);
  const ThompsonDraw d = thompson_samples(Eigen::VectorXd::Zero(5), cov, 200, rng);
  EXPECT_GT(d.jitter, 0.0);
  EXPECT_LT(d.jitter, 1e-3 * cov.diagonal().mean());
  // Every draw is (almost) a multiple of v.
  const Eigen::VectorXd u = v.normalized();
  for (int j = 0; j < 200; ++j) {
    const Eigen::VectorXd s = d.samples.col(j);
    EXPECT_LT((s - u * u.dot(s)).norm(), 1e-2 * std::max(1.0, s.norm()));
  }
}

TEST(Cholesky, JitterScheduleAndFailure) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(3, 3);
  EXPECT_EQ(cholesky_with_jitter(a).jitter, 0.0);
  Eigen::MatrixXd singular = Eigen::MatrixXd::Ones(3, 3);
  const JitteredCholesky c = cholesky_with_jitter(singular, 1e-8);
  EXPECT_GE(c.tries, 1);
  EXPECT_NEAR(c.jitter, 1e-8 * std::pow(10.0, c.tries - 1), 1e-20);
  Eigen::MatrixXd reconstructed = c.L * c.L.transpose();
  reconstructed.diagonal().array() -= c.jitter;
  EXPECT_LT((reconstructed - singular).cwiseAbs().maxCoeff(), 1e-12);
  Eigen::MatrixXd indefinite = Eigen::MatrixXd::Identity(3, 3);
  indefinite(2, 2) = -1.0;
  EXPECT_THROW(cholesky_with_jitter(indefinite, 1e-8, 5), sparse::Error);
}

TEST(Cholesky, InPlaceKeepsTheUpperTriangleAndRestoresAfterFailure) {
  Eigen::VectorXd v(4);
  v << 1.0, 2.0, -1.0, 0.5;
  const Eigen::MatrixXd singular = v * v.transpose();  // rank one: needs jitter
  Eigen::MatrixXd a = singular;
  const JitterInfo info = cholesky_in_place(a, 1e-8);
  EXPECT_GE(info.tries, 1);
  const Eigen::MatrixXd upper = a.triangularView<Eigen::StrictlyUpper>();
  const Eigen::MatrixXd expect = singular.triangularView<Eigen::StrictlyUpper>();
  EXPECT_EQ(upper, expect);
  const Eigen::MatrixXd l = a.triangularView<Eigen::Lower>();
  Eigen::MatrixXd back = l * l.transpose();
  back.diagonal().array() -= info.jitter;
  EXPECT_LT((back - singular).cwiseAbs().maxCoeff(), 1e-12);
  Eigen::MatrixXd indefinite = Eigen::MatrixXd::Identity(3, 3);
  indefinite(2, 2) = -1.0;
  indefinite(0, 1) = indefinite(1, 0) = 0.5;
  const Eigen::MatrixXd original = indefinite;
  EXPECT_THROW(cholesky_in_place(indefinite, 1e-8, 4), sparse::Error);
  EXPECT_EQ(indefinite, original);  // restored
}

TEST(Cholesky, InverseFromCholeskyMatchesLu) {
  // 300 × 300 exercises the blocked recursion (blocks of 64 at the bottom).
  sparse::PhiloxStream rng(5);
  Eigen::MatrixXd g(300, 310);
  for (Eigen::Index j = 0; j < g.cols(); ++j)
    for (Eigen::Index i = 0; i < g.rows(); ++i) g(i, j) = rng.normal();
  Eigen::MatrixXd a = g * g.transpose() / 310.0;
  a.diagonal().array() += 0.05;
  const JitteredCholesky c = cholesky_with_jitter(a);
  const Eigen::MatrixXd inv = inverse_from_cholesky(c.L), lu = a.fullPivLu().inverse();
  EXPECT_LT((inv - lu).cwiseAbs().maxCoeff(), 1e-10 * lu.cwiseAbs().maxCoeff());
  EXPECT_EQ((inv - inv.transpose()).cwiseAbs().maxCoeff(), 0.0);
}

TEST(Thompson, DrawsFromTheGpEqualDrawsFromItsPosterior) {
  // The in-place path (Σ* formed and factored in one buffer, standardized scale) against the copy path.
  Eigen::MatrixXd xt(5, 1), xc(7, 1);
  xt << 0.1, 0.3, 0.45, 0.7, 0.9;
  xc << 0.0, 0.2, 0.3, 0.31, 0.5, 0.8, 1.0;  // 0.3 is a training input: its variance is ~0
  Eigen::VectorXd y(5);
  y << 2.0, -1.0, 0.5, 4.0, 1.0;
  Eigen::VectorXd th(4);
  th << std::log(0.2), 0.0, std::log(2.0), std::log(1e-6);
  GaussianProcess gp(make_inputs(points_from_matrix(xt)), y, th);
  const Inputs c = make_inputs(points_from_matrix(xc));
  const Posterior p = gp.posterior(c, true);
  sparse::PhiloxStream a(77), b(77);
  const ThompsonDraw copy = thompson_samples(p.mean, p.cov, 3, a);
  const ThompsonDraw in_place = thompson_samples(gp, c, standard_normals(7, 3, b));
  ASSERT_EQ(in_place.samples.rows(), 7);
  ASSERT_EQ(in_place.samples.cols(), 3);
  EXPECT_LT((copy.samples - in_place.samples).cwiseAbs().maxCoeff(), 1e-8 * (1.0 + copy.samples.cwiseAbs().maxCoeff()));
  EXPECT_NEAR(copy.jitter, in_place.jitter, 1e-6 * std::max(copy.jitter, 1e-300));
}

// Issue 15: a well-posed, nearly singular Σ* (twin candidates δ apart, condition number ~1e10, not singular): the
// CPU path factors it within the schedule's first tries and its draws have the posterior's moments, the twins'
// near-perfect correlation included. tests/gp/test_thompson_cuda.cpp checks the GPU path on the same problem.
TEST(Thompson, NearlySingularPosteriorIsWellPosedAndSampledFaithfully) {
  const test::NearSingularGp g = test::near_singular_gp();
  GaussianProcess gp(g.x, g.y, g.theta);
  const Posterior p = gp.posterior(g.c, true);
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(p.cov);
  const double lo = es.eigenvalues().minCoeff(), hi = es.eigenvalues().maxCoeff();
  std::printf("near-singular Σ*: eigenvalues %.3g .. %.3g, condition number %.3g\n", lo, hi, hi / lo);
  EXPECT_GT(lo, 0.0);
  EXPECT_GT(hi / lo, 1e8);
  EXPECT_LT(hi / lo, 1e12);
  const int q = 40000;
  sparse::PhiloxStream rng(71);
  const Eigen::MatrixXd eps = standard_normals(p.mean.size(), q, rng);
  const ThompsonDraw d = thompson_samples(gp, g.c, eps);
  const double level = p.cov.diagonal().mean();
  EXPECT_LE(d.jitter, 1e-6 * level);
  ASSERT_TRUE(d.samples.allFinite());
  const Eigen::VectorXd emp_mean = d.samples.rowwise().mean();
  const Eigen::MatrixXd centered = d.samples.colwise() - emp_mean;
  const Eigen::MatrixXd emp_cov = centered * centered.transpose() / (q - 1);
  for (int i = 0; i < p.mean.size(); ++i) EXPECT_NEAR(emp_mean[i], p.mean[i], 5.0 * std::sqrt(p.cov(i, i) / q)) << i;
  EXPECT_LT((emp_cov - p.cov).cwiseAbs().maxCoeff(), 5.0 * std::sqrt(2.0 / q) * p.cov.diagonal().maxCoeff());
  for (int i = 0; i + 1 < p.mean.size(); i += 2)
    EXPECT_GT(emp_cov(i, i + 1) / std::sqrt(emp_cov(i, i) * emp_cov(i + 1, i + 1)), 0.999) << "twins " << i;
}
