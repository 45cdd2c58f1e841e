// Crash safety and resume of `sparse search`: SIGKILL at random moments (at least five times), each followed by
// --resume; every trial ended before a kill stays unchanged, no trial is proposed twice, the search ends at its
// trial budget. Also: one interrupt lets running trials finish, a second re-queues them at once; a spent time
// budget ends the search and a resume starts nothing.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "host/search/search.hpp"
#include "tests/common/run_cli.hpp"
#include "tests/search/search_fixtures.hpp"

using namespace sparse;
using sparse::test::Child;
using sparse::test::TempDir;

namespace {

constexpr const char* kSession = "--devices cpu --cpu-workers 2 --threads 1 --heartbeat 0.3";

std::string new_search_args(const TempDir& d, const std::string& store, int trials, const std::string& extra = "") {
  return "search --store " + store + " " + test::search_data(1200) + " --space " + test::write_small_space(d) +
         " --objectives acc,ms,wm5 --trials " + std::to_string(trials) + " --epochs 3 --morph-epochs 1 --seed 11 " +
         kSession + " " + extra;
}

std::string resume_args(const std::string& store) { return "search --resume " + store + " " + kSession; }

struct Counts {
  bool has_search = false;
  int ended = 0, running_fresh = 0, total = 0;
};

// What the store says now; `since` selects running trials whose heartbeat is newer (i.e. of the current child).
Counts counts(const std::string& path, double since) {
  Counts c;
  if (!std::filesystem::exists(path)) return c;
  try {
    store::SqliteStore st(path, false);
    const auto searches = st.list_searches();
    if (searches.empty()) return c;
    c.has_search = true;
    for (const auto& t : st.list_trials(searches.front().id)) {
      ++c.total;
      c.ended += t.state == store::TrialState::Done || t.state == store::TrialState::Failed;
      c.running_fresh += t.state == store::TrialState::Running && t.heartbeat_at > since;
    }
  } catch (const std::exception&) {
    // the child is creating the file
  }
  return c;
}

// Waits until the child ended at least one more trial than `ended_before` and is running one; false if it exited.
// The store is opened only after the child printed its search header, i.e. after it created the file: opening a
// file that another process is just creating fails there with "database is locked" (see SqliteStore's open).
bool wait_for_progress(Child& c, const std::string& path, int ended_before, double spawn_time) {
  for (int i = 0; i < 3000 && c.running() && c.out().find(" search 1 in ") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  for (int i = 0; i < 3000 && c.running(); ++i) {
    const Counts k = counts(path, spawn_time);
    if (k.has_search && k.ended > ended_before && k.running_fresh > 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void expect_unchanged(const std::map<int64_t, test::EndedSnapshot>& before, store::TrialStore& st, int64_t id) {
  const auto now = test::snapshot_ended(st, id);
  for (const auto& [tid, snap] : before) {
    ASSERT_TRUE(now.count(tid)) << "trial " << tid << " ended before a kill and is no longer ended";
    EXPECT_EQ(now.at(tid).row, snap.row) << "trial " << tid << " changed after a kill";
    EXPECT_TRUE(now.at(tid).phi == snap.phi) << "φ of trial " << tid << " changed after a kill";
  }
}

}  // namespace

TEST(SearchResume, SurvivesSigkillAtRandomMomentsAndEndsAtItsBudget) {
  TempDir d;
  const std::string path = (d / "s.db").string();
  constexpr int kTrials = 30, kKills = 6;
  std::mt19937 rng(20240601u);
  std::map<int64_t, test::EndedSnapshot> ended;
  int kills = 0;
  for (int round = 0; kills < kKills; ++round) {
    ASSERT_LT(round, 20) << "the search kept finishing before it could be killed";
    const int ended_before = counts(path, 0).ended;
    const double spawn = store::unix_now();
    Child c(round == 0 ? new_search_args(d, path, kTrials) : resume_args(path), d / ("run" + std::to_string(round)));
    if (!wait_for_progress(c, path, ended_before, spawn)) {
      const int code = c.wait();
      ASSERT_EQ(code, 0) << c.err();
      break;  // the search completed before this kill; the final resume below must find it complete
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(rng)));
    {
      store::SqliteStore st(path, false);
      for (auto& [id, snap] : test::snapshot_ended(st, 1)) ended[id] = snap;
    }
    c.signal(SIGKILL);
    ASSERT_EQ(c.wait(), 128 + SIGKILL);
    ++kills;
    store::SqliteStore st(path, false);  // opens: the file is intact after the kill
    expect_unchanged(ended, st, 1);
  }
  EXPECT_GE(kills, 5);
  Child last(resume_args(path), d / "final");
  ASSERT_EQ(last.wait(), 0) << last.err();
  EXPECT_NE(last.out().find("search complete"), std::string::npos) << last.out();

  store::SqliteStore st(path, false);
  expect_unchanged(ended, st, 1);
  const auto trials = st.list_trials(1);
  ASSERT_EQ(static_cast<int>(trials.size()), kTrials);
  std::set<int64_t> ids, indices;
  int rerun = 0;
  for (const auto& t : trials) {
    EXPECT_TRUE(t.state == store::TrialState::Done || t.state == store::TrialState::Failed) << t.id;
    ids.insert(t.id);
    indices.insert(t.proposal["index"].get<int64_t>());
    rerun += t.attempts >= 2;
    if (t.state == store::TrialState::Done) {
      EXPECT_TRUE(st.get_phi(t.id).has_value()) << t.id;
    }
  }
  EXPECT_EQ(ids.size(), trials.size()) << "a trial id is duplicated";
  EXPECT_EQ(indices.size(), trials.size()) << "a proposal was made twice";
  EXPECT_EQ(*indices.rbegin(), kTrials - 1);
  EXPECT_GE(rerun, 1) << "no kill interrupted a running trial";
  std::printf("%d SIGKILLs, %zu trials ended before a kill and checked unchanged, %d trials re-run after a kill\n",
              kills, ended.size(), rerun);
  EXPECT_GT(ended.size(), 0u);
}

TEST(SearchResume, FirstInterruptFinishesRunningTrialsSecondRequeuesThem) {
  TempDir d;
  const std::string path = (d / "s.db").string();
  {
    Child c(new_search_args(d, path, 40), d / "soft");
    ASSERT_TRUE(wait_for_progress(c, path, 0, 0)) << c.err();
    c.signal(SIGINT);
    ASSERT_EQ(c.wait(), 0) << c.err();
    EXPECT_NE(c.out().find("search interrupted"), std::string::npos) << c.out();
    const Counts k = counts(path, 0);
    EXPECT_LT(k.ended, 40);
    EXPECT_EQ(k.ended, k.total) << "a running trial was left behind by a soft stop";
  }
  {
    const int before = counts(path, 0).ended;
    Child c(resume_args(path), d / "hard");
    ASSERT_TRUE(wait_for_progress(c, path, before, store::unix_now())) << c.err();
    c.signal(SIGINT);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    c.signal(SIGINT);
    ASSERT_EQ(c.wait(), 130) << c.err();
    store::SqliteStore st(path, false);
    const auto running = st.list_trials(1, store::TrialState::Running);
    EXPECT_TRUE(running.empty()) << "trial " << running.front().id << " still running after a hard stop";
    EXPECT_FALSE(st.list_trials(1, store::TrialState::Queued).empty()) << "the running trials were not re-queued";
  }
  Child c(resume_args(path), d / "end");
  ASSERT_EQ(c.wait(), 0) << c.err();
  store::SqliteStore st(path, false);
  EXPECT_EQ(st.list_trials(1).size(), 40u);
  EXPECT_TRUE(st.list_trials(1, store::TrialState::Queued).empty());
}

TEST(SearchResume, TimeBudgetEndsTheSearchAndAResumeStartsNothing) {
  TempDir d;
  const std::string path = (d / "s.db").string();
  const auto r = test::run_cli(new_search_args(d, path, 500, "--time 2s --json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["state"], "time budget spent");
  const int stored = j["trials"]["done"].get<int>() + j["trials"]["failed"].get<int>();
  EXPECT_GT(stored, 0);
  EXPECT_LT(stored, 500);
  EXPECT_EQ(j["trials"]["running"], 0);
  EXPECT_GE(j["elapsed_seconds"].get<double>(), 2.0);
  const auto again = test::run_cli(resume_args(path) + " --json");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto k = nlohmann::json::parse(again.out);
  EXPECT_EQ(k["state"], "time budget spent");
  EXPECT_EQ(k["trials"]["done"].get<int>() + k["trials"]["failed"].get<int>(), stored);
  store::SqliteStore st(path, false);
  EXPECT_EQ(static_cast<int>(st.list_trials(1).size()), stored + j["trials"]["queued"].get<int>());
}
