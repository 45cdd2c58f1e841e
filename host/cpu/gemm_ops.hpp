// Fast float convolution and linear ops of the CPU backend (conv_gemm.cpp), shared by cpu_backend.cpp.
// Invariants: same semantics as sparse::ref (host/cpu/ref_ops.hpp) up to float summation order; regular and
// grouped convs run as one im2col + Eigen GEMM per chunk of images and group, a 1×1 stride-1 unpadded conv
// as a plain GEMM, depthwise (groups == c_in > 1) as direct loops; threads split the batch (the rows of dW
// for linear backward-weight), per-thread partial dW are reduced in thread order.
#pragma once
#include "host/core/op_args.hpp"
#include "host/cpu/parallel.hpp"

namespace sparse::cpu {

void conv2d_forward(Team& team, const Conv2dForwardArgsT<float>& a);
void conv2d_backward_data(Team& team, const Conv2dBackwardDataArgsT<float>& a);
void conv2d_backward_filter(Team& team, const Conv2dBackwardFilterArgsT<float>& a);
void linear_forward(Team& team, const LinearForwardArgsT<float>& a);
void linear_backward_data(Team& team, const LinearBackwardDataArgsT<float>& a);
void linear_backward_weight(Team& team, const LinearBackwardWeightArgsT<float>& a);

}  // namespace sparse::cpu
