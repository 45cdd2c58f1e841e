// PgStore::import_records: a study's records written verbatim in one transaction (see record_import.hpp); the study's
// id counters then continue after the largest imported ids.
#include <algorithm>

#include "host/core/error.hpp"
#include "host/store/pg_store.hpp"
#include "host/store/phi_codec.hpp"

namespace sparse::store {

void PgStore::import_records(const std::vector<SearchRecord>& searches, const std::vector<TrialRecord>& trials,
                             const PhiSource& phi) {
  std::lock_guard<std::mutex> lock(mu_);
  PgTransaction tx(db_);
  // The study row's lock keeps a concurrent create_search or import out until this one commits.
  db_.exec("SELECT id FROM sparse_studies WHERE id=$1 FOR UPDATE", PgParams().add(study_id_));
  const PgResult held = db_.exec(
      "SELECT id, dataset, objectives FROM sparse_searches WHERE study_id=$1 ORDER BY id LIMIT 1",
      PgParams().add(study_id_));
  if (held.rows() > 0)
    SPARSE_FAIL(who() << " already holds search " << held.text(0, 0) << " (" << held.text(0, 1) << ", "
                      << held.text(0, 2) << "); copy into a new study or database");
  int64_t max_search = 0, max_trial = 0;
  for (const SearchRecord& r : searches) {
    db_.exec(
        "INSERT INTO sparse_searches(study_id, id, dataset, objectives, seed, budgets, settings, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        PgParams()
            .add(study_id_)
            .add(r.id)
            .add(r.dataset)
            .add(r.objectives)
            .add(static_cast<int64_t>(r.seed))
            .add(json_text(r.budgets, nlohmann::json::object()))
            .add(json_text(r.settings, nlohmann::json::object()))
            .add(r.created_at));
    max_search = std::max(max_search, r.id);
  }
  for (const TrialRecord& t : trials) {
    db_.exec(
        "INSERT INTO sparse_trials(study_id, id, search_id, stage, reference_id, config, morphs, proposal, state, "
        "device, attempts, created_at, started_at, finished_at, heartbeat_at, epochs, val_acc, test_acc, int8_acc, "
        "ms_bytes, wm5_bytes, wm6_bytes, nonzeros, metrics, error, worker, stale_after) VALUES ($1, $2, $3, $4, $5, $6, "
        "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)",
        PgParams()
            .add(study_id_)
            .add(t.id)
            .add(t.search_id)
            .add(t.stage)
            .add(t.reference_id)
            .add(t.config.dump())
            .add(json_text(t.morphs, nlohmann::json::array()))
            .add(json_text(t.proposal, nlohmann::json::object()))
            .add(to_string(t.state))
            .add(valid_utf8(t.device))
            .add(t.attempts)
            .add(t.created_at)
            .add(zero_as_null(t.started_at))
            .add(zero_as_null(t.finished_at))
            .add(zero_as_null(t.heartbeat_at))
            .add(t.epochs)
            .add(t.val_acc)
            .add(t.test_acc)
            .add(t.int8_acc)
            .add(t.ms_bytes)
            .add(t.wm5_bytes)
            .add(t.wm6_bytes)
            .add(t.nonzeros)
            .add(json_text(t.metrics, nlohmann::json::object()))
            .add(valid_utf8(t.error))
            .add(valid_utf8(t.worker))
            .add(zero_as_null(t.stale_after)));
    max_trial = std::max(max_trial, t.id);
    if (const auto bytes = phi(t.id)) {
      const PackedPhi p = pack_phi(*bytes, t.id);
      db_.exec("INSERT INTO sparse_phi(study_id, trial_id, raw_bytes, crc32, data) VALUES ($1, $2, $3, $4, $5)",
               PgParams().add(study_id_).add(t.id).add(p.raw_bytes).add(static_cast<int64_t>(p.crc32)).add_bytes(p.data));
    }
  }
  db_.exec(
      "UPDATE sparse_studies SET next_search_id = GREATEST(next_search_id, $2), next_trial_id = "
      "GREATEST(next_trial_id, $3) WHERE id=$1",
      PgParams().add(study_id_).add(max_search + 1).add(max_trial + 1));
  tx.commit();
}

}  // namespace sparse::store
