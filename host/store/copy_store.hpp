// copy_store: every search, trial and φ of one store into another (SQLite or PostgreSQL, either direction) for
// `sparse store copy`. Invariants: ids, states, timestamps and results are kept as they are, so reference_id links stay
// valid and the copy's Pareto front is the source's; the destination must hold no search, and is written in one
// transaction (all or nothing); φ is verified (CRC-32) when read from the source.
#pragma once
#include <string>

#include "host/store/trial_store.hpp"

namespace sparse::store {

struct CopyReport {
  int searches = 0, trials = 0, phi = 0;
  int running = 0;  // trials running in the source: copied as running, re-queued by a resume (stale heartbeat)
};

// `to_label` names the destination in the refusal when it already holds a search.
CopyReport copy_store(TrialStore& from, TrialStore& to, const std::string& to_label);

}  // namespace sparse::store
