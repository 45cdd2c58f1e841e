// Dense kernels of the GP for the build machine's instruction set (see dense.hpp).
// Eigen in a private namespace: this file includes Eigen only here, first, renamed.
#if defined(EIGEN_CORE_H) || defined(EIGEN_WORLD_VERSION)
#error "gp/dense.cpp must include Eigen first and only through its own renaming"
#endif
#define Eigen sparse_gp_dense_eigen
#define EIGEN_DONT_PARALLELIZE
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Cholesky>
#include <Eigen/Core>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <cmath>

#include "gp/dense.hpp"

namespace sparse::gp::dense {
namespace {

using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;
using MapM = Eigen::Map<Matrix, Eigen::Unaligned, Eigen::OuterStride<>>;
using MapC = Eigen::Map<const Matrix, Eigen::Unaligned, Eigen::OuterStride<>>;

MapM map(Mat m) { return MapM(m.p, m.rows, m.cols, Eigen::OuterStride<>(m.ld)); }
MapC map(CMat m) { return MapC(m.p, m.rows, m.cols, Eigen::OuterStride<>(m.ld)); }
Mat block(Mat m, Index i, Index j, Index r, Index c) { return Mat{m.p + i + j * m.ld, r, c, m.ld}; }

constexpr Index kBlock = 64;  // below this, Eigen's unblocked paths

}  // namespace

bool cholesky_lower(Mat a) {
  MapM m = map(a);
  Eigen::LLT<Eigen::Ref<Matrix, 0, Eigen::OuterStride<>>> llt(m);
  if (llt.info() != Eigen::Success) return false;
  for (Index j = 0; j < a.cols; ++j) {
    if (!(m(j, j) > 0.0) || !std::isfinite(m(j, j))) return false;
    if (!m.col(j).tail(a.rows - j).allFinite()) return false;
  }
  return true;
}

// L = [A 0; B C] → L⁻¹ = [A⁻¹ 0; −C⁻¹ B A⁻¹ C⁻¹].
void triangular_inverse_lower(Mat a) {
  const Index n = a.rows;
  MapM m = map(a);
  if (n <= kBlock) {
    Matrix inv = Matrix::Identity(n, n);
    m.triangularView<Eigen::Lower>().solveInPlace(inv);
    m = inv.triangularView<Eigen::Lower>();
    return;
  }
  const Index h = (n / 2 + 7) / 8 * 8;
  triangular_inverse_lower(block(a, 0, 0, h, h));
  triangular_inverse_lower(block(a, h, h, n - h, n - h));
  auto b = m.bottomLeftCorner(n - h, h);
  const Matrix t = b * m.topLeftCorner(h, h).triangularView<Eigen::Lower>();
  b.noalias() = -(m.bottomRightCorner(n - h, n - h).triangularView<Eigen::Lower>() * t);
}

// M = [A 0; B C] → MᵀM = [AᵀA + BᵀB, ·; CᵀB, CᵀC].
void gram_of_lower(Mat a) {
  const Index n = a.rows;
  MapM m = map(a);
  if (n <= kBlock) {
    const Matrix l = m.triangularView<Eigen::Lower>();
    m.triangularView<Eigen::Lower>() = l.transpose() * l;
    return;
  }
  const Index h = (n / 2 + 7) / 8 * 8;
  gram_of_lower(block(a, 0, 0, h, h));
  auto b = m.bottomLeftCorner(n - h, h);
  m.topLeftCorner(h, h).selfadjointView<Eigen::Lower>().rankUpdate(b.transpose());
  const Matrix t = m.bottomRightCorner(n - h, n - h).triangularView<Eigen::Lower>().transpose() * b;
  b = t;
  gram_of_lower(block(a, h, h, n - h, n - h));
}

void solve_lower(CMat l, Mat b, bool transpose) {
  const MapC lm = map(l);
  MapM bm = map(b);
  if (transpose) lm.transpose().triangularView<Eigen::Upper>().solveInPlace(bm);
  else lm.triangularView<Eigen::Lower>().solveInPlace(bm);
}

void rank_update_lower(double alpha, CMat a, bool transpose, Mat c) {
  MapM cm = map(c);
  if (transpose) cm.selfadjointView<Eigen::Lower>().rankUpdate(map(a).transpose(), alpha);
  else cm.selfadjointView<Eigen::Lower>().rankUpdate(map(a), alpha);
}

void product(double alpha, CMat a, bool ta, CMat b, bool tb, double beta, Mat c) {
  MapM cm = map(c);
  if (beta == 0.0) cm.setZero();
  else if (beta != 1.0) cm *= beta;
  const MapC am = map(a), bm = map(b);
  if (!ta && !tb) cm.noalias() += alpha * am * bm;
  else if (!ta && tb) cm.noalias() += alpha * am * bm.transpose();
  else if (ta && !tb) cm.noalias() += alpha * am.transpose() * bm;
  else cm.noalias() += alpha * am.transpose() * bm.transpose();
}

void symmetric_product(double alpha, CMat a, bool upper, CMat b, Mat c) {
  MapM cm = map(c);
  if (upper) cm.noalias() = alpha * map(a).selfadjointView<Eigen::Upper>() * map(b);
  else cm.noalias() = alpha * map(a).selfadjointView<Eigen::Lower>() * map(b);
}

void lower_times(CMat l, CMat x, Mat c) { map(c).noalias() = map(l).triangularView<Eigen::Lower>() * map(x); }

void matern_segment(double* expo, const double* mism, const double* row_r2, double col_r2, const double* row_m,
                    double col_m, double* radial, Index len, double sf2) {
  constexpr double kSqrt5 = 2.23606797749978969640;
  constexpr Index kChunk = 256;  // temporaries on the stack, in L1
  using Chunk = Eigen::Array<double, Eigen::Dynamic, 1, 0, kChunk, 1>;
  for (Index s = 0; s < len; s += kChunk) {
    const Index c = std::min(kChunk, len - s);
    Eigen::Map<Eigen::ArrayXd> e(expo + s, c);
    Chunk r2 = e + col_r2, m = Eigen::Map<const Eigen::ArrayXd>(mism + s, c) + col_m;
    if (row_r2) r2 += Eigen::Map<const Eigen::ArrayXd>(row_r2 + s, c);
    if (row_m) m += Eigen::Map<const Eigen::ArrayXd>(row_m + s, c);
    r2 = r2.max(0.0);
    const Chunk r = r2.sqrt();
    const Chunk ex = sf2 * (-kSqrt5 * r - m.max(0.0)).exp();
    if (radial) Eigen::Map<Eigen::ArrayXd>(radial + s, c) = (5.0 / 3.0) * (1.0 + kSqrt5 * r) * ex;
    e = (1.0 + kSqrt5 * r + (5.0 / 3.0) * r2) * ex;
  }
}

}  // namespace sparse::gp::dense
