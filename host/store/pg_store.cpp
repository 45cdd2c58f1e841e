// PgStore implementation (see pg_store.hpp for the schema and invariants).
#include "host/store/pg_store.hpp"

#include <sstream>

#include "host/core/error.hpp"
#include "host/store/pg_schema.hpp"
#include "host/store/phi_codec.hpp"

namespace sparse::store {

namespace {

// The server's clock in Unix seconds, one value per statement.
#define SPARSE_PG_NOW "extract(epoch FROM statement_timestamp())::float8"

constexpr const char* kSearchColumns = "id, dataset, objectives, seed, budgets, settings, created_at";
constexpr const char* kTrialColumns =
    "id, search_id, stage, reference_id, config, morphs, proposal, state, device, attempts, created_at, started_at, "
    "finished_at, heartbeat_at, epochs, val_acc, test_acc, int8_acc, ms_bytes, wm5_bytes, wm6_bytes, nonzeros, metrics, "
    "error, worker, stale_after";

}  // namespace

PgStore::PgStore(const std::string& url, bool create) : db_(parse_pg_url(url)), worker_(new_worker_id()) {
  std::lock_guard<std::mutex> lock(mu_);
  ensure_pg_schema(db_, create);
  open_study(create);
}

void PgStore::open_study(bool create) {
  const std::string& name = db_.url().study;
  if (create)
    db_.exec("INSERT INTO sparse_studies(name, created_at) VALUES ($1, " SPARSE_PG_NOW ") ON CONFLICT (name) DO NOTHING",
             PgParams().add(name));
  const PgResult r = db_.exec("SELECT id FROM sparse_studies WHERE name=$1", PgParams().add(name));
  if (r.rows() == 1) {
    study_id_ = r.int64(0, 0);
    return;
  }
  const PgResult all = db_.exec("SELECT name FROM sparse_studies ORDER BY name LIMIT 21");
  std::string names;
  for (int i = 0; i < all.rows() && i < 20; ++i) names += (i ? ", " : "") + all.text(i, 0);
  if (all.rows() > 20) names += ", ...";
  SPARSE_FAIL(who() << ": study '" << name << "' does not exist in database '" << db_.url().database << "' ("
                    << (names.empty() ? std::string("it holds no study yet") : "its studies: " + names)
                    << "); start a search with --store to create it");
}

int PgStore::schema_version() {
  std::lock_guard<std::mutex> lock(mu_);
  return pg_schema_version(db_);
}

nlohmann::json PgStore::parse_json(const std::string& text, const std::string& where) const {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    SPARSE_FAIL(who() << ": " << where << " is not valid JSON (" << e.what() << ")");
  }
}

SearchRecord PgStore::read_search(const PgResult& r, int row) const {
  SearchRecord s;
  s.id = r.int64(row, 0);
  s.dataset = r.text(row, 1);
  s.objectives = r.text(row, 2);
  s.seed = static_cast<uint64_t>(r.int64(row, 3));
  s.budgets = parse_json(r.text(row, 4), "search " + std::to_string(s.id) + " budgets");
  s.settings = parse_json(r.text(row, 5), "search " + std::to_string(s.id) + " settings");
  s.created_at = r.real(row, 6);
  return s;
}

TrialRecord PgStore::read_trial(const PgResult& r, int row) const {
  TrialRecord t;
  t.id = r.int64(row, 0);
  const std::string where = "trial " + std::to_string(t.id);
  t.search_id = r.int64(row, 1);
  t.stage = static_cast<int>(r.int64(row, 2));
  t.reference_id = r.opt_int64(row, 3);
  t.config = parse_json(r.text(row, 4), where + " config");
  t.morphs = parse_json(r.text(row, 5), where + " morphs");
  t.proposal = parse_json(r.text(row, 6), where + " proposal");
  t.state = trial_state_from_string(r.text(row, 7));
  t.device = r.text(row, 8);
  t.attempts = static_cast<int>(r.int64(row, 9));
  t.created_at = r.real(row, 10);
  t.started_at = r.opt_real(row, 11).value_or(0);
  t.finished_at = r.opt_real(row, 12).value_or(0);
  t.heartbeat_at = r.opt_real(row, 13).value_or(0);
  t.epochs = static_cast<int>(r.int64(row, 14));
  t.val_acc = r.opt_real(row, 15);
  t.test_acc = r.opt_real(row, 16);
  t.int8_acc = r.opt_real(row, 17);
  t.ms_bytes = r.opt_int64(row, 18);
  t.wm5_bytes = r.opt_int64(row, 19);
  t.wm6_bytes = r.opt_int64(row, 20);
  t.nonzeros = r.opt_int64(row, 21);
  t.metrics = parse_json(r.text(row, 22), where + " metrics");
  t.error = r.text(row, 23);
  t.worker = r.text(row, 24);
  t.stale_after = r.opt_real(row, 25).value_or(0);
  return t;
}

int64_t PgStore::create_search(const SearchRecord& s) {
  std::lock_guard<std::mutex> lock(mu_);
  const PgResult r = db_.exec(
      "WITH n AS (UPDATE sparse_studies SET next_search_id = next_search_id + 1 WHERE id = $1 "
      "RETURNING next_search_id - 1 AS new_id) "
      "INSERT INTO sparse_searches(study_id, id, dataset, objectives, seed, budgets, settings, created_at) "
      "VALUES ($1, (SELECT new_id FROM n), $2, $3, $4, $5, $6, " SPARSE_PG_NOW ") RETURNING id",
      PgParams()
          .add(study_id_)
          .add(s.dataset)
          .add(s.objectives)
          .add(static_cast<int64_t>(s.seed))
          .add(json_text(s.budgets, nlohmann::json::object()))
          .add(json_text(s.settings, nlohmann::json::object())));
  return r.int64(0, 0);
}

void PgStore::update_search(const SearchRecord& s) {
  std::lock_guard<std::mutex> lock(mu_);
  const PgResult r = db_.exec(
      "UPDATE sparse_searches SET budgets=$3, settings=$4 WHERE study_id=$1 AND id=$2 AND dataset=$5 AND "
      "objectives=$6 AND seed=$7",
      PgParams()
          .add(study_id_)
          .add(s.id)
          .add(json_text(s.budgets, nlohmann::json::object()))
          .add(json_text(s.settings, nlohmann::json::object()))
          .add(s.dataset)
          .add(s.objectives)
          .add(static_cast<int64_t>(s.seed)));
  SPARSE_CHECK(r.affected() == 1, who() << " has no search " << s.id << " with dataset " << s.dataset << ", objectives "
                                        << s.objectives << " and seed " << s.seed << " to update");
}

SearchRecord PgStore::get_search(int64_t search_id) {
  std::lock_guard<std::mutex> lock(mu_);
  const PgResult r = db_.exec(std::string("SELECT ") + kSearchColumns + " FROM sparse_searches WHERE study_id=$1 AND id=$2",
                              PgParams().add(study_id_).add(search_id));
  SPARSE_CHECK(r.rows() == 1, who() << " has no search " << search_id);
  return read_search(r, 0);
}

std::vector<SearchRecord> PgStore::list_searches() {
  std::lock_guard<std::mutex> lock(mu_);
  const PgResult r = db_.exec(std::string("SELECT ") + kSearchColumns + " FROM sparse_searches WHERE study_id=$1 ORDER BY id",
                              PgParams().add(study_id_));
  std::vector<SearchRecord> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_search(r, i));
  return out;
}

int64_t PgStore::add_trial(const TrialRecord& t) {
  std::lock_guard<std::mutex> lock(mu_);
  return insert_trial(t);
}

std::optional<int64_t> PgStore::add_trial_at(const TrialRecord& t, int64_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  PgTransaction tx(db_);
  // The search row's lock orders concurrent adds: each counts what the previous ones committed.
  const PgResult s = db_.exec("SELECT id FROM sparse_searches WHERE study_id=$1 AND id=$2 FOR UPDATE",
                              PgParams().add(study_id_).add(t.search_id));
  SPARSE_CHECK(s.rows() == 1, who() << " has no search " << t.search_id);
  const PgResult n = db_.exec("SELECT count(*) FROM sparse_trials WHERE study_id=$1 AND search_id=$2",
                              PgParams().add(study_id_).add(t.search_id));
  if (n.int64(0, 0) != index) return std::nullopt;
  const int64_t id = insert_trial(t);
  tx.commit();
  return id;
}

int64_t PgStore::insert_trial(const TrialRecord& t) {
  const PgResult r = db_.exec(      "WITH n AS (UPDATE sparse_studies SET next_trial_id = next_trial_id + 1 WHERE id = $1 "
      "RETURNING next_trial_id - 1 AS new_id) "
      "INSERT INTO sparse_trials(study_id, id, search_id, stage, reference_id, config, morphs, proposal, state, "
      "created_at) VALUES ($1, (SELECT new_id FROM n), $2, $3, $4, $5, $6, $7, 'queued', " SPARSE_PG_NOW ") RETURNING id",
      PgParams()
          .add(study_id_)
          .add(t.search_id)
          .add(t.stage)
          .add(t.reference_id)
          .add(t.config.dump())
          .add(json_text(t.morphs, nlohmann::json::array()))
          .add(json_text(t.proposal, nlohmann::json::object())));
  return r.int64(0, 0);
}

TrialRecord PgStore::get_trial(int64_t trial_id) {
  std::lock_guard<std::mutex> lock(mu_);
  const PgResult r = db_.exec(std::string("SELECT ") + kTrialColumns + " FROM sparse_trials WHERE study_id=$1 AND id=$2",
                              PgParams().add(study_id_).add(trial_id));
  SPARSE_CHECK(r.rows() == 1, who() << " has no trial " << trial_id);
  return read_trial(r, 0);
}

std::vector<TrialRecord> PgStore::list_trials(int64_t search_id, std::optional<TrialState> state) {
  std::lock_guard<std::mutex> lock(mu_);
  PgParams p;
  p.add(study_id_).add(search_id);
  if (state) p.add(to_string(*state));
  const PgResult r = db_.exec(std::string("SELECT ") + kTrialColumns +
                                  " FROM sparse_trials WHERE study_id=$1 AND search_id=$2 " +
                                  (state ? "AND state=$3 " : "") + "ORDER BY id",
                              p);
  std::vector<TrialRecord> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_trial(r, i));
  return out;
}

std::optional<TrialRecord> PgStore::claim_next(int64_t search_id, const std::string& device) {
  std::lock_guard<std::mutex> lock(mu_);
  // One statement: the row lock taken by FOR UPDATE is held until the UPDATE commits, and SKIP LOCKED lets a
  // concurrent claimer take the next queued trial instead of waiting for this one.
  const PgResult r = db_.exec(
      "WITH next AS (SELECT id AS next_id FROM sparse_trials WHERE study_id=$1 AND search_id=$2 AND state='queued' "
      "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
      "UPDATE sparse_trials SET state='running', device=$3, worker=$4, stale_after=$5, started_at=" SPARSE_PG_NOW
      ", heartbeat_at=" SPARSE_PG_NOW ", attempts=attempts+1 FROM next WHERE study_id=$1 AND id=next.next_id RETURNING " +
          std::string(kTrialColumns),
      PgParams()
          .add(study_id_)
          .add(search_id)
          .add(valid_utf8(device))
          .add(worker_)
          .add(stale_after_ > 0 ? std::optional<double>(stale_after_) : std::nullopt));
  if (r.rows() == 0) return std::nullopt;
  TrialRecord t = read_trial(r, 0);
  leases_[t.id] = t.attempts;
  return t;
}

int64_t PgStore::lease_of(int64_t trial_id) const {
  const auto it = leases_.find(trial_id);
  return it == leases_.end() ? -1 : it->second;
}

void PgStore::fail_lease(int64_t trial_id, const char* action) {
  const PgResult r = db_.exec("SELECT state, worker, attempts FROM sparse_trials WHERE study_id=$1 AND id=$2",
                              PgParams().add(study_id_).add(trial_id));
  SPARSE_CHECK(r.rows() == 1, who() << " has no trial " << trial_id);
  const std::string state = r.text(0, 0), holder = r.text(0, 1);
  const int64_t attempt = r.int64(0, 2), mine = lease_of(trial_id);
  if (mine < 0) {
    SPARSE_CHECK(state == "running", "cannot " << action << " trial " << trial_id << ": it is " << state
                                               << ", expected running");
    throw LeaseLost("cannot " + std::string(action) + " trial " + std::to_string(trial_id) + ": worker " + worker_ +
                    " did not claim it (another worker holds it); nothing was written");
  }
  std::ostringstream os;
  os << "cannot " << action << " trial " << trial_id << ": worker " << worker_ << " lost its lease (attempt " << mine
     << "; its heartbeat went stale and the trial was re-queued, now " << state << ", attempt " << attempt
     << (holder.empty() ? std::string() : ", worker " + holder) << "); nothing was written";
  leases_.erase(trial_id);
  throw LeaseLost(os.str());
}

void PgStore::heartbeat(int64_t trial_id) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t mine = lease_of(trial_id);
  if (mine < 0) return;
  db_.exec("UPDATE sparse_trials SET heartbeat_at=" SPARSE_PG_NOW
           " WHERE study_id=$1 AND id=$2 AND state='running' AND worker=$3 AND attempts=$4",
           PgParams().add(study_id_).add(trial_id).add(worker_).add(mine));
}

namespace {

// The advisory-lock keys of a search's proposal turn: key1 "SPT1" in ASCII, key2 the study and search ids folded into
// an int4.
constexpr int kProposalTurnClass = 0x53505431;
#define SPARSE_PG_TURN_KEY "$1::int4, (($2::bigint * 1000003 + $3::bigint) % 2147483647)::int4"

}  // namespace

void PgStore::set_stale_after(double seconds) {
  SPARSE_CHECK(seconds > 0, "staleness limit " << seconds << " s must be positive");
  std::lock_guard<std::mutex> lock(mu_);
  stale_after_ = seconds;
}

bool PgStore::try_proposal_turn(int64_t search_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (turns_.count(search_id)) return true;
  const PgResult r = db_.exec("SELECT pg_try_advisory_lock(" SPARSE_PG_TURN_KEY ")",
                              PgParams().add(kProposalTurnClass).add(study_id_).add(search_id));
  if (r.text(0, 0) != "t") return false;
  turns_.insert(search_id);
  return true;
}

void PgStore::release_proposal_turn(int64_t search_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!turns_.erase(search_id)) return;
  db_.exec("SELECT pg_advisory_unlock(" SPARSE_PG_TURN_KEY ")",
           PgParams().add(kProposalTurnClass).add(study_id_).add(search_id));
}

void PgStore::finish(int64_t trial_id, const TrialResult& res) {
  std::lock_guard<std::mutex> lock(mu_);
  const PgResult r = db_.exec(
      "UPDATE sparse_trials SET state='done', finished_at=" SPARSE_PG_NOW ", epochs=$3, val_acc=$4, test_acc=$5, "
      "int8_acc=$6, ms_bytes=$7, wm5_bytes=$8, wm6_bytes=$9, nonzeros=$10, metrics=$11, error='' "
      "WHERE study_id=$1 AND id=$2 AND state='running' AND worker=$12 AND attempts=$13",
      PgParams()
          .add(study_id_)
          .add(trial_id)
          .add(res.epochs)
          .add(res.val_acc)
          .add(res.test_acc)
          .add(res.int8_acc)
          .add(res.ms_bytes)
          .add(res.wm5_bytes)
          .add(res.wm6_bytes)
          .add(res.nonzeros)
          .add(res.metrics.dump())
          .add(worker_)
          .add(lease_of(trial_id)));
  if (r.affected() != 1) fail_lease(trial_id, "finish");
  leases_.erase(trial_id);
}

void PgStore::fail(int64_t trial_id, const std::string& reason, const nlohmann::json& metrics) {
  std::lock_guard<std::mutex> lock(mu_);
  // Only a running trial can fail: a done trial's results are never overwritten.
  const PgResult r = db_.exec(
      "UPDATE sparse_trials SET state='failed', finished_at=" SPARSE_PG_NOW ", error=$3, metrics=$4 "
      "WHERE study_id=$1 AND id=$2 AND state='running' AND worker=$5 AND attempts=$6",
      PgParams()
          .add(study_id_)
          .add(trial_id)
          .add(valid_utf8(reason))
          .add(json_text(metrics, nlohmann::json::object()))
          .add(worker_)
          .add(lease_of(trial_id)));
  if (r.affected() != 1) fail_lease(trial_id, "fail");
  leases_.erase(trial_id);
}

void PgStore::requeue(int64_t trial_id) {
  std::lock_guard<std::mutex> lock(mu_);
  const PgResult r = db_.exec(
      "UPDATE sparse_trials SET state='queued', device='', worker='' "
      "WHERE study_id=$1 AND id=$2 AND state='running' AND worker=$3 AND attempts=$4",
      PgParams().add(study_id_).add(trial_id).add(worker_).add(lease_of(trial_id)));
  if (r.affected() != 1) fail_lease(trial_id, "requeue");
  leases_.erase(trial_id);
}

int PgStore::requeue_stale(int64_t search_id, double stale_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  const PgResult r = db_.exec(
      "UPDATE sparse_trials SET state='queued', device='', worker='' WHERE study_id=$1 AND search_id=$2 AND "
      "state='running' AND (heartbeat_at IS NULL OR heartbeat_at < " SPARSE_PG_NOW " - COALESCE(stale_after, $3::float8))",
      PgParams().add(study_id_).add(search_id).add(stale_seconds));
  return static_cast<int>(r.affected());
}

void PgStore::put_phi(int64_t trial_id, const std::vector<uint8_t>& phi) {
  const PackedPhi p = pack_phi(phi, trial_id);
  std::lock_guard<std::mutex> lock(mu_);
  PgTransaction tx(db_);
  // The trial row's lock keeps its state and lease fixed until φ is written.
  const PgResult st = db_.exec(
      "SELECT state, worker, attempts FROM sparse_trials WHERE study_id=$1 AND id=$2 FOR UPDATE",
      PgParams().add(study_id_).add(trial_id));
  SPARSE_CHECK(st.rows() == 1, who() << " has no trial " << trial_id);
  const bool running = st.text(0, 0) == "running";
  // A running trial's φ is its lease holder's to write (again, after a crash before finish); a trial this worker
  // claimed and lost is not written; any other trial's φ is written once (a store copy) and never replaced.
  if ((running || lease_of(trial_id) >= 0) &&
      !(running && st.text(0, 1) == worker_ && st.int64(0, 2) == lease_of(trial_id)))
    fail_lease(trial_id, "store φ of");
  const PgResult r = db_.exec(
      std::string("INSERT INTO sparse_phi(study_id, trial_id, raw_bytes, crc32, data) VALUES ($1, $2, $3, $4, $5) "
                  "ON CONFLICT (study_id, trial_id) ") +
          (running ? "DO UPDATE SET raw_bytes=EXCLUDED.raw_bytes, crc32=EXCLUDED.crc32, data=EXCLUDED.data"
                   : "DO NOTHING"),
      PgParams().add(study_id_).add(trial_id).add(p.raw_bytes).add(static_cast<int64_t>(p.crc32)).add_bytes(p.data));
  SPARSE_CHECK(r.affected() == 1,
               who() << ": φ of trial " << trial_id << " is already stored; a finished trial's φ is never replaced");
  tx.commit();
}

std::optional<std::vector<uint8_t>> PgStore::get_phi(int64_t trial_id) {
  std::lock_guard<std::mutex> lock(mu_);
  // A binary result carries the blob as raw bytes; the numbers come as text (their binary form is not text).
  const PgResult r = db_.exec(
      "SELECT raw_bytes::text, crc32::text, data FROM sparse_phi WHERE study_id=$1 AND trial_id=$2",
      PgParams().add(study_id_).add(trial_id), /*binary_result=*/true);
  if (r.rows() == 0) return std::nullopt;
  PackedPhi p;
  p.raw_bytes = r.int64(0, 0);
  p.crc32 = static_cast<uint32_t>(r.int64(0, 1));
  p.data = r.bytes(0, 2);
  return unpack_phi(p, who(), trial_id);
}

}  // namespace sparse::store
