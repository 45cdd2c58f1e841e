// RecordImport: a whole study's records written verbatim (ids, states, timestamps, results, φ) for `sparse store
// copy`, so reference_id links stay valid. Invariants: all or nothing (one transaction); only into a store that holds
// no search yet, checked inside that transaction, so two copies cannot both fill one store.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "host/store/trial.hpp"

namespace sparse::store {

class RecordImport {
 public:
  // φ of a trial of the source (nullopt: the trial has none), fetched one at a time while importing.
  using PhiSource = std::function<std::optional<std::vector<uint8_t>>(int64_t trial_id)>;
  virtual ~RecordImport() = default;
  // `trials` of every search, in id order (a reference precedes the trials that inherit from it).
  virtual void import_records(const std::vector<SearchRecord>& searches, const std::vector<TrialRecord>& trials,
                              const PhiSource& phi) = 0;
};

}  // namespace sparse::store
