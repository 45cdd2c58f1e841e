// Proposal step: fit, fantasize pending trials, joint Thompson sample, eq. 7 with budgets, ρ-mixing.
#include "gp/proposer.hpp"

#include <cmath>

#include "gp/gp_regression.hpp"
#include "gp/scalarization.hpp"
#include "gp/thompson.hpp"
#include "host/core/error.hpp"

namespace sparse::gp {

Proposer::Proposer(ProposerSettings settings) : s_(std::move(settings)) {
  SPARSE_CHECK(s_.num_objectives >= 1, "num_objectives is " << s_.num_objectives << ", expected >= 1");
  SPARSE_CHECK(s_.rho >= 0.0 && s_.rho <= 1.0, "rho is " << s_.rho << ", expected a probability in [0, 1]");
  SPARSE_CHECK(s_.budgets.empty() || static_cast<int>(s_.budgets.size()) == s_.num_objectives,
               "got " << s_.budgets.size() << " budgets, expected 0 or " << s_.num_objectives);
  SPARSE_CHECK(s_.lambda_lower.size() == s_.lambda_upper.size() &&
                   (s_.lambda_lower.empty() || static_cast<int>(s_.lambda_lower.size()) == s_.num_objectives),
               "box prior on lambda has " << s_.lambda_lower.size() << " lower and " << s_.lambda_upper.size()
                                          << " upper bounds, expected both 0 or " << s_.num_objectives);
  SPARSE_CHECK(s_.refit_every >= 1, "refit_every is " << s_.refit_every << ", expected >= 1");
}

std::vector<Proposal> Proposer::propose(const std::vector<CompletedTrial>& completed,
                                        const std::vector<EncodedPoint>& pending,
                                        const std::vector<EncodedPoint>& candidates, int q, sparse::PhiloxStream& rng) {
  SPARSE_CHECK(q >= 1, "q is " << q << ", expected at least one proposal");
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

  // Hyper-parameters: refit every refit_every completed trials, warm-started from the last fit.
  const bool refit = theta_.empty() || n - fitted_at_ >= s_.refit_every;
  if (refit) {
    std::vector<Eigen::VectorXd> fresh;
    for (int k = 0; k < k_obj; ++k) {
      const Eigen::VectorXd* warm = theta_.empty() ? nullptr : &theta_[static_cast<size_t>(k)];
      fresh.push_back(fit_hyperparameters(x, y.col(k), s_.fit, rng, warm).theta);
    }
    theta_ = std::move(fresh);
    fitted_at_ = n;
    ++fits_;
  }

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

  // One joint Thompson draw per model-based slot and objective: samples[k] is m × model_slots.
  std::vector<Eigen::MatrixXd> samples;
  for (int k = 0; k < k_obj; ++k) {
    GaussianProcess gp(x, y.col(k), theta_[static_cast<size_t>(k)]);
    gp.add_fantasies(xp);
    const Posterior post = gp.posterior(xc, true);
    samples.push_back(thompson_samples(post.mean, post.cov, model_slots, rng).samples);
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
