// Mixed-variable kernel, its training matrix and its analytic hyper-parameter gradient (REFERENCE §7).
#include "gp/kernel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "gp/dense_views.hpp"
#include "host/core/error.hpp"

namespace sparse::gp {
namespace {

constexpr double kSqrt5 = 2.23606797749978969640;

void check_theta(const KernelLayout& l, const Eigen::VectorXd& theta) {
  SPARSE_CHECK(theta.size() == l.size(), "kernel has " << theta.size() << " hyper-parameters, expected "
                                                       << l.size() << " (D_num + D_cat + 3)");
}

void check_dims(const Inputs& a, const Inputs& b) {
  SPARSE_CHECK(a.num_numeric() == b.num_numeric() && a.num_categorical() == b.num_categorical(),
               "kernel inputs differ in dimensions: " << a.num_numeric() << "+" << a.num_categorical() << " vs "
                                                      << b.num_numeric() << "+" << b.num_categorical());
}

// Columns of the mismatch design shared by two point sets: per categorical dimension one indicator column
// per level lo..top (the smallest and largest level in a ∪ b, −1 = inactive), then the numeric activity
// columns that are not constant over a ∪ b (a constant column never makes a mismatch).
struct MismatchColumns {
  std::vector<Eigen::Index> offset;  // D_cat + 1 entries: first indicator column of each categorical dimension
  std::vector<int> lowest;           // D_cat entries: the level of that first column
  std::vector<int> activity;         // numeric dimensions whose activity varies
  Eigen::Index width() const { return offset.back() + static_cast<Eigen::Index>(activity.size()); }
};

MismatchColumns mismatch_columns(const Inputs& a, const Inputs& b) {
  MismatchColumns c;
  const int dc = a.num_categorical(), dn = a.num_numeric();
  c.offset.assign(static_cast<size_t>(dc) + 1, 0);
  for (int d = 0; d < dc; ++d) {
    int lo = std::numeric_limits<int>::max(), top = -1;
    for (const Inputs* x : {&a, &b}) {
      if (x->size() == 0) continue;
      top = std::max(top, x->categorical.col(d).maxCoeff());
      lo = std::min(lo, x->categorical.col(d).minCoeff());
    }
    if (lo > top) lo = top;  // no points
    c.lowest.push_back(lo);
    c.offset[static_cast<size_t>(d) + 1] = c.offset[static_cast<size_t>(d)] + top - lo + 1;  // levels lo..top
  }
  for (int d = 0; d < dn; ++d) {
    int lo = 1, hi = 0;
    for (const Inputs* x : {&a, &b}) {
      if (x->size() == 0) continue;
      lo = std::min(lo, x->numeric_active.col(d).minCoeff());
      hi = std::max(hi, x->numeric_active.col(d).maxCoeff());
    }
    if (lo != hi) c.activity.push_back(d);
  }
  return c;
}

// Design of the mismatch exponent m_ij = Σ_d [c_d ≠ c'_d]/ℓ_d + (activity mismatches)/ℓ_act written as
// m_ij = t_i + t'_j − h_i·h'_j: h has the categorical indicators scaled by cat_w[d] and the varying activity
// columns scaled by act_w; t_i = ½ Σ_d 1/ℓ_d + |α_i|/ℓ_act (α_i: the point's varying activity bits).
// Symmetric form: cat_w = 1/√ℓ_d, act_w = √(2/ℓ_act) on both sides. Cross form: (1/ℓ_d, 2/ℓ_act) on one
// side and (1, 1) on the other.
void mismatch_design(const Inputs& x, const MismatchColumns& c, const Eigen::VectorXd& cat_w, double act_w,
                     const Eigen::VectorXd& inv_lc, double inv_lact, Eigen::MatrixXd& h, Eigen::VectorXd& t) {
  const Eigen::Index n = x.size();
  h = Eigen::MatrixXd::Zero(n, c.width());
  t = Eigen::VectorXd::Constant(n, 0.5 * inv_lc.sum());
  for (int d = 0; d < x.num_categorical(); ++d) {
    const Eigen::Index first = c.offset[static_cast<size_t>(d)] - c.lowest[static_cast<size_t>(d)];
    for (Eigen::Index i = 0; i < n; ++i) h(i, first + x.categorical(i, d)) = cat_w[d];
  }
  const Eigen::Index base = c.offset.back();
  for (size_t v = 0; v < c.activity.size(); ++v)
    for (Eigen::Index i = 0; i < n; ++i)
      if (x.numeric_active(i, c.activity[v])) {
        h(i, base + static_cast<Eigen::Index>(v)) = act_w;
        t[i] += inv_lact;
      }
}

struct Hyper {
  Eigen::ArrayXd inv_l;    // 1/ℓ_d, numeric
  Eigen::VectorXd inv_lc;  // 1/ℓ_d, categorical
  double inv_lact = 0.0, sf2 = 0.0;
};

Hyper hyper_of(const KernelLayout& l, const Eigen::VectorXd& theta) {
  Hyper h;
  h.inv_l = (-theta.head(l.num_numeric).array()).exp();
  h.inv_lc = (-theta.segment(l.num_numeric, l.num_categorical).array()).exp();
  h.inv_lact = std::exp(-theta[l.act()]);
  h.sf2 = std::exp(theta[l.signal()]);
  return h;
}

constexpr Eigen::Index kPanel = 128;  // columns per panel: the mismatch exponent lives in an n × kPanel buffer

dense::CMat rows_of(const Eigen::MatrixXd& m, Eigen::Index r0, Eigen::Index count) {
  return {m.data() + r0, count, m.cols(), m.outerStride()};
}

// K(x, x) without noise and, when radial != nullptr, the radial factor: lower triangles only (the strict
// upper triangles are unspecified), in column panels (GEMMs of the panel's rows against its columns, then
// the elementwise pass); K is mirrored to a full symmetric matrix when mirror_k.
void kernel_symmetric(const Inputs& x, const Eigen::VectorXd& theta, Eigen::MatrixXd& k, Eigen::MatrixXd* radial,
                      bool mirror_k, Eigen::MatrixXd* panel = nullptr) {
  const KernelLayout l = layout_of(x);
  check_theta(l, theta);
  const Hyper hp = hyper_of(l, theta);
  const Eigen::Index n = x.size();
  // r²_ij = |u_i|² + |u_j|² − 2 u_i·u_j, u = x/ℓ (clamped at 0 against cancellation).
  const Eigen::MatrixXd u = x.numeric.array().rowwise() * hp.inv_l.transpose();
  const Eigen::VectorXd u2 = u.rowwise().squaredNorm();
  const MismatchColumns cols = mismatch_columns(x, x);
  Eigen::MatrixXd h;
  Eigen::VectorXd t;
  mismatch_design(x, cols, hp.inv_lc.cwiseSqrt(), std::sqrt(2.0 * hp.inv_lact), hp.inv_lc, hp.inv_lact, h, t);
  k.resize(n, n);
  if (radial) radial->resize(n, n);
  Eigen::MatrixXd own;
  Eigen::MatrixXd& m = panel ? *panel : own;
  m.resize(n, std::min(kPanel, n));
  for (Eigen::Index j0 = 0; j0 < n; j0 += kPanel) {
    const Eigen::Index jb = std::min(kPanel, n - j0), rows = n - j0;
    const dense::Mat kp{&k(j0, j0), rows, jb, k.outerStride()}, mp{m.data(), rows, jb, m.outerStride()};
    if (l.num_numeric > 0) dense::product(-2.0, rows_of(u, j0, rows), false, rows_of(u, j0, jb), true, 0.0, kp);
    else k.block(j0, j0, rows, jb).setZero();
    if (h.cols() > 0) dense::product(-1.0, rows_of(h, j0, rows), false, rows_of(h, j0, jb), true, 0.0, mp);
    else m.topLeftCorner(rows, jb).setZero();
    for (Eigen::Index c = 0; c < jb; ++c) {
      const Eigen::Index j = j0 + c;
      dense::matern_segment(&k(j, j), &m(c, c), u2.data() + j, u2[j], t.data() + j, t[j],
                            radial ? &(*radial)(j, j) : nullptr, n - j, hp.sf2);
    }
  }
  if (mirror_k) k.triangularView<Eigen::StrictlyUpper>() = k.transpose();
}

}  // namespace

KernelLayout layout_of(const Inputs& x) { return KernelLayout{x.num_numeric(), x.num_categorical()}; }

double matern52(double r) { return (1.0 + kSqrt5 * r + 5.0 / 3.0 * r * r) * std::exp(-kSqrt5 * r); }

// All three distance terms through matrix products (GEMM) instead of per-pair loops:
//  r²_ij = |u_i|² + |v_j|² − 2 u_i·v_j with u = x/ℓ (clamped at 0 against cancellation);
//  Σ_d [c_d ≠ c'_d]/ℓ_d and the activity mismatches m_ij/ℓ_act through one product of indicator designs
//  (mismatch_design above); then one vectorized exp per entry.
Eigen::MatrixXd kernel_cross(const Inputs& a, const Inputs& b, const Eigen::VectorXd& theta) {
  check_dims(a, b);
  if (&a == &b) {
    Eigen::MatrixXd k;
    kernel_symmetric(a, theta, k, nullptr, true);
    return k;
  }
  const KernelLayout l = layout_of(a);
  check_theta(l, theta);
  const Hyper hp = hyper_of(l, theta);
  const Eigen::Index na = a.size(), nb = b.size();
  Eigen::MatrixXd expo(na, nb);  // −2 u_i·v_j, later k
  Eigen::VectorXd u2 = Eigen::VectorXd::Zero(na), v2 = Eigen::VectorXd::Zero(nb);
  if (l.num_numeric > 0) {
    const Eigen::MatrixXd u = a.numeric.array().rowwise() * hp.inv_l.transpose();
    const Eigen::MatrixXd v = b.numeric.array().rowwise() * hp.inv_l.transpose();
    dense::product(-2.0, cmat(u), false, cmat(v), true, 0.0, mat(expo));
    u2 = u.rowwise().squaredNorm();
    v2 = v.rowwise().squaredNorm();
  } else {
    expo.setZero();
  }
  const MismatchColumns cols = mismatch_columns(a, b);
  Eigen::MatrixXd ha, hb;
  Eigen::VectorXd ta, tb;
  mismatch_design(a, cols, hp.inv_lc, 2.0 * hp.inv_lact, hp.inv_lc, hp.inv_lact, ha, ta);
  mismatch_design(b, cols, Eigen::VectorXd::Ones(l.num_categorical), 1.0, hp.inv_lc, hp.inv_lact, hb, tb);
  Eigen::MatrixXd m(na, std::min(kPanel, nb));
  for (Eigen::Index j0 = 0; j0 < nb; j0 += kPanel) {
    const Eigen::Index jb = std::min(kPanel, nb - j0);
    if (ha.cols() > 0)
      dense::product(-1.0, cmat(ha), false, rows_of(hb, j0, jb), true, 0.0, dense::Mat{m.data(), na, jb, m.outerStride()});
    else
      m.setZero();
    for (Eigen::Index c = 0; c < jb; ++c) {
      const Eigen::Index j = j0 + c;
      dense::matern_segment(expo.col(j).data(), m.col(c).data(), u2.data(), v2[j], ta.data(), tb[j], nullptr, na, hp.sf2);
    }
  }
  return expo;
}

Eigen::MatrixXd kernel_lower(const Inputs& x, const Eigen::VectorXd& theta) {
  Eigen::MatrixXd k;
  kernel_symmetric(x, theta, k, nullptr, false);
  return k;
}

Eigen::MatrixXd kernel_train(const Inputs& x, const Eigen::VectorXd& theta) {
  const KernelLayout l = layout_of(x);
  check_theta(l, theta);
  Eigen::MatrixXd k;
  kernel_symmetric(x, theta, k, nullptr, true);
  k.diagonal().array() += std::exp(theta[l.noise()]);
  return k;
}

void kernel_train_with_radial(const Inputs& x, const Eigen::VectorXd& theta, Eigen::MatrixXd& k,
                              Eigen::MatrixXd& radial, Eigen::MatrixXd* panel) {
  const KernelLayout l = layout_of(x);
  check_theta(l, theta);
  kernel_symmetric(x, theta, k, &radial, true, panel);
  k.diagonal().array() += std::exp(theta[l.noise()]);
}

Eigen::VectorXd kernel_contract_gradient(const Inputs& x, const Eigen::VectorXd& theta, const Eigen::MatrixXd& w) {
  Eigen::MatrixXd k, radial;
  kernel_train_with_radial(x, theta, k, radial);
  Eigen::MatrixXd wc = w;
  return kernel_contract_gradient_in_place(x, theta, wc, k, radial);
}

// With P = W∘K (noise-free K) and R = W∘radial, all sums over pairs become matrix products:
//  ∂/∂log ℓ_d (numeric): ½ Σ_ij R_ij δ_ijd²/ℓ_d² = Σ_i (R1)_i u_id² − u_dᵀ R u_d      (u = x/ℓ)
//  ∂/∂log ℓ_d (categorical): ½ Σ_ij P_ij [c_id ≠ c_jd]/ℓ_d = ½ (ΣP − Σ_levels e_lᵀ P e_l)/ℓ_d
//  ∂/∂log ℓ_act: ½ Σ_ij P_ij m_ij/ℓ_act = (Σ_i (P1)_i |α_i| − Σ_v α_vᵀ P α_v)/ℓ_act
//  ∂/∂log σ_f²: ½ ΣP;   ∂/∂log σ_n²: ½ tr(W) σ_n².
// P overwrites the upper triangle of w and R the lower triangle of radial (in place, no n × n buffers), each
// used through a symmetric product; a column of ones appended to u and to the indicators gives R1 and P1
// from the same products.
Eigen::VectorXd kernel_contract_gradient_in_place(const Inputs& x, const Eigen::VectorXd& theta, Eigen::MatrixXd& w,
                                                  const Eigen::MatrixXd& k_upper, Eigen::MatrixXd& radial_lower) {
  const KernelLayout l = layout_of(x);
  check_theta(l, theta);
  const Eigen::Index n = x.size();
  const int dn = l.num_numeric, dc = l.num_categorical;
  SPARSE_CHECK(w.rows() == n && w.cols() == n, "gradient weight matrix is " << w.rows() << "×" << w.cols()
                                                                           << ", expected " << n << "×" << n);
  SPARSE_CHECK(k_upper.rows() == n && k_upper.cols() == n && radial_lower.rows() == n && radial_lower.cols() == n,
               "kernel parts are " << k_upper.rows() << "×" << k_upper.cols() << " and " << radial_lower.rows() << "×"
                                   << radial_lower.cols() << ", expected " << n << "×" << n);
  const Hyper hp = hyper_of(l, theta);
  Eigen::VectorXd g = Eigen::VectorXd::Zero(l.size());
  g[l.noise()] = 0.5 * w.diagonal().sum() * std::exp(theta[l.noise()]);
  Eigen::MatrixXd& p = w;             // P in the upper triangle (W's lower one is read for R first)
  Eigen::MatrixXd& r = radial_lower;  // R in the lower triangle
  for (Eigen::Index j = 0; j < n; ++j) {
    r.col(j).tail(n - j - 1).array() *= w.col(j).tail(n - j - 1).array();
    r(j, j) = 0.0;  // δ = 0 on the diagonal
    p.col(j).head(j).array() *= k_upper.col(j).head(j).array();
    p(j, j) *= hp.sf2;
  }
  double sum_p = 0.0;
  {
    const MismatchColumns cols = mismatch_columns(x, x);
    Eigen::MatrixXd h;
    Eigen::VectorXd t;  // unused
    mismatch_design(x, cols, Eigen::VectorXd::Ones(dc), 1.0, hp.inv_lc, hp.inv_lact, h, t);
    const Eigen::Index width = h.cols();
    h.conservativeResize(n, width + 1);
    h.col(width).setOnes();
    Eigen::MatrixXd ph(n, width + 1);  // P [h | 1]
    dense::symmetric_product(1.0, cmat(p), true, cmat(h), mat(ph));
    const Eigen::VectorXd ps = ph.col(width);
    sum_p = ps.sum();
    const Eigen::VectorXd same = (h.leftCols(width).array() * ph.leftCols(width).array()).colwise().sum().transpose();
    for (int d = 0; d < dc; ++d) {
      const Eigen::Index o = cols.offset[static_cast<size_t>(d)], len = cols.offset[static_cast<size_t>(d) + 1] - o;
      g[dn + d] = 0.5 * (sum_p - same.segment(o, len).sum()) * hp.inv_lc[d];
    }
    if (!cols.activity.empty()) {
      const Eigen::Index base = cols.offset.back(), nv = static_cast<Eigen::Index>(cols.activity.size());
      const Eigen::VectorXd bits = h.middleCols(base, nv).rowwise().sum();  // |α_i| over varying columns
      g[l.act()] = (ps.dot(bits) - same.segment(base, nv).sum()) * hp.inv_lact;
    }
  }
  g[l.signal()] = 0.5 * sum_p;
  if (dn > 0) {
    Eigen::MatrixXd u(n, dn + 1);
    u.leftCols(dn) = x.numeric.array().rowwise() * hp.inv_l.transpose();
    u.col(dn).setOnes();
    Eigen::MatrixXd ru(n, dn + 1);  // R [u | 1]
    dense::symmetric_product(1.0, cmat(r), false, cmat(u), mat(ru));
    g.head(dn) = u.leftCols(dn).cwiseAbs2().transpose() * ru.col(dn) -
                 (u.leftCols(dn).array() * ru.leftCols(dn).array()).colwise().sum().transpose().matrix();
  }
  return g;
}

}  // namespace sparse::gp
