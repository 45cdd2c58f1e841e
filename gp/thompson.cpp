// Joint posterior samples through a jittered Cholesky factor (REFERENCE §7).
#include "gp/thompson.hpp"

#include <algorithm>

#include "gp/cholesky.hpp"
#include "gp/dense_views.hpp"
#include "host/core/error.hpp"

namespace sparse::gp {
namespace {

// cov (full, symmetric) is factored in place; samples = mean + scale · L eps.
ThompsonDraw draw_in_place(const Eigen::VectorXd& mean, Eigen::MatrixXd& cov, double scale, const Eigen::MatrixXd& eps) {
  const Eigen::Index m = mean.size();
  SPARSE_CHECK(cov.rows() == m && cov.cols() == m, "posterior covariance is " << cov.rows() << "×" << cov.cols()
                                                                              << ", expected " << m << "×" << m);
  SPARSE_CHECK(eps.rows() == m && eps.cols() >= 1,
               "normals are " << eps.rows() << "×" << eps.cols() << ", expected " << m << " × q with q >= 1");
  ThompsonDraw out;
  if (m == 0) {
    out.samples.resize(0, eps.cols());
    return out;
  }
  const double level = std::max(cov.diagonal().cwiseAbs().mean(), 1e-300);
  const JitterInfo c = cholesky_in_place(cov, 1e-8 * level);
  out.jitter = c.jitter * scale * scale;
  out.samples.resize(m, eps.cols());
  dense::lower_times(cmat(cov), cmat(eps), mat(out.samples));
  if (scale != 1.0) out.samples *= scale;
  out.samples.colwise() += mean;
  return out;
}

}  // namespace

Eigen::MatrixXd standard_normals(Eigen::Index m, int q, sparse::PhiloxStream& rng) {
  Eigen::MatrixXd eps(m, q);
  for (int j = 0; j < q; ++j)
    for (Eigen::Index i = 0; i < m; ++i) eps(i, j) = rng.normal();
  return eps;
}

ThompsonDraw thompson_samples(const Eigen::VectorXd& mean, const Eigen::MatrixXd& cov, int q, sparse::PhiloxStream& rng) {
  SPARSE_CHECK(q >= 1, "q is " << q << ", expected at least one sample");
  const Eigen::Index m = mean.size();
  SPARSE_CHECK(cov.rows() == m && cov.cols() == m, "posterior covariance is " << cov.rows() << "×" << cov.cols()
                                                                              << ", expected " << m << "×" << m);
  Eigen::MatrixXd work = cov;
  work.triangularView<Eigen::StrictlyUpper>() = cov.transpose();  // Σ* is read from its lower triangle
  return draw_in_place(mean, work, 1.0, standard_normals(m, q, rng));
}

ThompsonDraw thompson_samples(const GaussianProcess& gp, const Inputs& c, const Eigen::MatrixXd& eps) {
  Eigen::VectorXd mean;
  Eigen::MatrixXd cov;
  gp.joint_posterior_standardized(c, mean, cov);
  return draw_in_place(mean, cov, gp.standardization().scale, eps);
}

}  // namespace sparse::gp
