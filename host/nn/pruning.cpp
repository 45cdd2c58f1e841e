// Deterministic pruned weights of a Network (REFERENCE.md §3-4), batch-norm folding, and the pruning state the
// memory models (host/memory) take: exact non-zero counts and active channels, with structurally dead weights
// removed: those reading an identically zero channel, and those producing a channel no live weight reads (so
// Bayesian Compression's pruned FC input neurons remove the conv channels they came from). Removing them
// changes no output: a zero channel contributes nothing, an unread one is never used.
#include <cmath>
#include <limits>

#include "host/core/error.hpp"
#include "host/nn/network_state.hpp"

namespace sparse::nn {

using graph::NodeKind;

namespace {

// Input channel that weight e of weighted node i reads; for depthwise the channel itself.
int input_channel(const graph::Graph& g, size_t i, int64_t e) {
  const auto& n = g.nodes[i];
  const auto& in = g.nodes[static_cast<size_t>(n.inputs[0])].out;
  const int cout = n.out.c;
  if (n.kind == NodeKind::depthwise_conv) return static_cast<int>(e % cout);
  return static_cast<int>((e / cout) % in.c);  // conv HWIO, or fc [In, Out] with In flattened (h, w, c)
}

using Flags = std::vector<std::vector<char>>;  // [node][channel]

// Channel of input `k` of merge/add node `n` that the node's output channel `oc` reads, or -1 (concat: another
// input's part). Merge inputs are read flattened (h, w, c), so a flat index maps to channel index % C.
int merge_source(const graph::Graph& g, const graph::Node& n, size_t k, int oc) {
  const auto& in = g.nodes[static_cast<size_t>(n.inputs[k])].out;
  if (n.kind == NodeKind::merge_concat) {
    int64_t off = 0;
    for (size_t j = 0; j < k; ++j) off += g.nodes[static_cast<size_t>(n.inputs[j])].out.size();
    const int64_t t = oc - off;
    return t >= 0 && t < in.size() ? static_cast<int>(t % in.c) : -1;
  }
  return static_cast<int>(oc % in.c);  // add (same channels), merge_sum (flat index)
}

// Forward: which output channels are identically zero (no live weight, zero bias; or all sources zero). With
// `prune`, weights reading a zero channel are zeroed. Returns whether a weight changed.
bool forward_zero(DeterministicModel& m, Flags& zero, bool prune) {
  const auto& g = m.graph;
  bool changed = false;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    const int c = n.out.c;
    auto& z = zero[i];
    z.assign(static_cast<size_t>(c), 0);
    switch (n.kind) {
      case NodeKind::input:
      case NodeKind::channel_max: break;
      case NodeKind::max_pool: z = zero[static_cast<size_t>(n.inputs[0])]; break;
      case NodeKind::add:
      case NodeKind::merge_sum:
      case NodeKind::merge_concat:
        for (int oc = 0; oc < c; ++oc) {
          bool all = true;
          for (size_t k = 0; k < n.inputs.size(); ++k) {
            const int src = merge_source(g, n, k, oc);
            if (src >= 0) all = all && zero[static_cast<size_t>(n.inputs[k])][static_cast<size_t>(src)];
          }
          z[static_cast<size_t>(oc)] = all;
        }
        break;
      case NodeKind::conv:
      case NodeKind::depthwise_conv:
      case NodeKind::fc: {
        auto& L = m.layers[i];
        const auto& zin = zero[static_cast<size_t>(n.inputs[0])];
        std::vector<char> live(static_cast<size_t>(c), 0);
        for (int64_t e = 0; e < static_cast<int64_t>(L.weights.size()); ++e) {
          float& w = L.weights[static_cast<size_t>(e)];
          if (w == 0.0f) continue;
          if (zin[static_cast<size_t>(input_channel(g, i, e))]) {
            if (prune) {
              w = 0.0f;
              changed = true;
            }
            continue;
          }
          live[static_cast<size_t>(e % c)] = 1;
        }
        for (int ch = 0; ch < c; ++ch)
          z[static_cast<size_t>(ch)] = !live[static_cast<size_t>(ch)] && L.bias[static_cast<size_t>(ch)] == 0.0f;
        break;
      }
    }
  }
  return changed;
}

// Backward: which output channels some live consumer reads (the network output is read entirely). With
// `prune`, the weights and bias of a weighted node's unread channel are zeroed. Returns whether anything changed.
bool backward_unused(DeterministicModel& m, Flags& used, bool prune) {
  const auto& g = m.graph;
  bool changed = false;
  for (size_t i = 0; i < g.nodes.size(); ++i) used[i].assign(static_cast<size_t>(g.nodes[i].out.c), 0);
  used.back().assign(used.back().size(), 1);
  for (size_t i = g.nodes.size(); i-- > 1;) {
    const auto& n = g.nodes[i];
    const int c = n.out.c;
    const auto& u = used[i];
    switch (n.kind) {
      case NodeKind::input: break;
      case NodeKind::channel_max: {
        bool any = false;
        for (char v : u) any = any || v;
        if (any) for (auto& v : used[static_cast<size_t>(n.inputs[0])]) v = 1;
        break;
      }
      case NodeKind::max_pool:
        for (int ch = 0; ch < c; ++ch)
          if (u[static_cast<size_t>(ch)]) used[static_cast<size_t>(n.inputs[0])][static_cast<size_t>(ch)] = 1;
        break;
      case NodeKind::add:
      case NodeKind::merge_sum:
      case NodeKind::merge_concat:
        for (int oc = 0; oc < c; ++oc) {
          if (!u[static_cast<size_t>(oc)]) continue;
          for (size_t k = 0; k < n.inputs.size(); ++k) {
            const int src = merge_source(g, n, k, oc);
            if (src >= 0) used[static_cast<size_t>(n.inputs[k])][static_cast<size_t>(src)] = 1;
          }
        }
        break;
      case NodeKind::conv:
      case NodeKind::depthwise_conv:
      case NodeKind::fc: {
        auto& L = m.layers[i];
        auto& uin = used[static_cast<size_t>(n.inputs[0])];
        for (int64_t e = 0; e < static_cast<int64_t>(L.weights.size()); ++e) {
          float& w = L.weights[static_cast<size_t>(e)];
          if (w == 0.0f) continue;
          if (!u[static_cast<size_t>(e % c)]) {
            if (prune) {
              w = 0.0f;
              changed = true;
            }
            continue;
          }
          uin[static_cast<size_t>(input_channel(g, i, e))] = 1;
        }
        if (prune)
          for (int ch = 0; ch < c; ++ch)
            if (!u[static_cast<size_t>(ch)] && L.bias[static_cast<size_t>(ch)] != 0.0f) {
              L.bias[static_cast<size_t>(ch)] = 0.0f;
              changed = true;
            }
        break;
      }
    }
  }
  return changed;
}

// Removes dead weights (forward: reading zero channels; backward: producing unread channels) until nothing
// changes, then counts. A weighted node's channel is active when it is neither zero nor unread.
memory::PruningState walk(DeterministicModel& m) {
  const auto& g = m.graph;
  Flags zero(g.nodes.size()), used(g.nodes.size());
  for (int round = 0; round < 64; ++round) {
    const bool f = forward_zero(m, zero, true);
    const bool b = backward_unused(m, used, true);
    if (!f && !b) break;
  }
  forward_zero(m, zero, false);
  backward_unused(m, used, false);
  memory::PruningState st;
  st.nonzero_weights.assign(g.nodes.size(), 0);
  st.active_channels.assign(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    int active = 0;
    for (int ch = 0; ch < n.out.c; ++ch)
      active += !zero[i][static_cast<size_t>(ch)] && used[i][static_cast<size_t>(ch)];
    st.active_channels[i] = n.kind == NodeKind::input ? n.out.c : active;
    if (!n.has_weights()) continue;
    int64_t nnz = 0;
    for (float w : m.layers[i].weights) nnz += w != 0.0f;
    for (float b : m.layers[i].bias) nnz += b != 0.0f;
    st.nonzero_weights[i] = nnz;
  }
  return st;
}

}  // namespace

memory::PruningState pruning_state(const DeterministicModel& m) {
  DeterministicModel copy = m;
  return walk(copy);
}

void remove_dead_weights(DeterministicModel& m) { walk(m); }

double Network::threshold_of(size_t node) const {
  return pruning_ ? graph_.nodes[node].pruning_threshold : std::numeric_limits<double>::infinity();
}

DeterministicModel Network::deterministic_model() {
  DeterministicModel m;
  m.graph = graph_;
  m.layers.resize(graph_.nodes.size());
  for (int wi : weighted_) {
    const size_t i = static_cast<size_t>(wi);
    const auto& g = graph_.nodes[i];
    auto& s = nodes_[i];
    auto& th = params_[static_cast<size_t>(s.theta)];
    auto& bi = params_[static_cast<size_t>(s.bias)];
    const float tau = static_cast<float>(threshold_of(i));
    const int cout = g.out.c;
    std::vector<float> group_la;
    if (method_ == Method::spvd) {
      be_.log_alpha({th.count(), th.value.data(), params_[static_cast<size_t>(s.log_sigma2)].value.data(), s.log_alpha.data()});
      be_.prune_mask({th.count(), tau, 0, 1, th.value.data(), s.log_alpha.data(), nullptr, s.w_eval.data()});
      be_.copy(s.b_eval.data(), bi.value.data(), bi.value.bytes());
    } else {
      const float* mu_z = params_[static_cast<size_t>(s.mu_z)].value.data();
      be_.log_alpha({s.groups, mu_z, params_[static_cast<size_t>(s.log_sigma2_z)].value.data(), s.log_alpha.data()});
      be_.prune_mask({th.count(), tau, s.groups, s.inner, th.value.data(), s.log_alpha.data(), mu_z, s.w_eval.data()});
      if (g.kind == NodeKind::fc) be_.copy(s.b_eval.data(), bi.value.data(), bi.value.bytes());
      else be_.prune_mask({cout, tau, cout, 1, bi.value.data(), s.log_alpha.data(), mu_z, s.b_eval.data()});
      group_la = s.log_alpha.download();
    }
    auto& L = m.layers[i];
    L.weights = s.w_eval.download();
    L.bias = s.b_eval.download();
    if (g.batch_norm) {
      // Fold BN (running statistics): w' = w·γ/σ, b' = (b − μ)·γ/σ + β, σ = sqrt(var + eps).
      const auto gamma = params_[static_cast<size_t>(s.gamma)].value.download();
      const auto beta = params_[static_cast<size_t>(s.beta)].value.download();
      const auto rm = params_[static_cast<size_t>(s.running_mean)].value.download();
      const auto rv = params_[static_cast<size_t>(s.running_var)].value.download();
      for (size_t e = 0; e < L.weights.size(); ++e) {
        const size_t ch = e % static_cast<size_t>(cout);
        L.weights[e] *= gamma[ch] / std::sqrt(rv[ch] + kBnEps);
      }
      for (int ch = 0; ch < cout; ++ch) {
        const size_t c = static_cast<size_t>(ch);
        L.bias[c] = (L.bias[c] - rm[c]) * gamma[c] / std::sqrt(rv[c] + kBnEps) + beta[c];
        // A BC-pruned channel stays zero after the fold (its output is removed, not shifted by BN).
        if (method_ == Method::bc && g.kind != NodeKind::fc && group_la[c] >= tau) L.bias[c] = 0.0f;
      }
    }
  }
  remove_dead_weights(m);
  return m;
}

double Network::pruned_share() {
  int64_t pruned = 0, total = 0;
  for (int wi : weighted_) {
    const size_t i = static_cast<size_t>(wi);
    auto& s = nodes_[i];
    auto& th = params_[static_cast<size_t>(s.theta)];
    const double tau = threshold_of(i);
    total += th.count();
    if (method_ == Method::spvd) {
      be_.log_alpha({th.count(), th.value.data(), params_[static_cast<size_t>(s.log_sigma2)].value.data(), s.log_alpha.data()});
      for (float la : s.log_alpha.download()) pruned += la >= tau;
    } else {
      be_.log_alpha({s.groups, params_[static_cast<size_t>(s.mu_z)].value.data(),
                     params_[static_cast<size_t>(s.log_sigma2_z)].value.data(), s.log_alpha.data()});
      const int64_t per_group = th.count() / s.groups;
      for (float la : s.log_alpha.download()) pruned += la >= tau ? per_group : 0;
    }
  }
  return total ? double(pruned) / double(total) : 0.0;
}

}  // namespace sparse::nn
