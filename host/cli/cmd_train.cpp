// `sparse train`: train one Config with Bayesian pruning, print one line per epoch and the trial summary;
// --out writes config.json, phi.bin and summary.json; --init-from inherits φ from an earlier --out folder.
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "datasets/preset.hpp"
#include "host/cli/cli.hpp"
#include "host/cli/dataset_flags.hpp"
#include "datasets/options_json.hpp"
#include "host/core/error.hpp"
#include "host/core/file_io.hpp"
#include "host/nn/backend_factory.hpp"
#include "host/nn/trainer.hpp"

namespace sparse::cli {

void add_train_command(CLI::App& app) {
  static Output out;
  static DatasetFlags flags;
  static std::string config_path, init_from, out_dir, device = "cpu", method = "spvd", pruning = "on";
  static int threads = 0;
  static long long seed = 0;
  static nn::TrainSettings st;
  static long long train_limit = 0;
  CLI::App* cmd = app.add_subcommand("train", "Train a Config with Bayesian pruning (SpVD or BC) and evaluate it");
  cmd->add_option("--config", config_path, "Config JSON file")->required();
  flags.add(cmd);
  cmd->add_option("--epochs", st.epochs, "Variational-phase epochs (default: zero-regularization + annealing + 5)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--pretrain-epochs", st.pretrain_epochs, "Deterministic pretraining epochs (default 2 when the Config "
                                                           "asks for pretraining and nothing is inherited)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--method", method, "spvd (unstructured, Sparse Variational Dropout) or bc (structured, Bayesian "
                                      "Compression)");
  cmd->add_option("--pruning", pruning, "on, or off: train the dense network deterministically for the same epochs")
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--batch", st.batch_size, "Minibatch size")->check(CLI::Range(1, 65536));
  cmd->add_option("--lr", st.lr, "Adam learning rate")->check(CLI::PositiveNumber);
  cmd->add_option("--log-variance-lr-scale", st.log_variance_lr_scale,
                  "Learning rate of the log-variances relative to --lr (default 1)")
      ->check(CLI::Range(1e-3, 1e3));
  cmd->add_option("--train-limit", train_limit, "Training images per epoch (default: the whole split)")
      ->check(CLI::Range(0LL, 1LL << 40));
  cmd->add_option("--threads", threads, "CPU threads (default: all)")->check(CLI::Range(0, 1024));
  cmd->add_option("--device", device, "cpu or cuda:N");
  cmd->add_option("--seed", seed, "Seed of initialization, shuffling and noise")->check(CLI::NonNegativeNumber);
  cmd->add_option("--init-from", init_from, "Inherit φ from the --out folder of an earlier run");
  cmd->add_option("--out", out_dir, "Write config.json, phi.bin and summary.json here");
  out.add_flag(cmd);
  cmd->callback([] {
    const space::Config config = space::read_config(config_path);
    space::validate(config, space::default_space());
    st.method = nn::method_from_string(method);
    st.pruning = pruning == "on";
    st.seed = static_cast<uint64_t>(seed);
    st.train_limit = static_cast<size_t>(train_limit);
    std::optional<nn::Phi> reference;
    if (!init_from.empty()) reference = nn::read_phi(std::filesystem::path(init_from) / "phi.bin");
    const data::DatasetOptions data_options = flags.options();
    const data::Dataset data = data::load_dataset(data_options);
    auto backend = nn::make_backend(device, threads);
    static nlohmann::json epochs;
    epochs = nlohmann::json::array();
    st.on_epoch = [](const nlohmann::json& e) {
      epochs.push_back(e);
      if (out.json) return;
      std::printf("epoch %3d %-11s loss %.4f  KL %.4g  gamma %.3f  val %.4f  pruned %.3f  %.1f s\n", e["epoch"].get<int>(),
                  e["phase"].get<std::string>().c_str(), e["loss"].get<double>(), e["kl"].get<double>(),
                  e["gamma"].get<double>(), e["val_acc"].get<double>(), e["pruned_share"].get<double>(),
                  e["seconds"].get<double>());
      std::fflush(stdout);
    };
    const nn::TrainResult r = nn::train(*backend, config, data, st, reference ? &*reference : nullptr);
    nlohmann::json summary = r.summary();
    summary["dataset"] = data.name;
    summary["data"] = data::dataset_options_to_json(data_options);  // what `sparse export` reloads the data with
    summary["method"] = method;
    summary["device"] = backend->name();
    summary["normalization"] = {{"mean", data.norm.mean}, {"std", data.norm.std}};
    summary["seed"] = st.seed;
    summary["calibration_images"] = st.calibration_images;  // int8: nn::quantize_trained(model, data, this, seed)
    if (!out_dir.empty()) {
      std::filesystem::create_directories(out_dir);
      write_file_atomic(std::filesystem::path(out_dir) / "config.json", space::to_json(config).dump(2) + "\n");
      if (r.ok) nn::write_phi(std::filesystem::path(out_dir) / "phi.bin", r.phi);
      write_file_atomic(std::filesystem::path(out_dir) / "summary.json", summary.dump(2) + "\n");
    }
    if (out.json) {
      summary["epoch_log"] = epochs;
      out.print_json(summary);
    } else if (r.ok) {
      std::printf("test accuracy %.4f (float)  %.4f (int8)  val %.4f\n", r.test_acc, r.int8_test_acc, r.val_acc);
      std::printf("non-zeros %lld of %lld (%.1f%% pruned)  MS %lld B  WM5 %lld B  WM6 %lld B  (8-bit)\n",
                  static_cast<long long>(r.memory.nonzero), static_cast<long long>(r.memory.params),
                  100.0 * (1.0 - double(r.memory.nonzero) / double(std::max<int64_t>(1, r.memory.params))),
                  static_cast<long long>(r.memory.ms_bytes), static_cast<long long>(r.memory.wm5_bytes),
                  static_cast<long long>(r.memory.wm6_bytes));
      if (reference)
        std::printf("inherited %lld of %lld parameters; validation accuracy before training %.4f\n",
                    static_cast<long long>(r.inherit.inherited), static_cast<long long>(r.inherit.total),
                    r.initial_val_acc);
      std::printf("%.1f s\n", r.seconds);
    }
    if (!r.ok) SPARSE_FAIL("training failed: " << r.error);
  });
}

}  // namespace sparse::cli
