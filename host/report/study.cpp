// Loading a store for the report and its progress curves (see study.hpp).
#include "host/report/study.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>

#include "host/core/error.hpp"
#include "host/search/search.hpp"
#include "host/store/open_store.hpp"

namespace sparse::report {

namespace {

constexpr char kSqliteMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f', 'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};
constexpr const char* kExpected = "expected a trial store written by `sparse search --store`";

// The trial as far as the front needs it (no config, metrics or proposal JSON to copy).
store::TrialRecord objectives_only(const store::TrialRecord& t) {
  store::TrialRecord r;
  r.id = t.id;
  r.state = t.state;
  r.val_acc = t.val_acc;
  r.ms_bytes = t.ms_bytes;
  r.wm5_bytes = t.wm5_bytes;
  r.wm6_bytes = t.wm6_bytes;
  return r;
}

// The feasible front so far, grown one trial at a time: the front of (front ∪ {t}) is the front of all trials seen,
// so each step costs a front of |front| + 1 points, not of the whole history.
class FrontTracker {
 public:
  FrontTracker(const search::SearchSettings& s, const search::FrontOptions& o) : s_(s), o_(o) {}
  void add(const store::TrialRecord& t) {
    if (!search::feasible(t, s_)) return;
    best_ = std::max(best_, *t.val_acc);
    front_.push_back(objectives_only(t));
    search::FrontReport r = search::pareto_report(front_, s_, o_);
    front_ = std::move(r.front);
    hv_ = r.hypervolume;
  }
  double hypervolume() const { return hv_; }
  double best() const { return best_; }

 private:
  const search::SearchSettings& s_;
  const search::FrontOptions& o_;
  std::vector<store::TrialRecord> front_;
  double hv_ = 0, best_ = -1;
};

// Appends (x, y) when y differs from the curve's last value.
void step_to(Curve& c, double x, double y) {
  if (y < 0) return;  // no feasible trial yet
  if (c.empty() || c.back().second != y) c.emplace_back(x, y);
}

void close_at(Curve& c, double x) {
  if (!c.empty() && c.back().first < x) c.emplace_back(x, c.back().second);
}

}  // namespace

double search_seconds_at_end(const store::TrialRecord& t, double first_start) {
  if (t.state != store::TrialState::Done && t.state != store::TrialState::Failed) return -1;
  if (t.metrics.is_object() && t.metrics.contains("search_seconds") && t.metrics["search_seconds"].is_number())
    return t.metrics["search_seconds"].get<double>();
  if (t.finished_at > 0 && first_start > 0) return std::max(0.0, t.finished_at - first_start);
  return -1;
}

Study load_study(const std::string& path, const std::string& flag) {
  const std::string label = store::store_label(path);  // a URL's password never printed
  const std::string who = (flag.empty() ? "" : flag + ": ") + "store '" + label + "'";
  if (!store::is_store_url(path)) {  // a file: named problems before SQLite's own words
    std::error_code ec;
    SPARSE_CHECK(std::filesystem::exists(path, ec), who << " does not exist: " << kExpected);
    SPARSE_CHECK(std::filesystem::is_regular_file(path, ec), who << " is not a file: " << kExpected);
    std::ifstream in(path, std::ios::binary);
    SPARSE_CHECK(in.good(), who << " cannot be read: " << std::strerror(errno));
    char head[16] = {};
    in.read(head, sizeof head);
    SPARSE_CHECK(in.gcount() == 16 && std::memcmp(head, kSqliteMagic, 16) == 0,
                 who << " is not a SpArSe trial store (" << (in.gcount() == 0 ? "an empty file" : "not a SQLite database")
                     << "): " << kExpected);
  }
  Study st;
  st.path = label;
  try {
    const auto db = store::open_store(path, false);
    st.search_id = search::sole_search(*db, label);
    st.record = db->get_search(st.search_id);
    st.settings = search::settings_from_record(st.record, "store '" + label + "'");
    st.trials = db->list_trials(st.search_id);
  } catch (const std::exception& e) {
    if (flag.empty()) throw;
    SPARSE_FAIL(flag << ": " << e.what());
  }
  std::sort(st.trials.begin(), st.trials.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  // The front over copies without JSON (pareto_report copies every done trial it considers), then its rows again
  // with their config and metrics.
  std::vector<store::TrialRecord> light;
  light.reserve(st.trials.size());
  for (const auto& t : st.trials) light.push_back(objectives_only(t));
  st.front = search::pareto_report(light, st.settings);
  for (auto& row : st.front.front)
    row = *std::lower_bound(st.trials.begin(), st.trials.end(), row.id,
                            [](const store::TrialRecord& t, int64_t id) { return t.id < id; });
  st.spent_seconds = search::spent_seconds(st.trials);
  for (const auto& t : st.trials) {
    st.done += t.state == store::TrialState::Done;
    st.failed += t.state == store::TrialState::Failed;
    st.queued += t.state == store::TrialState::Queued;
    st.running += t.state == store::TrialState::Running;
  }
  return st;
}

Progress progress_of(const std::vector<store::TrialRecord>& trials, const search::SearchSettings& s, double ref_ms,
                     double ref_wm) {
  const search::Objectives o = search::parse_objectives(s.objectives);
  search::FrontOptions opt;
  opt.ref_ms = std::llround(ref_ms);
  if (o.count == 3) opt.ref_wm = std::llround(ref_wm);
  Progress p;
  p.trials = static_cast<int>(trials.size());

  std::vector<size_t> by_id(trials.size());
  std::iota(by_id.begin(), by_id.end(), size_t{0});
  std::stable_sort(by_id.begin(), by_id.end(), [&](size_t a, size_t b) { return trials[a].id < trials[b].id; });
  FrontTracker by_count(s, opt);
  p.hv_by_trials.emplace_back(0, 0);
  for (size_t n = 0; n < by_id.size(); ++n) {
    by_count.add(trials[by_id[n]]);
    const double x = static_cast<double>(n + 1);
    step_to(p.hv_by_trials, x, by_count.hypervolume());
    step_to(p.best_by_trials, x, by_count.best());
  }
  close_at(p.hv_by_trials, p.trials);
  close_at(p.best_by_trials, p.trials);
  p.final_hypervolume = by_count.hypervolume();
  p.final_best = by_count.best();

  double first_start = std::numeric_limits<double>::infinity();
  for (const auto& t : trials)
    if (t.started_at > 0) first_start = std::min(first_start, t.started_at);
  if (!std::isfinite(first_start)) first_start = 0;
  std::vector<std::pair<double, size_t>> ended;
  for (size_t i = 0; i < trials.size(); ++i) {
    const double end = search_seconds_at_end(trials[i], first_start);
    if (end >= 0) ended.emplace_back(end, i);
  }
  std::stable_sort(ended.begin(), ended.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  FrontTracker by_time(s, opt);
  p.hv_by_seconds.emplace_back(0, 0);
  for (const auto& [end, i] : ended) {
    by_time.add(trials[i]);
    step_to(p.hv_by_seconds, end, by_time.hypervolume());
    step_to(p.best_by_seconds, end, by_time.best());
    p.seconds = std::max(p.seconds, end);
  }
  close_at(p.hv_by_seconds, p.seconds);
  close_at(p.best_by_seconds, p.seconds);
  return p;
}

}  // namespace sparse::report
