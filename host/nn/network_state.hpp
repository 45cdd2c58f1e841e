// Network internals shared by network.cpp and pruning.cpp: per-node buffers and the batch-norm constants.
#pragma once
#include "host/nn/network.hpp"

namespace sparse::nn {

inline constexpr float kBnEps = 1e-5f, kBnMomentum = 0.1f;

// Buffers of one node; sizes in elements for `capacity` images. Unused buffers stay empty.
struct Network::NodeState {
  int64_t out_size = 0;               // H·W·C of the output per image
  Buffer<float> out, dout;            // [cap, H, W, C]
  Buffer<int32_t> argmax;             // max pool: [cap, H, W, C]
  Buffer<float> tmp;                  // merge sum of three inputs: partial sum
  bool needs_grad = false;            // some weighted node is upstream
  // Weighted nodes.
  int theta = -1, log_sigma2 = -1, bias = -1, mu_z = -1, log_sigma2_z = -1, gamma = -1, beta = -1;
  int running_mean = -1, running_var = -1;
  int groups = 0, inner = 1;          // BC groups and the weight index stride of a group
  Buffer<float> pre, dpre;            // sampled / deterministic output before BN and ReLU
  Buffer<float> bn, dbn;              // BN output before ReLU
  Buffer<float> save_mean, save_invstd;
  Buffer<float> mu, var, dvar, dmu;   // local reparameterization: mean and variance of the pre-activation
  Buffer<float> x2, dx2;              // x ⊙ x (or (x⊙z)²) [cap, input size]
  Buffer<float> xz, dxz;              // BC FC: x ⊙ z [cap, In]
  Buffer<float> z, dz;                // BC: [cap, groups]
  Buffer<float> sigma2, dsigma2;      // [weights]
  Buffer<float> log_alpha;            // [weights] (SpVD) or [groups] (BC)
  Buffer<float> w_eval, b_eval;       // deterministic model weights (BN folded)
  int64_t in_size = 0;                // input elements per image
};

}  // namespace sparse::nn
