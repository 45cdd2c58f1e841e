// SqliteStore::import_records: a study's records written verbatim in one transaction (see record_import.hpp).
#include "host/core/error.hpp"
#include "host/store/phi_codec.hpp"
#include "host/store/sqlite_store.hpp"

namespace sparse::store {

void SqliteStore::import_records(const std::vector<SearchRecord>& searches, const std::vector<TrialRecord>& trials,
                                 const PhiSource& phi) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  {
    auto held = db_.prepare("SELECT id, dataset, objectives FROM searches ORDER BY id LIMIT 1");
    if (held.step())
      SPARSE_FAIL("store '" << db_.path() << "' already holds search " << held.int64(0) << " (" << held.text(1) << ", "
                            << held.text(2) << "); copy into a new store");
  }
  auto ins_search = db_.prepare(
      "INSERT INTO searches(id, dataset, objectives, seed, budgets, settings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  for (const SearchRecord& r : searches) {
    ins_search.bind(1, r.id).bind(2, r.dataset).bind(3, r.objectives).bind(4, static_cast<int64_t>(r.seed));
    ins_search.bind(5, json_text(r.budgets, nlohmann::json::object()));
    ins_search.bind(6, json_text(r.settings, nlohmann::json::object())).bind(7, r.created_at).run();
  }
  auto ins_trial = db_.prepare(
      "INSERT INTO trials(id, search_id, stage, reference_id, config, morphs, proposal, state, device, attempts, "
      "created_at, started_at, finished_at, heartbeat_at, epochs, val_acc, test_acc, int8_acc, ms_bytes, wm5_bytes, "
      "wm6_bytes, nonzeros, metrics, error, worker, stale_after) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  auto ins_phi = db_.prepare("INSERT INTO phi(trial_id, raw_bytes, crc32, data) VALUES (?, ?, ?, ?)");
  for (const TrialRecord& t : trials) {
    ins_trial.bind(1, t.id).bind(2, t.search_id).bind(3, static_cast<int64_t>(t.stage)).bind(4, t.reference_id);
    ins_trial.bind(5, t.config.dump()).bind(6, json_text(t.morphs, nlohmann::json::array()));
    ins_trial.bind(7, json_text(t.proposal, nlohmann::json::object())).bind(8, std::string(to_string(t.state)));
    ins_trial.bind(9, t.device).bind(10, static_cast<int64_t>(t.attempts)).bind(11, t.created_at);
    ins_trial.bind(12, zero_as_null(t.started_at)).bind(13, zero_as_null(t.finished_at));
    ins_trial.bind(14, zero_as_null(t.heartbeat_at)).bind(15, static_cast<int64_t>(t.epochs)).bind(16, t.val_acc);
    ins_trial.bind(17, t.test_acc).bind(18, t.int8_acc).bind(19, t.ms_bytes).bind(20, t.wm5_bytes);
    ins_trial.bind(21, t.wm6_bytes).bind(22, t.nonzeros).bind(23, json_text(t.metrics, nlohmann::json::object()));
    ins_trial.bind(24, t.error).bind(25, t.worker).bind(26, zero_as_null(t.stale_after)).run();
    if (const auto bytes = phi(t.id)) {
      const PackedPhi p = pack_phi(*bytes, t.id);
      ins_phi.bind(1, t.id).bind(2, p.raw_bytes).bind(3, static_cast<int64_t>(p.crc32)).bind_blob(4, p.data).run();
    }
  }
  tx.commit();
}

}  // namespace sparse::store
