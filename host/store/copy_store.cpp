// Store-to-store copy (see copy_store.hpp).
#include "host/store/copy_store.hpp"

#include <algorithm>
#include <iterator>

#include "host/core/error.hpp"
#include "host/store/record_import.hpp"

namespace sparse::store {

CopyReport copy_store(TrialStore& from, TrialStore& to, const std::string& to_label) {
  auto* sink = dynamic_cast<RecordImport*>(&to);
  SPARSE_CHECK(sink != nullptr, "store '" << to_label << "' cannot take copied records");
  const auto held = to.list_searches();  // checked again inside the import's transaction
  SPARSE_CHECK(held.empty(), "store '" << to_label << "' already holds search " << held.front().id << " ("
                                       << held.front().dataset << ", " << held.front().objectives
                                       << "); copy into a new store");
  CopyReport rep;
  const std::vector<SearchRecord> searches = from.list_searches();
  std::vector<TrialRecord> trials;
  for (const SearchRecord& s : searches) {
    auto part = from.list_trials(s.id);
    trials.insert(trials.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  std::sort(trials.begin(), trials.end(), [](const TrialRecord& a, const TrialRecord& b) { return a.id < b.id; });
  for (const TrialRecord& t : trials) rep.running += t.state == TrialState::Running;
  sink->import_records(searches, trials, [&](int64_t trial_id) {
    auto phi = from.get_phi(trial_id);
    rep.phi += phi.has_value();
    return phi;
  });
  rep.searches = static_cast<int>(searches.size());
  rep.trials = static_cast<int>(trials.size());
  return rep;
}

}  // namespace sparse::store
