// Mixed-variable kernel, its training matrix and its analytic hyper-parameter gradient (REFERENCE §7).
#include "gp/kernel.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "host/core/error.hpp"

namespace sparse::gp {
namespace {

constexpr double kSqrt5 = 2.23606797749978969640;

void check_theta(const KernelLayout& l, const Eigen::VectorXd& theta) {
  SPARSE_CHECK(theta.size() == l.size(), "kernel has " << theta.size() << " hyper-parameters, expected "
                                                       << l.size() << " (D_num + D_cat + 3)");
}

// Per pair: scaled squared distance, categorical mismatch sum Σ[c≠c']/ℓ, activity mismatch count.
struct PairTerms {
  double r2 = 0.0, cat = 0.0;
  int act_mismatch = 0;
};

inline PairTerms pair_terms(const Inputs& a, int i, const Inputs& b, int j, const Eigen::VectorXd& inv_l2,
                            const Eigen::VectorXd& inv_lc) {
  PairTerms t;
  const int dn = a.num_numeric(), dc = a.num_categorical();
  for (int d = 0; d < dn; ++d) {
    const double delta = a.numeric(i, d) - b.numeric(j, d);
    t.r2 += delta * delta * inv_l2[d];
    t.act_mismatch += a.numeric_active(i, d) != b.numeric_active(j, d);
  }
  for (int d = 0; d < dc; ++d) t.cat += (a.categorical(i, d) != b.categorical(j, d)) ? inv_lc[d] : 0.0;
  return t;
}

}  // namespace

KernelLayout layout_of(const Inputs& x) { return KernelLayout{x.num_numeric(), x.num_categorical()}; }

double matern52(double r) { return (1.0 + kSqrt5 * r + 5.0 / 3.0 * r * r) * std::exp(-kSqrt5 * r); }

// All three distance terms through matrix products (GEMM) instead of per-pair loops:
//  r²_ij = |u_i|² + |v_j|² − 2 u_i·v_j with u = x/ℓ (clamped at 0 against cancellation);
//  Σ_d [c_d ≠ c'_d]/ℓ_d = Σ_d 1/ℓ_d − (one-hot(a)·diag(1/ℓ)) · one-hot(b)ᵀ, level −1 has its own slot;
//  m_ij = |α_i|₁ + |β_j|₁ − 2 α_i·β_j for the 0/1 activity vectors α, β.
Eigen::MatrixXd kernel_cross(const Inputs& a, const Inputs& b, const Eigen::VectorXd& theta) {
  SPARSE_CHECK(a.num_numeric() == b.num_numeric() && a.num_categorical() == b.num_categorical(),
               "kernel inputs differ in dimensions: " << a.num_numeric() << "+" << a.num_categorical() << " vs "
                                                      << b.num_numeric() << "+" << b.num_categorical());
  const KernelLayout l = layout_of(a);
  check_theta(l, theta);
  const int dn = l.num_numeric, dc = l.num_categorical;
  const Eigen::ArrayXd inv_l = (-theta.head(dn).array()).exp();
  const Eigen::VectorXd inv_lc = (-theta.segment(dn, dc).array()).exp();
  const double inv_lact = std::exp(-theta[l.act()]);
  const double sf2 = std::exp(theta[l.signal()]);
  const Eigen::Index na = a.size(), nb = b.size();
  Eigen::MatrixXd expo = Eigen::MatrixXd::Zero(na, nb);  // r², later the whole exponent
  if (dn > 0) {
    const Eigen::MatrixXd u = a.numeric.array().rowwise() * inv_l.transpose();
    const Eigen::MatrixXd v = b.numeric.array().rowwise() * inv_l.transpose();
    expo.noalias() = -2.0 * u * v.transpose();
    expo.colwise() += u.rowwise().squaredNorm();
    expo.rowwise() += v.rowwise().squaredNorm().transpose();
  }
  Eigen::MatrixXd mismatch = Eigen::MatrixXd::Constant(na, nb, inv_lc.sum());
  if (dc > 0) {
    std::vector<Eigen::Index> offset(static_cast<size_t>(dc) + 1, 0);
    for (int d = 0; d < dc; ++d) {
      int top = -1;
      if (na > 0) top = std::max(top, a.categorical.col(d).maxCoeff());
      if (nb > 0) top = std::max(top, b.categorical.col(d).maxCoeff());
      offset[static_cast<size_t>(d) + 1] = offset[static_cast<size_t>(d)] + top + 2;  // levels −1..top
    }
    Eigen::MatrixXd ha = Eigen::MatrixXd::Zero(na, offset.back()), hb = Eigen::MatrixXd::Zero(nb, offset.back());
    for (int d = 0; d < dc; ++d) {
      for (Eigen::Index i = 0; i < na; ++i) ha(i, offset[static_cast<size_t>(d)] + a.categorical(i, d) + 1) = inv_lc[d];
      for (Eigen::Index j = 0; j < nb; ++j) hb(j, offset[static_cast<size_t>(d)] + b.categorical(j, d) + 1) = 1.0;
    }
    mismatch.noalias() -= ha * hb.transpose();
  }
  if (dn > 0) {
    const Eigen::MatrixXd aa = a.numeric_active.cast<double>(), ab = b.numeric_active.cast<double>();
    Eigen::MatrixXd act = -2.0 * aa * ab.transpose();
    act.colwise() += aa.rowwise().sum();
    act.rowwise() += ab.rowwise().sum().transpose();
    mismatch += inv_lact * act;
  }
  // σ_f² (1 + √5 r + 5r²/3) exp(−√5 r − mismatch): one exp per entry, in place.
  for (Eigen::Index j = 0; j < nb; ++j)
    for (Eigen::Index i = 0; i < na; ++i) {
      const double r2 = std::max(expo(i, j), 0.0), r = std::sqrt(r2);
      expo(i, j) = sf2 * (1.0 + kSqrt5 * r + 5.0 / 3.0 * r2) * std::exp(-kSqrt5 * r - std::max(mismatch(i, j), 0.0));
    }
  return expo;
}

Eigen::MatrixXd kernel_train(const Inputs& x, const Eigen::VectorXd& theta) {
  const KernelLayout l = layout_of(x);
  check_theta(l, theta);
  Eigen::MatrixXd k = kernel_cross(x, x, theta);
  k.diagonal().array() += std::exp(theta[l.noise()]);
  return k;
}

Eigen::VectorXd kernel_contract_gradient(const Inputs& x, const Eigen::VectorXd& theta, const Eigen::MatrixXd& w) {
  const KernelLayout l = layout_of(x);
  check_theta(l, theta);
  const int n = x.size(), dn = l.num_numeric, dc = l.num_categorical;
  SPARSE_CHECK(w.rows() == n && w.cols() == n, "gradient weight matrix is " << w.rows() << "×" << w.cols()
                                                                           << ", expected " << n << "×" << n);
  const Eigen::VectorXd inv_l2 = (-2.0 * theta.head(dn).array()).exp();
  const Eigen::VectorXd inv_lc = (-theta.segment(dn, dc).array()).exp();
  const double inv_lact = std::exp(-theta[l.act()]);
  const double sf2 = std::exp(theta[l.signal()]);
  Eigen::VectorXd g = Eigen::VectorXd::Zero(l.size());
  // Diagonal: k(x, x) = σ_f², plus σ_n².
  const double trace_w = w.diagonal().sum();
  g[l.signal()] += 0.5 * trace_w * sf2;
  g[l.noise()] += 0.5 * trace_w * std::exp(theta[l.noise()]);
  // Off-diagonal pairs counted twice (W and ∂K symmetric).
  for (int j = 1; j < n; ++j)
    for (int i = 0; i < j; ++i) {
      const PairTerms t = pair_terms(x, i, x, j, inv_l2, inv_lc);
      const double r = std::sqrt(t.r2);
      const double e = std::exp(-kSqrt5 * r);
      const double h = std::exp(-t.cat - t.act_mismatch * inv_lact);
      const double kij = sf2 * (1.0 + kSqrt5 * r + 5.0 / 3.0 * t.r2) * e * h;
      const double wij = w(i, j);  // ½ · 2 (pair counted twice)
      if (wij == 0.0) continue;
      // ∂k/∂log ℓ_d = σ_f² h (5/3)(1 + √5 r) e^{−√5 r} δ_d²/ℓ_d²  (no division by r).
      const double radial = wij * sf2 * h * (5.0 / 3.0) * (1.0 + kSqrt5 * r) * e;
      for (int d = 0; d < dn; ++d) {
        const double delta = x.numeric(i, d) - x.numeric(j, d);
        g[d] += radial * delta * delta * inv_l2[d];
      }
      // ∂k/∂log ℓ_c = k [c ≠ c']/ℓ_c; ∂k/∂log ℓ_act = k m/ℓ_act; ∂k/∂log σ_f² = k.
      for (int d = 0; d < dc; ++d)
        if (x.categorical(i, d) != x.categorical(j, d)) g[dn + d] += wij * kij * inv_lc[d];
      g[l.act()] += wij * kij * t.act_mismatch * inv_lact;
      g[l.signal()] += wij * kij;
    }
  return g;
}

}  // namespace sparse::gp
