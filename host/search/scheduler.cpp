// Scheduler (see scheduler.hpp): worker threads, heartbeats, outcome recording, re-queueing, device retirement.
#include "host/search/scheduler.hpp"

#include <chrono>
#include <condition_variable>
#include <thread>

namespace sparse::search {

Scheduler::Scheduler(store::TrialStore& store, int64_t search_id, std::vector<DeviceSlot> slots, TrialRunner runner,
                     Proposer proposer, SchedulerOptions options)
    : store_(store),
      search_id_(search_id),
      slots_(std::move(slots)),
      runner_(std::move(runner)),
      proposer_(std::move(proposer)),
      options_(std::move(options)) {
  SPARSE_CHECK(!slots_.empty(), "the scheduler needs at least one device");
  SPARSE_CHECK(options_.heartbeat_seconds > 0, "heartbeat interval " << options_.heartbeat_seconds << " s must be positive");
  SPARSE_CHECK(options_.max_consecutive_device_failures >= 1,
               "max_consecutive_device_failures " << options_.max_consecutive_device_failures << " must be >= 1");
  for (const auto& s : slots_) {
    SlotReport r;
    r.slot = s;
    reports_.push_back(r);
  }
}

std::vector<SlotReport> Scheduler::run() {
  std::vector<std::thread> threads;
  for (size_t k = 0; k < slots_.size(); ++k) threads.emplace_back([this, k] { worker(k); });
  for (auto& t : threads) t.join();
  return reports_;
}

void Scheduler::worker(size_t k) {
  const DeviceSlot slot = slots_[k];
  int consecutive_device_failures = 0;
  while (!wants_stop()) {
    std::optional<store::TrialRecord> t = store_.claim_next(search_id_, slot.name);
    if (!t) {
      std::unique_lock<std::mutex> lock(propose_mu_);
      t = store_.claim_next(search_id_, slot.name);  // another worker may have proposed meanwhile
      if (!t) {
        if (!proposals_exhausted_ && !proposer_(store_, search_id_)) proposals_exhausted_ = true;
        if (!proposals_exhausted_) continue;
        // Nothing more to propose; stay while trials run elsewhere, since a failing device re-queues its trial.
        lock.unlock();
        if (store_.list_trials(search_id_, store::TrialState::Running).empty() &&
            store_.list_trials(search_id_, store::TrialState::Queued).empty())
          break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
    }
    std::mutex hb_mu;
    std::condition_variable hb_cv;
    bool running = true;
    std::thread beat([&] {
      std::unique_lock<std::mutex> l(hb_mu);
      const auto period = std::chrono::duration<double>(options_.heartbeat_seconds);
      while (!hb_cv.wait_for(l, period, [&] { return !running; })) store_.heartbeat(t->id);
    });
    TrialOutcome out;
    std::string device_error;
    try {
      out = runner_(*t, slot);
    } catch (const DeviceError& e) {  // DeviceFailure included
      device_error = e.what();
      if (device_error.empty()) device_error = "device failure without a reason";
    } catch (const std::exception& e) {
      out.ok = false;
      out.error = e.what();
    } catch (...) {
      out.ok = false;
      out.error = "unknown exception";
    }
    {
      std::lock_guard<std::mutex> l(hb_mu);
      running = false;
    }
    hb_cv.notify_all();
    beat.join();
    auto lost = [&](const store::LeaseLost& e) {
      std::lock_guard<std::mutex> l(report_mu_);
      ++reports_[k].leases_lost;
      if (options_.on_lease_lost) options_.on_lease_lost(slot, t->id, e.what());
    };
    if (!device_error.empty()) {
      try {
        store_.requeue(t->id);
      } catch (const store::LeaseLost& e) {
        lost(e);  // already back in the queue, re-queued by whoever found it stale
      }
      const bool retire = ++consecutive_device_failures >= options_.max_consecutive_device_failures;
      std::lock_guard<std::mutex> l(report_mu_);
      ++reports_[k].device_failures;
      if (retire)
        reports_[k].device_failure = slot.name + " retired after " + std::to_string(consecutive_device_failures) +
                                     " consecutive device failure" + (consecutive_device_failures == 1 ? "" : "s") +
                                     " (last: " + device_error + ")";
      if (options_.on_device_failure) options_.on_device_failure(slot, t->id, device_error, retire);
      if (retire) return;
      continue;
    }
    consecutive_device_failures = 0;
    try {
      if (out.ok) {
        if (!out.phi.empty()) store_.put_phi(t->id, out.phi);
        store_.finish(t->id, out.result);
      } else {
        store_.fail(t->id, out.error.empty() ? "trial failed without a reason" : out.error);
      }
    } catch (const store::LeaseLost& e) {
      lost(e);
      continue;
    }
    std::lock_guard<std::mutex> l(report_mu_);
    (out.ok ? reports_[k].done : reports_[k].failed)++;
    if (options_.on_trial_end) options_.on_trial_end(store_.get_trial(t->id), slot);
  }
}

}  // namespace sparse::search
