// PgStore: the trial store in a PostgreSQL database, one study of it per URL
// (`postgresql://user[:password]@host[:port]/database?study=NAME`, study "default" when not given). Same semantics as
// SqliteStore (sqlite_store.hpp): the same states, attempts, finish/fail/requeue only on running trials, φ
// zlib-compressed with a CRC-32 verified on read, JSON kept as text exactly as SQLite keeps it.
//
// Schema version 3 (sparse_meta.schema_version; migrations in pg_schema.cpp):
//   sparse_meta(key, value)              schema_version, engine_version, created_at
//   sparse_studies(id, name UNIQUE, created_at, next_search_id, next_trial_id)
//   sparse_searches(study_id, id, dataset, objectives, seed, budgets JSON, settings JSON, created_at)
//   sparse_trials(study_id, id, search_id, stage, reference_id, config JSON, morphs JSON, proposal JSON,
//                 state ∈ {queued, running, done, failed}, device, worker (lease holder), attempts (lease number),
//                 stale_after (the claimant's staleness limit, seconds),
//                 created_at, started_at, finished_at, heartbeat_at (Unix seconds, double precision),
//                 epochs, val_acc, test_acc, int8_acc, ms_bytes, wm5_bytes, wm6_bytes, nonzeros,
//                 metrics JSON, error)
//   sparse_phi(study_id, trial_id, raw_bytes, crc32, data bytea)
// Keys are (study_id, id): every study numbers its searches and trials from 1 as a SQLite file does, so a study
// copied from or to SQLite keeps its ids; every query names the study, so two studies never see each other's rows.
// Invariants: claim_next is one statement (SELECT ... FOR UPDATE SKIP LOCKED inside an UPDATE), so a queued trial goes
// to exactly one caller across threads, processes and hosts; ids come from the study row's counters, updated
// atomically; times are the database server's clock, so hosts with skewed clocks agree on heartbeat ages. Leases
// (trial_store.hpp): every write to a running trial names (worker, attempt) in its WHERE clause, so a worker whose
// trial was re-queued writes nothing; add_trial_at counts and inserts under the search row's lock. The proposal turn
// is a session-level advisory lock (pg_try_advisory_lock): the server releases it when a worker's connection ends.
// One connection per PgStore, used under a mutex; open a PgStore per process (or per thread for parallel calls).
#pragma once
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "host/store/pg_db.hpp"
#include "host/store/record_import.hpp"
#include "host/store/trial_store.hpp"

namespace sparse::store {

class PgStore final : public TrialStore, public RecordImport {
 public:
  // Connects to `url`; when `create`, creates the tables and the study when missing, else both must exist.
  PgStore(const std::string& url, bool create);

  int64_t create_search(const SearchRecord& search) override;
  SearchRecord get_search(int64_t search_id) override;
  std::vector<SearchRecord> list_searches() override;
  void update_search(const SearchRecord& search) override;
  const std::string& worker_id() const override { return worker_; }
  void set_stale_after(double seconds) override;
  int64_t add_trial(const TrialRecord& trial) override;
  std::optional<int64_t> add_trial_at(const TrialRecord& trial, int64_t index) override;
  std::optional<TrialRecord> claim_next(int64_t search_id, const std::string& device) override;
  void heartbeat(int64_t trial_id) override;
  bool try_proposal_turn(int64_t search_id) override;
  void release_proposal_turn(int64_t search_id) override;
  void finish(int64_t trial_id, const TrialResult& result) override;
  void fail(int64_t trial_id, const std::string& reason,
            const nlohmann::json& metrics = nlohmann::json::object()) override;
  void requeue(int64_t trial_id) override;
  int requeue_stale(int64_t search_id, double stale_seconds) override;
  TrialRecord get_trial(int64_t trial_id) override;
  std::vector<TrialRecord> list_trials(int64_t search_id, std::optional<TrialState> state = std::nullopt) override;
  void put_phi(int64_t trial_id, const std::vector<uint8_t>& phi) override;
  std::optional<std::vector<uint8_t>> get_phi(int64_t trial_id) override;
  // pg_import.cpp
  void import_records(const std::vector<SearchRecord>& searches, const std::vector<TrialRecord>& trials,
                      const PhiSource& phi) override;

  int schema_version();
  const std::string& study() const { return db_.url().study; }
  // The store as messages name it (password redacted).
  std::string who() const { return db_.who(); }

 private:
  void open_study(bool create);
  SearchRecord read_search(const PgResult& r, int row) const;
  TrialRecord read_trial(const PgResult& r, int row) const;
  nlohmann::json parse_json(const std::string& text, const std::string& where) const;
  int64_t insert_trial(const TrialRecord& trial);
  // The lease this worker holds on `trial_id` (its attempt), or -1.
  int64_t lease_of(int64_t trial_id) const;
  // After a lease-guarded write touched no row: throws LeaseLost (this worker's lease is gone, or another worker
  // holds the trial) or an Error naming the trial's state, or that it does not exist.
  [[noreturn]] void fail_lease(int64_t trial_id, const char* action);

  std::mutex mu_;
  PgConnection db_;
  int64_t study_id_ = 0;
  std::string worker_;
  double stale_after_ = 0;
  std::map<int64_t, int64_t> leases_;  // trial id -> attempt this worker claimed
  std::set<int64_t> turns_;            // searches whose proposal turn this worker holds
};

}  // namespace sparse::store
