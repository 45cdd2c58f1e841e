// CPU reference of every backend op of host/core/op_list.hpp, as plain loops templated on the scalar: float to
// check the fast backends against, double for the finite-difference gradient checks (tests/backend_ops).
// Invariants: each function does literally what its argument struct's comment in host/core/op_args.hpp says,
// with the same name; it reads inputs and writes outputs only through the struct's pointers (host memory),
// allocates nothing, and is written for clarity and exactness, not speed. Sums are in double where the
// interface says so (loss, KL, batch statistics). ε of element e is philox_normal4(seed, offset, e/4)[e%4].
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "host/core/op_args.hpp"
#include "host/core/philox.hpp"

namespace sparse::ref {

// ε of element e of the noise stream (seed, offset) (op_args.hpp conventions).
inline float noise(uint64_t seed, uint64_t offset, uint64_t e) {
  float n[4];
  philox_normal4(seed, offset, e / 4, n);
  return n[e % 4];
}

// KL approximation constants of SpVD and BC (REFERENCE.md §3, Molchanov et al. 2017).
inline constexpr double kKlK1 = 0.63576, kKlK2 = 1.87320, kKlK3 = 1.48695;
// Clip range of log α (REFERENCE.md §3).
inline constexpr double kLogAlphaMin = -8.0, kLogAlphaMax = 8.0;

// dst = v, or dst += v when accumulating.
template <class T>
inline void store(T& dst, T v, bool accumulate) {
  dst = accumulate ? T(dst + v) : v;
}

// Unclipped log α = log σ² − log(θ² + 1e-8) (REFERENCE.md §3), in T.
template <class T>
inline T log_alpha_raw(T theta, T log_sigma2) {
  return log_sigma2 - std::log(theta * theta + T(1e-8));
}
template <class T>
inline T clip_log_alpha(T raw) {
  return std::min(std::max(raw, T(kLogAlphaMin)), T(kLogAlphaMax));
}
inline bool log_alpha_clipped(double raw) { return raw < kLogAlphaMin || raw > kLogAlphaMax; }

// One term of the approximate KL (REFERENCE.md §3): −(k1·sigmoid(k2 + k3·la) − 0.5·log1p(exp(−la)) − k1).
inline double kl_term(double la) {
  const double sig = 1.0 / (1.0 + std::exp(-(kKlK2 + kKlK3 * la)));
  return -(kKlK1 * sig - 0.5 * std::log1p(std::exp(-la)) - kKlK1);
}
// ∂kl_term/∂la = −(k1·k3·s·(1 − s) + 0.5·sigmoid(−la)), s = sigmoid(k2 + k3·la).
inline double kl_term_dla(double la) {
  const double sig = 1.0 / (1.0 + std::exp(-(kKlK2 + kKlK3 * la)));
  return -(kKlK1 * kKlK3 * sig * (1.0 - sig) + 0.5 / (1.0 + std::exp(la)));
}
// KL term of one weight of log-parameters (θ, log σ²) through the clipped log α.
template <class T>
inline double kl_term_of(T theta, T log_sigma2) {
  return kl_term(double(clip_log_alpha(log_alpha_raw(theta, log_sigma2))));
}
// Gradient of kl_term_of with respect to θ and log σ² (both zero where the clip is active).
template <class T>
inline void kl_term_grad(T theta, T log_sigma2, double* dtheta, double* dlog_sigma2) {
  const T raw = log_alpha_raw(theta, log_sigma2);
  if (log_alpha_clipped(double(raw))) {
    *dtheta = 0.0;
    *dlog_sigma2 = 0.0;
    return;
  }
  const double g = kl_term_dla(double(raw));
  const double th = double(theta);
  *dlog_sigma2 = g;                                // ∂la/∂log σ² = 1
  *dtheta = g * (-2.0 * th / (th * th + 1e-8));    // ∂la/∂θ = −2θ/(θ² + 1e-8)
}

// Group term of the BC KL (REFERENCE.md §4) through the *unclipped* group log α: the init log σ²_z ≈ −9 lies
// below the −8 clip, so a clipped log α would have no gradient and no group could ever be pruned (Louizos et
// al.'s code does not clip it either). The clip is for the SpVD per-weight term and the pruning decision only.
template <class T>
inline double group_kl_term_of(T mu_z, T log_sigma2_z) {
  return kl_term(double(log_alpha_raw(mu_z, log_sigma2_z)));
}
template <class T>
inline void group_kl_term_grad(T mu_z, T log_sigma2_z, double* dmu_z, double* dlog_sigma2_z) {
  const double g = kl_term_dla(double(log_alpha_raw(mu_z, log_sigma2_z)));
  const double m = double(mu_z);
  *dlog_sigma2_z = g;
  *dmu_z = g * (-2.0 * m / (m * m + 1e-8));
}

// ---- convolution (NHWC, HWIO weights, groups) ------------------------------------------------------------

template <class T>
void conv2d_forward(const Conv2dForwardArgsT<T>& a) {
  const ConvShape& s = a.s;
  const int cig = s.c_in / s.groups, cog = s.c_out / s.groups;
  for (int n = 0; n < s.n; ++n)
    for (int oy = 0; oy < s.oh; ++oy)
      for (int ox = 0; ox < s.ow; ++ox)
        for (int co = 0; co < s.c_out; ++co) {
          const int g = co / cog;
          T acc = a.bias ? a.bias[co] : T(0);
          for (int ky = 0; ky < s.kh; ++ky) {
            const int iy = oy * s.stride - s.pad_top + ky;
            if (iy < 0 || iy >= s.h) continue;
            for (int kx = 0; kx < s.kw; ++kx) {
              const int ix = ox * s.stride - s.pad_left + kx;
              if (ix < 0 || ix >= s.w) continue;
              const T* xp = a.x + ((int64_t(n) * s.h + iy) * s.w + ix) * s.c_in + int64_t(g) * cig;
              const T* wp = a.w + (int64_t(ky) * s.kw + kx) * cig * s.c_out + co;
              for (int ci = 0; ci < cig; ++ci) acc += xp[ci] * wp[int64_t(ci) * s.c_out];
            }
          }
          a.y[((int64_t(n) * s.oh + oy) * s.ow + ox) * s.c_out + co] = acc;
        }
}

// dx[n, iy, ix, g·cig + ci] (+)= Σ over (oy, ox, ky, kx) reaching (iy, ix) and co of group g of dy·w.
template <class T>
void conv2d_backward_data(const Conv2dBackwardDataArgsT<T>& a) {
  const ConvShape& s = a.s;
  const int cig = s.c_in / s.groups, cog = s.c_out / s.groups;
  if (!a.accumulate) std::fill(a.dx, a.dx + s.x_count(), T(0));
  for (int n = 0; n < s.n; ++n)
    for (int oy = 0; oy < s.oh; ++oy)
      for (int ox = 0; ox < s.ow; ++ox)
        for (int ky = 0; ky < s.kh; ++ky) {
          const int iy = oy * s.stride - s.pad_top + ky;
          if (iy < 0 || iy >= s.h) continue;
          for (int kx = 0; kx < s.kw; ++kx) {
            const int ix = ox * s.stride - s.pad_left + kx;
            if (ix < 0 || ix >= s.w) continue;
            const T* dyp = a.dy + ((int64_t(n) * s.oh + oy) * s.ow + ox) * s.c_out;
            T* dxp = a.dx + ((int64_t(n) * s.h + iy) * s.w + ix) * s.c_in;
            for (int co = 0; co < s.c_out; ++co) {
              const int g = co / cog;
              const T* wp = a.w + (int64_t(ky) * s.kw + kx) * cig * s.c_out + co;
              for (int ci = 0; ci < cig; ++ci) dxp[g * cig + ci] += dyp[co] * wp[int64_t(ci) * s.c_out];
            }
          }
        }
}

// dw[ky, kx, ci, co] (+)= Σ_{n, oy, ox} x[n, iy, ix, g·cig + ci]·dy[n, oy, ox, co]; dbias (+)= Σ dy.
template <class T>
void conv2d_backward_filter(const Conv2dBackwardFilterArgsT<T>& a) {
  const ConvShape& s = a.s;
  const int cig = s.c_in / s.groups, cog = s.c_out / s.groups;
  for (int ky = 0; ky < s.kh; ++ky)
    for (int kx = 0; kx < s.kw; ++kx)
      for (int ci = 0; ci < cig; ++ci)
        for (int co = 0; co < s.c_out; ++co) {
          const int g = co / cog;
          T acc = T(0);
          for (int n = 0; n < s.n; ++n)
            for (int oy = 0; oy < s.oh; ++oy) {
              const int iy = oy * s.stride - s.pad_top + ky;
              if (iy < 0 || iy >= s.h) continue;
              for (int ox = 0; ox < s.ow; ++ox) {
                const int ix = ox * s.stride - s.pad_left + kx;
                if (ix < 0 || ix >= s.w) continue;
                acc += a.x[((int64_t(n) * s.h + iy) * s.w + ix) * s.c_in + g * cig + ci] *
                       a.dy[((int64_t(n) * s.oh + oy) * s.ow + ox) * s.c_out + co];
              }
            }
          store(a.dw[((int64_t(ky) * s.kw + kx) * cig + ci) * s.c_out + co], acc, a.accumulate);
        }
  if (a.dbias) {
    for (int co = 0; co < s.c_out; ++co) {
      T acc = T(0);
      for (int64_t p = 0; p < int64_t(s.n) * s.oh * s.ow; ++p) acc += a.dy[p * s.c_out + co];
      store(a.dbias[co], acc, a.accumulate);
    }
  }
}

// ---- linear ----------------------------------------------------------------------------------------------

template <class T>
void linear_forward(const LinearForwardArgsT<T>& a) {
  for (int i = 0; i < a.n; ++i)
    for (int o = 0; o < a.out; ++o) {
      T acc = a.bias ? a.bias[o] : T(0);
      for (int k = 0; k < a.in; ++k) acc += a.x[int64_t(i) * a.in + k] * a.w[int64_t(k) * a.out + o];
      a.y[int64_t(i) * a.out + o] = acc;
    }
}

template <class T>
void linear_backward_data(const LinearBackwardDataArgsT<T>& a) {
  for (int i = 0; i < a.n; ++i)
    for (int k = 0; k < a.in; ++k) {
      T acc = T(0);
      for (int o = 0; o < a.out; ++o) acc += a.dy[int64_t(i) * a.out + o] * a.w[int64_t(k) * a.out + o];
      store(a.dx[int64_t(i) * a.in + k], acc, a.accumulate);
    }
}

template <class T>
void linear_backward_weight(const LinearBackwardWeightArgsT<T>& a) {
  for (int k = 0; k < a.in; ++k)
    for (int o = 0; o < a.out; ++o) {
      T acc = T(0);
      for (int i = 0; i < a.n; ++i) acc += a.x[int64_t(i) * a.in + k] * a.dy[int64_t(i) * a.out + o];
      store(a.dw[int64_t(k) * a.out + o], acc, a.accumulate);
    }
  if (a.dbias) {
    for (int o = 0; o < a.out; ++o) {
      T acc = T(0);
      for (int i = 0; i < a.n; ++i) acc += a.dy[int64_t(i) * a.out + o];
      store(a.dbias[o], acc, a.accumulate);
    }
  }
}

// ---- pooling ---------------------------------------------------------------------------------------------

template <class T>
void max_pool_forward(const MaxPoolForwardArgsT<T>& a) {
  for (int n = 0; n < a.n; ++n)
    for (int oy = 0; oy < a.oh; ++oy)
      for (int ox = 0; ox < a.ow; ++ox)
        for (int c = 0; c < a.c; ++c) {
          int64_t best_i = -1;
          T best = T(0);
          for (int ky = 0; ky < a.k; ++ky)
            for (int kx = 0; kx < a.k; ++kx) {
              const int64_t i = ((int64_t(n) * a.h + oy * a.stride + ky) * a.w + ox * a.stride + kx) * a.c + c;
              if (best_i < 0 || a.x[i] > best) {  // strictly greater: the first maximum wins ties
                best = a.x[i];
                best_i = i;
              }
            }
          const int64_t o = ((int64_t(n) * a.oh + oy) * a.ow + ox) * a.c + c;
          a.y[o] = best;
          if (a.argmax) a.argmax[o] = static_cast<int32_t>(best_i);
        }
}

template <class T>
void max_pool_backward(const MaxPoolBackwardArgsT<T>& a) {
  if (!a.accumulate) std::fill(a.dx, a.dx + int64_t(a.n) * a.h * a.w * a.c, T(0));
  const int64_t count = int64_t(a.n) * a.oh * a.ow * a.c;
  for (int64_t o = 0; o < count; ++o) a.dx[a.argmax[o]] += a.dy[o];
}

template <class T>
void channel_max_forward(const ChannelMaxForwardArgsT<T>& a) {
  const int64_t rows = int64_t(a.n) * a.h * a.w;
  for (int64_t p = 0; p < rows; ++p) {
    T best = a.x[p * a.c];
    for (int c = 1; c < a.c; ++c) best = std::max(best, a.x[p * a.c + c]);
    a.y[p] = best;
  }
}

// ---- batch norm ------------------------------------------------------------------------------------------

template <class T>
void batch_norm_forward(const BatchNormForwardArgsT<T>& a) {
  for (int c = 0; c < a.c; ++c) {
    if (!a.training) {
      const double invstd = 1.0 / std::sqrt(double(a.running_var[c]) + double(a.eps));
      for (int64_t r = 0; r < a.rows; ++r) {
        const int64_t i = r * a.c + c;
        a.y[i] = T((double(a.x[i]) - double(a.running_mean[c])) * invstd * double(a.gamma[c]) + double(a.beta[c]));
      }
      continue;
    }
    double sum = 0.0;
    for (int64_t r = 0; r < a.rows; ++r) sum += double(a.x[r * a.c + c]);
    const double mean = sum / double(a.rows);
    double sq = 0.0;
    for (int64_t r = 0; r < a.rows; ++r) {
      const double d = double(a.x[r * a.c + c]) - mean;
      sq += d * d;
    }
    const double var = sq / double(a.rows);  // biased: the normalization uses the batch variance
    const double invstd = 1.0 / std::sqrt(var + double(a.eps));
    for (int64_t r = 0; r < a.rows; ++r) {
      const int64_t i = r * a.c + c;
      a.y[i] = T((double(a.x[i]) - mean) * invstd * double(a.gamma[c]) + double(a.beta[c]));
    }
    const double unbiased = a.rows > 1 ? var * double(a.rows) / double(a.rows - 1) : var;
    const double m = double(a.momentum);
    a.save_mean[c] = T(mean);
    a.save_invstd[c] = T(invstd);
    a.running_mean[c] = T((1.0 - m) * double(a.running_mean[c]) + m * mean);
    a.running_var[c] = T((1.0 - m) * double(a.running_var[c]) + m * unbiased);
  }
}

// x̂ = (x − mean)·invstd; dβ = Σ dy; dγ = Σ dy·x̂; dx = γ·invstd·(dy − dβ/rows − x̂·dγ/rows).
template <class T>
void batch_norm_backward(const BatchNormBackwardArgsT<T>& a) {
  for (int c = 0; c < a.c; ++c) {
    const double mean = double(a.save_mean[c]), invstd = double(a.save_invstd[c]);
    double dbeta = 0.0, dgamma = 0.0;
    for (int64_t r = 0; r < a.rows; ++r) {
      const int64_t i = r * a.c + c;
      dbeta += double(a.dy[i]);
      dgamma += double(a.dy[i]) * (double(a.x[i]) - mean) * invstd;
    }
    const double k = double(a.gamma[c]) * invstd, rows = double(a.rows);
    for (int64_t r = 0; r < a.rows; ++r) {
      const int64_t i = r * a.c + c;
      const double xhat = (double(a.x[i]) - mean) * invstd;
      store(a.dx[i], T(k * (double(a.dy[i]) - dbeta / rows - xhat * dgamma / rows)), a.accumulate);
    }
    a.dgamma[c] = T(dgamma);
    a.dbeta[c] = T(dbeta);
  }
}

// ---- elementwise -----------------------------------------------------------------------------------------

template <class T>
void relu_forward(const ReluForwardArgsT<T>& a) {
  for (int64_t i = 0; i < a.count; ++i) a.y[i] = a.x[i] > T(0) ? a.x[i] : T(0);
}

template <class T>
void relu_backward(const ReluBackwardArgsT<T>& a) {
  for (int64_t i = 0; i < a.count; ++i) store(a.dx[i], a.y[i] > T(0) ? a.dy[i] : T(0), a.accumulate);
}

template <class T>
void add_forward(const AddForwardArgsT<T>& a) {
  for (int n = 0; n < a.n; ++n)
    for (int y = 0; y < a.oh; ++y)
      for (int x = 0; x < a.ow; ++x)
        for (int c = 0; c < a.c; ++c) {
          const int64_t o = ((int64_t(n) * a.oh + y) * a.ow + x) * a.c + c;
          const int64_t b = ((int64_t(n) * a.bh + y + a.off_h) * a.bw + x + a.off_w) * a.c + c;
          a.y[o] = a.a[o] + a.b[b];
        }
}

template <class T>
void add_backward(const AddBackwardArgsT<T>& a) {
  const int64_t count = int64_t(a.n) * a.oh * a.ow * a.c;
  if (a.da)
    for (int64_t i = 0; i < count; ++i) store(a.da[i], a.dy[i], a.accumulate);
  if (!a.db) return;
  if (!a.accumulate) std::fill(a.db, a.db + int64_t(a.n) * a.bh * a.bw * a.c, T(0));
  for (int n = 0; n < a.n; ++n)
    for (int y = 0; y < a.oh; ++y)
      for (int x = 0; x < a.ow; ++x)
        for (int c = 0; c < a.c; ++c) {
          const int64_t o = ((int64_t(n) * a.oh + y) * a.ow + x) * a.c + c;
          const int64_t b = ((int64_t(n) * a.bh + y + a.off_h) * a.bw + x + a.off_w) * a.c + c;
          a.db[b] += a.dy[o];
        }
}

template <class T>
void concat_forward(const ConcatForwardArgsT<T>& a) {
  for (int64_t p = 0; p < a.rows; ++p)
    for (int j = 0; j < a.c_part; ++j) a.y[p * a.c_total + a.c_offset + j] = a.x[p * a.c_part + j];
}

template <class T>
void concat_backward(const ConcatBackwardArgsT<T>& a) {
  for (int64_t p = 0; p < a.rows; ++p)
    for (int j = 0; j < a.c_part; ++j) store(a.dx[p * a.c_part + j], a.dy[p * a.c_total + a.c_offset + j], a.accumulate);
}

// loss = (1/n)·Σ_i (logsumexp(z_i) − z_i[label_i]) in double; dlogits = (softmax − onehot)·scale/n.
template <class T>
void softmax_cross_entropy(const SoftmaxCrossEntropyArgsT<T>& a) {
  double total = 0.0;
  int32_t correct = 0;
  for (int i = 0; i < a.n; ++i) {
    const T* z = a.logits + int64_t(i) * a.classes;
    const int label = a.labels[i];
    int arg = 0;
    for (int j = 1; j < a.classes; ++j)
      if (z[j] > z[arg]) arg = j;  // first maximum on ties
    if (arg == label) ++correct;
    const double mx = double(z[arg]);
    double se = 0.0;
    for (int j = 0; j < a.classes; ++j) se += std::exp(double(z[j]) - mx);
    const double lse = mx + std::log(se);
    total += lse - double(z[label]);
    if (a.dlogits) {
      const double k = double(a.scale) / double(a.n);
      for (int j = 0; j < a.classes; ++j) {
        const double p = std::exp(double(z[j]) - lse);
        a.dlogits[int64_t(i) * a.classes + j] = T((p - (j == label ? 1.0 : 0.0)) * k);
      }
    }
  }
  *a.loss = T(total / double(a.n));
  if (a.correct) *a.correct = correct;
}

template <class T>
void square_forward(const SquareForwardArgsT<T>& a) {
  for (int64_t i = 0; i < a.count; ++i) a.y[i] = a.x[i] * a.x[i];
}

template <class T>
void square_backward(const SquareBackwardArgsT<T>& a) {
  for (int64_t i = 0; i < a.count; ++i) store(a.dx[i], T(2) * a.x[i] * a.dy[i], a.accumulate);
}

template <class T>
void spvd_variance_forward(const SpvdVarianceForwardArgsT<T>& a) {
  for (int64_t i = 0; i < a.count; ++i) a.sigma2[i] = std::exp(a.log_sigma2[i]);
}

template <class T>
void spvd_variance_backward(const SpvdVarianceBackwardArgsT<T>& a) {
  for (int64_t i = 0; i < a.count; ++i) store(a.dlog_sigma2[i], a.dsigma2[i] * a.sigma2[i], a.accumulate);
}

// ---- SpVD (REFERENCE.md §3) ------------------------------------------------------------------------------

// y = μ + sqrt(v + 1e-8)·ε.
template <class T>
void lrt_sample_forward(const LrtSampleForwardArgsT<T>& a) {
  for (int64_t e = 0; e < a.count; ++e) {
    const T eps = T(noise(a.seed, a.offset, uint64_t(e)));
    a.y[e] = a.mu[e] + std::sqrt(a.var[e] + T(1e-8)) * eps;
  }
}

// dμ (+)= dy; dv (+)= dy·ε / (2·sqrt(v + 1e-8)).
template <class T>
void lrt_sample_backward(const LrtSampleBackwardArgsT<T>& a) {
  for (int64_t e = 0; e < a.count; ++e) {
    if (a.dmu) store(a.dmu[e], a.dy[e], a.accumulate);
    if (a.mu && a.y) {
      store(a.dvar[e], a.dy[e] * (a.y[e] - a.mu[e]) / (T(2) * (a.var[e] + T(1e-8))), a.accumulate);
      continue;
    }
    const T eps = T(noise(a.seed, a.offset, uint64_t(e)));
    store(a.dvar[e], a.dy[e] * eps / (T(2) * std::sqrt(a.var[e] + T(1e-8))), a.accumulate);
  }
}

template <class T>
void log_alpha(const LogAlphaArgsT<T>& a) {
  for (int64_t i = 0; i < a.count; ++i) a.log_alpha[i] = clip_log_alpha(log_alpha_raw(a.theta[i], a.log_sigma2[i]));
}

template <class T>
void spvd_kl_forward(const SpvdKlForwardArgsT<T>& a) {
  double kl = 0.0;
  for (int64_t i = 0; i < a.count; ++i) kl += kl_term_of(a.theta[i], a.log_sigma2[i]);
  *a.kl = T(kl);
}

template <class T>
void spvd_kl_backward(const SpvdKlBackwardArgsT<T>& a) {
  for (int64_t i = 0; i < a.count; ++i) {
    double dth, dls;
    kl_term_grad(a.theta[i], a.log_sigma2[i], &dth, &dls);
    store(a.dtheta[i], T(double(a.scale) * dth), a.accumulate);
    store(a.dlog_sigma2[i], T(double(a.scale) * dls), a.accumulate);
  }
}

// ---- Bayesian Compression (REFERENCE.md §4) --------------------------------------------------------------

// z[i, g] = μ_z[g] + exp(0.5·log σ²_z[g])·ε[i·groups + g].
template <class T>
void bc_sample_z_forward(const BcSampleZForwardArgsT<T>& a) {
  for (int i = 0; i < a.n; ++i)
    for (int g = 0; g < a.groups; ++g) {
      const int64_t e = int64_t(i) * a.groups + g;
      const T eps = T(noise(a.seed, a.offset, uint64_t(e)));
      a.z[e] = a.mu_z[g] + std::exp(T(0.5) * a.log_sigma2_z[g]) * eps;
    }
}

template <class T>
void bc_sample_z_backward(const BcSampleZBackwardArgsT<T>& a) {
  for (int g = 0; g < a.groups; ++g) {
    const T sigma = std::exp(T(0.5) * a.log_sigma2_z[g]);
    T dmu = T(0), dls = T(0);
    for (int i = 0; i < a.n; ++i) {
      const int64_t e = int64_t(i) * a.groups + g;
      const T eps = T(noise(a.seed, a.offset, uint64_t(e)));
      dmu += a.dz[e];
      dls += a.dz[e] * eps * T(0.5) * sigma;
    }
    store(a.dmu_z[g], dmu, a.accumulate);
    store(a.dlog_sigma2_z[g], dls, a.accumulate);
  }
}

template <class T>
void scale_groups_forward(const ScaleGroupsForwardArgsT<T>& a) {
  for (int i = 0; i < a.n; ++i)
    for (int p = 0; p < a.pixels; ++p)
      for (int g = 0; g < a.groups; ++g) {
        const int64_t e = (int64_t(i) * a.pixels + p) * a.groups + g;
        a.y[e] = a.x[e] * a.z[int64_t(i) * a.groups + g];
      }
}

template <class T>
void scale_groups_backward(const ScaleGroupsBackwardArgsT<T>& a) {
  for (int i = 0; i < a.n; ++i)
    for (int g = 0; g < a.groups; ++g) {
      const T z = a.z[int64_t(i) * a.groups + g];
      T dz = T(0);
      for (int p = 0; p < a.pixels; ++p) {
        const int64_t e = (int64_t(i) * a.pixels + p) * a.groups + g;
        if (a.dx) store(a.dx[e], a.dy[e] * z, a.accumulate);
        dz += a.dy[e] * a.x[e];
      }
      if (a.dz) store(a.dz[int64_t(i) * a.groups + g], dz, a.accumulate);
    }
}

// y = μ·z + s·ε with s = sqrt(v·z² + 1e-8).
template <class T>
void bc_epilogue_forward(const BcEpilogueForwardArgsT<T>& a) {
  for (int i = 0; i < a.n; ++i)
    for (int p = 0; p < a.pixels; ++p)
      for (int g = 0; g < a.groups; ++g) {
        const int64_t e = (int64_t(i) * a.pixels + p) * a.groups + g;
        const T z = a.z[int64_t(i) * a.groups + g];
        const T eps = T(noise(a.seed, a.offset, uint64_t(e)));
        a.y[e] = a.mu[e] * z + std::sqrt(a.var[e] * z * z + T(1e-8)) * eps;
      }
}

// dμ (+)= dy·z; dv (+)= dy·ε·z²/(2s); dz (+)= Σ_p dy·(μ + ε·v·z/s).
template <class T>
void bc_epilogue_backward(const BcEpilogueBackwardArgsT<T>& a) {
  for (int i = 0; i < a.n; ++i)
    for (int g = 0; g < a.groups; ++g) {
      const T z = a.z[int64_t(i) * a.groups + g];
      T dz = T(0);
      for (int p = 0; p < a.pixels; ++p) {
        const int64_t e = (int64_t(i) * a.pixels + p) * a.groups + g;
        const T eps = T(noise(a.seed, a.offset, uint64_t(e)));
        const T v = a.var[e], dy = a.dy[e];
        const T s = std::sqrt(v * z * z + T(1e-8));
        if (a.dmu) store(a.dmu[e], dy * z, a.accumulate);
        if (a.dvar) store(a.dvar[e], dy * eps * z * z / (T(2) * s), a.accumulate);
        dz += dy * (a.mu[e] + eps * v * z / s);
      }
      if (a.dz) store(a.dz[int64_t(i) * a.groups + g], dz, a.accumulate);
    }
}

// Weight term of the BC KL: −0.5·log σ²_w + 0.5·(σ²_w + μ²_w) − 0.5.
template <class T>
inline double bc_weight_kl_term(T mu_w, T log_sigma2_w) {
  const double ls = double(log_sigma2_w), mu = double(mu_w);
  return -0.5 * ls + 0.5 * (std::exp(ls) + mu * mu) - 0.5;
}

template <class T>
void bc_kl_forward(const BcKlForwardArgsT<T>& a) {
  double kl = 0.0;
  for (int64_t g = 0; g < a.groups; ++g) kl += group_kl_term_of(a.mu_z[g], a.log_sigma2_z[g]);
  for (int64_t w = 0; w < a.weights; ++w) kl += bc_weight_kl_term(a.mu_w[w], a.log_sigma2_w[w]);
  *a.kl = T(kl);
}

template <class T>
void bc_kl_backward(const BcKlBackwardArgsT<T>& a) {
  const double scale = double(a.scale);
  for (int64_t g = 0; g < a.groups; ++g) {
    double dmu, dls;
    group_kl_term_grad(a.mu_z[g], a.log_sigma2_z[g], &dmu, &dls);
    store(a.dmu_z[g], T(scale * dmu), a.accumulate);
    store(a.dlog_sigma2_z[g], T(scale * dls), a.accumulate);
  }
  for (int64_t w = 0; w < a.weights; ++w) {
    store(a.dmu_w[w], T(scale * double(a.mu_w[w])), a.accumulate);
    store(a.dlog_sigma2_w[w], T(scale * 0.5 * (std::exp(double(a.log_sigma2_w[w])) - 1.0)), a.accumulate);
  }
}

// ---- optimizer and masks ---------------------------------------------------------------------------------

template <class T>
void adam(const AdamArgsT<T>& a) {
  const T bc1 = T(1.0 - std::pow(double(a.beta1), double(a.t)));
  const T bc2 = T(1.0 - std::pow(double(a.beta2), double(a.t)));
  for (int64_t i = 0; i < a.count; ++i) {
    const T g = a.grad[i];
    a.m[i] = a.beta1 * a.m[i] + (T(1) - a.beta1) * g;
    a.v[i] = a.beta2 * a.v[i] + (T(1) - a.beta2) * g * g;
    a.param[i] -= a.lr * (a.m[i] / bc1) / (std::sqrt(a.v[i] / bc2) + a.eps);
  }
}

template <class T>
void prune_mask(const PruneMaskArgsT<T>& a) {
  for (int64_t e = 0; e < a.count; ++e) {
    if (a.groups == 0) {
      a.out[e] = a.log_alpha[e] < a.threshold ? a.value[e] : T(0);
    } else {
      const int64_t g = (e / a.inner) % a.groups;
      const T scale = a.group_scale ? a.group_scale[g] : T(1);
      a.out[e] = a.log_alpha[g] < a.threshold ? T(a.value[e] * scale) : T(0);
    }
  }
}

}  // namespace sparse::ref
