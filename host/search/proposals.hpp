// The SpArSe proposal step (paper §3.4-3.5): which stage the next trial belongs to and what it is.
// Stage 0: uniform random configs. Stages 1-3: with probability ρ_m a model-based proposal, otherwise a uniform
// random config. A model-based proposal is chosen by gp::Proposer over a candidate set of morphs of reference
// trials: stage 1 any completed trial with every morph, stage 2 any completed trial with pruning-parameter
// morphs only, stage 3 references restricted to the Pareto set (front.hpp) with every morph. The chosen
// candidate keeps its reference (whose φ it inherits) and trains for the morph epochs.
// Invariants: the next trial depends only on the search's settings, the trials already in the store (its random
// stream is keyed by the search seed and the trial's creation index) and the GP's warm start from this process's
// earlier fits; a proposal never fails the search: whatever cannot be model-based (ρ draw, fewer than 2 completed
// trials, no candidate) falls back to a random config and says why in the proposal record.
#pragma once
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gp/proposer.hpp"
#include "host/search/settings.hpp"
#include "host/space/space.hpp"
#include "host/store/trial.hpp"

namespace sparse::search {

// Philox stream offset of proposal streams (trial seeds use trial_seed(); the two never meet).
inline constexpr uint64_t kProposalStream = 1ull << 40;

class StageProposer {
 public:
  // gp_device: where the GP's joint Thompson samples are drawn ("cpu" or "cuda:N", gp::ProposerSettings::device;
  // a GPU is used only for large candidate sets and falls back to the CPU with the reason).
  StageProposer(SearchSettings settings, space::Space space, int64_t search_id, const std::string& gp_device = "cpu");
  // The queued trial with creation index trials.size(), from the search's trials so far (all states, id order).
  store::TrialRecord next(const std::vector<store::TrialRecord>& trials);

 private:
  store::TrialRecord random_trial(int stage, const std::string& reason, sparse::PhiloxStream& rng) const;

  SearchSettings s_;
  Objectives objectives_;
  space::Space space_;
  int64_t search_id_;
  gp::Proposer gp_;
  std::set<std::string> seen_;  // canonical keys of the trials next() was given (random draws avoid them)
};

}  // namespace sparse::search
