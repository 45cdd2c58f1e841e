// MedianStop (see early_stop.hpp).
#include "host/search/early_stop.hpp"

#include <algorithm>

#include "host/search/refine.hpp"

namespace sparse::search {

MedianStop::MedianStop(const std::vector<store::TrialRecord>& trials, bool morph, int peers) : peers_(peers) {
  for (const auto& t : trials) {
    if (t.state != store::TrialState::Done || t.reference_id.has_value() != morph || is_refinement(t)) continue;
    if (!t.metrics.is_object() || !t.metrics.contains("val_curve") || !t.metrics["val_curve"].is_array()) continue;
    std::vector<double> c;
    for (const auto& v : t.metrics["val_curve"])
      if (v.is_number()) c.push_back(v.get<double>());
    if (!c.empty()) curves_.push_back(std::move(c));
  }
}

int MedianStop::peers_at(int epoch) const {
  int n = 0;
  for (const auto& c : curves_) n += static_cast<int>(c.size()) >= epoch;
  return n;
}

std::optional<double> MedianStop::median_at(int epoch) const {
  if (epoch < 1) return std::nullopt;
  std::vector<double> v;
  for (const auto& c : curves_)
    if (static_cast<int>(c.size()) >= epoch) v.push_back(c[static_cast<size_t>(epoch - 1)]);
  if (static_cast<int>(v.size()) < peers_ || v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

bool MedianStop::should_stop(int epoch, double val_acc) const {
  const auto m = median_at(epoch);
  return m && val_acc < *m;
}

}  // namespace sparse::search
