// Exact GP regression with a Cholesky factor; log marginal likelihood and its gradient (REFERENCE §7).
#include "gp/gp_regression.hpp"

#include <cmath>
#include <limits>
#include <numbers>

#include "gp/cholesky.hpp"
#include "gp/kernel.hpp"
#include "host/core/error.hpp"

namespace sparse::gp {

Standardization standardization_of(const Eigen::VectorXd& y) {
  SPARSE_CHECK(y.size() > 0, "cannot standardize an empty target vector");
  SPARSE_CHECK(y.allFinite(), "targets contain a non-finite value; expected finite objective values");
  Standardization s;
  s.mean = y.mean();
  const double var = (y.array() - s.mean).square().sum() / static_cast<double>(y.size());
  s.scale = var > 1e-24 ? std::sqrt(var) : 1.0;
  return s;
}

double log_marginal_likelihood(const Inputs& x, const Eigen::VectorXd& y_std, const Eigen::VectorXd& theta,
                               Eigen::VectorXd* grad) {
  SPARSE_CHECK(y_std.size() == x.size(), "got " << y_std.size() << " targets for " << x.size() << " inputs");
  const Eigen::MatrixXd k = kernel_train(x, theta);
  JitteredCholesky c;
  try {
    c = cholesky_with_jitter(k);
  } catch (const sparse::Error&) {
    if (grad) grad->setZero(theta.size());
    return -std::numeric_limits<double>::infinity();
  }
  const auto tri = c.L.triangularView<Eigen::Lower>();
  const auto tri_t = c.L.transpose().triangularView<Eigen::Upper>();
  const Eigen::VectorXd alpha = tri_t.solve(tri.solve(y_std));
  const double n = static_cast<double>(x.size());
  const double lml = -0.5 * y_std.dot(alpha) - c.L.diagonal().array().log().sum() - 0.5 * n * std::log(2.0 * std::numbers::pi);
  if (grad) {
    Eigen::MatrixXd kinv = Eigen::MatrixXd::Identity(x.size(), x.size());
    tri.solveInPlace(kinv);
    tri_t.solveInPlace(kinv);
    const Eigen::MatrixXd w = alpha * alpha.transpose() - kinv;
    *grad = kernel_contract_gradient(x, theta, w);
  }
  return lml;
}

GaussianProcess::GaussianProcess(Inputs x, const Eigen::VectorXd& y, Eigen::VectorXd theta)
    : x_(std::move(x)), theta_(std::move(theta)) {
  SPARSE_CHECK(y.size() == x_.size(), "got " << y.size() << " targets for " << x_.size() << " inputs");
  SPARSE_CHECK(theta_.size() == layout_of(x_).size(), "got " << theta_.size() << " hyper-parameters, expected "
                                                             << layout_of(x_).size());
  std_ = standardization_of(y);
  y_std_ = (y.array() - std_.mean) / std_.scale;
  factor();
}

void GaussianProcess::factor() {
  L_ = cholesky_with_jitter(kernel_train(x_, theta_)).L;
  alpha_ = L_.transpose().triangularView<Eigen::Upper>().solve(L_.triangularView<Eigen::Lower>().solve(y_std_));
}

void GaussianProcess::add_fantasies(const Inputs& pending) {
  if (pending.size() == 0) return;
  const Posterior p = posterior(pending, false);
  const Eigen::VectorXd fantasy_std = (p.mean.array() - std_.mean) / std_.scale;
  x_ = concat_inputs(x_, pending);
  Eigen::VectorXd y(y_std_.size() + fantasy_std.size());
  y << y_std_, fantasy_std;
  y_std_ = y;
  factor();
}

Posterior GaussianProcess::posterior(const Inputs& c, bool full_cov) const {
  const Eigen::MatrixXd ks = kernel_cross(x_, c, theta_);  // n × m
  Posterior p;
  p.mean = (ks.transpose() * alpha_).array() * std_.scale + std_.mean;
  const Eigen::MatrixXd v = L_.triangularView<Eigen::Lower>().solve(ks);  // n × m
  const double s2 = std_.scale * std_.scale;
  const double sf2 = std::exp(theta_[layout_of(x_).signal()]);
  if (full_cov) {
    // Σ* = K(C,C) − VᵀV as a symmetric rank-n update of the lower triangle (half the flops of a GEMM).
    Eigen::MatrixXd lower = kernel_cross(c, c, theta_);
    lower.selfadjointView<Eigen::Lower>().rankUpdate(v.transpose(), -1.0);
    p.cov = lower.selfadjointView<Eigen::Lower>();
    p.cov *= s2;
    p.var = p.cov.diagonal();
  } else {
    p.var = (sf2 - v.colwise().squaredNorm().transpose().array()) * s2;
  }
  p.var = p.var.cwiseMax(0.0);
  return p;
}

}  // namespace sparse::gp
