// The median stopping rule (Golovin et al. 2017, Google Vizier) for SpArSe trials: a trial whose validation
// accuracy after epoch e is below the median accuracy after epoch e of the done trials of its kind (random configs
// or morphs; refinements are nobody's peers) stops there, provided at least `peers` done trials reached epoch e. A stopped trial is finished and
// scored as it stands; metrics.stopped_at_epoch and metrics.early_stop record the rule's numbers.
// Invariant: the rule only reads curves of done trials (metrics.val_curve), so a resumed search applies it the same
// way to the trials it runs next.
#pragma once
#include <optional>
#include <vector>

#include "host/store/trial.hpp"

namespace sparse::search {

class MedianStop {
 public:
  // Curves of the done trials in `trials` of the same kind as a trial with (morph = has a reference).
  MedianStop(const std::vector<store::TrialRecord>& trials, bool morph, int peers);
  // Median accuracy after `epoch` (1-based) over the peers that reached it; none with fewer than `peers` of them.
  std::optional<double> median_at(int epoch) const;
  bool should_stop(int epoch, double val_acc) const;
  int peers_at(int epoch) const;

 private:
  std::vector<std::vector<double>> curves_;
  int peers_;
};

}  // namespace sparse::search
