// Random scalarization of paper eq. 7, g = max_k λ_k f̃_k (minimized), with f̃ min-max normalized over the
// observed trials; λ from Dirichlet(1,…,1) or a user box prior (Paria et al. 2019); hard budgets; ρ-mixing.
// Invariants: λ ≥ 0 and Σ λ = 1; a candidate whose sample breaks a budget is never chosen while some
// candidate (not yet taken) meets every budget.
#pragma once
#include <Eigen/Dense>
#include <vector>

#include "host/core/philox.hpp"

namespace sparse::gp {

// λ ~ Dirichlet(1,…,1): normalized standard exponentials.
Eigen::VectorXd dirichlet_weights(int num_objectives, sparse::PhiloxStream& rng);

// λ_k ~ U[lower_k, upper_k] independently, then normalized to sum 1 (0 ≤ lower ≤ upper, Σ upper > 0).
Eigen::VectorXd box_prior_weights(const Eigen::VectorXd& lower, const Eigen::VectorXd& upper, sparse::PhiloxStream& rng);

// f̃_k = (f_k − min_k)/(max_k − min_k) + shift, min and max over the observed rows; range 1 where constant.
// shift = 0 is the literal min-max form: the Chebyshev utopia point sits at the observed minima, and once
// one cluster of trials holds both minima every λ picks that cluster again (seen on BraninCurrin).
// shift > 0 moves the utopia point below the observed minima by shift·range; shift = −1 measures from
// the observed maxima (a nadir point, the form of Paria et al. 2019 written for minimization).
struct MinMaxNormalization {
  Eigen::VectorXd minimum, range;
  double shift = 0.0;
  static MinMaxNormalization over(const Eigen::MatrixXd& observed, double shift = 0.0);  // n × K, n ≥ 1
  Eigen::VectorXd apply(const Eigen::VectorXd& f) const;
};

// Eq. 7: max_k λ_k f̃_k.
double scalarize(const Eigen::VectorXd& f_normalized, const Eigen::VectorXd& lambda);

// Index of the candidate (row of samples, m × K, caller's scale) minimizing eq. 7 among rows not taken.
// budgets: K entries, +∞ (or NaN) where an objective has none; a row meets the budgets when
// samples(i, k) ≤ budgets[k] for all k. When no free row meets them, the row with the least total
// normalized excess Σ_k max(0, s_k − b_k)/range_k is chosen. Returns −1 when every row is taken.
int choose_by_scalarization(const Eigen::MatrixXd& samples, const Eigen::VectorXd& lambda,
                            const MinMaxNormalization& norm, const Eigen::VectorXd& budgets,
                            const std::vector<bool>& taken);

// The ρ-mixing decision: true (model-based proposal) with probability ρ, else a uniform random config.
bool choose_model_based(double rho, sparse::PhiloxStream& rng);

}  // namespace sparse::gp
