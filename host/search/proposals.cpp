// StageProposer (see proposals.hpp): stage of the next trial, candidate morphs, the GP's choice, random fallback.
#include "host/search/proposals.hpp"

#include <chrono>
#include <set>

#include "host/core/error.hpp"
#include "host/graph/graph.hpp"
#include "host/memory/memory.hpp"
#include "host/search/front.hpp"
#include "host/search/refine.hpp"
#include "host/space/encode.hpp"
#include "host/space/canonical.hpp"
#include "host/space/morph.hpp"
#include "host/space/sample.hpp"

namespace sparse::search {

namespace {

gp::ProposerSettings gp_settings(const SearchSettings& s) {
  gp::ProposerSettings g;
  g.num_objectives = parse_objectives(s.objectives).count;
  g.rho = 1.0;  // the ρ_m draw is made here, before building candidates (a random slot needs none)
  g.budgets = gp_budgets(s);
  return g;
}

gp::EncodedPoint to_point(const space::Encoding& e) {
  return gp::EncodedPoint{e.numeric, e.categorical, e.numeric_active, e.categorical_active};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Prescreen (SearchSettings::prescreen, prescreen_wm): the dense, unpruned network's MS over `prescreen` times its
// budget, or its WM over `prescreen_wm` (else `prescreen`) times its budget, is hopeless for pruning to rescue; such
// configs are neither drawn nor offered as candidates. "" when it passes.
std::string prescreen_failure(const space::Config& c, const SearchSettings& s, const Objectives& o) {
  const double ms_factor = s.prescreen, wm_factor = s.prescreen_wm > 0 ? s.prescreen_wm : s.prescreen;
  if (ms_factor <= 0 && wm_factor <= 0) return "";
  const graph::Graph g = graph::build_graph(c);
  const memory::MemoryReport m = memory::memory_report(g, memory::dense_state(g), 8, 8, s.wm_input);
  if (ms_factor > 0 && s.max_ms_bytes && double(m.ms_bytes) > ms_factor * double(*s.max_ms_bytes))
    return "dense MS " + std::to_string(m.ms_bytes) + " B";
  const int64_t wm = o.wm == "wm6" ? m.wm6_bytes : m.wm5_bytes;
  if (wm_factor > 0 && s.max_wm_bytes && !o.wm.empty() && double(wm) > wm_factor * double(*s.max_wm_bytes))
    return "dense " + o.wm + " " + std::to_string(wm) + " B";
  return "";
}

}  // namespace

StageProposer::StageProposer(SearchSettings settings, space::Space space, int64_t search_id,
                             const std::string& gp_device)
    : s_(std::move(settings)),
      objectives_(parse_objectives(s_.objectives)),
      space_(std::move(space)),
      search_id_(search_id),
      gp_([&] {
        gp::ProposerSettings g = gp_settings(s_);
        g.device = gp_device;
        return g;
      }()) {}

store::TrialRecord StageProposer::random_trial(int stage, const std::string& reason, sparse::PhiloxStream& rng) const {
  store::TrialRecord t;
  t.search_id = search_id_;
  t.stage = stage;
  // A draw that builds an already-proposed network is drawn again (at most kRedraws times): it would only repeat
  // a trial the store already has.
  constexpr int kRedraws = 64;
  space::Config c = space::sample_config(space_, rng);
  int redraws = 0, prescreened = 0;
  while (redraws < kRedraws) {
    if (seen_.count(space::canonical_key(c, space_))) {
      ++redraws;
    } else if (!prescreen_failure(c, s_, objectives_).empty()) {
      ++prescreened;
      ++redraws;
    } else {
      break;
    }
    c = space::sample_config(space_, rng);
  }
  t.config = space::to_json(c);
  t.morphs = nlohmann::json::array();
  t.proposal = {{"kind", "random"}, {"reason", reason}, {"train_epochs", s_.epochs}};
  if (redraws > 0) t.proposal["redraws"] = redraws;
  if (prescreened > 0) t.proposal["prescreened"] = prescreened;
  if (stage >= 1) t.proposal["rho"] = s_.rho[static_cast<size_t>(stage - 1)];
  return t;
}

store::TrialRecord StageProposer::next(const std::vector<store::TrialRecord>& trials) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto n = static_cast<int64_t>(trials.size());
  const int stage = s_.plan.stage_of(n);
  sparse::PhiloxStream rng(s_.seed, kProposalStream + static_cast<uint64_t>(n));
  auto with_index = [&](store::TrialRecord t) {
    t.proposal["index"] = n;
    t.proposal["seconds"] = seconds_since(t0);
    return t;
  };
  seen_.clear();
  for (const auto& t : trials) {
    try {
      seen_.insert(space::canonical_key(space::config_from_json(t.config), space_));
    } catch (const std::exception&) {
      // a bad stored config failed its trial
    }
  }
  if (stage == 0) return with_index(random_trial(0, "initial random config", rng));
  const double rho = s_.rho[static_cast<size_t>(stage - 1)];
  if (!(rng.uniform() < rho)) return with_index(random_trial(stage, "random with probability 1 - rho", rng));

  // Completed trials (the GP's data), pending ones (fantasized), references of this stage.
  std::vector<gp::CompletedTrial> completed;
  std::vector<gp::EncodedPoint> pending;
  std::vector<const store::TrialRecord*> references;
  std::set<int64_t> allowed_refs;
  if (stage == 3)
    for (int64_t id : pareto_reference_ids(trials, s_)) allowed_refs.insert(id);
  for (const auto& t : trials) {
    space::Config c;
    try {
      c = space::config_from_json(t.config);
      space::validate(c, space_);
      c = space::canonical(c, space_);  // stores written before canonical configs: inert values must not differ
    } catch (const std::exception&) {
      continue;  // a bad stored config failed its trial; it informs nothing
    }
    if (is_refinement(t)) {  // its φ may be a reference; it is neither GP data nor a pending point
      if (has_objectives(t, objectives_) && (stage != 3 || allowed_refs.count(t.id))) references.push_back(&t);
      continue;
    }
    if (has_objectives(t, objectives_)) {
      completed.push_back({to_point(space::encode(c, space_)), gp_objectives(t, objectives_), feasible(t, s_)});
      if (stage != 3 || allowed_refs.count(t.id)) references.push_back(&t);
    } else if (t.state == store::TrialState::Queued || t.state == store::TrialState::Running) {
      pending.push_back(to_point(space::encode(c, space_)));
    }
  }
  if (completed.size() < 2 || references.empty())
    return with_index(random_trial(stage, "fewer than 2 completed trials", rng));

  // Candidate set C: morphs of the references (§3.5), stage 2 restricted to pruning parameters.
  const std::vector<space::MorphKind> allowed = space::stage_morphs(stage);
  std::vector<space::MorphResult> cands;
  std::vector<int64_t> cand_ref;
  std::vector<gp::EncodedPoint> points;
  int prescreened = 0;
  for (int k = 0; k < s_.candidates; ++k) {
    const store::TrialRecord* ref = references[rng.below(references.size())];
    try {
      space::MorphResult m = space::morph(space::config_from_json(ref->config), space_, rng, allowed, s_.max_morphs);
      if (!prescreen_failure(m.config, s_, objectives_).empty()) {
        ++prescreened;
        continue;
      }
      points.push_back(to_point(space::encode(m.config, space_)));
      cands.push_back(std::move(m));
      cand_ref.push_back(ref->id);
    } catch (const sparse::Error&) {
      // no allowed morph applies to this reference; draw another
    }
  }
  if (cands.empty()) return with_index(random_trial(stage, "no allowed morph applies to the references", rng));

  gp::Proposal p;
  try {
    p = gp_.propose(completed, pending, points, 1, rng).front();
  } catch (const std::exception& e) {
    return with_index(random_trial(stage, std::string("the GP could not propose: ") + e.what(), rng));
  }
  if (!p.model_based || p.candidate < 0)
    return with_index(random_trial(stage, "every candidate equals a completed or pending trial", rng));
  const auto c = static_cast<size_t>(p.candidate);
  store::TrialRecord t;
  t.search_id = search_id_;
  t.stage = stage;
  t.reference_id = cand_ref[c];
  t.config = space::to_json(cands[c].config);
  t.morphs = nlohmann::json::array();
  for (space::MorphKind m : cands[c].applied) t.morphs.push_back(space::to_string(m));
  t.proposal = {{"kind", "model"},
                {"rho", rho},
                {"lambda", p.lambda},
                {"sampled_objectives", p.sampled_objectives},  // (f1, log MS[, log WM]) as the GP models them
                {"candidate", p.candidate},
                {"candidates", cands.size()},
                {"prescreened", prescreened},
                {"references", references.size()},
                {"completed", completed.size()},
                {"pending", pending.size()},
                {"gp_fits", gp_.fits()},
                {"train_epochs", s_.morph_epochs}};
  if (stage == 3) t.proposal["pareto_references"] = std::vector<int64_t>(allowed_refs.begin(), allowed_refs.end());
  return with_index(std::move(t));
}

}  // namespace sparse::search
