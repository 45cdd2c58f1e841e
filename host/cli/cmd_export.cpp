// `sparse export STORE_OR_DIR [--trial N] --out DIR`: a completed trial to bare-metal C (codegen/export.hpp), with
// --verify building and running it on the host and an emulated chip and printing the measured memory report
// (codegen/verify.hpp). The dataset defaults to the one the trial recorded; dataset flags override it.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "codegen/export.hpp"
#include "codegen/verify.hpp"
#include "host/cli/cli.hpp"
#include "host/cli/dataset_flags.hpp"
#include "host/core/error.hpp"
#include "host/core/file_io.hpp"
#include "host/nn/int8_executor.hpp"

namespace sparse::cli {

void add_export_command(CLI::App& app) {
  static Output out;
  static DatasetFlags flags;
  static std::string source, out_dir, name = "model", target = "host";
  static long long trial = -1;
  static int test_images = -1;
  static bool verify = false;
  CLI::App* cmd = app.add_subcommand("export", "Generate bare-metal C (int8, bit-exact with the int8 executor) for a trial");
  cmd->add_option("source", source, "A `sparse train --out` folder, or a trial store (SQLite file or postgresql:// URL) with --trial")->required();
  cmd->add_option("--trial", trial, "Trial id in the store")->check(CLI::NonNegativeNumber);
  cmd->add_option("--out", out_dir, "Folder for <name>.h, <name>.c, the runtime and the test harness")->required();
  cmd->add_option("--name", name, "C name of the model (prefix of the API and macros)")->capture_default_str();
  cmd->add_option("--target", target, "host, cortex-m0, cortex-m3, cortex-m4, cortex-m7, cortex-m33 or avr")
      ->capture_default_str();
  cmd->add_option("--test-images", test_images, "Test images to embed in <name>_test.c (default 16 with --verify, else 0)")
      ->check(CLI::Range(0, 100000));
  cmd->add_flag("--verify", verify, "Build and run on the host (bit-exact vs the int8 executor) and on --target under "
                                    "its emulator; print the measured memory report");
  flags.add(cmd);
  out.add_flag(cmd);
  cmd->callback([cmd] {
    const codegen::Target& t = codegen::find_target(target);
    codegen::check_c_name(name);
    const codegen::TrialSource trial_src =
        codegen::load_trial(source, trial >= 0 ? std::optional<int64_t>(trial) : std::nullopt);
    // Dataset: the flags when any is given, else the trial's record.
    bool flags_given = false;
    for (const char* f : {"--dataset", "--data-dir", "--split-seed", "--val-size", "--image-size", "--classes",
                          "--train-size", "--test-size", "--noise"})
      flags_given = flags_given || cmd->count(f) > 0;
    data::DatasetOptions opts = flags.options();
    if (!flags_given) {
      SPARSE_CHECK(trial_src.dataset.has_value(), trial_src.origin << " records no dataset: pass --dataset and its flags");
      opts = *trial_src.dataset;
    }
    const data::Dataset data = data::load_dataset(opts);
    const codegen::PreparedModel p = codegen::prepare(trial_src, data);
    if (t.name != "host") codegen::check_fits(p.lowered, t);
    const size_t k = static_cast<size_t>(test_images >= 0 ? test_images : (verify ? 16 : 0));
    SPARSE_CHECK(!verify || k > 0, "--verify needs test images to compare (--test-images K with K >= 1)");
    if (t.name != "host") codegen::check_test_images_fit(p.lowered, t, k);
    std::vector<int8_t> images;
    std::vector<int> labels;
    if (k > 0) codegen::quantized_test_images(p.q, data, k, images, labels);
    const std::filesystem::path dir = out_dir;
    codegen::WrittenFiles files = codegen::write_sources(p, name, dir, images, labels);
    nlohmann::json j = {{"source", trial_src.origin},
                        {"name", name},
                        {"out", dir.string()},
                        {"header", files.header.string()},
                        {"source_file", files.source.string()},
                        {"test_images", labels.size()},
                        {"int8_test_acc", p.facts.int8_acc_here.value_or(-1)},
                        {"constants_bytes", p.lowered.data_bytes()},
                        {"arena_bytes", p.lowered.plan.arena_bytes},
                        {"ms_bytes", p.facts.paper.ms_bytes},
                        {"wm5_bytes", p.facts.paper.wm5_bytes},
                        {"wm6_bytes", p.facts.paper.wm6_bytes}};
    if (p.facts.int8_test_acc) j["recorded_int8_test_acc"] = *p.facts.int8_test_acc;
    if (!out.json) {
      std::printf("exported %s from %s to %s: constants %lld B, arena %lld B; int8 test accuracy %.4f on %zu images",
                  name.c_str(), trial_src.origin.c_str(), dir.string().c_str(),
                  static_cast<long long>(p.lowered.data_bytes()), static_cast<long long>(p.lowered.plan.arena_bytes),
                  p.facts.int8_acc_here.value_or(-1), p.facts.test_images);
      if (p.facts.int8_test_acc) std::printf(" (trial recorded %.4f)", *p.facts.int8_test_acc);
      std::printf("\n");
      std::fflush(stdout);
    }
    if (!verify) {
      if (out.json) out.print_json(j);
      return;
    }
    std::vector<std::vector<int8_t>> expected;
    const size_t px = static_cast<size_t>(p.q.nodes.front().out.size());
    for (size_t i = 0; i < labels.size(); ++i) expected.push_back(nn::run_int8(p.q, images.data() + i * px));
    codegen::VerifyOptions vo;
    vo.targets = {"host"};
    if (t.name != "host") vo.targets.push_back(t.name);
    const codegen::VerifyReport rep = codegen::verify(p, name, dir, dir / "build", expected, vo);
    // Header comment with the measured figures (a comment only: the verified code is unchanged).
    codegen::PreparedModel with_measured = p;
    with_measured.facts.measured = codegen::measured_lines(rep);
    write_file_atomic(files.header, codegen::emit_model(with_measured.lowered, name, with_measured.facts).header);
    write_file_atomic(dir / (name + "_report.json"), codegen::to_json(rep).dump(2) + "\n");
    j["verify"] = codegen::to_json(rep);
    std::string why;
    for (const auto& tr : rep.targets) {
      if (!tr.skipped.empty()) why += " " + tr.target + " was not run: it " + tr.skipped + ";";
      if (!tr.fit_error.empty()) why += " " + tr.fit_error + ";";
      if (!tr.run_error.empty()) why += " " + tr.target + ": " + tr.run_error + ";";
      if (!tr.wm_error.empty()) why += " " + tr.target + ": " + tr.wm_error + ";";
      if (tr.mismatches)
        why += " " + tr.target + ": " + std::to_string(tr.mismatches) + " images differ (" + tr.first_mismatch + ");";
    }
    if (!rep.ok()) j["error"] = "verify failed:" + why;
    if (out.json)
      out.print_json(j);
    else
      std::cout << codegen::format_report(rep) << std::flush;
    if (rep.ok()) return;
    if (out.json) {  // exactly one JSON object on stdout: the report with its error
      std::fflush(stdout);
      std::exit(1);
    }
    SPARSE_FAIL("verify failed:" << why);
  });
}

}  // namespace sparse::cli
