// Joint posterior samples through a jittered Cholesky factor (REFERENCE §7).
#include "gp/thompson.hpp"

#include <algorithm>

#include "gp/cholesky.hpp"
#include "host/core/error.hpp"

namespace sparse::gp {

ThompsonDraw thompson_samples(const Eigen::VectorXd& mean, const Eigen::MatrixXd& cov, int q, sparse::PhiloxStream& rng) {
  const Eigen::Index m = mean.size();
  SPARSE_CHECK(cov.rows() == m && cov.cols() == m, "posterior covariance is " << cov.rows() << "×" << cov.cols()
                                                                              << ", expected " << m << "×" << m);
  SPARSE_CHECK(q >= 1, "q is " << q << ", expected at least one sample");
  ThompsonDraw out;
  if (m == 0) {
    out.samples.resize(0, q);
    return out;
  }
  const double scale = std::max(cov.diagonal().cwiseAbs().mean(), 1e-300);
  const JitteredCholesky c = cholesky_with_jitter(cov, 1e-8 * scale);
  out.jitter = c.jitter;
  Eigen::MatrixXd eps(m, q);
  for (int j = 0; j < q; ++j)
    for (Eigen::Index i = 0; i < m; ++i) eps(i, j) = rng.normal();
  out.samples = c.L.triangularView<Eigen::Lower>() * eps;
  out.samples.colwise() += mean;
  return out;
}

}  // namespace sparse::gp
