// `sparse train`: progress lines and summary, --json keys, --out files, --init-from inheritance, bad input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "host/core/file_io.hpp"
#include "tests/common/run_cli.hpp"
#include "tests/nn/nn_fixtures.hpp"

using sparse::test::run_cli;
using sparse::test::TempDir;

namespace {

const char* kData = "--dataset synthetic --classes 4 --train-size 600 --test-size 200 --image-size 16x16x1";

std::string write_config(const TempDir& tmp, const sparse::space::Config& c) {
  const std::string p = (tmp / "cfg.json").string();
  sparse::write_file_atomic(p, sparse::space::to_json(c).dump(2));
  return p;
}

}  // namespace

TEST(CliTrain, TrainsWritesOutAndInherits) {
  TempDir tmp;
  const std::string cfg = write_config(tmp, sparse::test::small_config(4, {4}, 4000));
  const std::string out = (tmp / "run1").string();
  const auto r = run_cli("train --config " + cfg + " " + kData + " --epochs 3 --batch 32 --lr 3e-3 --threads 1 --seed 3 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("epoch   1 variational"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test accuracy"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("WM5"), std::string::npos) << r.out;
  for (const char* f : {"config.json", "phi.bin", "summary.json"}) EXPECT_TRUE(std::filesystem::exists(tmp / "run1" / f)) << f;
  const auto summary = sparse::read_json_file(tmp / "run1" / "summary.json");
  EXPECT_GT(summary["test_acc"].get<double>(), 0.25);

  const auto j = run_cli("train --config " + (tmp / "run1" / "config.json").string() + " " + kData +
                         " --epochs 1 --batch 32 --threads 1 --init-from " + out + " --json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto s = nlohmann::json::parse(j.out);
  EXPECT_EQ(s["inherited_params"], s["params_total"]);
  EXPECT_NEAR(s["initial_val_acc"].get<double>(), summary["val_acc"].get<double>(), 1e-9);
  for (const char* k : {"test_acc", "int8_test_acc", "val_acc", "nonzero", "ms_bytes", "wm5_bytes", "wm6_bytes", "layers",
                        "epoch_log"})
    EXPECT_TRUE(s.contains(k)) << k;
  EXPECT_EQ(s["epoch_log"].size(), 1u);
}

TEST(CliTrain, BadInputNamesTheProblem) {
  TempDir tmp;
  sparse::space::Config c = sparse::test::small_config(4, {4}, 4000);
  c.input_height = 28;
  c.input_width = 28;
  const std::string cfg = write_config(tmp, c);
  auto r = run_cli("train --config " + cfg + " " + kData + " --epochs 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("'input' is 28x28x1"), std::string::npos) << r.err;
  r = run_cli("train --config " + cfg + " " + kData + " --method xyz");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("method 'xyz'"), std::string::npos) << r.err;
  r = run_cli("train --config " + cfg + " " + kData + " --init-from " + (tmp / "nowhere").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("phi.bin"), std::string::npos) << r.err;
  r = run_cli("train --config " + (tmp / "missing.json").string() + " " + kData);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.json"), std::string::npos) << r.err;
  r = run_cli("train --config " + cfg + " " + kData + " --pruning maybe");
  EXPECT_EQ(r.exit_code, 2) << "a usage error";
  EXPECT_NE(r.err.find("--pruning"), std::string::npos) << r.err;
}
