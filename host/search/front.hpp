// Objective values of stored trials, feasibility, the Pareto front and its hypervolume (what `sparse pareto`
// reports and what stage 3 restricts references to).
// Definitions (the issue leaves them to the engine):
//  - f1 = 1 − validation accuracy (float, pruned network), f2 = MS bytes (eq. 4), f3 = WM bytes of the preset's
//    model (eq. 5 or 6), all at 8 bits. The GP models (f1, log f2, log f3); budgets go through the same log.
//  - Feasible: every hard budget of the search is met (MS ≤ --max-ms, WM ≤ --max-wm); without budgets every done
//    trial is feasible.
//  - The front: done trials not dominated in (f1, f2[, f3]), among the feasible ones (or all done trials when
//    `all` is asked). Duplicates are all kept.
//  - Hypervolume: of the front in the box [0, 1] × [0, R_ms] [× [0, R_wm]] with (f1, f2 / R_ms, f3 / R_wm), so
//    1.0 is a perfect model of zero bytes and the value is comparable between searches with the same R.
//    R_ms, R_wm are the budgets when set, else the largest MS / WM of the search's done trials (or given).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "host/search/settings.hpp"
#include "host/store/trial.hpp"

namespace sparse::search {

// WM bytes of the search's working-memory model (nullopt for acc,ms or when not measured).
std::optional<int64_t> wm_bytes(const store::TrialRecord& t, const Objectives& o);
// Done trial with every measured objective of the preset.
bool has_objectives(const store::TrialRecord& t, const Objectives& o);
bool feasible(const store::TrialRecord& t, const SearchSettings& s);
// (f1, log f2[, log f3]) as the GP models them; bytes below 1 count as 1 so the log stays finite.
std::vector<double> gp_objectives(const store::TrialRecord& t, const Objectives& o);
// Budgets in the GP's transform (+∞ where none).
std::vector<double> gp_budgets(const SearchSettings& s);

struct FrontOptions {
  bool all = false;                       // consider infeasible done trials too
  std::optional<int64_t> ref_ms, ref_wm;  // hypervolume box (default: budgets, else the maxima observed)
  std::optional<int64_t> first;           // only trials 1..first (by id): a search cut at that trial count
};

struct FrontReport {
  std::vector<store::TrialRecord> front;  // in ascending f1, then f2
  int considered = 0;                     // done trials the front was taken over
  bool feasible_only = false;             // those were the feasible ones (budgets set, `all` not asked)
  double hypervolume = 0;
  double ref_ms = 0, ref_wm = 0;  // the box used (ref_wm = 0 for two objectives)
};

FrontReport pareto_report(const std::vector<store::TrialRecord>& trials, const SearchSettings& s,
                          const FrontOptions& options = {});
// Ids of the references stage 3 may use: the front over the feasible done trials, or over all done trials
// while none is feasible.
std::vector<int64_t> pareto_reference_ids(const std::vector<store::TrialRecord>& trials, const SearchSettings& s);

// The report as a text table (one row per front trial: id, stage, reference, accuracies, MS, WM, non-zeros,
// config summary, then the hypervolume line) and as JSON (the `sparse pareto --json` object, less the store).
std::string front_table(const FrontReport& r, const SearchSettings& s);
nlohmann::json front_json(const FrontReport& r, const SearchSettings& s);

// One line describing a Config JSON: "conv[3x3x8,s5x5x4|d3x3x16] fc1x2000 L+R/sum bn res ds2 τ..." (see front.cpp).
std::string config_summary(const nlohmann::json& config);

}  // namespace sparse::search
