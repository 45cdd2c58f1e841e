// Deterministic pruned weights of a Network (REFERENCE.md §3-4), batch-norm folding, and the pruning state the
// memory models (host/memory) take: exact non-zero counts and active channels, with structurally dead weights
// (those reading an identically zero channel) removed.
#include <cmath>

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
  if (n.kind == NodeKind::conv) return static_cast<int>((e / cout) % in.c);
  return static_cast<int>((e / cout) % in.c);  // fc [In, Out], In flattened (h, w, c)
}

// Walks the graph in order; with `prune`, zeroes dead weights of `m` on the way. Returns the state.
memory::PruningState walk(DeterministicModel& m, bool prune) {
  const auto& g = m.graph;
  memory::PruningState st;
  st.nonzero_weights.assign(g.nodes.size(), 0);
  st.active_channels.assign(g.nodes.size(), 0);
  std::vector<std::vector<char>> zero(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    const int c = n.out.c;
    auto& z = zero[i];
    z.assign(static_cast<size_t>(c), 0);
    auto in_zero = [&](size_t k) -> const std::vector<char>& { return zero[static_cast<size_t>(n.inputs[k])]; };
    switch (n.kind) {
      case NodeKind::input:
      case NodeKind::channel_max: break;
      case NodeKind::max_pool: z = in_zero(0); break;
      case NodeKind::add:
      case NodeKind::merge_sum:
        for (int ch = 0; ch < c; ++ch) {
          bool all = true;
          for (size_t k = 0; k < n.inputs.size(); ++k) all = all && in_zero(k)[static_cast<size_t>(ch)];
          z[static_cast<size_t>(ch)] = all;
        }
        break;
      case NodeKind::merge_concat: {
        size_t off = 0;
        for (size_t k = 0; k < n.inputs.size(); ++k)
          for (char v : in_zero(k)) z[off++] = v;
        break;
      }
      case NodeKind::conv:
      case NodeKind::depthwise_conv:
      case NodeKind::fc: {
        auto& L = m.layers[i];
        const auto& zin = in_zero(0);
        std::vector<char> live(static_cast<size_t>(c), 0);
        int64_t nnz = 0;
        for (int64_t e = 0; e < static_cast<int64_t>(L.weights.size()); ++e) {
          float& w = L.weights[static_cast<size_t>(e)];
          if (w == 0.0f) continue;
          if (zin[static_cast<size_t>(input_channel(g, i, e))]) {
            if (prune) w = 0.0f;
            continue;
          }
          ++nnz;
          live[static_cast<size_t>(e % c)] = 1;
        }
        for (int ch = 0; ch < c; ++ch) {
          if (L.bias[static_cast<size_t>(ch)] != 0.0f) {
            ++nnz;
            live[static_cast<size_t>(ch)] = 1;
          }
          z[static_cast<size_t>(ch)] = !live[static_cast<size_t>(ch)];
        }
        st.nonzero_weights[i] = nnz;
        break;
      }
    }
    int active = 0;
    for (char v : z) active += !v;
    st.active_channels[i] = active;
  }
  return st;
}

}  // namespace

memory::PruningState pruning_state(const DeterministicModel& m) {
  DeterministicModel copy = m;
  return walk(copy, false);
}

void remove_dead_weights(DeterministicModel& m) { walk(m, true); }

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
    const float tau = static_cast<float>(g.pruning_threshold);
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
    const double tau = graph_.nodes[i].pruning_threshold;
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
