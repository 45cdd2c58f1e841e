// The TrialStore contract on every implementation (SQLite, PostgreSQL): round trips that survive reopening, each
// queued trial claimed exactly once by 8 connections at once, stale and explicit re-queues, state rules of
// finish/fail/requeue, φ integrity, damaged JSON named, and a newer schema refused.
#include <atomic>
#include <latch>
#include <mutex>
#include <set>
#include <thread>

#include "host/core/error.hpp"
#include "tests/common/error_of.hpp"
#include "tests/store/store_fixture.hpp"

using namespace sparse::store;
using namespace sparse::test;

using StoreContract = StoreTest;
INSTANTIATE_TEST_SUITE_P(store, StoreContract, ::testing::Values(Backend::Sqlite, Backend::Postgres), backend_name);

TEST_P(StoreContract, SearchAndTrialRoundTripSurvivesReopen) {
  int64_t search = 0, t1 = 0, t2 = 0;
  {
    auto s = open(true);
    search = make_search(*s);
    t1 = s->add_trial(trial(search, 0, {{"num_conv_blocks", 1}}));
    TrialRecord m = trial(search, 1, {{"num_conv_blocks", 2}});
    m.reference_id = t1;
    m.morphs = {"num-conv-blocks"};
    m.proposal = {{"lambda", {0.2, 0.8}}};
    t2 = s->add_trial(m);
    EXPECT_EQ(t2, t1 + 1);
    auto c = s->claim_next(search, "cpu:0");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->id, t1);
    EXPECT_EQ(c->state, TrialState::Running);
    EXPECT_EQ(c->attempts, 1);
    EXPECT_GT(c->started_at, 0);
    EXPECT_EQ(c->heartbeat_at, c->started_at);
    TrialResult r;
    r.epochs = 12;
    r.val_acc = 0.981;
    r.int8_acc = 0.1 + 0.2;  // a double that has no short decimal form comes back bit for bit
    r.ms_bytes = 1900;
    r.wm5_bytes = 1500;
    r.nonzeros = 1900;
    r.metrics = {{"layers", {{{"name", "conv1"}, {"nonzeros", 100}}}}};
    s->finish(t1, r);
  }
  auto s = open(false);
  const auto searches = s->list_searches();
  ASSERT_EQ(searches.size(), 1u);
  EXPECT_EQ(searches[0].id, search);
  EXPECT_EQ(searches[0].dataset, "mnist");
  EXPECT_EQ(searches[0].objectives, "acc,ms,wm5");
  EXPECT_EQ(searches[0].seed, 7u);
  EXPECT_EQ(searches[0].budgets["max_ms_bytes"], 2048);
  EXPECT_EQ(searches[0].settings["rho"][2], 0.9);
  EXPECT_GT(searches[0].created_at, 1.6e9);
  const auto a = s->get_trial(t1);
  EXPECT_EQ(a.state, TrialState::Done);
  EXPECT_EQ(a.device, "cpu:0");
  EXPECT_EQ(a.attempts, 1);
  EXPECT_EQ(a.epochs, 12);
  EXPECT_DOUBLE_EQ(*a.val_acc, 0.981);
  EXPECT_EQ(*a.int8_acc, 0.1 + 0.2);
  EXPECT_FALSE(a.test_acc.has_value());
  EXPECT_FALSE(a.wm6_bytes.has_value());
  EXPECT_EQ(*a.ms_bytes, 1900);
  EXPECT_EQ(a.metrics["layers"][0]["nonzeros"], 100);
  EXPECT_GE(a.finished_at, a.started_at);
  const auto b = s->get_trial(t2);
  EXPECT_EQ(b.state, TrialState::Queued);
  EXPECT_EQ(*b.reference_id, t1);
  EXPECT_EQ(b.morphs[0], "num-conv-blocks");
  EXPECT_EQ(b.proposal["lambda"][1], 0.8);
  EXPECT_EQ(b.started_at, 0);
  EXPECT_EQ(b.device, "");
  EXPECT_EQ(s->list_trials(search).size(), 2u);
  EXPECT_EQ(s->list_trials(search, TrialState::Done).size(), 1u);
  EXPECT_EQ(s->list_trials(search, TrialState::Queued).at(0).id, t2);
}

TEST_P(StoreContract, EachTrialIsClaimedOnceByEightConnections) {
  auto a = open(true);
  const int64_t search = make_search(*a);
  const int n = 50, workers = 8;
  for (int i = 0; i < n; ++i) a->add_trial(trial(search, 0, {{"i", i}}));
  std::vector<std::unique_ptr<TrialStore>> conns;
  for (int w = 0; w < workers; ++w) conns.push_back(open(false));  // one connection each, as processes have
  std::mutex mu;
  std::multiset<int64_t> claimed;
  std::vector<std::string> errors;
  std::latch go(workers);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      go.arrive_and_wait();
      try {
        while (auto t = conns[static_cast<size_t>(w)]->claim_next(search, "cpu:" + std::to_string(w))) {
          conns[static_cast<size_t>(w)]->finish(t->id, TrialResult{});
          std::lock_guard<std::mutex> lock(mu);
          claimed.insert(t->id);
        }
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        errors.push_back(e.what());
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(claimed.size(), static_cast<size_t>(n));
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()).size(), static_cast<size_t>(n));
  const auto done = a->list_trials(search, TrialState::Done);
  EXPECT_EQ(done.size(), static_cast<size_t>(n));
  for (const auto& t : done) EXPECT_EQ(t.attempts, 1) << t.id;
}

TEST_P(StoreContract, StaleRunningTrialsAreRequeued) {
  auto s = open(true);
  const int64_t search = make_search(*s);
  const int64_t id = s->add_trial(trial(search, 0, {}));
  ASSERT_TRUE(s->claim_next(search, "cuda:0"));
  EXPECT_EQ(s->requeue_stale(search, 3600), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const double before = s->get_trial(id).heartbeat_at;
  s->heartbeat(id);
  EXPECT_GT(s->get_trial(id).heartbeat_at, before);
  EXPECT_EQ(s->requeue_stale(search, 10), 0);  // fresh heartbeat
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(s->requeue_stale(search, 0.01), 1);
  const auto t = s->get_trial(id);
  EXPECT_EQ(t.state, TrialState::Queued);
  EXPECT_EQ(t.device, "");
  const auto again = s->claim_next(search, "cuda:1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempts, 2);
  EXPECT_EQ(again->device, "cuda:1");
}

TEST_P(StoreContract, RequeueReturnsOnlyARunningTrialToTheQueue) {
  auto s = open(true);
  const int64_t search = make_search(*s);
  const int64_t first = s->add_trial(trial(search, 0, {}));
  const int64_t second = s->add_trial(trial(search, 0, {}));
  EXPECT_NE(error_of([&] { s->requeue(first); }).find("cannot requeue trial " + std::to_string(first) + ": it is queued"),
            std::string::npos);
  ASSERT_EQ(s->claim_next(search, "cuda:0")->id, first);
  const double hb = s->get_trial(second).heartbeat_at;
  s->heartbeat(second);  // not running: nothing changes
  EXPECT_EQ(s->get_trial(second).heartbeat_at, hb);
  s->requeue(first);
  EXPECT_EQ(s->get_trial(first).state, TrialState::Queued);
  EXPECT_EQ(s->get_trial(first).device, "");
  const auto again = s->claim_next(search, "cuda:1");  // the oldest queued trial again
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, first);
  EXPECT_EQ(again->attempts, 2);
  EXPECT_NE(error_of([&] { s->requeue(999); }).find("has no trial 999"), std::string::npos);
}

TEST_P(StoreContract, FailedTrialKeepsItsReasonAndStateRulesHold) {
  auto s = open(true);
  const int64_t search = make_search(*s);
  const int64_t id = s->add_trial(trial(search, 0, {}));
  EXPECT_NE(error_of([&] { s->finish(id, TrialResult{}); }).find("cannot finish trial " + std::to_string(id) + ": it is queued"),
            std::string::npos);
  ASSERT_TRUE(s->claim_next(search, "cpu:0"));
  s->fail(id, "diverged at epoch 3, step 17", {{"loss", "nan"}});
  const auto t = s->get_trial(id);
  EXPECT_EQ(t.state, TrialState::Failed);
  EXPECT_EQ(t.error, "diverged at epoch 3, step 17");
  EXPECT_EQ(t.metrics["loss"], "nan");
  EXPECT_FALSE(s->claim_next(search, "cpu:0"));
  EXPECT_NE(error_of([&] { s->get_trial(999); }).find("has no trial 999"), std::string::npos);
  EXPECT_NE(error_of([&] { s->fail(999, "x", {}); }).find("has no trial 999"), std::string::npos);
  EXPECT_NE(error_of([&] { s->fail(id, "again", {}); }).find("cannot fail trial " + std::to_string(id) + ": it is failed"),
            std::string::npos);
  EXPECT_EQ(s->get_trial(id).error, "diverged at epoch 3, step 17");
  const int64_t done = s->add_trial(trial(search, 0, {}));
  ASSERT_TRUE(s->claim_next(search, "cpu:0"));
  TrialResult r;
  r.val_acc = 0.5;
  s->finish(done, r);
  EXPECT_NE(error_of([&] { s->fail(done, "late", {}); }).find("it is done"), std::string::npos);
  EXPECT_NE(error_of([&] { s->finish(done, r); }).find("cannot finish trial " + std::to_string(done) + ": it is done"),
            std::string::npos);
  EXPECT_EQ(s->get_trial(done).state, TrialState::Done);
  EXPECT_EQ(s->get_trial(done).val_acc, 0.5);
}

TEST_P(StoreContract, SearchesAreListedUpdatedAndKeepTheirTrials) {
  auto s = open(true);
  const int64_t one = make_search(*s, 1), two = make_search(*s, 2);
  EXPECT_EQ(two, one + 1);
  const int64_t t1 = s->add_trial(trial(one, 0, {{"x", 1}}));
  const int64_t t2 = s->add_trial(trial(two, 0, {{"x", 2}}));
  ASSERT_EQ(s->list_trials(one).size(), 1u);
  EXPECT_EQ(s->list_trials(one)[0].id, t1);
  EXPECT_EQ(s->list_trials(two)[0].id, t2);
  EXPECT_EQ(s->claim_next(one, "cpu:0")->id, t1);
  EXPECT_FALSE(s->claim_next(one, "cpu:0"));  // search two's trial is not search one's
  SearchRecord r = s->get_search(one);
  r.budgets["time_seconds"] = 3600;
  r.settings["note"] = "resumed";
  s->update_search(r);
  EXPECT_EQ(s->get_search(one).budgets["time_seconds"], 3600);
  EXPECT_EQ(s->get_search(one).settings["note"], "resumed");
  EXPECT_FALSE(s->get_search(two).budgets.contains("time_seconds"));
  r.seed = 99;  // a record of another search
  EXPECT_NE(error_of([&] { s->update_search(r); }).find("has no search " + std::to_string(one) + " with dataset mnist"),
            std::string::npos);
  EXPECT_NE(error_of([&] { s->get_search(77); }).find("has no search 77"), std::string::npos);
  const auto all = s->list_searches();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].seed, 1u);
  EXPECT_EQ(all[1].seed, 2u);
}

TEST_P(StoreContract, PhiRoundTripAndCorruptionIsDetected) {
  auto s = open(true);
  const int64_t search = make_search(*s);
  const int64_t id = s->add_trial(trial(search, 0, {}));
  ASSERT_TRUE(s->claim_next(search, "cpu:0"));  // a running trial's holder may write φ again
  std::vector<uint8_t> phi(100000);
  for (size_t i = 0; i < phi.size(); ++i) phi[i] = static_cast<uint8_t>(i * 7 % 251);
  EXPECT_FALSE(s->get_phi(id));
  s->put_phi(id, {1, 2, 3});
  s->put_phi(id, phi);  // replaces
  EXPECT_EQ(*s->get_phi(id), phi);
  s->put_phi(id, {});
  EXPECT_EQ(s->get_phi(id)->size(), 0u);
  s->put_phi(id, phi);
  raw_sql("UPDATE phi SET crc32 = crc32 + 1", "UPDATE sparse_phi SET crc32 = crc32 + 1");
  const std::string crc = error_of([&] { s->get_phi(id); });
  EXPECT_NE(crc.find("is corrupt (CRC-32 mismatch)"), std::string::npos) << crc;
  EXPECT_NE(crc.find("φ of trial " + std::to_string(id)), std::string::npos) << crc;
  raw_sql("UPDATE phi SET data = x'00112233'", "UPDATE sparse_phi SET data = '\\x00112233'::bytea");
  EXPECT_NE(error_of([&] { s->get_phi(id); }).find("is corrupt (cannot inflate"), std::string::npos);
}

TEST_P(StoreContract, DamagedJsonNamesTheTrialAndColumn) {
  auto s = open(true);
  const int64_t search = make_search(*s);
  const int64_t id = s->add_trial(trial(search, 0, {{"a", 1}}));
  raw_sql("UPDATE trials SET config = '{broken'", "UPDATE sparse_trials SET config = '{broken'");
  const std::string e = error_of([&] { s->get_trial(id); });
  EXPECT_NE(e.find("trial " + std::to_string(id) + " config is not valid JSON"), std::string::npos) << e;
  EXPECT_NE(e.find("store '"), std::string::npos) << e;
}

TEST_P(StoreContract, NewerSchemaIsRefusedNamingBothVersions) {
  { open(true); }
  raw_sql("UPDATE meta SET value='99' WHERE key='schema_version'",
          "UPDATE sparse_meta SET value='99' WHERE key='schema_version'");
  const std::string e = error_of([&] { open(false); });
  EXPECT_NE(e.find("has schema version 99, this engine reads versions 1 to 3"), std::string::npos) << e;
  EXPECT_NE(e.find("store '" + store_label(location()) + "'"), std::string::npos) << e;  // password redacted
}
