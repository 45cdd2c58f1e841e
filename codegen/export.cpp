// Trial sources (folder, SQLite store), the trainer's int8 quantization, and writing the C files (export.hpp).
#include "codegen/export.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "datasets/options_json.hpp"
#include "host/core/error.hpp"
#include "host/core/file_io.hpp"
#include "host/core/threads.hpp"
#include "host/memory/memory.hpp"
#include "host/nn/backend_factory.hpp"
#include "host/nn/int8_eval.hpp"
#include "host/nn/int8_executor.hpp"
#include "host/nn/network.hpp"
#include "host/nn/phi.hpp"
#include "host/nn/trainer.hpp"
#include "host/space/space.hpp"
#include "host/store/open_store.hpp"

namespace sparse::codegen {

namespace fs = std::filesystem;

bool is_sqlite_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char head[16] = {};
  if (!in.read(head, 16)) return false;
  return std::string(head, 16) == std::string("SQLite format 3\0", 16);
}

TrialSource trial_from_dir(const fs::path& dir) {
  SPARSE_CHECK(fs::is_directory(dir), "'" << dir.string() << "' is neither a `sparse train --out` folder nor a trial store");
  TrialSource t;
  t.origin = dir.string();
  const fs::path summary = dir / "summary.json";
  SPARSE_CHECK(fs::exists(summary), "'" << dir.string() << "' has no summary.json: not a completed `sparse train --out` folder");
  t.summary = read_json_file(summary);
  if (t.summary.contains("ok") && !t.summary["ok"].get<bool>())
    SPARSE_FAIL("trial in '" << dir.string() << "' failed: " << t.summary.value("error", std::string("(no message)"))
                             << "; there is no trained model to export");
  SPARSE_CHECK(fs::exists(dir / "phi.bin"), "trial in '" << dir.string() << "' has no phi.bin (the training did not finish)");
  t.config = space::read_config((dir / "config.json").string());
  t.phi = read_file_bytes(dir / "phi.bin");
  if (t.summary.contains("data")) {  // every dataset option (`sparse train` writes them since summary "data")
    t.dataset = data::dataset_options_from_json(t.summary["data"], summary.string());
  } else if (t.summary.contains("dataset")) {  // older folders: the name only
    data::DatasetOptions o;
    o.name = t.summary["dataset"].get<std::string>();
    t.dataset = o;
  }
  return t;
}

TrialSource trial_from_store(const fs::path& db, int64_t trial_id) {
  const std::string label = store::store_label(db.string());  // a URL's password never printed
  const auto st = store::open_store(db.string(), false);
  const store::TrialRecord r = st->get_trial(trial_id);
  if (r.state != store::TrialState::Done)
    SPARSE_FAIL("trial " << trial_id << " in '" << label << "' is " << store::to_string(r.state)
                         << (r.error.empty() ? "" : " (" + r.error + ")") << ", expected done");
  auto phi = st->get_phi(trial_id);
  SPARSE_CHECK(phi.has_value(), "trial " << trial_id << " in '" << label << "' has no stored φ");
  TrialSource t;
  t.origin = label + " trial " + std::to_string(trial_id);
  t.config = space::config_from_json(r.config);
  t.phi = std::move(*phi);
  t.summary = r.metrics.is_object() ? r.metrics : nlohmann::json::object();
  if (r.test_acc) t.summary["test_acc"] = *r.test_acc;
  if (r.int8_acc) t.summary["int8_test_acc"] = *r.int8_acc;
  // The search's settings (host/search/settings.cpp layout): /data (dataset options), /train/calibration_images,
  // /dataset_fingerprint (training mean and std); the trial's metrics carry its seed.
  const store::SearchRecord s = st->get_search(r.search_id);
  const nlohmann::json& set = s.settings;
  auto at = [&](const char* ptr) -> const nlohmann::json* {
    if (!set.is_object()) return nullptr;
    const nlohmann::json::json_pointer jp(ptr);
    return set.contains(jp) && !set.at(jp).is_null() ? &set.at(jp) : nullptr;
  };
  if (!t.summary.contains("calibration_images"))
    if (const auto* v = at("/train/calibration_images")) t.summary["calibration_images"] = *v;
  if (!t.summary.contains("seed"))
    if (const auto* v = at("/seed")) t.summary["seed"] = *v;
  if (!t.summary.contains("normalization"))
    if (const auto* m = at("/dataset_fingerprint/mean"))
      if (const auto* sd = at("/dataset_fingerprint/std")) t.summary["normalization"] = {{"mean", *m}, {"std", *sd}};
  if (const auto* d = at("/data")) {
    t.dataset = data::dataset_options_from_json(*d, t.origin + ": the search's dataset");
  } else {
    data::DatasetOptions o;
    o.name = s.dataset;
    t.dataset = o;
  }
  return t;
}

TrialSource load_trial(const fs::path& p, std::optional<int64_t> trial) {
  if (store::is_store_url(p.string())) {
    SPARSE_CHECK(trial.has_value(),
                 "'" << store::store_label(p.string()) << "' is a trial store: name the trial with --trial N");
    return trial_from_store(p, *trial);
  }
  SPARSE_CHECK(fs::exists(p), "'" << p.string() << "' does not exist");
  if (fs::is_regular_file(p) && is_sqlite_file(p)) {
    SPARSE_CHECK(trial.has_value(), "'" << p.string() << "' is a trial store: name the trial with --trial N");
    return trial_from_store(p, *trial);
  }
  SPARSE_CHECK(!trial.has_value(), "--trial is for a trial store, but '" << p.string() << "' is not a SQLite file");
  return trial_from_dir(p);
}

namespace {

// The trial's recorded normalization must be the loaded dataset's: the same training split, so the same
// calibration subset and the same quantized test images.
void check_normalization(const nlohmann::json& summary, const data::Dataset& data, const std::string& origin) {
  if (!summary.contains("normalization")) return;
  const auto mean = summary["normalization"]["mean"].get<std::vector<double>>();
  const auto stdev = summary["normalization"]["std"].get<std::vector<double>>();
  bool same = mean.size() == data.norm.mean.size() && stdev.size() == data.norm.std.size();
  for (size_t c = 0; same && c < mean.size(); ++c)
    same = std::fabs(mean[c] - data.norm.mean[c]) <= 1e-9 * std::max(1.0, std::fabs(mean[c])) &&
           std::fabs(stdev[c] - data.norm.std[c]) <= 1e-9 * std::max(1.0, std::fabs(stdev[c]));
  if (!same) {
    std::ostringstream o;
    o << "the dataset loaded for export (" << data.name << ", " << data.train.size()
      << " training images) is not the one trial " << origin << " was trained on: training mean/std ";
    for (size_t c = 0; c < data.norm.mean.size(); ++c) o << data.norm.mean[c] << "/" << data.norm.std[c] << " ";
    o << "vs recorded ";
    for (size_t c = 0; c < mean.size(); ++c) o << mean[c] << "/" << stdev[c] << " ";
    o << "(pass the dataset flags used for training)";
    SPARSE_FAIL(o.str());
  }
}

PreparedModel finish_prepare(PreparedModel p, const data::Dataset& data, int max_orders) {
  p.q = nn::quantize_trained(p.model, data, p.calibration_images, p.seed);
  p.lowered = lower(p.q, max_orders, p.model.graph.model_input);
  p.facts.paper = memory::memory_report(p.model.graph, nn::pruning_state(p.model));
  p.facts.dataset = data.name;
  p.facts.norm = data.norm;
  p.facts.int8_acc_here = nn::int8_accuracy(p.q, data.test, data.norm, 0, SIZE_MAX, std::max(1, hardware_threads()));
  p.facts.test_images = data.test.size();
  return p;
}

}  // namespace

PreparedModel prepare_model(const nn::DeterministicModel& model, const data::Dataset& data, size_t calibration,
                            uint64_t seed, int max_orders) {
  PreparedModel p;
  p.model = model;
  p.seed = seed;
  p.calibration_images = calibration;
  return finish_prepare(std::move(p), data, max_orders);
}

PreparedModel prepare(const TrialSource& trial, const data::Dataset& data, int max_orders) {
  const nn::Phi phi = nn::parse_phi(trial.phi, trial.origin + " φ");
  const space::Config phi_config = space::config_from_json(phi.config);
  if (!(phi_config == trial.config)) {
    std::string diff;
    for (const auto& d : space::config_diff(phi_config, trial.config)) diff += (diff.empty() ? "" : ", ") + d;
    SPARSE_FAIL("φ of " << trial.origin << " belongs to another Config (fields differ: " << diff << ")");
  }
  nn::check_config_matches(trial.config, data);
  check_normalization(trial.summary, data, trial.origin);
  auto be = nn::make_backend("cpu", 1);
  nn::Network net(*be, trial.config, phi.method, 1, 0);
  nn::load_phi(net, phi);
  PreparedModel p;
  p.model = net.deterministic_model();
  p.seed = trial.summary.value("seed", uint64_t{0});
  p.calibration_images = trial.summary.value("calibration_images", size_t{256});
  p.facts.source = trial.origin + " (" + nn::to_string(phi.method) + ")";
  if (trial.summary.contains("test_acc") && trial.summary["test_acc"].is_number())
    p.facts.float_test_acc = trial.summary["test_acc"].get<double>();
  if (trial.summary.contains("int8_test_acc") && trial.summary["int8_test_acc"].is_number() &&
      trial.summary["int8_test_acc"].get<double>() >= 0)
    p.facts.int8_test_acc = trial.summary["int8_test_acc"].get<double>();
  return finish_prepare(std::move(p), data, max_orders);
}

void quantized_test_images(const nn::QuantizedModel& q, const data::Dataset& data, size_t count,
                           std::vector<int8_t>& images, std::vector<int>& labels) {
  const data::ImageSet& set = data.test;
  const graph::Shape s = q.nodes.at(0).out;
  SPARSE_CHECK(set.shape.height == s.h && set.shape.width == s.w && set.shape.channels == s.c,
               "test images are " << set.shape.height << "x" << set.shape.width << "x" << set.shape.channels
                                  << ", the model's input is " << s.h << "x" << s.w << "x" << s.c);
  count = std::min(count, set.size());
  const size_t px = set.shape.pixels();
  images.assign(count * px, 0);
  labels.assign(count, 0);
  std::vector<float> x(px);
  for (size_t k = 0; k < count; ++k) {
    data.norm.apply(set.image(k), px, set.shape.channels, x.data());
    nn::quantize_input(q.input, x.data(), px, images.data() + k * px);
    labels[k] = set.labels[k];
  }
}

WrittenFiles write_sources(const PreparedModel& p, const std::string& name, const fs::path& dir,
                           const std::vector<int8_t>& images, const std::vector<int>& labels) {
  check_c_name(name);
  fs::create_directories(dir);
  const EmittedModel e = emit_model(p.lowered, name, p.facts);
  WrittenFiles w;
  w.header = dir / (name + ".h");
  w.source = dir / (name + ".c");
  w.runtime_header = dir / "sparse_rt.h";
  w.runtime_source = dir / "sparse_rt.c";
  write_file_atomic(w.header, e.header);
  write_file_atomic(w.source, e.source);
  const fs::path rt = SPARSE_CODEGEN_RUNTIME_DIR;
  for (const char* f : {"sparse_rt.h", "sparse_rt.c"}) {
    const auto bytes = read_file_bytes(rt / f);
    write_file_atomic(dir / f, std::string(bytes.begin(), bytes.end()));
  }
  if (!labels.empty()) {
    w.harness = dir / (name + "_test.c");
    write_file_atomic(*w.harness, emit_harness(p.lowered, name, images, labels));
  }
  return w;
}

}  // namespace sparse::codegen
