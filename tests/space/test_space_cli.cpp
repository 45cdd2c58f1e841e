// `sparse space ...` end to end: JSON output shapes, determinism, stage restriction, exit 1 on bad configs.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "host/space/config.hpp"
#include "tests/common/run_cli.hpp"

using sparse::test::run_cli;

namespace {
const std::string kLenet = std::string(SPARSE_SOURCE_DIR) + "/bench/networks/lenet5.json";
}

TEST(SpaceCli, SampleJsonLinesAndJsonObject) {
  const auto r = run_cli("space sample --n 5 --seed 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const auto c = sparse::space::config_from_json(nlohmann::json::parse(line));
    EXPECT_EQ(sparse::space::validation_error(c, sparse::space::default_space()), "");
    ++n;
  }
  EXPECT_EQ(n, 5);
  const auto j = run_cli("space sample --n 200 --seed 3 --json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto o = nlohmann::json::parse(j.out);
  EXPECT_EQ(o["configs"].size(), 200u);
  EXPECT_GT(o["rejection_rate"].get<double>(), 0.0);
  EXPECT_LT(o["rejection_rate"].get<double>(), 1.0);
  EXPECT_EQ(o["configs"][0], nlohmann::json::parse(r.out.substr(0, r.out.find('\n'))));  // same seed, same first config
}

TEST(SpaceCli, MorphStage2OnlyTouchesPruningParameters) {
  for (int seed = 0; seed < 5; ++seed) {
    const auto r = run_cli("space morph " + kLenet + " --seed " + std::to_string(seed) + " --stage 2 --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto o = nlohmann::json::parse(r.out);
    ASSERT_FALSE(o["morphs"].empty());
    for (const auto& m : o["morphs"]) {
      const std::string name = m.get<std::string>();
      EXPECT_TRUE(name == "threshold" || name == "alpha" || name == "zero-regularization-epochs" ||
                  name == "annealing-epochs")
          << name;
    }
    const auto before = sparse::space::read_config(kLenet);
    const auto after = sparse::space::config_from_json(o["config"]);
    const std::regex pruning(R"(alpha|zero-regularization-epochs|annealing-epochs|.*pruning-threshold.*)");
    const auto diff = sparse::space::config_diff(before, after);
    EXPECT_FALSE(diff.empty());
    for (const auto& d : diff) EXPECT_TRUE(std::regex_match(d, pruning)) << d;
  }
}

TEST(SpaceCli, BadConfigExitsOneWithFieldInMessage) {
  sparse::test::TempDir tmp;
  auto j = nlohmann::json::parse(sparse::test::slurp(kLenet));
  j["blocks"][0]["layers"][0]["kernel-size"] = 9;
  sparse::test::write_text(tmp / "bad.json", j.dump());
  for (const std::string cmd : {"space morph --seed 1 ", "space check "}) {
    const auto r = run_cli(cmd + (tmp / "bad.json").string());
    EXPECT_EQ(r.exit_code, 1) << cmd << r.out << r.err;
    EXPECT_NE(r.err.find("blocks[0].layers[0].kernel-size' = 9 is outside the allowed range [2:1:5]"), std::string::npos)
        << r.err;
  }
  // graph builds any network whose shapes work (ranges are the space's business): 9x9 valid on 28x28 gives 20x20.
  EXPECT_EQ(run_cli("graph " + (tmp / "bad.json").string()).exit_code, 0);
  sparse::test::write_text(tmp / "typo.json", "{\"input\": {\"height\": 28}");
  const auto r = run_cli("graph " + (tmp / "typo.json").string() + " --json");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(nlohmann::json::parse(r.out)["error"].get<std::string>().find("typo.json"), std::string::npos);
  const auto m = run_cli("space morph " + (tmp / "missing.json").string() + " --seed 1");
  EXPECT_EQ(m.exit_code, 1);
}

TEST(SpaceCli, CustomSpaceFile) {
  sparse::test::TempDir tmp;
  auto s = nlohmann::json::parse(sparse::test::slurp(std::string(SPARSE_SOURCE_DIR) + "/host/space/default_space.json"));
  s["variables"]["layer-type"]["levels"] = {"SeparableConv2D"};
  s["variables"]["layer-type"]["default"] = "SeparableConv2D";
  sparse::test::write_text(tmp / "space.json", s.dump());
  const auto r = run_cli("space sample --n 50 --seed 1 --json --space " + (tmp / "space.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& c : nlohmann::json::parse(r.out)["configs"])
    for (const auto& b : c["blocks"])
      for (const auto& l : b["layers"]) EXPECT_EQ(l["layer-type"], "SeparableConv2D");
  s["variables"]["kernel-size"]["range"] = {5, 2};
  sparse::test::write_text(tmp / "bad_space.json", s.dump());
  const auto bad = run_cli("space sample --n 1 --space " + (tmp / "bad_space.json").string());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("variables.kernel-size.range"), std::string::npos) << bad.err;
}
