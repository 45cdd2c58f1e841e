// GP regression against the closed form computed here independently (double precision), the log marginal
// likelihood gradient against finite differences, positive definiteness with conditional inputs, the fit.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "gp/gp_regression.hpp"
#include "gp/hyper_fit.hpp"
#include "gp/kernel.hpp"
#include "host/core/error.hpp"

using namespace sparse::gp;

namespace {

// Random mixed points: 3 numeric (third conditional), 2 categorical (second conditional), 4 levels.
std::vector<EncodedPoint> mixed_points(int n, uint64_t seed) {
  sparse::PhiloxStream rng(seed);
  std::vector<EncodedPoint> pts(static_cast<size_t>(n));
  for (auto& p : pts) {
    p.numeric = {rng.uniform(), rng.uniform(), rng.uniform()};
    p.numeric_active = {1, 1, static_cast<uint8_t>(rng.below(2))};
    p.categorical = {static_cast<int>(rng.below(4)), static_cast<int>(rng.below(4))};
    p.categorical_active = {1, static_cast<uint8_t>(rng.below(2))};
  }
  return pts;
}

// The kernel as documented in kernel.hpp, written out per pair without the library's helpers.
double reference_kernel(const EncodedPoint& a, const EncodedPoint& b, const Eigen::VectorXd& th) {
  const size_t dn = a.numeric.size(), dc = a.categorical.size();
  double r2 = 0.0, expo = 0.0;
  for (size_t d = 0; d < dn; ++d) {
    const double xa = a.numeric_active[d] ? a.numeric[d] : 0.0, xb = b.numeric_active[d] ? b.numeric[d] : 0.0;
    const double l = std::exp(th[static_cast<Eigen::Index>(d)]);
    r2 += (xa - xb) * (xa - xb) / (l * l);
    if (a.numeric_active[d] != b.numeric_active[d]) expo += 1.0 / std::exp(th[static_cast<Eigen::Index>(dn + dc)]);
  }
  for (size_t d = 0; d < dc; ++d) {
    const int ca = a.categorical_active[d] ? a.categorical[d] : -1, cb = b.categorical_active[d] ? b.categorical[d] : -1;
    if (ca != cb) expo += 1.0 / std::exp(th[static_cast<Eigen::Index>(dn + d)]);
  }
  const double r = std::sqrt(r2);
  const double matern = (1.0 + std::sqrt(5.0) * r + 5.0 * r2 / 3.0) * std::exp(-std::sqrt(5.0) * r);
  return std::exp(th[static_cast<Eigen::Index>(dn + dc + 1)]) * matern * std::exp(-expo);
}

Eigen::MatrixXd reference_gram(const std::vector<EncodedPoint>& a, const std::vector<EncodedPoint>& b,
                               const Eigen::VectorXd& th) {
  Eigen::MatrixXd k(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < b.size(); ++j)
      k(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = reference_kernel(a[i], b[j], th);
  return k;
}

Eigen::VectorXd some_theta() {  // 3 numeric + 2 categorical + act + σ_f² + σ_n²
  Eigen::VectorXd th(8);
  th << std::log(0.3), std::log(0.7), std::log(0.5), std::log(1.2), std::log(0.4), std::log(0.8), std::log(2.0),
      std::log(0.01);
  return th;
}

}  // namespace

TEST(GpRegression, PosteriorMatchesClosedForm) {
  const auto train = mixed_points(7, 1), test = mixed_points(5, 2);
  Eigen::VectorXd y(7);
  y << 3.0, -1.0, 0.5, 2.0, 10.0, 4.0, -2.5;
  const Eigen::VectorXd th = some_theta();
  GaussianProcess gp(make_inputs(train), y, th);
  const Posterior p = gp.posterior(make_inputs(test), true);
  // Closed form with LU inverse on the standardized targets, mapped back.
  const double mean = y.mean(), scale = std::sqrt((y.array() - mean).square().mean());
  const Eigen::VectorXd ys = (y.array() - mean) / scale;
  Eigen::MatrixXd k = reference_gram(train, train, th);
  k.diagonal().array() += std::exp(th[7]);
  const Eigen::MatrixXd kinv = k.fullPivLu().inverse();
  const Eigen::MatrixXd ks = reference_gram(train, test, th);
  const Eigen::VectorXd mu = (ks.transpose() * kinv * ys).array() * scale + mean;
  const Eigen::MatrixXd cov = (reference_gram(test, test, th) - ks.transpose() * kinv * ks) * scale * scale;
  EXPECT_LT((p.mean - mu).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_LT((p.cov - cov).cwiseAbs().maxCoeff(), 1e-10);
  const Posterior pv = gp.posterior(make_inputs(test), false);
  EXPECT_LT((pv.var - cov.diagonal()).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_GT(cov.diagonal().minCoeff(), 0.0);
}

TEST(GpRegression, LogMarginalLikelihoodMatchesClosedForm) {
  const auto train = mixed_points(9, 3);
  Eigen::VectorXd y(9);
  for (int i = 0; i < 9; ++i) y[i] = std::sin(3.0 * i) + 0.1 * i;
  const Eigen::VectorXd th = some_theta();
  Eigen::MatrixXd k = reference_gram(train, train, th);
  k.diagonal().array() += std::exp(th[7]);
  const double expected = -0.5 * y.dot(k.fullPivLu().solve(y)) - 0.5 * std::log(k.fullPivLu().determinant()) -
                          4.5 * std::log(2.0 * std::numbers::pi);
  EXPECT_NEAR(log_marginal_likelihood(make_inputs(train), y, th), expected, 1e-9);
}

TEST(GpRegression, LogMarginalLikelihoodGradientMatchesFiniteDifferences) {
  const auto train = mixed_points(25, 4);
  Eigen::VectorXd y(25);
  for (int i = 0; i < 25; ++i) y[i] = std::cos(train[static_cast<size_t>(i)].numeric[0] * 5.0) + train[static_cast<size_t>(i)].categorical[0];
  const Inputs x = make_inputs(train);
  const Eigen::VectorXd th = some_theta();
  Eigen::VectorXd g;
  log_marginal_likelihood(x, y, th, &g);
  ASSERT_EQ(g.size(), th.size());
  const double h = 1e-5;
  for (Eigen::Index p = 0; p < th.size(); ++p) {
    Eigen::VectorXd tp = th, tm = th;
    tp[p] += h;
    tm[p] -= h;
    const double fd = (log_marginal_likelihood(x, y, tp) - log_marginal_likelihood(x, y, tm)) / (2.0 * h);
    EXPECT_NEAR(g[p], fd, 1e-6 * std::max(1.0, std::abs(fd))) << "hyper-parameter " << p;
  }
  // The gradient is not trivially zero.
  EXPECT_GT(g.cwiseAbs().maxCoeff(), 1e-3);
}

TEST(GpRegression, ConditionalKernelIsPositiveDefinite) {
  // Short length scales and large mismatch factors: where a kernel that drops inactive dimensions fails.
  const auto pts = mixed_points(60, 5);
  Eigen::VectorXd th = some_theta();
  th.head(3).setConstant(std::log(0.05));
  th[5] = std::log(20.0);  // ℓ_act large: activity mismatches cost almost nothing
  const Eigen::MatrixXd k = kernel_cross(make_inputs(pts), make_inputs(pts), th);
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(k);
  EXPECT_GT(es.eigenvalues().minCoeff(), -1e-10);
  EXPECT_LT((k - reference_gram(pts, pts, th)).cwiseAbs().maxCoeff(), 1e-12);
}

TEST(GpRegression, KrigingBelieverKeepsMeanAndShrinksVariance) {
  const auto train = mixed_points(10, 6), pend = mixed_points(2, 7);
  Eigen::VectorXd y = Eigen::VectorXd::LinSpaced(10, -1.0, 2.0);
  GaussianProcess gp(make_inputs(train), y, some_theta());
  const Posterior before = gp.posterior(make_inputs(pend), false);
  gp.add_fantasies(make_inputs(pend));
  const Posterior after = gp.posterior(make_inputs(pend), false);
  EXPECT_LT((after.mean - before.mean).cwiseAbs().maxCoeff(), 1e-8);
  EXPECT_LT(after.var.maxCoeff(), 0.2 * before.var.minCoeff());
}

TEST(GpRegression, InputsAreValidated) {
  auto pts = mixed_points(3, 8);
  pts[1].numeric[0] = 1.5;
  EXPECT_THROW(make_inputs(pts), sparse::Error);
  pts = mixed_points(3, 8);
  pts[2].categorical.pop_back();
  EXPECT_THROW(make_inputs(pts), sparse::Error);
  pts = mixed_points(3, 8);
  pts[0].numeric_active[2] = 0;
  pts[0].numeric[2] = -7.0;  // inactive values are ignored
  EXPECT_NO_THROW(make_inputs(pts));
}

TEST(HyperFit, FindsRelevantDimensionAndImprovesPosterior) {
  // y depends on numeric dimension 0 only; the fit must give it the shorter length scale.
  sparse::PhiloxStream rng(11);
  std::vector<EncodedPoint> pts(40);
  Eigen::VectorXd y(40);
  for (int i = 0; i < 40; ++i) {
    pts[static_cast<size_t>(i)].numeric = {rng.uniform(), rng.uniform()};
    y[i] = std::sin(6.0 * pts[static_cast<size_t>(i)].numeric[0]);
  }
  const Inputs x = make_inputs(pts);
  FitSettings fs;
  fs.restarts = 2;
  const FitResult r = fit_hyperparameters(x, y, fs, rng);
  const HyperPrior prior = HyperPrior::defaults(layout_of(x));
  const Standardization st = standardization_of(y);
  const Eigen::VectorXd ys = (y.array() - st.mean) / st.scale;
  const double at_prior_mean = log_marginal_likelihood(x, ys, prior.mean) + prior.log_density(prior.mean, nullptr);
  EXPECT_GT(r.log_posterior, at_prior_mean + 10.0);
  EXPECT_LT(r.theta[0], r.theta[1] - 1.0);
  EXPECT_LT(std::exp(r.theta[layout_of(x).noise()]), 1e-2);  // noiseless data
  EXPECT_TRUE(((r.theta - prior.lower).array() >= 0).all() && ((prior.upper - r.theta).array() >= 0).all());
}

TEST(GpRegression, KernelMatchesReferenceAcrossPanels) {
  // More than 128 points: the symmetric and the cross kernel are computed in column panels of 128.
  const auto a = mixed_points(300, 21), b = mixed_points(170, 22);
  const Eigen::VectorXd th = some_theta();
  const Inputs xa = make_inputs(a), xb = make_inputs(b);
  EXPECT_LT((kernel_cross(xa, xb, th) - reference_gram(a, b, th)).cwiseAbs().maxCoeff(), 1e-12);
  const Eigen::MatrixXd k = kernel_cross(xa, xa, th);
  EXPECT_LT((k - reference_gram(a, a, th)).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_EQ((k - k.transpose()).cwiseAbs().maxCoeff(), 0.0);
  const Eigen::MatrixXd low = kernel_lower(xa, th);
  EXPECT_LT((Eigen::MatrixXd(low.triangularView<Eigen::Lower>()) - Eigen::MatrixXd(k.triangularView<Eigen::Lower>()))
                .cwiseAbs()
                .maxCoeff(),
            1e-15);
}

TEST(GpRegression, GradientMatchesFiniteDifferencesAcrossPanels) {
  const auto train = mixed_points(200, 23);
  Eigen::VectorXd y(200);
  for (int i = 0; i < 200; ++i) {
    const auto& p = train[static_cast<size_t>(i)];
    y[i] = std::sin(4.0 * p.numeric[0]) + p.numeric[1] * p.numeric[1] + 0.3 * p.categorical[0] +
           (p.numeric_active[2] ? 0.5 * p.numeric[2] : -0.2);
  }
  const Inputs x = make_inputs(train);
  const Standardization st = standardization_of(y);
  const Eigen::VectorXd ys = (y.array() - st.mean) / st.scale;
  const Eigen::VectorXd th = some_theta();
  Eigen::VectorXd g;
  log_marginal_likelihood(x, ys, th, &g);
  // The workspace form reuses its buffers and gives the same value and gradient.
  LikelihoodWorkspace ws;
  Eigen::VectorXd g_ws;
  for (int rep = 0; rep < 2; ++rep) log_marginal_likelihood(x, ys, th, &g_ws, ws);
  EXPECT_LT((g - g_ws).cwiseAbs().maxCoeff(), 1e-12);
  const double h = 1e-5;
  for (Eigen::Index p = 0; p < th.size(); ++p) {
    Eigen::VectorXd tp = th, tm = th;
    tp[p] += h;
    tm[p] -= h;
    const double fd = (log_marginal_likelihood(x, ys, tp) - log_marginal_likelihood(x, ys, tm)) / (2.0 * h);
    EXPECT_NEAR(g[p], fd, 1e-5 * std::max(1.0, std::abs(fd))) << "hyper-parameter " << p;
  }
}

namespace {

// Many inputs (24 numeric, 8 categorical with 4 levels): at the prior mean every pair is far apart.
std::vector<EncodedPoint> wide_points(int n, uint64_t seed) {
  sparse::PhiloxStream rng(seed);
  std::vector<EncodedPoint> pts(static_cast<size_t>(n));
  for (auto& p : pts) {
    for (int d = 0; d < 24; ++d) p.numeric.push_back(rng.uniform());
    for (int d = 0; d < 8; ++d) p.categorical.push_back(static_cast<int>(rng.below(4)));
  }
  return pts;
}

}  // namespace

TEST(HyperFit, DataScaledStartMatchesPairMeansAndLeavesTheFlatRegion) {
  const auto pts = wide_points(120, 31);
  const Inputs x = make_inputs(pts);
  const KernelLayout l = layout_of(x);
  // The start's scales are the pair means of the squared distance and of the categorical mismatches.
  double r2 = 0.0, mism = 0.0;
  int pairs = 0;
  for (int i = 0; i < x.size(); ++i)
    for (int j = 0; j < i; ++j, ++pairs) {
      r2 += (x.numeric.row(i) - x.numeric.row(j)).squaredNorm();
      mism += static_cast<double>((x.categorical.row(i).array() != x.categorical.row(j).array()).count());
    }
  const Eigen::VectorXd t = data_scaled_start(x);
  EXPECT_NEAR(t[0], 0.5 * std::log(r2 / pairs), 1e-9);
  EXPECT_NEAR(t[l.num_numeric], std::log(mism / pairs), 1e-9);
  // y depends on two numeric inputs; from the prior mean alone the fit stays where K ≈ σ_f² I.
  Eigen::VectorXd y(x.size());
  for (int i = 0; i < x.size(); ++i) y[i] = std::sin(5.0 * x.numeric(i, 0)) + x.numeric(i, 1);
  FitSettings fs;
  fs.restarts = 0;
  fs.max_iterations = 30;
  fs.scaled_start = false;
  sparse::PhiloxStream rng(3);
  const FitResult plain = fit_hyperparameters(x, y, fs, rng);
  fs.scaled_start = true;
  const FitResult scaled = fit_hyperparameters(x, y, fs, rng);
  EXPECT_GT(scaled.log_posterior, plain.log_posterior + 20.0);
  // The relevant dimensions get shorter length scales than the irrelevant ones.
  EXPECT_LT(std::max(scaled.theta[0], scaled.theta[1]), scaled.theta.segment(2, 22).minCoeff());
}

TEST(HyperFit, ProbingRestartsCostsLessAndWarmSettingsApply) {
  const auto pts = wide_points(80, 32);
  const Inputs x = make_inputs(pts);
  Eigen::VectorXd y(x.size());
  for (int i = 0; i < x.size(); ++i) y[i] = std::cos(4.0 * x.numeric(i, 2)) + 0.5 * x.categorical(i, 0);
  FitSettings fs;
  fs.restarts = 3;
  fs.max_iterations = 40;
  sparse::PhiloxStream rng(4);
  const std::vector<Eigen::VectorXd> starts = fit_starts(x, fs, rng);
  ASSERT_EQ(starts.size(), 5u);  // prior mean, data-scaled start, 3 random
  const FitResult full = fit_hyperparameters_from(x, y, fs, starts);
  fs.probe_iterations = 3;  // below economy_from_observations (default 200): no probing
  EXPECT_EQ(fit_hyperparameters_from(x, y, fs, starts).evaluations, full.evaluations);
  fs.economy_from_observations = 50;
  const FitResult probed = fit_hyperparameters_from(x, y, fs, starts);
  EXPECT_LT(probed.evaluations, full.evaluations);
  const HyperPrior prior = HyperPrior::defaults(layout_of(x));
  const Standardization st = standardization_of(y);
  const Eigen::VectorXd ys = (y.array() - st.mean) / st.scale;
  EXPECT_GT(probed.log_posterior,
            log_marginal_likelihood(x, ys, prior.mean) + prior.log_density(prior.mean, nullptr) + 10.0);
  // Warm and economical: warm_restarts random starts after the warm one, at most warm_max_iterations
  // iterations; warm but not economical: `restarts` random starts, max_iterations.
  fs.warm_restarts = 1;
  fs.warm_max_iterations = 0;
  const std::vector<Eigen::VectorXd> warm_starts = fit_starts(x, fs, rng, &probed.theta);
  ASSERT_EQ(warm_starts.size(), 2u);
  EXPECT_EQ(warm_starts[0], probed.theta);
  const FitResult stay = fit_hyperparameters(x, y, fs, rng, &probed.theta);
  EXPECT_EQ(stay.evaluations, 2);  // one per start, no iteration
  EXPECT_NEAR(stay.log_posterior, probed.log_posterior, 1e-9);
  fs.economy_from_observations = 200;
  EXPECT_EQ(fit_starts(x, fs, rng, &probed.theta).size(), 4u);
}
