// End-to-end quality benchmark of the gp/ optimizer (issue 5): random-scalarization Thompson sampling vs
// uniform random search on ZDT1, ZDT2, DTLZ2 (3 objectives) and BraninCurrin, same evaluation budget,
// 10 seeds; prints mean ± sd hypervolume as % of the known maximum; --json prints one JSON line last.
// Settings (documented in bench/RESULTS.md): initial uniform design, then one proposal per evaluation
// (q = 1, ρ = 1) from a candidate set of morph-like perturbations of Pareto points plus uniform points;
// hyper-parameters refitted every 3 evaluations (warm start + 1 random restart); the reference point is
// given as hard budgets; BraninCurrin is modelled in log space (as the engine models f2, f3).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gp/hypervolume.hpp"
#include "gp/pareto.hpp"
#include "gp/proposer.hpp"
#include "gp/test_problems.hpp"
#include "host/core/philox.hpp"

using namespace sparse::gp;

namespace {

struct Case {
  TestProblem problem;
  int budget, initial;
  bool log_objectives;  // model log f (positive, steep objectives), as the engine does for f2, f3
};

Eigen::VectorXd uniform_point(int dim, sparse::PhiloxStream& rng) {
  Eigen::VectorXd x(dim);
  for (int d = 0; d < dim; ++d) x[d] = rng.uniform();
  return x;
}

// Candidate set "like morphs": perturb a random Pareto point on a random subset of coordinates with a
// random step size, plus some uniform points.
std::vector<EncodedPoint> candidates(const std::vector<Eigen::VectorXd>& xs, const Eigen::MatrixXd& f, int local,
                                     int uniform, sparse::PhiloxStream& rng) {
  const std::vector<int> front = pareto_front(f);
  const int dim = static_cast<int>(xs[0].size());
  const double steps[4] = {0.01, 0.03, 0.1, 0.25};
  std::vector<EncodedPoint> out;
  for (int c = 0; c < local; ++c) {
    Eigen::VectorXd x = xs[static_cast<size_t>(front[rng.below(front.size())])];
    const double step = steps[rng.below(4)];
    const int forced = static_cast<int>(rng.below(static_cast<uint64_t>(dim)));
    for (int d = 0; d < dim; ++d)
      if (d == forced || rng.uniform() < 0.5) x[d] = std::clamp(x[d] + step * rng.normal(), 0.0, 1.0);
    out.push_back(points_from_matrix(x.transpose())[0]);
  }
  for (int c = 0; c < uniform; ++c) out.push_back(points_from_matrix(uniform_point(dim, rng).transpose())[0]);
  return out;
}

double hv_percent(const TestProblem& p, const std::vector<Eigen::VectorXd>& fs) {
  Eigen::MatrixXd f(static_cast<Eigen::Index>(fs.size()), p.num_objectives);
  for (size_t i = 0; i < fs.size(); ++i) f.row(static_cast<Eigen::Index>(i)) = fs[i].transpose();
  return 100.0 * hypervolume(f, p.ref) / p.max_hv;
}

double run_random(const Case& c, uint64_t seed) {
  sparse::PhiloxStream rng(seed, 2);
  std::vector<Eigen::VectorXd> fs;
  for (int i = 0; i < c.budget; ++i) fs.push_back(c.problem.evaluate(uniform_point(c.problem.dim, rng)));
  return hv_percent(c.problem, fs);
}

double run_optimizer(const Case& c, uint64_t seed, double shift) {
  sparse::PhiloxStream rng(seed, 1);
  const TestProblem& p = c.problem;
  std::vector<Eigen::VectorXd> xs, fs;
  for (int i = 0; i < c.initial; ++i) {
    xs.push_back(uniform_point(p.dim, rng));
    fs.push_back(p.evaluate(xs.back()));
  }
  ProposerSettings s;
  s.num_objectives = p.num_objectives;
  s.fit.restarts = 1;
  if (!std::isnan(shift)) s.normalization_shift = shift;
  s.refit_every = 3;
  // The reference point as hard budgets (in the modelled transform), as SpArSe's memory budgets.
  for (int k = 0; k < p.num_objectives; ++k) s.budgets.push_back(c.log_objectives ? std::log(p.ref[k]) : p.ref[k]);
  Proposer proposer(s);
  while (static_cast<int>(xs.size()) < c.budget) {
    Eigen::MatrixXd f(static_cast<Eigen::Index>(fs.size()), p.num_objectives);
    std::vector<CompletedTrial> done;
    for (size_t i = 0; i < fs.size(); ++i) {
      f.row(static_cast<Eigen::Index>(i)) = fs[i].transpose();
      CompletedTrial t;
      t.point = points_from_matrix(xs[i].transpose())[0];
      const Eigen::VectorXd modelled = c.log_objectives ? fs[i].array().log().matrix() : fs[i];
      t.objectives.assign(modelled.data(), modelled.data() + modelled.size());
      t.feasible = (fs[i].array() < p.ref.array()).all();
      done.push_back(std::move(t));
    }
    const std::vector<EncodedPoint> cand = candidates(xs, f, 400, 100, rng);
    const Proposal prop = proposer.propose(done, {}, cand, 1, rng)[0];
    Eigen::VectorXd x = prop.model_based ? Eigen::Map<const Eigen::VectorXd>(cand[static_cast<size_t>(prop.candidate)].numeric.data(), p.dim).eval()
                                         : uniform_point(p.dim, rng);
    xs.push_back(x);
    fs.push_back(p.evaluate(x));
  }
  return hv_percent(p, fs);
}

void mean_sd(const std::vector<double>& v, double& mean, double& sd) {
  mean = 0.0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0.0;
  for (double x : v) ss += (x - mean) * (x - mean);
  sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false, verbose = false;
  int seeds = 10;
  double shift = std::nan("");  // eq. 7 normalization shift; default: ProposerSettings' own
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) json = true;
    else if (!std::strcmp(argv[i], "--verbose")) verbose = true;
    else if (!std::strcmp(argv[i], "--seeds") && i + 1 < argc) seeds = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else if (!std::strcmp(argv[i], "--shift") && i + 1 < argc) shift = std::atof(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--json] [--verbose] [--seeds N] [--only PROBLEM] [--shift S]\n", argv[0]);
      return 2;
    }
  }
  const std::vector<Case> cases = {
      {zdt1(6), 60, 10, false}, {zdt2(6), 60, 10, false}, {dtlz2(3, 6), 80, 12, false}, {branin_currin(), 60, 8, true}};
  std::string js = "{\"seeds\":" + std::to_string(seeds) + ",\"problems\":{";
  bool first = true;
  std::printf("%-13s %4s %6s  %-18s %-18s %8s\n", "problem", "dim", "evals", "optimizer HV %", "random HV %", "opt s/run");
  for (const Case& c : cases) {
    if (!only.empty() && only != c.problem.name) continue;
    std::vector<double> opt, rnd;
    const auto t0 = std::chrono::steady_clock::now();
    for (int s = 0; s < seeds; ++s) {
      opt.push_back(run_optimizer(c, static_cast<uint64_t>(1000 + s), shift));
      if (verbose) std::fprintf(stderr, "  %s seed %d optimizer %.3f%%\n", c.problem.name.c_str(), 1000 + s, opt.back());
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / seeds;
    for (int s = 0; s < seeds; ++s) rnd.push_back(run_random(c, static_cast<uint64_t>(1000 + s)));
    double om, osd, rm, rsd;
    mean_sd(opt, om, osd);
    mean_sd(rnd, rm, rsd);
    std::printf("%-13s %4d %6d  %7.3f ± %-7.3f  %7.3f ± %-7.3f  %8.2f\n", c.problem.name.c_str(), c.problem.dim, c.budget,
                om, osd, rm, rsd, secs);
    std::fflush(stdout);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s\"%s\":{\"evaluations\":%d,\"dim\":%d,\"objectives\":%d,\"optimizer_hv_pct\":%.4f,"
                  "\"optimizer_hv_pct_sd\":%.4f,\"random_hv_pct\":%.4f,\"random_hv_pct_sd\":%.4f,\"optimizer_seconds_per_run\":%.3f}",
                  first ? "" : ",", c.problem.name.c_str(), c.budget, c.problem.dim, c.problem.num_objectives, om, osd, rm,
                  rsd, secs);
    js += buf;
    first = false;
  }
  js += "}}";
  if (json) std::printf("%s\n", js.c_str());
  return 0;
}
