// Scale limit of one PostgreSQL study (issue 16): N workers, each its own PgStore (its own connection), run synthetic
// no-op trials. Two measurements per N in --workers:
//  * claims/s: the study holds --queued queued trials; every worker loops claim_next + finish (a fake result) until
//    none is left; claims/s = trials / wall time from the common start to the last finish.
//  * proposals: every worker loops what `sparse worker` does around a trial — take the proposal turn (else claim
//    and run what the holder added), list_trials, the search's own StageProposer.next (random stage, then GP
//    proposals from the fake results), add_trial_at, release the turn, claim_next, finish — until the study holds
//    --trials trials, all run; trials/s = trials / wall time; latency = list + propose + add of each proposal that
//    landed, median and 95th percentile; raced = proposals that lost their trial number to another worker.
//    --no-turn drops the turn (every idle worker proposes, add_trial_at keeps one per number): the ablation.
// Without --store it starts a throwaway cluster (tests/store/pg_cluster.hpp) and stops it at the end; each N gets
// fresh studies. --json prints one JSON object last. The workers are threads of this process: on a machine with
// fewer cores than N, the proposal latency includes waiting for a core (the output names the core count).
// Usage: bench_store_workers [--store postgresql://user@host/db] [--workers 1,4,16] [--queued 2000] [--trials 120]
//        [--no-turn] [--json]
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "host/core/error.hpp"
#include "host/core/philox.hpp"
#include "datasets/preset.hpp"
#include "host/core/file_io.hpp"
#include "host/search/proposals.hpp"
#include "host/search/search.hpp"
#include "host/space/space.hpp"
#include "host/store/pg_store.hpp"
#include "tests/store/pg_cluster.hpp"

using namespace sparse;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// A no-op trial's result: objectives drawn from the trial id, so the GP has data to fit.
store::TrialResult fake_result(int64_t id) {
  PhiloxStream rng(7, static_cast<uint64_t>(id));
  store::TrialResult r;
  r.epochs = 1;
  r.val_acc = 0.5 + 0.45 * rng.uniform();
  r.test_acc = r.val_acc;
  r.ms_bytes = 400 + static_cast<int64_t>(4000 * rng.uniform());
  r.wm5_bytes = r.wm6_bytes = 300 + static_cast<int64_t>(3000 * rng.uniform());
  r.nonzeros = *r.ms_bytes / 4;
  r.metrics = {{"feasible", true}};
  return r;
}

// Settings of an acc,ms search in the default space on synthetic 16x16 images (the proposer's space and plan);
// `data` receives the images the space is fitted to.
search::SearchSettings bench_settings(int trials, data::Dataset& data) {
  search::SearchSettings s;
  s.data.name = "synthetic";
  s.data.synthetic_classes = 4;
  s.data.synthetic_train = 400;
  s.data.synthetic_test = 100;
  s.data.image_shape = data::ImageShape{16, 16, 1};
  s.objectives = "acc,ms";
  s.plan = search::default_plan(trials);
  s.int8 = false;
  s.candidates = 300;
  data = data::load_dataset(s.data);
  s.space = search::space_for_dataset(read_json_file(space::default_space_path()), data);
  return s;
}

struct ClaimRun {
  int workers = 0;
  int trials = 0;
  double seconds = 0, claims_per_s = 0;
};

struct ProposalRun {
  int workers = 0;
  int trials = 0;
  double seconds = 0, p50 = 0, p95 = 0, trials_per_s = 0;
  int raced = 0;  // proposals that lost their trial number to another worker
};

// Runs `body(k)` on N threads started together; returns the wall time from the start to the last return.
template <class F>
double run_workers(int n, F body) {
  std::barrier start(n + 1);
  std::vector<std::thread> ts;
  std::mutex err_mu;
  std::string error;
  for (int k = 0; k < n; ++k)
    ts.emplace_back([&, k] {
      start.arrive_and_wait();
      try {
        body(k);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> l(err_mu);
        if (error.empty()) error = e.what();
      }
    });
  start.arrive_and_wait();
  const auto t0 = Clock::now();
  for (auto& t : ts) t.join();
  const double wall = since(t0);
  SPARSE_CHECK(error.empty(), "a worker failed: " << error);
  return wall;
}

ClaimRun claims(const std::string& base, int n, int queued) {
  const std::string url = base + "?study=claims-" + std::to_string(n);
  store::PgStore setup(url, true);
  store::SearchRecord r;
  r.dataset = "synthetic";
  r.objectives = "acc,ms";
  const int64_t search = setup.create_search(r);
  for (int i = 0; i < queued; ++i) {
    store::TrialRecord t;
    t.search_id = search;
    t.config = {{"i", i}};
    setup.add_trial(t);
  }
  std::vector<std::unique_ptr<store::PgStore>> stores;
  for (int k = 0; k < n; ++k) stores.push_back(std::make_unique<store::PgStore>(url, false));
  std::atomic<int> done{0};
  ClaimRun out;
  out.workers = n;
  out.seconds = run_workers(n, [&](int k) {
    store::PgStore& s = *stores[static_cast<size_t>(k)];
    while (auto t = s.claim_next(search, "noop:" + std::to_string(k))) {
      s.finish(t->id, fake_result(t->id));
      ++done;
    }
  });
  out.trials = done.load();
  SPARSE_CHECK(out.trials == queued, "claimed " << out.trials << " of " << queued << " queued trials");
  SPARSE_CHECK(setup.list_trials(search, store::TrialState::Done).size() == static_cast<size_t>(queued),
               "not every claimed trial is done");
  out.claims_per_s = out.trials / out.seconds;
  return out;
}

ProposalRun proposals(const std::string& base, int n, int trials, bool turns, const search::SearchSettings& settings,
                      const space::Space& space) {
  const std::string url = base + "?study=proposals-" + std::to_string(n) + (turns ? "" : "-noturn");
  int64_t search = 0;
  {
    store::PgStore setup(url, true);
    search = search::create_search(setup, settings);
  }
  std::vector<std::unique_ptr<store::PgStore>> stores;
  for (int k = 0; k < n; ++k) stores.push_back(std::make_unique<store::PgStore>(url, false));
  std::mutex mu;
  std::vector<double> latency;
  std::atomic<int> raced{0};
  ProposalRun out;
  out.workers = n;
  out.seconds = run_workers(n, [&](int k) {
    store::PgStore& s = *stores[static_cast<size_t>(k)];
    search::StageProposer proposer(settings, space, search);
    auto run_one = [&] {
      if (auto t = s.claim_next(search, "noop:" + std::to_string(k))) {
        s.finish(t->id, fake_result(t->id));
        return true;
      }
      return false;
    };
    for (;;) {
      const auto t0 = Clock::now();
      if (turns && !s.try_proposal_turn(search)) {  // another worker proposes: run what it adds, else wait (as
        if (!run_one()) std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a worker does)
        continue;
      }
      const auto all = s.list_trials(search);
      std::optional<int64_t> landed;
      if (static_cast<int>(all.size()) < trials)
        landed = s.add_trial_at(proposer.next(all), static_cast<int64_t>(all.size()));
      if (turns) s.release_proposal_turn(search);
      if (static_cast<int>(all.size()) >= trials) {
        while (run_one()) {
        }
        break;
      }
      const double seconds = since(t0);
      if (!landed) {
        ++raced;
        continue;
      }
      {
        std::lock_guard<std::mutex> l(mu);
        latency.push_back(seconds);
      }
      run_one();
    }
  });
  store::PgStore check(url, false);
  const auto all = check.list_trials(search);
  SPARSE_CHECK(static_cast<int>(all.size()) == trials, "the study holds " << all.size() << " trials, planned " << trials);
  SPARSE_CHECK(check.list_trials(search, store::TrialState::Done).size() == all.size(), "a trial was not run");
  out.trials = trials;
  out.trials_per_s = trials / out.seconds;
  out.p50 = quantile(latency, 0.5);
  out.p95 = quantile(latency, 0.95);
  out.raced = raced.load();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Claims per second and proposal latency of N workers on one PostgreSQL study"};
  std::string base;
  std::vector<int> workers = {1, 4, 16};
  int queued = 2000, trials = 120;
  bool json = false, no_turn = false;
  app.add_option("--store", base, "postgresql://user[:password]@host[:port]/database (default: a throwaway cluster)");
  app.add_option("--workers", workers, "Worker counts")->delimiter(',');
  app.add_option("--queued", queued, "Queued no-op trials of the claims run")->check(CLI::Range(1, 1000000));
  app.add_option("--trials", trials, "Trials of the proposal run (plan: 10 % random, then GP stages)")
      ->check(CLI::Range(4, 100000));
  app.add_flag("--no-turn", no_turn, "Propose without the proposal turn (every idle worker proposes; add_trial_at "
                                     "drops the raced ones): the ablation");
  app.add_flag("--json", json, "Print one JSON object last");
  CLI11_PARSE(app, argc, argv);
  test::PgClusterInfo cluster;
  try {
    if (base.empty()) {
      cluster = test::start_pg_cluster();
      if (!cluster.skip_reason.empty()) {
        std::printf("skipped: %s\n", cluster.skip_reason.c_str());
        if (json) std::printf("%s\n", nlohmann::json{{"skipped", cluster.skip_reason}}.dump().c_str());
        return 0;
      }
      test::pg_admin_exec(cluster, "postgres", "CREATE DATABASE bench OWNER " + std::string(test::kPgUser));
      base = test::pg_url(cluster, "bench", "");
    }
    data::Dataset data;
    const search::SearchSettings settings = bench_settings(trials, data);
    const space::Space space = search::search_space(settings, "default space");
    std::printf("one PostgreSQL study per run; %u hardware threads on this machine\n",
                std::thread::hardware_concurrency());
    std::printf("proposals %s\n", no_turn ? "without the turn (--no-turn)" : "one worker at a time (the proposal turn)");
    std::printf("%8s %10s %12s %10s %10s %12s %12s %8s\n", "workers", "claims", "claims/s", "proposals", "trials/s",
                "p50 ms", "p95 ms", "raced");
    nlohmann::json rows = nlohmann::json::array();
    for (int n : workers) {
      SPARSE_CHECK(n >= 1 && n <= 256, "--workers " << n << ": expected 1 to 256");
      const ClaimRun c = claims(base, n, queued);
      const ProposalRun p = proposals(base, n, trials, !no_turn, settings, space);
      std::printf("%8d %10d %12.0f %10d %10.1f %12.2f %12.2f %8d\n", n, c.trials, c.claims_per_s, p.trials,
                  p.trials_per_s, p.p50 * 1e3, p.p95 * 1e3, p.raced);
      std::fflush(stdout);
      rows.push_back({{"workers", n},
                      {"claims", c.trials},
                      {"claim_seconds", c.seconds},
                      {"claims_per_s", c.claims_per_s},
                      {"proposal_trials", p.trials},
                      {"proposal_seconds", p.seconds},
                      {"proposal_trials_per_s", p.trials_per_s},
                      {"proposal_p50_s", p.p50},
                      {"proposal_p95_s", p.p95},
                      {"proposals_raced", p.raced}});
    }
    if (json)
      std::printf("%s\n", nlohmann::json{{"hardware_threads", std::thread::hardware_concurrency()},
                                         {"proposal_turn", !no_turn},
                                         {"runs", rows}}
                              .dump()
                              .c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_store_workers: %s\n", e.what());
    if (cluster.port) test::stop_pg_cluster(cluster);
    return 1;
  }
  if (cluster.port) test::stop_pg_cluster(cluster);
  return 0;
}
