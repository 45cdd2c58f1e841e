// GP regression on encoded points for one objective: standardized targets, exact posterior via
// Cholesky, log marginal likelihood with its analytic gradient (REFERENCE §7).
// Invariants: targets are standardized with (mean, scale) fixed at construction; predictions come back on
// the caller's scale (whatever transform the caller applied, e.g. log bytes for f2, f3); the posterior is
// that of the latent f (noise-free), so Thompson samples are samples of the objective, not of observations.
#pragma once
#include <Eigen/Dense>

#include "gp/point.hpp"

namespace sparse::gp {

struct Standardization {
  double mean = 0.0, scale = 1.0;  // y_std = (y − mean)/scale; scale = 1 when y is constant
};
Standardization standardization_of(const Eigen::VectorXd& y);

// log p(y | θ) = −½ yᵀK⁻¹y − Σ log L_ii − (n/2) log 2π for standardized y; fills ∂/∂θ when grad != nullptr.
// Returns −∞ when K cannot be factored even with jitter.
double log_marginal_likelihood(const Inputs& x, const Eigen::VectorXd& y_std, const Eigen::VectorXd& theta,
                               Eigen::VectorXd* grad = nullptr);

// n × n buffers of log_marginal_likelihood, reused across the evaluations of one fit (no allocation and no
// fresh pages per evaluation once sized).
struct LikelihoodWorkspace {
  Eigen::MatrixXd k, radial, w, panel;
};
double log_marginal_likelihood(const Inputs& x, const Eigen::VectorXd& y_std, const Eigen::VectorXd& theta,
                               Eigen::VectorXd* grad, LikelihoodWorkspace& ws);

struct Posterior {
  Eigen::VectorXd mean;  // m
  Eigen::MatrixXd cov;   // m × m (empty when only the variance was asked)
  Eigen::VectorXd var;   // m, diagonal of cov
};

class GaussianProcess {
 public:
  // x: n inputs, y: n targets on the caller's scale, theta: kernel hyper-parameters (kernel.hpp layout).
  GaussianProcess(Inputs x, const Eigen::VectorXd& y, Eigen::VectorXd theta);

  // Kriging believer: adds points (pending trials) whose targets are the current posterior mean, so the
  // mean is unchanged and the variance shrinks around them. θ and the standardization stay as they are.
  void add_fantasies(const Inputs& pending);

  // Posterior of the latent objective at c, on the caller's scale; full joint covariance when full_cov.
  Posterior posterior(const Inputs& c, bool full_cov) const;
  // The joint posterior for sampling without m × m copies: mean on the caller's scale and the full symmetric
  // covariance on the standardized scale (Σ* / scale², so that Σ* = scale² · cov).
  void joint_posterior_standardized(const Inputs& c, Eigen::VectorXd& mean, Eigen::MatrixXd& cov) const;

  const Eigen::VectorXd& theta() const { return theta_; }
  const Standardization& standardization() const { return std_; }
  int size() const { return x_.size(); }

 private:
  void factor();
  Inputs x_;
  Eigen::VectorXd y_std_, theta_, alpha_;
  Standardization std_;
  Eigen::MatrixXd L_;
};

}  // namespace sparse::gp
