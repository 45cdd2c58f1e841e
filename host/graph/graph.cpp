// Building the network graph from a Config (rules in graph.hpp), with shape inference and weight counts.
#include "host/graph/graph.hpp"

#include <algorithm>
#include <cmath>

#include "host/core/error.hpp"
#include "host/space/fc_widths.hpp"
#include "host/space/shape_rules.hpp"

namespace sparse::graph {

using space::Config;
using space::ConvLayer;
using space::LayerType;
using space::Padding;

const char* to_string(NodeKind k) {
  switch (k) {
    case NodeKind::input: return "Input";
    case NodeKind::channel_max: return "ChannelMax";
    case NodeKind::max_pool: return "MaxPool";
    case NodeKind::conv: return "Conv2D";
    case NodeKind::depthwise_conv: return "DepthwiseConv2D";
    case NodeKind::fc: return "FC";
    case NodeKind::add: return "Add";
    case NodeKind::merge_sum: return "MergeSum";
    case NodeKind::merge_concat: return "MergeConcat";
  }
  return "?";
}

int64_t Graph::params() const {
  int64_t p = 0;
  for (const auto& n : nodes) p += n.weights;
  return p;
}

int Graph::index(const std::string& name) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == name) return static_cast<int>(i);
  return -1;
}

const Node& Graph::node(const std::string& name) const {
  const int i = index(name);
  SPARSE_CHECK(i >= 0, "graph has no node named '" << name << "'");
  return nodes[static_cast<size_t>(i)];
}

namespace {

class Builder {
 public:
  explicit Builder(Graph& g) : g_(g) {}

  int add(Node n) {
    g_.nodes.push_back(std::move(n));
    return static_cast<int>(g_.nodes.size()) - 1;
  }
  const Shape& shape(int i) const { return g_.nodes[static_cast<size_t>(i)].out; }

  // k x k conv (stride 1) from node `in` to `filters` channels.
  int conv(int in, std::string name, int k, Padding p, int filters, double tau, const std::string& field) {
    const Shape s = shape(in);
    Node n;
    n.kind = NodeKind::conv;
    n.name = std::move(name);
    n.inputs = {in};
    n.kernel = k;
    n.padding = p;
    n.out = {space::conv_out_size(s.h, k, p), space::conv_out_size(s.w, k, p), filters};
    SPARSE_CHECK(n.out.h >= 1 && n.out.w >= 1, "config field '" << field << "': " << k << "x" << k << " conv ("
                                                                << space::to_string(p) << ") on a " << s.h << "x" << s.w
                                                                << " input gives " << n.out.h << "x" << n.out.w
                                                                << ", expected a spatial size >= 1");
    n.biases = filters;
    n.weights = static_cast<int64_t>(k) * k * s.c * filters + filters;
    n.pruning_threshold = tau;
    return add(std::move(n));
  }

  int depthwise(int in, std::string name, int k, Padding p, double tau, const std::string& field) {
    const Shape s = shape(in);
    Node n;
    n.kind = NodeKind::depthwise_conv;
    n.name = std::move(name);
    n.inputs = {in};
    n.kernel = k;
    n.padding = p;
    n.out = {space::conv_out_size(s.h, k, p), space::conv_out_size(s.w, k, p), s.c};
    SPARSE_CHECK(n.out.h >= 1 && n.out.w >= 1, "config field '" << field << "': " << k << "x" << k
                                                                << " depthwise conv (" << space::to_string(p) << ") on a "
                                                                << s.h << "x" << s.w << " input gives " << n.out.h << "x"
                                                                << n.out.w << ", expected a spatial size >= 1");
    n.biases = s.c;
    n.weights = static_cast<int64_t>(k) * k * s.c + s.c;
    n.pruning_threshold = tau;
    return add(std::move(n));
  }

  int pool(int in, std::string name, int window, const std::string& field) {
    const Shape s = shape(in);
    Node n;
    n.kind = NodeKind::max_pool;
    n.name = std::move(name);
    n.inputs = {in};
    n.kernel = window;
    n.out = {space::pool_out_size(s.h, window), space::pool_out_size(s.w, window), s.c};
    SPARSE_CHECK(n.out.h >= 1 && n.out.w >= 1, "config field '" << field << "': " << window << "x" << window
                                                                << " max pool on a " << s.h << "x" << s.w << " input gives "
                                                                << n.out.h << "x" << n.out.w
                                                                << ", expected a spatial size >= 1");
    return add(std::move(n));
  }

  int fc(int in, std::string name, int width, bool relu, double tau) {
    const int64_t f = shape(in).size();
    Node n;
    n.kind = NodeKind::fc;
    n.name = std::move(name);
    n.inputs = {in};
    n.out = {1, 1, width};
    n.relu = relu;
    n.biases = width;
    n.weights = f * width + width;
    n.pruning_threshold = tau;
    return add(std::move(n));
  }

  void activate(int i, bool bn) {
    g_.nodes[static_cast<size_t>(i)].batch_norm = bn;
    g_.nodes[static_cast<size_t>(i)].relu = true;
  }

 private:
  Graph& g_;
};

// One Config layer: returns the node that ends it (carrying BN and ReLU).
int build_layer(Builder& bld, int in, const ConvLayer& L, bool bn, const std::string& prefix, const std::string& field) {
  int out = in;
  switch (L.layer_type) {
    case LayerType::Conv2D:
      out = bld.conv(in, prefix + ".conv", L.kernel_size, L.padding, L.num_filters, L.pruning_threshold, field);
      break;
    case LayerType::DownsampledConv2D: {
      const int reduced = std::max(1, static_cast<int>(std::ceil(L.downsample * bld.shape(in).c - 1e-9)));
      const int r = bld.conv(in, prefix + ".reduce", 1, Padding::same, reduced, L.pruning_threshold, field);
      out = bld.conv(r, prefix + ".conv", L.kernel_size, L.padding, L.num_filters, L.pruning_threshold, field);
      break;
    }
    case LayerType::SeparableConv2D: {
      const int d = bld.depthwise(in, prefix + ".depthwise", L.kernel_size, L.padding, L.pruning_threshold, field);
      out = bld.conv(d, prefix + ".pointwise", 1, Padding::same, L.num_filters, L.pruning_threshold, field);
      break;
    }
  }
  bld.activate(out, bn);
  return out;
}

}  // namespace

Graph build_graph(const Config& c) {
  SPARSE_CHECK(c.input_height >= 1 && c.input_width >= 1 && c.input_channels >= 1,
               "config field 'input' = " << c.input_height << "x" << c.input_width << "x" << c.input_channels
                                         << ", expected >= 1 in each dimension");
  SPARSE_CHECK(c.num_classes >= 2, "config field 'num-classes' = " << c.num_classes << ", expected >= 2");
  SPARSE_CHECK(!c.blocks.empty(), "config field 'blocks' is empty, expected num-conv-blocks >= 1");
  Graph g;
  g.nodes.reserve(64);
  Builder bld(g);
  Node input;
  input.kind = NodeKind::input;
  input.name = "input";
  input.out = {c.input_height, c.input_width, c.input_channels};
  int cur = bld.add(std::move(input));
  if (c.downsample_input_in_depth) {
    Node n;
    n.kind = NodeKind::channel_max;
    n.name = "input.depth_max";
    n.inputs = {cur};
    n.out = {c.input_height, c.input_width, 1};
    cur = bld.add(std::move(n));
  }
  if (c.downsample_input) {
    SPARSE_CHECK(c.input_downsampling_rate >= 1,
                 "config field 'input-downsampling-rate' = " << c.input_downsampling_rate << ", expected >= 1");
    cur = bld.pool(cur, "input.pool", c.input_downsampling_rate, "input-downsampling-rate");
  }
  const int block1_input = cur;
  g.model_input = cur;
  int block1_output = -1;
  for (size_t b = 0; b < c.blocks.size(); ++b) {
    const auto& layers = c.blocks[b].layers;
    SPARSE_CHECK(!layers.empty(), "config field 'blocks[" << b << "].layers' is empty, expected num-conv-layers >= 1");
    int pair_input = cur;
    for (size_t l = 0; l < layers.size(); ++l) {
      const std::string prefix = "block" + std::to_string(b + 1) + ".layer" + std::to_string(l + 1);
      const std::string field = "blocks[" + std::to_string(b) + "].layers[" + std::to_string(l) + "]";
      SPARSE_CHECK(layers[l].num_filters >= 1,
                   "config field '" << field << ".num-filters' = " << layers[l].num_filters << ", expected >= 1");
      SPARSE_CHECK(layers[l].kernel_size >= 1,
                   "config field '" << field << ".kernel-size' = " << layers[l].kernel_size << ", expected >= 1");
      if (l % 2 == 0) pair_input = cur;
      cur = build_layer(bld, cur, layers[l], c.batch_norm, prefix, field);
      if (c.residual_connections && l % 2 == 1) {
        int skip = pair_input;
        if (bld.shape(skip).c != bld.shape(cur).c)
          skip = bld.conv(skip, prefix + ".projection", 1, Padding::same, bld.shape(cur).c, layers[l].pruning_threshold,
                          field);
        Node add;
        add.kind = NodeKind::add;
        add.name = prefix + ".residual_add";
        add.inputs = {cur, skip};
        add.out = bld.shape(cur);
        cur = bld.add(std::move(add));
      }
    }
    cur = bld.pool(cur, "block" + std::to_string(b + 1) + ".pool", space::kBlockPool, "blocks[" + std::to_string(b) + "]");
    if (b == 0) block1_output = cur;
  }

  // FC widths from total-fc-layer-weights and the normalized weight fractions (host/space/fc_widths.hpp).
  const int source[3] = {cur, block1_output, block1_input};
  SPARSE_CHECK(c.total_fc_layer_weights >= 1,
               "config field 'total-fc-layer-weights' = " << c.total_fc_layer_weights << ", expected >= 1");
  SPARSE_CHECK(c.num_fc_layers >= 1 || !c.has_merge() || c.merge_type != space::MergeType::Sum ||
                   bld.shape(cur).size() <= 1 << 30,
               "flatten of the last block has " << bld.shape(cur).size() << " values, too many for a Sum merge");
  const space::FcWidths fw = space::fc_widths(
      c, {bld.shape(source[0]).size(), bld.shape(source[1]).size(), bld.shape(source[2]).size()});
  const auto& has = fw.has;
  const auto& width = fw.width;
  const bool merge = c.has_merge();
  const char* fc_name[3] = {"fc.main", "fc.left", "fc.right"};
  std::vector<int> branch_out;
  branch_out.push_back(has[0] ? bld.fc(cur, fc_name[0], width[0], true, c.pruning_threshold_fc[space::fc_main]) : cur);
  for (int i = 1; i < 3; ++i)
    if (has[i]) branch_out.push_back(bld.fc(source[i], fc_name[i], width[i], true, c.pruning_threshold_fc[i]));
  if (merge) {
    Node m;
    m.kind = c.merge_type == space::MergeType::Sum ? NodeKind::merge_sum : NodeKind::merge_concat;
    m.name = "merge";
    m.inputs = branch_out;
    int64_t total = 0;
    for (int i : branch_out) total += bld.shape(i).size();
    m.out = {1, 1, static_cast<int>(m.kind == NodeKind::merge_sum ? bld.shape(branch_out[0]).size() : total)};
    cur = bld.add(std::move(m));
  } else {
    cur = branch_out[0];
  }
  bld.fc(cur, "fc.output", c.num_classes, false, c.pruning_threshold_fc[space::fc_output]);
  return g;
}

}  // namespace sparse::graph
