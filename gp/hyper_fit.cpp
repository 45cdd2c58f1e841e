// Projected L-BFGS on the negative log posterior of the GP hyper-parameters (REFERENCE §7).
#include "gp/hyper_fit.hpp"

#include <cmath>
#include <deque>
#include <limits>

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
  double operator()(const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    ++evaluations;
    Eigen::VectorXd g;
    const double lml = log_marginal_likelihood(x, y_std, theta, &g);
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

// Gradient with components that push outside an active bound set to zero.
Eigen::VectorXd projected_gradient(const Eigen::VectorXd& t, const Eigen::VectorXd& g, const HyperPrior& p) {
  Eigen::VectorXd pg = g;
  for (Eigen::Index i = 0; i < t.size(); ++i)
    if ((t[i] <= p.lower[i] && g[i] > 0) || (t[i] >= p.upper[i] && g[i] < 0)) pg[i] = 0.0;
  return pg;
}

// Minimizes f from theta0; returns the best point and value.
std::pair<Eigen::VectorXd, double> lbfgs(Objective& f, Eigen::VectorXd theta, const FitSettings& s, const HyperPrior& p) {
  theta = clamp(theta, p);
  Eigen::VectorXd g;
  double fx = f(theta, g);
  if (!std::isfinite(fx)) return {theta, fx};
  std::deque<std::pair<Eigen::VectorXd, Eigen::VectorXd>> mem;  // (s, y)
  for (int it = 0; it < s.max_iterations; ++it) {
    Eigen::VectorXd pg = projected_gradient(theta, g, p);
    if (pg.lpNorm<Eigen::Infinity>() < 1e-5) break;
    // Two-loop recursion on the projected gradient.
    Eigen::VectorXd q = pg;
    std::vector<double> a(mem.size());
    for (int i = static_cast<int>(mem.size()) - 1; i >= 0; --i) {
      const auto& [si, yi] = mem[static_cast<size_t>(i)];
      a[static_cast<size_t>(i)] = si.dot(q) / yi.dot(si);
      q -= a[static_cast<size_t>(i)] * yi;
    }
    if (!mem.empty()) q *= mem.back().first.dot(mem.back().second) / mem.back().second.squaredNorm();
    for (size_t i = 0; i < mem.size(); ++i) {
      const auto& [si, yi] = mem[i];
      const double b = yi.dot(q) / yi.dot(si);
      q += (a[i] - b) * si;
    }
    Eigen::VectorXd dir = -q;
    if (dir.dot(pg) >= 0) {  // not a descent direction: restart from steepest descent
      mem.clear();
      dir = -pg;
    }
    // Backtracking (Armijo) on the projected path; first step capped to 1 in log space per coordinate.
    double step = 1.0;
    const double dmax = dir.lpNorm<Eigen::Infinity>();
    if (mem.empty() && dmax > 1.0) step = 1.0 / dmax;
    bool accepted = false;
    Eigen::VectorXd theta_new, g_new;
    double f_new = fx;
    for (int ls = 0; ls < 20; ++ls) {
      theta_new = clamp(theta + step * dir, p);
      f_new = f(theta_new, g_new);
      if (std::isfinite(f_new) && f_new <= fx + 1e-4 * g.dot(theta_new - theta)) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    Eigen::VectorXd sv = theta_new - theta, yv = g_new - g;
    const double improvement = fx - f_new;
    theta = theta_new;
    g = g_new;
    fx = f_new;
    if (sv.dot(yv) > 1e-10) {
      mem.emplace_back(sv, yv);
      if (static_cast<int>(mem.size()) > s.history) mem.pop_front();
    }
    if (improvement < 1e-9 * (1.0 + std::abs(fx))) break;
  }
  return {theta, fx};
}

}  // namespace

FitResult fit_hyperparameters(const Inputs& x, const Eigen::VectorXd& y, const FitSettings& settings,
                              sparse::PhiloxStream& rng, const Eigen::VectorXd* warm_start) {
  SPARSE_CHECK(x.size() >= 2, "hyper-parameter fit needs at least 2 observations, got " << x.size());
  SPARSE_CHECK(settings.restarts >= 0, "restarts is " << settings.restarts << ", expected >= 0");
  const KernelLayout layout = layout_of(x);
  const HyperPrior prior = HyperPrior::defaults(layout);
  const Standardization st = standardization_of(y);
  const Eigen::VectorXd y_std = (y.array() - st.mean) / st.scale;
  Objective f{x, y_std, prior};
  std::vector<Eigen::VectorXd> starts;
  if (warm_start) {
    SPARSE_CHECK(warm_start->size() == layout.size(), "warm start has " << warm_start->size()
                                                                       << " hyper-parameters, expected " << layout.size());
    starts.push_back(*warm_start);
  } else {
    starts.push_back(prior.mean);
  }
  for (int r = 0; r < settings.restarts; ++r) {
    Eigen::VectorXd t(layout.size());
    for (int i = 0; i < layout.size(); ++i) t[i] = prior.mean[i] + prior.sd[i] * rng.normal();
    starts.push_back(t);
  }
  FitResult best;
  best.log_posterior = -std::numeric_limits<double>::infinity();
  for (const Eigen::VectorXd& s0 : starts) {
    auto [theta, fx] = lbfgs(f, s0, settings, prior);
    if (std::isfinite(fx) && -fx > best.log_posterior) {
      best.log_posterior = -fx;
      best.theta = theta;
    }
  }
  SPARSE_CHECK(best.theta.size() == layout.size(),
               "hyper-parameter fit failed from every start on " << x.size() << " observations; expected a finite likelihood");
  best.evaluations = f.evaluations;
  return best;
}

}  // namespace sparse::gp
