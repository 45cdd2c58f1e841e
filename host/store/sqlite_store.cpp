// SqliteStore implementation (see sqlite_store.hpp for the schema and invariants).
#include "host/store/sqlite_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>

#include "host/core/error.hpp"
#include "host/store/phi_codec.hpp"
#include "sparse/version.hpp"

namespace sparse::store {

const char* to_string(TrialState s) {
  switch (s) {
    case TrialState::Queued: return "queued";
    case TrialState::Running: return "running";
    case TrialState::Done: return "done";
    case TrialState::Failed: return "failed";
  }
  return "?";
}

TrialState trial_state_from_string(const std::string& s) {
  if (s == "queued") return TrialState::Queued;
  if (s == "running") return TrialState::Running;
  if (s == "done") return TrialState::Done;
  if (s == "failed") return TrialState::Failed;
  SPARSE_FAIL("unknown trial state '" << s << "', expected queued, running, done or failed");
}

std::string new_worker_id() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == 0) std::snprintf(host, sizeof host, "unknown-host");
  std::random_device rd;
  char nonce[16];
  std::snprintf(nonce, sizeof nonce, "%04x", static_cast<unsigned>(rd() & 0xffffu));
  return std::string(host) + ":" + std::to_string(static_cast<long long>(getpid())) + ":" + nonce;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

namespace {

constexpr const char* kTrialColumns =
    "id, search_id, stage, reference_id, config, morphs, proposal, state, device, attempts, created_at, started_at, "
    "finished_at, heartbeat_at, epochs, val_acc, test_acc, int8_acc, ms_bytes, wm5_bytes, wm6_bytes, nonzeros, metrics, "
    "error, worker, stale_after";

}  // namespace

namespace {

const std::string& existing_or_new(const std::string& path, bool create) {
  SPARSE_CHECK(create || std::filesystem::exists(path),
               "store '" << path << "' does not exist (start a search with --store to create it)");
  return path;
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path, bool create)
    : db_(existing_or_new(path, create), create), worker_(new_worker_id()) {
  std::lock_guard<std::mutex> lock(mu_);
  // The first statement reads the header: a foreign file fails here with "file is not a database".
  auto check = db_.prepare("PRAGMA quick_check");
  std::string verdict;
  while (check.step()) verdict += (verdict.empty() ? "" : "; ") + check.text(0);
  SPARSE_CHECK(verdict == "ok", "store '" << path << "' is corrupt: integrity check says: " << verdict.substr(0, 300));
  db_.exec("PRAGMA journal_mode=WAL");
  db_.exec("PRAGMA foreign_keys=ON");
  db_.exec("PRAGMA synchronous=NORMAL");
  auto has_meta = db_.prepare("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'");
  has_meta.step();
  const bool exists = has_meta.int64(0) > 0;
  has_meta.run();
  if (!exists) {
    auto tables = db_.prepare("SELECT count(*) FROM sqlite_master");
    tables.step();
    const int64_t n = tables.int64(0);
    tables.run();
    SPARSE_CHECK(n == 0, "store '" << path << "' is a SQLite database but not a SpArSe trial store (no 'meta' table)");
    create_schema();
  }
  migrate();
  check_schema();
}

void SqliteStore::create_schema() {
  Transaction t(db_);
  db_.exec(R"SQL(
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE searches(
      id INTEGER PRIMARY KEY, dataset TEXT NOT NULL, objectives TEXT NOT NULL, seed INTEGER NOT NULL,
      budgets TEXT NOT NULL, settings TEXT NOT NULL, created_at REAL NOT NULL);
    CREATE TABLE trials(
      id INTEGER PRIMARY KEY, search_id INTEGER NOT NULL REFERENCES searches(id), stage INTEGER NOT NULL,
      reference_id INTEGER REFERENCES trials(id), config TEXT NOT NULL, morphs TEXT NOT NULL, proposal TEXT NOT NULL,
      state TEXT NOT NULL CHECK(state IN ('queued', 'running', 'done', 'failed')), device TEXT NOT NULL DEFAULT '',
      attempts INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, started_at REAL, finished_at REAL,
      heartbeat_at REAL, epochs INTEGER NOT NULL DEFAULT 0, val_acc REAL, test_acc REAL, int8_acc REAL,
      ms_bytes INTEGER, wm5_bytes INTEGER, wm6_bytes INTEGER, nonzeros INTEGER, metrics TEXT NOT NULL DEFAULT '{}',
      error TEXT NOT NULL DEFAULT '', worker TEXT NOT NULL DEFAULT '', stale_after REAL);
    CREATE INDEX trials_by_state ON trials(search_id, state, id);
    CREATE TABLE phi(
      trial_id INTEGER PRIMARY KEY REFERENCES trials(id), raw_bytes INTEGER NOT NULL, crc32 INTEGER NOT NULL,
      data BLOB NOT NULL);
  )SQL");
  auto ins = db_.prepare("INSERT INTO meta(key, value) VALUES (?, ?)");
  ins.bind(1, std::string("schema_version")).bind(2, std::to_string(kSchemaVersion)).run();
  ins.bind(1, std::string("engine_version")).bind(2, std::string(kVersion)).run();
  ins.bind(1, std::string("created_at")).bind(2, std::to_string(unix_now())).run();
  t.commit();
}

int SqliteStore::schema_version() {
  auto s = db_.prepare("SELECT value FROM meta WHERE key='schema_version'");
  SPARSE_CHECK(s.step(), "store '" << db_.path() << "' has no schema_version in its meta table");
  const std::string v = s.text(0);
  s.run();
  try {
    return std::stoi(v);
  } catch (const std::exception&) {
    SPARSE_FAIL("store '" << db_.path() << "': schema_version '" << v << "' is not a number");
  }
}

// Additive steps from each older version to the next, each in its own transaction; a newer version is left to
// check_schema's error.
void SqliteStore::migrate() {
  const char* steps[] = {
      "ALTER TABLE trials ADD COLUMN worker TEXT NOT NULL DEFAULT ''",  // 1 -> 2
      "ALTER TABLE trials ADD COLUMN stale_after REAL",                 // 2 -> 3
  };
  for (int v = schema_version(); v >= 1 && v < kSchemaVersion; ++v) {
    Transaction t(db_);
    db_.exec(steps[v - 1]);
    auto s = db_.prepare("UPDATE meta SET value=? WHERE key='schema_version'");
    s.bind(1, std::to_string(v + 1)).run();
    t.commit();
  }
}

void SqliteStore::set_stale_after(double seconds) {
  SPARSE_CHECK(seconds > 0, "staleness limit " << seconds << " s must be positive");
  std::lock_guard<std::mutex> lock(mu_);
  stale_after_ = seconds;
}

void SqliteStore::check_schema() {
  const int v = schema_version();
  SPARSE_CHECK(v >= 1 && v <= kSchemaVersion, "store '" << db_.path() << "' has schema version " << v
                                                        << ", this engine reads versions 1 to " << kSchemaVersion);
  for (const char* table : {"searches", "trials", "phi"}) {
    auto s = db_.prepare("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?");
    s.bind(1, std::string(table));
    s.step();
    const bool ok = s.int64(0) == 1;
    s.run();
    SPARSE_CHECK(ok, "store '" << db_.path() << "' is missing its '" << table << "' table");
  }
}

nlohmann::json SqliteStore::parse_json(const std::string& text, const std::string& where) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    SPARSE_FAIL("store '" << db_.path() << "': " << where << " is not valid JSON (" << e.what() << ")");
  }
}

int64_t SqliteStore::create_search(const SearchRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = db_.prepare(
      "INSERT INTO searches(dataset, objectives, seed, budgets, settings, created_at) VALUES (?, ?, ?, ?, ?, ?)");
  s.bind(1, r.dataset).bind(2, r.objectives).bind(3, static_cast<int64_t>(r.seed));
  s.bind(4, json_text(r.budgets, nlohmann::json::object()));
  s.bind(5, json_text(r.settings, nlohmann::json::object())).bind(6, unix_now());
  s.run();
  return db_.last_insert_id();
}

void SqliteStore::update_search(const SearchRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = db_.prepare("UPDATE searches SET budgets=?, settings=? WHERE id=? AND dataset=? AND objectives=? AND seed=?");
  s.bind(1, json_text(r.budgets, nlohmann::json::object()));
  s.bind(2, json_text(r.settings, nlohmann::json::object())).bind(3, r.id);
  s.bind(4, r.dataset).bind(5, r.objectives).bind(6, static_cast<int64_t>(r.seed));
  s.run();
  SPARSE_CHECK(db_.changes() == 1, "store '" << db_.path() << "' has no search " << r.id << " with dataset " << r.dataset
                                             << ", objectives " << r.objectives << " and seed " << r.seed
                                             << " to update");
}

SearchRecord SqliteStore::get_search(int64_t search_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = db_.prepare("SELECT id, dataset, objectives, seed, budgets, settings, created_at FROM searches WHERE id=?");
  s.bind(1, search_id);
  SPARSE_CHECK(s.step(), "store '" << db_.path() << "' has no search " << search_id);
  SearchRecord r;
  r.id = s.int64(0);
  r.dataset = s.text(1);
  r.objectives = s.text(2);
  r.seed = static_cast<uint64_t>(s.int64(3));
  r.budgets = parse_json(s.text(4), "search " + std::to_string(r.id) + " budgets");
  r.settings = parse_json(s.text(5), "search " + std::to_string(r.id) + " settings");
  r.created_at = s.real(6);
  s.run();
  return r;
}

std::vector<SearchRecord> SqliteStore::list_searches() {
  std::vector<int64_t> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto s = db_.prepare("SELECT id FROM searches ORDER BY id");
    while (s.step()) ids.push_back(s.int64(0));
  }
  std::vector<SearchRecord> out;
  for (int64_t id : ids) out.push_back(get_search(id));
  return out;
}

int64_t SqliteStore::add_trial(const TrialRecord& t) {
  std::lock_guard<std::mutex> lock(mu_);
  return insert_trial(t);
}

std::optional<int64_t> SqliteStore::add_trial_at(const TrialRecord& t, int64_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);  // BEGIN IMMEDIATE: no other process adds between the count and the insert
  auto n = db_.prepare("SELECT count(*) FROM trials WHERE search_id=?");
  n.bind(1, t.search_id);
  n.step();
  const int64_t have = n.int64(0);
  n.run();
  if (have != index) return std::nullopt;
  const int64_t id = insert_trial(t);
  tx.commit();
  return id;
}

int64_t SqliteStore::insert_trial(const TrialRecord& t) {
  auto s = db_.prepare(
      "INSERT INTO trials(search_id, stage, reference_id, config, morphs, proposal, state, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)");
  s.bind(1, t.search_id).bind(2, static_cast<int64_t>(t.stage)).bind(3, t.reference_id).bind(4, t.config.dump());
  s.bind(5, json_text(t.morphs, nlohmann::json::array()));
  s.bind(6, json_text(t.proposal, nlohmann::json::object())).bind(7, unix_now());
  s.run();
  return db_.last_insert_id();
}

TrialRecord SqliteStore::read_trial(Statement& s) {
  TrialRecord t;
  t.id = s.int64(0);
  const std::string where = "trial " + std::to_string(t.id);
  t.search_id = s.int64(1);
  t.stage = static_cast<int>(s.int64(2));
  t.reference_id = s.opt_int64(3);
  t.config = parse_json(s.text(4), where + " config");
  t.morphs = parse_json(s.text(5), where + " morphs");
  t.proposal = parse_json(s.text(6), where + " proposal");
  t.state = trial_state_from_string(s.text(7));
  t.device = s.text(8);
  t.attempts = static_cast<int>(s.int64(9));
  t.created_at = s.real(10);
  t.started_at = s.real(11);
  t.finished_at = s.real(12);
  t.heartbeat_at = s.real(13);
  t.epochs = static_cast<int>(s.int64(14));
  t.val_acc = s.opt_real(15);
  t.test_acc = s.opt_real(16);
  t.int8_acc = s.opt_real(17);
  t.ms_bytes = s.opt_int64(18);
  t.wm5_bytes = s.opt_int64(19);
  t.wm6_bytes = s.opt_int64(20);
  t.nonzeros = s.opt_int64(21);
  t.metrics = parse_json(s.text(22), where + " metrics");
  t.error = s.text(23);
  t.worker = s.text(24);
  t.stale_after = s.opt_real(25).value_or(0);
  return t;
}

TrialRecord SqliteStore::get_trial(int64_t trial_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = db_.prepare(std::string("SELECT ") + kTrialColumns + " FROM trials WHERE id=?");
  s.bind(1, trial_id);
  SPARSE_CHECK(s.step(), "store '" << db_.path() << "' has no trial " << trial_id);
  TrialRecord t = read_trial(s);
  s.run();
  return t;
}

std::vector<TrialRecord> SqliteStore::list_trials(int64_t search_id, std::optional<TrialState> state) {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = db_.prepare(std::string("SELECT ") + kTrialColumns + " FROM trials WHERE search_id=? " +
                       (state ? "AND state=? " : "") + "ORDER BY id");
  s.bind(1, search_id);
  if (state) s.bind(2, std::string(to_string(*state)));
  std::vector<TrialRecord> out;
  while (s.step()) out.push_back(read_trial(s));
  return out;
}

std::optional<TrialRecord> SqliteStore::claim_next(int64_t search_id, const std::string& device) {
  int64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Transaction t(db_);
    auto pick = db_.prepare("SELECT id FROM trials WHERE search_id=? AND state='queued' ORDER BY id LIMIT 1");
    pick.bind(1, search_id);
    if (!pick.step()) return std::nullopt;
    id = pick.int64(0);
    pick.run();
    const double now = unix_now();
    auto up = db_.prepare(
        "UPDATE trials SET state='running', device=?, worker=?, started_at=?, heartbeat_at=?, attempts=attempts+1, "
        "stale_after=? WHERE id=?");
    up.bind(1, device).bind(2, worker_).bind(3, now).bind(4, now);
    up.bind(5, stale_after_ > 0 ? std::optional<double>(stale_after_) : std::nullopt).bind(6, id).run();
    auto a = db_.prepare("SELECT attempts FROM trials WHERE id=?");
    a.bind(1, id);
    a.step();
    leases_[id] = a.int64(0);
    a.run();
    t.commit();
  }
  return get_trial(id);
}

void SqliteStore::require_lease(int64_t trial_id, const char* action) {
  const auto mine = leases_.find(trial_id);
  if (mine == leases_.end()) {
    require_trial_state(trial_id, TrialState::Running, action);
    throw LeaseLost("cannot " + std::string(action) + " trial " + std::to_string(trial_id) + ": worker " + worker_ +
                    " did not claim it (another worker holds it); nothing was written");
  }
  auto s = db_.prepare("SELECT state, worker, attempts FROM trials WHERE id=?");
  s.bind(1, trial_id);
  SPARSE_CHECK(s.step(), "store '" << db_.path() << "' has no trial " << trial_id);
  const std::string state = s.text(0), holder = s.text(1);
  const int64_t attempt = s.int64(2);
  s.run();
  if (state == to_string(TrialState::Running) && holder == worker_ && attempt == mine->second) return;
  std::ostringstream os;
  os << "cannot " << action << " trial " << trial_id << ": worker " << worker_ << " lost its lease (attempt "
     << mine->second << "; its heartbeat went stale and the trial was re-queued, now " << state << ", attempt " << attempt
     << (holder.empty() ? std::string() : ", worker " + holder) << "); nothing was written";
  leases_.erase(mine);
  throw LeaseLost(os.str());
}

void SqliteStore::require_trial_state(int64_t trial_id, TrialState expected, const char* action) {
  auto s = db_.prepare("SELECT state FROM trials WHERE id=?");
  s.bind(1, trial_id);
  SPARSE_CHECK(s.step(), "store '" << db_.path() << "' has no trial " << trial_id);
  const std::string state = s.text(0);
  s.run();
  SPARSE_CHECK(state == to_string(expected), "cannot " << action << " trial " << trial_id << ": it is " << state
                                                       << ", expected " << to_string(expected));
}

void SqliteStore::heartbeat(int64_t trial_id) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto mine = leases_.find(trial_id);
  if (mine == leases_.end()) return;
  auto s = db_.prepare("UPDATE trials SET heartbeat_at=? WHERE id=? AND state='running' AND worker=? AND attempts=?");
  s.bind(1, unix_now()).bind(2, trial_id).bind(3, worker_).bind(4, mine->second).run();
}

SqliteStore::~SqliteStore() {
  if (turn_fd_ >= 0) ::close(turn_fd_);
}

// The turn is an exclusive flock on "<store>-propose": per open file, so per store object, and released by the
// kernel when the process dies.
bool SqliteStore::try_proposal_turn(int64_t) {
  std::lock_guard<std::mutex> lock(mu_);
  if (turn_fd_ >= 0) return true;
  const std::string path = db_.path() + "-propose";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  SPARSE_CHECK(fd >= 0, "store '" << db_.path() << "': cannot open " << path << " (" << std::strerror(errno) << ")");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return false;
  }
  turn_fd_ = fd;
  return true;
}

void SqliteStore::release_proposal_turn(int64_t) {
  std::lock_guard<std::mutex> lock(mu_);
  if (turn_fd_ < 0) return;
  ::close(turn_fd_);  // drops the flock
  turn_fd_ = -1;
}

void SqliteStore::finish(int64_t trial_id, const TrialResult& r) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction t(db_);
  require_lease(trial_id, "finish");
  auto s = db_.prepare(
      "UPDATE trials SET state='done', finished_at=?, epochs=?, val_acc=?, test_acc=?, int8_acc=?, ms_bytes=?, "
      "wm5_bytes=?, wm6_bytes=?, nonzeros=?, metrics=?, error='' WHERE id=?");
  s.bind(1, unix_now()).bind(2, static_cast<int64_t>(r.epochs)).bind(3, r.val_acc).bind(4, r.test_acc);
  s.bind(5, r.int8_acc).bind(6, r.ms_bytes).bind(7, r.wm5_bytes).bind(8, r.wm6_bytes).bind(9, r.nonzeros);
  s.bind(10, r.metrics.dump()).bind(11, trial_id).run();
  t.commit();
  leases_.erase(trial_id);
}

void SqliteStore::fail(int64_t trial_id, const std::string& reason, const nlohmann::json& metrics) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction t(db_);
  require_lease(trial_id, "fail");  // a done trial's results are never overwritten
  auto s = db_.prepare("UPDATE trials SET state='failed', finished_at=?, error=?, metrics=? WHERE id=?");
  s.bind(1, unix_now()).bind(2, reason).bind(3, json_text(metrics, nlohmann::json::object()));
  s.bind(4, trial_id).run();
  t.commit();
  leases_.erase(trial_id);
}

void SqliteStore::requeue(int64_t trial_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction t(db_);
  require_lease(trial_id, "requeue");
  auto s = db_.prepare("UPDATE trials SET state='queued', device='', worker='' WHERE id=?");
  s.bind(1, trial_id).run();
  t.commit();
  leases_.erase(trial_id);
}

int SqliteStore::requeue_stale(int64_t search_id, double stale_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = db_.prepare(
      "UPDATE trials SET state='queued', device='', worker='' WHERE search_id=? AND state='running' AND "
      "(heartbeat_at IS NULL OR heartbeat_at < ? - COALESCE(stale_after, ?))");
  s.bind(1, search_id).bind(2, unix_now()).bind(3, stale_seconds).run();
  return db_.changes();
}

void SqliteStore::put_phi(int64_t trial_id, const std::vector<uint8_t>& phi) {
  const PackedPhi p = pack_phi(phi, trial_id);
  std::lock_guard<std::mutex> lock(mu_);
  Transaction t(db_);
  auto st = db_.prepare("SELECT state FROM trials WHERE id=?");
  st.bind(1, trial_id);
  SPARSE_CHECK(st.step(), "store '" << db_.path() << "' has no trial " << trial_id);
  const bool running = st.text(0) == to_string(TrialState::Running);
  st.run();
  // A running trial's φ is its lease holder's to write (again, after a crash before finish); a trial this worker
  // claimed and lost is not written; any other trial's φ is written once (a store copy) and never replaced.
  if (running || leases_.count(trial_id)) require_lease(trial_id, "store φ of");
  auto s = db_.prepare(std::string(running ? "INSERT OR REPLACE" : "INSERT OR IGNORE") +
                       " INTO phi(trial_id, raw_bytes, crc32, data) VALUES (?, ?, ?, ?)");
  s.bind(1, trial_id).bind(2, p.raw_bytes).bind(3, static_cast<int64_t>(p.crc32)).bind_blob(4, p.data);
  s.run();
  SPARSE_CHECK(db_.changes() == 1, "store '" << db_.path() << "': φ of trial " << trial_id
                                             << " is already stored; a finished trial's φ is never replaced");
  t.commit();
}

std::optional<std::vector<uint8_t>> SqliteStore::get_phi(int64_t trial_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = db_.prepare("SELECT raw_bytes, crc32, data FROM phi WHERE trial_id=?");
  s.bind(1, trial_id);
  if (!s.step()) return std::nullopt;
  PackedPhi p;
  p.raw_bytes = s.int64(0);
  p.crc32 = static_cast<uint32_t>(s.int64(1));
  p.data = s.blob(2);
  s.run();
  return unpack_phi(p, "store '" + db_.path() + "'", trial_id);
}

}  // namespace sparse::store
