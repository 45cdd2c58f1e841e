// Joint Thompson samples converge to the GP posterior (fixed seed, stated tolerances); the jitter schedule.
#include <gtest/gtest.h>

#include <cmath>

#include "gp/cholesky.hpp"
#include "gp/gp_regression.hpp"
#include "gp/thompson.hpp"
#include "host/core/error.hpp"

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
