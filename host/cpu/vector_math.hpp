// SIMD float kernels of the CPU backend for the per-weight math of SpVD and BC (REFERENCE.md §3-4): σ² = exp(log σ²),
// clipped log α, the approximate KL and its gradient, the BC weight KL. Eigen's vectorized exp/log instead of libm.
// Invariants: the formulas of host/cpu/ref_ops.hpp, evaluated in float (the reference uses double where it says
// so: results agree to float rounding, ~1e-7 relative); KL sums accumulate in double; the gradient is exactly
// zero where the log α clip is active; every function handles any count and unaligned pointers.
#pragma once
#include <cstdint>

namespace sparse::cpu {

void exp_floats(const float* x, int64_t count, float* y);                                  // y = exp(x)
void log_alpha_floats(const float* theta, const float* log_sigma2, int64_t count, float* la);  // clipped log α
double spvd_kl_sum(const float* theta, const float* log_sigma2, int64_t count);              // Σ KL terms
// dtheta (+)= scale·∂kl/∂θ, dlog_sigma2 (+)= scale·∂kl/∂log σ² (zero where clipped).
void spvd_kl_grad(const float* theta, const float* log_sigma2, int64_t count, float scale, float* dtheta,
                  float* dlog_sigma2, bool accumulate);
double bc_weight_kl_sum(const float* mu, const float* log_sigma2, int64_t count);  // Σ −0.5·ls + 0.5·(e^ls + μ²) − 0.5
// dmu (+)= scale·μ, dlog_sigma2 (+)= scale·0.5·(e^ls − 1).
void bc_weight_kl_grad(const float* mu, const float* log_sigma2, int64_t count, float scale, float* dmu,
                       float* dlog_sigma2, bool accumulate);

}  // namespace sparse::cpu
