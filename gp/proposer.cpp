// Proposal step: fit, fantasize pending trials, joint Thompson sample, eq. 7 with budgets, ρ-mixing.
#include "gp/proposer.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <cstdio>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "gp/cuda/thompson_cuda.hpp"
#include "gp/gp_regression.hpp"
#include "gp/scalarization.hpp"
#include "gp/thompson.hpp"
#include "host/core/error.hpp"

namespace sparse::gp {
namespace {

// Runs task(0), …, task(count − 1) on `workers` threads (the caller's thread alone when workers <= 1); tasks
// are claimed in index order, so a task may wait for an earlier one. The first exception is rethrown after
// every worker has stopped.
void run_tasks(int workers, int count, const std::function<void(int)>& task) {
  if (workers <= 1) {
    for (int t = 0; t < count; ++t) task(t);
    return;
  }
  std::atomic<int> next{0};
  std::mutex mu;
  std::exception_ptr error;
  auto worker = [&] {
    for (int t = next++; t < count; t = next++) {
      try {
        task(t);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < std::min(workers, count); ++w) pool.emplace_back(worker);
  worker();
  for (std::thread& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

// "cpu" → −1, "cuda" → 0, "cuda:N" → N; anything else is an error naming the accepted forms.
int parse_device(const std::string& d) {
  if (d == "cpu") return -1;
  if (d == "cuda") return 0;
  const std::string prefix = "cuda:";
  bool ok = d.size() > prefix.size() && d.size() <= prefix.size() + 4 && d.compare(0, prefix.size(), prefix) == 0;
  for (size_t i = prefix.size(); ok && i < d.size(); ++i) ok = d[i] >= '0' && d[i] <= '9';
  SPARSE_CHECK(ok, "device is '" << d << "', expected \"cpu\", \"cuda\" or \"cuda:N\"");
  return std::stoi(d.substr(prefix.size()));
}

}  // namespace

Proposer::Proposer(ProposerSettings settings) : s_(std::move(settings)), cuda_device_(parse_device(s_.device)) {
  SPARSE_CHECK(s_.num_objectives >= 1, "num_objectives is " << s_.num_objectives << ", expected >= 1");
  SPARSE_CHECK(s_.rho >= 0.0 && s_.rho <= 1.0, "rho is " << s_.rho << ", expected a probability in [0, 1]");
  SPARSE_CHECK(s_.budgets.empty() || static_cast<int>(s_.budgets.size()) == s_.num_objectives,
               "got " << s_.budgets.size() << " budgets, expected 0 or " << s_.num_objectives);
  SPARSE_CHECK(s_.lambda_lower.size() == s_.lambda_upper.size() &&
                   (s_.lambda_lower.empty() || static_cast<int>(s_.lambda_lower.size()) == s_.num_objectives),
               "box prior on lambda has " << s_.lambda_lower.size() << " lower and " << s_.lambda_upper.size()
                                          << " upper bounds, expected both 0 or " << s_.num_objectives);
  SPARSE_CHECK(s_.refit_every >= 1, "refit_every is " << s_.refit_every << ", expected >= 1");
  SPARSE_CHECK(s_.threads >= 0, "threads is " << s_.threads << ", expected >= 0 (0 = hardware concurrency)");
  SPARSE_CHECK(s_.cuda_min_candidates >= 0,
               "cuda_min_candidates is " << s_.cuda_min_candidates << ", expected >= 0 (0 = any candidate set)");
}

void Proposer::set_warm_start(std::vector<Eigen::VectorXd> theta) {
  SPARSE_CHECK(static_cast<int>(theta.size()) == s_.num_objectives,
               "warm start has " << theta.size() << " hyper-parameter vectors, expected " << s_.num_objectives);
  theta_ = std::move(theta);
  force_refit_ = true;
}

std::vector<Proposal> Proposer::propose(const std::vector<CompletedTrial>& completed,
                                        const std::vector<EncodedPoint>& pending,
                                        const std::vector<EncodedPoint>& candidates, int q, sparse::PhiloxStream& rng) {
  SPARSE_CHECK(q >= 1, "q is " << q << ", expected at least one proposal");
  sampling_ = SamplingReport{};
  const int k_obj = s_.num_objectives;
  std::vector<Proposal> out(static_cast<size_t>(q));
  int model_slots = 0;
  for (Proposal& p : out) {
    p.model_based = choose_model_based(s_.rho, rng);
    model_slots += p.model_based;
  }
  const int n = static_cast<int>(completed.size());
  const int m = static_cast<int>(candidates.size());
  if (n < 2 || m == 0 || model_slots == 0) {
    for (Proposal& p : out) p.model_based = false;
    return out;
  }
  // Observations.
  std::vector<EncodedPoint> pts;
  pts.reserve(static_cast<size_t>(n));
  Eigen::MatrixXd y(n, k_obj);
  for (int i = 0; i < n; ++i) {
    const CompletedTrial& t = completed[static_cast<size_t>(i)];
    SPARSE_CHECK(static_cast<int>(t.objectives.size()) == k_obj,
                 "completed trial " << i << " has " << t.objectives.size() << " objectives, expected " << k_obj);
    for (int k = 0; k < k_obj; ++k) {
      SPARSE_CHECK(std::isfinite(t.objectives[static_cast<size_t>(k)]),
                   "completed trial " << i << " objective " << k << " is " << t.objectives[static_cast<size_t>(k)]
                                      << ", expected a finite value");
      y(i, k) = t.objectives[static_cast<size_t>(k)];
    }
    pts.push_back(t.point);
  }
  const Inputs x = make_inputs(pts);
  const Inputs xc = make_inputs(candidates, x.num_numeric(), x.num_categorical());
  const Inputs xp = make_inputs(pending, x.num_numeric(), x.num_categorical());

  // Hyper-parameters: refit every refit_every completed trials (or after set_warm_start), warm-started from
  // the last fit. The random draws (restart points, then the normals of the joint samples) come from rng in
  // a fixed order here, so the per-objective work below can run in parallel and stay deterministic.
  const bool refit = theta_.empty() || force_refit_ || n - fitted_at_ >= s_.refit_every;
  std::vector<std::vector<Eigen::VectorXd>> starts;
  if (refit)
    for (int k = 0; k < k_obj; ++k)
      starts.push_back(fit_starts(x, s_.fit, rng,
                                  theta_.empty() ? nullptr : &theta_[static_cast<size_t>(k)]));
  std::vector<Eigen::MatrixXd> eps;
  for (int k = 0; k < k_obj; ++k) eps.push_back(standard_normals(m, model_slots, rng));
  // Normalization of eq. 7 over observed trials (only the feasible ones when asked and at least two).
  std::vector<int> feasible;
  for (int i = 0; i < n; ++i)
    if (completed[static_cast<size_t>(i)].feasible) feasible.push_back(i);
  Eigen::MatrixXd observed = y;
  if (s_.normalize_over_feasible && feasible.size() >= 2) {
    observed.resize(static_cast<Eigen::Index>(feasible.size()), k_obj);
    for (size_t r = 0; r < feasible.size(); ++r) observed.row(static_cast<Eigen::Index>(r)) = y.row(feasible[r]);
  }
  const MinMaxNormalization norm = MinMaxNormalization::over(observed, s_.normalization_shift);
  Eigen::VectorXd budgets = Eigen::VectorXd::Constant(k_obj, std::numeric_limits<double>::infinity());
  for (size_t k = 0; k < s_.budgets.size(); ++k)
    if (!std::isnan(s_.budgets[k])) budgets[static_cast<Eigen::Index>(k)] = s_.budgets[k];

  // Tasks: the K fits (when refitting), then the K joint samples, each sample after its objective's fit;
  // claimed in that order by min(threads, K) workers. One joint Thompson draw per model-based slot and
  // objective: samples[k] is m × model_slots. On a GPU the K samples are one batched call after the fits.
  const bool on_gpu = cuda_device_ >= 0 && m >= s_.cuda_min_candidates;
  std::vector<Eigen::VectorXd> fresh(static_cast<size_t>(k_obj));
  std::vector<Eigen::MatrixXd> samples(static_cast<size_t>(k_obj));
  std::vector<int> evaluations(static_cast<size_t>(k_obj), 0);
  std::vector<std::promise<void>> fitted(static_cast<size_t>(k_obj));
  std::vector<std::shared_future<void>> fitted_f;
  for (auto& pr : fitted) fitted_f.push_back(pr.get_future().share());
  const int fit_tasks = refit ? k_obj : 0;
  auto cpu_sample = [&](int k, const Eigen::VectorXd& theta) {
    GaussianProcess gp(x, y.col(k), theta);
    gp.add_fantasies(xp);
    return thompson_samples(gp, xc, eps[static_cast<size_t>(k)]).samples;
  };
  auto task = [&](int t) {
    if (t < fit_tasks) {
      const size_t k = static_cast<size_t>(t);
      try {
        const FitResult r = fit_hyperparameters_from(x, y.col(t), s_.fit, starts[k], !theta_.empty());
        fresh[k] = r.theta;
        evaluations[k] = r.evaluations;
        fitted[k].set_value();
      } catch (...) {
        fitted[k].set_exception(std::current_exception());
        throw;
      }
      return;
    }
    const int k = t - fit_tasks;
    const size_t kk = static_cast<size_t>(k);
    if (refit) fitted_f[kk].get();
    samples[kk] = cpu_sample(k, refit ? fresh[kk] : theta_[kk]);
  };
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int workers = std::min(s_.threads > 0 ? s_.threads : hw, k_obj);
  run_tasks(workers, fit_tasks + (on_gpu ? 0 : k_obj), task);
  if (refit) {
    theta_ = std::move(fresh);
    fitted_at_ = n;
    force_refit_ = false;
    ++fits_;
    last_fit_evaluations_ = 0;
    for (int e : evaluations) last_fit_evaluations_ += e;
  }
  sampling_.device = "cpu";
  if (on_gpu) {
    // The K objectives at once on the GPU (θ is theta_ now, refitted or not); any failure falls back to the
    // CPU path with the same normals, and the reason is kept and logged.
    const std::string name = "cuda:" + std::to_string(cuda_device_);
    std::string reason;
    if (cuda::available(cuda_device_, &reason)) {
      try {
        std::vector<cuda::ObjectiveGp> gps;
        for (int k = 0; k < k_obj; ++k) gps.push_back(cuda::ObjectiveGp{y.col(k), theta_[static_cast<size_t>(k)]});
        std::vector<ThompsonDraw> draws = cuda::thompson_samples(x, xp, gps, xc, eps, cuda_device_);
        for (int k = 0; k < k_obj; ++k) samples[static_cast<size_t>(k)] = std::move(draws[static_cast<size_t>(k)].samples);
        sampling_.device = name;
      } catch (const std::exception& e) {
        reason = e.what();
      }
    }
    if (sampling_.device != name) {
      sampling_.fallback_reason = reason;
      if (reason != logged_reason_) {
        std::fprintf(stderr, "sparse gp: joint Thompson samples on the CPU instead of %s: %s\n", name.c_str(),
                     reason.c_str());
        logged_reason_ = reason;
      }
      run_tasks(workers, k_obj, [&](int k) { samples[static_cast<size_t>(k)] = cpu_sample(k, theta_[static_cast<size_t>(k)]); });
    }
  }

  // A candidate identical to a completed or pending trial is never proposed again (no information gain).
  std::vector<bool> taken(static_cast<size_t>(m), false);
  auto same = [](const Inputs& a, int i, const Inputs& b, int j) {
    if (a.num_numeric() > 0 && a.numeric(i, 0) != b.numeric(j, 0)) return false;  // cheap first test
    return a.numeric.row(i) == b.numeric.row(j) && a.numeric_active.row(i) == b.numeric_active.row(j) &&
           a.categorical.row(i) == b.categorical.row(j);
  };
  for (int c = 0; c < m; ++c) {
    for (int i = 0; i < x.size() && !taken[static_cast<size_t>(c)]; ++i) taken[static_cast<size_t>(c)] = same(xc, c, x, i);
    for (int i = 0; i < xp.size() && !taken[static_cast<size_t>(c)]; ++i) taken[static_cast<size_t>(c)] = same(xc, c, xp, i);
  }
  int slot = 0;
  for (Proposal& p : out) {
    if (!p.model_based) continue;
    const Eigen::VectorXd lambda =
        s_.lambda_lower.empty()
            ? dirichlet_weights(k_obj, rng)
            : box_prior_weights(Eigen::Map<const Eigen::VectorXd>(s_.lambda_lower.data(), k_obj),
                                Eigen::Map<const Eigen::VectorXd>(s_.lambda_upper.data(), k_obj), rng);
    Eigen::MatrixXd s(m, k_obj);
    for (int k = 0; k < k_obj; ++k) s.col(k) = samples[static_cast<size_t>(k)].col(slot);
    ++slot;
    const int c = choose_by_scalarization(s, lambda, norm, budgets, taken);
    if (c < 0) {
      p.model_based = false;
      continue;
    }
    taken[static_cast<size_t>(c)] = true;
    p.candidate = c;
    p.lambda.assign(lambda.data(), lambda.data() + k_obj);
    p.sampled_objectives.resize(static_cast<size_t>(k_obj));
    for (int k = 0; k < k_obj; ++k) p.sampled_objectives[static_cast<size_t>(k)] = s(c, k);
  }
  return out;
}

}  // namespace sparse::gp
