// MODELSIZE (eq. 4) and WORKINGMEMORY (eqs. 5, 6) on hand-computed networks; every expected number is worked out
// in the comments from the layer shapes, never read back from the code.
#include <gtest/gtest.h>

#include "host/core/error.hpp"
#include "host/graph/graph.hpp"
#include "host/memory/dot.hpp"
#include "host/memory/memory.hpp"

using namespace sparse::memory;
using sparse::graph::build_graph;
using sparse::graph::Graph;
using sparse::space::Config;
using sparse::space::ConvLayer;
using sparse::space::LayerType;
using sparse::space::Padding;

namespace {
Config lenet() { return sparse::space::read_config(std::string(SPARSE_SOURCE_DIR) + "/bench/networks/lenet5.json"); }
ConvLayer conv(int k, int f, Padding p) {
  ConvLayer l;
  l.kernel_size = k;
  l.num_filters = f;
  l.padding = p;
  return l;
}
const NodeMemory& at(const Graph& g, const MemoryReport& r, const std::string& name) {
  return r.nodes[static_cast<size_t>(g.index(name))];
}
}  // namespace

// LeNet-5-Caffe, 8 bits, dense:
//  conv1 x=28·28=784 w=520 y=24·24·20=11520  WM5=1304  WM6=12304
//  pool1 x=11520 y=2880                      WM5=11520 WM6=14400  <- max WM6
//  conv2 x=2880 w=25050 y=3200               WM5=27930 WM6=6080
//  pool2 x=3200 y=800                        WM5=3200  WM6=4000
//  fc1   x=800 w=400500 y=500                WM5=401300 <- max WM5, WM6=1300
//  fc2   x=500 w=5010 y=10                   WM5=5510  WM6=510
TEST(Memory, LeNet5Dense) {
  const Graph g = build_graph(lenet());
  const MemoryReport r = memory_report(g, dense_state(g), 8, 8);
  EXPECT_EQ(r.params, 431080);
  EXPECT_EQ(r.ms_bytes, 431080);
  EXPECT_EQ(r.wm5_bytes, 401300);
  EXPECT_EQ(r.wm6_bytes, 14400);
  EXPECT_EQ(g.nodes[static_cast<size_t>(r.wm5_node)].name, "fc.main");
  EXPECT_EQ(g.nodes[static_cast<size_t>(r.wm6_node)].name, "block1.pool");
  EXPECT_EQ(at(g, r, "block2.layer1.conv").wm5_bytes, 27930);
  EXPECT_EQ(at(g, r, "block2.layer1.conv").wm6_bytes, 6080);
  // 4 bits: pool1 WM6 = ceil(11520·4/8) + ceil(2880·4/8) = 5760 + 1440; MS = ceil(431080/2)
  const MemoryReport r4 = memory_report(g, dense_state(g), 4, 4);
  EXPECT_EQ(r4.wm6_bytes, 7200);
  EXPECT_EQ(r4.ms_bytes, 215540);
  // weights 8 bits, activations 16 bits: fc1 WM5 = 800·2 + 400500
  EXPECT_EQ(memory_report(g, dense_state(g), 8, 16).wm5_bytes, 402100);
}

// Branches + concatenate merge, input 8x8x1:
//  block1 conv 3x3 same ->8x8x4: w=9·1·4+4=40, x=64, y=256    WM5=104  WM6=320
//  block1 pool ->4x4x4: x=256 y=64                              WM5=256  WM6=320
//  block2 conv 3x3 valid ->2x2x2: w=9·4·2+2=74 x=64 y=8         WM5=138  WM6=72
//  block2 pool ->1x1x2: x=8 y=2                                 WM5=8    WM6=10
//  fc.main 2->250: w=750 x=2 y=250                              WM5=752  WM6=252
//  fc.left 64->3: w=195 x=64 y=3                                WM5=259  WM6=67
//  fc.right 64->3: w=195 x=64 y=3                               WM5=259  WM6=67
//  merge concat: x=250+3+3=256 y=256                            WM5=256  WM6=512 <- max WM6
//  fc.output 256->10: w=2570 x=256 y=10                         WM5=2826 <- max WM5, WM6=266
//  MS = 40+74+750+195+195+2570 = 3824
TEST(Memory, BranchesAndMerge) {
  Config c = lenet();
  c.input_height = c.input_width = 8;
  c.blocks = {{{conv(3, 4, Padding::same)}}, {{conv(3, 2, Padding::valid)}}};
  c.total_fc_layer_weights = 1000;
  c.weight_fraction_main_branch = 0.5;
  c.left_branch = c.right_branch = true;
  c.weight_fraction_left_branch = c.weight_fraction_right_branch = 0.25;
  const Graph g = build_graph(c);
  const MemoryReport r = memory_report(g, dense_state(g));
  EXPECT_EQ(r.ms_bytes, 3824);
  EXPECT_EQ(r.wm5_bytes, 2826);
  EXPECT_EQ(r.wm6_bytes, 512);
  EXPECT_EQ(at(g, r, "merge").x, 256);
  EXPECT_EQ(at(g, r, "fc.left").wm5_bytes, 259);
  EXPECT_EQ(at(g, r, "block2.layer1.conv").wm5_bytes, 138);
  EXPECT_EQ(at(g, r, "block1.layer1.conv").wm6_bytes, 320);
}

// Residual pair with projection, batch-norm on (folded: no extra weights), input 6x6x2, no main FC:
//  l1 conv 3x3 same ->6x6x3: w=9·2·3+3=57 x=72 y=108          WM5=129 WM6=180
//  l2 conv 3x3 valid ->4x4x4: w=9·3·4+4=112 x=108 y=64        WM5=220 <- max WM5, WM6=172
//  projection 1x1 on input ->6x6x4: w=2·4+4=12 x=72 y=144     WM5=84  WM6=216
//  add: x=64+144=208 y=64                                     WM5=208 WM6=272 <- max WM6
//  pool ->2x2x4: x=64 y=16                                    WM5=64  WM6=80
//  fc.output 16->10: w=170 x=16 y=10                          WM5=186 WM6=26
//  MS = 57+112+12+170 = 351
TEST(Memory, ResidualWithProjection) {
  Config c = lenet();
  c.input_height = c.input_width = 6;
  c.input_channels = 2;
  c.batch_norm = true;
  c.residual_connections = true;
  c.num_fc_layers = 0;
  c.blocks = {{{conv(3, 3, Padding::same), conv(3, 4, Padding::valid)}}};
  const Graph g = build_graph(c);
  const MemoryReport r = memory_report(g, dense_state(g));
  EXPECT_EQ(r.ms_bytes, 351);
  EXPECT_EQ(r.wm5_bytes, 220);
  EXPECT_EQ(r.wm6_bytes, 272);
  EXPECT_EQ(g.nodes[static_cast<size_t>(r.wm6_node)].name, "block1.layer2.residual_add");
  EXPECT_EQ(at(g, r, "block1.layer2.projection").wm6_bytes, 216);
}

// LeNet-5 with BC-pruned channels 8-13-88 (Louizos et al.): conv1 20->8, conv2 50->13, fc1 500->88.
//  conv1: w=25·1·8+8=208 x=784 y=24·24·8=4608        WM5=992   WM6=5392
//  pool1: x=4608 y=12·12·8=1152                       WM5=4608  WM6=5760 <- max WM6
//  conv2: w=25·8·13+13=2613 x=1152 y=8·8·13=832      WM5=3765  WM6=1984
//  pool2: x=832 y=4·4·13=208                          WM5=832   WM6=1040
//  fc1:   w=208·88+88=18392 x=208 y=88                WM5=18600 <- max WM5, WM6=296
//  fc2:   w=88·10+10=890 x=88 y=10                    WM5=978   WM6=98
//  MS = 208+2613+18392+890 = 22103
TEST(Memory, StructuredPruningLeNet) {
  const Graph g = build_graph(lenet());
  std::vector<int> active(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) active[i] = g.nodes[i].out.c;
  active[static_cast<size_t>(g.index("block1.layer1.conv"))] = 8;
  active[static_cast<size_t>(g.index("block2.layer1.conv"))] = 13;
  active[static_cast<size_t>(g.index("fc.main"))] = 88;
  const PruningState s = structured_state(g, active);
  EXPECT_EQ(s.nonzero_weights[static_cast<size_t>(g.index("block2.layer1.conv"))], 2613);
  const MemoryReport r = memory_report(g, s);
  EXPECT_EQ(r.params, 431080);
  EXPECT_EQ(r.nonzero, 22103);
  EXPECT_EQ(r.ms_bytes, 22103);
  EXPECT_EQ(r.wm5_bytes, 18600);
  EXPECT_EQ(r.wm6_bytes, 5760);
  EXPECT_EQ(at(g, r, "block2.layer1.conv").wm5_bytes, 3765);
  EXPECT_EQ(at(g, r, "block2.pool").y, 208);
  // Unstructured pruning on top: fewer non-zeros change MS and WM5 but not WM6.
  PruningState u = s;
  u.nonzero_weights[static_cast<size_t>(g.index("fc.main"))] = 1000;
  const MemoryReport ru = memory_report(g, u);
  EXPECT_EQ(ru.ms_bytes, 22103 - 18392 + 1000);
  EXPECT_EQ(ru.wm5_bytes, 4608);  // pool1 input now dominates eq. 5
  EXPECT_EQ(ru.wm6_bytes, 5760);
}

TEST(Memory, BadPruningStateIsRejected) {
  const Graph g = build_graph(lenet());
  PruningState s = dense_state(g);
  s.nonzero_weights[1] = 10'000'000;
  EXPECT_THROW(memory_report(g, s), sparse::Error);
  s = dense_state(g);
  s.active_channels[1] = 21;
  EXPECT_THROW(memory_report(g, s), sparse::Error);
  s.nonzero_weights.pop_back();
  EXPECT_THROW(memory_report(g, s), sparse::Error);
  EXPECT_THROW(memory_report(g, dense_state(g), 0, 8), sparse::Error);
}

TEST(Memory, DotIsAnnotatedBeforeAndAfter) {
  const Graph g = build_graph(lenet());
  std::vector<int> active(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) active[i] = g.nodes[i].out.c;
  active[static_cast<size_t>(g.index("block1.layer1.conv"))] = 8;
  const MemoryReport before = memory_report(g, dense_state(g)), after = memory_report(g, structured_state(g, active));
  const std::string dot = to_dot(g, before, after);
  EXPECT_NE(dot.find("digraph"), std::string::npos);
  EXPECT_NE(dot.find("block1.layer1.conv\\nConv2D 5x5 +ReLU\\n24x24x20\\nMS [520, 208]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("n1 -> n2;"), std::string::npos);
}

// Input downsampling is part of the input (REFERENCE.md §1), input 28x28x3, depth max, 2x2 pool, one conv 3x3 same
// of 2 filters, no FC layer:
//  input.depth_max x=2352 y=784                 WM6=3136   (raw only)
//  input.pool      x=784  y=196                 WM6=980    (raw only)
//  conv            x=196  w=9·1·2+2=20 y=392    WM5=216  WM6=588  <- max WM6 when downsampled
//  block1.pool     x=392  y=7·7·2=98            WM5=392  WM6=490
//  fc.output       x=98   w=98·10+10=990 y=10   WM5=1088 WM6=108  <- max WM5 either way
TEST(Memory, DownsampledInputIsNotALayer) {
  Config c;
  c.input_channels = 3;
  c.downsample_input_in_depth = true;
  c.downsample_input = true;
  c.input_downsampling_rate = 2;
  c.blocks = {{{conv(3, 2, Padding::same)}}};
  c.num_fc_layers = 0;
  const Graph g = build_graph(c);
  EXPECT_EQ(g.nodes[static_cast<size_t>(g.model_input)].name, "input.pool");
  const MemoryReport down = memory_report(g, dense_state(g));
  EXPECT_EQ(down.wm6_bytes, 588);
  EXPECT_EQ(g.nodes[static_cast<size_t>(down.wm6_node)].name, "block1.layer1.conv");
  EXPECT_EQ(down.wm5_bytes, 1088);
  EXPECT_FALSE(at(g, down, "input.depth_max").layer);
  EXPECT_FALSE(at(g, down, "input.pool").layer);
  EXPECT_TRUE(at(g, down, "block1.layer1.conv").layer);
  const MemoryReport raw = memory_report(g, dense_state(g), 8, 8, WmInput::raw);
  EXPECT_EQ(raw.wm6_bytes, 3136);
  EXPECT_EQ(g.nodes[static_cast<size_t>(raw.wm6_node)].name, "input.depth_max");
  EXPECT_EQ(raw.wm5_bytes, 2352);  // the depth max's input, the raw 28x28x3 image
  EXPECT_EQ(raw.ms_bytes, down.ms_bytes);
  // Without input downsampling both counts agree: the raw image is the first layer's input.
  c.downsample_input_in_depth = c.downsample_input = false;
  c.input_channels = 1;
  const Graph g1 = build_graph(c);
  EXPECT_EQ(g1.model_input, 0);
  EXPECT_EQ(memory_report(g1, dense_state(g1)).wm6_bytes, memory_report(g1, dense_state(g1), 8, 8, WmInput::raw).wm6_bytes);
  EXPECT_EQ(parse_wm_input("raw"), WmInput::raw);
  EXPECT_THROW(parse_wm_input("flat"), sparse::Error);
}
