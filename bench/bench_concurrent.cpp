// Aggregate training-step throughput of N concurrent trials on one device (issue 7: on one GPU, N tiny-net trials
// together >= 5x one trial). Each trial is a Network on its own backend ("cuda:D": its own stream and cuBLAS handle;
// "cpu": its own team of --threads threads) driven by its own host thread, and a step is what a trial of
// host/nn/trainer does per batch: set_batch (upload), train_step (variational), stats() (download, waits).
// All trials start together after their warm-up steps; a repeat's wall time runs from the common start to the last
// trial's last step; aggregate images/s = N * steps * batch / wall, the median over repeats, and its ratio to N = 1.
// Usage: bench_concurrent [--net FILE] [--device cuda:D|cpu] [--trials 1,2,4,8,16] [--batch B] [--steps S]
//        [--warmup W] [--repeats R] [--method spvd|bc] [--threads T] [--json]
// Without a usable device it prints "skipped: <reason>" (and {"skipped": reason} with --json) and exits 0.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "host/core/error.hpp"
#include "host/core/philox.hpp"
#include "host/nn/backend_factory.hpp"
#include "host/nn/network.hpp"

using namespace sparse;

namespace {

struct Args {
  std::string net = "bench/networks/tiny.json", device = "cuda:0", method = "spvd";
  std::vector<int> trials = {1, 2, 4, 8, 16};
  int batch = 256, steps = 60, warmup = 5, repeats = 5, threads = 1;
  bool json = false;
};

// One trial: its backend, its network and its own random batch x [batch, H, W, C], y [batch].
struct Trial {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<nn::Network> net;
  std::vector<float> x;
  std::vector<int32_t> y;
  std::string error;  // first exception of this trial's thread, "" when none
};

struct Result {
  int trials = 0;
  std::vector<double> images_per_s;  // one per repeat
  double median = 0;
};

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

std::unique_ptr<Trial> make_trial(const Args& a, const space::Config& cfg, int index) {
  auto t = std::make_unique<Trial>();
  t->backend = nn::make_backend(a.device, a.threads);
  t->net = std::make_unique<nn::Network>(*t->backend, cfg, nn::method_from_string(a.method), a.batch,
                                         uint64_t(1000 + index));
  const auto& in = t->net->graph().nodes[0].out;
  PhiloxStream rng(uint64_t(7 + index));
  t->x.resize(size_t(a.batch) * size_t(in.size()));
  for (auto& v : t->x) v = float(rng.normal());
  t->y.resize(size_t(a.batch));
  for (auto& v : t->y) v = int32_t(rng.below(uint64_t(cfg.num_classes)));
  return t;
}

// The step of a trial (see the file comment).
void trial_step(Trial& t, int batch, uint64_t step) {
  const float kl_scale = 0.1f / 55000.0f;  // bench_step's objective
  t.net->set_batch(t.x.data(), t.y.data(), batch);
  t.net->train_step(nn::Mode::variational, kl_scale, 1e-3f, step);
  (void)t.net->stats();
}

// N trials on N threads: warm-up, then `repeats` timed rounds that start together.
Result run_concurrent(const Args& a, const space::Config& cfg, int n) {
  std::vector<std::unique_ptr<Trial>> trials;
  for (int i = 0; i < n; ++i) trials.push_back(make_trial(a, cfg, i));
  std::barrier sync(n + 1);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Trial& t = *trials[size_t(i)];
      uint64_t step = 0;
      auto guarded = [&](int count) {
        if (!t.error.empty()) return;
        try {
          for (int s = 0; s < count; ++s) trial_step(t, a.batch, ++step);
        } catch (const std::exception& e) {
          t.error = e.what();
        }
      };
      guarded(a.warmup);
      for (int r = 0; r < a.repeats; ++r) {
        sync.arrive_and_wait();  // common start
        guarded(a.steps);
        sync.arrive_and_wait();  // all done
      }
    });
  }
  Result res;
  res.trials = n;
  for (int r = 0; r < a.repeats; ++r) {
    sync.arrive_and_wait();
    const auto t0 = std::chrono::steady_clock::now();
    sync.arrive_and_wait();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    res.images_per_s.push_back(double(n) * a.steps * a.batch / wall);
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < n; ++i)
    SPARSE_CHECK(trials[size_t(i)]->error.empty(), "trial " << i << " of " << n << ": " << trials[size_t(i)]->error);
  res.median = median_of(res.images_per_s);
  return res;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"Aggregate training-step throughput of N concurrent trials on one device", "bench_concurrent"};
  app.add_option("--net", a.net, "Config JSON (default bench/networks/tiny.json)");
  app.add_option("--device", a.device, "cuda:N (default cuda:0) or cpu");
  app.add_option("--trials", a.trials, "Concurrent trial counts, comma separated")->delimiter(',');
  app.add_option("--batch", a.batch, "Minibatch size of every trial")->check(CLI::Range(1, 65536));
  app.add_option("--steps", a.steps, "Timed steps per trial and repeat")->check(CLI::Range(1, 1000000));
  app.add_option("--warmup", a.warmup, "Untimed steps per trial first")->check(CLI::Range(0, 1000000));
  app.add_option("--repeats", a.repeats, "Timed repeats (median reported)")->check(CLI::Range(1, 1000));
  app.add_option("--method", a.method, "spvd or bc");
  app.add_option("--threads", a.threads, "CPU threads per trial (--device cpu)")->check(CLI::Range(1, 1024));
  app.add_flag("--json", a.json, "Print one JSON line last");
  CLI11_PARSE(app, argc, argv);
  for (int n : a.trials)
    if (n < 1 || n > 256) {
      std::fprintf(stderr, "bench_concurrent: --trials: %d is outside 1..256\n", n);
      return 2;
    }
  try {
    const space::Config cfg = space::read_config(a.net);
    std::string device_name;
    try {
      device_name = nn::make_backend(a.device, a.threads)->name();  // probe: can this device be used at all?
    } catch (const Error& e) {
      std::printf("skipped: %s\n", e.what());
      if (a.json) std::printf("%s\n", nlohmann::json({{"bench", "concurrent"}, {"device", a.device}, {"skipped", e.what()}}).dump().c_str());
      return 0;
    }
    std::vector<Result> results;
    double single = 0;
    for (int n : a.trials) {
      Result r = run_concurrent(a, cfg, n);
      if (n == 1) single = r.median;
      results.push_back(r);
      std::printf("sparse_concurrent net=%s device=%s method=%s batch=%d trials=%d steps=%d aggregate_images_per_s=%.0f",
                  a.net.c_str(), device_name.c_str(), a.method.c_str(), a.batch, n, a.steps, r.median);
      if (single > 0) std::printf(" ratio_to_1=%.2f", r.median / single);
      std::printf("\n");
      std::fflush(stdout);
    }
    if (a.json) {
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& r : results) {
        nlohmann::json row = {{"trials", r.trials}, {"images_per_s", r.median}, {"repeats", r.images_per_s}};
        if (single > 0) row["ratio_to_1"] = r.median / single;
        rows.push_back(row);
      }
      std::printf("%s\n", nlohmann::json({{"engine", "sparse"},
                                          {"bench", "concurrent"},
                                          {"net", a.net},
                                          {"device", device_name},
                                          {"method", a.method},
                                          {"batch", a.batch},
                                          {"steps", a.steps},
                                          {"repeats", a.repeats},
                                          {"single_images_per_s", single},
                                          {"results", rows}})
                              .dump()
                              .c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_concurrent: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
