// Hyper-parameter fit: maximize log p(y|θ) + log p(θ) over log-parameters with projected L-BFGS, analytic
// gradients, weak log-normal priors and a few random restarts (REFERENCE §7).
// Invariants: θ stays inside box bounds; the returned θ is the best log posterior seen over all starts.
#pragma once
#include <Eigen/Dense>

#include "gp/kernel.hpp"
#include "gp/point.hpp"
#include "host/core/philox.hpp"

namespace sparse::gp {

// Independent normal prior on each log-parameter: θ_p ~ N(mean_p, sd_p²), clipped to [lower_p, upper_p].
// Defaults (inputs in [0,1], standardized targets): log ℓ_num ~ N(log 0.5, 1.5²) in [log 0.01, log 20];
// log ℓ_cat, log ℓ_act ~ N(0, 1.5²) in [log 0.01, log 20]; log σ_f² ~ N(0, 1.5²) in [log 0.01, log 20];
// log σ_n² ~ N(log 1e-3, 3²) in [log 1e-6, log 2].
struct HyperPrior {
  Eigen::VectorXd mean, sd, lower, upper;
  static HyperPrior defaults(const KernelLayout& layout);
  // log density up to a constant; adds ∂/∂θ to *grad when given.
  double log_density(const Eigen::VectorXd& theta, Eigen::VectorXd* grad) const;
};

struct FitSettings {
  int restarts = 3;         // random starts drawn from the prior, besides the warm start / prior mean
  int max_iterations = 60;  // L-BFGS iterations per start
  int history = 8;          // L-BFGS memory
};

struct FitResult {
  Eigen::VectorXd theta;
  double log_posterior = 0.0;  // log marginal likelihood + log prior at theta
  int evaluations = 0;         // likelihood + gradient evaluations over all starts
};

// y: targets on the caller's scale (standardized inside). warm_start: optional θ to start from first.
FitResult fit_hyperparameters(const Inputs& x, const Eigen::VectorXd& y, const FitSettings& settings,
                              sparse::PhiloxStream& rng, const Eigen::VectorXd* warm_start = nullptr);

}  // namespace sparse::gp
