// The SpArSe search driver: creates or resumes a search in a trial store and runs it with the device scheduler
// (scheduler.hpp), the stage proposer (proposals.hpp) and the trial runner (runner.hpp) until its trial budget is
// reached, its time budget is spent, or it is stopped.
// Invariants:
//  - A search holds exactly plan.total() trials when it ends; trial ids are the store's and never reused; a done
//    trial is never written again.
//  - Resume: a running trial whose heartbeat is older than 3 heartbeat periods belongs to a dead process and is
//    re-queued (at start and whenever this process runs out of work); its id, stage, reference and config stay.
//    Processes sharing one store should use the same heartbeat period.
//  - Time budget: search time is counted over all sessions: each ended trial records the search time at its end
//    (metrics.search_seconds); a session starts from the largest recorded (or, for trials without it, the union
//    of their [started, finished] intervals) and adds its wall time. Time a killed process spent after its last
//    ended trial is not counted. When the budget is spent, no further trial is proposed or started and running
//    trials finish (a hard stop re-queues them instead).
//  - Device failures: a trial whose device failed is re-queued, not failed, and its slot's backend rebuilt; a slot
//    that fails repeatedly is retired (scheduler.hpp). When every slot is retired the session ends with its trials
//    queued (complete is false, slots[].device_failure says why); a resume runs them.
//  - Stop: the first interrupt acts like a spent time budget for this session; the second re-queues this
//    process's running trials at once and calls on_hard_stop (the CLI exits with 130).
//
// What a search leaves in the store (schema: host/store/sqlite_store.hpp; no columns are added):
//  searches.settings   to_json(SearchSettings) (settings.hpp): version, data (dataset options), objectives, budgets
//                      {max_ms_bytes, max_wm_bytes, trials, time_seconds}, plan {initial, stage_trials}, rho, train
//                      {epochs, morph_epochs, pretrain_epochs, batch_size, lr, train_limit, val_limit,
//                      calibration_images, int8}, proposals {candidates, max_morphs}, space (the search-space JSON
//                      with the dataset's input shape), seed, dataset_fingerprint; searches.budgets repeats budgets.
//  trials.stage        0 (initial random) or 1..3; trials.reference_id the trial whose φ a morph inherits;
//  trials.morphs       the Table 6 morph names applied to the reference's config, in order;
//  trials.proposal     index (creation order, 0-based), kind "random" (with reason) or "model" with rho, lambda,
//                      sampled_objectives (f1, log MS[, log WM]), candidate, candidates, references, completed,
//                      pending, gp_fits, pareto_references (stage 3), or "refine" with reference_val_acc and
//                      refinement (1..refine_trials) (refine.hpp); train_epochs; seconds (proposal time);
//  trials.metrics      done: the trainer's summary (per-layer params/non-zeros/channels, epochs, pretrain_epochs,
//                      seconds, initial_val_acc, pruned_share), inherit {reference_id, inherited, total,
//                      tensors_copied, tensors_sliced, tensors_fresh}, feasible, seed, device, method,
//                      search_seconds; failed: device, seed, search_seconds and what the trainer knew (epochs, error);
//                      both: device_failures ["<slot>: <error>", ...] when this session re-queued the trial after
//                      device failures (scheduler.hpp) before it ended;
//  trials.error        why a failed trial failed ("diverged at epoch e, step s: ...", "bad config: ...", ...);
//  phi                 φ of every done trial (nn::serialize_phi bytes).
#pragma once
#include <atomic>
#include <functional>
#include <optional>
#include <vector>

#include "datasets/preset.hpp"
#include "host/search/runner.hpp"
#include "host/search/scheduler.hpp"
#include "host/search/settings.hpp"
#include "host/space/space.hpp"
#include "host/store/trial_store.hpp"

namespace sparse::search {

// The search space of `s` (its stored JSON) with the dataset's input shape and number of classes.
space::Space search_space(const SearchSettings& s, const std::string& origin);
// `space` JSON with "input" and "num-classes" set to those of `d`.
nlohmann::json space_for_dataset(nlohmann::json space, const data::Dataset& d);

// Store a new search; returns its id.
int64_t create_search(store::TrialStore& store, const SearchSettings& s);
// Give a stored search a new time budget (seconds over all sessions, 0 = none); `s` is its settings, updated too.
void set_time_budget(store::TrialStore& store, int64_t search_id, SearchSettings& s, double seconds);
// The id of the one search a store holds; errors name `path` when it holds none or several.
int64_t sole_search(store::TrialStore& store, const std::string& path);

// Search time already spent (see the file comment) from the ended trials of a search; with `now` (Unix seconds)
// the trials running now (in another process that this one joins) count up to `now`.
double spent_seconds(const std::vector<store::TrialRecord>& trials, double now = 0);

struct Progress {
  store::TrialRecord trial;  // the trial that just ended
  std::string slot;
  int total = 0, done = 0, failed = 0, running = 0, queued = 0;
  std::optional<store::TrialRecord> best_feasible;  // highest validation accuracy among feasible done trials
  double elapsed_seconds = 0;                       // search time over all sessions
  double eta_seconds = -1;                          // −1 while unknown
};

struct SessionOptions {
  double heartbeat_seconds = 10;
  std::atomic<int>* interrupts = nullptr;             // count of SIGINT/SIGTERM received (see the file comment)
  std::function<void()> on_hard_stop;                 // after the second interrupt re-queued the running trials
  std::function<void(const Progress&)> on_trial_end;  // serialized, from a worker thread
  // After a device failure re-queued `trial_id` (retired: the slot stops); serialized with on_trial_end.
  std::function<void(const DeviceSlot&, int64_t trial_id, const std::string& what, bool retired)> on_device_failure;
  // A trial's outcome dropped: its lease went to another worker (SchedulerOptions::on_lease_lost).
  std::function<void(const DeviceSlot&, int64_t trial_id, const std::string& what)> on_lease_lost;
  BackendFactory make_backend;  // empty: nn::make_backend (runner.hpp); tests inject faulty backends here
};

struct SessionReport {
  int total = 0, done = 0, failed = 0, running = 0, queued = 0;
  bool complete = false;  // every planned trial exists and has ended
  bool time_up = false;   // the time budget ended the session
  bool interrupted = false;
  double elapsed_seconds = 0, session_seconds = 0;
  int requeued_at_start = 0;
  std::vector<SlotReport> slots;
};

SessionReport run_search(store::TrialStore& store, int64_t search_id, const SearchSettings& settings,
                         const data::Dataset& data, const std::vector<DeviceSlot>& slots,
                         const SessionOptions& options = {});

}  // namespace sparse::search
