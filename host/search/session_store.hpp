// SessionStore: the TrialStore the scheduler of one search session writes through. It forwards every call to the
// real store and adds two things the session needs: a failed trial's metrics (device, seed, the trainer's partial
// summary), which the runner leaves here because the scheduler records a failure with its reason only; and
// detach(), after which the outcome of a trial re-queued by a hard stop is dropped instead of written.
// Invariants: nothing is written for a detached trial; every other call behaves as the wrapped store's.
#pragma once
#include <map>
#include <mutex>
#include <set>

#include "host/store/trial_store.hpp"

namespace sparse::search {

class SessionStore final : public store::TrialStore {
 public:
  explicit SessionStore(store::TrialStore& inner) : s_(inner) {}

  // Metrics to record with the next fail() of `trial_id` (merged key by key into those given before).
  void set_failure_metrics(int64_t trial_id, const nlohmann::json& metrics);
  // Re-queue a running trial now and ignore its outcome later (hard stop). False when it was not running.
  bool detach(int64_t trial_id);

  int64_t create_search(const store::SearchRecord& r) override { return s_.create_search(r); }
  store::SearchRecord get_search(int64_t id) override { return s_.get_search(id); }
  std::vector<store::SearchRecord> list_searches() override { return s_.list_searches(); }
  void update_search(const store::SearchRecord& r) override { s_.update_search(r); }
  const std::string& worker_id() const override { return s_.worker_id(); }
  void set_stale_after(double seconds) override { s_.set_stale_after(seconds); }
  int64_t add_trial(const store::TrialRecord& t) override { return s_.add_trial(t); }
  std::optional<int64_t> add_trial_at(const store::TrialRecord& t, int64_t index) override {
    return s_.add_trial_at(t, index);
  }
  std::optional<store::TrialRecord> claim_next(int64_t search_id, const std::string& device) override;
  void heartbeat(int64_t trial_id) override;
  bool try_proposal_turn(int64_t search_id) override { return s_.try_proposal_turn(search_id); }
  void release_proposal_turn(int64_t search_id) override { s_.release_proposal_turn(search_id); }
  void finish(int64_t trial_id, const store::TrialResult& result) override;
  void fail(int64_t trial_id, const std::string& reason,
            const nlohmann::json& metrics = nlohmann::json::object()) override;
  void requeue(int64_t trial_id) override;
  int requeue_stale(int64_t search_id, double stale_seconds) override {
    return s_.requeue_stale(search_id, stale_seconds);
  }
  store::TrialRecord get_trial(int64_t id) override { return s_.get_trial(id); }
  std::vector<store::TrialRecord> list_trials(int64_t search_id,
                                              std::optional<store::TrialState> state = std::nullopt) override {
    return s_.list_trials(search_id, state);
  }
  void put_phi(int64_t trial_id, const std::vector<uint8_t>& phi) override;
  std::optional<std::vector<uint8_t>> get_phi(int64_t trial_id) override { return s_.get_phi(trial_id); }

 private:
  store::TrialStore& s_;
  std::mutex mu_;
  std::set<int64_t> detached_;
  std::map<int64_t, nlohmann::json> failure_metrics_;
};

}  // namespace sparse::search
