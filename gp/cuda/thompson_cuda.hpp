// Joint Thompson sampling of K objectives at once on a CUDA device (REFERENCE §7, "Batched on GPU"): the GPU
// counterpart of gp/thompson.hpp's thompson_samples(gp, c, eps) for large candidate sets.
// Invariants: the same distribution as the CPU path and, for the same eps, the same samples up to rounding —
// each objective's GP is the one GaussianProcess(x, y, θ).add_fantasies(pending) builds (standardized targets,
// training factor with cholesky_in_place's schedule, kriging-believer fantasies), Σ* = K** − K*ᵀ(K + σ_n²I)⁻¹K*
// on the standardized scale, factored with the ×10 jitter schedule from 1e-8 × mean posterior variance, and
// the samples are μ* + scale · L ε with the caller's ε (gp::standard_normals); the jitter is reported on the
// caller's scale. Double precision throughout (why: gp/cuda/README.md). This header includes no CUDA header;
// in a build without CUDA (thompson_cuda_none.cpp) sampling throws sparse::Error and available() says why.
#pragma once
#include <Eigen/Dense>
#include <string>
#include <vector>

#include "gp/point.hpp"
#include "gp/thompson.hpp"

namespace sparse::gp::cuda {

// One objective: the targets and hyper-parameters GaussianProcess(x, y, theta) takes.
struct ObjectiveGp {
  Eigen::VectorXd y;      // n targets on the caller's scale (x's rows)
  Eigen::VectorXd theta;  // gp/kernel.hpp layout
};

// Whether CUDA device `device` can run the sampler; when not, *reason (if given) says why. Never throws.
bool available(int device, std::string* reason = nullptr);

// For every objective k: q = eps[k].cols() joint draws at the candidates c of the GP on (x, gps[k].y,
// gps[k].theta) with the pending points fantasized, eps[k]: m × q standard normals. x, pending and c are shared
// by the objectives (the proposer's case); the K objectives run on K streams of `device`, in groups when device
// memory does not hold them all (≈ 8·(m² + n·m + n² + 2·m·q) bytes each, n = |x| + |pending|). Throws
// sparse::Error (with "out of memory" when the device cannot hold one objective) and when a Cholesky factor
// fails after all jitter tries, like the CPU path.
std::vector<ThompsonDraw> thompson_samples(const Inputs& x, const Inputs& pending, const std::vector<ObjectiveGp>& gps,
                                           const Inputs& c, const std::vector<Eigen::MatrixXd>& eps, int device);

// One objective (K = 1).
ThompsonDraw thompson_samples(const Inputs& x, const Inputs& pending, const ObjectiveGp& gp, const Inputs& c,
                              const Eigen::MatrixXd& eps, int device);

// Device bytes one objective needs (the figure the grouping uses), for callers that size candidate sets.
size_t bytes_per_objective(int n, int m, int q);

}  // namespace sparse::gp::cuda
