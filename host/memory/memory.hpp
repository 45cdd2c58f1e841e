// The paper's memory models (§3.2, REFERENCE.md §1) on a Graph and a pruning state.
//  MODELSIZE (eq. 4)        = ‖ω‖₀ = Σ_l non-zero weights (biases included) at the weight bit width.
//  WORKINGMEMORY_l eq. (5)  = ‖x_l‖₀ + ‖ω_l‖₀;   eq. (6) = ‖x_l‖₀ + ‖y_l‖₀;   WM = max over layers l.
// Layers l are all nodes but the input and, with WmInput::downsampled (the default, as the paper counts: its Table 4
// reports WM6 below the raw image size), the input-downsampling nodes 1..g.model_input: the downsampled image is the
// first layer's x_l. WmInput::raw counts those nodes as layers whose input is the raw image (WM >= the image size).
// x_l is the concatenation of a node's inputs (merge and residual add
// count both operands). Activations of structurally pruned channels do not count: ‖y‖₀ = H·W·active channels.
// Bytes: ceil(count · bits / 8), activations at activation_bits, weights at weight_bits.
// Active-channel propagation: weighted nodes take their count from the state (a depthwise conv can only keep
// channels its input has); max pool keeps its input's; channel-max has 1; an add or Sum merge keeps
// min(C, Σ inputs) (an upper bound: the union of channel sets is not known from counts); concat keeps Σ.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/graph/graph.hpp"

namespace sparse::memory {

// Per node (index = node index); entries of nodes without weights are ignored.
struct PruningState {
  std::vector<int64_t> nonzero_weights;  // ‖ω_l‖₀ incl. biases
  std::vector<int> active_channels;      // conv: output channels kept; FC: output neurons kept
};

// No pruning: every weight non-zero, every channel active.
PruningState dense_state(const graph::Graph& g);
// Structured (BC) pruning: `active_channels` per node (weighted nodes; others ignored); non-zero weights are
// the dense weights restricted to active input and output channels: conv k·k·a_in·a_out + a_out,
// depthwise k·k·a + a, FC (H·W·a_in)·a_out + a_out.
PruningState structured_state(const graph::Graph& g, const std::vector<int>& active_channels);

// Whether input downsampling is a layer (raw: the raw image is some layer's x_l) or part of acquiring the input.
enum class WmInput { downsampled, raw };
const char* to_string(WmInput w);
// "downsampled" | "raw"; throws naming the value and the choices otherwise.
WmInput parse_wm_input(const std::string& name);

struct NodeMemory {
  int64_t x = 0, w = 0, y = 0;  // ‖x_l‖₀, ‖ω_l‖₀, ‖y_l‖₀ (counts)
  bool layer = false;           // counted in the WM maximum (not the input, not input downsampling when downsampled)
  int active_channels = 0;
  int64_t wm5_bytes = 0, wm6_bytes = 0, ms_bytes = 0;
};

struct MemoryReport {
  std::vector<NodeMemory> nodes;  // index = node index; nodes[0] (input) has x = w = 0
  int64_t params = 0;             // dense weights + biases
  int64_t nonzero = 0;            // ‖ω‖₀
  int64_t ms_bytes = 0;           // eq. 4 in bytes
  int64_t wm5_bytes = 0, wm6_bytes = 0;  // max over layers
  int wm5_node = -1, wm6_node = -1;      // argmax
};

MemoryReport memory_report(const graph::Graph& g, const PruningState& state, int weight_bits = 8,
                           int activation_bits = 8, WmInput wm_input = WmInput::downsampled);

inline int64_t bytes_at(int64_t count, int bits) { return (count * bits + 7) / 8; }

}  // namespace sparse::memory
