// Network graph from a Config: shapes, weight counts and FC widths checked by hand on small networks.
#include <gtest/gtest.h>

#include "host/core/error.hpp"
#include "host/graph/graph.hpp"

using namespace sparse::graph;
using sparse::space::Config;
using sparse::space::ConvLayer;
using sparse::space::LayerType;
using sparse::space::Padding;

namespace {
Config lenet() { return sparse::space::read_config(std::string(SPARSE_SOURCE_DIR) + "/bench/networks/lenet5.json"); }
ConvLayer layer(LayerType t, int k, int f, Padding p, double ds = 0.5) {
  ConvLayer l;
  l.layer_type = t;
  l.kernel_size = k;
  l.num_filters = f;
  l.padding = p;
  l.downsample = ds;
  return l;
}
}  // namespace

TEST(Graph, LeNet5CaffeShapesAndParams) {
  const Graph g = build_graph(lenet());
  EXPECT_EQ(g.params(), 431080);
  EXPECT_EQ(g.node("block1.layer1.conv").out, (Shape{24, 24, 20}));
  EXPECT_EQ(g.node("block1.layer1.conv").weights, 5 * 5 * 1 * 20 + 20);
  EXPECT_EQ(g.node("block2.pool").out, (Shape{4, 4, 50}));
  EXPECT_EQ(g.node("fc.main").out.c, 500);  // floor(400000 / 800)
  EXPECT_EQ(g.node("fc.main").weights, 800 * 500 + 500);
  EXPECT_EQ(g.nodes.back().name, "fc.output");
  EXPECT_EQ(g.nodes.back().out.c, 10);
  EXPECT_TRUE(g.node("fc.main").relu);
  EXPECT_FALSE(g.node("fc.output").relu);
}

TEST(Graph, TinySeparable) {
  const Graph g = build_graph(sparse::space::read_config(std::string(SPARSE_SOURCE_DIR) + "/bench/networks/tiny.json"));
  EXPECT_EQ(g.node("block2.layer1.depthwise").out, (Shape{11, 11, 8}));
  EXPECT_EQ(g.node("block2.layer1.depthwise").weights, 3 * 3 * 8 + 8);
  EXPECT_FALSE(g.node("block2.layer1.depthwise").relu);  // no ReLU between depthwise and pointwise
  EXPECT_TRUE(g.node("block2.layer1.pointwise").relu);
  EXPECT_EQ(g.node("block2.layer1.pointwise").weights, 8 * 16 + 16);
  EXPECT_EQ(g.node("fc.main").out.c, 32);  // floor(13000 / 400)
  EXPECT_EQ(g.params(), 80 + 80 + 144 + 12832 + 330);
}

TEST(Graph, InputDownsamplingAndDownsampledConv) {
  Config c = lenet();
  c.input_channels = 3;
  c.downsample_input_in_depth = true;
  c.downsample_input = true;
  c.input_downsampling_rate = 3;  // 28 -> 9
  c.blocks = {{{layer(LayerType::Conv2D, 3, 10, Padding::same)}},
              {{layer(LayerType::DownsampledConv2D, 2, 6, Padding::valid, 0.25)}}};
  c.total_fc_layer_weights = 1000;
  const Graph g = build_graph(c);
  EXPECT_EQ(g.node("input.depth_max").out, (Shape{28, 28, 1}));
  EXPECT_EQ(g.node("input.pool").out, (Shape{9, 9, 1}));
  EXPECT_EQ(g.node("block1.pool").out, (Shape{4, 4, 10}));
  EXPECT_EQ(g.node("block2.layer1.reduce").out, (Shape{4, 4, 3}));  // ceil(0.25 * 10) = 3
  EXPECT_EQ(g.node("block2.layer1.reduce").weights, 10 * 3 + 3);
  EXPECT_EQ(g.node("block2.layer1.conv").out, (Shape{3, 3, 6}));
  EXPECT_EQ(g.node("block2.layer1.conv").weights, 2 * 2 * 3 * 6 + 6);
  EXPECT_EQ(g.node("block2.pool").out, (Shape{1, 1, 6}));
  EXPECT_EQ(g.node("fc.main").out.c, 166);  // floor(1000 / 6)
}

TEST(Graph, BranchesAndMergeWidths) {
  Config c = lenet();
  c.input_height = c.input_width = 8;
  c.blocks = {{{layer(LayerType::Conv2D, 3, 4, Padding::same)}}, {{layer(LayerType::Conv2D, 3, 2, Padding::valid)}}};
  c.total_fc_layer_weights = 1000;
  c.weight_fraction_main_branch = 0.5;
  c.left_branch = c.right_branch = true;
  c.weight_fraction_left_branch = c.weight_fraction_right_branch = 0.25;
  const Graph g = build_graph(c);
  EXPECT_EQ(g.node("fc.main").out.c, 250);  // 0.5 * 1000 / 2 inputs
  EXPECT_EQ(g.node("fc.left").out.c, 3);    // floor(0.25 * 1000 / 64): flatten of block-1 output 4x4x4
  EXPECT_EQ(g.node("fc.right").out.c, 3);   // floor(250 / 64): flatten of block-1 input 8x8x1
  EXPECT_EQ(g.node("fc.left").inputs[0], g.index("block1.pool"));
  EXPECT_EQ(g.node("fc.right").inputs[0], g.index("input"));
  EXPECT_EQ(g.node("merge").kind, NodeKind::merge_concat);
  EXPECT_EQ(g.node("merge").out.c, 256);
  c.merge_type = sparse::space::MergeType::Sum;
  const Graph s = build_graph(c);
  EXPECT_EQ(s.node("fc.main").out.c, 3);  // Sum: all widths = the smallest
  EXPECT_EQ(s.node("merge").out.c, 3);
  c.num_fc_layers = 0;  // Sum without a main FC: branch widths = flatten(last block) = 2
  const Graph z = build_graph(c);
  EXPECT_EQ(z.index("fc.main"), -1);
  EXPECT_EQ(z.node("fc.left").out.c, 2);
  EXPECT_EQ(z.node("merge").out.c, 2);
  EXPECT_EQ(z.node("merge").inputs[0], z.index("block2.pool"));
}

TEST(Graph, ResidualPairsWithProjectionAndBatchNorm) {
  Config c = lenet();
  c.input_height = c.input_width = 6;
  c.input_channels = 2;
  c.batch_norm = true;
  c.residual_connections = true;
  c.num_fc_layers = 0;
  c.blocks = {{{layer(LayerType::Conv2D, 3, 3, Padding::same), layer(LayerType::Conv2D, 3, 4, Padding::valid),
                layer(LayerType::Conv2D, 3, 4, Padding::same)}}};
  const Graph g = build_graph(c);
  const Node& add = g.node("block1.layer2.residual_add");
  EXPECT_EQ(add.out, (Shape{4, 4, 4}));
  EXPECT_EQ(add.inputs[0], g.index("block1.layer2.conv"));
  EXPECT_EQ(add.inputs[1], g.index("block1.layer2.projection"));
  EXPECT_EQ(g.node("block1.layer2.projection").weights, 2 * 4 + 4);
  EXPECT_EQ(g.index("block1.layer3.residual_add"), -1);  // layer 3 has no partner
  EXPECT_TRUE(g.node("block1.layer1.conv").batch_norm);
  EXPECT_EQ(g.node("block1.layer3.conv").inputs[0], g.index("block1.layer2.residual_add"));
  // Equal channels: identity skip, no projection.
  c.blocks[0].layers[0].num_filters = 2;
  c.blocks[0].layers[1].num_filters = 2;
  const Graph h = build_graph(c);
  EXPECT_EQ(h.index("block1.layer2.projection"), -1);
  EXPECT_EQ(h.node("block1.layer2.residual_add").inputs[1], h.index("input"));
}

TEST(Graph, ShapeErrorsNameTheField) {
  Config c = lenet();
  c.blocks[1].layers.assign(3, c.blocks[1].layers[0]);
  try {
    build_graph(c);
    FAIL() << "no throw";
  } catch (const sparse::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'blocks[1].layers[2]': 5x5 conv (valid) on a 4x4 input gives 0x0"),
              std::string::npos)
        << e.what();
  }
  c = lenet();
  c.blocks.clear();
  EXPECT_THROW(build_graph(c), sparse::Error);
}
