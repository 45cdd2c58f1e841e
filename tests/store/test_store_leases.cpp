// Leases on either store: two store objects on one study act as two processes; a stale trial re-queued and claimed
// again is finished once, by its last claimant; the study-wide trial budget holds under concurrent adds; a
// version-1 SQLite store gains the worker column when opened.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "host/store/sqlite_store.hpp"
#include "tests/common/error_of.hpp"
#include "tests/store/store_fixture.hpp"

using namespace sparse::store;
using sparse::test::Backend;
using sparse::test::error_of;
using sparse::test::make_search;
using sparse::test::TempDir;

namespace {

TrialRecord trial(int64_t search, int x) { return sparse::test::trial(search, 0, {{"x", x}}); }

void go_stale() { std::this_thread::sleep_for(std::chrono::milliseconds(30)); }

}  // namespace

using StoreLeases = sparse::test::StoreTest;
INSTANTIATE_TEST_SUITE_P(store, StoreLeases, ::testing::Values(Backend::Sqlite, Backend::Postgres),
                         sparse::test::backend_name);

TEST_P(StoreLeases, EachStoreObjectIsItsOwnWorker) {
  const auto pa = open(true), pb = open(false);
  TrialStore &a = *pa, &b = *pb;
  EXPECT_NE(a.worker_id(), b.worker_id());
  // host:pid:nonce
  const auto& w = a.worker_id();
  ASSERT_EQ(std::count(w.begin(), w.end(), ':'), 2) << w;
  EXPECT_NE(w.find(":" + std::to_string(::getpid()) + ":"), std::string::npos) << w;
  const int64_t search = make_search(a);
  a.add_trial(trial(search, 0));
  const auto t = a.claim_next(search, "cpu:0");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->worker, a.worker_id());
  EXPECT_EQ(b.get_trial(t->id).worker, a.worker_id());
  // Another worker cannot end a trial it did not claim.
  const std::string e = error_of([&] { b.finish(t->id, TrialResult{}); });
  EXPECT_NE(e.find("cannot finish trial " + std::to_string(t->id)), std::string::npos) << e;
  EXPECT_NE(e.find("did not claim it"), std::string::npos) << e;
  EXPECT_THROW(b.fail(t->id, "x"), LeaseLost);
  EXPECT_THROW(b.requeue(t->id), LeaseLost);
  EXPECT_THROW(b.put_phi(t->id, {1, 2, 3}), LeaseLost);
  a.finish(t->id, TrialResult{});
  EXPECT_EQ(a.get_trial(t->id).state, TrialState::Done);
  EXPECT_EQ(a.get_trial(t->id).worker, a.worker_id());  // who finished it stays on record
}

TEST_P(StoreLeases, AStaleTrialIsFinishedOnceByItsLastClaimant) {
  const auto pa = open(true), pb = open(false);
  TrialStore &a = *pa, &b = *pb;
  const int64_t search = make_search(a);
  const int64_t id = a.add_trial(trial(search, 1));
  ASSERT_TRUE(a.claim_next(search, "cuda:0"));
  go_stale();
  EXPECT_EQ(b.requeue_stale(search, 0.01), 1);
  EXPECT_EQ(a.requeue_stale(search, 0.01), 0);  // exactly once: nothing left to re-queue
  // A's late heartbeat does not revive the trial.
  a.heartbeat(id);
  EXPECT_EQ(b.get_trial(id).state, TrialState::Queued);
  const auto again = b.claim_next(search, "cuda:1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempts, 2);
  EXPECT_EQ(again->worker, b.worker_id());
  // A's stale outcome is refused with the reason and writes nothing.
  const std::string e = error_of([&] { a.put_phi(id, {9, 9}); });
  EXPECT_NE(e.find("lost its lease"), std::string::npos) << e;
  EXPECT_NE(e.find("attempt 2"), std::string::npos) << e;
  EXPECT_NE(e.find(b.worker_id()), std::string::npos) << e;
  EXPECT_THROW(a.finish(id, TrialResult{}), LeaseLost);
  EXPECT_THROW(a.fail(id, "late"), LeaseLost);
  EXPECT_FALSE(b.get_phi(id));
  TrialResult r;
  r.val_acc = 0.9;
  b.put_phi(id, {1, 2});
  b.finish(id, r);
  const auto t = a.get_trial(id);
  EXPECT_EQ(t.state, TrialState::Done);
  EXPECT_EQ(t.worker, b.worker_id());
  EXPECT_DOUBLE_EQ(*t.val_acc, 0.9);
  EXPECT_EQ(*a.get_phi(id), (std::vector<uint8_t>{1, 2}));
}

TEST_P(StoreLeases, LostLeaseWhileQueuedIsReportedAsLost) {
  const auto pa = open(true), pb = open(false);
  TrialStore &a = *pa, &b = *pb;
  const int64_t search = make_search(a);
  const int64_t id = a.add_trial(trial(search, 1));
  ASSERT_TRUE(a.claim_next(search, "cpu:0"));
  go_stale();
  ASSERT_EQ(b.requeue_stale(search, 0.01), 1);
  const std::string e = error_of([&] { a.finish(id, TrialResult{}); });
  EXPECT_NE(e.find("now queued"), std::string::npos) << e;
  // The lease is gone for good: the trial is now an ordinary queued trial to this worker.
  const std::string again = error_of([&] { a.requeue(id); });
  EXPECT_NE(again.find("it is queued, expected running"), std::string::npos) << again;
  EXPECT_EQ(b.get_trial(id).state, TrialState::Queued);
}

TEST_P(StoreLeases, AFinishedTrialsPhiIsNeverReplaced) {
  const auto pa = open(true);
  TrialStore& a = *pa;
  const int64_t search = make_search(a);
  const int64_t done = a.add_trial(trial(search, 1)), copied = a.add_trial(trial(search, 2));
  ASSERT_TRUE(a.claim_next(search, "cpu:0"));
  a.put_phi(done, {1});
  a.put_phi(done, {2});  // the holder may write again while running (a retry after a crash before finish)
  a.finish(done, TrialResult{});
  const std::string e = error_of([&] { a.put_phi(done, {3}); });
  EXPECT_NE(e.find("already stored"), std::string::npos) << e;
  EXPECT_EQ(*a.get_phi(done), (std::vector<uint8_t>{2}));
  a.put_phi(copied, {4});  // a queued trial without φ takes it (a store copy)
  EXPECT_EQ(*a.get_phi(copied), (std::vector<uint8_t>{4}));
}

TEST_P(StoreLeases, EachTrialNumberLandsOnceAcrossProcesses) {
  int64_t search = 0;
  {
    const auto s = open(true);
    search = make_search(*s);
  }
  // Four processes propose trial number "what they last saw" until the search holds 7: every number lands once.
  std::atomic<int> added{0}, refused{0};
  std::vector<std::thread> ts;
  for (int w = 0; w < 4; ++w)
    ts.emplace_back([&, w] {
      const auto s = open(false);
      for (int i = 0; i < 20; ++i) {
        const auto n = static_cast<int64_t>(s->list_trials(search).size());
        if (n >= 7) break;
        if (s->add_trial_at(trial(search, w * 100 + i), n))
          ++added;
        else
          ++refused;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(added.load(), 7);
  const auto s = open(false);
  EXPECT_EQ(s->list_trials(search).size(), 7u);
  EXPECT_FALSE(s->add_trial_at(trial(search, 99), 6));  // stale: the search already holds 7
  EXPECT_FALSE(s->add_trial_at(trial(search, 99), 8));  // a gap is refused too
  EXPECT_TRUE(s->add_trial_at(trial(search, 99), 7));
  EXPECT_EQ(s->list_trials(search).size(), 8u);
}

TEST(StoreLeasesSqlite, AVersionOneStoreGainsTheWorkerAndStalenessColumns) {
  TempDir d;
  const auto path = (d / "v1.db").string();
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &h), SQLITE_OK);
  const char* v1 = R"SQL(
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
      error TEXT NOT NULL DEFAULT '');
    CREATE TABLE phi(trial_id INTEGER PRIMARY KEY REFERENCES trials(id), raw_bytes INTEGER NOT NULL,
      crc32 INTEGER NOT NULL, data BLOB NOT NULL);
    INSERT INTO meta VALUES ('schema_version', '1');
    INSERT INTO searches VALUES (1, 'mnist', 'acc,ms', 3, '{}', '{}', 10.0);
    INSERT INTO trials(id, search_id, stage, config, morphs, proposal, state, created_at, val_acc)
      VALUES (1, 1, 0, '{"x":1}', '[]', '{}', 'done', 11.0, 0.5);
  )SQL";
  ASSERT_EQ(sqlite3_exec(h, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
  sqlite3_close(h);
  SqliteStore s(path, false);
  EXPECT_EQ(s.schema_version(), 3);
  EXPECT_EQ(s.get_trial(1).stale_after, 0);
  const auto t = s.get_trial(1);
  EXPECT_EQ(t.worker, "");
  EXPECT_DOUBLE_EQ(*t.val_acc, 0.5);
  s.add_trial(trial(1, 2));
  EXPECT_EQ(s.claim_next(1, "cpu:0")->worker, s.worker_id());
}

TEST_P(StoreLeases, ATrialIsJudgedByItsClaimantsHeartbeatNotTheCheckers) {
  const auto pa = open(true), pb = open(false);
  TrialStore &a = *pa, &b = *pb;
  const int64_t search = make_search(a);
  const int64_t slow = a.add_trial(trial(search, 1)), quick = a.add_trial(trial(search, 2));
  a.set_stale_after(600);  // a worker that heartbeats every 200 s
  ASSERT_EQ(a.claim_next(search, "cuda:0")->stale_after, 600);
  b.set_stale_after(0.01);
  ASSERT_EQ(b.claim_next(search, "cuda:1")->id, quick);
  go_stale();
  // b's own limit (0.01 s) would take a's trial: a's recorded 600 s keeps it; b's own stale trial goes back.
  EXPECT_EQ(b.requeue_stale(search, 0.01), 1);
  EXPECT_EQ(b.get_trial(slow).state, TrialState::Running);
  EXPECT_EQ(b.get_trial(quick).state, TrialState::Queued);
  EXPECT_THROW(b.set_stale_after(0), sparse::Error);
}

TEST_P(StoreLeases, OneWorkerHoldsTheProposalTurnUntilItReleasesOrCloses) {
  auto a = open(true);
  const int64_t search = make_search(*a);
  auto b = open(false);
  ASSERT_TRUE(a->try_proposal_turn(search));
  EXPECT_TRUE(a->try_proposal_turn(search));  // already its own
  EXPECT_FALSE(b->try_proposal_turn(search));
  a->release_proposal_turn(search);
  EXPECT_TRUE(b->try_proposal_turn(search));
  EXPECT_FALSE(a->try_proposal_turn(search));
  b.reset();  // a worker that ends (or dies: its connection or file closes) gives the turn back
  // (PostgreSQL: once the server has ended the closed connection's backend, a moment later)
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool got = a->try_proposal_turn(search);
  while (!got && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    got = a->try_proposal_turn(search);
  }
  EXPECT_TRUE(got);
  a->release_proposal_turn(search);
  a->release_proposal_turn(search);  // releasing a turn not held is a no-op
}
