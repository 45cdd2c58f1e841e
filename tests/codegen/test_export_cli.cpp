// `sparse export` end to end: a `sparse train --out` folder exported and verified on Cortex-M3 (the int8
// accuracy of the exported integers equals the one the trainer recorded; the report's numbers and files are
// there); the same trial through a SQLite store (detected by its header) gives identical C; bad input (failed
// or unfinished trial, store without --trial, wrong dataset, unknown target) fails with a message naming it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "host/core/file_io.hpp"
#include "host/store/sqlite_store.hpp"
#include "tests/common/run_cli.hpp"
#include "tests/nn/nn_fixtures.hpp"

using sparse::test::run_cli;
using sparse::test::slurp;
using sparse::test::TempDir;

namespace {

const char* kData = "--dataset synthetic --classes 4 --train-size 300 --test-size 60 --image-size 16x16x1";

// One trained trial folder shared by the tests of this file (trained once, a few seconds).
const std::filesystem::path& trained_run() {
  static TempDir tmp;
  static std::filesystem::path out;
  if (out.empty()) {
    sparse::space::Config c = sparse::test::small_config(4, {4, 6}, 2000);  // hidden FC >= the classes
    const std::string cfg = (tmp / "cfg.json").string();
    sparse::write_file_atomic(cfg, sparse::space::to_json(c).dump(2));
    out = tmp / "run";
    const auto r = run_cli("train --config " + cfg + " " + kData + " --epochs 2 --threads 2 --seed 4 --method bc --out " +
                           out.string());
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  return out;
}

}  // namespace

TEST(CliExport, TrainFolderExportsAndVerifiesOnCortexM3) {
  const auto& run = trained_run();
  TempDir tmp;
  const auto out = tmp / "c";
  const auto r = run_cli("export " + run.string() + " --out " + out.string() + " " + kData +
                         " --name lenet_s --target cortex-m3 --test-images 6 --verify --json");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto j = nlohmann::json::parse(r.out);
  const auto summary = sparse::read_json_file(run / "summary.json");
  // The exported integers are the trainer's int8 model: the same accuracy to the last image.
  EXPECT_EQ(j["int8_test_acc"].get<double>(), summary["int8_test_acc"].get<double>());
  EXPECT_EQ(j["recorded_int8_test_acc"].get<double>(), summary["int8_test_acc"].get<double>());
  EXPECT_EQ(j["ms_bytes"], summary["ms_bytes"]);
  EXPECT_EQ(j["wm5_bytes"], summary["wm5_bytes"]);
  const auto& v = j["verify"];
  EXPECT_TRUE(v["ok"].get<bool>()) << v.dump(2);
  ASSERT_EQ(v["targets"].size(), 2u);
  EXPECT_EQ(v["targets"][0]["target"], "host");
  EXPECT_EQ(v["targets"][0]["mismatches"], 0);
  const auto& m3 = v["targets"][1];
  EXPECT_EQ(m3["target"], "cortex-m3");
  EXPECT_EQ(m3["images"], 6);
  EXPECT_EQ(m3["mismatches"], 0);
  EXPECT_GE(m3["flash_bytes"].get<int64_t>(), j["constants_bytes"].get<int64_t>());
  EXPECT_GE(m3["static_ram_bytes"].get<int64_t>(), j["arena_bytes"].get<int64_t>());
  EXPECT_GT(m3["stack_bytes"].get<int64_t>(), 0);
  EXPECT_GT(m3["per_inference"].get<double>(), 1000.0);
  EXPECT_EQ(m3["per_inference_unit"], "instructions");
  for (const char* f : {"lenet_s.h", "lenet_s.c", "lenet_s_test.c", "sparse_rt.h", "sparse_rt.c", "lenet_s_report.json"})
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  // The header now carries the measured figures.
  const std::string h = slurp(out / "lenet_s.h");
  EXPECT_NE(h.find("measured on cortex-m3: flash " + std::to_string(m3["flash_bytes"].get<int64_t>())), std::string::npos) << h;
  EXPECT_NE(h.find("int lenet_s_predict(const int8_t *input, int8_t *scores);"), std::string::npos);

  // Text mode prints the report table.
  const auto t = run_cli("export " + run.string() + " --out " + (tmp / "t").string() + " " + kData +
                         " --target m0 --test-images 3 --verify");
  ASSERT_EQ(t.exit_code, 0) << t.err << t.out;
  EXPECT_NE(t.out.find("cortex-m0"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("paper models (8-bit): MS " + std::to_string(summary["ms_bytes"].get<int64_t>())), std::string::npos)
      << t.out;
  EXPECT_NE(t.out.find("verify: ok"), std::string::npos) << t.out;
}

TEST(CliExport, StoreTrialGivesTheSameC) {
  const auto& run = trained_run();
  TempDir tmp;
  const auto db = tmp / "s.db";
  int64_t done_id = 0, failed_id = 0, queued_id = 0;
  {
    sparse::store::SqliteStore st(db.string(), true);
    sparse::store::SearchRecord s;
    s.dataset = "synthetic";
    s.objectives = "acc,ms,wm5";
    const auto summary = sparse::read_json_file(run / "summary.json");
    // The search module's settings layout: dataset options under /data, calibration under /train, the training
    // split's statistics under /dataset_fingerprint; the trial's metrics carry its seed.
    s.settings = {{"data",
                   {{"name", "synthetic"}, {"data_dir", nullptr}, {"split_seed", 0}, {"val_size", nullptr},
                    {"image_shape", {16, 16, 1}}, {"synthetic_classes", 4}, {"synthetic_train", 300},
                    {"synthetic_test", 60}, {"synthetic_noise", 0.08}}},
                  {"train", {{"calibration_images", summary["calibration_images"]}}},
                  {"dataset_fingerprint", {{"mean", summary["normalization"]["mean"]}, {"std", summary["normalization"]["std"]}}}};
    const int64_t search = st.create_search(s);
    sparse::store::TrialRecord t;
    t.search_id = search;
    t.config = sparse::read_json_file(run / "config.json");
    done_id = st.add_trial(t);
    failed_id = st.add_trial(t);
    queued_id = st.add_trial(t);
    ASSERT_EQ(st.claim_next(search, "cpu:0")->id, done_id);
    sparse::store::TrialResult res;
    res.int8_acc = summary["int8_test_acc"].get<double>();
    res.metrics = {{"seed", summary["seed"]}};
    st.finish(done_id, res);
    st.put_phi(done_id, sparse::read_file_bytes(run / "phi.bin"));
    ASSERT_EQ(st.claim_next(search, "cpu:0")->id, failed_id);
    st.fail(failed_id, "diverged at epoch 3, step 7");
  }
  const auto a = run_cli("export " + run.string() + " --out " + (tmp / "a").string() + " " + kData + " --test-images 2");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto b = run_cli("export " + db.string() + " --trial " + std::to_string(done_id) + " --out " + (tmp / "b").string() +
                         " --test-images 2 --json");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(slurp(tmp / "a" / "model.c"), slurp(tmp / "b" / "model.c"));
  EXPECT_EQ(slurp(tmp / "a" / "model_test.c"), slurp(tmp / "b" / "model_test.c"));
  // The folder's summary.json records every dataset option, so the dataset flags may be left out.
  const auto c = run_cli("export " + run.string() + " --out " + (tmp / "c").string() + " --test-images 2");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(slurp(tmp / "a" / "model.c"), slurp(tmp / "c" / "model.c"));
  EXPECT_EQ(slurp(tmp / "a" / "model_test.c"), slurp(tmp / "c" / "model_test.c"));
  const auto j = nlohmann::json::parse(b.out);
  EXPECT_EQ(j["int8_test_acc"], j["recorded_int8_test_acc"]);

  auto r = run_cli("export " + db.string() + " --trial " + std::to_string(failed_id) + " --out " + (tmp / "c").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is failed (diverged at epoch 3, step 7), expected done"), std::string::npos) << r.err;
  r = run_cli("export " + db.string() + " --trial " + std::to_string(queued_id) + " --out " + (tmp / "c").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is queued"), std::string::npos) << r.err;
  r = run_cli("export " + db.string() + " --out " + (tmp / "c").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--trial N"), std::string::npos) << r.err;
  r = run_cli("export " + db.string() + " --trial 999 --out " + (tmp / "c").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("999"), std::string::npos) << r.err;
}

TEST(CliExport, BadInputNamesTheProblem) {
  const auto& run = trained_run();
  TempDir tmp;
  // A failed trial folder.
  std::filesystem::create_directories(tmp / "failed");
  sparse::write_file_atomic(tmp / "failed" / "summary.json",
                            R"({"ok": false, "error": "diverged at epoch 2, step 5: loss is nan"})");
  auto r = run_cli("export " + (tmp / "failed").string() + " --out " + (tmp / "o").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("failed: diverged at epoch 2, step 5"), std::string::npos) << r.err;
  // Missing folder.
  r = run_cli("export " + (tmp / "nope").string() + " --out " + (tmp / "o").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  // Another dataset than the trial's: its normalization differs.
  r = run_cli("export " + run.string() + " --out " + (tmp / "o").string() +
              " --dataset synthetic --classes 4 --train-size 200 --test-size 60 --image-size 16x16x1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is not the one"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("pass the dataset flags used for training"), std::string::npos) << r.err;
  // Unknown target, bad name, --trial on a folder.
  r = run_cli("export " + run.string() + " --out " + (tmp / "o").string() + " --target cortex-m99");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cortex-m33"), std::string::npos) << r.err;
  r = run_cli("export " + run.string() + " --out " + (tmp / "o").string() + " --name 3d");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("C identifier"), std::string::npos) << r.err;
  r = run_cli("export " + run.string() + " --trial 3 --out " + (tmp / "o").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a SQLite file"), std::string::npos) << r.err;
  // A model that exceeds the ATmega328P's RAM: the numbers are in the message.
  r = run_cli("export " + run.string() + " --out " + (tmp / "o").string() + " " + kData + " --target avr");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not fit avr"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2048"), std::string::npos) << r.err;
  // More test images than the M0's flash holds (256 B each): refused before any file is written.
  r = run_cli("export " + run.string() + " --out " + (tmp / "m0").string() + " " + kData +
              " --target cortex-m0 --test-images 2000");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--test-images 2000 does not fit cortex-m0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("or fewer"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp / "m0"));
}
