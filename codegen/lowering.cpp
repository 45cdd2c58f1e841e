// Lowering (see lowering.hpp): kernel-contract checks per node, weight encoding per layer, liveness plan.
//
// In-place safety of max_pool (window = stride = k, floor) and channel_max, both looping output pixel P in
// row-major order and channel innermost: output element e = P·C + c is written after its own window is
// read. Every later read is for a pixel P' >= P at input pixel index (P'y·k + dy)·W + P'x·k + dx >=
// P'y·OW + P'x >= P (since k·W >= OW, k >= 1), so at element index >= P·C + c' with c' > c for P' = P, or
// >= (P + 1)·C > e otherwise: no later read touches an element already written. channel_max writes element P
// after reading P·C .. P·C + C − 1, and later reads start at (P + 1)·C > P. add / merge_sum are element-wise.
#include "codegen/lowering.hpp"

#include "host/core/error.hpp"

namespace sparse::codegen {

using graph::NodeKind;
using graph::Shape;

int64_t LoweredModel::weight_value_bytes() const {
  int64_t s = 0;
  for (const auto& f : flash) s += f.values;
  return s;
}
int64_t LoweredModel::index_bytes() const {
  int64_t s = 0;
  for (const auto& f : flash) s += f.indices;
  return s;
}
int64_t LoweredModel::param_bytes() const {
  int64_t s = 0;
  for (const auto& f : flash) s += f.params;
  return s;
}

namespace {

std::string shape_str(const Shape& s) {
  return std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c);
}

#define NODE_CHECK(cond, msg) \
  SPARSE_CHECK(cond, "codegen: node " << i << " (" << q.name << ", " << graph::to_string(q.kind) << "): " << msg)

void check_node(const nn::QuantizedModel& m, size_t i) {
  const nn::QuantizedNode& q = m.nodes[i];
  NODE_CHECK(q.inputs.size() == q.in.size() && q.inputs.size() == q.in_quant.size(),
             q.inputs.size() << " inputs but " << q.in.size() << " input shapes and " << q.in_quant.size()
                             << " input quantizations");
  for (size_t k = 0; k < q.inputs.size(); ++k) {
    const int src = q.inputs[k];
    NODE_CHECK(src >= 0 && static_cast<size_t>(src) < i, "input " << k << " is node " << src << ", expected an earlier node");
    NODE_CHECK(m.nodes[static_cast<size_t>(src)].out == q.in[k],
               "input " << k << " has shape " << shape_str(q.in[k]) << " but node " << src << " outputs "
                        << shape_str(m.nodes[static_cast<size_t>(src)].out));
  }
  NODE_CHECK(q.out.h >= 1 && q.out.w >= 1 && q.out.c >= 1, "output shape " << shape_str(q.out));
  NODE_CHECK(q.act_min >= -128 && q.act_min <= q.act_max && q.act_max <= 127,
             "activation clamp [" << q.act_min << ", " << q.act_max << "] is not inside [-128, 127]");
  auto need_inputs = [&](size_t n) { NODE_CHECK(q.inputs.size() == n, q.inputs.size() << " inputs, the kernel takes " << n); };
  switch (q.kind) {
    case NodeKind::input:
      NODE_CHECK(i == 0, "an input node must be node 0");
      break;
    case NodeKind::channel_max:
      need_inputs(1);
      NODE_CHECK(q.out == (Shape{q.in[0].h, q.in[0].w, 1}), "output " << shape_str(q.out) << " for input " << shape_str(q.in[0]));
      break;
    case NodeKind::max_pool:
      need_inputs(1);
      NODE_CHECK(q.pool >= 1 && q.out == (Shape{q.in[0].h / q.pool, q.in[0].w / q.pool, q.in[0].c}),
                 "window " << q.pool << " gives " << shape_str(q.out) << " from " << shape_str(q.in[0]));
      break;
    case NodeKind::conv:
    case NodeKind::depthwise_conv:
    case NodeKind::fc: {
      need_inputs(1);
      const Shape in = q.kind == NodeKind::fc ? Shape{1, 1, static_cast<int>(q.in[0].size())} : q.in[0];
      NODE_CHECK(q.groups >= 1 && q.cout >= 1 && in.c % q.groups == 0 && q.cout % q.groups == 0,
                 q.groups << " groups for " << in.c << " input and " << q.cout << " output channels");
      NODE_CHECK(q.cout == q.out.c, "cout " << q.cout << " but output " << shape_str(q.out));
      NODE_CHECK(q.kernel_h >= 1 && q.kernel_w >= 1 && q.stride >= 1, "kernel " << q.kernel_h << "x" << q.kernel_w
                                                                                 << ", stride " << q.stride);
      // The kernel skips taps outside the input, so any output size is memory-safe; pads must not be negative.
      NODE_CHECK(q.pad_top >= 0 && q.pad_left >= 0, "pads " << q.pad_top << "," << q.pad_left);
      const int64_t cols = static_cast<int64_t>(q.kernel_h) * q.kernel_w * (in.c / q.groups);
      NODE_CHECK(static_cast<int64_t>(q.weights.size()) == q.cout * cols,
                 q.weights.size() << " weights, expected cout " << q.cout << " x " << cols);
      NODE_CHECK(q.bias.size() == static_cast<size_t>(q.cout) && q.multiplier.size() == static_cast<size_t>(q.cout) &&
                     q.shift.size() == static_cast<size_t>(q.cout),
                 "bias/multiplier/shift sizes " << q.bias.size() << "/" << q.multiplier.size() << "/" << q.shift.size()
                                                << ", expected " << q.cout);
      for (int o = 0; o < q.cout; ++o)
        NODE_CHECK(q.shift[static_cast<size_t>(o)] >= -31 && q.shift[static_cast<size_t>(o)] <= 30,
                   "shift " << int(q.shift[static_cast<size_t>(o)]) << " of channel " << o << " is outside [-31, 30]");
      break;
    }
    case NodeKind::add: {
      need_inputs(2);
      NODE_CHECK(q.add_steps.size() == 1, q.add_steps.size() << " add steps, expected 1");
      const Shape a = q.in[0], b = q.in[1];
      NODE_CHECK(q.out == a && a.c == b.c && q.crop_top >= 0 && q.crop_left >= 0 && q.crop_top + a.h <= b.h &&
                     q.crop_left + a.w <= b.w,
                 "second input " << shape_str(b) << " cropped at (" << q.crop_top << ", " << q.crop_left
                                 << ") does not cover the first " << shape_str(a));
      break;
    }
    case NodeKind::merge_sum:
      NODE_CHECK(q.inputs.size() >= 2 && q.add_steps.size() == q.inputs.size() - 1,
                 q.inputs.size() << " inputs and " << q.add_steps.size() << " add steps");
      for (size_t k = 0; k < q.in.size(); ++k)
        NODE_CHECK(q.in[k].size() == q.out.size(), "input " << k << " has " << q.in[k].size() << " values, the sum "
                                                            << q.out.size());
      break;
    case NodeKind::merge_concat: {
      NODE_CHECK(q.concat_parts.size() == q.inputs.size() && !q.inputs.empty(),
                 q.concat_parts.size() << " concat parts for " << q.inputs.size() << " inputs");
      int offset = 0;
      const int64_t pixels = static_cast<int64_t>(q.out.h) * q.out.w;
      for (size_t k = 0; k < q.concat_parts.size(); ++k) {
        const nn::ConcatPart& p = q.concat_parts[k];
        NODE_CHECK(p.channel_offset == offset && p.channels >= 1 && pixels * p.channels == q.in[k].size(),
                   "part " << k << " has " << p.channels << " channels at offset " << p.channel_offset << " for input "
                           << shape_str(q.in[k]));
        offset += p.channels;
      }
      NODE_CHECK(offset == q.out.c, "parts cover " << offset << " of " << q.out.c << " output channels");
      break;
    }
    default:
      NODE_CHECK(false, "node kind " << static_cast<int>(q.kind) << " is not supported by the C runtime (sparse_rt)");
  }
}

#undef NODE_CHECK

}  // namespace

namespace {

// Length of the leading chain of input-downsampling nodes (see lowering.hpp): node i (1 <= i <= k) is a
// channel_max or max_pool reading node i − 1 only, and node i − 1 has no other reader.
int downsampling_chain(const nn::QuantizedModel& q) {
  const size_t n = q.nodes.size();
  std::vector<int> readers(n, 0);
  for (const auto& node : q.nodes)
    for (int src : node.inputs) ++readers[static_cast<size_t>(src)];
  int k = 0;
  for (size_t i = 1; i + 1 < n; ++i) {
    const auto& node = q.nodes[i];
    const bool pool = node.kind == NodeKind::channel_max || node.kind == NodeKind::max_pool;
    if (!pool || node.inputs.size() != 1 || node.inputs[0] != static_cast<int>(i) - 1 || readers[i - 1] != 1) break;
    k = static_cast<int>(i);
  }
  return k;
}

}  // namespace

LoweredModel lower(const nn::QuantizedModel& q, int max_orders, int model_input) {
  SPARSE_CHECK(q.nodes.size() >= 2, "codegen: the model has " << q.nodes.size() << " nodes, expected an input and an output");
  SPARSE_CHECK(q.nodes[0].kind == NodeKind::input, "codegen: node 0 is " << graph::to_string(q.nodes[0].kind)
                                                                         << ", expected the input");
  for (size_t i = 0; i < q.nodes.size(); ++i) check_node(q, i);
  const auto& last = q.nodes.back();
  SPARSE_CHECK(last.out.h == 1 && last.out.w == 1, "codegen: the output node " << last.name << " is "
                                                                               << shape_str(last.out) << ", expected 1x1xclasses");
  LoweredModel L;
  L.q = q;
  const size_t n = q.nodes.size();
  const int chain = downsampling_chain(q);
  if (model_input < 0) model_input = chain;
  SPARSE_CHECK(model_input <= chain,
               "codegen: the model input is node " << model_input << " but only nodes 1.." << chain
                                                   << " are a chain of input max-pool / channel-max nodes read by "
                                                      "nothing else; the input cannot be downsampled while it is read");
  L.model_input = model_input;
  for (int i = 1; i <= model_input; ++i) {
    const auto& node = q.nodes[static_cast<size_t>(i)];
    if (node.kind == NodeKind::channel_max) {
      SPARSE_CHECK(!L.acquire_depth_max, "codegen: node " << i << " (" << node.name << ") is a second input channel max");
      L.acquire_depth_max = true;
    } else {
      L.acquire_pool *= node.pool;
    }
  }
  if (L.fused_input()) {  // nested floor pools and the channel max commute: one k×k window with k the product
    const graph::Shape raw = q.nodes[0].out, d = q.nodes[static_cast<size_t>(model_input)].out;
    SPARSE_CHECK(d.h == raw.h / L.acquire_pool && d.w == raw.w / L.acquire_pool &&
                     d.c == (L.acquire_depth_max ? 1 : raw.c),
                 "codegen: the input downsampling gives " << shape_str(d) << " from " << shape_str(raw)
                                                          << ", expected a " << L.acquire_pool << "x"
                                                          << L.acquire_pool << " pool"
                                                          << (L.acquire_depth_max ? " and a channel max" : ""));
  }
  L.weights.resize(n);
  L.flash.resize(n);
  L.tensors.resize(n);
  for (size_t i = 0; i < n; ++i) {
    L.tensors[i].bytes = q.nodes[i].out.size();
    L.tensors[i].external = static_cast<int>(i) < model_input || i == 0 || i + 1 == n;
  }
  // The output may be read by no one but the caller.
  for (size_t i = 1; i < n; ++i) {
    const auto& node = q.nodes[i];
    for (int src : node.inputs)
      SPARSE_CHECK(static_cast<size_t>(src) + 1 != n, "codegen: node " << i << " reads the output node");
    PlanOp op;
    op.inputs = node.inputs;
    op.output = static_cast<int>(i);
    op.in_place = static_cast<int>(i) > model_input &&
                  (node.kind == NodeKind::add || node.kind == NodeKind::merge_sum || node.kind == NodeKind::max_pool ||
                   node.kind == NodeKind::channel_max);
    L.ops.push_back(op);
    if (node.kind == NodeKind::conv || node.kind == NodeKind::depthwise_conv || node.kind == NodeKind::fc) {
      const int rows = node.cout;
      const int cols = static_cast<int>(node.weights.size() / static_cast<size_t>(rows));
      EncodedWeights enc = encode_smallest(node.weights.data(), rows, cols);
      LayerFlash& f = L.flash[i];
      f.dense = static_cast<int64_t>(rows) * cols;
      for (int8_t w : node.weights) f.nonzero += w != 0;
      const auto total = static_cast<int64_t>(enc.bytes.size());
      switch (enc.encoding) {
        case WeightEncoding::Dense: f.values = total; break;
        case WeightEncoding::Bitmask: f.values = f.nonzero; break;
        case WeightEncoding::RelativeIndex: f.values = (total - 2 * rows) / 2; break;
      }
      f.indices = total - f.values;
      f.params = 9 * static_cast<int64_t>(rows);
      L.weights[i] = std::move(enc);
    }
  }
  L.plan = plan_memory(L.tensors, L.ops, max_orders);
  return L;
}

}  // namespace sparse::codegen
