// StoreTest: a test run once per store implementation (SQLite file, PostgreSQL study in a fresh database of the test
// cluster), opening stores through open_store() as the commands do; PostgreSQL cases skip with the reason when the
// machine has no server binaries. Also the records the store tests write.
#pragma once
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>

#include "host/store/open_store.hpp"
#include "tests/common/temp_dir.hpp"
#include "tests/store/pg_test_env.hpp"

namespace sparse::test {

enum class Backend { Sqlite, Postgres };

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& i) {
  return i.param == Backend::Sqlite ? "sqlite" : "postgres";
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() != Backend::Postgres) return;
    const PgClusterInfo& pg = pg_cluster();
    if (!pg.skip_reason.empty()) GTEST_SKIP() << pg.skip_reason;
    db_ = std::make_unique<PgDatabase>(pg);
  }
  // The store of `study`: a file per study for SQLite, a study of one database for PostgreSQL.
  std::string location(const std::string& study = "s") const {
    return db_ ? db_->url(study) : (dir_ / (study + ".db")).string();
  }
  std::unique_ptr<store::TrialStore> open(bool create, const std::string& study = "s") const {
    return store::open_store(location(study), create);
  }
  // SQL behind the store's back: tables meta/trials/phi in SQLite, sparse_meta/sparse_trials/sparse_phi in PostgreSQL.
  void raw_sql(const std::string& sqlite_sql, const std::string& pg_sql, const std::string& study = "s") const {
    if (db_) {
      db_->exec(pg_sql);
      return;
    }
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(location(study).c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, sqlite_sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
    sqlite3_close(h);
  }

  TempDir dir_;
  std::unique_ptr<PgDatabase> db_;
};

inline int64_t make_search(store::TrialStore& s, uint64_t seed = 7) {
  store::SearchRecord r;
  r.dataset = "mnist";
  r.objectives = "acc,ms,wm5";
  r.seed = seed;
  r.budgets = {{"max_ms_bytes", 2048}};
  r.settings = {{"rho", {0.5, 0.7, 0.9}}};
  return s.create_search(r);
}

inline store::TrialRecord trial(int64_t search, int stage, nlohmann::json config) {
  store::TrialRecord t;
  t.search_id = search;
  t.stage = stage;
  t.config = std::move(config);
  return t;
}

// Every field of two trial records (times exactly: a copy keeps them).
inline void expect_same_trial(const store::TrialRecord& a, const store::TrialRecord& b) {
  SCOPED_TRACE("trial " + std::to_string(a.id));
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.search_id, b.search_id);
  EXPECT_EQ(a.stage, b.stage);
  EXPECT_EQ(a.reference_id, b.reference_id);
  EXPECT_EQ(a.config, b.config);
  EXPECT_EQ(a.morphs, b.morphs);
  EXPECT_EQ(a.proposal, b.proposal);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.device, b.device);
  EXPECT_EQ(a.worker, b.worker);
  EXPECT_EQ(a.stale_after, b.stale_after);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
  EXPECT_EQ(a.heartbeat_at, b.heartbeat_at);
  EXPECT_EQ(a.epochs, b.epochs);
  EXPECT_EQ(a.val_acc, b.val_acc);
  EXPECT_EQ(a.test_acc, b.test_acc);
  EXPECT_EQ(a.int8_acc, b.int8_acc);
  EXPECT_EQ(a.ms_bytes, b.ms_bytes);
  EXPECT_EQ(a.wm5_bytes, b.wm5_bytes);
  EXPECT_EQ(a.wm6_bytes, b.wm6_bytes);
  EXPECT_EQ(a.nonzeros, b.nonzeros);
  EXPECT_EQ(a.metrics, b.metrics);
  EXPECT_EQ(a.error, b.error);
}

}  // namespace sparse::test
