// SearchSettings: everything that defines one SpArSe search (dataset, objectives, budgets, stage plan, ρ_m,
// training settings, search space, seed), stored in the store's SearchRecord so that `--resume` rebuilds it.
// Invariants: settings_from_record(record_of(s)) == s; a stored search is never re-interpreted with different
// settings (resume compares every flag the user gives against the stored value, see conflicts()).
//
// Decisions where the paper is silent (documented here, used by the CLI's defaults):
//  - Stage plan: `initial` uniform random configs (stage 0), then T_1, T_2, T_3 proposals (stages 1-3, §3.5).
//    Without --trials: 25 + 100 + 100 + 100 = 325 trials, the number of configurations of the paper's Fig. 3.
//    With --trials N: initial = max(2, round(N / 10)), the rest split evenly over the three stages (the
//    remainder goes to the earlier stages).
//  - ρ_m = 0.7, 0.8, 0.9: the share of model-based proposals grows as the search narrows (BOHB [26] uses 2/3).
//  - Training epochs: a fresh (random) config trains `epochs` variational epochs (default 8), a morph, which
//    inherits φ from its reference, `morph_epochs` (default 2, 4× fewer; the paper reports 2-8×). The Config's
//    own zero-regularization/annealing epochs are kept as shares of that phase (host/nn/trainer.hpp). Pretraining
//    epochs: the trainer's default (2 for a fresh config that asks for pretraining, 0 for a morph).
//  - Candidate set: 300 morphs per model-based proposal, each 1..3 morphs of a reference drawn uniformly.
//  - Method: acc,ms uses SpVD (unstructured, §4.1); acc,ms,wm5 / acc,ms,wm6 use BC (structured, §4.2).
//    Sizes are always counted at 8 bits (eq. 4-6 at one byte per weight and activation).
#pragma once
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "datasets/preset.hpp"
#include "host/memory/memory.hpp"
#include "host/nn/network.hpp"
#include "host/store/trial.hpp"

namespace sparse::search {

// The objective presets of the paper.
struct Objectives {
  std::string name;  // "acc,ms" | "acc,ms,wm5" | "acc,ms,wm6"
  int count = 2;     // K: 2 (f1, f2) or 3 (f1, f2, f3)
  std::string wm;    // "" | "wm5" | "wm6": which working-memory model f3 is (eq. 5 or eq. 6)
  nn::Method method = nn::Method::spvd;
};
// Throws naming the value and the presets when `name` is not one of them.
Objectives parse_objectives(const std::string& name);

struct StagePlan {
  int initial = 25;
  std::array<int, 3> stage_trials{100, 100, 100};
  int total() const { return initial + stage_trials[0] + stage_trials[1] + stage_trials[2]; }
  // Stage of the trial with 0-based creation index n (0 = initial random; n >= total() gives 3).
  int stage_of(int64_t n) const;
};
// The default plan for a budget of `trials` (see the file comment); trials <= 0 gives the 325-trial plan.
StagePlan default_plan(int trials);

struct SearchSettings {
  data::DatasetOptions data;
  std::string objectives = "acc,ms,wm5";
  std::optional<int64_t> max_ms_bytes, max_wm_bytes;  // hard budgets (bytes at 8 bits)
  std::optional<double> min_acc;  // hard accuracy floor on validation accuracy (μNAS's error bound), in [0, 1)
  // How eqs. 5-6 count input downsampling (host/memory/memory.hpp). Stores written before this setting existed
  // counted the raw image and resume as "raw".
  memory::WmInput wm_input = memory::WmInput::downsampled;
  StagePlan plan;
  double time_seconds = 0;                   // time budget, 0 = none (see search.hpp for how it counts)
  std::array<double, 3> rho{0.7, 0.8, 0.9};  // ρ_m of stages 1..3
  // Training of one trial (host/nn/trainer.hpp TrainSettings).
  int epochs = 8, morph_epochs = 2, pretrain_epochs = -1, batch_size = 64;
  double lr = 1e-3;
  double log_variance_lr_scale = 1;  // nn::TrainSettings::log_variance_lr_scale
  bool pruning = true;  // nn::TrainSettings::pruning; false gives the paper's Figure 3a baseline (dense trials)
  // Multi-fidelity (median stopping rule): "off" or "median": after each epoch a trial whose validation accuracy is
  // below the median of the done trials of its kind (random or morph) at the same epoch stops there, once at least
  // early_stop_peers such trials have a curve that long. The stop is recorded in the trial's metrics.
  std::string early_stop = "off";
  int early_stop_peers = 5;
  // Refinement stage (refine.hpp): up to refine_trials trials continue the best feasible trials so far (same config,
  // φ inherited, refine_epochs variational epochs). They are proposed once refine_after × the time budget has passed
  // (time-bound searches) or as the last refine_trials trials of the plan. 0 = off.
  int refine_trials = 0, refine_epochs = 8;
  double refine_after = 0.8;
  int64_t train_limit = 0, val_limit = 0;  // images per epoch / validation images per epoch score (0 = all)
  int calibration_images = 256;
  bool int8 = true;
  // Proposals.
  int candidates = 300, max_morphs = 3;
  // > 0: a config whose dense (unpruned) MS or WM exceeds prescreen × its budget is not proposed (random draws are
  // drawn again, such morphs are not candidates): pruning does not remove that much within a trial. 0 = off.
  double prescreen = 0;
  // > 0: the factor for WM instead of `prescreen` (pruning rarely removes conv channels within a search's trials, so
  // the dense WM is close to the trained one, while MS can shrink several-fold). 0 = `prescreen` for both.
  double prescreen_wm = 0;
  nlohmann::json space;  // the search-space JSON (host/space format); its input shape is the dataset's
  uint64_t seed = 0;
  // Sizes, shape, classes and normalization of the dataset the search was created on (checked on resume so that
  // changed dataset files are an error, not a silently different search). Not compared by conflicts().
  nlohmann::json dataset_fingerprint;

  int trials() const { return plan.total(); }
};

// Range and consistency checks; errors name the flag (e.g. "--morph-epochs 0 is out of range ...").
void check_settings(const SearchSettings& s);

nlohmann::json to_json(const SearchSettings& s);
// Throws naming the key when the stored JSON lacks a field or has the wrong type.
SearchSettings settings_from_json(const nlohmann::json& j, const std::string& origin);

store::SearchRecord record_of(const SearchSettings& s);
SearchSettings settings_from_record(const store::SearchRecord& r, const std::string& origin);

// Differences between `stored` and `given` at the JSON pointers `keys` into to_json() ("/plan/initial"), as messages
// "<key> is <stored> in the store, <given> was given".
std::vector<std::string> conflicts(const SearchSettings& stored, const SearchSettings& given,
                                   const std::vector<std::string>& keys);

nlohmann::json dataset_fingerprint(const data::Dataset& d);

// Seed of trial `trial_id` of a search with seed `search_seed` (initialization, shuffling, noise).
uint64_t trial_seed(uint64_t search_seed, int64_t trial_id);

}  // namespace sparse::search
