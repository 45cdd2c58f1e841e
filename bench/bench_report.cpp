// Time of `sparse report` on a large study (issue 17: 10,000 trials in under 5 s and under 20 MB): render_report of
// a made-up store of 10,000 done trials with itself as the --compare store (the store read, fronts, hypervolume
// curves and the HTML page), median of repeats; the page size and the scatter points are counters.
//   build/bench/bench_report          (5 repetitions of one render each; the median row is the figure)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "host/report/page.hpp"
#include "tests/common/made_up_store.hpp"

using namespace sparse;

namespace {

// The made-up store, written once per process in the system's temp folder and removed at exit.
const std::string& store_of(int trials) {
  static const std::string path = [trials] {
    const auto p = std::filesystem::temp_directory_path() /
                   ("sparse-bench-report-" + std::to_string(::getpid()) + "-" + std::to_string(trials) + ".db");
    std::filesystem::remove(p);
    test::write_made_up_store(p.string(), trials, 17);
    return p.string();
  }();
  static const struct Remove {
    ~Remove() { std::filesystem::remove(path); }
  } remove;
  return path;
}

void BM_Report(benchmark::State& state) {
  const int trials = static_cast<int>(state.range(0));
  const std::string& store = store_of(trials);
  report::ReportOptions o;
  o.store = store;
  o.compare = {store};
  size_t bytes = 0;
  int done = 0;
  for (auto _ : state) {
    const report::Report r = report::render_report(o);
    bytes = r.html.size();
    done = r.done;
    benchmark::DoNotOptimize(r.html.data());
  }
  if (done != trials) state.SkipWithError("the made-up store did not hold every trial as done");
  state.counters["trials"] = done;
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
}

}  // namespace

BENCHMARK(BM_Report)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(5);

BENCHMARK_MAIN();
