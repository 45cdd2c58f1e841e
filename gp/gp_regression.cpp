// Exact GP regression with a Cholesky factor; log marginal likelihood and its gradient (REFERENCE §7).
#include "gp/gp_regression.hpp"

#include <cmath>
#include <limits>
#include <numbers>

#include "gp/cholesky.hpp"
#include "gp/dense_views.hpp"
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
  LikelihoodWorkspace ws;
  return log_marginal_likelihood(x, y_std, theta, grad, ws);
}

double log_marginal_likelihood(const Inputs& x, const Eigen::VectorXd& y_std, const Eigen::VectorXd& theta,
                               Eigen::VectorXd* grad, LikelihoodWorkspace& ws) {
  SPARSE_CHECK(y_std.size() == x.size(), "got " << y_std.size() << " targets for " << x.size() << " inputs");
  // a: K + σ_n² I, factored in place (L in the lower triangle, K stays in the strict upper one for the gradient).
  Eigen::MatrixXd& a = ws.k;
  if (grad) kernel_train_with_radial(x, theta, a, ws.radial, &ws.panel);
  else a = kernel_train(x, theta);
  try {
    cholesky_in_place(a);
  } catch (const sparse::Error&) {
    if (grad) grad->setZero(theta.size());
    return -std::numeric_limits<double>::infinity();
  }
  Eigen::VectorXd alpha = y_std;
  a.triangularView<Eigen::Lower>().solveInPlace(alpha);
  a.transpose().triangularView<Eigen::Upper>().solveInPlace(alpha);  // Lᵀ: reads the lower triangle only
  const double n = static_cast<double>(x.size());
  const double lml = -0.5 * y_std.dot(alpha) - a.diagonal().array().log().sum() - 0.5 * n * std::log(2.0 * std::numbers::pi);
  if (grad) {
    Eigen::MatrixXd& w = ws.w;
    inverse_from_cholesky(a, w);  // K⁻¹, then W = ααᵀ − K⁻¹
    w = -w;
    w.noalias() += alpha * alpha.transpose();
    *grad = kernel_contract_gradient_in_place(x, theta, w, a, ws.radial);
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
  L_ = kernel_train(x_, theta_);
  cholesky_in_place(L_);
  L_.triangularView<Eigen::StrictlyUpper>().setZero();
  alpha_ = y_std_;
  L_.triangularView<Eigen::Lower>().solveInPlace(alpha_);
  L_.transpose().triangularView<Eigen::Upper>().solveInPlace(alpha_);
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
  Posterior p;
  const double s2 = std_.scale * std_.scale;
  if (full_cov) {
    joint_posterior_standardized(c, p.mean, p.cov);
    p.cov *= s2;
    p.var = p.cov.diagonal();
  } else {
    Eigen::MatrixXd v = kernel_cross(x_, c, theta_);  // n × m: K(X, C), then V = L⁻¹ K(X, C)
    p.mean = (v.transpose() * alpha_).array() * std_.scale + std_.mean;
    dense::solve_lower(cmat(L_), mat(v), false);
    const double sf2 = std::exp(theta_[layout_of(x_).signal()]);
    p.var = (sf2 - v.colwise().squaredNorm().transpose().array()) * s2;
  }
  p.var = p.var.cwiseMax(0.0);
  return p;
}

void GaussianProcess::joint_posterior_standardized(const Inputs& c, Eigen::VectorXd& mean, Eigen::MatrixXd& cov) const {
  Eigen::MatrixXd v = kernel_cross(x_, c, theta_);  // n × m: K(X, C), then V = L⁻¹ K(X, C) in place
  mean = (v.transpose() * alpha_).array() * std_.scale + std_.mean;
  dense::solve_lower(cmat(L_), mat(v), false);
  // Σ*/scale² = K(C,C) − VᵀV as a symmetric rank-n update of the lower triangle (half the flops of a GEMM).
  cov = kernel_lower(c, theta_);
  dense::rank_update_lower(-1.0, cmat(v), true, mat(cov));
  cov.triangularView<Eigen::StrictlyUpper>() = cov.transpose();
}

}  // namespace sparse::gp
