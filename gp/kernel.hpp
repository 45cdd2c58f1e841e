// Mixed-variable kernel of REFERENCE §7: σ_f² · Matérn-5/2(numeric, ARD) · exp(−Σ_d [c_d ≠ c'_d]/ℓ_d − m/ℓ_act).
// Invariants: hyper-parameters live in log space in one vector (layout below); K is symmetric positive
// definite for every hyper-parameter value (product of PD kernels, Schur product theorem).
//
// Conditional variables (the choice this engine makes, see also point.hpp):
//  * an inactive categorical dimension takes level −1, so two inactive values match and an active/inactive
//    pair counts as one categorical mismatch on that dimension (length scale ℓ_d of that dimension);
//  * an inactive numeric dimension is imputed to 0 and a factor exp(−m/ℓ_act) multiplies the kernel,
//    m = number of numeric dimensions active in exactly one of the two points (one shared ℓ_act).
//    Both inactive: distance 0 on that dimension and no penalty; both active: the real distance.
//  A kernel that drops a numeric dimension only where one point is inactive is not PD (3-point
//  counterexample with det = 1 − 2e² < 0), hence imputation plus an activity-mismatch factor.
#pragma once
#include <Eigen/Dense>

#include "gp/point.hpp"

namespace sparse::gp {

// Layout of θ (all natural logs): [log ℓ_num (D_num) | log ℓ_cat (D_cat) | log ℓ_act | log σ_f² | log σ_n²].
struct KernelLayout {
  int num_numeric = 0, num_categorical = 0;
  int size() const { return num_numeric + num_categorical + 3; }
  int act() const { return num_numeric + num_categorical; }
  int signal() const { return num_numeric + num_categorical + 1; }
  int noise() const { return num_numeric + num_categorical + 2; }
};

KernelLayout layout_of(const Inputs& x);

// Matérn-5/2 of the scaled distance r: (1 + √5 r + 5r²/3) exp(−√5 r).
double matern52(double r);

// Cross-covariance k(a_i, b_j) without noise: |a| × |b|.
Eigen::MatrixXd kernel_cross(const Inputs& a, const Inputs& b, const Eigen::VectorXd& theta);

// K(x, x) without noise, lower triangle only (the strict upper triangle is left unspecified): half the
// work of kernel_cross(x, x, θ) where only the lower triangle is read (the joint posterior on candidates).
Eigen::MatrixXd kernel_lower(const Inputs& x, const Eigen::VectorXd& theta);

// K(x, x) + σ_n² I: the training covariance.
Eigen::MatrixXd kernel_train(const Inputs& x, const Eigen::VectorXd& theta);

// K(x, x) + σ_n² I (full, symmetric) and the radial factor of the numeric length-scale derivatives
// (σ_f² (5/3)(1 + √5 r) e^{−√5 r − m}; lower triangle only, the rest unspecified), for
// kernel_contract_gradient below.
// panel: optional scratch buffer (n × 128), reused across calls when given.
void kernel_train_with_radial(const Inputs& x, const Eigen::VectorXd& theta, Eigen::MatrixXd& k, Eigen::MatrixXd& radial,
                              Eigen::MatrixXd* panel = nullptr);

// grad_p = ½ Σ_ij W_ij ∂(K + σ_n² I)_ij/∂θ_p for symmetric W (n × n): with W = ααᵀ − K⁻¹ this is the
// gradient of the log marginal likelihood (Rasmussen & Williams eq. 5.9). O(n² D) through matrix products.
Eigen::VectorXd kernel_contract_gradient(const Inputs& x, const Eigen::VectorXd& theta, const Eigen::MatrixXd& w);
// The same with the kernel parts already at hand and without n × n buffers: k_upper holds K(x, x) in its
// strict upper triangle (the rest is not read; a Cholesky factored in place in the lower triangle leaves it
// there), radial_lower the factor from kernel_train_with_radial in its strict lower triangle. w (full,
// symmetric) and radial_lower are overwritten.
Eigen::VectorXd kernel_contract_gradient_in_place(const Inputs& x, const Eigen::VectorXd& theta, Eigen::MatrixXd& w,
                                                  const Eigen::MatrixXd& k_upper, Eigen::MatrixXd& radial_lower);

}  // namespace sparse::gp
