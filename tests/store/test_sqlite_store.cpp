// SqliteStore: round trips, atomic claims across threads and connections, stale re-queue, φ integrity,
// and corrupt or foreign files rejected with a message naming the store.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "host/core/error.hpp"
#include "host/store/sqlite_store.hpp"
#include "tests/common/error_of.hpp"
#include "tests/common/temp_dir.hpp"

using namespace sparse::store;
using sparse::test::error_of;
using sparse::test::TempDir;

namespace {

void raw_sql(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.string().c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
  sqlite3_close(h);
}

int64_t make_search(TrialStore& s) {
  SearchRecord r;
  r.dataset = "mnist";
  r.objectives = "acc,ms,wm5";
  r.seed = 7;
  r.budgets = {{"max_ms_bytes", 2048}};
  r.settings = {{"rho", {0.5, 0.7, 0.9}}};
  return s.create_search(r);
}

TrialRecord trial(int64_t search, int stage, nlohmann::json config) {
  TrialRecord t;
  t.search_id = search;
  t.stage = stage;
  t.config = std::move(config);
  return t;
}

}  // namespace

TEST(SqliteStore, SearchAndTrialRoundTripSurvivesReopen) {
  TempDir d;
  const auto path = (d / "s.db").string();
  int64_t search = 0, t1 = 0, t2 = 0;
  {
    SqliteStore s(path, true);
    EXPECT_EQ(s.schema_version(), kSchemaVersion);
    search = make_search(s);
    t1 = s.add_trial(trial(search, 0, {{"num_conv_blocks", 1}}));
    TrialRecord m = trial(search, 1, {{"num_conv_blocks", 2}});
    m.reference_id = t1;
    m.morphs = {"num-conv-blocks"};
    m.proposal = {{"lambda", {0.2, 0.8}}};
    t2 = s.add_trial(m);
    auto c = s.claim_next(search, "cpu:0");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->id, t1);
    TrialResult r;
    r.epochs = 12;
    r.val_acc = 0.981;
    r.ms_bytes = 1900;
    r.wm5_bytes = 1500;
    r.nonzeros = 1900;
    r.metrics = {{"layers", {{{"name", "conv1"}, {"nonzeros", 100}}}}};
    s.finish(t1, r);
  }
  SqliteStore s(path, false);
  const auto search_back = s.get_search(search);
  EXPECT_EQ(search_back.dataset, "mnist");
  EXPECT_EQ(search_back.budgets["max_ms_bytes"], 2048);
  const auto a = s.get_trial(t1);
  EXPECT_EQ(a.state, TrialState::Done);
  EXPECT_EQ(a.device, "cpu:0");
  EXPECT_EQ(a.attempts, 1);
  EXPECT_EQ(a.epochs, 12);
  EXPECT_DOUBLE_EQ(*a.val_acc, 0.981);
  EXPECT_FALSE(a.test_acc.has_value());
  EXPECT_EQ(*a.ms_bytes, 1900);
  EXPECT_EQ(a.metrics["layers"][0]["nonzeros"], 100);
  EXPECT_GE(a.finished_at, a.started_at);
  const auto b = s.get_trial(t2);
  EXPECT_EQ(b.state, TrialState::Queued);
  EXPECT_EQ(*b.reference_id, t1);
  EXPECT_EQ(b.morphs[0], "num-conv-blocks");
  EXPECT_EQ(b.proposal["lambda"][1], 0.8);
  EXPECT_EQ(s.list_trials(search).size(), 2u);
  EXPECT_EQ(s.list_trials(search, TrialState::Done).size(), 1u);
}

TEST(SqliteStore, EachTrialIsClaimedOnceAcrossThreadsAndConnections) {
  TempDir d;
  const auto path = (d / "c.db").string();
  SqliteStore a(path, true);
  SqliteStore b(path, false);  // a second connection, as another process would have
  const int64_t search = make_search(a);
  const int n = 60;
  for (int i = 0; i < n; ++i) a.add_trial(trial(search, 0, {{"i", i}}));
  std::mutex mu;
  std::multiset<int64_t> claimed;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&, w] {
      TrialStore& s = (w % 2 == 0) ? static_cast<TrialStore&>(a) : static_cast<TrialStore&>(b);
      while (auto t = s.claim_next(search, "cpu:" + std::to_string(w))) {
        s.finish(t->id, TrialResult{});
        std::lock_guard<std::mutex> lock(mu);
        claimed.insert(t->id);
      }
    });
  for (auto& t : workers) t.join();
  EXPECT_EQ(claimed.size(), static_cast<size_t>(n));
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()).size(), static_cast<size_t>(n));
  EXPECT_EQ(a.list_trials(search, TrialState::Done).size(), static_cast<size_t>(n));
}

TEST(SqliteStore, StaleRunningTrialsAreRequeued) {
  TempDir d;
  SqliteStore s((d / "h.db").string(), true);
  const int64_t search = make_search(s);
  const int64_t id = s.add_trial(trial(search, 0, {}));
  ASSERT_TRUE(s.claim_next(search, "cuda:0"));
  EXPECT_EQ(s.requeue_stale(search, 3600), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  s.heartbeat(id);
  EXPECT_EQ(s.requeue_stale(search, 10), 0);  // fresh heartbeat
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(s.requeue_stale(search, 0.01), 1);
  const auto t = s.get_trial(id);
  EXPECT_EQ(t.state, TrialState::Queued);
  const auto again = s.claim_next(search, "cuda:1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempts, 2);
  EXPECT_EQ(again->device, "cuda:1");
}

TEST(SqliteStore, FailedTrialKeepsItsReasonAndStateRulesHold) {
  TempDir d;
  SqliteStore s((d / "f.db").string(), true);
  const int64_t search = make_search(s);
  const int64_t id = s.add_trial(trial(search, 0, {}));
  EXPECT_NE(error_of([&] { s.finish(id, TrialResult{}); }).find("cannot finish trial " + std::to_string(id) + ": it is queued"),
            std::string::npos);
  ASSERT_TRUE(s.claim_next(search, "cpu:0"));
  s.fail(id, "diverged at epoch 3, step 17", {{"loss", "nan"}});
  const auto t = s.get_trial(id);
  EXPECT_EQ(t.state, TrialState::Failed);
  EXPECT_EQ(t.error, "diverged at epoch 3, step 17");
  EXPECT_FALSE(s.claim_next(search, "cpu:0"));
  EXPECT_NE(error_of([&] { s.get_trial(999); }).find("has no trial 999"), std::string::npos);
  EXPECT_NE(error_of([&] { s.fail(999, "x", {}); }).find("has no trial 999"), std::string::npos);
  // Only a running trial can fail: a failed or done one keeps its record.
  EXPECT_NE(error_of([&] { s.fail(id, "again", {}); }).find("cannot fail trial " + std::to_string(id) + ": it is failed"),
            std::string::npos);
  EXPECT_EQ(s.get_trial(id).error, "diverged at epoch 3, step 17");
  const int64_t done = s.add_trial(trial(search, 0, {}));
  ASSERT_TRUE(s.claim_next(search, "cpu:0"));
  TrialResult r;
  r.val_acc = 0.5;
  s.finish(done, r);
  EXPECT_NE(error_of([&] { s.fail(done, "late", {}); }).find("it is done"), std::string::npos);
  EXPECT_EQ(s.get_trial(done).state, TrialState::Done);
  EXPECT_EQ(s.get_trial(done).val_acc, 0.5);
}

TEST(SqliteStore, PhiRoundTripAndCorruptionIsDetected) {
  TempDir d;
  const auto path = d / "p.db";
  SqliteStore s(path.string(), true);
  const int64_t search = make_search(s);
  const int64_t id = s.add_trial(trial(search, 0, {}));
  std::vector<uint8_t> phi(100000);
  for (size_t i = 0; i < phi.size(); ++i) phi[i] = static_cast<uint8_t>(i * 7 % 251);
  EXPECT_FALSE(s.get_phi(id));
  s.put_phi(id, phi);
  EXPECT_EQ(*s.get_phi(id), phi);
  raw_sql(path, "UPDATE phi SET crc32 = crc32 + 1");
  EXPECT_NE(error_of([&] { s.get_phi(id); }).find("is corrupt (CRC-32 mismatch)"), std::string::npos);
  raw_sql(path, "UPDATE phi SET data = x'00112233'");
  EXPECT_NE(error_of([&] { s.get_phi(id); }).find("is corrupt (cannot inflate"), std::string::npos);
}

TEST(SqliteStore, DamagedJsonNamesTheTrialAndColumn) {
  TempDir d;
  const auto path = d / "j.db";
  SqliteStore s(path.string(), true);
  const int64_t search = make_search(s);
  const int64_t id = s.add_trial(trial(search, 0, {{"a", 1}}));
  raw_sql(path, "UPDATE trials SET config = '{broken'");
  EXPECT_NE(error_of([&] { s.get_trial(id); }).find("trial " + std::to_string(id) + " config is not valid JSON"),
            std::string::npos);
}

TEST(SqliteStore, ForeignCorruptAndNewerFilesAreRejected) {
  TempDir d;
  // Missing file without create.
  EXPECT_NE(error_of([&] { SqliteStore s((d / "none.db").string(), false); }).find("does not exist"), std::string::npos);
  // Not a database at all.
  sparse::test::write_text(d / "text.db", std::string(5000, 'x'));
  const std::string not_db = error_of([&] { SqliteStore s((d / "text.db").string(), false); });
  EXPECT_NE(not_db.find("store '" + (d / "text.db").string() + "' is corrupt or not a SQLite database"), std::string::npos)
      << not_db;
  // A SQLite database of something else.
  raw_sql(d / "other.db", "CREATE TABLE songs(title TEXT)");
  EXPECT_NE(error_of([&] { SqliteStore s((d / "other.db").string(), false); }).find("not a SpArSe trial store"),
            std::string::npos);
  // A store from a newer engine.
  { SqliteStore s((d / "new.db").string(), true); }
  raw_sql(d / "new.db", "UPDATE meta SET value='99' WHERE key='schema_version'");
  EXPECT_NE(error_of([&] { SqliteStore s((d / "new.db").string(), false); }).find("has schema version 99, this engine reads"),
            std::string::npos);
  // A store cut short (a crash of the disk, a partial copy).
  {
    SqliteStore s((d / "cut.db").string(), true);
    const int64_t search = make_search(s);
    for (int i = 0; i < 300; ++i) s.add_trial(trial(search, 0, {{"payload", std::string(200, 'p')}}));
  }
  raw_sql(d / "cut.db", "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE");
  const auto size = std::filesystem::file_size(d / "cut.db");
  std::filesystem::resize_file(d / "cut.db", size / 2);
  const std::string cut = error_of([&] {
    SqliteStore s((d / "cut.db").string(), false);
    s.list_trials(1);
  });
  EXPECT_NE(cut.find("cut.db"), std::string::npos) << cut;
  EXPECT_NE(cut.find("corrupt"), std::string::npos) << cut;
}
