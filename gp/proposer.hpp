// The interface the search driver calls (paper §3.4): one GP per objective on completed trials, pending
// trials as kriging-believer fantasies, a joint Thompson sample over the candidate set, random
// scalarization (eq. 7) with hard budgets, and the ρ-mixing decision per slot.
// Invariants: the q returned model-based candidates are distinct and differ from every completed and
// pending trial (identical encodings are skipped); every proposal records the λ and the
// sampled objective values that chose it; a slot is random (candidate −1) with probability 1 − ρ, and
// also whenever fewer than 2 completed trials exist or no untaken candidate is left. The joint samples come
// from the CPU (gp/thompson.hpp) or, when asked and the candidate set is large, from a GPU (gp/cuda); both
// use the same normals, drawn from rng in the same order, so the device never changes what rng yields next.
#pragma once
#include <Eigen/Dense>
#include <limits>
#include <string>
#include <vector>

#include "gp/hyper_fit.hpp"
#include "gp/point.hpp"
#include "host/core/philox.hpp"

namespace sparse::gp {

struct CompletedTrial {
  EncodedPoint point;
  std::vector<double> objectives;  // K values in the transform the GP should model (e.g. log bytes for f2, f3)
  bool feasible = true;            // met the hard budgets when measured
};

struct ProposerSettings {
  int num_objectives = 3;
  double rho = 1.0;                     // probability that a slot is model-based (ρ_m of the paper's stages)
  std::vector<double> budgets;          // K entries in the objectives' transform; +∞ / NaN = none; empty = none
  std::vector<double> lambda_lower;     // box prior on λ (Paria et al. 2019); both empty = Dirichlet(1,…,1)
  std::vector<double> lambda_upper;
  FitSettings fit;                      // restarts and iterations of the hyper-parameter fit
  int refit_every = 1;                  // refit θ once this many trials completed since the last fit (warm start)
  // Min-max normalization of eq. 7 over all completed trials (default) or only over the feasible ones
  // (when at least two are feasible). Over feasible only is more exploitative: with few feasible trials
  // the ranges are tiny (on BraninCurrin it lost 20+ points of HV, bench/RESULTS.md).
  bool normalize_over_feasible = false;
  // Utopia point of eq. 7 at the observed minima − 0.1·range (MinMaxNormalization in scalarization.hpp);
  // chosen on BraninCurrin (bench/RESULTS.md): shift 0 → 91.0% of max HV, 0.1 → 95.5%, 0.2 → 94.1%.
  double normalization_shift = 0.1;
  // Worker threads for the per-objective fits and joint samples (at most K are used); 0 = the hardware's
  // concurrency. Results do not depend on it (the random draws are made before the parallel part).
  int threads = 0;
  // Where the joint Thompson samples are drawn: "cpu" (default) or "cuda" (= "cuda:0") / "cuda:N" — gp/cuda,
  // the K objectives batched on device N in double precision, from the same normals as the CPU path (so the
  // same distribution and, up to rounding, the same samples). The device is used only when the candidate set
  // has at least cuda_min_candidates points: below that the CPU path is about as fast (host round trips, copies
  // and launches dominate). Default 1,000, an estimate from the CPU figures of bench/RESULTS.md (no refit,
  // 2,000 candidates: ~0.15 s per objective on the 2-core VM) against a few ms on a GPU; not yet measured on one.
  // When the GPU cannot be used (a build without CUDA, no such device, out of device memory, a CUDA error) the
  // CPU path draws the samples instead — the proposal is the same in distribution, the search goes on — and
  // the reason is kept in Proposer::last_sampling() and written to stderr once per Proposer and reason.
  // A device string of another form is an error at construction.
  std::string device = "cpu";
  int cuda_min_candidates = 1000;
};

// Where the last propose() drew its joint samples (empty device when it drew none).
struct SamplingReport {
  std::string device;           // "cpu" or "cuda:N"
  std::string fallback_reason;  // why the CPU drew them although a GPU was asked for and the candidate set
                                // was large enough (empty otherwise)
};

struct Proposal {
  bool model_based = false;
  int candidate = -1;                    // index into the candidate set; −1 for a uniform random config
  std::vector<double> sampled_objectives;  // Thompson sample of each objective at the candidate (model-based only)
  std::vector<double> lambda;              // the weights of eq. 7 that chose it (model-based only)
};

class Proposer {
 public:
  explicit Proposer(ProposerSettings settings);

  // completed: trials with objective values; pending: trials being evaluated (kriging believer: their
  // fantasized targets are the posterior means, so they only shrink the variance around them);
  // candidates: the set C of configs to choose from (e.g. morphs of reference trials). All completed
  // trials train the GPs, feasible or not; feasibility only matters with normalize_over_feasible.
  // The q slots of one call use independent joint samples and λ's and distinct candidates; they do not
  // fantasize each other (only the pending trials passed in are fantasized).
  std::vector<Proposal> propose(const std::vector<CompletedTrial>& completed, const std::vector<EncodedPoint>& pending,
                                const std::vector<EncodedPoint>& candidates, int q, sparse::PhiloxStream& rng);

  // θ per objective after the last propose (empty before the first fit).
  const std::vector<Eigen::VectorXd>& hyperparameters() const { return theta_; }
  int fits() const { return fits_; }
  // Likelihood + gradient evaluations of the last fit, summed over the objectives.
  int last_fit_evaluations() const { return last_fit_evaluations_; }

  // Warm start from hyper-parameters fitted before (one vector per objective, e.g. those of the previous
  // proposal that a resumed search saved, or hyperparameters() of another proposer): the next propose
  // refits from them (FitSettings::warm_restarts random restarts) instead of from the prior mean.
  // Within one Proposer every refit after the first is warm-started this way already.
  void set_warm_start(std::vector<Eigen::VectorXd> theta);

  const SamplingReport& last_sampling() const { return sampling_; }

 private:
  ProposerSettings s_;
  int cuda_device_ = -1;  // from s_.device: −1 = cpu
  SamplingReport sampling_;
  std::string logged_reason_;
  std::vector<Eigen::VectorXd> theta_;
  int fitted_at_ = -1, fits_ = 0, last_fit_evaluations_ = 0;
  bool force_refit_ = false;
};

}  // namespace sparse::gp
