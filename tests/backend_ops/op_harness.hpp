// Harness of tests/backend_ops: runs one op through the float reference (host copies) and through backends
// (backend copies), then compares every output (normalized MSE, NaN/inf, int32 exactly), checks that inputs
// were left alone and that the guard bytes on both sides of every tensor are untouched; plus random data and
// a finite-difference gradient checker in double precision.
// Invariants: every tensor is allocated with kGuard canary elements before and after it; a case's bind
// function is called once per side and must take every pointer from OpRun::f / OpRun::i.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "host/core/backend.hpp"
#include "host/core/philox.hpp"

namespace sparse::test {

inline constexpr size_t kGuard = 16;               // canary elements on each side (64 bytes: keeps alignment)
inline constexpr unsigned char kCanary = 0x7B;     // canary byte
inline const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Deterministic random data.
class Random {
 public:
  explicit Random(uint64_t seed) : s_(seed, 0x0B5) {}
  double uniform(double lo, double hi) { return lo + (hi - lo) * s_.uniform(); }
  std::vector<float> floats(size_t n, double lo = -1.0, double hi = 1.0) {
    std::vector<float> v(n);
    for (auto& x : v) x = float(uniform(lo, hi));
    return v;
  }
  std::vector<double> doubles(size_t n, double lo = -1.0, double hi = 1.0) {
    std::vector<double> v(n);
    for (auto& x : v) x = uniform(lo, hi);
    return v;
  }
  uint64_t below(uint64_t n) { return s_.below(n); }
  template <class It>
  void shuffle(It first, It last) {
    s_.shuffle(first, last);
  }

 private:
  PhiloxStream s_;
};

// Σ(a − b)² / Σ b² (Σ(a − b)² when b is all zeros).
inline double nmse(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - double(b[i]);
    num += d * d;
    den += double(b[i]) * double(b[i]);
  }
  return den > 0.0 ? num / den : num;
}

// One op run on the reference and on backends. Tensors are float or int32, inputs or outputs.
class OpRun {
 public:
  enum class Type { f32, i32 };
  struct Tensor {
    std::string name;
    Type type;
    bool output;
    std::vector<unsigned char> init;  // element bytes
    std::vector<unsigned char> host;  // guard + elements + guard (the reference side)
    void* device = nullptr;           // guard + elements + guard on the backend under test
  };

  explicit OpRun(std::string label) : label_(std::move(label)) {}
  ~OpRun() { release(); }
  OpRun(const OpRun&) = delete;
  OpRun& operator=(const OpRun&) = delete;

  int input(std::string name, const std::vector<float>& v) { return add(std::move(name), Type::f32, false, v.data(), v.size()); }
  int input_i32(std::string name, const std::vector<int32_t>& v) {
    return add(std::move(name), Type::i32, false, v.data(), v.size());
  }
  // An output's initial contents: NaN for an overwritten output (so a skipped element shows), random values
  // for an accumulated one.
  int output(std::string name, const std::vector<float>& init) {
    return add(std::move(name), Type::f32, true, init.data(), init.size());
  }
  int output_i32(std::string name, const std::vector<int32_t>& init) {
    return add(std::move(name), Type::i32, true, init.data(), init.size());
  }

  // Pointer to tensor k on the side being bound.
  float* f(int k) { return static_cast<float*>(ptr(k)); }
  int32_t* i(int k) { return static_cast<int32_t*>(ptr(k)); }

  // Runs the reference once, then each backend; compares every output with the reference: normalized MSE
  // below `tol` for floats (0 means bit-identical), equality for int32.
  template <class Args>
  void check(const std::type_identity_t<std::function<Args(OpRun&)>>& bind, void (*reference)(const Args&),
             void (Backend::*op)(const Args&), const std::vector<Backend*>& backends, double tol = 1e-10) {
    SCOPED_TRACE(label_);
    for (auto& t : tensors_) fill_guarded(t.host.data(), t);
    side_ = nullptr;
    reference(bind(*this));
    for (auto& t : tensors_) check_guards(t.host.data(), t, "reference");
    for (Backend* b : backends) {
      SCOPED_TRACE(b->name());
      release();
      backend_ = b;
      std::vector<unsigned char> staged;
      for (auto& t : tensors_) {
        t.device = b->alloc(guarded_bytes(t));
        staged.assign(guarded_bytes(t), 0);
        fill_guarded(staged.data(), t);
        b->upload(t.device, staged.data(), staged.size());
      }
      side_ = b;
      (b->*op)(bind(*this));
      b->synchronize();
      for (auto& t : tensors_) {
        staged.assign(guarded_bytes(t), 0);
        b->download(staged.data(), t.device, staged.size());
        check_guards(staged.data(), t, b->name());
        compare(staged.data() + kGuard * elem(t), t, tol);
      }
    }
    release();
  }

  // Reference result of float tensor k (after check()).
  std::vector<float> reference_f32(int k) const {
    const Tensor& t = tensors_[size_t(k)];
    std::vector<float> v(count(t));
    std::memcpy(v.data(), t.host.data() + kGuard * elem(t), v.size() * sizeof(float));
    return v;
  }

 private:
  static size_t elem(const Tensor&) { return 4; }
  static size_t count(const Tensor& t) { return t.init.size() / elem(t); }
  static size_t guarded_bytes(const Tensor& t) { return t.init.size() + 2 * kGuard * elem(t); }

  int add(std::string name, Type type, bool output, const void* data, size_t n) {
    Tensor t{std::move(name), type, output, {}, {}, nullptr};
    t.init.resize(n * 4);
    if (n) std::memcpy(t.init.data(), data, n * 4);
    t.host.resize(guarded_bytes(t));
    tensors_.push_back(std::move(t));
    return int(tensors_.size() - 1);
  }
  void* ptr(int k) {
    Tensor& t = tensors_[size_t(k)];
    unsigned char* base = side_ ? static_cast<unsigned char*>(t.device) : t.host.data();
    return base + kGuard * elem(t);
  }
  static void fill_guarded(unsigned char* dst, const Tensor& t) {
    const size_t g = kGuard * elem(t);
    std::memset(dst, kCanary, g);
    if (!t.init.empty()) std::memcpy(dst + g, t.init.data(), t.init.size());
    std::memset(dst + g + t.init.size(), kCanary, g);
  }
  void check_guards(const unsigned char* buf, const Tensor& t, const std::string& who) const {
    const size_t g = kGuard * elem(t);
    size_t bad = 0;
    for (size_t j = 0; j < g; ++j) bad += buf[j] != kCanary;
    for (size_t j = 0; j < g; ++j) bad += buf[g + t.init.size() + j] != kCanary;
    EXPECT_EQ(bad, 0u) << who << " wrote outside tensor " << t.name;
  }
  void compare(const unsigned char* got, const Tensor& t, double tol) const {
    const unsigned char* want = t.host.data() + kGuard * elem(t);
    const size_t n = count(t);
    if (!t.output) {
      EXPECT_EQ(std::memcmp(got, t.init.data(), t.init.size()), 0) << "input " << t.name << " was modified";
      return;
    }
    if (t.type == Type::i32) {
      std::vector<int32_t> a(n), b(n);
      std::memcpy(a.data(), got, n * 4);
      std::memcpy(b.data(), want, n * 4);
      EXPECT_EQ(a, b) << "int32 output " << t.name;
      return;
    }
    std::vector<float> a(n), b(n);
    std::memcpy(a.data(), got, n * 4);
    std::memcpy(b.data(), want, n * 4);
    size_t bad_a = 0, bad_b = 0;
    for (size_t j = 0; j < n; ++j) {
      bad_a += !std::isfinite(a[j]);
      bad_b += !std::isfinite(b[j]);
    }
    EXPECT_EQ(bad_b, 0u) << "reference output " << t.name << " has NaN/inf";
    EXPECT_EQ(bad_a, 0u) << "output " << t.name << " has NaN/inf (or an element left unwritten)";
    if (tol == 0.0) {
      EXPECT_EQ(std::memcmp(a.data(), b.data(), n * 4), 0) << "output " << t.name << " differs from the reference";
    } else {
      EXPECT_LT(nmse(a, b), tol) << "output " << t.name << " (" << n << " elements)";
    }
  }
  // Never throws (Backend::free is noexcept: a failed free is reported by the backend's next call), so ~OpRun is
  // safe while a failed check or a DeviceError unwinds.
  void release() noexcept {
    for (auto& t : tensors_) {
      if (t.device && backend_) backend_->free(t.device);
      t.device = nullptr;
    }
  }

  std::string label_;
  std::vector<Tensor> tensors_;
  Backend* backend_ = nullptr;
  Backend* side_ = nullptr;  // null: binding the reference side
};

// ---- finite differences in double ----------------------------------------------------------------------

struct GradParam {
  std::string name;
  std::vector<double>* value;
};

// Checks backward against central differences of L = Σ r ⊙ forward() for a random r. `backward(r)` returns the
// analytic ∂L/∂p for every parameter, in order. Relative error ‖num − ana‖ / max(‖num‖, ‖ana‖) < tol; returns
// the analytic gradients for further checks.
inline std::vector<std::vector<double>> grad_check(
    const std::string& label, const std::vector<GradParam>& params, const std::function<std::vector<double>()>& forward,
    const std::function<std::vector<std::vector<double>>(const std::vector<double>&)>& backward, uint64_t seed,
    double tol = 1e-6, double h = 1e-5) {
  SCOPED_TRACE(label);
  Random rng(seed);
  const std::vector<double> y0 = forward();
  const std::vector<double> r = rng.doubles(y0.size(), -1.0, 1.0);
  const auto functional = [&]() {
    const std::vector<double> y = forward();
    double s = 0.0;
    for (size_t j = 0; j < y.size(); ++j) s += r[j] * y[j];
    return s;
  };
  const std::vector<std::vector<double>> analytic = backward(r);
  EXPECT_EQ(analytic.size(), params.size());
  for (size_t p = 0; p < params.size() && p < analytic.size(); ++p) {
    std::vector<double>& v = *params[p].value;
    EXPECT_EQ(analytic[p].size(), v.size()) << params[p].name;
    if (analytic[p].size() != v.size()) continue;
    double diff = 0.0, nn = 0.0, na = 0.0;
    for (size_t j = 0; j < v.size(); ++j) {
      const double saved = v[j];
      v[j] = saved + h;
      const double lp = functional();
      v[j] = saved - h;
      const double lm = functional();
      v[j] = saved;
      const double num = (lp - lm) / (2.0 * h);
      diff += (num - analytic[p][j]) * (num - analytic[p][j]);
      nn += num * num;
      na += analytic[p][j] * analytic[p][j];
    }
    const double scale = std::sqrt(std::max(nn, na));
    EXPECT_GT(scale, 0.0) << "gradient of " << params[p].name << " is identically zero";
    if (scale > 0.0) {
      EXPECT_LT(std::sqrt(diff) / scale, tol) << "gradient of " << params[p].name;
    }
  }
  return analytic;
}

}  // namespace sparse::test
