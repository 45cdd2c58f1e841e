// The GP's dense linear algebra and its elementwise Matérn pass, compiled for the build machine's instruction
// set (SPARSE_GP_ARCH, gp/CMakeLists.txt: AVX2 + FMA here, 2–2.5× the x86-64 baseline on GEMM-like work),
// with Eigen renamed into a private namespace inside dense.cpp as host/cpu does, so that these kernels share
// no inline or template symbol with the Eigen of the rest of gp/ (default ISA; an ODR clash would mix SSE and
// AVX packings or aligned_malloc with another aligned_free). Hence plain pointers here and no Eigen include.
// Matrices are column-major: element (i, j) at p[i + j·ld], ld ≥ rows. Single-threaded: the proposer
// parallelizes over objectives.
#pragma once
#include <cstddef>

namespace sparse::gp::dense {

using Index = std::ptrdiff_t;

struct Mat {  // a writable matrix or block
  double* p;
  Index rows, cols, ld;
};
struct CMat {  // a read-only one
  const double* p;
  Index rows, cols, ld;
  CMat(const double* p_, Index r, Index c, Index ld_) : p(p_), rows(r), cols(c), ld(ld_) {}
  CMat(Mat m) : p(m.p), rows(m.rows), cols(m.cols), ld(m.ld) {}  // NOLINT: a writable view reads too
};

// Lower Cholesky factor in place (A = L Lᵀ, A read from its lower triangle, the strict upper triangle is not
// touched); false when A is not numerically positive definite or a pivot is not finite and positive.
bool cholesky_lower(Mat a);
// Lower triangle of a (a lower triangular L, strict upper triangle zero) ← L⁻¹, blocked and recursive.
void triangular_inverse_lower(Mat a);
// Lower triangle of a (lower triangular M, strict upper triangle zero) ← MᵀM, blocked and recursive.
void gram_of_lower(Mat a);
// b ← L⁻¹ b (transpose = false) or L⁻ᵀ b (true), L the lower triangle of l.
void solve_lower(CMat l, Mat b, bool transpose);
// Lower triangle of c += alpha · A Aᵀ (transpose = false, A n × k) or alpha · Aᵀ A (true, A k × n).
void rank_update_lower(double alpha, CMat a, bool transpose, Mat c);
// c = alpha · op(a) op(b) + beta · c, op = transpose or not.
void product(double alpha, CMat a, bool ta, CMat b, bool tb, double beta, Mat c);
// c = alpha · A b, A symmetric and read from its upper (upper = true) or lower triangle of a.
void symmetric_product(double alpha, CMat a, bool upper, CMat b, Mat c);
// c = L x, L the lower triangle of l.
void lower_times(CMat l, CMat x, Mat c);

// One column segment of the kernel's elementwise pass, i < len: with r²_i = expo[i] + row_r2[i] + col_r2 and
// m_i = mism[i] + row_m[i] + col_m (a null row_* counts as 0; both clamped at 0), expo[i] becomes
// σ_f² (1 + √5 r + 5r²/3) exp(−√5 r − m) and radial[i], when radial is not null, σ_f² (5/3)(1 + √5 r)
// exp(−√5 r − m), the factor of ∂k/∂log ℓ_d = radial · δ_d²/ℓ_d².
void matern_segment(double* expo, const double* mism, const double* row_r2, double col_r2, const double* row_m,
                    double col_m, double* radial, Index len, double sf2);

}  // namespace sparse::gp::dense
