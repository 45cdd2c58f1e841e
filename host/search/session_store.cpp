// SessionStore (see session_store.hpp).
#include "host/search/session_store.hpp"

namespace sparse::search {

void SessionStore::set_failure_metrics(int64_t trial_id, const nlohmann::json& metrics) {
  std::lock_guard<std::mutex> l(mu_);
  nlohmann::json& m = failure_metrics_[trial_id];
  if (!m.is_object()) m = nlohmann::json::object();
  for (auto& [k, v] : metrics.items()) m[k] = v;
}

// mu_ is held across each forwarded write, so a detach and the trial's own finish/fail never interleave: whichever
// comes first wins and the other is a no-op.
bool SessionStore::detach(int64_t trial_id) {
  std::lock_guard<std::mutex> l(mu_);
  if (!detached_.insert(trial_id).second) return false;
  try {
    s_.requeue(trial_id);
    return true;
  } catch (const std::exception&) {
    return false;  // it ended before the hard stop reached it
  }
}

std::optional<store::TrialRecord> SessionStore::claim_next(int64_t search_id, const std::string& device) {
  std::lock_guard<std::mutex> l(mu_);
  auto t = s_.claim_next(search_id, device);
  if (t) detached_.erase(t->id);  // claimed afresh (only when the session went on after a detach)
  return t;
}

void SessionStore::heartbeat(int64_t trial_id) {
  std::lock_guard<std::mutex> l(mu_);
  if (!detached_.count(trial_id)) s_.heartbeat(trial_id);
}

void SessionStore::finish(int64_t trial_id, const store::TrialResult& result) {
  std::lock_guard<std::mutex> l(mu_);
  failure_metrics_.erase(trial_id);
  if (!detached_.count(trial_id)) s_.finish(trial_id, result);
}

void SessionStore::fail(int64_t trial_id, const std::string& reason, const nlohmann::json& metrics) {
  std::lock_guard<std::mutex> l(mu_);
  nlohmann::json m = metrics.is_object() ? metrics : nlohmann::json::object();
  auto it = failure_metrics_.find(trial_id);
  if (it != failure_metrics_.end()) {
    for (auto& [k, v] : it->second.items()) m[k] = v;
    failure_metrics_.erase(it);
  }
  if (!detached_.count(trial_id)) s_.fail(trial_id, reason, m);
}

void SessionStore::requeue(int64_t trial_id) {
  std::lock_guard<std::mutex> l(mu_);
  if (!detached_.count(trial_id)) s_.requeue(trial_id);
}

void SessionStore::put_phi(int64_t trial_id, const std::vector<uint8_t>& phi) {
  std::lock_guard<std::mutex> l(mu_);
  if (!detached_.count(trial_id)) s_.put_phi(trial_id, phi);
}

}  // namespace sparse::search
