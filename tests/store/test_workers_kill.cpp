// Workers that join and die: one study on PostgreSQL with 3 worker processes and one on SQLite with 2, random workers
// SIGKILLed at random moments (>= 5 kills over both) and a new worker started for each; at the end every trial is done
// exactly once (each ended-trial line appears in one worker's log, and the store names that worker as its holder),
// none lost, the trial budget held, and the Pareto front the same from either store after `sparse store copy`.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <thread>

#include "tests/common/run_cli.hpp"
#include "tests/search/search_fixtures.hpp"
#include "tests/store/store_fixture.hpp"

using namespace sparse::test;
using sparse::store::TrialState;

namespace {

constexpr int kPgWorkers = 3, kSqliteWorkers = 2, kMinKills = 5;

// One study and the worker processes that ever ran on it.
struct Study {
  Study(std::string n, std::string u, int t) : name(std::move(n)), url(std::move(u)), trials(t) {}
  std::string name, url;
  int trials = 0;
  std::vector<std::unique_ptr<Child>> workers;
  int kills = 0;

  std::vector<Child*> running() {
    std::vector<Child*> r;
    for (auto& w : workers)
      if (w->running()) r.push_back(w.get());
    return r;
  }
};

std::string session_flags() { return "--devices cpu --cpu-workers 1 --threads 1 --heartbeat 0.4"; }

// The store once its search exists (the first process creates it), else nullptr.
std::unique_ptr<sparse::store::TrialStore> open_when_ready(const std::string& url) {
  try {
    auto s = sparse::store::open_store(url, false);
    if (!s->list_searches().empty()) return s;
  } catch (const std::exception&) {
  }
  return nullptr;
}

// "worker host:pid:nonce" and the ids of the "trial N ..." lines of a worker's stdout.
struct WorkerLog {
  std::string worker;
  std::vector<int64_t> ended;
};

WorkerLog parse_log(const std::string& out) {
  WorkerLog log;
  static const std::regex worker_line(R"(^worker (\S+)$)"), trial_line(R"(^trial +(\d+) +stage)");
  std::istringstream in(out);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, worker_line)) log.worker = m[1];
    if (std::regex_search(line, m, trial_line)) log.ended.push_back(std::stoll(m[1]));
  }
  return log;
}

}  // namespace

using WorkersKill = StoreTest;
INSTANTIATE_TEST_SUITE_P(store, WorkersKill, ::testing::Values(Backend::Postgres), backend_name);

TEST_P(WorkersKill, EveryTrialIsDoneOnceWhileWorkersAreKilledAndReplaced) {
  const std::string space = write_small_space(dir_);
  Study pg{"pg", location("kill"), 40}, lite{"sqlite", (dir_ / "kill.db").string(), 30};
  std::vector<Study*> studies = {&pg, &lite};
  const unsigned seed = static_cast<unsigned>(std::random_device{}());
  SCOPED_TRACE("kill schedule seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  int spawned = 0;
  auto spawn = [&](Study& s, const std::string& args) {
    s.workers.push_back(std::make_unique<Child>(args, dir_ / (s.name + "-" + std::to_string(spawned++))));
  };

  // The first process of each study creates its search; the others join it with `sparse worker`. Trials of about a
  // second (3,000 images, 3 epochs) leave time to kill workers in the middle of them.
  for (Study* s : studies)
    spawn(*s, "search --store " + s->url + " " + search_data(3000) + " --space " + space +
                  " --objectives acc,ms --trials " + std::to_string(s->trials) + " --initial 4 --epochs 3 " +
                  "--morph-epochs 2 --no-int8 --seed 5 " + session_flags());
  const auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  for (Study* s : studies) {
    while (!open_when_ready(s->url)) {
      ASSERT_TRUE(s->workers.front()->running() || open_when_ready(s->url))
          << s->name << ": the creating search exited: " << s->workers.front()->err();
      ASSERT_LT(seconds(), 60) << s->name << ": the search was not created";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  for (int i = 1; i < kPgWorkers; ++i) spawn(pg, "worker --store " + pg.url + " " + session_flags());
  for (int i = 1; i < kSqliteWorkers; ++i) spawn(lite, "worker --store " + lite.url + " " + session_flags());

  // Every 0.3-1.2 s, SIGKILL a random running worker of the next study that still has trials to end; start a new one.
  auto unfinished = [](Study& s) {
    const auto st = sparse::store::open_store(s.url, false);
    int ended = 0;
    for (const auto& t : st->list_trials(1)) ended += t.state == TrialState::Done || t.state == TrialState::Failed;
    return ended < s.trials;
  };
  int kills = 0;
  while (kills < 2 * kMinKills && seconds() < 240) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 900));
    std::vector<Study*> live;
    for (Study* s : studies)
      if (unfinished(*s) && !s->running().empty()) live.push_back(s);
    if (live.empty()) break;
    Study& s = *live[static_cast<size_t>(kills) % live.size()];  // the studies in turn, a random worker of it
    const auto r = s.running();
    r[rng() % r.size()]->signal(SIGKILL);
    ++s.kills;
    ++kills;
    spawn(s, "worker --store " + s.url + " " + session_flags());
  }
  if (kills < kMinKills) {
    std::string logs;
    for (Study* s : studies)
      for (auto& w : s->workers) logs += s->name + ": exit " + std::to_string(w->wait(300)) + "\n" + w->out() + w->err();
    FAIL() << "the studies ended before " << kMinKills << " kills\n" << logs;
  }

  for (Study* s : studies) {
    SCOPED_TRACE(s->name);
    for (auto& w : s->workers) {
      const int code = w->wait(300);
      EXPECT_TRUE(code == 0 || code == 128 + SIGKILL) << "exit " << code << ": " << w->err();
    }
    const auto st = sparse::store::open_store(s->url, false);
    const auto trials = st->list_trials(1);
    // The budget: exactly the planned trials, numbered 1..N, each done.
    ASSERT_EQ(static_cast<int>(trials.size()), s->trials);
    int reclaimed = 0;
    for (size_t i = 0; i < trials.size(); ++i) {
      EXPECT_EQ(trials[i].id, static_cast<int64_t>(i + 1));
      EXPECT_EQ(trials[i].state, TrialState::Done) << "trial " << trials[i].id << ": " << trials[i].error;
      EXPECT_GE(trials[i].attempts, 1);
      reclaimed += trials[i].attempts - 1;
    }
    // Done once: an ended trial is printed by one worker only, the one the store names.
    std::map<int64_t, std::string> printed_by;
    for (auto& w : s->workers) {
      const WorkerLog log = parse_log(w->out());
      if (log.worker.empty()) {  // killed while starting, before it joined: it cannot have ended a trial
        EXPECT_EQ(w->wait(0), 128 + SIGKILL) << w->out() << w->err();
        EXPECT_TRUE(log.ended.empty()) << w->out();
        continue;
      }
      for (int64_t id : log.ended) {
        EXPECT_EQ(printed_by.count(id), 0u) << "trial " << id << " ended in " << printed_by[id] << " and " << log.worker;
        printed_by[id] = log.worker;
        ASSERT_GE(id, 1);
        ASSERT_LE(id, s->trials);
        EXPECT_EQ(trials[static_cast<size_t>(id - 1)].worker, log.worker) << "trial " << id;
      }
    }
    bool saw_live = false;  // a replacement joins workers that hold trials and names them
    for (auto& w : s->workers) saw_live = saw_live || w->out().find("live workers (joined under the same leases): ") !=
                                                          std::string::npos;
    EXPECT_TRUE(saw_live);
    // A killed worker may end a trial in the store and die before its line: at most one such trial per kill.
    EXPECT_GE(static_cast<int>(printed_by.size()), s->trials - s->kills);
    std::printf("[ %s ] %d trials, %zu workers, %d killed, %d re-claims after kills\n", s->name.c_str(), s->trials,
                s->workers.size(), s->kills, reclaimed);
  }

  // The front from either store after a copy each way.
  const std::string pg_copy = (dir_ / "pg-copy.db").string(), lite_copy = location("kill-copy");
  for (const auto& [from, to] : {std::pair{pg.url, pg_copy}, std::pair{lite.url, lite_copy}}) {
    const CliResult c = run_cli("store copy " + from + " " + to);
    ASSERT_EQ(c.exit_code, 0) << c.err;
    auto front = [](const std::string& store) {
      const CliResult r = run_cli("pareto " + store + " --json");
      EXPECT_EQ(r.exit_code, 0) << r.err;
      auto j = nlohmann::json::parse(r.out);
      j.erase("store");
      return j;
    };
    const auto a = front(from), b = front(to);
    EXPECT_FALSE(a["front"].empty()) << a.dump();
    EXPECT_EQ(a, b);
  }
}

TEST_P(WorkersKill, AWorkerNeedsAStudyHoldingASearch) {
  const CliResult missing = run_cli("worker --store " + location("nothing-here") + " " + session_flags());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("holds no SpArSe trial store"), std::string::npos) << missing.err;
  const std::string file = (dir_ / "absent.db").string();
  const CliResult absent = run_cli("worker --store " + file + " " + session_flags());
  EXPECT_EQ(absent.exit_code, 1);
  EXPECT_NE(absent.err.find(file), std::string::npos) << absent.err;
  EXPECT_FALSE(std::filesystem::exists(file));
  const CliResult no_store = run_cli("worker " + session_flags());
  EXPECT_NE(no_store.exit_code, 0);
  EXPECT_NE(no_store.err.find("--store is required"), std::string::npos) << no_store.err;
}
