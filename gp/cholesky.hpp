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

struct JitterInfo {
  double jitter = 0.0;
  int tries = 0;
};

// The same without copies: a is symmetric and full; on return its lower triangle holds L (L Lᵀ = A +
// jitter·I), its strict upper triangle still holds A. After a failed try the lower triangle is restored
// from the upper one. Throws like cholesky_with_jitter (a is then A again).
JitterInfo cholesky_in_place(Eigen::MatrixXd& a, double first_jitter = 1e-8, int max_tries = 10);

// (L Lᵀ)⁻¹, full and symmetric, from the lower triangle of l (the rest is not read): a blocked triangular
// inverse and the product L⁻ᵀL⁻¹ as LAPACK's potri does, 2n³/3 flops instead of 2n³ for two triangular
// solves against the identity.
Eigen::MatrixXd inverse_from_cholesky(const Eigen::MatrixXd& l);
// The same into out (reused when it has the size already).
void inverse_from_cholesky(const Eigen::MatrixXd& l, Eigen::MatrixXd& out);

}  // namespace sparse::gp
