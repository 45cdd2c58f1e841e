// Scheduler: one worker thread per device slot pulls queued trials from the store, runs them, and records
// the outcome; when the queue is empty a worker asks the proposer for more (pending trials are visible to
// it in the store as running). Evaluations are asynchronous: a free device gets the next proposal at once.
// Invariants: every claimed trial ends done, failed, or re-queued (its device failed); a trial's error never
// stops the search. A DeviceError from the runner (DeviceFailure, or any sparse::DeviceError) re-queues the trial,
// which runs again on the next free slot, this one included (the runner rebuilds its backend); a slot whose device
// fails on max_consecutive_device_failures claims in a row is retired with a message naming the device and the
// last reason, and the search goes on on the others. When every slot is retired, run() returns and the re-queued
// trial stays queued in the store (a resume runs it). A trial whose lease this process lost (its heartbeat went stale
// and another process re-queued it) ends here without writing anything: store::LeaseLost is counted, not thrown.
#pragma once
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "host/core/error.hpp"
#include "host/search/devices.hpp"
#include "host/store/trial_store.hpp"

namespace sparse::search {

// Thrown by a runner when the device, not the trial, failed (CUDA error, device out of memory, a backend that
// cannot be created): (device, op, reason) as in sparse::DeviceError. The scheduler re-queues the trial.
class DeviceFailure : public DeviceError {
 public:
  using DeviceError::DeviceError;
  explicit DeviceFailure(const std::string& reason) : DeviceError("", "", reason) {}
};

struct TrialOutcome {
  bool ok = false;
  store::TrialResult result;
  std::vector<uint8_t> phi;  // stored when non-empty
  std::string error;         // why the trial failed (diverged at epoch e, step s; bad config; ...)
};

// Runs one trial on one slot; call `heartbeat` now and then is optional (the scheduler beats on its own).
using TrialRunner = std::function<TrialOutcome(const store::TrialRecord&, const DeviceSlot&)>;
// Adds at least one queued trial and returns true, or returns false when the search needs no more.
using Proposer = std::function<bool(store::TrialStore&, int64_t search_id)>;

struct SchedulerOptions {
  double heartbeat_seconds = 10;
  std::atomic<bool>* stop = nullptr;  // set to end the search early (time budget, signal)
  // Called after each trial ends (done or failed), from the worker's thread, serialized.
  std::function<void(const store::TrialRecord&, const DeviceSlot&)> on_trial_end;
  // A slot is retired after this many device failures in a row (a trial that ends, done or failed, resets the count).
  int max_consecutive_device_failures = 3;
  // Called after each device failure, once its trial is re-queued (`what`: the DeviceError's message; `retired`:
  // the slot stops), from the worker's thread, serialized with on_trial_end.
  std::function<void(const DeviceSlot&, int64_t trial_id, const std::string& what, bool retired)> on_device_failure;
  // Called when a trial's outcome is dropped because its lease was lost (`what`: the LeaseLost message), serialized
  // with on_trial_end.
  std::function<void(const DeviceSlot&, int64_t trial_id, const std::string& what)> on_lease_lost;
};

struct SlotReport {
  DeviceSlot slot;
  int done = 0, failed = 0;
  int device_failures = 0;     // trials this slot re-queued because its device failed
  int leases_lost = 0;         // trials whose outcome was dropped because another process had taken them over
  std::string device_failure;  // non-empty when the slot was retired: "<slot> retired after N ... (last: <what>)"
};

class Scheduler {
 public:
  Scheduler(store::TrialStore& store, int64_t search_id, std::vector<DeviceSlot> slots, TrialRunner runner,
            Proposer proposer, SchedulerOptions options = {});
  // Runs until the proposer has nothing more and no trial is queued, every slot is retired, or stop is set.
  std::vector<SlotReport> run();

 private:
  void worker(size_t slot_index);
  bool wants_stop() const { return options_.stop && options_.stop->load(); }

  store::TrialStore& store_;
  int64_t search_id_;
  std::vector<DeviceSlot> slots_;
  TrialRunner runner_;
  Proposer proposer_;
  SchedulerOptions options_;
  std::vector<SlotReport> reports_;
  std::mutex propose_mu_, report_mu_;
  bool proposals_exhausted_ = false;
};

}  // namespace sparse::search
