// Cholesky with the ×10 jitter schedule (REFERENCE §7).
#include "gp/cholesky.hpp"

#include "host/core/error.hpp"

namespace sparse::gp {

JitteredCholesky cholesky_with_jitter(const Eigen::MatrixXd& a, double first_jitter, int max_tries) {
  SPARSE_CHECK(a.rows() == a.cols(), "Cholesky needs a square matrix, got " << a.rows() << "×" << a.cols());
  SPARSE_CHECK(first_jitter > 0.0, "first jitter is " << first_jitter << ", expected > 0");
  JitteredCholesky out;
  double jitter = 0.0;
  for (int attempt = 0; attempt <= max_tries; ++attempt) {
    Eigen::MatrixXd m = a;
    if (jitter > 0.0) m.diagonal().array() += jitter;
    Eigen::LLT<Eigen::MatrixXd> llt(m);
    if (llt.info() == Eigen::Success) {
      out.L = llt.matrixL();
      if (out.L.allFinite() && (out.L.diagonal().array() > 0.0).all()) {
        out.jitter = jitter;
        out.tries = attempt;
        return out;
      }
    }
    jitter = (jitter == 0.0) ? first_jitter : jitter * 10.0;
  }
  SPARSE_FAIL("Cholesky of a " << a.rows() << "×" << a.cols() << " matrix failed after " << max_tries
                               << " jitter increases (last jitter " << jitter / 10.0
                               << "); expected a symmetric positive semi-definite matrix");
}

}  // namespace sparse::gp
