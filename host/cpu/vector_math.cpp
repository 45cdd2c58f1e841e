// SIMD float kernels for SpVD/BC per-weight math (vector_math.hpp) as Eigen array expressions over batches.
// Invariants: formulas of ref_ops.hpp (kl_term, kl_term_dla, bc_weight_kl_term) in float; sums in double.
#include "host/cpu/eigen.hpp"  // first: Eigen in the backend's private namespace

#include <algorithm>

#include "host/cpu/ref_ops.hpp"
#include "host/cpu/vector_math.hpp"

namespace sparse::cpu {
namespace {

constexpr int64_t kBatch = 1024;
using Array = Eigen::ArrayXf;
using In = Eigen::Map<const Array>;
using Out = Eigen::Map<Array>;
// Temporaries of at most kBatch floats on the stack: no heap allocation per call.
using Batch = Eigen::Array<float, Eigen::Dynamic, 1, Eigen::ColMajor, kBatch, 1>;
constexpr float kK1 = float(ref::kKlK1), kK2 = float(ref::kKlK2), kK3 = float(ref::kKlK3);
constexpr float kLaMin = float(ref::kLogAlphaMin), kLaMax = float(ref::kLogAlphaMax);

// Unclipped log α = log σ² − log(θ² + 1e-8).
template <class A, class B>
auto log_alpha_raw(const A& theta, const B& ls) {
  return ls - (theta.square() + 1e-8f).log();
}

template <class Dst, class Src>
void store(Dst&& dst, const Src& v, bool accumulate) {
  if (accumulate) dst += v;
  else dst = v;
}

}  // namespace

void exp_floats(const float* x, int64_t count, float* y) { Out(y, count) = In(x, count).exp(); }

void log_alpha_floats(const float* theta, const float* log_sigma2, int64_t count, float* la) {
  Out(la, count) = log_alpha_raw(In(theta, count), In(log_sigma2, count)).max(kLaMin).min(kLaMax);
}

// KL term −(k1·sigmoid(k2 + k3·la) − 0.5·log1p(exp(−la)) − k1) (REFERENCE.md §3).
double spvd_kl_sum(const float* theta, const float* log_sigma2, int64_t count) {
  double total = 0.0;
  Batch la(kBatch), term(kBatch);
  for (int64_t b = 0; b < count; b += kBatch) {
    const int64_t m = std::min(kBatch, count - b);
    auto l = la.head(m);
    l = log_alpha_raw(In(theta + b, m), In(log_sigma2 + b, m)).max(kLaMin).min(kLaMax);
    // −(k1·s − 0.5·log1p(e^−la) − k1) = k1·(1 − s) + 0.5·log1p(e^−la), with 1 − s = 1/(1 + e^(k2 + k3·la))
    // computed directly (no cancellation when s ≈ 1).
    term.head(m) = kK1 * ((kK2 + kK3 * l).exp() + 1.0f).inverse() + 0.5f * (-l).exp().log1p();
    total += term.head(m).cast<double>().sum();
  }
  return total;
}

// ∂term/∂la = −(k1·k3·s·(1 − s) + 0.5 / (1 + exp(la))); ∂la/∂log σ² = 1, ∂la/∂θ = −2θ/(θ² + 1e-8).
void spvd_kl_grad(const float* theta, const float* log_sigma2, int64_t count, float scale, float* dtheta,
                  float* dlog_sigma2, bool accumulate) {
  for (int64_t b = 0; b < count; b += kBatch) {
    const int64_t m = std::min(kBatch, count - b);
    const In th(theta + b, m), ls(log_sigma2 + b, m);
    const Batch raw = log_alpha_raw(th, ls);
    const Batch u = kK2 + kK3 * raw;
    const Batch sig = ((-u).exp() + 1.0f).inverse(), one_minus_sig = (u.exp() + 1.0f).inverse();
    const Batch g = -(kK1 * kK3 * sig * one_minus_sig + 0.5f * (raw.exp() + 1.0f).inverse());
    const Batch gs = (raw < kLaMin || raw > kLaMax).select(Batch::Zero(m), scale * g);
    store(Out(dlog_sigma2 + b, m), gs, accumulate);
    store(Out(dtheta + b, m), gs * (-2.0f * th / (th.square() + 1e-8f)), accumulate);
  }
}

double bc_weight_kl_sum(const float* mu, const float* log_sigma2, int64_t count) {
  double total = 0.0;
  Batch term(kBatch);
  for (int64_t b = 0; b < count; b += kBatch) {
    const int64_t m = std::min(kBatch, count - b);
    const In mw(mu + b, m), ls(log_sigma2 + b, m);
    term.head(m) = -0.5f * ls + 0.5f * (ls.exp() + mw.square()) - 0.5f;
    total += term.head(m).cast<double>().sum();
  }
  return total;
}

void bc_weight_kl_grad(const float* mu, const float* log_sigma2, int64_t count, float scale, float* dmu,
                       float* dlog_sigma2, bool accumulate) {
  store(Out(dmu, count), scale * In(mu, count), accumulate);
  store(Out(dlog_sigma2, count), (0.5f * scale) * (In(log_sigma2, count).exp() - 1.0f), accumulate);
}

}  // namespace sparse::cpu
