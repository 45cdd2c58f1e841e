// Network: forward/backward of the variational CNN over the backend ops (see network.hpp for the modes).
#include "host/nn/network.hpp"

#include <algorithm>
#include <cmath>

#include "host/core/error.hpp"
#include "host/core/philox.hpp"
#include "host/nn/network_state.hpp"

namespace sparse::nn {

using graph::NodeKind;

const char* to_string(Method m) { return m == Method::spvd ? "spvd" : "bc"; }

Method method_from_string(const std::string& s) {
  if (s == "spvd") return Method::spvd;
  if (s == "bc") return Method::bc;
  SPARSE_FAIL("method '" << s << "': expected spvd (Sparse Variational Dropout) or bc (Bayesian Compression)");
}

namespace {
constexpr float kAdamBeta1 = 0.9f, kAdamBeta2 = 0.999f, kAdamEps = 1e-8f;
uint64_t noise_offset(uint64_t step, size_t node, int which) { return step * 4096 + 2 * node + which; }
}  // namespace

Network::~Network() = default;

Network::Network(Backend& backend, const space::Config& config, Method method, int batch_capacity, uint64_t seed)
    : be_(backend), config_(config), graph_(graph::build_graph(config)), method_(method), capacity_(batch_capacity),
      seed_(seed) {
  SPARSE_CHECK(batch_capacity >= 1, "batch size " << batch_capacity << ": expected >= 1");
  allocate();
  init_params(seed);
}

int Network::add_param(const std::string& name, std::vector<int> dims, bool trained) {
  Param p;
  p.name = name;
  int64_t count = 1;
  for (int d : dims) count *= d;
  p.dims = std::move(dims);
  p.trained = trained;
  p.value = Buffer<float>(be_, static_cast<size_t>(count));
  if (trained) {
    p.grad = Buffer<float>(be_, static_cast<size_t>(count));
    p.m = Buffer<float>(be_, static_cast<size_t>(count));
    p.v = Buffer<float>(be_, static_cast<size_t>(count));
    p.m.zero();
    p.v.zero();
    p.grad.zero();
  }
  params_.push_back(std::move(p));
  return static_cast<int>(params_.size()) - 1;
}

Param* Network::find_param(const std::string& name) {
  for (auto& p : params_)
    if (p.name == name) return &p;
  return nullptr;
}

int64_t Network::trainable_count() const {
  int64_t n = 0;
  for (const auto& p : params_)
    if (p.trained) n += p.count();
  return n;
}

void Network::allocate() {
  const size_t cap = static_cast<size_t>(capacity_);
  nodes_.resize(graph_.nodes.size());
  for (size_t i = 0; i < graph_.nodes.size(); ++i) {
    const auto& g = graph_.nodes[i];
    auto& s = nodes_[i];
    s.out_size = g.out.size();
    s.out = Buffer<float>(be_, cap * static_cast<size_t>(s.out_size));
    for (int in : g.inputs) s.needs_grad = s.needs_grad || nodes_[static_cast<size_t>(in)].needs_grad;
    if (g.has_weights()) s.needs_grad = true;
    if (s.needs_grad) s.dout = Buffer<float>(be_, cap * static_cast<size_t>(s.out_size));
    if (g.kind == NodeKind::max_pool && s.needs_grad) s.argmax = Buffer<int32_t>(be_, cap * static_cast<size_t>(s.out_size));
    if (g.kind == NodeKind::merge_sum && g.inputs.size() > 2) s.tmp = Buffer<float>(be_, cap * static_cast<size_t>(s.out_size));
    if (!g.has_weights()) continue;
    weighted_.push_back(static_cast<int>(i));
    const auto& in = graph_.nodes[static_cast<size_t>(g.inputs[0])].out;
    s.in_size = in.size();
    const int cout = g.out.c;
    std::vector<int> wdims;
    if (g.kind == NodeKind::conv) wdims = {g.kernel, g.kernel, in.c, cout};
    else if (g.kind == NodeKind::depthwise_conv) wdims = {g.kernel, g.kernel, 1, cout};
    else wdims = {static_cast<int>(in.size()), cout};
    s.theta = add_param(g.name + "/theta", wdims);
    s.log_sigma2 = add_param(g.name + "/log_sigma2", wdims);
    s.bias = add_param(g.name + "/bias", {cout});
    const int64_t wcount = params_[static_cast<size_t>(s.theta)].count();
    if (method_ == Method::bc) {
      if (g.kind == NodeKind::fc) {
        s.groups = static_cast<int>(in.size());  // input neurons (REFERENCE.md §4)
        s.inner = cout;
      } else {
        s.groups = cout;  // output channels
        s.inner = 1;
      }
      s.mu_z = add_param(g.name + "/mu_z", {s.groups});
      s.log_sigma2_z = add_param(g.name + "/log_sigma2_z", {s.groups});
      s.z = Buffer<float>(be_, cap * static_cast<size_t>(s.groups));
      s.dz = Buffer<float>(be_, cap * static_cast<size_t>(s.groups));
      s.log_alpha = Buffer<float>(be_, static_cast<size_t>(s.groups));
      if (g.kind == NodeKind::fc) {
        s.xz = Buffer<float>(be_, cap * static_cast<size_t>(s.in_size));
        s.dxz = Buffer<float>(be_, cap * static_cast<size_t>(s.in_size));
      } else {
        s.dmu = Buffer<float>(be_, cap * static_cast<size_t>(s.out_size));
      }
    } else {
      s.log_alpha = Buffer<float>(be_, static_cast<size_t>(wcount));
    }
    if (g.batch_norm) {
      s.gamma = add_param(g.name + "/gamma", {cout});
      s.beta = add_param(g.name + "/beta", {cout});
      s.running_mean = add_param(g.name + "/running_mean", {cout}, false);
      s.running_var = add_param(g.name + "/running_var", {cout}, false);
      s.bn = Buffer<float>(be_, cap * static_cast<size_t>(s.out_size));
      s.dbn = Buffer<float>(be_, cap * static_cast<size_t>(s.out_size));
      s.save_mean = Buffer<float>(be_, static_cast<size_t>(cout));
      s.save_invstd = Buffer<float>(be_, static_cast<size_t>(cout));
    }
    const size_t out_elems = cap * static_cast<size_t>(s.out_size);
    s.pre = Buffer<float>(be_, out_elems);
    s.dpre = Buffer<float>(be_, out_elems);
    s.mu = Buffer<float>(be_, out_elems);
    s.var = Buffer<float>(be_, out_elems);
    s.dvar = Buffer<float>(be_, out_elems);
    s.x2 = Buffer<float>(be_, cap * static_cast<size_t>(s.in_size));
    s.dx2 = Buffer<float>(be_, cap * static_cast<size_t>(s.in_size));
    s.sigma2 = Buffer<float>(be_, static_cast<size_t>(wcount));
    s.dsigma2 = Buffer<float>(be_, static_cast<size_t>(wcount));
    s.w_eval = Buffer<float>(be_, static_cast<size_t>(wcount));
    s.b_eval = Buffer<float>(be_, static_cast<size_t>(cout));
  }
  labels_ = Buffer<int32_t>(be_, cap);
  correct_ = Buffer<int32_t>(be_, kStatsSlots);
  loss_ = Buffer<float>(be_, kStatsSlots);
  kl_parts_ = Buffer<float>(be_, kStatsSlots * std::max<size_t>(1, weighted_.size()));
  correct_.zero();
  loss_.zero();
  kl_parts_.zero();
  eval_correct_ = Buffer<int32_t>(be_, 1);
  eval_loss_ = Buffer<float>(be_, 1);
  slot_mode_.assign(kStatsSlots, Mode::deterministic);
}

// He-normal θ (fan-in k·k·C_in/groups), log σ² = −10, bias 0 (REFERENCE.md §3); BC: μ_z ~ N(1, 0.01²),
// log σ²_z ~ N(−9, 0.01²) (§4); BN γ = 1, β = 0, running statistics (0, 1).
void Network::init_params(uint64_t seed) {
  PhiloxStream rng(seed, 0x5eed);
  auto fill = [&](int idx, auto f) {
    if (idx < 0) return;
    auto& p = params_[static_cast<size_t>(idx)];
    std::vector<float> h(static_cast<size_t>(p.count()));
    for (auto& x : h) x = f();
    p.value.upload(h);
  };
  for (int wi : weighted_) {
    const auto& g = graph_.nodes[static_cast<size_t>(wi)];
    auto& s = nodes_[static_cast<size_t>(wi)];
    const auto& dims = params_[static_cast<size_t>(s.theta)].dims;
    const double fan_in = g.kind == NodeKind::fc ? dims[0] : double(dims[0]) * dims[1] * dims[2];
    const double sd = std::sqrt(2.0 / fan_in);
    fill(s.theta, [&] { return static_cast<float>(rng.normal() * sd); });
    fill(s.log_sigma2, [] { return -10.0f; });
    fill(s.bias, [] { return 0.0f; });
    fill(s.mu_z, [&] { return static_cast<float>(1.0 + 0.01 * rng.normal()); });
    fill(s.log_sigma2_z, [&] { return static_cast<float>(-9.0 + 0.01 * rng.normal()); });
    fill(s.gamma, [] { return 1.0f; });
    fill(s.beta, [] { return 0.0f; });
    fill(s.running_mean, [] { return 0.0f; });
    fill(s.running_var, [] { return 1.0f; });
  }
}

void Network::set_batch(const float* x, const int32_t* y, int n) {
  SPARSE_CHECK(n >= 1 && n <= capacity_, "batch of " << n << " images: expected 1.." << capacity_);
  n_ = n;
  nodes_[0].out.upload(x, static_cast<size_t>(n) * static_cast<size_t>(nodes_[0].out_size));
  labels_.upload(y, static_cast<size_t>(n));
}

float* Network::out_of(size_t i) { return nodes_[i].out.data(); }
float* Network::dout_of(size_t i) { return nodes_[i].dout.data(); }

ConvShape Network::conv_shape_of(size_t i, int n) const {
  const auto& g = graph_.nodes[i];
  const auto& in = graph_.nodes[static_cast<size_t>(g.inputs[0])].out;
  const int groups = g.kind == NodeKind::depthwise_conv ? in.c : 1;
  return conv_shape(n, in.h, in.w, in.c, g.out.c, g.kernel, g.padding == space::Padding::same, 1, groups);
}

// Forward of a weighted node into s.pre, then BN and ReLU into s.out.
void Network::forward_weighted(size_t i, Mode mode, bool eval, uint64_t step) {
  const auto& g = graph_.nodes[i];
  auto& s = nodes_[i];
  const int n = n_;
  const float* x = out_of(static_cast<size_t>(g.inputs[0]));
  const bool fc = g.kind == NodeKind::fc;
  const int cout = g.out.c;
  const int in_size = static_cast<int>(s.in_size);
  const int64_t out_count = int64_t(n) * s.out_size;
  const bool post = g.relu || (g.batch_norm && !eval);
  float* pre = post ? s.pre.data() : s.out.data();
  auto& P = params_;
  const float* theta = P[static_cast<size_t>(s.theta)].value.data();
  const float* bias = P[static_cast<size_t>(s.bias)].value.data();
  const int64_t wcount = P[static_cast<size_t>(s.theta)].count();

  auto mean_product = [&](const float* xin, const float* w, const float* b, float* y) {
    if (fc) be_.linear_forward({n, in_size, cout, xin, w, b, y});
    else be_.conv2d_forward({conv_shape_of(i, n), xin, w, b, y});
  };

  if (eval) {
    mean_product(x, s.w_eval.data(), s.b_eval.data(), pre);
  } else if (mode == Mode::deterministic) {
    mean_product(x, theta, bias, pre);
  } else {
    be_.spvd_variance_forward({wcount, P[static_cast<size_t>(s.log_sigma2)].value.data(), s.sigma2.data()});
    const uint64_t seed = seed_;
    if (method_ == Method::bc) {
      be_.bc_sample_z_forward({n, s.groups, seed, noise_offset(step, i, 1), P[static_cast<size_t>(s.mu_z)].value.data(),
                               P[static_cast<size_t>(s.log_sigma2_z)].value.data(), s.z.data()});
    }
    if (method_ == Method::bc && fc) {
      be_.scale_groups_forward({n, 1, in_size, x, s.z.data(), s.xz.data()});
      x = s.xz.data();
    }
    be_.square_forward({int64_t(n) * in_size, x, s.x2.data()});
    mean_product(x, theta, bias, s.mu.data());
    mean_product(s.x2.data(), s.sigma2.data(), nullptr, s.var.data());
    if (method_ == Method::bc && !fc) {
      be_.bc_epilogue_forward({n, static_cast<int>(s.out_size / cout), cout, seed, noise_offset(step, i, 0), s.mu.data(),
                               s.var.data(), s.z.data(), pre});
    } else {
      be_.lrt_sample_forward({out_count, seed, noise_offset(step, i, 0), s.mu.data(), s.var.data(), pre});
    }
  }
  if (!post) return;
  float* cur = pre;
  if (g.batch_norm && !eval) {
    float* y = g.relu ? s.bn.data() : s.out.data();
    be_.batch_norm_forward({out_count / cout, cout, true, kBnEps, kBnMomentum, cur,
                            P[static_cast<size_t>(s.gamma)].value.data(), P[static_cast<size_t>(s.beta)].value.data(),
                            P[static_cast<size_t>(s.running_mean)].value.data(),
                            P[static_cast<size_t>(s.running_var)].value.data(), s.save_mean.data(), s.save_invstd.data(), y});
    cur = y;
  }
  if (g.relu) be_.relu_forward({out_count, cur, s.out.data()});
}

void Network::forward(Mode mode, bool eval, uint64_t step) {
  const int n = n_;
  for (size_t i = 1; i < graph_.nodes.size(); ++i) {
    const auto& g = graph_.nodes[i];
    auto& s = nodes_[i];
    const auto& in0 = graph_.nodes[static_cast<size_t>(g.inputs[0])].out;
    switch (g.kind) {
      case NodeKind::input: break;
      case NodeKind::channel_max:
        be_.channel_max_forward({n, in0.h, in0.w, in0.c, out_of(static_cast<size_t>(g.inputs[0])), s.out.data()});
        break;
      case NodeKind::max_pool:
        be_.max_pool_forward({n, in0.h, in0.w, in0.c, g.kernel, g.kernel, g.out.h, g.out.w,
                              out_of(static_cast<size_t>(g.inputs[0])), s.out.data(),
                              s.argmax.size() ? s.argmax.data() : nullptr});
        break;
      case NodeKind::conv:
      case NodeKind::depthwise_conv:
      case NodeKind::fc: forward_weighted(i, mode, eval, step); break;
      case NodeKind::add: {
        const auto& b = graph_.nodes[static_cast<size_t>(g.inputs[1])].out;
        be_.add_forward({n, g.out.h, g.out.w, g.out.c, b.h, b.w, (b.h - g.out.h) / 2, (b.w - g.out.w) / 2,
                         out_of(static_cast<size_t>(g.inputs[0])), out_of(static_cast<size_t>(g.inputs[1])), s.out.data()});
        break;
      }
      case NodeKind::merge_sum: {
        const int c = g.out.c;
        if (g.inputs.size() == 2) {
          be_.add_forward({n, 1, 1, c, 1, 1, 0, 0, out_of(static_cast<size_t>(g.inputs[0])),
                           out_of(static_cast<size_t>(g.inputs[1])), s.out.data()});
        } else {
          be_.add_forward({n, 1, 1, c, 1, 1, 0, 0, out_of(static_cast<size_t>(g.inputs[0])),
                           out_of(static_cast<size_t>(g.inputs[1])), s.tmp.data()});
          be_.add_forward({n, 1, 1, c, 1, 1, 0, 0, s.tmp.data(), out_of(static_cast<size_t>(g.inputs[2])), s.out.data()});
        }
        break;
      }
      case NodeKind::merge_concat: {
        int off = 0;
        for (int in : g.inputs) {
          const int cp = static_cast<int>(graph_.nodes[static_cast<size_t>(in)].out.size());
          be_.concat_forward({n, cp, g.out.c, off, out_of(static_cast<size_t>(in)), s.out.data()});
          off += cp;
        }
        break;
      }
    }
  }
}

void Network::forward_loss(Mode mode, uint64_t step) {
  const int slot = static_cast<int>(stats_written_ % kStatsSlots);
  ++stats_written_;
  last_slot_ = slot;
  slot_mode_[static_cast<size_t>(slot)] = mode;
  forward(mode, false, step);
  const size_t last = graph_.nodes.size() - 1;
  be_.softmax_cross_entropy({n_, graph_.nodes[last].out.c, 1.0f, out_of(last), labels_.data(), loss_.data() + slot,
                             dout_of(last), correct_.data() + slot});
  float* kl_slot = kl_parts_.data() + static_cast<size_t>(slot) * weighted_.size();
  if (mode == Mode::variational) {
    for (size_t j = 0; j < weighted_.size(); ++j) {
      auto& s = nodes_[static_cast<size_t>(weighted_[j])];
      const auto& th = params_[static_cast<size_t>(s.theta)];
      const auto& ls = params_[static_cast<size_t>(s.log_sigma2)];
      if (method_ == Method::spvd) {
        be_.spvd_kl_forward({th.count(), th.value.data(), ls.value.data(), kl_slot + j});
      } else {
        be_.bc_kl_forward({s.groups, th.count(), params_[static_cast<size_t>(s.mu_z)].value.data(),
                           params_[static_cast<size_t>(s.log_sigma2_z)].value.data(), th.value.data(), ls.value.data(),
                           kl_slot + j});
      }
    }
  }
}

void Network::backward_weighted(size_t i, Mode mode, float kl_scale, uint64_t step) {
  const auto& g = graph_.nodes[i];
  auto& s = nodes_[i];
  const int n = n_;
  const size_t in_node = static_cast<size_t>(g.inputs[0]);
  const bool want_dx = nodes_[in_node].needs_grad;
  const float* x = out_of(in_node);
  float* dx = want_dx ? dout_of(in_node) : nullptr;
  const bool fc = g.kind == NodeKind::fc;
  const int cout = g.out.c;
  const int in_size = static_cast<int>(s.in_size);
  const int64_t out_count = int64_t(n) * s.out_size;
  auto& P = params_;
  auto& th = P[static_cast<size_t>(s.theta)];
  auto& ls = P[static_cast<size_t>(s.log_sigma2)];
  auto& bi = P[static_cast<size_t>(s.bias)];
  const bool post = g.relu || g.batch_norm;

  // d(pre): through ReLU and BN.
  float* dcur = s.dout.data();
  if (g.relu) {
    float* d = g.batch_norm ? s.dbn.data() : s.dpre.data();
    be_.relu_backward({out_count, s.out.data(), dcur, d, false});
    dcur = d;
  }
  if (g.batch_norm) {
    be_.batch_norm_backward({out_count / cout, cout, s.pre.data(), dcur, P[static_cast<size_t>(s.gamma)].value.data(),
                             s.save_mean.data(), s.save_invstd.data(), s.dpre.data(),
                             P[static_cast<size_t>(s.gamma)].grad.data(), P[static_cast<size_t>(s.beta)].grad.data(), false});
    dcur = s.dpre.data();
  }
  (void)post;

  auto filter = [&](const float* xin, const float* dy, float* dw, float* db, bool acc) {
    if (fc) be_.linear_backward_weight({n, in_size, cout, xin, dy, dw, db, acc});
    else be_.conv2d_backward_filter({conv_shape_of(i, n), xin, dy, dw, db, acc});
  };
  auto data = [&](const float* dy, const float* w, float* dxo, bool acc) {
    if (fc) be_.linear_backward_data({n, in_size, cout, dy, w, dxo, acc});
    else be_.conv2d_backward_data({conv_shape_of(i, n), dy, w, dxo, acc});
  };

  if (mode == Mode::deterministic) {
    filter(x, dcur, th.grad.data(), bi.grad.data(), false);
    if (dx) data(dcur, th.value.data(), dx, true);
    return;
  }
  const uint64_t seed = seed_;
  const float* dmu = dcur;
  if (method_ == Method::bc && !fc) {
    be_.bc_epilogue_backward({n, static_cast<int>(s.out_size / cout), cout, seed, noise_offset(step, i, 0), s.mu.data(),
                              s.var.data(), s.z.data(), dcur, s.dmu.data(), s.dvar.data(), s.dz.data(), false});
    dmu = s.dmu.data();
  } else {
    const float* y = (g.relu || g.batch_norm) ? s.pre.data() : s.out.data();
    be_.lrt_sample_backward(
        {out_count, seed, noise_offset(step, i, 0), s.var.data(), dcur, nullptr, s.dvar.data(), false, s.mu.data(), y});
  }
  const float* xin = (method_ == Method::bc && fc) ? s.xz.data() : x;
  filter(xin, dmu, th.grad.data(), bi.grad.data(), false);
  filter(s.x2.data(), s.dvar.data(), s.dsigma2.data(), nullptr, false);
  be_.spvd_variance_backward({th.count(), s.sigma2.data(), s.dsigma2.data(), ls.grad.data(), false});
  if (method_ == Method::bc && fc) {
    // Gradient w.r.t. xz (always needed for dz), then to x and z.
    data(dmu, th.value.data(), s.dxz.data(), false);
    data(s.dvar.data(), s.sigma2.data(), s.dx2.data(), false);
    be_.square_backward({int64_t(n) * in_size, s.xz.data(), s.dx2.data(), s.dxz.data(), true});
    be_.zero(s.dz.data(), static_cast<size_t>(n) * static_cast<size_t>(s.groups) * sizeof(float));
    be_.scale_groups_backward({n, 1, in_size, x, s.z.data(), s.dxz.data(), dx, s.dz.data(), true});
  } else if (dx) {
    data(dmu, th.value.data(), dx, true);
    data(s.dvar.data(), s.sigma2.data(), s.dx2.data(), false);
    be_.square_backward({int64_t(n) * in_size, x, s.dx2.data(), dx, true});
  }
  if (method_ == Method::bc) {
    auto& mz = P[static_cast<size_t>(s.mu_z)];
    auto& lz = P[static_cast<size_t>(s.log_sigma2_z)];
    be_.bc_sample_z_backward({n, s.groups, seed, noise_offset(step, i, 1), lz.value.data(), s.dz.data(), mz.grad.data(),
                              lz.grad.data(), false});
    be_.bc_kl_backward({s.groups, th.count(), kl_scale, mz.value.data(), lz.value.data(), th.value.data(), ls.value.data(),
                        mz.grad.data(), lz.grad.data(), th.grad.data(), ls.grad.data(), true});
  } else {
    be_.spvd_kl_backward({th.count(), kl_scale, th.value.data(), ls.value.data(), th.grad.data(), ls.grad.data(), true});
  }
}

void Network::backward(Mode mode, float kl_scale, uint64_t step) {
  const int n = n_;
  const size_t last = graph_.nodes.size() - 1;
  for (size_t i = 0; i < last; ++i)
    if (nodes_[i].dout.size()) be_.zero(nodes_[i].dout.data(), static_cast<size_t>(n) * nodes_[i].out_size * sizeof(float));
  for (size_t i = last; i >= 1; --i) {
    const auto& g = graph_.nodes[i];
    auto& s = nodes_[i];
    if (!s.needs_grad) continue;
    auto din = [&](size_t k) -> float* {
      const size_t in = static_cast<size_t>(g.inputs[k]);
      return nodes_[in].needs_grad ? dout_of(in) : nullptr;
    };
    const auto& in0 = graph_.nodes[static_cast<size_t>(g.inputs[0])].out;
    switch (g.kind) {
      case NodeKind::input:
      case NodeKind::channel_max: break;  // no weighted node upstream: never needs a gradient
      case NodeKind::max_pool:
        if (din(0))
          be_.max_pool_backward({n, in0.h, in0.w, in0.c, g.out.h, g.out.w, s.dout.data(), s.argmax.data(), din(0), true});
        break;
      case NodeKind::conv:
      case NodeKind::depthwise_conv:
      case NodeKind::fc: backward_weighted(i, mode, kl_scale, step); break;
      case NodeKind::add: {
        const auto& b = graph_.nodes[static_cast<size_t>(g.inputs[1])].out;
        be_.add_backward({n, g.out.h, g.out.w, g.out.c, b.h, b.w, (b.h - g.out.h) / 2, (b.w - g.out.w) / 2, s.dout.data(),
                          din(0), din(1), true});
        break;
      }
      case NodeKind::merge_sum:
        for (size_t k = 0; k < g.inputs.size(); ++k)
          if (din(k)) be_.add_backward({n, 1, 1, g.out.c, 1, 1, 0, 0, s.dout.data(), din(k), nullptr, true});
        break;
      case NodeKind::merge_concat: {
        int off = 0;
        for (size_t k = 0; k < g.inputs.size(); ++k) {
          const int cp = static_cast<int>(graph_.nodes[static_cast<size_t>(g.inputs[k])].out.size());
          if (din(k)) be_.concat_backward({n, cp, g.out.c, off, s.dout.data(), din(k), true});
          off += cp;
        }
        break;
      }
    }
  }
}

// Deterministic mode trains θ, bias and BN; the variational mode all of φ.
void Network::adam(Mode mode, float lr, uint64_t step) {
  for (int wi : weighted_) {
    const auto& s = nodes_[static_cast<size_t>(wi)];
    const int det[] = {s.theta, s.bias, s.gamma, s.beta};
    const int var[] = {s.log_sigma2, s.mu_z, s.log_sigma2_z};
    auto update = [&](int id) {
      if (id < 0) return;
      auto& p = params_[static_cast<size_t>(id)];
      const float rate = id == s.log_sigma2 || id == s.log_sigma2_z ? lr * log_variance_lr_scale_ : lr;
      be_.adam({p.count(), static_cast<int64_t>(step), rate, kAdamBeta1, kAdamBeta2, kAdamEps, p.value.data(), p.grad.data(),
                p.m.data(), p.v.data()});
    };
    for (int id : det) update(id);
    if (mode == Mode::variational)
      for (int id : var) update(id);
  }
}

void Network::train_step(Mode mode, float kl_scale, float lr, uint64_t step) {
  forward_loss(mode, step);
  backward(mode, kl_scale, step);
  adam(mode, lr, step);
}

}  // namespace sparse::nn

namespace sparse::nn {

StepStats Network::stats() {
  StepStats st;
  float loss = 0;
  int32_t correct = 0;
  const size_t slot = static_cast<size_t>(last_slot_), w = weighted_.size();
  be_.download(&loss, loss_.data() + slot, sizeof(float));
  be_.download(&correct, correct_.data() + slot, sizeof(int32_t));
  st.ce = loss;
  st.correct = correct;
  if (slot_mode_[slot] == Mode::variational && w > 0) {
    std::vector<float> kl(w);
    be_.download(kl.data(), kl_parts_.data() + slot * w, w * sizeof(float));
    for (float v : kl) st.kl += v;
  }
  return st;
}

std::vector<StepStats> Network::drain_stats(int64_t* dropped) {
  const int64_t first = std::max(stats_drained_, stats_written_ - kStatsSlots);
  if (dropped) *dropped = first - stats_drained_;
  std::vector<StepStats> out;
  if (first == stats_written_) return out;
  const size_t w = weighted_.size();
  const std::vector<float> loss = loss_.download(), kl = kl_parts_.download();
  const std::vector<int32_t> correct = correct_.download();
  for (int64_t s = first; s < stats_written_; ++s) {
    const size_t slot = static_cast<size_t>(s % kStatsSlots);
    StepStats st;
    st.ce = loss[slot];
    st.correct = correct[slot];
    if (slot_mode_[slot] == Mode::variational)
      for (size_t j = 0; j < w; ++j) st.kl += kl[slot * w + j];
    out.push_back(st);
  }
  stats_drained_ = stats_written_;
  return out;
}

void Network::load_eval_weights(const DeterministicModel& m) {
  SPARSE_CHECK(m.layers.size() == nodes_.size(), "deterministic model has " << m.layers.size() << " layers, network "
                                                                          << nodes_.size());
  for (int wi : weighted_) {
    auto& s = nodes_[static_cast<size_t>(wi)];
    const auto& L = m.layers[static_cast<size_t>(wi)];
    SPARSE_CHECK(L.weights.size() == s.w_eval.size() && L.bias.size() == s.b_eval.size(),
                 "deterministic model layer " << graph_.nodes[static_cast<size_t>(wi)].name << " has the wrong size");
    s.w_eval.upload(L.weights);
    s.b_eval.upload(L.bias);
  }
}

int Network::eval_batch() {
  forward(Mode::deterministic, true, 0);
  const size_t last = graph_.nodes.size() - 1;
  be_.softmax_cross_entropy({n_, graph_.nodes[last].out.c, 1.0f, out_of(last), labels_.data(), eval_loss_.data(),
                             nullptr, eval_correct_.data()});
  int32_t correct = 0;
  be_.download(&correct, eval_correct_.data(), sizeof(int32_t));
  return correct;
}

}  // namespace sparse::nn
