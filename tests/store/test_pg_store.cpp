// PgStore beyond the shared contract: studies in one database never see each other; a missing store or study, a wrong
// password, a missing database and a missing password each give their own message naming the store without its
// password; concurrent first opens create the schema once; text PostgreSQL would refuse still reaches the store.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "host/core/error.hpp"
#include "host/store/pg_schema.hpp"
#include "host/store/pg_store.hpp"
#include "tests/common/error_of.hpp"
#include "tests/store/store_fixture.hpp"

using namespace sparse::store;
using namespace sparse::test;

using PgStoreTest = StoreTest;
INSTANTIATE_TEST_SUITE_P(store, PgStoreTest, ::testing::Values(Backend::Postgres), backend_name);

TEST_P(PgStoreTest, TwoStudiesInOneDatabaseAreIsolated) {
  auto a = open(true, "alpha");
  auto b = open(true, "beta");
  const int64_t sa = make_search(*a, 1), sb = make_search(*b, 2);
  EXPECT_EQ(sa, 1);  // each study numbers from 1, as a SQLite file does
  EXPECT_EQ(sb, 1);
  const int64_t ta = a->add_trial(trial(sa, 0, {{"study", "alpha"}}));
  a->add_trial(trial(sa, 0, {{"study", "alpha"}}));
  const int64_t tb = b->add_trial(trial(sb, 0, {{"study", "beta"}}));
  EXPECT_EQ(ta, 1);
  EXPECT_EQ(tb, 1);
  a->put_phi(ta, {1, 2, 3});
  EXPECT_FALSE(b->get_phi(tb));
  ASSERT_EQ(a->list_searches().size(), 1u);
  EXPECT_EQ(a->list_searches()[0].seed, 1u);
  EXPECT_EQ(b->list_searches()[0].seed, 2u);
  EXPECT_EQ(a->list_trials(sa).size(), 2u);
  ASSERT_EQ(b->list_trials(sb).size(), 1u);
  EXPECT_EQ(b->get_trial(tb).config["study"], "beta");
  EXPECT_NE(error_of([&] { b->get_trial(2); }).find("has no trial 2"), std::string::npos);
  // Claims, stale re-queues and state changes stay in their study.
  const auto claimed = b->claim_next(sb, "cuda:0");
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->config["study"], "beta");
  EXPECT_EQ(a->list_trials(sa, TrialState::Queued).size(), 2u);
  EXPECT_EQ(a->requeue_stale(sa, 0), 0);
  EXPECT_NE(error_of([&] { a->finish(tb, TrialResult{}); }).find("cannot finish trial 1: it is queued"), std::string::npos);
  b->finish(tb, TrialResult{});
  EXPECT_EQ(a->get_trial(ta).state, TrialState::Queued);
  EXPECT_EQ(b->get_trial(tb).state, TrialState::Done);
  // The study is the URL's; none given means "default".
  EXPECT_EQ(dynamic_cast<PgStore&>(*a).study(), "alpha");
  PgStore d(db_->url(""), true);
  EXPECT_EQ(d.study(), "default");
  EXPECT_TRUE(d.list_searches().empty());
}

TEST_P(PgStoreTest, AMissingStoreOrStudyIsNamed) {
  const std::string none = error_of([&] { open(false, "alpha"); });
  EXPECT_NE(none.find("database '" + db_->name() + "' holds no SpArSe trial store"), std::string::npos) << none;
  { open(true, "alpha"); }
  const std::string study = error_of([&] { open(false, "gamma"); });
  EXPECT_NE(study.find("study 'gamma' does not exist in database '" + db_->name() + "' (its studies: alpha)"),
            std::string::npos)
      << study;
  EXPECT_EQ(study.find(kPgPassword), std::string::npos) << study;
}

TEST_P(PgStoreTest, WrongPasswordMissingDatabaseAndNoPasswordEachSaySo) {
  const PgClusterInfo& pg = pg_cluster();
  const std::string wrong = pg_url(pg, db_->name(), "s", kPgUser, "not-the-password");
  const std::string auth = error_of([&] { open_store(wrong, true); });
  EXPECT_NE(auth.find("authentication failed for user '" + std::string(kPgUser) + "'"), std::string::npos) << auth;
  EXPECT_NE(auth.find("127.0.0.1:" + std::to_string(pg.port)), std::string::npos) << auth;
  EXPECT_NE(auth.find(":***@"), std::string::npos) << auth;
  EXPECT_EQ(auth.find("not-the-password"), std::string::npos) << auth;

  const std::string nodb = error_of([&] { open_store(pg_url(pg, "no_such_db", "s"), true); });
  EXPECT_NE(nodb.find("database 'no_such_db' does not exist on the PostgreSQL server at 127.0.0.1:"), std::string::npos)
      << nodb;
  EXPECT_EQ(nodb.find(kPgPassword), std::string::npos) << nodb;

  // No password anywhere (libpq would also read PGPASSWORD and ~/.pgpass: only checked where neither is set).
  const char* home = std::getenv("HOME");
  if (std::getenv("PGPASSWORD") == nullptr && std::getenv("PGPASSFILE") == nullptr &&
      !(home && std::filesystem::exists(std::string(home) + "/.pgpass"))) {
    const std::string missing = error_of([&] { open_store(pg_url(pg, db_->name(), "s", kPgUser, ""), true); });
    EXPECT_NE(missing.find("asks user '" + std::string(kPgUser) + "' for a password and none was given"),
              std::string::npos)
        << missing;
  }
}

TEST_P(PgStoreTest, ConcurrentFirstOpensCreateTheSchemaOnce) {
  std::vector<std::string> errors(6);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < errors.size(); ++i)
    threads.emplace_back([&, i] { errors[i] = error_of([&] { open(true, i % 2 ? "odd" : "even"); }); });
  for (auto& t : threads) t.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  PgStore s(location("odd"), false);
  EXPECT_EQ(s.schema_version(), sparse::store::kPgSchemaVersion);
  EXPECT_EQ(make_search(s), 1);
}

TEST_P(PgStoreTest, TextPostgresqlWouldRefuseStillReachesTheStore) {
  auto s = open(true);
  const int64_t search = make_search(*s);
  const int64_t id = s->add_trial(trial(search, 0, {{"name", "caf\xc3\xa9"}}));
  ASSERT_TRUE(s->claim_next(search, "cpu:0"));
  s->fail(id, std::string("bad byte \xff and a NUL \0 here", 27));
  const auto t = s->get_trial(id);
  EXPECT_EQ(t.error, "bad byte \xef\xbf\xbd and a NUL \xef\xbf\xbd here");
  EXPECT_EQ(t.config["name"], "caf\xc3\xa9");
}

TEST_P(PgStoreTest, TimesAreUnixSecondsOfTheServerClock) {
  auto s = open(true);
  const int64_t search = make_search(*s);
  const int64_t id = s->add_trial(trial(search, 0, {}));
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(s->get_trial(id).created_at, now, 60);  // the test server runs on this machine
}

TEST_P(PgStoreTest, AVersionOneDatabaseGainsTheWorkerAndStalenessColumns) {
  int64_t id = 0;
  {
    auto s = open(true);
    const int64_t search = make_search(*s);
    id = s->add_trial(trial(search, 0, {{"x", 1}}));
  }
  // What schema version 1 looked like: no worker or stale_after column.
  db_->exec(
      "ALTER TABLE sparse_trials DROP COLUMN worker; ALTER TABLE sparse_trials DROP COLUMN stale_after; "
      "UPDATE sparse_meta SET value='1' WHERE key='schema_version'");
  PgStore s(location(), false);
  EXPECT_EQ(s.schema_version(), 3);
  EXPECT_EQ(s.get_trial(id).stale_after, 0);
  EXPECT_EQ(s.get_trial(id).worker, "");
  EXPECT_EQ(s.claim_next(1, "cpu:0")->worker, s.worker_id());
}
