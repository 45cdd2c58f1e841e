// SearchSettings: presets, the default stage plan, checks, JSON round trip and resume conflicts (see settings.hpp).
#include "host/search/settings.hpp"

#include <cmath>
#include <sstream>

#include "datasets/options_json.hpp"
#include "host/core/error.hpp"

namespace sparse::search {

namespace {

constexpr int kSettingsVersion = 2;  // 2: budgets.min_acc, wm_input

// Value at JSON pointer `ptr` of `j` as T; errors name the origin and the key.
template <class T>
T get(const nlohmann::json& j, const std::string& ptr, const std::string& origin) {
  const nlohmann::json::json_pointer p(ptr);
  SPARSE_CHECK(j.contains(p), origin << ": search settings lack '" << ptr << "'");
  try {
    return j.at(p).get<T>();
  } catch (const nlohmann::json::exception& e) {
    SPARSE_FAIL(origin << ": search setting '" << ptr << "' = " << j.at(p).dump() << " has the wrong type (" << e.what()
                       << ")");
  }
}

std::optional<int64_t> get_opt_bytes(const nlohmann::json& j, const std::string& ptr, const std::string& origin) {
  const nlohmann::json::json_pointer p(ptr);
  if (!j.contains(p) || j.at(p).is_null()) return std::nullopt;
  return get<int64_t>(j, ptr, origin);
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

Objectives parse_objectives(const std::string& name) {
  Objectives o;
  o.name = name;
  if (name == "acc,ms") {
    o.count = 2;
    o.method = nn::Method::spvd;
  } else if (name == "acc,ms,wm5" || name == "acc,ms,wm6") {
    o.count = 3;
    o.wm = name.substr(7);
    o.method = nn::Method::bc;
  } else {
    SPARSE_FAIL(
        "--objectives '" << name
                         << "' is not a preset, expected acc,ms (SpVD, unstructured, paper §4.1), acc,ms,wm5 or "
                            "acc,ms,wm6 (BC, structured, §4.2; working memory eq. 5 or eq. 6)");
  }
  return o;
}

int StagePlan::stage_of(int64_t n) const {
  if (n < initial) return 0;
  int64_t end = initial;
  for (int m = 0; m < 3; ++m) {
    end += stage_trials[static_cast<size_t>(m)];
    if (n < end) return m + 1;
  }
  return 3;
}

StagePlan default_plan(int trials) {
  StagePlan p;
  if (trials <= 0) return p;
  p.initial = std::min(trials, std::max(2, static_cast<int>(std::lround(trials / 10.0))));
  const int rest = trials - p.initial;
  for (int m = 0; m < 3; ++m) p.stage_trials[static_cast<size_t>(m)] = rest / 3 + (m < rest % 3 ? 1 : 0);
  return p;
}

void check_settings(const SearchSettings& s) {
  const Objectives o = parse_objectives(s.objectives);
  SPARSE_CHECK(
      !s.max_wm_bytes || !o.wm.empty(),
      "--max-wm needs a working-memory objective (--objectives acc,ms,wm5 or acc,ms,wm6), got " << s.objectives);
  SPARSE_CHECK(!s.max_ms_bytes || *s.max_ms_bytes >= 1,
               "--max-ms " << *s.max_ms_bytes << " bytes: expected at least 1");
  SPARSE_CHECK(!s.max_wm_bytes || *s.max_wm_bytes >= 1,
               "--max-wm " << *s.max_wm_bytes << " bytes: expected at least 1");
  SPARSE_CHECK(!s.min_acc || (*s.min_acc >= 0 && *s.min_acc < 1),
               "--min-acc " << *s.min_acc << ": expected an accuracy in [0, 1) (e.g. 0.7 for 70 %)");
  SPARSE_CHECK(s.plan.initial >= 1 && s.plan.initial <= 1000000,
               "--initial " << s.plan.initial << " is out of range, expected 1 to 1000000");
  for (int m = 0; m < 3; ++m)
    SPARSE_CHECK(
        s.plan.stage_trials[static_cast<size_t>(m)] >= 0 && s.plan.stage_trials[static_cast<size_t>(m)] <= 1000000,
        "--stage-trials: T_" << m + 1 << " = " << s.plan.stage_trials[static_cast<size_t>(m)]
                             << " is out of range, expected 0 to 1000000");
  for (int m = 0; m < 3; ++m)
    SPARSE_CHECK(s.rho[static_cast<size_t>(m)] >= 0 && s.rho[static_cast<size_t>(m)] <= 1,
                 "--rho: rho_" << m + 1 << " = " << s.rho[static_cast<size_t>(m)] << " is not a probability in [0, 1]");
  SPARSE_CHECK(s.time_seconds >= 0 && std::isfinite(s.time_seconds),
               "--time " << s.time_seconds << " s: expected >= 0");
  SPARSE_CHECK(s.epochs >= 1 && s.epochs <= 100000,
               "--epochs " << s.epochs << " is out of range, expected 1 to 100000");
  SPARSE_CHECK(s.morph_epochs >= 1 && s.morph_epochs <= 100000,
               "--morph-epochs " << s.morph_epochs << " is out of range, expected 1 to 100000");
  SPARSE_CHECK(s.pretrain_epochs >= -1 && s.pretrain_epochs <= 100000,
               "--pretrain-epochs " << s.pretrain_epochs << " is out of range, expected -1 (auto) to 100000");
  SPARSE_CHECK(s.batch_size >= 1 && s.batch_size <= 65536,
               "--batch " << s.batch_size << " is out of range, expected 1 to 65536");
  SPARSE_CHECK(s.lr > 0 && std::isfinite(s.lr), "--lr " << s.lr << ": expected a positive number");
  SPARSE_CHECK(s.log_variance_lr_scale >= 1e-3 && s.log_variance_lr_scale <= 1e3,
               "--log-variance-lr-scale " << s.log_variance_lr_scale << " is out of range, expected 0.001 to 1000");
  SPARSE_CHECK(s.early_stop == "off" || s.early_stop == "median",
               "--early-stop '" << s.early_stop << "': expected off or median");
  SPARSE_CHECK(s.early_stop_peers >= 1 && s.early_stop_peers <= 100000,
               "--early-stop-peers " << s.early_stop_peers << " is out of range, expected 1 to 100000");
  SPARSE_CHECK(s.refine_trials >= 0 && s.refine_trials < s.trials(),
               "--refine " << s.refine_trials << " is out of range, expected 0 to " << s.trials() - 1
                           << " (fewer than the trial budget: a refinement continues an earlier trial)");
  SPARSE_CHECK(s.refine_epochs >= 1 && s.refine_epochs <= 100000,
               "--refine-epochs " << s.refine_epochs << " is out of range, expected 1 to 100000");
  SPARSE_CHECK(s.refine_after > 0 && s.refine_after <= 1,
               "--refine-after " << s.refine_after << " is out of range, expected a share of the time budget in (0, 1]");
  SPARSE_CHECK(s.train_limit >= 0, "--train-limit " << s.train_limit << ": expected >= 0");
  SPARSE_CHECK(s.val_limit >= 0, "--val-limit " << s.val_limit << ": expected >= 0");
  SPARSE_CHECK(s.calibration_images >= 1, "--calibration-images " << s.calibration_images << ": expected >= 1");
  SPARSE_CHECK(s.candidates >= 1 && s.candidates <= 100000,
               "--candidates " << s.candidates << " is out of range, expected 1 to 100000");
  SPARSE_CHECK(s.max_morphs >= 1 && s.max_morphs <= 20,
               "--max-morphs " << s.max_morphs << " is out of range, expected 1 to 20");
  SPARSE_CHECK(s.prescreen == 0 || (s.prescreen >= 1 && s.prescreen <= 1e6),
               "--prescreen " << s.prescreen << ": expected 0 (off) or a factor >= 1 of the budgets");
  SPARSE_CHECK(s.prescreen_wm == 0 || (s.prescreen_wm >= 1 && s.prescreen_wm <= 1e6),
               "--prescreen-wm " << s.prescreen_wm << ": expected 0 (as --prescreen) or a factor >= 1 of the WM budget");
  SPARSE_CHECK(s.space.is_object(), "the search space is not a JSON object");
}

nlohmann::json dataset_fingerprint(const data::Dataset& d) {
  const auto& s = d.train.shape;
  return {{"name", d.name},
          {"train", d.train.size()},
          {"val", d.val.size()},
          {"test", d.test.size()},
          {"shape", std::to_string(s.height) + "x" + std::to_string(s.width) + "x" + std::to_string(s.channels)},
          {"classes", d.train.num_classes},
          {"mean", d.norm.mean},
          {"std", d.norm.std}};
}

nlohmann::json to_json(const SearchSettings& s) {
  auto opt = [](const std::optional<int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"version", kSettingsVersion},
          {"data", data::dataset_options_to_json(s.data)},
          {"objectives", s.objectives},
          {"wm_input", memory::to_string(s.wm_input)},
          {"budgets",
           {{"max_ms_bytes", opt(s.max_ms_bytes)},
            {"max_wm_bytes", opt(s.max_wm_bytes)},
            {"min_acc", s.min_acc ? nlohmann::json(*s.min_acc) : nlohmann::json(nullptr)},
            {"trials", s.trials()},
            {"time_seconds", s.time_seconds}}},
          {"plan", {{"initial", s.plan.initial}, {"stage_trials", s.plan.stage_trials}}},
          {"rho", s.rho},
          {"train",
           {{"epochs", s.epochs},
            {"morph_epochs", s.morph_epochs},
            {"pretrain_epochs", s.pretrain_epochs},
            {"batch_size", s.batch_size},
            {"lr", s.lr},
            {"log_variance_lr_scale", s.log_variance_lr_scale},
            {"pruning", s.pruning},
            {"early_stop", s.early_stop},
            {"early_stop_peers", s.early_stop_peers},
            {"train_limit", s.train_limit},
            {"val_limit", s.val_limit},
            {"calibration_images", s.calibration_images},
            {"int8", s.int8}}},
          {"proposals", {{"candidates", s.candidates}, {"max_morphs", s.max_morphs}, {"prescreen", s.prescreen},
                         {"prescreen_wm", s.prescreen_wm}}},
          {"refine", {{"trials", s.refine_trials}, {"epochs", s.refine_epochs}, {"after", s.refine_after}}},
          {"space", s.space},
          {"seed", s.seed},
          {"dataset_fingerprint", s.dataset_fingerprint}};
}

SearchSettings settings_from_json(const nlohmann::json& j, const std::string& origin) {
  SPARSE_CHECK(j.is_object(), origin << ": search settings are not a JSON object");
  const int version = get<int>(j, "/version", origin);
  SPARSE_CHECK(version >= 1 && version <= kSettingsVersion,
               origin << ": search settings version " << version << ", this engine reads 1 to " << kSettingsVersion);
  SearchSettings s;
  SPARSE_CHECK(j.contains("data") && j["data"].is_object(), origin << ": search settings lack '/data'");
  s.data = data::dataset_options_from_json(j["data"], origin + " /data");
  s.objectives = get<std::string>(j, "/objectives", origin);
  s.max_ms_bytes = get_opt_bytes(j, "/budgets/max_ms_bytes", origin);
  s.max_wm_bytes = get_opt_bytes(j, "/budgets/max_wm_bytes", origin);
  s.time_seconds = get<double>(j, "/budgets/time_seconds", origin);
  if (j.contains(nlohmann::json::json_pointer("/budgets/min_acc")) && !j["budgets"]["min_acc"].is_null())
    s.min_acc = get<double>(j, "/budgets/min_acc", origin);
  // Version 1 stores counted working memory on the raw image.
  s.wm_input = j.contains("wm_input") ? memory::parse_wm_input(get<std::string>(j, "/wm_input", origin))
                                      : memory::WmInput::raw;
  s.plan.initial = get<int>(j, "/plan/initial", origin);
  s.plan.stage_trials = get<std::array<int, 3>>(j, "/plan/stage_trials", origin);
  s.rho = get<std::array<double, 3>>(j, "/rho", origin);
  s.epochs = get<int>(j, "/train/epochs", origin);
  s.morph_epochs = get<int>(j, "/train/morph_epochs", origin);
  s.pretrain_epochs = get<int>(j, "/train/pretrain_epochs", origin);
  s.batch_size = get<int>(j, "/train/batch_size", origin);
  s.lr = get<double>(j, "/train/lr", origin);
  if (j.contains(nlohmann::json::json_pointer("/train/log_variance_lr_scale")))
    s.log_variance_lr_scale = get<double>(j, "/train/log_variance_lr_scale", origin);
  if (j.contains(nlohmann::json::json_pointer("/train/pruning"))) s.pruning = get<bool>(j, "/train/pruning", origin);
  if (j.contains(nlohmann::json::json_pointer("/train/early_stop"))) {
    s.early_stop = get<std::string>(j, "/train/early_stop", origin);
    s.early_stop_peers = get<int>(j, "/train/early_stop_peers", origin);
  }
  s.train_limit = get<int64_t>(j, "/train/train_limit", origin);
  s.val_limit = get<int64_t>(j, "/train/val_limit", origin);
  s.calibration_images = get<int>(j, "/train/calibration_images", origin);
  s.int8 = get<bool>(j, "/train/int8", origin);
  s.candidates = get<int>(j, "/proposals/candidates", origin);
  s.max_morphs = get<int>(j, "/proposals/max_morphs", origin);
  if (j.contains(nlohmann::json::json_pointer("/proposals/prescreen")))
    s.prescreen = get<double>(j, "/proposals/prescreen", origin);
  if (j.contains(nlohmann::json::json_pointer("/proposals/prescreen_wm")))  // stores before it: as prescreen
    s.prescreen_wm = get<double>(j, "/proposals/prescreen_wm", origin);
  if (j.contains("refine")) {  // stores written before the refinement stage have none
    s.refine_trials = get<int>(j, "/refine/trials", origin);
    s.refine_epochs = get<int>(j, "/refine/epochs", origin);
    s.refine_after = get<double>(j, "/refine/after", origin);
  }
  SPARSE_CHECK(j.contains("space"), origin << ": search settings lack '/space'");
  s.space = j["space"];
  s.seed = get<uint64_t>(j, "/seed", origin);
  if (j.contains("dataset_fingerprint")) s.dataset_fingerprint = j["dataset_fingerprint"];
  const int trials = get<int>(j, "/budgets/trials", origin);
  SPARSE_CHECK(trials == s.trials(),
               origin << ": budgets.trials = " << trials << " but the stage plan sums to " << s.trials());
  check_settings(s);
  return s;
}

store::SearchRecord record_of(const SearchSettings& s) {
  store::SearchRecord r;
  r.dataset = s.data.name;
  r.objectives = s.objectives;
  r.seed = s.seed;
  const nlohmann::json j = to_json(s);
  r.budgets = j["budgets"];
  r.settings = j;
  return r;
}

SearchSettings settings_from_record(const store::SearchRecord& r, const std::string& origin) {
  SearchSettings s = settings_from_json(r.settings, origin);
  SPARSE_CHECK(r.dataset == s.data.name && r.objectives == s.objectives && r.seed == s.seed,
               origin << ": search " << r.id << " columns (dataset " << r.dataset << ", objectives " << r.objectives
                      << ", seed " << r.seed << ") disagree with its settings JSON");
  return s;
}

std::vector<std::string> conflicts(const SearchSettings& stored, const SearchSettings& given,
                                   const std::vector<std::string>& keys) {
  const nlohmann::json a = to_json(stored), b = to_json(given);
  std::vector<std::string> out;
  for (const std::string& k : keys) {
    const nlohmann::json::json_pointer p(k);
    const nlohmann::json va = a.contains(p) ? a.at(p) : nlohmann::json(nullptr);
    const nlohmann::json vb = b.contains(p) ? b.at(p) : nlohmann::json(nullptr);
    if (va == vb) continue;
    auto show = [](const nlohmann::json& v) {
      std::string t = v.is_null() ? std::string("none") : v.dump();
      return t.size() > 80 ? t.substr(0, 77) + "..." : t;
    };
    out.push_back(k.substr(1) + " is " + show(va) + " in the store, " + show(vb) + " was given");
  }
  return out;
}

uint64_t trial_seed(uint64_t search_seed, int64_t trial_id) {
  return splitmix64(splitmix64(search_seed) ^ static_cast<uint64_t>(trial_id));
}

}  // namespace sparse::search
