// SqliteStore: the trial store in one SQLite file (WAL mode), shared safely by threads and processes.
//
// Schema version 3 (meta.schema_version; an older store gains the missing columns when opened: trials.worker in 2,
// trials.stale_after in 3):
//   meta(key, value)                       schema_version, engine_version, created_at
//   searches(id, dataset, objectives, seed, budgets JSON, settings JSON, created_at)
//   trials(id, search_id, stage, reference_id, config JSON, morphs JSON, proposal JSON,
//          state ∈ {queued, running, done, failed}, device, worker (lease holder), attempts (lease number),
//          stale_after (the claimant's staleness limit, seconds),
//          created_at, started_at, finished_at, heartbeat_at (Unix seconds),
//          epochs, val_acc, test_acc, int8_acc, ms_bytes, wm5_bytes, wm6_bytes, nonzeros,
//          metrics JSON (per-layer details, timings), error)
//   phi(trial_id, raw_bytes, crc32, data)  φ zlib-compressed, CRC-32 of the raw bytes
// Opening checks the file is a SQLite database, runs PRAGMA quick_check, and refuses a schema version
// newer than this engine's, so a corrupt or foreign file is an error, never silently overwritten.
#pragma once
#include <map>
#include <mutex>
#include <string>

#include "host/store/record_import.hpp"
#include "host/store/sqlite_db.hpp"
#include "host/store/trial_store.hpp"

namespace sparse::store {

inline constexpr int kSchemaVersion = 3;

class SqliteStore final : public TrialStore, public RecordImport {
 public:
  // Opens `path`; creates a new store there when `create` and the file does not exist.
  SqliteStore(const std::string& path, bool create);
  ~SqliteStore() override;

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
  // sqlite_import.cpp
  void import_records(const std::vector<SearchRecord>& searches, const std::vector<TrialRecord>& trials,
                      const PhiSource& phi) override;

  int schema_version();

 private:
  void create_schema();
  void migrate();
  void check_schema();
  int64_t insert_trial(const TrialRecord& t);
  // Throws LeaseLost unless running trial `trial_id` is held by this worker under the attempt it claimed.
  void require_lease(int64_t trial_id, const char* action);
  TrialRecord read_trial(Statement& s);
  nlohmann::json parse_json(const std::string& text, const std::string& where);
  void require_trial_state(int64_t trial_id, TrialState expected, const char* action);

  std::mutex mu_;
  Database db_;
  std::string worker_;
  double stale_after_ = 0;
  std::map<int64_t, int64_t> leases_;  // trial id -> attempt this worker claimed
  int turn_fd_ = -1;                   // flock'ed "<store>-propose" while this worker holds the proposal turn
};

}  // namespace sparse::store
