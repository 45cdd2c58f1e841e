// Float reference forward of a DeterministicModel on one NHWC image: the real-valued network the int8 model
// approximates (REFERENCE.md §6), also the calibration pass of host/nn/quantize.hpp.
// Invariants: plain loops with the node semantics of host/nn/deterministic_model.hpp and host/graph/graph.hpp;
// sums accumulate in double and are stored as float; no state, safe to call from several threads.
// Merge nodes read their inputs flattened (NHWC order), as the graph builds them: merge_sum adds inputs of equal
// size (flatten(last block) with FC outputs when num-fc-layers = 0); merge_concat with a 1×1 output
// concatenates the flattened inputs, with a larger output it concatenates channels of inputs of its H×W.
#pragma once
#include <cstdint>
#include <vector>

#include "host/nn/deterministic_model.hpp"

namespace sparse::nn {

// First row (or column) of the center crop of a length-`from` axis to length `to` (add's second input):
// floor((from − to) / 2), so an odd surplus leaves the extra row at the end (as `same` padding does).
inline int center_crop_offset(int from, int to) { return (from - to) / 2; }

// Throws sparse::Error when `m` breaks an invariant of deterministic_model.hpp (layer count, weight and bias
// sizes) or a node's inputs do not fit its kind (add shapes, merge_sum sizes, concat sizes).
void check_model(const DeterministicModel& m);

// Forward of one image x [H, W, C] (normalized floats, the input node's shape). Returns the output node's
// values [num_classes] (logits). When `node_outputs` is given it receives every node's output, index = node,
// each [out.h, out.w, out.c] NHWC (node 0 is a copy of x). Does not call check_model (callers do once).
std::vector<float> run_float(const DeterministicModel& m, const float* x,
                             std::vector<std::vector<float>>* node_outputs = nullptr);

}  // namespace sparse::nn
