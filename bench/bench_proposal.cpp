// One proposal at search scale (issue 5): three GPs on 500 observations of 60 features (48 numeric, 8 of
// them conditional, 12 categorical), hyper-parameter fit plus a joint Thompson sample over 2,000
// candidates. Prints the median of repeats per phase; --json prints one JSON line last with `seconds`.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  int repeats = 3, n = 500, m = 2000, iterations = 10, restarts = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) json = true;
    else if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc) repeats = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--iterations") && i + 1 < argc) iterations = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--restarts") && i + 1 < argc) restarts = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--n") && i + 1 < argc) n = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--m") && i + 1 < argc) m = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--json] [--repeats R] [--iterations I] [--restarts S] [--n N] [--m M]\n", argv[0]);
      return 2;
    }
  }
  sparse::PhiloxStream gen(42);
  std::vector<CompletedTrial> done;
  for (int i = 0; i < n; ++i) {
    CompletedTrial t;
    t.point = random_point(gen);
    t.objectives = objectives(t.point);
    done.push_back(std::move(t));
  }
  std::vector<EncodedPoint> cand;
  for (int i = 0; i < m; ++i) cand.push_back(random_point(gen));

  std::vector<double> lml_eval, fit_only, total;
  for (int r = 0; r < repeats; ++r) {
    // One likelihood + gradient evaluation (the unit of the fit's cost).
    {
      std::vector<EncodedPoint> pts;
      Eigen::VectorXd y(n);
      for (int i = 0; i < n; ++i) {
        pts.push_back(done[static_cast<size_t>(i)].point);
        y[i] = done[static_cast<size_t>(i)].objectives[0];
      }
      const Inputs xi = make_inputs(pts);
      const HyperPrior prior = HyperPrior::defaults(layout_of(xi));
      Eigen::VectorXd g;
      const auto t0 = std::chrono::steady_clock::now();
      const Standardization st = standardization_of(y);
      log_marginal_likelihood(xi, (y.array() - st.mean) / st.scale, prior.mean, &g);
      lml_eval.push_back(seconds_since(t0));
    }
    // The whole proposal: fit 3 GPs (from the prior mean, `restarts` random starts, `iterations` L-BFGS
    // iterations each), posterior on m candidates, joint sample, eq. 7.
    ProposerSettings s;
    s.num_objectives = 3;
    s.fit.restarts = restarts;
    s.fit.max_iterations = iterations;
    Proposer prop(s);
    sparse::PhiloxStream rng(7 + static_cast<uint64_t>(r));
    const auto t0 = std::chrono::steady_clock::now();
    const auto out = prop.propose(done, {}, cand, 1, rng);
    total.push_back(seconds_since(t0));
    if (!out[0].model_based) {
      std::fprintf(stderr, "proposal was not model-based\n");
      return 1;
    }
  }
  const double sec = median(total), lml = median(lml_eval);
  std::printf("observations %d, features %d (%d numeric, %d conditional, %d categorical), candidates %d, 3 GPs\n", n,
              kNumeric + kCategorical, kNumeric, kConditional, kCategorical, m);
  std::printf("one log-likelihood + gradient evaluation: %.3f s (median of %d)\n", lml, repeats);
  std::printf("proposal (fit: %d restarts, <= %d L-BFGS iterations; joint sample over %d): %.3f s (median of %d)\n",
              restarts, iterations, m, sec, repeats);
  if (json)
    std::printf("{\"seconds\":%.4f,\"lml_eval_seconds\":%.4f,\"observations\":%d,\"features\":%d,\"candidates\":%d,"
                "\"restarts\":%d,\"max_iterations\":%d}\n",
                sec, lml, n, kNumeric + kCategorical, m, restarts, iterations);
  return 0;
}
