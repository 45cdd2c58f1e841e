// Export of a completed trial to bare-metal C: the trial's inputs (Config, φ bytes, dataset options, summary),
// read from a `sparse train --out` folder or from a trial store; the int8 model quantized exactly as the
// trainer's int8 score (nn::quantize_trained with the summary's calibration_images and seed); lowering
// (lowering.hpp) and the C files (emit_c.hpp) written to a folder with the runtime they use.
// Invariants: prepare() refuses a φ whose Config differs from the trial's, a dataset whose normalization differs
// from the one the trial recorded (the calibration would not be the trainer's), a trial that is not done; the
// exported integers are those nn::run_int8 computes for the same QuantizedModel.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "codegen/emit_c.hpp"
#include "codegen/lowering.hpp"
#include "datasets/preset.hpp"
#include "host/nn/deterministic_model.hpp"
#include "host/space/config.hpp"

namespace sparse::codegen {

// What a completed trial hands to codegen; a folder and a store are thin adapters onto it.
struct TrialSource {
  space::Config config;
  std::vector<uint8_t> phi;                     // φ file bytes (nn::parse_phi)
  std::optional<data::DatasetOptions> dataset;  // the dataset the trial recorded (name and, when known, options)
  nlohmann::json summary = nlohmann::json::object();  // seed, calibration_images, accuracies, normalization
  std::string origin;                           // "DIR" or "STORE trial N", for messages and the header
};

// True when the file starts with the 16-byte SQLite header "SQLite format 3\0".
bool is_sqlite_file(const std::filesystem::path& p);
// DIR/config.json, DIR/phi.bin, DIR/summary.json; a failed trial (summary ok = false, or no phi.bin) is an error
// that carries the trial's own message.
TrialSource trial_from_dir(const std::filesystem::path& dir);
// Trial `trial_id` of the store at `db` (a SQLite file or a postgresql:// URL): it must be done and have φ. Seed and calibration size come from
// the trial's metrics when present, else from the search's settings (/seed, /train/calibration_images), else the
// trainer's defaults; the dataset from the settings' /data options (host/search/settings.cpp), else the search's
// dataset name; the recorded normalization from /dataset_fingerprint.
TrialSource trial_from_store(const std::filesystem::path& db, int64_t trial_id);
// A folder, a store file (detected by its header) or a store URL, the last two with `trial` given.
TrialSource load_trial(const std::filesystem::path& store_or_dir, std::optional<int64_t> trial);

struct PreparedModel {
  nn::DeterministicModel model;  // pruned, BN folded, dead weights removed
  nn::QuantizedModel q;
  LoweredModel lowered;
  ModelFacts facts;
  uint64_t seed = 0;
  size_t calibration_images = 0;
};

// Rebuilds the trained network from φ on the CPU backend, quantizes it as the trainer did, lowers it, and
// scores the int8 model on data.test (facts.int8_acc_here). `max_orders` bounds the planner's order search.
PreparedModel prepare(const TrialSource& trial, const data::Dataset& data, int max_orders = 2000);
// The same from a DeterministicModel directly (tests; models not from a trial): calibration as quantize_trained.
PreparedModel prepare_model(const nn::DeterministicModel& model, const data::Dataset& data, size_t calibration,
                            uint64_t seed, int max_orders = 2000);

// The first `count` test images (clipped to the split), normalized and quantized exactly as nn::int8_accuracy
// does: int8 [count, H, W, C], and their labels.
void quantized_test_images(const nn::QuantizedModel& q, const data::Dataset& data, size_t count,
                           std::vector<int8_t>& images, std::vector<int>& labels);

struct WrittenFiles {
  std::filesystem::path header, source, runtime_header, runtime_source;
  std::optional<std::filesystem::path> harness;  // <name>_test.c when test images were given
};

// Writes <name>.h, <name>.c, sparse_rt.h, sparse_rt.c and (when labels is not empty) <name>_test.c into `dir`.
WrittenFiles write_sources(const PreparedModel& p, const std::string& name, const std::filesystem::path& dir,
                           const std::vector<int8_t>& images, const std::vector<int>& labels);

}  // namespace sparse::codegen
