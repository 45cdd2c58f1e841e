// Cholesky with the ×10 jitter schedule (REFERENCE §7), in place; the inverse from a Cholesky factor.
#include "gp/cholesky.hpp"

#include "gp/dense_views.hpp"
#include "host/core/error.hpp"

namespace sparse::gp {

JitterInfo cholesky_in_place(Eigen::MatrixXd& a, double first_jitter, int max_tries) {
  SPARSE_CHECK(a.rows() == a.cols(), "Cholesky needs a square matrix, got " << a.rows() << "×" << a.cols());
  SPARSE_CHECK(first_jitter > 0.0, "first jitter is " << first_jitter << ", expected > 0");
  const Eigen::VectorXd diag = a.diagonal();
  double jitter = 0.0;
  for (int attempt = 0; attempt <= max_tries; ++attempt) {
    if (attempt > 0) {  // restore A from the untouched strict upper triangle and the saved diagonal
      a.triangularView<Eigen::StrictlyLower>() = a.transpose();
      a.diagonal() = diag;
    }
    if (jitter > 0.0) a.diagonal().array() += jitter;
    if (dense::cholesky_lower(mat(a))) return JitterInfo{jitter, attempt};
    jitter = (jitter == 0.0) ? first_jitter : jitter * 10.0;
  }
  a.triangularView<Eigen::StrictlyLower>() = a.transpose();
  a.diagonal() = diag;
  SPARSE_FAIL("Cholesky of a " << a.rows() << "×" << a.cols() << " matrix failed after " << max_tries
                               << " jitter increases (last jitter " << jitter / 10.0
                               << "); expected a symmetric positive semi-definite matrix");
}

JitteredCholesky cholesky_with_jitter(const Eigen::MatrixXd& a, double first_jitter, int max_tries) {
  SPARSE_CHECK(a.rows() == a.cols(), "Cholesky needs a square matrix, got " << a.rows() << "×" << a.cols());
  JitteredCholesky out;
  out.L = a;
  out.L.triangularView<Eigen::StrictlyUpper>() = a.transpose();  // A is read from its lower triangle
  const JitterInfo info = cholesky_in_place(out.L, first_jitter, max_tries);
  out.L.triangularView<Eigen::StrictlyUpper>().setZero();
  out.jitter = info.jitter;
  out.tries = info.tries;
  return out;
}

void inverse_from_cholesky(const Eigen::MatrixXd& l, Eigen::MatrixXd& out) {
  SPARSE_CHECK(l.rows() == l.cols(), "Cholesky factor is " << l.rows() << "×" << l.cols() << ", expected square");
  out.resize(l.rows(), l.cols());
  out = l.triangularView<Eigen::Lower>();
  dense::triangular_inverse_lower(mat(out));
  dense::gram_of_lower(mat(out));
  out.triangularView<Eigen::StrictlyUpper>() = out.transpose();
}

Eigen::MatrixXd inverse_from_cholesky(const Eigen::MatrixXd& l) {
  Eigen::MatrixXd out;
  inverse_from_cholesky(l, out);
  return out;
}

}  // namespace sparse::gp
