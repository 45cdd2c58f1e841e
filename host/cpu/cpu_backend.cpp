// CpuBackend: host memory and the dispatch of every op of host/core/op_list.hpp on the CPU.
// Invariants: GEMM-shaped ops (conv, linear) go to conv_gemm.cpp; data-movement and simple elementwise ops run
// the reference templates of host/cpu/ref_ops.hpp on contiguous chunks through pointer offsets (bit for bit the
// reference); ops dominated by exp/log/sin/cos use SIMD float kernels (vector_math.hpp, noise.hpp: ε is
// philox_normal4's stream to a few ulp) that agree with the reference to float rounding; reductions (KL, batch
// statistics) sum per-thread partials in double and add them in thread order. Scratch lives in the backend and
// only grows.
#include "host/cpu/cpu_backend.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "host/core/error.hpp"
#include "host/core/threads.hpp"
#include "host/cpu/gemm_ops.hpp"
#include "host/cpu/noise.hpp"
#include "host/cpu/parallel.hpp"
#include "host/cpu/ref_ops.hpp"
#include "host/cpu/vector_math.hpp"

namespace sparse::cpu {
namespace {

constexpr double kCheapGrain = 1 << 16;  // elements per chunk of a cheap op (relu, add, copy)
constexpr double kMathGrain = 1 << 12;   // elements per chunk of an op with exp/log/sqrt or Philox noise

constexpr int64_t kNoiseBatch = 1024;  // ε drawn per batch of elements (stack buffer)

// One window pixel x [c] into the running maximum y [c] (and its flat index am [c]); `first` initializes.
void pool_update_argmax(const float* __restrict x, float* __restrict y, int32_t* __restrict am, int32_t base, int c,
                        bool first) {
  if (first) {
    for (int j = 0; j < c; ++j) {
      y[j] = x[j];
      am[j] = base + j;
    }
    return;
  }
  for (int j = 0; j < c; ++j) {
    const bool greater = x[j] > y[j];
    y[j] = greater ? x[j] : y[j];
    am[j] = greater ? base + j : am[j];
  }
}
void pool_update(const float* __restrict x, float* __restrict y, int c, bool first) {
  for (int j = 0; j < c; ++j) y[j] = first || x[j] > y[j] ? x[j] : y[j];
}

template <class P>
P* offset_or_null(P* p, int64_t off) {
  return p ? p + off : nullptr;
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : team_(threads) {}

  std::string name() const override { return "cpu"; }

  void* alloc(size_t bytes) override {
    const size_t rounded = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    SPARSE_CHECK(p != nullptr, "cpu backend: out of host memory allocating " << bytes << " bytes");
    return p;
  }
  void free(void* p) noexcept override { std::free(p); }
  void upload(void* dst, const void* src, size_t bytes) override {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  void download(void* dst, const void* src, size_t bytes) override {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  void copy(void* dst, const void* src, size_t bytes) override {
    if (bytes) std::memmove(dst, src, bytes);
  }
  void zero(void* p, size_t bytes) override {
    if (bytes) std::memset(p, 0, bytes);
  }
  void synchronize() override {}

  // ---- GEMM-shaped ops ----
  void conv2d_forward(const Conv2dForwardArgsT<float>& a) override { cpu::conv2d_forward(team_, a); }
  void conv2d_backward_data(const Conv2dBackwardDataArgsT<float>& a) override {
    cpu::conv2d_backward_data(team_, a);
  }
  void conv2d_backward_filter(const Conv2dBackwardFilterArgsT<float>& a) override {
    cpu::conv2d_backward_filter(team_, a);
  }
  void linear_forward(const LinearForwardArgsT<float>& a) override { cpu::linear_forward(team_, a); }
  void linear_backward_data(const LinearBackwardDataArgsT<float>& a) override {
    cpu::linear_backward_data(team_, a);
  }
  void linear_backward_weight(const LinearBackwardWeightArgsT<float>& a) override {
    cpu::linear_backward_weight(team_, a);
  }

  // ---- pooling ----
  // Window pixels in row-major order, vectorized over channels; strictly greater replaces, so the first maximum
  // wins ties (ref::max_pool_forward).
  void max_pool_forward(const MaxPoolForwardArgsT<float>& a) override {
    const int C = a.c, K = a.k, S = a.stride, H = a.h, W = a.w, OH = a.oh, OW = a.ow;
    const float* xs = a.x;
    float* ys = a.y;
    int32_t* ams = a.argmax;
    const int64_t img_out = int64_t(OH) * OW * C;
    each_chunk(a.n, double(a.n) * img_out * K * K, kCheapGrain, [=](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n)
        for (int oy = 0; oy < OH; ++oy)
          for (int ox = 0; ox < OW; ++ox) {
            const int64_t o = ((n * OH + oy) * OW + ox) * C;
            for (int ky = 0; ky < K; ++ky)
              for (int kx = 0; kx < K; ++kx) {
                const int64_t base = ((n * H + int64_t(oy) * S + ky) * W + int64_t(ox) * S + kx) * C;
                if (ams) pool_update_argmax(xs + base, ys + o, ams + o, int32_t(base), C, ky == 0 && kx == 0);
                else pool_update(xs + base, ys + o, C, ky == 0 && kx == 0);
              }
          }
    });
  }
  void max_pool_backward(const MaxPoolBackwardArgsT<float>& a) override {
    const int64_t img_in = int64_t(a.h) * a.w * a.c, img_out = int64_t(a.oh) * a.ow * a.c;
    // argmax of image n points into image n of x, so chunks of images write disjoint parts of dx.
    each_chunk(a.n, double(a.n) * img_in, kCheapGrain, [&](int64_t n0, int64_t n1) {
      if (!a.accumulate) std::fill(a.dx + n0 * img_in, a.dx + n1 * img_in, 0.0f);
      for (int64_t o = n0 * img_out; o < n1 * img_out; ++o) a.dx[a.argmax[o]] += a.dy[o];
    });
  }
  void channel_max_forward(const ChannelMaxForwardArgsT<float>& a) override {
    const int64_t rows = int64_t(a.n) * a.h * a.w;
    each_chunk(rows, double(rows) * a.c, kCheapGrain, [&](int64_t r0, int64_t r1) {
      ChannelMaxForwardArgsT<float> c = a;
      c.n = 1;
      c.h = 1;
      c.w = int(r1 - r0);
      c.x += r0 * a.c;
      c.y += r0;
      ref::channel_max_forward(c);
    });
  }

  // ---- batch norm: per-channel statistics from per-thread double partials ----
  void batch_norm_forward(const BatchNormForwardArgsT<float>& a) override {
    const int C = a.c;
    float* coef = coef_.get(size_t(3) * C);  // y = (x − center)·scale + β per channel
    float *scale = coef, *center = coef + C, *beta = coef + 2 * C;
    if (a.training) {
      double* stats = stats_.get(size_t(2) * C);  // mean, Σ(x − mean)²
      double *mean = stats, *sq = stats + C;
      channel_sums(a.rows, C, [&](int64_t r, double* s) {
        for (int c = 0; c < C; ++c) s[c] += double(a.x[r * C + c]);
      }, 1, mean);
      for (int c = 0; c < C; ++c) mean[c] /= double(a.rows);
      channel_sums(a.rows, C, [&](int64_t r, double* s) {
        for (int c = 0; c < C; ++c) {
          const double d = double(a.x[r * C + c]) - mean[c];
          s[c] += d * d;
        }
      }, 1, sq);
      const double m = double(a.momentum);
      for (int c = 0; c < C; ++c) {
        const double var = sq[c] / double(a.rows);  // biased: the normalization uses the batch variance
        const double unbiased = a.rows > 1 ? var * double(a.rows) / double(a.rows - 1) : var;
        const double invstd = 1.0 / std::sqrt(var + double(a.eps));
        a.save_mean[c] = float(mean[c]);
        a.save_invstd[c] = float(invstd);
        a.running_mean[c] = float((1.0 - m) * double(a.running_mean[c]) + m * mean[c]);
        a.running_var[c] = float((1.0 - m) * double(a.running_var[c]) + m * unbiased);
        scale[c] = float(invstd * double(a.gamma[c]));
        center[c] = float(mean[c]);
        beta[c] = a.beta[c];
      }
    } else {
      for (int c = 0; c < C; ++c) {
        scale[c] = float(double(a.gamma[c]) / std::sqrt(double(a.running_var[c]) + double(a.eps)));
        center[c] = a.running_mean[c];
        beta[c] = a.beta[c];
      }
    }
    each_chunk(a.rows, double(a.rows) * C, kCheapGrain, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int c = 0; c < C; ++c) a.y[r * C + c] = (a.x[r * C + c] - center[c]) * scale[c] + beta[c];
    });
  }
  void batch_norm_backward(const BatchNormBackwardArgsT<float>& a) override {
    const int C = a.c;
    double* sums = stats_.get(size_t(2) * C);  // Σ dy, Σ dy·(x − mean)
    channel_sums(a.rows, C, [&](int64_t r, double* s) {
      for (int c = 0; c < C; ++c) {
        const double dy = double(a.dy[r * C + c]);
        s[c] += dy;
        s[C + c] += dy * (double(a.x[r * C + c]) - double(a.save_mean[c]));
      }
    }, 2, sums);
    // dx = k·(dy − dβ/rows − x̂·dγ/rows), k = γ·invstd, x̂ = (x − mean)·invstd: dx = A·dy + B·(x − mean) + D.
    float* coef = coef_.get(size_t(3) * C);
    float *A = coef, *B = coef + C, *D = coef + 2 * C;
    const double rows = double(a.rows);
    for (int c = 0; c < C; ++c) {
      const double invstd = double(a.save_invstd[c]);
      const double dbeta = sums[c], dgamma = sums[C + c] * invstd;
      const double k = double(a.gamma[c]) * invstd;
      A[c] = float(k);
      B[c] = float(-k * invstd * dgamma / rows);
      D[c] = float(-k * dbeta / rows);
      a.dgamma[c] = float(dgamma);
      a.dbeta[c] = float(dbeta);
    }
    each_chunk(a.rows, double(a.rows) * C, kCheapGrain, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int c = 0; c < C; ++c) {
          const int64_t i = r * C + c;
          const float v = A[c] * a.dy[i] + B[c] * (a.x[i] - a.save_mean[c]) + D[c];
          a.dx[i] = a.accumulate ? a.dx[i] + v : v;
        }
    });
  }

  // ---- elementwise ----
  void relu_forward(const ReluForwardArgsT<float>& a) override {
    each_chunk(a.count, double(a.count), kCheapGrain, [&](int64_t b, int64_t e) {
      ReluForwardArgsT<float> c = a;
      c.count = e - b;
      c.x += b;
      c.y += b;
      ref::relu_forward(c);
    });
  }
  void relu_backward(const ReluBackwardArgsT<float>& a) override {
    each_chunk(a.count, double(a.count), kCheapGrain, [&](int64_t b, int64_t e) {
      ReluBackwardArgsT<float> c = a;
      c.count = e - b;
      c.y += b;
      c.dy += b;
      c.dx += b;
      ref::relu_backward(c);
    });
  }
  void add_forward(const AddForwardArgsT<float>& a) override {
    const int64_t img = int64_t(a.oh) * a.ow * a.c, img_b = int64_t(a.bh) * a.bw * a.c;
    each_chunk(a.n, double(a.n) * img, kCheapGrain, [&](int64_t n0, int64_t n1) {
      AddForwardArgsT<float> c = a;
      c.n = int(n1 - n0);
      c.a += n0 * img;
      c.b += n0 * img_b;
      c.y += n0 * img;
      ref::add_forward(c);
    });
  }
  void add_backward(const AddBackwardArgsT<float>& a) override {
    const int64_t img = int64_t(a.oh) * a.ow * a.c, img_b = int64_t(a.bh) * a.bw * a.c;
    each_chunk(a.n, double(a.n) * img, kCheapGrain, [&](int64_t n0, int64_t n1) {
      AddBackwardArgsT<float> c = a;
      c.n = int(n1 - n0);
      c.dy += n0 * img;
      c.da = offset_or_null(a.da, n0 * img);
      c.db = offset_or_null(a.db, n0 * img_b);
      ref::add_backward(c);
    });
  }
  void concat_forward(const ConcatForwardArgsT<float>& a) override {
    each_chunk(a.rows, double(a.rows) * a.c_part, kCheapGrain, [&](int64_t r0, int64_t r1) {
      ConcatForwardArgsT<float> c = a;
      c.rows = r1 - r0;
      c.x += r0 * a.c_part;
      c.y += r0 * a.c_total;
      ref::concat_forward(c);
    });
  }
  void concat_backward(const ConcatBackwardArgsT<float>& a) override {
    each_chunk(a.rows, double(a.rows) * a.c_part, kCheapGrain, [&](int64_t r0, int64_t r1) {
      ConcatBackwardArgsT<float> c = a;
      c.rows = r1 - r0;
      c.dy += r0 * a.c_total;
      c.dx += r0 * a.c_part;
      ref::concat_backward(c);
    });
  }
  void softmax_cross_entropy(const SoftmaxCrossEntropyArgsT<float>& a) override { ref::softmax_cross_entropy(a); }
  void square_forward(const SquareForwardArgsT<float>& a) override {
    each_chunk(a.count, double(a.count), kCheapGrain, [&](int64_t b, int64_t e) {
      SquareForwardArgsT<float> c = a;
      c.count = e - b;
      c.x += b;
      c.y += b;
      ref::square_forward(c);
    });
  }
  void square_backward(const SquareBackwardArgsT<float>& a) override {
    each_chunk(a.count, double(a.count), kCheapGrain, [&](int64_t b, int64_t e) {
      SquareBackwardArgsT<float> c = a;
      c.count = e - b;
      c.x += b;
      c.dy += b;
      c.dx += b;
      ref::square_backward(c);
    });
  }
  void spvd_variance_forward(const SpvdVarianceForwardArgsT<float>& a) override {
    each_chunk(a.count, double(a.count), kMathGrain, [&](int64_t b, int64_t e) {
      exp_floats(a.log_sigma2 + b, e - b, a.sigma2 + b);
    });
  }
  void spvd_variance_backward(const SpvdVarianceBackwardArgsT<float>& a) override {
    each_chunk(a.count, double(a.count), kCheapGrain, [&](int64_t b, int64_t e) {
      SpvdVarianceBackwardArgsT<float> c = a;
      c.count = e - b;
      c.sigma2 += b;
      c.dsigma2 += b;
      c.dlog_sigma2 += b;
      ref::spvd_variance_backward(c);
    });
  }

  // ---- SpVD (REFERENCE.md §3) ----
  // y = μ + sqrt(v + 1e-8)·ε, the expression of ref::lrt_sample_forward.
  void lrt_sample_forward(const LrtSampleForwardArgsT<float>& a) override {
    each_chunk(a.count, double(a.count), kMathGrain, [&](int64_t b, int64_t e) {
      alignas(64) float eps[kNoiseBatch];
      for (int64_t s = b; s < e; s += kNoiseBatch) {
        const int64_t m = std::min(kNoiseBatch, e - s);
        philox_normal_range(a.seed, a.offset, uint64_t(s), m, eps);
        const float *mu = a.mu + s, *var = a.var + s;
        float* y = a.y + s;
        for (int64_t i = 0; i < m; ++i) y[i] = mu[i] + std::sqrt(var[i] + 1e-8f) * eps[i];
      }
    }, 4);
  }
  void lrt_sample_backward(const LrtSampleBackwardArgsT<float>& a) override {
    if (a.mu && a.y) {  // ε from the forward's sample: no Philox pass
      each_chunk(a.count, double(a.count), kMathGrain, [&](int64_t b, int64_t e) {
        const float *__restrict var = a.var + b, *__restrict dy = a.dy + b, *__restrict mu = a.mu + b,
                    *__restrict y = a.y + b;
        float* __restrict dvar = a.dvar + b;
        const int64_t m = e - b;
        if (a.dmu) {
          float* __restrict dmu = a.dmu + b;
          for (int64_t i = 0; i < m; ++i) dmu[i] = a.accumulate ? dmu[i] + dy[i] : dy[i];
        }
        if (a.accumulate) {
          for (int64_t i = 0; i < m; ++i) dvar[i] += dy[i] * (y[i] - mu[i]) / (2.0f * (var[i] + 1e-8f));
        } else {
          for (int64_t i = 0; i < m; ++i) dvar[i] = dy[i] * (y[i] - mu[i]) / (2.0f * (var[i] + 1e-8f));
        }
      });
      return;
    }
    each_chunk(a.count, double(a.count), kMathGrain, [&](int64_t b, int64_t e) {
      alignas(64) float eps[kNoiseBatch];
      for (int64_t s = b; s < e; s += kNoiseBatch) {
        const int64_t m = std::min(kNoiseBatch, e - s);
        philox_normal_range(a.seed, a.offset, uint64_t(s), m, eps);
        const float *var = a.var + s, *dy = a.dy + s;
        float* dvar = a.dvar + s;
        if (a.dmu) {
          float* dmu = a.dmu + s;
          if (a.accumulate) {
            for (int64_t i = 0; i < m; ++i) dmu[i] += dy[i];
          } else {
            for (int64_t i = 0; i < m; ++i) dmu[i] = dy[i];
          }
        }
        if (a.accumulate) {
          for (int64_t i = 0; i < m; ++i) dvar[i] += dy[i] * eps[i] / (2.0f * std::sqrt(var[i] + 1e-8f));
        } else {
          for (int64_t i = 0; i < m; ++i) dvar[i] = dy[i] * eps[i] / (2.0f * std::sqrt(var[i] + 1e-8f));
        }
      }
    }, 4);
  }
  void log_alpha(const LogAlphaArgsT<float>& a) override {
    each_chunk(a.count, double(a.count), kMathGrain, [&](int64_t b, int64_t e) {
      log_alpha_floats(a.theta + b, a.log_sigma2 + b, e - b, a.log_alpha + b);
    });
  }
  void spvd_kl_forward(const SpvdKlForwardArgsT<float>& a) override {
    *a.kl = float(parallel_sum(a.count, [&](int64_t b, int64_t e) { return spvd_kl_sum(a.theta + b, a.log_sigma2 + b, e - b); }));
  }
  void spvd_kl_backward(const SpvdKlBackwardArgsT<float>& a) override {
    each_chunk(a.count, double(a.count), kMathGrain, [&](int64_t b, int64_t e) {
      spvd_kl_grad(a.theta + b, a.log_sigma2 + b, e - b, a.scale, a.dtheta + b, a.dlog_sigma2 + b, a.accumulate);
    });
  }
  // ---- Bayesian Compression (REFERENCE.md §4) ----
  void bc_sample_z_forward(const BcSampleZForwardArgsT<float>& a) override { ref::bc_sample_z_forward(a); }
  void bc_sample_z_backward(const BcSampleZBackwardArgsT<float>& a) override { ref::bc_sample_z_backward(a); }
  void scale_groups_forward(const ScaleGroupsForwardArgsT<float>& a) override {
    const int64_t img = int64_t(a.pixels) * a.groups;
    each_chunk(a.n, double(a.n) * img, kCheapGrain, [&](int64_t n0, int64_t n1) {
      ScaleGroupsForwardArgsT<float> c = a;
      c.n = int(n1 - n0);
      c.x += n0 * img;
      c.z += n0 * a.groups;
      c.y += n0 * img;
      ref::scale_groups_forward(c);
    });
  }
  void scale_groups_backward(const ScaleGroupsBackwardArgsT<float>& a) override {
    const int64_t img = int64_t(a.pixels) * a.groups;
    each_chunk(a.n, double(a.n) * img, kCheapGrain, [&](int64_t n0, int64_t n1) {
      ScaleGroupsBackwardArgsT<float> c = a;
      c.n = int(n1 - n0);
      c.x += n0 * img;
      c.z += n0 * a.groups;
      c.dy += n0 * img;
      c.dx = offset_or_null(a.dx, n0 * img);
      c.dz = offset_or_null(a.dz, n0 * a.groups);
      ref::scale_groups_backward(c);
    });
  }
  // y = μ·z + sqrt(v·z² + 1e-8)·ε, the expression of ref::bc_epilogue_forward; z[n, g] broadcast over pixels.
  void bc_epilogue_forward(const BcEpilogueForwardArgsT<float>& a) override {
    const int64_t img = int64_t(a.pixels) * a.groups;
    each_chunk(a.n, double(a.n) * img, kMathGrain, [&](int64_t n0, int64_t n1) {
      alignas(64) float eps[kNoiseBatch];
      for (int64_t n = n0; n < n1; ++n) {
        const float* z = a.z + n * a.groups;
        for (int64_t s = 0; s < img; s += kNoiseBatch) {
          const int64_t m = std::min(kNoiseBatch, img - s), base = n * img + s;
          philox_normal_range(a.seed, a.offset, uint64_t(base), m, eps);
          int g = int(s % a.groups);
          for (int64_t i = 0; i < m; ++i) {
            const int64_t e = base + i;
            a.y[e] = a.mu[e] * z[g] + std::sqrt(a.var[e] * z[g] * z[g] + 1e-8f) * eps[i];
            if (++g == a.groups) g = 0;
          }
        }
      }
    });
  }
  void bc_epilogue_backward(const BcEpilogueBackwardArgsT<float>& a) override {
    const int64_t img = int64_t(a.pixels) * a.groups;
    team_.run(a.n, team_.chunks_for(double(a.n) * img, kMathGrain), [&](int t, int64_t n0, int64_t n1) {
      alignas(64) float eps[kNoiseBatch];
      double* dz = team_.scratch(t).sums.get(size_t(a.groups));
      for (int64_t n = n0; n < n1; ++n) {
        const float* z = a.z + n * a.groups;
        std::fill(dz, dz + a.groups, 0.0);
        for (int64_t s = 0; s < img; s += kNoiseBatch) {
          const int64_t m = std::min(kNoiseBatch, img - s), base = n * img + s;
          philox_normal_range(a.seed, a.offset, uint64_t(base), m, eps);
          int g = int(s % a.groups);
          for (int64_t i = 0; i < m; ++i) {
            const int64_t e = base + i;
            const float v = a.var[e], dy = a.dy[e], zg = z[g];
            const float sd = std::sqrt(v * zg * zg + 1e-8f);
            if (a.dmu) ref::store(a.dmu[e], dy * zg, a.accumulate);
            if (a.dvar) ref::store(a.dvar[e], dy * eps[i] * zg * zg / (2.0f * sd), a.accumulate);
            dz[g] += double(dy * (a.mu[e] + eps[i] * v * zg / sd));
            if (++g == a.groups) g = 0;
          }
        }
        if (a.dz)
          for (int g = 0; g < a.groups; ++g) ref::store(a.dz[n * a.groups + g], float(dz[g]), a.accumulate);
      }
    });
  }
  void bc_kl_forward(const BcKlForwardArgsT<float>& a) override {
    double kl = 0.0;
    for (int64_t g = 0; g < a.groups; ++g) kl += ref::group_kl_term_of(a.mu_z[g], a.log_sigma2_z[g]);
    kl += parallel_sum(a.weights, [&](int64_t b, int64_t e) { return bc_weight_kl_sum(a.mu_w + b, a.log_sigma2_w + b, e - b); });
    *a.kl = float(kl);
  }
  void bc_kl_backward(const BcKlBackwardArgsT<float>& a) override {
    BcKlBackwardArgsT<float> groups_only = a;
    groups_only.weights = 0;
    ref::bc_kl_backward(groups_only);
    each_chunk(a.weights, double(a.weights), kMathGrain, [&](int64_t b, int64_t e) {
      bc_weight_kl_grad(a.mu_w + b, a.log_sigma2_w + b, e - b, a.scale, a.dmu_w + b, a.dlog_sigma2_w + b, a.accumulate);
    });
  }

  // ---- optimizer and masks ----
  void adam(const AdamArgsT<float>& a) override {
    each_chunk(a.count, double(a.count), kMathGrain, [&](int64_t b, int64_t e) {
      AdamArgsT<float> c = a;
      c.count = e - b;
      c.param += b;
      c.grad += b;
      c.m += b;
      c.v += b;
      ref::adam(c);
    });
  }
  void prune_mask(const PruneMaskArgsT<float>& a) override {
    // Grouped masks repeat with period inner·groups, so chunks aligned to it keep each element's group.
    const int64_t period = a.groups > 0 ? a.inner * a.groups : 1;
    each_chunk(a.count, double(a.count), kCheapGrain, [&](int64_t b, int64_t e) {
      PruneMaskArgsT<float> c = a;
      c.count = e - b;
      c.value += b;
      c.out += b;
      if (a.groups == 0) c.log_alpha += b;
      ref::prune_mask(c);
    }, period);
  }

 private:
  // f(begin, end) on non-empty contiguous chunks of [0, count); `work` sizes the number of chunks.
  template <class F>
  void each_chunk(int64_t count, double work, double grain, F&& f, int64_t align = 1) {
    if (count <= 0) return;
    team_.run(count, team_.chunks_for(work, grain), [&](int, int64_t b, int64_t e) {
      if (b < e) f(b, e);
    }, align);
  }
  // Σ over [0, count) in double of range_sum(begin, end) on chunks: per-thread partials added in thread order.
  template <class F>
  double parallel_sum(int64_t count, F&& range_sum) {
    if (count <= 0) return 0.0;
    double partial[256];
    const int chunks = std::min(team_.chunks_for(double(count), kMathGrain), 256);
    const int used = team_.run(count, chunks, [&](int t, int64_t b, int64_t e) {
      partial[t] = b < e ? range_sum(b, e) : 0.0;
    });
    double total = 0.0;
    for (int t = 0; t < used; ++t) total += partial[t];
    return total;
  }
  // out[j] = Σ_rows of the per-row contributions add(r, s) into `width`·C doubles, via per-thread partials.
  template <class F>
  void channel_sums(int64_t rows, int C, F&& add, int width, double* out) {
    const size_t n = size_t(width) * size_t(C);
    const int used = team_.run(rows, team_.chunks_for(double(rows) * C, kCheapGrain), [&](int t, int64_t r0, int64_t r1) {
      double* s = team_.scratch(t).sums.get(n);
      std::fill(s, s + n, 0.0);
      for (int64_t r = r0; r < r1; ++r) add(r, s);
    });
    std::fill(out, out + n, 0.0);
    for (int t = 0; t < used; ++t) {
      const double* s = team_.scratch(t).sums.data();
      for (size_t j = 0; j < n; ++j) out[j] += s[j];
    }
  }

  Team team_;
  Scratch<double> stats_;  // batch-norm statistics [2·C]
  Scratch<float> coef_;    // batch-norm per-channel coefficients [3·C]
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) {
  return std::make_unique<CpuBackend>(threads > 0 ? threads : hardware_threads());
}

}  // namespace sparse::cpu
