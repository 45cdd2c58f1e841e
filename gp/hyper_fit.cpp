// Projected L-BFGS on the negative log posterior of the GP hyper-parameters (REFERENCE §7).
#include "gp/hyper_fit.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <vector>

#include "gp/gp_regression.hpp"
#include "host/core/error.hpp"

namespace sparse::gp {

HyperPrior HyperPrior::defaults(const KernelLayout& l) {
  HyperPrior p;
  const int n = l.size();
  p.mean = Eigen::VectorXd::Zero(n);
  p.sd = Eigen::VectorXd::Constant(n, 1.5);
  p.lower = Eigen::VectorXd::Constant(n, std::log(0.01));
  p.upper = Eigen::VectorXd::Constant(n, std::log(20.0));
  p.mean.head(l.num_numeric).setConstant(std::log(0.5));
  p.mean[l.noise()] = std::log(1e-3);
  p.sd[l.noise()] = 3.0;
  p.lower[l.noise()] = std::log(1e-6);
  p.upper[l.noise()] = std::log(2.0);
  return p;
}

double HyperPrior::log_density(const Eigen::VectorXd& theta, Eigen::VectorXd* grad) const {
  const Eigen::ArrayXd z = (theta - mean).array() / sd.array();
  if (grad) *grad -= (z / sd.array()).matrix();
  return -0.5 * z.square().sum();
}

namespace {

struct Objective {  // negative log posterior and its gradient
  const Inputs& x;
  const Eigen::VectorXd& y_std;
  const HyperPrior& prior;
  int evaluations = 0;
  LikelihoodWorkspace ws;
  double operator()(const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    ++evaluations;
    Eigen::VectorXd g;
    const double lml = log_marginal_likelihood(x, y_std, theta, &g, ws);
    if (!std::isfinite(lml)) {
      grad.setZero(theta.size());
      return std::numeric_limits<double>::infinity();
    }
    const double lp = prior.log_density(theta, &g);
    grad = -g;
    return -(lml + lp);
  }
};

Eigen::VectorXd clamp(const Eigen::VectorXd& t, const HyperPrior& p) { return t.cwiseMax(p.lower).cwiseMin(p.upper); }

// Resumable projected L-BFGS state on f from one start.
struct LbfgsRun {
  Eigen::VectorXd theta, g;
  double fx = std::numeric_limits<double>::infinity();
  std::deque<std::pair<Eigen::VectorXd, Eigen::VectorXd>> mem;  // (s, y)
  int iterations = 0;
  bool finished = false;  // converged, stalled or non-finite start
};

LbfgsRun lbfgs_start(Objective& f, const Eigen::VectorXd& theta0, const HyperPrior& p) {
  LbfgsRun r;
  r.theta = clamp(theta0, p);
  r.fx = f(r.theta, r.g);
  r.finished = !std::isfinite(r.fx);
  return r;
}

// Runs r until it has done max_iterations iterations in all or finished. Active-set variant: coordinates
// held at a bound by the gradient are fixed for the iteration, the two-loop recursion works on the free
// ones only (inner products restricted to them), so the bounds do not spoil the quasi-Newton direction.
void lbfgs_continue(Objective& f, LbfgsRun& r, int max_iterations, const FitSettings& s, const HyperPrior& p) {
  auto& mem = r.mem;
  const Eigen::Index dim = r.theta.size();
  while (!r.finished && r.iterations < max_iterations) {
    ++r.iterations;
    Eigen::ArrayXd free = Eigen::ArrayXd::Ones(dim);
    for (Eigen::Index i = 0; i < dim; ++i)
      if ((r.theta[i] <= p.lower[i] && r.g[i] > 0) || (r.theta[i] >= p.upper[i] && r.g[i] < 0)) free[i] = 0.0;
    const Eigen::VectorXd pg = (r.g.array() * free).matrix();
    if (pg.lpNorm<Eigen::Infinity>() < 1e-5) {
      r.finished = true;
      break;
    }
    // Two-loop recursion on the free coordinates.
    Eigen::VectorXd q = pg;
    std::vector<double> a(mem.size()), rho(mem.size(), 0.0);
    double gamma = 0.0;
    for (int i = static_cast<int>(mem.size()) - 1; i >= 0; --i) {
      const auto& [si, yi] = mem[static_cast<size_t>(i)];
      const double sy = (si.array() * yi.array() * free).sum();
      if (sy <= 1e-12) continue;
      const size_t u = static_cast<size_t>(i);
      rho[u] = 1.0 / sy;
      if (gamma == 0.0) gamma = sy / (yi.array().square() * free).sum();
      a[u] = rho[u] * (si.array() * q.array() * free).sum();
      q.array() -= a[u] * yi.array() * free;
    }
    if (gamma > 0.0) q *= gamma;
    for (size_t i = 0; i < mem.size(); ++i) {
      if (rho[i] == 0.0) continue;
      const auto& [si, yi] = mem[i];
      const double b = rho[i] * (yi.array() * q.array() * free).sum();
      q.array() += (a[i] - b) * si.array() * free;
    }
    Eigen::VectorXd dir = -q;
    if (gamma == 0.0 || dir.dot(pg) >= 0) {  // no usable curvature or not a descent direction: steepest descent
      mem.clear();
      dir = -pg;
    }
    // Backtracking (Armijo) on the projected path; the first trial moves no coordinate by more than
    // kMaxStep in log space (a factor e^kMaxStep on a length scale or variance); after a failed trial the
    // next step minimizes the quadratic through f(0), f'(0) and the trial, kept within [0.1, 0.5] of it.
    constexpr double kMaxStep = 1.0;
    const double dmax = dir.lpNorm<Eigen::Infinity>();
    const double slope = r.g.dot(dir);  // < 0
    double step = std::min(1.0, kMaxStep / dmax);
    bool accepted = false;
    Eigen::VectorXd theta_new, g_new;
    double f_new = r.fx;
    for (int ls = 0; ls < 20; ++ls) {
      theta_new = clamp(r.theta + step * dir, p);
      f_new = f(theta_new, g_new);
      if (std::isfinite(f_new) && f_new <= r.fx + 1e-4 * r.g.dot(theta_new - r.theta)) {
        accepted = true;
        break;
      }
      double next = 0.1 * step;
      if (std::isfinite(f_new)) {
        const double curvature = (f_new - r.fx - slope * step) / (step * step);
        if (curvature > 0.0) next = std::clamp(-slope / (2.0 * curvature), 0.1 * step, 0.5 * step);
      }
      step = next;
    }
    if (!accepted) {
      r.finished = true;
      break;
    }
    Eigen::VectorXd sv = theta_new - r.theta, yv = g_new - r.g;
    const double improvement = r.fx - f_new;
    r.theta = theta_new;
    r.g = g_new;
    r.fx = f_new;
    if (sv.dot(yv) > 1e-10) {
      mem.emplace_back(sv, yv);
      if (static_cast<int>(mem.size()) > s.history) mem.pop_front();
    }
    if (improvement < 1e-9 * (1.0 + std::abs(r.fx))) r.finished = true;
  }
}

}  // namespace

Eigen::VectorXd data_scaled_start(const Inputs& x) {
  const KernelLayout l = layout_of(x);
  const HyperPrior prior = HyperPrior::defaults(l);
  Eigen::VectorXd t = prior.mean;
  const Eigen::Index n = x.size();
  if (n < 2) return t;
  const double pairs = static_cast<double>(n) * static_cast<double>(n - 1);
  // Mean over pairs i ≠ j of |x_i − x_j|² = 2n/(n−1) Σ_d var_d (population variances, imputed values).
  if (l.num_numeric > 0) {
    const Eigen::RowVectorXd mean = x.numeric.colwise().mean();
    const double ss = (x.numeric.rowwise() - mean).squaredNorm();
    const double r2 = 2.0 * ss / static_cast<double>(n - 1);
    if (r2 > 0.0) t.head(l.num_numeric).setConstant(0.5 * std::log(r2));
  }
  // Mean number of categorical mismatches: Σ_d (1 − Σ_levels c(c−1)/(n(n−1))).
  if (l.num_categorical > 0) {
    double mism = 0.0;
    for (int d = 0; d < l.num_categorical; ++d) {
      const int top = x.categorical.col(d).maxCoeff();
      std::vector<double> count(static_cast<size_t>(top) + 2, 0.0);
      for (Eigen::Index i = 0; i < n; ++i) count[static_cast<size_t>(x.categorical(i, d) + 1)] += 1.0;
      double same = 0.0;
      for (double c : count) same += c * (c - 1.0);
      mism += 1.0 - same / pairs;
    }
    if (mism > 0.0) t.segment(l.num_numeric, l.num_categorical).setConstant(std::log(mism));
  }
  // Mean number of activity mismatches: Σ_d 2 a (n − a)/(n(n−1)), a = active count of dimension d.
  double act = 0.0;
  for (int d = 0; d < l.num_numeric; ++d) {
    const double a = x.numeric_active.col(d).cast<double>().sum();
    act += 2.0 * a * (static_cast<double>(n) - a) / pairs;
  }
  if (act > 0.0) t[l.act()] = std::log(act);
  return clamp(t, prior);
}

std::vector<Eigen::VectorXd> fit_starts(const Inputs& x, const FitSettings& settings, sparse::PhiloxStream& rng,
                                        const Eigen::VectorXd* warm_start) {
  SPARSE_CHECK(settings.restarts >= 0 && settings.warm_restarts >= 0,
               "restarts is " << settings.restarts << " and warm_restarts " << settings.warm_restarts
                              << ", expected both >= 0");
  const KernelLayout layout = layout_of(x);
  const HyperPrior prior = HyperPrior::defaults(layout);
  std::vector<Eigen::VectorXd> starts;
  int restarts = settings.restarts;
  if (warm_start) {
    SPARSE_CHECK(warm_start->size() == layout.size(), "warm start has " << warm_start->size()
                                                                       << " hyper-parameters, expected " << layout.size());
    starts.push_back(*warm_start);
    if (x.size() >= settings.economy_from_observations) restarts = settings.warm_restarts;
  } else {
    starts.push_back(prior.mean);
    if (settings.scaled_start) {
      Eigen::VectorXd t = data_scaled_start(x);
      if (t != prior.mean) starts.push_back(std::move(t));
    }
  }
  for (int r = 0; r < restarts; ++r) {
    Eigen::VectorXd t(layout.size());
    for (int i = 0; i < layout.size(); ++i) t[i] = prior.mean[i] + prior.sd[i] * rng.normal();
    starts.push_back(t);
  }
  return starts;
}

FitResult fit_hyperparameters_from(const Inputs& x, const Eigen::VectorXd& y, const FitSettings& fit_settings,
                                   const std::vector<Eigen::VectorXd>& starts, bool warm) {
  SPARSE_CHECK(x.size() >= 2, "hyper-parameter fit needs at least 2 observations, got " << x.size());
  SPARSE_CHECK(!starts.empty(), "hyper-parameter fit needs at least one start");
  SPARSE_CHECK(fit_settings.probe_iterations >= 0 && fit_settings.warm_max_iterations >= 0,
               "probe_iterations is " << fit_settings.probe_iterations << " and warm_max_iterations "
                                      << fit_settings.warm_max_iterations << ", expected both >= 0");
  FitSettings settings = fit_settings;
  const bool economy = x.size() >= settings.economy_from_observations;
  if (warm && economy) settings.max_iterations = std::min(settings.max_iterations, settings.warm_max_iterations);
  const KernelLayout layout = layout_of(x);
  const HyperPrior prior = HyperPrior::defaults(layout);
  const Standardization st = standardization_of(y);
  const Eigen::VectorXd y_std = (y.array() - st.mean) / st.scale;
  Objective f{x, y_std, prior, 0, {}};
  std::vector<LbfgsRun> runs;
  for (const Eigen::VectorXd& s0 : starts) {
    SPARSE_CHECK(s0.size() == layout.size(), "start has " << s0.size() << " hyper-parameters, expected " << layout.size());
    runs.push_back(lbfgs_start(f, s0, prior));
    // Without probing every start runs to the end; with probing only probe_iterations for now.
    const bool probe = economy && settings.probe_iterations > 0 && starts.size() > 1;
    const int first = probe ? std::min(settings.probe_iterations, settings.max_iterations) : settings.max_iterations;
    lbfgs_continue(f, runs.back(), first, settings, prior);
  }
  auto best = std::min_element(runs.begin(), runs.end(), [](const LbfgsRun& a, const LbfgsRun& b) {
    if (!std::isfinite(b.fx)) return std::isfinite(a.fx);
    return std::isfinite(a.fx) && a.fx < b.fx;
  });
  lbfgs_continue(f, *best, settings.max_iterations, settings, prior);  // the probed winner goes on (no-op otherwise)
  FitResult out;
  SPARSE_CHECK(std::isfinite(best->fx), "hyper-parameter fit failed from every start on "
                                            << x.size() << " observations; expected a finite likelihood");
  out.theta = best->theta;
  out.log_posterior = -best->fx;
  out.evaluations = f.evaluations;
  return out;
}

FitResult fit_hyperparameters(const Inputs& x, const Eigen::VectorXd& y, const FitSettings& settings,
                              sparse::PhiloxStream& rng, const Eigen::VectorXd* warm_start) {
  SPARSE_CHECK(x.size() >= 2, "hyper-parameter fit needs at least 2 observations, got " << x.size());
  return fit_hyperparameters_from(x, y, settings, fit_starts(x, settings, rng, warm_start), warm_start != nullptr);
}

}  // namespace sparse::gp
