// The op list (X-macro): every backend op once, with its argument struct (host/core/op_args.hpp).
// It drives the Backend interface, the CPU and CUDA dispatch, tests/backend_ops (each op must have a test
// case there, or the test does not compile) and the coverage report, so a new op cannot miss its test.
// X(name, ArgsTemplate): ArgsTemplate<float> is what the backend takes.
#pragma once
#include "host/core/op_args.hpp"

#define SPARSE_OP_LIST(X)                              \
  X(conv2d_forward, Conv2dForwardArgsT)                \
  X(conv2d_backward_data, Conv2dBackwardDataArgsT)     \
  X(conv2d_backward_filter, Conv2dBackwardFilterArgsT) \
  X(linear_forward, LinearForwardArgsT)                \
  X(linear_backward_data, LinearBackwardDataArgsT)     \
  X(linear_backward_weight, LinearBackwardWeightArgsT) \
  X(max_pool_forward, MaxPoolForwardArgsT)             \
  X(max_pool_backward, MaxPoolBackwardArgsT)           \
  X(channel_max_forward, ChannelMaxForwardArgsT)       \
  X(batch_norm_forward, BatchNormForwardArgsT)         \
  X(batch_norm_backward, BatchNormBackwardArgsT)       \
  X(relu_forward, ReluForwardArgsT)                    \
  X(relu_backward, ReluBackwardArgsT)                  \
  X(add_forward, AddForwardArgsT)                      \
  X(add_backward, AddBackwardArgsT)                    \
  X(concat_forward, ConcatForwardArgsT)                \
  X(concat_backward, ConcatBackwardArgsT)              \
  X(softmax_cross_entropy, SoftmaxCrossEntropyArgsT)   \
  X(square_forward, SquareForwardArgsT)                \
  X(square_backward, SquareBackwardArgsT)              \
  X(spvd_variance_forward, SpvdVarianceForwardArgsT)   \
  X(spvd_variance_backward, SpvdVarianceBackwardArgsT) \
  X(lrt_sample_forward, LrtSampleForwardArgsT)         \
  X(lrt_sample_backward, LrtSampleBackwardArgsT)       \
  X(log_alpha, LogAlphaArgsT)                          \
  X(spvd_kl_forward, SpvdKlForwardArgsT)               \
  X(spvd_kl_backward, SpvdKlBackwardArgsT)             \
  X(bc_sample_z_forward, BcSampleZForwardArgsT)        \
  X(bc_sample_z_backward, BcSampleZBackwardArgsT)      \
  X(scale_groups_forward, ScaleGroupsForwardArgsT)     \
  X(scale_groups_backward, ScaleGroupsBackwardArgsT)   \
  X(bc_epilogue_forward, BcEpilogueForwardArgsT)       \
  X(bc_epilogue_backward, BcEpilogueBackwardArgsT)     \
  X(bc_kl_forward, BcKlForwardArgsT)                   \
  X(bc_kl_backward, BcKlBackwardArgsT)                 \
  X(adam, AdamArgsT)                                   \
  X(prune_mask, PruneMaskArgsT)
