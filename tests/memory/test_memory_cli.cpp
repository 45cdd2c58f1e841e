// `sparse graph` end to end: LeNet-5 totals (hand-checked in test_memory.cpp), --bits, --pruning and --dot.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "host/core/subprocess.hpp"
#include "tests/common/run_cli.hpp"

using sparse::test::run_cli;

namespace {
const std::string kLenet = std::string(SPARSE_SOURCE_DIR) + "/bench/networks/lenet5.json";
}

TEST(GraphCli, LeNet5Totals) {
  const auto r = run_cli("graph " + kLenet + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["params"], 431080);
  EXPECT_EQ(j["ms_bytes"], 431080);
  EXPECT_EQ(j["wm5_bytes"], 401300);  // fc1: 800 inputs + 400,500 weights
  EXPECT_EQ(j["wm6_bytes"], 14400);   // pool1: 24·24·20 in + 12·12·20 out
  const auto t = run_cli("graph " + kLenet);
  EXPECT_NE(t.out.find("params 431080"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("fc.main"), std::string::npos);
}

TEST(GraphCli, BitsAndPruningAndDot) {
  sparse::test::TempDir tmp;
  sparse::test::write_text(tmp / "p.json",
                           R"({"active_channels": {"block1.layer1.conv": 8, "block2.layer1.conv": 13, "fc.main": 88}})");
  const auto r = run_cli("graph " + kLenet + " --json --bits 8 --pruning " + (tmp / "p.json").string() + " --dot " +
                         (tmp / "g.dot").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ms_bytes"], 22103);
  EXPECT_EQ(j["wm5_bytes"], 18600);
  EXPECT_EQ(j["wm6_bytes"], 5760);
  EXPECT_EQ(j["dense"]["wm6_bytes"], 14400);
  const std::string dot = sparse::test::slurp(tmp / "g.dot");
  EXPECT_NE(dot.find("MS [400500, 18392]"), std::string::npos) << dot;
  const auto b4 = run_cli("graph " + kLenet + " --json --bits 4");
  EXPECT_EQ(nlohmann::json::parse(b4.out)["wm6_bytes"], 7200);
  sparse::test::write_text(tmp / "bad.json", R"({"active_channels": {"block9.conv": 3}})");
  const auto bad = run_cli("graph " + kLenet + " --pruning " + (tmp / "bad.json").string());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("block9.conv names no node"), std::string::npos) << bad.err;
}

// Where `dot` is installed the CLI renders an SVG beside the DOT file; a stand-in `dot` first on PATH records
// the call, so the path is exercised on machines without Graphviz too.
TEST(GraphCli, RendersSvgWhenDotIsOnPath) {
  sparse::test::TempDir tmp;
  const auto bin = tmp / "bin";
  sparse::test::write_text(bin / "dot", "#!/bin/sh\n[ \"$1\" = -Tsvg ] || exit 3\necho \"<svg>$2</svg>\" > \"$4\"\n");
  std::filesystem::permissions(bin / "dot", std::filesystem::perms::owner_all);
  const std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", (bin.string() + ":" + old_path).c_str(), 1);
  const auto r = run_cli("graph " + kLenet + " --json --dot " + (tmp / "g.dot").string());
  setenv("PATH", old_path.c_str(), 1);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["svg"], (tmp / "g.svg").string());
  EXPECT_EQ(sparse::test::slurp(tmp / "g.svg"), "<svg>" + (tmp / "g.dot").string() + "</svg>\n");
}

// With Graphviz installed (scripts/install-deps.sh installs it) the SVG is a real rendering of every node.
TEST(GraphCli, RealGraphvizRendersEveryNode) {
  if (!sparse::program_available("dot")) GTEST_SKIP() << "Graphviz 'dot' not installed (apt-get install graphviz)";
  sparse::test::TempDir tmp;
  const auto r = run_cli("graph " + kLenet + " --json --dot " + (tmp / "g.dot").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string svg = sparse::test::slurp(tmp / "g.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  for (const char* node : {"block1.layer1.conv", "block2.pool", "fc.main", "fc.output", "MS [400500, 400500]"})
    EXPECT_NE(svg.find(node), std::string::npos) << node;
}

// Input downsampling is part of the model input by default (the paper's WM6 below the raw image): its node is not
// counted in the WM maximum and the table shows "-" for it; --wm-input raw counts it as a layer.
TEST(GraphCli, InputDownsamplingIsNotALayerUnlessRaw) {
  sparse::test::TempDir tmp;
  auto c = nlohmann::json::parse(sparse::test::slurp(std::string(SPARSE_SOURCE_DIR) + "/bench/networks/tiny.json"));
  c["downsample-input"] = true;  // 28x28 -> 14x14 before the first conv
  c["blocks"][0]["layers"][0]["num-filters"] = 1;  // 12x12x1 after the first conv: the image dominates raw WM
  c["blocks"][1]["layers"][0]["num-filters"] = 4;
  c["num-fc-layers"] = 0;  // 2x2x4 -> 10 scores
  sparse::test::write_text(tmp / "c.json", c.dump());
  const std::string path = (tmp / "c.json").string();
  const auto d = run_cli("graph " + path + " --json");
  const auto r = run_cli("graph " + path + " --json --wm-input raw");
  ASSERT_EQ(d.exit_code, 0) << d.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto jd = nlohmann::json::parse(d.out), jr = nlohmann::json::parse(r.out);
  int uncounted = 0;
  for (const auto& L : jd["layers"]) uncounted += !L["counted_in_wm"].get<bool>();
  EXPECT_EQ(uncounted, 2) << "the input and the input max-pool";
  EXPECT_LT(jd["wm6_bytes"].get<int>(), 784) << "the raw 28x28 image is not in the downsampled count";
  EXPECT_GE(jr["wm6_bytes"].get<int>(), 784 + 196) << "raw: the pool reads the image and writes 14x14";
  const auto t = run_cli("graph " + path);
  EXPECT_NE(t.out.find("WM on the downsampled input"), std::string::npos) << t.out;
  const auto bad = run_cli("graph " + path + " --wm-input flat");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--wm-input"), std::string::npos) << bad.err;
}
