// A trained network with its deterministic pruned weights (REFERENCE.md §3-4): what evaluation, int8
// quantization, the int8 executor and codegen consume.
// Invariants: layers.size() == graph.nodes.size(); a weighted node (conv, depthwise_conv, fc) has
// weights.size() == its dense weight count and bias.size() == its output channels / neurons; other nodes have
// both empty. Pruned weights are exact zeros. Batch-norm is folded in (w' = w·γ/σ, b' = (b − μ)·γ/σ + β),
// so `batch_norm` flags in the graph are informational only here.
// Layouts: conv [KH, KW, C_in, C_out] (HWIO); depthwise [KH, KW, 1, C]; fc [In, Out] with In the NHWC
// flattening (h, w, c) of its input node. Node semantics are those of host/graph/graph.hpp: conv stride 1,
// `same` padding pads (k−1)/2 before and the rest after, ReLU after the node when `relu` is set, add
// center-crops its second input to the first's H×W, merge_sum adds all inputs, merge_concat concatenates
// channels in input order, max_pool window = stride = `kernel` (floor), channel_max is max over channels.
#pragma once
#include <vector>

#include "host/graph/graph.hpp"

namespace sparse::nn {

struct DenseLayer {
  std::vector<float> weights;  // see layouts above
  std::vector<float> bias;     // [C_out]
};

struct DeterministicModel {
  graph::Graph graph;
  std::vector<DenseLayer> layers;  // index = node index
};

}  // namespace sparse::nn
