// Lowering of an int8 QuantizedModel (host/nn/quantize.hpp, REFERENCE.md §6) to the static program codegen
// emits: one op per graph node but the input, tensors placed in one static arena, weights in the smallest
// encoding per layer.
// Invariants of a LoweredModel:
//  - tensor t is node t's output, out.size() int8 bytes; tensor 0 (the input) and the last tensor (the scores)
//    are external (the caller's buffers) and take no arena bytes; op k computes node k + 1.
//  - input acquisition (REFERENCE.md §1): when the model downsamples its input (model_input > 0: nodes
//    1..model_input are a chain of channel_max / max_pool nodes reading the raw image), those nodes are fused
//    into reading the raw image: op model_input − 1 ("acquire") pools the raw rows straight into tensor
//    model_input (the downsampled image, in the arena) with a running max, one raw row at a time; the raw
//    image and the intermediate tensors 1..model_input − 1 are external (never in RAM: the caller's image may
//    stay in flash or be streamed by rows), and ops 0..model_input − 2 emit nothing.
//  - plan.order is a topological order of the ops; the emitted predict() runs them in that order; every arena
//    tensor lies in [0, plan.arena_bytes) and no two tensors alive at the same step overlap (memory_planner.hpp).
//  - in-place ops (output over the first input's bytes when that input dies there) are exactly those whose
//    kernel writes output element e only after reading every input element it still needs at index >= e:
//    add and merge_sum (element-wise), max_pool and channel_max (output index <= every later-read input
//    index; see lowering.cpp). Convolutions and concat never run in place.
//  - layers[node] holds the encoded weights of conv/depthwise/fc nodes (rows = cout, cols = kh·kw·cin/groups),
//    chosen by encode_smallest (bytes including indices); empty for other nodes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codegen/memory_planner.hpp"
#include "codegen/weight_encoding.hpp"
#include "host/nn/quantize.hpp"

namespace sparse::codegen {

struct LayerFlash {            // flash bytes of one weighted node
  int64_t values = 0;          // weight values stored (dense: all, zeros included; bitmask: non-zeros;
                               // relative index: entries incl. padding)
  int64_t indices = 0;         // masks, gaps and row counts
  int64_t params = 0;          // bias (4·cout) + multiplier (4·cout) + shift (cout)
  int64_t nonzero = 0;         // non-zero weights
  int64_t dense = 0;           // cout·cols
  int64_t total() const { return values + indices + params; }
};

struct LoweredModel {
  nn::QuantizedModel q;
  std::vector<std::optional<EncodedWeights>> weights;  // [nodes]
  std::vector<LayerFlash> flash;                        // [nodes] (zeros for unweighted nodes)
  std::vector<PlanTensor> tensors;                      // [nodes]
  std::vector<PlanOp> ops;                              // [nodes − 1]
  MemoryPlan plan;

  int64_t weight_value_bytes() const;  // Σ values
  int64_t index_bytes() const;         // Σ indices
  int64_t param_bytes() const;         // Σ params
  int64_t data_bytes() const { return weight_value_bytes() + index_bytes() + param_bytes(); }
  int model_input = 0;        // see above; 0 when the input is used as is
  int acquire_pool = 1;       // fused spatial max-pool window = stride (product of the chain's windows)
  bool acquire_depth_max = false;  // fused channel max

  bool fused_input() const { return model_input > 0; }
  // Raw image bytes [H][W][C] (the caller's; read in place or streamed by rows when fused_input()).
  int64_t raw_input_bytes() const { return q.nodes.front().out.size(); }
  int64_t input_bytes() const { return raw_input_bytes(); }
  // Bytes of the input that must be in RAM outside the arena: the raw image when it is used as is (the first
  // layer reads it with random access), 0 when fused (the downsampled image is an arena tensor).
  int64_t input_ram_bytes() const { return fused_input() ? 0 : raw_input_bytes(); }
  // One raw row [W][C]: the stack buffer of NAME_predict_rows (fused models only).
  int64_t raw_row_bytes() const { return static_cast<int64_t>(q.nodes.front().out.w) * q.nodes.front().out.c; }
  int64_t output_bytes() const { return q.nodes.back().out.size(); }
};

// Checks every node against what the runtime kernels implement (kind, input count, shapes, parameter
// sizes); errors name the node index, its name and the offending numbers. Then encodes and plans.
// `model_input`: graph::Graph::model_input of the model's graph (the last input-downsampling node), or -1 to
// take the longest chain of channel_max / max_pool nodes 1..k reading node k − 1 and read by nobody else (what
// graph::build_graph produces). A given value must be such a chain; 0 keeps the raw input as a tensor.
LoweredModel lower(const nn::QuantizedModel& q, int max_orders = 2000, int model_input = -1);

}  // namespace sparse::codegen
