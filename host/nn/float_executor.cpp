// Float forward of a DeterministicModel (see float_executor.hpp): one image, nodes in topological order.
#include "host/nn/float_executor.hpp"

#include <algorithm>

#include "host/core/error.hpp"

namespace sparse::nn {

using graph::Node;
using graph::NodeKind;
using graph::Shape;

namespace {

int64_t dense_weight_count(const Node& n, const Shape& in) {
  switch (n.kind) {
    case NodeKind::conv: return static_cast<int64_t>(n.kernel) * n.kernel * in.c * n.out.c;
    case NodeKind::depthwise_conv: return static_cast<int64_t>(n.kernel) * n.kernel * in.c;
    case NodeKind::fc: return in.size() * n.out.c;
    default: return 0;
  }
}

int pad_before(const Node& n) { return n.padding == space::Padding::same ? (n.kernel - 1) / 2 : 0; }

// k×k conv (groups 1) or depthwise (groups = C), stride 1: y [oh, ow, cout].
// conv w [k, k, cin, cout] (HWIO); depthwise w [k, k, 1, C].
void conv_forward(const Node& n, const Shape& in, const float* x, const float* w, const float* bias, float* y) {
  const int k = n.kernel, pad = pad_before(n), cout = n.out.c;
  const bool depthwise = n.kind == NodeKind::depthwise_conv;
  for (int oy = 0; oy < n.out.h; ++oy)
    for (int ox = 0; ox < n.out.w; ++ox)
      for (int o = 0; o < cout; ++o) {
        double acc = bias[o];
        for (int ky = 0; ky < k; ++ky) {
          const int iy = oy - pad + ky;
          if (iy < 0 || iy >= in.h) continue;
          for (int kx = 0; kx < k; ++kx) {
            const int ix = ox - pad + kx;
            if (ix < 0 || ix >= in.w) continue;
            const float* px = x + (static_cast<int64_t>(iy) * in.w + ix) * in.c;
            if (depthwise) {
              acc += static_cast<double>(w[(static_cast<int64_t>(ky) * k + kx) * cout + o]) * px[o];
            } else {
              const float* wk = w + (static_cast<int64_t>(ky) * k + kx) * in.c * cout;
              for (int ci = 0; ci < in.c; ++ci) acc += static_cast<double>(wk[static_cast<int64_t>(ci) * cout + o]) * px[ci];
            }
          }
        }
        y[(static_cast<int64_t>(oy) * n.out.w + ox) * cout + o] = static_cast<float>(acc);
      }
}

}  // namespace

void check_model(const DeterministicModel& m) {
  const auto& nodes = m.graph.nodes;
  SPARSE_CHECK(!nodes.empty() && nodes[0].kind == NodeKind::input, "model graph must start with its input node");
  SPARSE_CHECK(m.layers.size() == nodes.size(),
               "model has " << m.layers.size() << " layers for " << nodes.size() << " graph nodes");
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    SPARSE_CHECK(i == 0 || n.kind != NodeKind::input, "node '" << n.name << "': only node 0 may be an input");
    SPARSE_CHECK(n.out.h >= 1 && n.out.w >= 1 && n.out.c >= 1, "node '" << n.name << "' has an empty output shape");
    for (int j : n.inputs)
      SPARSE_CHECK(j >= 0 && static_cast<size_t>(j) < i, "node '" << n.name << "' reads node " << j
                                                                   << ", expected an earlier node");
    const size_t want_inputs = n.kind == NodeKind::input ? 0 : (n.kind == NodeKind::add ? 2 : 1);
    if (n.kind == NodeKind::merge_sum || n.kind == NodeKind::merge_concat)
      SPARSE_CHECK(!n.inputs.empty(), "node '" << n.name << "' has no inputs");
    else
      SPARSE_CHECK(n.inputs.size() == want_inputs,
                   "node '" << n.name << "' has " << n.inputs.size() << " inputs, expected " << want_inputs);
    const Shape in = n.inputs.empty() ? n.out : nodes[static_cast<size_t>(n.inputs[0])].out;
    const auto& L = m.layers[i];
    const int64_t want_w = dense_weight_count(n, in);
    const int64_t want_b = want_w > 0 ? n.out.c : 0;
    SPARSE_CHECK(static_cast<int64_t>(L.weights.size()) == want_w && static_cast<int64_t>(L.bias.size()) == want_b,
                 "node '" << n.name << "' has " << L.weights.size() << " weights and " << L.bias.size()
                          << " biases, expected " << want_w << " and " << want_b);
    switch (n.kind) {
      case NodeKind::input: break;
      case NodeKind::channel_max:
        SPARSE_CHECK(n.out == (Shape{in.h, in.w, 1}), "node '" << n.name << "': channel max output shape mismatch");
        break;
      case NodeKind::max_pool:
        SPARSE_CHECK(n.kernel >= 1 && n.out == (Shape{in.h / n.kernel, in.w / n.kernel, in.c}),
                     "node '" << n.name << "': max pool output shape mismatch");
        break;
      case NodeKind::conv:
      case NodeKind::depthwise_conv: {
        const int shrink = n.padding == space::Padding::same ? 0 : n.kernel - 1;
        SPARSE_CHECK(n.kernel >= 1 && n.out.h == in.h - shrink && n.out.w == in.w - shrink &&
                         (n.kind == NodeKind::conv || n.out.c == in.c),
                     "node '" << n.name << "': convolution output shape mismatch");
        break;
      }
      case NodeKind::fc:
        SPARSE_CHECK(n.out.h == 1 && n.out.w == 1, "node '" << n.name << "': FC output must be 1x1xwidth");
        break;
      case NodeKind::add: {
        const Shape b = nodes[static_cast<size_t>(n.inputs[1])].out;
        SPARSE_CHECK(n.out == in && b.c == in.c && b.h >= in.h && b.w >= in.w,
                     "node '" << n.name << "': add of " << in.h << "x" << in.w << "x" << in.c << " and " << b.h << "x"
                              << b.w << "x" << b.c << " (the second is center-cropped to the first)");
        break;
      }
      case NodeKind::merge_sum:
        for (int j : n.inputs)
          SPARSE_CHECK(nodes[static_cast<size_t>(j)].out.size() == n.out.size(),
                       "node '" << n.name << "': merge sum of inputs of different sizes");
        break;
      case NodeKind::merge_concat: {
        const int64_t pixels = static_cast<int64_t>(n.out.h) * n.out.w;
        int64_t c = 0;
        for (int j : n.inputs) {
          const Shape s = nodes[static_cast<size_t>(j)].out;
          SPARSE_CHECK(pixels == 1 || (s.h == n.out.h && s.w == n.out.w),
                       "node '" << n.name << "': concat spatial size mismatch");
          c += s.size() / pixels;
        }
        SPARSE_CHECK(c == n.out.c, "node '" << n.name << "': concat of " << c << " channels into " << n.out.c);
        break;
      }
    }
  }
}

std::vector<float> run_float(const DeterministicModel& m, const float* x, std::vector<std::vector<float>>* node_outputs) {
  const auto& nodes = m.graph.nodes;
  std::vector<std::vector<float>> local;
  std::vector<std::vector<float>>& act = node_outputs ? *node_outputs : local;
  act.assign(nodes.size(), {});
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    std::vector<float>& y = act[i];  // [out.h, out.w, out.c]
    y.assign(static_cast<size_t>(n.out.size()), 0.0f);
    const Shape in = n.inputs.empty() ? n.out : nodes[static_cast<size_t>(n.inputs[0])].out;
    const float* x0 = n.inputs.empty() ? x : act[static_cast<size_t>(n.inputs[0])].data();  // [in.h, in.w, in.c]
    const DenseLayer& L = m.layers[i];
    switch (n.kind) {
      case NodeKind::input: std::copy(x, x + n.out.size(), y.begin()); break;
      case NodeKind::channel_max:
        for (int64_t p = 0; p < static_cast<int64_t>(in.h) * in.w; ++p)
          y[static_cast<size_t>(p)] = *std::max_element(x0 + p * in.c, x0 + (p + 1) * in.c);
        break;
      case NodeKind::max_pool:
        for (int oy = 0; oy < n.out.h; ++oy)
          for (int ox = 0; ox < n.out.w; ++ox)
            for (int c = 0; c < in.c; ++c) {
              float v = x0[(static_cast<int64_t>(oy) * n.kernel * in.w + ox * n.kernel) * in.c + c];
              for (int dy = 0; dy < n.kernel; ++dy)
                for (int dx = 0; dx < n.kernel; ++dx)
                  v = std::max(v, x0[((static_cast<int64_t>(oy) * n.kernel + dy) * in.w + ox * n.kernel + dx) * in.c + c]);
              y[(static_cast<size_t>(oy) * n.out.w + ox) * in.c + c] = v;
            }
        break;
      case NodeKind::conv:
      case NodeKind::depthwise_conv: conv_forward(n, in, x0, L.weights.data(), L.bias.data(), y.data()); break;
      case NodeKind::fc: {
        // y[o] = bias[o] + Σ_i x[i]·w[i, o], x the NHWC flattening of the input, w [In, Out].
        const int64_t F = in.size();
        const int out = n.out.c;
        for (int o = 0; o < out; ++o) {
          double acc = L.bias[static_cast<size_t>(o)];
          for (int64_t k = 0; k < F; ++k) acc += static_cast<double>(L.weights[static_cast<size_t>(k * out + o)]) * x0[k];
          y[static_cast<size_t>(o)] = static_cast<float>(acc);
        }
        break;
      }
      case NodeKind::add: {
        // y = a + center_crop(b) to a's H×W.
        const Shape b = nodes[static_cast<size_t>(n.inputs[1])].out;
        const float* xb = act[static_cast<size_t>(n.inputs[1])].data();  // [b.h, b.w, c]
        const int oy0 = center_crop_offset(b.h, in.h), ox0 = center_crop_offset(b.w, in.w);
        for (int oy = 0; oy < in.h; ++oy)
          for (int ox = 0; ox < in.w; ++ox)
            for (int c = 0; c < in.c; ++c)
              y[(static_cast<size_t>(oy) * in.w + ox) * in.c + c] =
                  x0[(static_cast<int64_t>(oy) * in.w + ox) * in.c + c] +
                  xb[(static_cast<int64_t>(oy + oy0) * b.w + ox + ox0) * b.c + c];
        break;
      }
      case NodeKind::merge_sum:
        // Flattened inputs summed in input order in float: ((x0 + x1) + x2) (as the partial-sum calibration).
        std::copy(x0, x0 + n.out.size(), y.begin());
        for (size_t j = 1; j < n.inputs.size(); ++j) {
          const float* xj = act[static_cast<size_t>(n.inputs[j])].data();
          for (size_t e = 0; e < y.size(); ++e) y[e] += xj[e];
        }
        break;
      case NodeKind::merge_concat: {
        int offset = 0;
        const int64_t pixels = static_cast<int64_t>(n.out.h) * n.out.w;
        for (int j : n.inputs) {
          const auto cp = static_cast<int>(nodes[static_cast<size_t>(j)].out.size() / pixels);
          const float* xj = act[static_cast<size_t>(j)].data();  // [pixels, cp]
          for (int64_t p = 0; p < pixels; ++p)
            std::copy(xj + p * cp, xj + (p + 1) * cp, y.begin() + p * n.out.c + offset);
          offset += cp;
        }
        break;
      }
    }
    if (n.relu)
      for (float& v : y) v = std::max(v, 0.0f);
  }
  return act.back();
}

}  // namespace sparse::nn
