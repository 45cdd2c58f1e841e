// SearchRunner: the scheduler's TrialRunner for SpArSe trials. Trains a stored trial's Config with the search's
// training settings on the worker's own Backend (one per device slot, created inside that worker's thread on
// its first trial), inheriting φ from the reference trial when the trial is a morph.
// Invariants: a trial's result depends only on (config, dataset, settings, trial seed, reference φ); a trial
// that diverges, runs out of host memory or has a config the engine refuses comes back failed with its reason
// (never thrown past the scheduler). A failure of the device throws DeviceFailure (device, op, reason), for the
// scheduler to re-queue the trial: a backend that cannot be created, or any sparse::DeviceError while training
// (CUDA error, device out of memory); the slot's cached backend is then dropped, so its next trial builds a
// fresh one. A trial that ends after device failures records them (metrics.device_failures, oldest first).
// Metrics recorded for a done trial: the trainer's summary (per-layer non-zeros and channels, epochs, seconds,
// initial validation accuracy), the inheritance report, feasibility, the trial seed and the device; a failed
// trial keeps what is known (device, seed, epochs, seconds) through SessionStore::set_failure_metrics.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "datasets/preset.hpp"
#include "host/core/backend.hpp"
#include "host/search/scheduler.hpp"
#include "host/search/session_store.hpp"
#include "host/search/settings.hpp"
#include "host/space/space.hpp"

namespace sparse::search {

// Builds the backend of a slot. The default, nn::make_backend("cpu" or "cuda:N", slot.threads), is what a search
// uses; tests pass a fault-injecting one (tests/search/fault_backend.hpp).
using BackendFactory = std::function<std::unique_ptr<Backend>(const DeviceSlot&)>;

class SearchRunner {
 public:
  // `data` and `space` must outlive the runner; they are shared read-only by all workers. An empty
  // `make_backend` is the default factory.
  SearchRunner(const SearchSettings& settings, const space::Space& space, const data::Dataset& data,
               SessionStore& store, BackendFactory make_backend = {});
  TrialOutcome operator()(const store::TrialRecord& trial, const DeviceSlot& slot);

 private:
  TrialOutcome run(const store::TrialRecord& trial, const DeviceSlot& slot);
  Backend& backend_for(const DeviceSlot& slot);
  void drop_backend(const DeviceSlot& slot);

  const SearchSettings& s_;
  Objectives objectives_;
  const space::Space& space_;
  const data::Dataset& data_;
  SessionStore& store_;
  BackendFactory make_backend_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Backend>> backends_;           // by slot name
  std::map<int64_t, std::vector<std::string>> device_failures_;        // by trial id, until the trial ends
};

}  // namespace sparse::search
