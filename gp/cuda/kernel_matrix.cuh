// Device kernels of the GPU Thompson sampler (gp/cuda): the mixed-variable covariance of gp/kernel.hpp between
// two point sets, and the triangle bookkeeping of the jittered Cholesky (gp/cholesky.hpp) on device matrices.
// Invariants: matrices are column-major doubles, element (i, j) at a[i + j·ld]; points are row-major (point p's
// dimension d at numeric[p·dn + d]); every launcher only enqueues work on `stream` (no synchronization).
// CPU references, same formulas: kernel_cross / kernel_lower (gp/kernel.cpp) for kernel_matrix, and
// cholesky_in_place (gp/cholesky.cpp) for the restore of A between jitter tries.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

namespace sparse::gp::cuda {

// A point set on the device (gp/point.hpp's Inputs, row-major): numeric n × dn (inactive values imputed to 0),
// active n × dn (0/1), categorical n × dc (level, −1 = inactive).
struct DevicePoints {
  const double* numeric = nullptr;  // n × dn
  const int* active = nullptr;      // n × dn
  const int* categorical = nullptr; // n × dc
  int size = 0;
};

// One objective's kernel hyper-parameters, decoded from θ (gp/kernel.hpp layout): 1/ℓ_d on the device, the
// scalars by value.
struct DeviceHyper {
  const double* inv_l = nullptr;   // dn: 1/ℓ_d, numeric
  const double* inv_lc = nullptr;  // dc: 1/ℓ_d, categorical
  double inv_lact = 0.0;           // 1/ℓ_act
  double sf2 = 0.0;                // σ_f²
  int dn = 0, dc = 0;
};

// out (a.size × b.size, leading dimension ld) ← k(a_i, b_j) = σ_f² (1 + √5 r + 5r²/3) exp(−√5 r − m) with
// r² = Σ_d ((a_id − b_jd)/ℓ_d)² and m = Σ_d [c_id ≠ c_jd]/ℓ_d + #{d : act_id ≠ act_jd}/ℓ_act (REFERENCE §7,
// gp/kernel.hpp). lower_only: only tiles touching the lower triangle are written (a == b, Σ* = K** − VᵀV reads
// its lower triangle); entries above the diagonal inside those tiles are written too.
void kernel_matrix(DevicePoints a, DevicePoints b, DeviceHyper h, double* out, size_t ld, bool lower_only,
                   cudaStream_t stream);

// a (n × n) diagonal += value.
void add_to_diagonal(double* a, size_t ld, int n, double value, cudaStream_t stream);

// The strict upper triangle of a (n × n) ← the transpose of its strict lower triangle: a symmetric matrix
// formed in the lower triangle becomes full, the upper triangle the copy that survives a potrf(lower).
void mirror_lower_to_upper(double* a, size_t ld, int n, cudaStream_t stream);

// Restores A + jitter·I after a failed potrf(lower): strict lower triangle ← transpose of the untouched strict
// upper one, diagonal ← diag + jitter (cholesky_in_place's restore, gp/cholesky.cpp).
void restore_lower_from_upper(double* a, size_t ld, int n, const double* diag, double jitter, cudaStream_t stream);

// d (n) ← the diagonal of a.
void copy_diagonal(const double* a, size_t ld, int n, double* d, cudaStream_t stream);

}  // namespace sparse::gp::cuda
