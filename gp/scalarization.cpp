// Random scalarization (eq. 7), weight priors, budgets and the ρ-mixing decision.
#include "gp/scalarization.hpp"

#include <cmath>
#include <limits>

#include "host/core/error.hpp"

namespace sparse::gp {

Eigen::VectorXd dirichlet_weights(int num_objectives, sparse::PhiloxStream& rng) {
  SPARSE_CHECK(num_objectives >= 1, "number of objectives is " << num_objectives << ", expected >= 1");
  Eigen::VectorXd w(num_objectives);
  for (int k = 0; k < num_objectives; ++k) w[k] = -std::log(1.0 - rng.uniform());  // Gamma(1) = Exp(1)
  return w / w.sum();
}

Eigen::VectorXd box_prior_weights(const Eigen::VectorXd& lower, const Eigen::VectorXd& upper, sparse::PhiloxStream& rng) {
  SPARSE_CHECK(lower.size() == upper.size() && lower.size() >= 1,
               "box prior bounds have sizes " << lower.size() << " and " << upper.size() << ", expected equal and >= 1");
  SPARSE_CHECK(upper.sum() > 0.0, "box prior upper bounds sum to " << upper.sum() << ", expected > 0");
  Eigen::VectorXd w(lower.size());
  for (Eigen::Index k = 0; k < lower.size(); ++k) {
    SPARSE_CHECK(lower[k] >= 0.0 && lower[k] <= upper[k], "box prior for objective " << k << " is [" << lower[k]
                                                                                     << ", " << upper[k]
                                                                                     << "], expected 0 <= lower <= upper");
    w[k] = lower[k] + (upper[k] - lower[k]) * rng.uniform();
  }
  if (w.sum() <= 0.0) w = upper;
  return w / w.sum();
}

MinMaxNormalization MinMaxNormalization::over(const Eigen::MatrixXd& observed, double shift) {
  SPARSE_CHECK(observed.rows() >= 1, "min-max normalization needs at least one observed trial");
  SPARSE_CHECK(std::isfinite(shift), "normalization shift is " << shift << ", expected a finite value");
  MinMaxNormalization n;
  n.shift = shift;
  n.minimum = observed.colwise().minCoeff().transpose();
  n.range = observed.colwise().maxCoeff().transpose() - n.minimum;
  for (Eigen::Index k = 0; k < n.range.size(); ++k)
    if (!(n.range[k] > 0.0)) n.range[k] = 1.0;
  return n;
}

Eigen::VectorXd MinMaxNormalization::apply(const Eigen::VectorXd& f) const {
  return ((f - minimum).array() / range.array() + shift).matrix();
}

double scalarize(const Eigen::VectorXd& f_normalized, const Eigen::VectorXd& lambda) {
  SPARSE_CHECK(f_normalized.size() == lambda.size(), "scalarization got " << f_normalized.size() << " objectives and "
                                                                           << lambda.size() << " weights");
  return (lambda.array() * f_normalized.array()).maxCoeff();
}

int choose_by_scalarization(const Eigen::MatrixXd& samples, const Eigen::VectorXd& lambda,
                            const MinMaxNormalization& norm, const Eigen::VectorXd& budgets,
                            const std::vector<bool>& taken) {
  const Eigen::Index m = samples.rows(), k = samples.cols();
  SPARSE_CHECK(lambda.size() == k && budgets.size() == k && norm.minimum.size() == k,
               "scalarization sizes differ: " << k << " sampled objectives, " << lambda.size() << " weights, "
                                              << budgets.size() << " budgets, " << norm.minimum.size() << " normalizers");
  SPARSE_CHECK(static_cast<Eigen::Index>(taken.size()) == m, "taken mask has " << taken.size() << " entries for "
                                                                                << m << " candidates");
  int best_ok = -1, best_violating = -1;
  double g_ok = std::numeric_limits<double>::infinity(), least_excess = std::numeric_limits<double>::infinity();
  for (Eigen::Index i = 0; i < m; ++i) {
    if (taken[static_cast<size_t>(i)]) continue;
    double excess = 0.0;
    for (Eigen::Index j = 0; j < k; ++j)
      if (std::isfinite(budgets[j]) && samples(i, j) > budgets[j]) excess += (samples(i, j) - budgets[j]) / norm.range[j];
    if (excess > 0.0) {
      if (excess < least_excess) {
        least_excess = excess;
        best_violating = static_cast<int>(i);
      }
      continue;
    }
    const double g = scalarize(norm.apply(samples.row(i).transpose()), lambda);
    if (best_ok < 0 || g < g_ok) {
      g_ok = g;
      best_ok = static_cast<int>(i);
    }
  }
  return best_ok >= 0 ? best_ok : best_violating;
}

bool choose_model_based(double rho, sparse::PhiloxStream& rng) {
  SPARSE_CHECK(rho >= 0.0 && rho <= 1.0, "rho is " << rho << ", expected a probability in [0, 1]");
  return rng.uniform() < rho;
}

}  // namespace sparse::gp
