// Eq. 7 scalarization, weight priors, budgets and the ρ-mixing decision.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "gp/scalarization.hpp"
#include "host/core/error.hpp"

using namespace sparse::gp;

TEST(Scalarization, DirichletWeightsAreUniformOnTheSimplex) {
  sparse::PhiloxStream rng(3);
  const int n = 20000;
  Eigen::Vector3d sum = Eigen::Vector3d::Zero();
  double first_sq = 0.0;
  for (int i = 0; i < n; ++i) {
    const Eigen::VectorXd w = dirichlet_weights(3, rng);
    ASSERT_NEAR(w.sum(), 1.0, 1e-12);
    ASSERT_GE(w.minCoeff(), 0.0);
    sum += w;
    first_sq += w[0] * w[0];
  }
  // Dirichlet(1,1,1): E[λ_k] = 1/3, E[λ_1²] = 1/6; 5 standard errors ≈ 0.008.
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(sum[k] / n, 1.0 / 3.0, 0.008);
  EXPECT_NEAR(first_sq / n, 1.0 / 6.0, 0.008);
}

TEST(Scalarization, BoxPriorStaysInItsNormalizedBox) {
  sparse::PhiloxStream rng(4);
  Eigen::Vector2d lo(0.8, 0.0), hi(1.0, 0.2);
  for (int i = 0; i < 1000; ++i) {
    const Eigen::VectorXd w = box_prior_weights(lo, hi, rng);
    ASSERT_NEAR(w.sum(), 1.0, 1e-12);
    ASSERT_GE(w[0], 0.8 / 1.2 - 1e-12);  // smallest λ_1 after normalization
  }
  EXPECT_THROW(box_prior_weights(Eigen::Vector2d(0.5, 0.0), Eigen::Vector2d(0.4, 1.0), rng), sparse::Error);
}

TEST(Scalarization, Eq7AndMinMaxNormalization) {
  Eigen::MatrixXd observed(3, 2);
  observed << 0.0, 10.0, 2.0, 30.0, 4.0, 20.0;
  const MinMaxNormalization norm = MinMaxNormalization::over(observed);
  const Eigen::VectorXd f = norm.apply(Eigen::Vector2d(1.0, 25.0));
  EXPECT_DOUBLE_EQ(f[0], 0.25);
  EXPECT_DOUBLE_EQ(f[1], 0.75);
  EXPECT_DOUBLE_EQ(scalarize(f, Eigen::Vector2d(0.9, 0.1)), 0.225);
  EXPECT_DOUBLE_EQ(scalarize(f, Eigen::Vector2d(0.5, 0.5)), 0.375);
}

TEST(Scalarization, ShiftMovesTheUtopiaPointAndChangesTheChoice) {
  // Two observed points; candidate 0 sits at both observed minima, candidate 1 trades f1 for f2.
  Eigen::MatrixXd observed(2, 2);
  observed << 0.0, 0.0, 10.0, 10.0;
  Eigen::MatrixXd s(2, 2);
  s << 0.0, 0.0,  //
      -5.0, 1.0;
  const Eigen::Vector2d lambda(0.9, 0.1), none(1e300, 1e300);
  const std::vector<bool> taken(2, false);
  // shift 0: g0 = 0 < g1 = max(−0.45, 0.01); the point at the utopia wins for every λ.
  EXPECT_EQ(choose_by_scalarization(s, lambda, MinMaxNormalization::over(observed, 0.0), none, taken), 0);
  // shift 0.1: g0 = 0.09 > g1 = max(0.9·(−0.4), 0.1·0.2) = 0.02.
  const MinMaxNormalization shifted = MinMaxNormalization::over(observed, 0.1);
  EXPECT_DOUBLE_EQ(shifted.apply(Eigen::Vector2d(-5.0, 1.0))[0], -0.4);
  EXPECT_EQ(choose_by_scalarization(s, lambda, shifted, none, taken), 1);
  EXPECT_THROW(MinMaxNormalization::over(observed, std::nan("")), sparse::Error);
}

TEST(Scalarization, BudgetsExcludeViolatorsWhileAnyCandidateMeetsThem) {
  Eigen::MatrixXd s(4, 2);  // candidates × objectives
  s << 0.0, 9.0,   // breaks the f2 budget of 5 used below
      1.0, 1.0,    // meets
      0.5, 4.0,    // meets
      3.0, 0.0;    // meets
  const MinMaxNormalization norm = MinMaxNormalization::over(s);
  const Eigen::Vector2d lambda(0.5, 0.5), none(std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity());
  std::vector<bool> taken(4, false);
  // Without budgets candidate 1 wins: g = max(0.5·1/3, 0.5·1/9) = 1/6 vs candidate 0: max(0, 0.5) = 0.5.
  EXPECT_EQ(choose_by_scalarization(s, Eigen::Vector2d(0.99, 0.01), norm, none, taken), 0);
  EXPECT_EQ(choose_by_scalarization(s, Eigen::Vector2d(0.99, 0.01), norm, Eigen::Vector2d(1e9, 5.0), taken), 2);
  EXPECT_EQ(choose_by_scalarization(s, lambda, norm, none, taken), 1);
  taken[1] = true;
  EXPECT_NE(choose_by_scalarization(s, lambda, norm, none, taken), 1);
  // No candidate meets f1 ≤ −1: the least excess (normalized) wins, here the smallest f1.
  std::fill(taken.begin(), taken.end(), false);
  EXPECT_EQ(choose_by_scalarization(s, lambda, norm, Eigen::Vector2d(-1.0, 1e9), taken), 0);
  std::fill(taken.begin(), taken.end(), true);
  EXPECT_EQ(choose_by_scalarization(s, lambda, norm, none, taken), -1);
}

TEST(Scalarization, RhoMixingFrequency) {
  sparse::PhiloxStream rng(5);
  int model = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) model += choose_model_based(0.7, rng);
  EXPECT_NEAR(static_cast<double>(model) / n, 0.7, 5.0 * std::sqrt(0.21 / n));
  EXPECT_FALSE(choose_model_based(0.0, rng));
  EXPECT_TRUE(choose_model_based(1.0, rng));
  EXPECT_THROW(choose_model_based(1.5, rng), sparse::Error);
}
