// A well-posed but nearly singular Thompson-sampling problem for the jitter tests (issue 15), shared by the CPU
// test (test_thompson.cpp) and the GPU one (test_thompson_cuda.cpp): 20 observations in 3 numeric dimensions
// and one categorical, and 20 candidates each with a twin `delta` away in the first dimension. The twins'
// posterior variables are almost equal, so Σ* has 20 eigenvalues of order (δ/ℓ)²·σ² beside ones of order σ²:
// its condition number is about 1e10 (checked by the CPU test), large but finite, unlike a matrix of exact
// duplicates (exactly singular, which only jitter can factor).
#pragma once
#include <Eigen/Dense>
#include <cmath>
#include <vector>

#include "gp/kernel.hpp"
#include "gp/point.hpp"
#include "host/core/philox.hpp"

namespace sparse::gp::test {

struct NearSingularGp {
  Inputs x;                // 20 observations
  Inputs c;                // 40 candidates: c[2i] and c[2i + 1] are twins
  Eigen::VectorXd y;       // targets of x
  Eigen::VectorXd theta;   // gp/kernel.hpp layout: ℓ = kEll, σ_f² = 1.5, σ_n² = 1e-3
};

inline constexpr double kEll = 0.3;  // short enough that the 20 distinct candidates are well separated

inline NearSingularGp near_singular_gp(double delta = 1e-5) {
  sparse::PhiloxStream rng(61);
  auto point = [&] {
    EncodedPoint p;
    for (int d = 0; d < 3; ++d) p.numeric.push_back(rng.uniform());
    p.categorical.push_back(static_cast<int>(rng.below(3)));
    return p;
  };
  std::vector<EncodedPoint> obs, cand;
  for (int i = 0; i < 20; ++i) obs.push_back(point());
  for (int i = 0; i < 20; ++i) {
    EncodedPoint p = point();
    p.numeric[0] = 0.1 + 0.8 * p.numeric[0];  // the twin stays inside [0, 1]
    EncodedPoint twin = p;
    twin.numeric[0] += delta;
    cand.push_back(p);
    cand.push_back(twin);
  }
  NearSingularGp g;
  g.x = make_inputs(obs);
  g.c = make_inputs(cand);
  g.y.resize(g.x.size());
  for (int i = 0; i < g.x.size(); ++i)
    g.y[i] = 10.0 * (std::sin(2.0 * g.x.numeric(i, 0)) + std::cos(3.0 * g.x.numeric(i, 1)) + g.x.numeric(i, 2)) + 3.0;
  const KernelLayout l = layout_of(g.x);
  g.theta.resize(l.size());
  for (int d = 0; d < l.num_numeric + l.num_categorical; ++d) g.theta[d] = std::log(kEll);
  g.theta[l.act()] = 0.0;
  g.theta[l.signal()] = std::log(1.5);
  g.theta[l.noise()] = std::log(1e-3);
  return g;
}

}  // namespace sparse::gp::test
