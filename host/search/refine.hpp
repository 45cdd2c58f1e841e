// The refinement stage: the last part of a search trains its best feasible trials longer. A refinement trial has
// its reference's config unchanged, inherits all of the reference's φ and trains refine_epochs variational epochs
// (no pretraining, no early stop); it is a trial like any other (stored, scored, on the front), recorded with
// proposal.kind "refine". The paper trains each configuration once; short trials rank architectures, and the
// chosen ones are worth more epochs than the ranking needed (their validation curves still rise when they end).
// Invariants: a refinement never repeats a config that already has one (in any state), so k refinements continue
// k distinct architectures, best validation accuracy first; refinements are not GP data (the GP models a config
// under the search's standard schedule) and not peers of the median stopping rule; in a time-bound search a
// refinement is proposed only when its expected time (its reference's seconds per epoch) fits the time left.
#pragma once
#include <cstddef>
#include <optional>
#include <vector>

#include "host/search/settings.hpp"
#include "host/space/space.hpp"
#include "host/store/trial.hpp"

namespace sparse::search {

bool is_refinement(const store::TrialRecord& t);

// Whether the next trial (creation index `created`) falls in the refinement stage: refine_after × the time budget
// has passed (elapsed_seconds, search time over all sessions), or it is one of the plan's last refine_trials trials.
bool refinement_due(const SearchSettings& s, size_t created, double elapsed_seconds);

// Seconds a refinement of `t` is expected to take: t's training seconds per epoch it ran × refine_epochs.
double refinement_seconds(const store::TrialRecord& t, const SearchSettings& s);

// The next refinement of `trials` (all of the search's trials, id order): the feasible done trial with the highest
// validation accuracy whose config has no refinement yet and whose refinement_seconds fit in `remaining_seconds`
// (< 0: no limit; a time-bound search passes what is left of its budget, so that refinements end within it);
// none when refine_trials refinements exist or no trial is eligible. `stage` is the stage the trial's creation
// index falls in.
std::optional<store::TrialRecord> refinement_trial(const std::vector<store::TrialRecord>& trials,
                                                   const SearchSettings& s, const space::Space& space,
                                                   int64_t search_id, int stage, double remaining_seconds = -1);

}  // namespace sparse::search
