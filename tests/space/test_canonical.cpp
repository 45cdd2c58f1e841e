// Canonical Configs and the FC bottleneck rule: Configs that differ only in inert variables get one canonical form
// (and build the same network), active differences survive, samples and morphs are canonical, a morph never returns
// its reference's network, and hidden FC layers narrower than the classes are refused naming the field.
#include <gtest/gtest.h>

#include "host/core/philox.hpp"
#include "host/graph/graph.hpp"
#include "host/space/canonical.hpp"
#include "host/space/fc_widths.hpp"
#include "host/space/morph.hpp"
#include "host/space/sample.hpp"

using namespace sparse::space;

namespace {

// 28x28x1, one block of one 3x3 conv of 4 filters, no hidden FC layer: flatten 14x14x4 = 784 into fc.output.
Config plain() {
  Config c;
  ConvLayer l;
  l.num_filters = 4;
  c.blocks = {{{l}}};
  c.num_fc_layers = 0;
  return c;
}

}  // namespace

TEST(Canonical, InertVariablesCollapseActiveOnesStay) {
  const Space& s = default_space();
  Config a = plain(), b = plain();
  b.total_fc_layer_weights = 37000;          // no hidden FC layer reads it
  b.weight_fraction_main_branch = 0.3;       // no main FC layer
  b.pruning_threshold_fc[fc_left] = -2.0;    // no left branch
  b.merge_type = MergeType::Sum;             // no merge
  b.input_downsampling_rate = 4;             // no input downsampling
  b.blocks[0].layers[0].downsample = 0.2;    // not a DownsampledConv2D
  b.residual_connections = true;             // no block has two layers
  ASSERT_NE(a, b);
  EXPECT_EQ(canonical_key(a, s), canonical_key(b, s));
  EXPECT_EQ(canonical(b, s), canonical(canonical(b, s), s));
  EXPECT_EQ(sparse::graph::build_graph(a).params(), sparse::graph::build_graph(b).params());

  Config c = plain();
  c.pruning_threshold_fc[fc_output] = -2.0;  // the output layer exists: active
  EXPECT_NE(canonical_key(a, s), canonical_key(c, s));
  Config d = plain();
  d.downsample_input = true;
  d.input_downsampling_rate = 2;
  Config e = d;
  e.input_downsampling_rate = 3;             // active once downsample-input is on
  EXPECT_NE(canonical_key(d, s), canonical_key(e, s));
  // One hidden FC layer takes all of W whatever its fraction; with two, the fractions matter.
  Config f = plain();
  f.num_fc_layers = 1;
  f.weight_fraction_main_branch = 0.4;
  Config g = f;
  g.weight_fraction_main_branch = 0.9;
  EXPECT_EQ(canonical_key(f, s), canonical_key(g, s));
  f.left_branch = g.left_branch = true;
  EXPECT_NE(canonical_key(f, s), canonical_key(g, s));
}

TEST(Canonical, SamplesAreCanonicalAndMorphsChangeTheNetwork) {
  const Space& s = default_space();
  sparse::PhiloxStream rng(11);
  for (int i = 0; i < 300; ++i) {
    const Config c = sample_config(s, rng);
    ASSERT_EQ(c, canonical(c, s)) << i;
    for (int stage = 1; stage <= 3; ++stage) {
      const MorphResult m = morph(c, s, rng, stage_morphs(stage), 3);
      ASSERT_EQ(m.config, canonical(m.config, s));
      ASSERT_NE(canonical_key(m.config, s), canonical_key(c, s)) << "sample " << i << " stage " << stage;
    }
  }
}

TEST(FcBottleneck, HiddenLayersNarrowerThanTheClassesAreRefused) {
  Config c = plain();
  c.num_fc_layers = 1;
  c.total_fc_layer_weights = 1000;  // floor(1000 / 784) = 1 unit for 10 classes
  const std::string e = validation_error(c, default_space());
  EXPECT_NE(e.find("total-fc-layer-weights"), std::string::npos) << e;
  EXPECT_NE(e.find("fc.main 1 units for 784 inputs"), std::string::npos) << e;
  c.total_fc_layer_weights = 8000;  // floor(8000 / 784) = 10 units
  EXPECT_EQ(validation_error(c, default_space()), "");
  EXPECT_EQ(sparse::graph::build_graph(c).node("fc.main").out.c, 10);
  // The right branch reads the (downsampled) input: 196 inputs, share 1/2 of 3000 -> 7 units < 10.
  c.right_branch = true;
  c.weight_fraction_main_branch = 0.5;
  c.weight_fraction_right_branch = 0.5;
  c.downsample_input = true;
  c.input_downsampling_rate = 2;  // flatten of block 1 now 7x7x4 = 196 as well
  c.total_fc_layer_weights = 3000;
  const std::string e2 = validation_error(c, default_space());
  EXPECT_NE(e2.find("units for 196 inputs, expected >= 10"), std::string::npos) << e2;
  EXPECT_EQ(min_hidden_fc_width(2), 2);
  EXPECT_EQ(min_hidden_fc_width(62), 16);
  // Every sampled Config builds hidden layers at least that wide.
  sparse::PhiloxStream rng(5);
  for (int i = 0; i < 300; ++i) {
    const auto g = sparse::graph::build_graph(sample_config(default_space(), rng));
    for (const char* name : {"fc.main", "fc.left", "fc.right"})
      if (g.index(name) >= 0) {
        ASSERT_GE(g.node(name).out.c, 10) << name << " in sample " << i;
      }
  }
}
