// The network a Config builds (paper §3.1, REFERENCE.md §2): nodes in topological order with shapes and weight counts.
// Invariants: nodes[i].inputs only name earlier nodes; every shape is >= 1 in each dimension; `weights` counts
// weights plus biases of the node (batch-norm is folded into the preceding conv, so it adds none);
// FC outputs have shape 1 x 1 x width.
//
// Construction (decisions taken here, documented for host/nn and codegen):
//  - input H x W x C from the Config; downsample-input-in-depth: max over channels (C -> 1);
//    downsample-input: spatial max pool, window = stride = input-downsampling-rate.
//  - Conv2D: k x k conv (stride 1, padding same|valid) to F filters.
//    DownsampledConv2D: 1x1 conv to ceil(downsample * C_in) channels (linear, no BN/ReLU), then the k x k conv.
//    SeparableConv2D: depthwise k x k (C_in channels), then pointwise 1x1 to F (no ReLU between).
//    The last conv of each layer carries optional batch-norm (global switch) and ReLU.
//  - residual-connections: for each pair of consecutive layers (1,2), (3,4), ... of a block,
//    out = layer2(layer1(x)) + skip(x); skip is a 1x1 projection conv when channel counts differ, and is
//    center-cropped to the output's H x W when valid padding shrank it (a crop is a view, no weights).
//  - each block ends in a 2x2 max pool (stride 2, floor).
//  - FC widths: W = total-fc-layer-weights is shared by the branch FC layers that exist (main when
//    num-fc-layers = 1, left, right) in proportion to their weight fractions normalized over those layers
//    (equal shares when the fractions sum to 0). A layer with F inputs and share s gets
//    width = max(1, floor(s * W / F)), so its weight matrix has at most s * W entries (biases excluded).
//    Merge Sum needs equal widths: with num-fc-layers = 1 every branch gets the smallest of the widths;
//    with num-fc-layers = 0 the main branch is flatten(last block) of size F_main and every branch FC
//    gets width F_main.
//  - left = FC(flatten(output of block 1)), right = FC(flatten(input of block 1)), both with ReLU;
//    main = FC(flatten(last block)) with ReLU when num-fc-layers = 1, else flatten(last block);
//    merge = Sum or Concatenate of [main, left, right]; output = FC to num-classes (no ReLU).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/space/config.hpp"

namespace sparse::graph {

enum class NodeKind { input, channel_max, max_pool, conv, depthwise_conv, fc, add, merge_sum, merge_concat };
const char* to_string(NodeKind k);

struct Shape {
  int h = 1, w = 1, c = 1;
  int64_t size() const { return static_cast<int64_t>(h) * w * c; }
  bool operator==(const Shape&) const = default;
};

struct Node {
  NodeKind kind = NodeKind::input;
  std::string name;         // e.g. "block1.layer2.pointwise", "fc.left", "merge"
  std::vector<int> inputs;  // earlier node indices
  Shape out;
  int kernel = 0;           // conv/depthwise: k; max_pool: window (= stride)
  space::Padding padding = space::Padding::valid;
  bool batch_norm = false, relu = false;
  int64_t weights = 0;      // dense weights + biases (eq. 4 counts these before pruning)
  int64_t biases = 0;       // of which biases (one per output channel / neuron)
  double pruning_threshold = 0;  // τ of the Config layer this node belongs to (weighted nodes)
  bool has_weights() const { return weights > 0; }
};

struct Graph {
  std::vector<Node> nodes;  // topological order; nodes[0] is the input, nodes.back() the output FC
  // The model's input after input downsampling (REFERENCE.md §1): the last of the channel_max / max_pool nodes that
  // downsample the raw image (nodes 1..model_input), or 0 when the Config downsamples nothing. Those nodes are how
  // the input is acquired, not layers: eqs. 5-6 count nodes[model_input]'s output as the first layer's x_l.
  int model_input = 0;
  int64_t params() const;   // Σ weights (dense)
  const Node& node(const std::string& name) const;
  int index(const std::string& name) const;  // -1 when absent
};

// Build the network of `c`; throws sparse::Error naming the Config field when a shape would fall below 1.
Graph build_graph(const space::Config& c);

}  // namespace sparse::graph
