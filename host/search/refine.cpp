// The refinement stage (see refine.hpp).
#include "host/search/refine.hpp"

#include <algorithm>
#include <set>
#include <string>

#include "host/search/front.hpp"
#include "host/space/canonical.hpp"

namespace sparse::search {

namespace {

std::optional<std::string> key_of(const store::TrialRecord& t, const space::Space& space) {
  try {
    return space::canonical_key(space::config_from_json(t.config), space);
  } catch (const std::exception&) {
    return std::nullopt;  // a bad stored config failed its trial
  }
}

}  // namespace

bool is_refinement(const store::TrialRecord& t) {
  return t.proposal.is_object() && t.proposal.value("kind", "") == "refine";
}

bool refinement_due(const SearchSettings& s, size_t created, double elapsed_seconds) {
  if (s.refine_trials <= 0) return false;
  if (s.time_seconds > 0 && elapsed_seconds >= s.refine_after * s.time_seconds) return true;
  return static_cast<int64_t>(created) >= static_cast<int64_t>(s.trials()) - s.refine_trials;
}

double refinement_seconds(const store::TrialRecord& t, const SearchSettings& s) {
  const double seconds = t.metrics.is_object() ? t.metrics.value("seconds", 0.0) : 0.0;
  const int pretrain = t.metrics.is_object() ? t.metrics.value("pretrain_epochs", 0) : 0;
  return seconds / std::max(1, t.epochs + pretrain) * s.refine_epochs;
}

std::optional<store::TrialRecord> refinement_trial(const std::vector<store::TrialRecord>& trials,
                                                   const SearchSettings& s, const space::Space& space,
                                                   int64_t search_id, int stage, double remaining_seconds) {
  std::set<std::string> refined;
  int count = 0;
  for (const auto& t : trials)
    if (is_refinement(t)) {
      ++count;
      if (auto k = key_of(t, space)) refined.insert(*k);
    }
  if (count >= s.refine_trials) return std::nullopt;
  const store::TrialRecord* best = nullptr;
  for (const auto& t : trials) {
    if (t.state != store::TrialState::Done || !feasible(t, s)) continue;
    const auto k = key_of(t, space);
    if (!k || refined.count(*k)) continue;
    if (remaining_seconds >= 0 && refinement_seconds(t, s) > remaining_seconds) continue;
    if (!best || *t.val_acc > *best->val_acc) best = &t;
  }
  if (!best) return std::nullopt;
  store::TrialRecord r;
  r.search_id = search_id;
  r.stage = stage;
  r.reference_id = best->id;
  r.config = best->config;
  r.morphs = nlohmann::json::array();
  r.proposal = {{"kind", "refine"},
                {"reference_val_acc", *best->val_acc},
                {"refinement", count + 1},
                {"estimated_seconds", refinement_seconds(*best, s)},
                {"train_epochs", s.refine_epochs}};
  return r;
}

}  // namespace sparse::search
