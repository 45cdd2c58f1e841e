// MODELSIZE (eq. 4) and WORKINGMEMORY (eqs. 5, 6) over the graph, with structured-pruning channel propagation.
#include "host/memory/memory.hpp"

#include <algorithm>

#include "host/core/error.hpp"

namespace sparse::memory {

using graph::Graph;
using graph::Node;
using graph::NodeKind;

const char* to_string(WmInput w) { return w == WmInput::raw ? "raw" : "downsampled"; }

WmInput parse_wm_input(const std::string& name) {
  if (name == "downsampled") return WmInput::downsampled;
  if (name == "raw") return WmInput::raw;
  SPARSE_FAIL("working-memory input '" << name << "': expected 'downsampled' or 'raw'");
}

PruningState dense_state(const Graph& g) {
  PruningState s;
  s.nonzero_weights.resize(g.nodes.size());
  s.active_channels.resize(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    s.nonzero_weights[i] = g.nodes[i].weights;
    s.active_channels[i] = g.nodes[i].out.c;
  }
  return s;
}

namespace {

// Active output channels of every node, propagated in topological order.
void propagate(const Graph& g, const std::vector<int>& given, std::vector<int>& active) {
  active.resize(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    auto in = [&](size_t k) { return active[static_cast<size_t>(n.inputs[k])]; };
    int a = n.out.c;
    switch (n.kind) {
      case NodeKind::input: a = n.out.c; break;
      case NodeKind::channel_max: a = 1; break;
      case NodeKind::max_pool: a = in(0); break;
      case NodeKind::conv:
      case NodeKind::fc: a = given[i]; break;
      case NodeKind::depthwise_conv: a = std::min(given[i], in(0)); break;
      case NodeKind::add: {
        int64_t s = 0;
        for (size_t k = 0; k < n.inputs.size(); ++k) s += in(k);
        a = static_cast<int>(std::min<int64_t>(n.out.c, s));
        break;
      }
      case NodeKind::merge_sum:
      case NodeKind::merge_concat: {  // inputs are flattened: count H·W·active of each
        int64_t s = 0;
        for (size_t k = 0; k < n.inputs.size(); ++k) s += g.nodes[static_cast<size_t>(n.inputs[k])].out.h *
                                                          static_cast<int64_t>(g.nodes[static_cast<size_t>(n.inputs[k])].out.w) * in(k);
        a = static_cast<int>(n.kind == NodeKind::merge_sum ? std::min<int64_t>(n.out.c, s) : s);
        break;
      }
    }
    SPARSE_CHECK(a >= 0 && a <= n.out.c, "pruning state: node '" << n.name << "' has " << a
                                                                  << " active channels, expected 0.." << n.out.c);
    active[i] = a;
  }
}

int64_t active_size(const Node& n, int active) { return static_cast<int64_t>(n.out.h) * n.out.w * active; }

}  // namespace

PruningState structured_state(const Graph& g, const std::vector<int>& active_channels) {
  SPARSE_CHECK(active_channels.size() == g.nodes.size(),
               "structured_state: " << active_channels.size() << " channel counts for " << g.nodes.size() << " nodes");
  PruningState s;
  propagate(g, active_channels, s.active_channels);
  s.nonzero_weights.assign(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (!n.has_weights()) continue;
    const size_t src = static_cast<size_t>(n.inputs[0]);
    const int64_t a_out = s.active_channels[i];
    const int64_t a_in = s.active_channels[src];
    const int64_t k2 = static_cast<int64_t>(n.kernel) * n.kernel;
    switch (n.kind) {
      case NodeKind::conv: s.nonzero_weights[i] = k2 * a_in * a_out + a_out; break;
      case NodeKind::depthwise_conv: s.nonzero_weights[i] = k2 * a_out + a_out; break;
      case NodeKind::fc: s.nonzero_weights[i] = active_size(g.nodes[src], static_cast<int>(a_in)) * a_out + a_out; break;
      default: break;
    }
  }
  return s;
}

MemoryReport memory_report(const Graph& g, const PruningState& state, int weight_bits, int activation_bits,
                           WmInput wm_input) {
  SPARSE_CHECK(weight_bits >= 1 && weight_bits <= 64, "weight bits = " << weight_bits << ", expected 1..64");
  SPARSE_CHECK(activation_bits >= 1 && activation_bits <= 64,
               "activation bits = " << activation_bits << ", expected 1..64");
  SPARSE_CHECK(state.nonzero_weights.size() == g.nodes.size() && state.active_channels.size() == g.nodes.size(),
               "pruning state has " << state.nonzero_weights.size() << " weight counts and "
                                    << state.active_channels.size() << " channel counts for " << g.nodes.size()
                                    << " nodes");
  MemoryReport r;
  r.nodes.resize(g.nodes.size());
  std::vector<int> active;
  propagate(g, state.active_channels, active);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    NodeMemory& m = r.nodes[i];
    m.active_channels = active[i];
    m.y = n.kind == NodeKind::merge_concat ? active[i] : active_size(n, active[i]);
    r.params += n.weights;
    if (n.has_weights()) {
      SPARSE_CHECK(state.nonzero_weights[i] >= 0 && state.nonzero_weights[i] <= n.weights,
                   "pruning state: node '" << n.name << "' has " << state.nonzero_weights[i]
                                           << " non-zero weights, expected 0.." << n.weights);
      m.w = state.nonzero_weights[i];
    }
    if (n.kind == NodeKind::input) continue;
    m.layer = wm_input == WmInput::raw || static_cast<int>(i) > g.model_input;
    for (int src : n.inputs) m.x += r.nodes[static_cast<size_t>(src)].y;  // eq. 5/6: x_l = [x¹; x²] for merges
    m.ms_bytes = bytes_at(m.w, weight_bits);
    m.wm5_bytes = bytes_at(m.x, activation_bits) + bytes_at(m.w, weight_bits);
    m.wm6_bytes = bytes_at(m.x, activation_bits) + bytes_at(m.y, activation_bits);
    r.nonzero += m.w;
    if (!m.layer) continue;
    if (m.wm5_bytes > r.wm5_bytes || r.wm5_node < 0) {
      r.wm5_bytes = m.wm5_bytes;
      r.wm5_node = static_cast<int>(i);
    }
    if (m.wm6_bytes > r.wm6_bytes || r.wm6_node < 0) {
      r.wm6_bytes = m.wm6_bytes;
      r.wm6_node = static_cast<int>(i);
    }
  }
  r.ms_bytes = bytes_at(r.nonzero, weight_bits);
  return r;
}

}  // namespace sparse::memory
