// TrialStore: the narrow interface the search talks to. SQLite implements it (sqlite_store.hpp); a server
// database for searches across hosts can implement the same calls later.
// Invariants: a trial is claimed by exactly one worker (claim is atomic); every state change is durable
// when the call returns; φ is stored with a checksum and verified when read back.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host/store/trial.hpp"

namespace sparse::store {

class TrialStore {
 public:
  virtual ~TrialStore() = default;

  virtual int64_t create_search(const SearchRecord& search) = 0;
  virtual SearchRecord get_search(int64_t search_id) = 0;
  virtual std::vector<SearchRecord> list_searches() = 0;
  // Rewrite a search's budgets and settings (dataset, objectives and seed stay): a resume that changes its time budget.
  virtual void update_search(const SearchRecord& search) = 0;

  // Insert a queued trial; returns its id.
  virtual int64_t add_trial(const TrialRecord& trial) = 0;
  // Atomically move the oldest queued trial of `search_id` to running on `device`; nullopt when none.
  virtual std::optional<TrialRecord> claim_next(int64_t search_id, const std::string& device) = 0;
  virtual void heartbeat(int64_t trial_id) = 0;
  // finish and fail take a running trial (else they throw, naming its state): a result is never overwritten.
  virtual void finish(int64_t trial_id, const TrialResult& result) = 0;
  virtual void fail(int64_t trial_id, const std::string& reason, const nlohmann::json& metrics = nlohmann::json::object()) = 0;
  // Put a running trial back in the queue (its device failed, not the trial).
  virtual void requeue(int64_t trial_id) = 0;
  // Running trials whose heartbeat is older than `stale_seconds` go back to queued; returns how many.
  virtual int requeue_stale(int64_t search_id, double stale_seconds) = 0;

  virtual TrialRecord get_trial(int64_t trial_id) = 0;
  // All trials of a search in id order, optionally only those in `state`.
  virtual std::vector<TrialRecord> list_trials(int64_t search_id, std::optional<TrialState> state = std::nullopt) = 0;

  // φ (all variational parameters) of a trial, as the versioned binary the trainer writes.
  virtual void put_phi(int64_t trial_id, const std::vector<uint8_t>& phi) = 0;
  virtual std::optional<std::vector<uint8_t>> get_phi(int64_t trial_id) = 0;
};

}  // namespace sparse::store
