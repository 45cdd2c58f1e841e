// Joint Thompson sampling on a candidate set (REFERENCE §7): q samples μ* + L ε at once, L = chol(Σ* + jitter·I).
// Invariant: column j of the result is one joint draw over all m candidates; draws are independent across
// columns; the jitter follows the ×10 schedule starting at 1e-8 times the mean posterior variance.
#pragma once
#include <Eigen/Dense>

#include "gp/gp_regression.hpp"
#include "gp/point.hpp"
#include "host/core/philox.hpp"

namespace sparse::gp {

struct ThompsonDraw {
  Eigen::MatrixXd samples;  // m × q
  double jitter = 0.0;      // jitter that made Σ* factor
};

ThompsonDraw thompson_samples(const Eigen::VectorXd& mean, const Eigen::MatrixXd& cov, int q, sparse::PhiloxStream& rng);

// q = eps.cols() joint draws of gp's posterior at the candidates c, eps: m × q standard normals (drawn by the
// caller, so that several objectives can be sampled in parallel from one random stream). Σ* is formed and
// factored in one m × m buffer (on the standardized scale; the jitter is reported on the caller's scale).
ThompsonDraw thompson_samples(const GaussianProcess& gp, const Inputs& c, const Eigen::MatrixXd& eps);

// m × q standard normals in the order thompson_samples(mean, cov, q, rng) draws them (column by column).
Eigen::MatrixXd standard_normals(Eigen::Index m, int q, sparse::PhiloxStream& rng);

}  // namespace sparse::gp
