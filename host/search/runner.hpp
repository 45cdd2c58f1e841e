// SearchRunner: the scheduler's TrialRunner for SpArSe trials. Trains a stored trial's Config with the search's
// training settings on the worker's own Backend (one per device slot, created inside that worker's thread on
// its first trial), inheriting φ from the reference trial when the trial is a morph.
// Invariants: a trial's result depends only on (config, dataset, settings, trial seed, reference φ); a trial
// that diverges, runs out of memory or has a config the engine refuses comes back failed with its reason
// (never thrown past the scheduler); a backend that cannot be created throws DeviceFailure (the slot retires).
// Metrics recorded for a done trial: the trainer's summary (per-layer non-zeros and channels, epochs, seconds,
// initial validation accuracy), the inheritance report, feasibility, the trial seed and the device; a failed
// trial keeps what is known (device, seed, epochs, seconds) through SessionStore::set_failure_metrics.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "datasets/preset.hpp"
#include "host/core/backend.hpp"
#include "host/search/scheduler.hpp"
#include "host/search/session_store.hpp"
#include "host/search/settings.hpp"
#include "host/space/space.hpp"

namespace sparse::search {

class SearchRunner {
 public:
  // `data` and `space` must outlive the runner; they are shared read-only by all workers.
  SearchRunner(const SearchSettings& settings, const space::Space& space, const data::Dataset& data,
               SessionStore& store);
  TrialOutcome operator()(const store::TrialRecord& trial, const DeviceSlot& slot);

 private:
  Backend& backend_for(const DeviceSlot& slot);

  const SearchSettings& s_;
  Objectives objectives_;
  const space::Space& space_;
  const data::Dataset& data_;
  SessionStore& store_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Backend>> backends_;
};

}  // namespace sparse::search
