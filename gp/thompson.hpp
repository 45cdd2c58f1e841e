// Joint Thompson sampling on a candidate set (REFERENCE §7): q samples μ* + L ε at once, L = chol(Σ* + jitter·I).
// Invariant: column j of the result is one joint draw over all m candidates; draws are independent across
// columns; the jitter follows the ×10 schedule starting at 1e-8 times the mean posterior variance.
#pragma once
#include <Eigen/Dense>

#include "host/core/philox.hpp"

namespace sparse::gp {

struct ThompsonDraw {
  Eigen::MatrixXd samples;  // m × q
  double jitter = 0.0;      // jitter that made Σ* factor
};

ThompsonDraw thompson_samples(const Eigen::VectorXd& mean, const Eigen::MatrixXd& cov, int q, sparse::PhiloxStream& rng);

}  // namespace sparse::gp
