// One proposal at search scale (issue 5): three GPs on 500 observations of 60 features (48 numeric, 8 of
// them conditional, 12 categorical), hyper-parameter fit plus a joint Thompson sample over 2,000
// candidates per objective and eq. 7. Three kinds of proposal, each the median of repeats:
//  * warm: what a proposal costs inside a search with refit_every = 1 — the proposer refits θ at every
//    proposal, warm-started from the θ of the previous proposal (fitted here on the first n − 1
//    observations, as when one trial completed since), then samples. This is the headline `seconds`.
//  * cold: the first proposal of a search (no θ yet): fit from the prior mean, the data-scaled start and
//    the random restarts, each probed, the best continued; then the sample.
//  * no refit: a proposal between refits (refit_every > 1): posterior and joint sample only.
// GPU case (issue 7, gp/cuda): the joint Thompson sample of 3 objectives over 10,000 candidates with 1,000
// observations on cuda:N (θ of the warm proposal above), timed alone and as a whole no-refit proposal through
// gp::Proposer (device "cuda:N"), next to the same no-refit proposal on the CPU (its peer, fewer repeats: one
// takes seconds there); target < 100 ms for the sample. Skipped with the reason when no GPU is usable.
// --json prints one JSON line last with `seconds` (= warm) and the others.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gp/cuda/thompson_cuda.hpp"
#include "gp/gp_regression.hpp"
#include "gp/hyper_fit.hpp"
#include "gp/kernel.hpp"
#include "gp/proposer.hpp"
#include "host/core/philox.hpp"

using namespace sparse::gp;

namespace {

constexpr int kNumeric = 48, kConditional = 8, kCategorical = 12, kLevels = 4;

EncodedPoint random_point(sparse::PhiloxStream& rng) {
  EncodedPoint p;
  const bool branch = rng.uniform() < 0.5;
  for (int d = 0; d < kNumeric; ++d) {
    p.numeric.push_back(rng.uniform());
    p.numeric_active.push_back(d < kNumeric - kConditional || branch ? 1 : 0);
  }
  for (int d = 0; d < kCategorical; ++d) {
    p.categorical.push_back(static_cast<int>(rng.below(kLevels)));
    p.categorical_active.push_back(1);
  }
  return p;
}

// Smooth synthetic objectives of the encoded point (accuracy-like, size-like, memory-like).
std::vector<double> objectives(const EncodedPoint& p) {
  double a = 0, b = 0, c = 0;
  for (int d = 0; d < 8; ++d) a += std::sin(3.0 * p.numeric[static_cast<size_t>(d)] + d);
  for (int d = 8; d < 16; ++d) b += p.numeric[static_cast<size_t>(d)] * (1 + 0.1 * p.categorical[0]);
  for (int d = 16; d < 24; ++d) c += p.numeric[static_cast<size_t>(d)] * p.numeric[static_cast<size_t>(d)];
  if (p.numeric_active[static_cast<size_t>(kNumeric - 1)]) c += 0.5 * p.numeric[static_cast<size_t>(kNumeric - 1)];
  return {a, b, c};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU seconds of the process (all threads, user + system): the work, less sensitive than wall time to
// other processes on the same cores.
double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Timed {
  double seconds = 0.0, cpu_seconds = 0.0;
  int evaluations = 0;  // likelihood + gradient evaluations of the fit, 3 GPs together
  double log_posterior = 0.0;
};

// n completed trials at random points with their objectives, then m random candidates, all from `gen`.
void random_problem(sparse::PhiloxStream& gen, int n, int m, std::vector<CompletedTrial>& done,
                    std::vector<EncodedPoint>& cand) {
  for (int i = 0; i < n; ++i) {
    CompletedTrial t;
    t.point = random_point(gen);
    t.objectives = objectives(t.point);
    done.push_back(std::move(t));
  }
  for (int i = 0; i < m; ++i) cand.push_back(random_point(gen));
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false, gpu_case = true;
  int repeats = 5, n = 500, m = 2000;
  int gpu_device = 0, gpu_n = 1000, gpu_m = 10000, gpu_repeats = -1, cpu_peer_repeats = 1;
  // The search's settings: ProposerSettings' and FitSettings' defaults (host/search uses them as they are).
  // At this size (>= economy_from_observations) cold fits start from the prior mean, the data-scaled start
  // and 3 random restarts, 5 probing iterations each, the best continued to <= 60; warm fits start from the
  // previous θ alone and run <= 10 iterations.
  ProposerSettings s;
  s.num_objectives = 3;
  for (int i = 1; i < argc; ++i) {
    auto next = [&](int& v) {
      if (i + 1 >= argc) return false;
      v = std::atoi(argv[++i]);
      return true;
    };
    bool ok = true;
    if (!std::strcmp(argv[i], "--json")) json = true;
    else if (!std::strcmp(argv[i], "--repeats")) ok = next(repeats);
    else if (!std::strcmp(argv[i], "--n")) ok = next(n);
    else if (!std::strcmp(argv[i], "--m")) ok = next(m);
    else if (!std::strcmp(argv[i], "--restarts")) ok = next(s.fit.restarts);
    else if (!std::strcmp(argv[i], "--probe")) ok = next(s.fit.probe_iterations);
    else if (!std::strcmp(argv[i], "--iterations")) ok = next(s.fit.max_iterations);
    else if (!std::strcmp(argv[i], "--warm-iterations")) ok = next(s.fit.warm_max_iterations);
    else if (!std::strcmp(argv[i], "--warm-restarts")) ok = next(s.fit.warm_restarts);
    else if (!std::strcmp(argv[i], "--threads")) ok = next(s.threads);
    else if (!std::strcmp(argv[i], "--no-gpu")) gpu_case = false;
    else if (!std::strcmp(argv[i], "--gpu-device")) ok = next(gpu_device);
    else if (!std::strcmp(argv[i], "--gpu-n")) ok = next(gpu_n);
    else if (!std::strcmp(argv[i], "--gpu-m")) ok = next(gpu_m);
    else if (!std::strcmp(argv[i], "--gpu-repeats")) ok = next(gpu_repeats);
    else if (!std::strcmp(argv[i], "--cpu-peer-repeats")) ok = next(cpu_peer_repeats);
    else ok = false;
    if (!ok || repeats < 1 || n < 3 || m < 1 || gpu_n < 3 || gpu_m < 1 || cpu_peer_repeats < 0) {
      std::fprintf(stderr,
                   "usage: %s [--json] [--repeats R] [--n N] [--m M] [--restarts S] [--probe P] [--iterations I]\n"
                   "          [--warm-iterations W] [--warm-restarts S] [--threads T]\n"
                   "          [--no-gpu] [--gpu-device D] [--gpu-n N] [--gpu-m M] [--gpu-repeats R] [--cpu-peer-repeats R]\n",
                   argv[0]);
      return 2;
    }
  }
  sparse::PhiloxStream gen(42);
  std::vector<CompletedTrial> done;
  std::vector<EncodedPoint> cand;
  random_problem(gen, n, m, done, cand);
  const std::vector<CompletedTrial> before(done.begin(), done.end() - 1);  // the previous proposal's data

  // Log posterior of the fitted θ (summed over the 3 GPs), to show what the fits reach.
  std::vector<EncodedPoint> pts;
  for (const CompletedTrial& t : done) pts.push_back(t.point);
  const Inputs xi = make_inputs(pts);
  const HyperPrior prior = HyperPrior::defaults(layout_of(xi));
  auto log_posterior = [&](const std::vector<Eigen::VectorXd>& theta) {
    double sum = 0.0;
    for (int k = 0; k < 3; ++k) {
      Eigen::VectorXd y(n);
      for (int i = 0; i < n; ++i) y[i] = done[static_cast<size_t>(i)].objectives[static_cast<size_t>(k)];
      const Standardization st = standardization_of(y);
      const Eigen::VectorXd& th = theta[static_cast<size_t>(k)];
      sum += log_marginal_likelihood(xi, (y.array() - st.mean) / st.scale, th) + prior.log_density(th, nullptr);
    }
    return sum;
  };
  auto propose = [&](Proposer& prop, const std::vector<CompletedTrial>& data, uint64_t seed, Timed& out) {
    sparse::PhiloxStream rng(seed);
    const double c0 = process_cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    const auto res = prop.propose(data, {}, cand, 1, rng);
    out.seconds = seconds_since(t0);
    out.cpu_seconds = process_cpu_seconds() - c0;
    out.evaluations = prop.last_fit_evaluations();
    if (!res[0].model_based) {
      std::fprintf(stderr, "proposal was not model-based\n");
      std::exit(1);
    }
  };

  // θ of the previous proposal: a cold fit on the first n − 1 observations (not timed).
  Proposer previous(s);
  Timed unused;
  propose(previous, before, 1, unused);
  const std::vector<Eigen::VectorXd> theta_prev = previous.hyperparameters();

  std::vector<double> lml_eval, warm, cold, sample_only, warm_cpu, cold_cpu, sample_only_cpu;
  Timed warm_last, cold_last;
  for (int r = 0; r < repeats; ++r) {
    {  // One likelihood + gradient evaluation (the unit of the fit's cost), at the previous θ.
      Eigen::VectorXd y(n), g;
      for (int i = 0; i < n; ++i) y[i] = done[static_cast<size_t>(i)].objectives[0];
      const auto t0 = std::chrono::steady_clock::now();
      const Standardization st = standardization_of(y);
      log_marginal_likelihood(xi, (y.array() - st.mean) / st.scale, theta_prev[0], &g);
      lml_eval.push_back(seconds_since(t0));
    }
    {  // Warm: a search proposal (refit from the previous θ, then sample).
      Proposer prop(s);
      prop.set_warm_start(theta_prev);
      propose(prop, done, 7 + static_cast<uint64_t>(r), warm_last);
      warm.push_back(warm_last.seconds);
      warm_cpu.push_back(warm_last.cpu_seconds);
      if (r == 0) warm_last.log_posterior = log_posterior(prop.hyperparameters());
      // No refit: the next proposal with refit_every > 1 reuses θ (posterior + joint sample only).
      Timed t;
      propose(prop, done, 100 + static_cast<uint64_t>(r), t);
      sample_only.push_back(t.seconds);
      sample_only_cpu.push_back(t.cpu_seconds);
    }
    {  // Cold: the first proposal of a search.
      Proposer prop(s);
      propose(prop, done, 7 + static_cast<uint64_t>(r), cold_last);
      cold.push_back(cold_last.seconds);
      cold_cpu.push_back(cold_last.cpu_seconds);
      if (r == 0) cold_last.log_posterior = log_posterior(prop.hyperparameters());
    }
  }
  const int threads = s.threads > 0 ? s.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int warm_restarts = s.fit.warm_restarts;
  const int warm_iterations = std::min(s.fit.warm_max_iterations, s.fit.max_iterations);
  const double lml = median(lml_eval), w = median(warm), c = median(cold), so = median(sample_only);
  const double wc = median(warm_cpu), cc = median(cold_cpu), soc = median(sample_only_cpu);
  std::printf("observations %d, features %d (%d numeric, %d conditional, %d categorical), candidates %d, 3 GPs, %d threads\n",
              n, kNumeric + kCategorical, kNumeric, kConditional, kCategorical, m, std::min(threads, 3));
  std::printf("one log-likelihood + gradient evaluation: %.4f s (median of %d)\n", lml, repeats);
  std::printf("warm proposal (a search's, refit_every = 1): fit from the previous theta + %d restarts, <= %d iterations: "
              "%d evaluations, log posterior %.2f; joint sample over %d: %.3f s (CPU %.3f s; medians of %d)\n",
              warm_restarts, warm_iterations, warm_last.evaluations, warm_last.log_posterior, m, w, wc, repeats);
  std::printf("cold proposal (a search's first): fit from prior mean + data-scaled start + %d restarts, probe %d, <= %d "
              "iterations: %d evaluations, log posterior %.2f; joint sample: %.3f s (CPU %.3f s; medians of %d)\n",
              s.fit.restarts, s.fit.probe_iterations, s.fit.max_iterations, cold_last.evaluations, cold_last.log_posterior, c,
              cc, repeats);
  std::printf("proposal without refit (posterior + joint sample of 3 GPs): %.3f s (CPU %.3f s; medians of %d)\n", so, soc,
              repeats);

  // GPU case: 3 objectives, gpu_n observations, gpu_m candidates, one joint sample each (q = 1).
  std::string gpu_json = ",\"gpu\":null";
  if (gpu_case) {
    std::string why;
    if (!cuda::available(gpu_device, &why)) {
      std::printf("GPU case skipped: %s\n", why.c_str());
      for (char& ch : why)
        if (ch == '"' || ch == '\\') ch = '\'';  // a JSON string without escapes
      gpu_json = ",\"gpu\":{\"skipped\":\"" + why + "\"}";
    } else {
      if (gpu_repeats < 1) gpu_repeats = repeats;
      sparse::PhiloxStream gg(43);
      std::vector<CompletedTrial> big;
      std::vector<EncodedPoint> big_cand;
      random_problem(gg, gpu_n, gpu_m, big, big_cand);
      std::vector<EncodedPoint> bp;
      for (const CompletedTrial& t : big) bp.push_back(t.point);
      const Inputs bx = make_inputs(bp), bc = make_inputs(big_cand), none = make_inputs({}, bx.num_numeric(), bx.num_categorical());
      std::vector<cuda::ObjectiveGp> gps;
      std::vector<Eigen::MatrixXd> eps;
      for (int k = 0; k < 3; ++k) {
        Eigen::VectorXd y(gpu_n);
        for (int i = 0; i < gpu_n; ++i) y[i] = big[static_cast<size_t>(i)].objectives[static_cast<size_t>(k)];
        gps.push_back(cuda::ObjectiveGp{y, theta_prev[static_cast<size_t>(k)]});
        eps.push_back(standard_normals(gpu_m, 1, gg));
      }
      // The sample alone (after one warm-up call: cuBLAS/cuSOLVER handles, the pool's pages).
      cuda::thompson_samples(bx, none, gps, bc, eps, gpu_device);
      std::vector<double> sample_s;
      for (int r = 0; r < gpu_repeats; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        cuda::thompson_samples(bx, none, gps, bc, eps, gpu_device);
        sample_s.push_back(seconds_since(t0));
      }
      // Whole no-refit proposals (posterior + joint sample + eq. 7) on the GPU and on the CPU: θ from
      // set_warm_start, refitted once with one iteration (not timed), then refit_every keeps it.
      // The times and the device that drew the last sample (a GPU request may fall back to the CPU).
      struct Timed {
        std::vector<double> seconds;
        std::string ran_on;
      };
      auto no_refit = [&](const std::string& device, int count) {
        ProposerSettings ps = s;
        ps.device = device;
        ps.cuda_min_candidates = 0;
        ps.refit_every = 1 << 30;
        ps.fit.warm_restarts = 0;
        ps.fit.warm_max_iterations = 1;
        Proposer prop(ps);
        prop.set_warm_start(theta_prev);
        auto once = [&](uint64_t seed) {
          sparse::PhiloxStream rng(seed);
          const auto t0 = std::chrono::steady_clock::now();
          const auto res = prop.propose(big, {}, big_cand, 1, rng);
          const double sec = seconds_since(t0);
          if (!res[0].model_based) {
            std::fprintf(stderr, "GPU-case proposal was not model-based\n");
            std::exit(1);
          }
          return sec;
        };
        once(200);
        std::vector<double> v;
        for (int r = 0; r < count; ++r) v.push_back(once(300 + static_cast<uint64_t>(r)));
        if (prop.last_sampling().device != device)
          std::printf("  (%s proposal sampled on %s: %s)\n", device.c_str(), prop.last_sampling().device.c_str(),
                      prop.last_sampling().fallback_reason.c_str());
        return Timed{v, prop.last_sampling().device};
      };
      const std::string dev = "cuda:" + std::to_string(gpu_device);
      const Timed gpu_prop = no_refit(dev, gpu_repeats);
      const double gs = median(sample_s), gp_s = median(gpu_prop.seconds);
      std::printf("GPU (%s) joint sample of 3 GPs, %d candidates, %d observations: %.1f ms (median of %d; target < 100 ms: %s)\n",
                  dev.c_str(), gpu_m, gpu_n, 1e3 * gs, gpu_repeats, gs < 0.1 ? "met" : "not met");
      std::printf("no-refit proposal asked for %s, sampled on %s (posterior + joint sample + eq. 7): %.1f ms "
                  "(median of %d)\n",
                  dev.c_str(), gpu_prop.ran_on.c_str(), 1e3 * gp_s, gpu_repeats);
      double cpu_s = -1.0;
      if (cpu_peer_repeats > 0) {
        cpu_s = median(no_refit("cpu", cpu_peer_repeats).seconds);
        std::printf("CPU peer, the same no-refit proposal on %d threads: %.2f s (median of %d): the %s run %.1fx faster\n",
                    std::min(threads, 3), cpu_s, cpu_peer_repeats, gpu_prop.ran_on.c_str(), cpu_s / gp_s);
      }
      char buf[512];
      std::snprintf(buf, sizeof buf,
                    ",\"gpu\":{\"device\":\"%s\",\"proposal_sampled_on\":\"%s\",\"observations\":%d,\"candidates\":%d,\"sample_seconds\":%.5f,"
                    "\"proposal_seconds\":%.5f,\"cpu_proposal_seconds\":%.4f,\"repeats\":%d,\"cpu_repeats\":%d}",
                    dev.c_str(), gpu_prop.ran_on.c_str(), gpu_n, gpu_m, gs, gp_s, cpu_s, gpu_repeats, cpu_peer_repeats);
      gpu_json = buf;
    }
  }
  if (json)
    std::printf("{\"seconds\":%.4f,\"warm_seconds\":%.4f,\"cold_seconds\":%.4f,\"sample_only_seconds\":%.4f,"
                "\"warm_cpu_seconds\":%.4f,\"cold_cpu_seconds\":%.4f,\"sample_only_cpu_seconds\":%.4f,"
                "\"lml_eval_seconds\":%.4f,\"warm_evaluations\":%d,\"cold_evaluations\":%d,\"warm_log_posterior\":%.3f,"
                "\"cold_log_posterior\":%.3f,\"observations\":%d,\"features\":%d,\"candidates\":%d,\"threads\":%d,"
                "\"restarts\":%d,\"warm_restarts\":%d,\"probe_iterations\":%d,\"max_iterations\":%d,"
                "\"warm_max_iterations\":%d,\"repeats\":%d%s}\n",
                w, w, c, so, wc, cc, soc, lml, warm_last.evaluations, cold_last.evaluations, warm_last.log_posterior,
                cold_last.log_posterior, n, kNumeric + kCategorical, m, std::min(threads, 3), s.fit.restarts, warm_restarts,
                s.fit.probe_iterations, s.fit.max_iterations, warm_iterations, repeats, gpu_json.c_str());
  return 0;
}
