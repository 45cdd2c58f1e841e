// Cholesky factorization with the jitter schedule of REFERENCE §7: try A, then A + j·I with j = 1e-8
// (double), ×10 per failed try. Invariant: L Lᵀ = A + jitter·I with L lower triangular and finite.
#pragma once
#include <Eigen/Dense>

namespace sparse::gp {

struct JitteredCholesky {
  Eigen::MatrixXd L;    // lower triangular
  double jitter = 0.0;  // added to the diagonal (0 when A factored as is)
  int tries = 0;        // failed attempts before success
};

// Throws sparse::Error naming the matrix size and last jitter when max_tries attempts all fail.
JitteredCholesky cholesky_with_jitter(const Eigen::MatrixXd& a, double first_jitter = 1e-8, int max_tries = 10);

}  // namespace sparse::gp
