// TrialStore: the narrow interface the search talks to. SQLite (sqlite_store.hpp, one machine) and PostgreSQL
// (pg_store.hpp, workers on any number of hosts) implement it with the same semantics (tests/store: the contract).
// Invariants: a trial is claimed by exactly one worker (claim is atomic); every state change is durable
// when the call returns; φ is stored with a checksum and verified when read back.
// Leases: each store object is one worker (worker_id(), "host:pid:nonce"). claim_next gives this worker a lease on
// the trial: (worker, attempt). heartbeat, finish, fail, requeue and put_phi of a running trial act only while the
// lease is this worker's; once the trial went stale and was re-queued (requeue_stale, by any process) and claimed
// again, they throw LeaseLost and write nothing, so a trial's result is written once, by its last claimant.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host/core/error.hpp"
#include "host/store/trial.hpp"

namespace sparse::store {

// This worker no longer holds the trial's lease (it was re-queued after a stale heartbeat, possibly claimed again).
class LeaseLost : public Error {
 public:
  using Error::Error;
};

class TrialStore {
 public:
  virtual ~TrialStore() = default;

  virtual int64_t create_search(const SearchRecord& search) = 0;
  virtual SearchRecord get_search(int64_t search_id) = 0;
  virtual std::vector<SearchRecord> list_searches() = 0;
  // Rewrite a search's budgets and settings (dataset, objectives and seed stay): a resume that changes its time budget.
  virtual void update_search(const SearchRecord& search) = 0;

  // This store object's worker identity, "host:pid:nonce": the holder of the leases it claims.
  virtual const std::string& worker_id() const = 0;
  // Seconds without a heartbeat after which this worker's claims count as abandoned (3 of its heartbeat periods);
  // recorded on each trial it claims, so every worker judges a trial by its claimant's heartbeat, not its own.
  virtual void set_stale_after(double seconds) = 0;

  // Insert a queued trial; returns its id.
  virtual int64_t add_trial(const TrialRecord& trial) = 0;
  // Insert a queued trial as trial number `index` of its search (0-based creation order) only while the search holds
  // exactly `index` trials; nullopt when another process added one first (atomic across processes). Proposals made
  // from the same `index` trials therefore land once each, and a trial budget checked against `index` is study-wide.
  virtual std::optional<int64_t> add_trial_at(const TrialRecord& trial, int64_t index) = 0;
  // Atomically move the oldest queued trial of `search_id` to running on `device` under this worker's lease
  // (attempts + 1); nullopt when none.
  virtual std::optional<TrialRecord> claim_next(int64_t search_id, const std::string& device) = 0;
  virtual void heartbeat(int64_t trial_id) = 0;
  // The search's proposal turn: of several workers idle at once, the one holding it proposes and the others claim
  // what it adds instead of computing the same proposal (add_trial_at keeps a raced proposal out either way). True
  // when this worker holds it now; released by release_proposal_turn, or when the worker's process dies.
  virtual bool try_proposal_turn(int64_t search_id) = 0;
  virtual void release_proposal_turn(int64_t search_id) = 0;
  // finish and fail take a running trial (else they throw, naming its state) whose lease this worker holds (else
  // LeaseLost): a result is never overwritten.
  virtual void finish(int64_t trial_id, const TrialResult& result) = 0;
  virtual void fail(int64_t trial_id, const std::string& reason, const nlohmann::json& metrics = nlohmann::json::object()) = 0;
  // Put a running trial of this worker back in the queue (its device failed, not the trial).
  virtual void requeue(int64_t trial_id) = 0;
  // Running trials whose heartbeat is older than their claimant's stale_after (`stale_seconds` where none was
  // recorded) go back to queued, their leases void; returns how many. One UPDATE: of several processes noticing the
  // same stale trial, exactly one re-queues it.
  virtual int requeue_stale(int64_t search_id, double stale_seconds) = 0;

  virtual TrialRecord get_trial(int64_t trial_id) = 0;
  // All trials of a search in id order, optionally only those in `state`.
  virtual std::vector<TrialRecord> list_trials(int64_t search_id, std::optional<TrialState> state = std::nullopt) = 0;

  // φ (all variational parameters) of a trial, as the versioned binary the trainer writes; put_phi of a running
  // trial needs its lease (a trial claimed by nobody, e.g. in a store copy, takes φ freely).
  virtual void put_phi(int64_t trial_id, const std::vector<uint8_t>& phi) = 0;
  virtual std::optional<std::vector<uint8_t>> get_phi(int64_t trial_id) = 0;
};

}  // namespace sparse::store
