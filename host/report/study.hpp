// What `sparse report` reads from a trial store: the search settings, every trial, the Pareto front exactly as
// `sparse pareto` computes it (host/search/front.hpp), and the search's progress curves (hypervolume and best
// feasible validation accuracy against trials and against search time).
// Invariants: loading never writes the store's trials; a path that is missing, not a SQLite file, corrupt, or holds
// no (or several) searches is an error naming the path and what was expected. The progress curves end at the values
// of the whole store: the last hypervolume equals pareto_report(trials, settings, {box}).hypervolume.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "host/search/front.hpp"
#include "host/search/settings.hpp"
#include "host/store/trial.hpp"

namespace sparse::report {

struct Study {
  std::string path;  // the store as given (a URL with its password redacted)
  int64_t search_id = 0;
  store::SearchRecord record;
  search::SearchSettings settings;
  std::vector<store::TrialRecord> trials;  // every trial of the search, in id order
  search::FrontReport front;               // sparse pareto's default front (feasible done trials)
  double spent_seconds = 0;                // search time over all sessions (search::spent_seconds)
  int done = 0, failed = 0, queued = 0, running = 0;
};

// Opens `path` as a SpArSe trial store. `role` starts every error message ("store", "--compare store").
Study load_study(const std::string& path, const std::string& role);

// A curve as (x, y) points where y changes (a step function), ending at the last x.
using Curve = std::vector<std::pair<double, double>>;

struct Progress {
  Curve hv_by_trials, hv_by_seconds;      // hypervolume of the feasible front of trials 1..n / ended by time t
  Curve best_by_trials, best_by_seconds;  // best feasible validation accuracy (no point before the first)
  double final_hypervolume = 0, final_best = -1;
  int trials = 0;                          // x range of the *_by_trials curves
  double seconds = 0;                      // x range of the *_by_seconds curves
};

// Progress of `trials` judged by `s` (feasibility: budgets and accuracy floor of s) in the hypervolume box
// [0,1] x [0, ref_ms] [x [0, ref_wm]] (ref_wm ignored for two objectives). "Trials" counts every trial in id order
// (failed ones too, as `sparse pareto --first N` does); time is each ended trial's metrics.search_seconds (else
// its end time since the first start).
Progress progress_of(const std::vector<store::TrialRecord>& trials, const search::SearchSettings& s, double ref_ms,
                     double ref_wm);

// End of a trial in search seconds (see progress_of); negative when the trial has not ended.
double search_seconds_at_end(const store::TrialRecord& t, double first_start);

}  // namespace sparse::report
