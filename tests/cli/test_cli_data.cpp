// `sparse` command: --json output of version/devices/data, exit codes and messages for bad input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "host/core/file_io.hpp"
#include "tests/common/run_cli.hpp"
#include "tests/datasets/fixtures.hpp"

using sparse::test::run_cli;
using sparse::test::TempDir;

TEST(CliData, VersionAndDevices) {
  const auto v = run_cli("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("sparse ", 0), 0u) << v.out;
  const auto j = nlohmann::json::parse(run_cli("version --json").out);
  EXPECT_TRUE(j.contains("version"));
  const auto d = run_cli("devices --json");
  ASSERT_EQ(d.exit_code, 0) << d.err;
  const auto dj = nlohmann::json::parse(d.out);
  EXPECT_GE(dj["cpu_threads"].get<int>(), 1);
  // Without devices the reason is given, never an empty list silently.
  if (dj["cuda"]["devices"].empty()) {
    EXPECT_FALSE(dj["cuda"]["reason"].get<std::string>().empty());
  }
}

TEST(CliData, InfoOnSyntheticJson) {
  const auto r = run_cli("data info --dataset synthetic --train-size 200 --test-size 40 --classes 4 --image-size 16x12x3 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["train"], 200);
  EXPECT_EQ(j["val"], 20);
  EXPECT_EQ(j["test"], 40);
  EXPECT_EQ(j["shape"], nlohmann::json({16, 12, 3}));
  EXPECT_EQ(j["classes"], 4);
  EXPECT_EQ(j["mean"].size(), 3u);
  EXPECT_EQ(j["class_counts"]["test"], nlohmann::json({10, 10, 10, 10}));
}

TEST(CliData, InfoOnIdxFixtureHumanReadable) {
  TempDir d;
  sparse::test::write_mnist_like(d.path(), 60, 10, true);
  const auto r = run_cli("data info --dataset mnist --data-dir " + d.path().string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("split    train 55 / val 5 / test 10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("28x28x1"), std::string::npos) << r.out;
}

// The acceptance check on the real Fashion-MNIST (installed by scripts/install-deps.sh).
TEST(CliData, FashionMnistHasThePapersSplit) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)";
  const auto r = run_cli("data info --dataset fashion-mnist --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["train"], 55000);
  EXPECT_EQ(j["val"], 5000);
  EXPECT_EQ(j["test"], 10000);
  EXPECT_EQ(j["shape"], nlohmann::json({28, 28, 1}));
  EXPECT_EQ(j["classes"], 10);
  EXPECT_EQ(j["class_counts"]["test"], nlohmann::json(std::vector<int>(10, 1000)));
  EXPECT_NEAR(j["mean"][0].get<double>(), 0.286, 0.002);
  EXPECT_NEAR(j["std"][0].get<double>(), 0.353, 0.002);
}

TEST(CliData, BadInputExitsOneWithMessage) {
  TempDir d;
  sparse::test::write_mnist_like(d.path(), 30, 10, false);
  auto bytes = sparse::read_file_bytes(d / "train-labels-idx1-ubyte");
  bytes[8 + 4] = 42;  // label of item 4
  sparse::test::write_bytes(d / "train-labels-idx1-ubyte", bytes);
  const auto r = run_cli("data info --dataset mnist --json --data-dir " + d.path().string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("label 42 of item 4 at byte offset 12 is out of range"), std::string::npos) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out).contains("error"));

  const auto u = run_cli("data info --dataset nosuch");
  EXPECT_EQ(u.exit_code, 1);
  EXPECT_NE(u.err.find("unknown dataset 'nosuch'"), std::string::npos);

  const auto s = run_cli("data info --dataset synthetic --image-size 3x3");
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_NE(s.err.find("image size '3x3' is invalid"), std::string::npos) << s.err;

  const auto m = run_cli("data info --dataset mnist --data-dir " + (d / "missing").string());
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_NE(m.err.find("does not exist"), std::string::npos);
}

TEST(CliData, UsageErrorsExitTwo) {
  EXPECT_EQ(run_cli("").exit_code, 2);
  EXPECT_EQ(run_cli("data").exit_code, 2);
  EXPECT_EQ(run_cli("data info --no-such-flag").exit_code, 2);
  EXPECT_EQ(run_cli("data info --split-seed notanumber").exit_code, 2);
}

TEST(CliData, ListPresets) {
  const auto r = run_cli("data list --json");
  ASSERT_EQ(r.exit_code, 0);
  const auto j = nlohmann::json::parse(r.out);
  bool found = false;
  for (const auto& p : j["presets"]) found = found || (p["name"] == "cifar10-binary" && p["classes"] == 2);
  EXPECT_TRUE(found);
}
