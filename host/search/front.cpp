// Objectives, feasibility, Pareto front, hypervolume and config summaries of stored trials (see front.hpp).
#include "host/search/front.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "gp/hypervolume.hpp"
#include "gp/pareto.hpp"
#include "host/space/config.hpp"

namespace sparse::search {

std::optional<int64_t> wm_bytes(const store::TrialRecord& t, const Objectives& o) {
  if (o.wm == "wm5") return t.wm5_bytes;
  if (o.wm == "wm6") return t.wm6_bytes;
  return std::nullopt;
}

bool has_objectives(const store::TrialRecord& t, const Objectives& o) {
  return t.state == store::TrialState::Done && t.val_acc && t.ms_bytes && (o.wm.empty() || wm_bytes(t, o));
}

bool feasible(const store::TrialRecord& t, const SearchSettings& s) {
  const Objectives o = parse_objectives(s.objectives);
  if (!has_objectives(t, o)) return false;
  if (s.max_ms_bytes && *t.ms_bytes > *s.max_ms_bytes) return false;
  if (s.max_wm_bytes && *wm_bytes(t, o) > *s.max_wm_bytes) return false;
  if (s.min_acc && *t.val_acc < *s.min_acc) return false;
  return true;
}

std::vector<double> gp_objectives(const store::TrialRecord& t, const Objectives& o) {
  std::vector<double> f = {1.0 - *t.val_acc, std::log(std::max<double>(1.0, static_cast<double>(*t.ms_bytes)))};
  if (o.count == 3) f.push_back(std::log(std::max<double>(1.0, static_cast<double>(*wm_bytes(t, o)))));
  return f;
}

std::vector<double> gp_budgets(const SearchSettings& s) {
  const Objectives o = parse_objectives(s.objectives);
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> b = {s.min_acc ? 1.0 - *s.min_acc : inf, s.max_ms_bytes ? std::log(static_cast<double>(*s.max_ms_bytes)) : inf};
  if (o.count == 3) b.push_back(s.max_wm_bytes ? std::log(static_cast<double>(*s.max_wm_bytes)) : inf);
  return b;
}

namespace {

// Raw objective rows (f1, MS, WM) of `pool`.
Eigen::MatrixXd raw_objectives(const std::vector<store::TrialRecord>& pool, const Objectives& o) {
  Eigen::MatrixXd f(static_cast<Eigen::Index>(pool.size()), o.count);
  for (size_t i = 0; i < pool.size(); ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    f(r, 0) = 1.0 - *pool[i].val_acc;
    f(r, 1) = static_cast<double>(*pool[i].ms_bytes);
    if (o.count == 3) f(r, 2) = static_cast<double>(*wm_bytes(pool[i], o));
  }
  return f;
}

std::vector<store::TrialRecord> front_of(const std::vector<store::TrialRecord>& pool, const Objectives& o) {
  std::vector<store::TrialRecord> out;
  if (pool.empty()) return out;
  for (int i : gp::pareto_front(raw_objectives(pool, o))) out.push_back(pool[static_cast<size_t>(i)]);
  std::sort(out.begin(), out.end(), [](const store::TrialRecord& a, const store::TrialRecord& b) {
    if (*a.val_acc != *b.val_acc) return *a.val_acc > *b.val_acc;
    if (*a.ms_bytes != *b.ms_bytes) return *a.ms_bytes < *b.ms_bytes;
    return a.id < b.id;
  });
  return out;
}

}  // namespace

FrontReport pareto_report(const std::vector<store::TrialRecord>& trials, const SearchSettings& s,
                          const FrontOptions& options) {
  const Objectives o = parse_objectives(s.objectives);
  std::vector<store::TrialRecord> done, pool;
  for (const auto& t : trials)
    if (has_objectives(t, o) && (!options.first || t.id <= *options.first)) done.push_back(t);
  for (const auto& t : done)
    if (options.all || feasible(t, s)) pool.push_back(t);
  FrontReport r;
  r.considered = static_cast<int>(pool.size());
  r.feasible_only = !options.all && (s.max_ms_bytes || s.max_wm_bytes || s.min_acc);
  r.front = front_of(pool, o);
  int64_t max_ms = 1, max_wm = 1;
  for (const auto& t : done) {
    max_ms = std::max(max_ms, *t.ms_bytes);
    if (o.count == 3) max_wm = std::max(max_wm, *wm_bytes(t, o));
  }
  r.ref_ms = static_cast<double>(options.ref_ms ? *options.ref_ms : s.max_ms_bytes ? *s.max_ms_bytes : max_ms);
  if (o.count == 3)
    r.ref_wm = static_cast<double>(options.ref_wm ? *options.ref_wm : s.max_wm_bytes ? *s.max_wm_bytes : max_wm);
  if (!r.front.empty()) {
    Eigen::MatrixXd f = raw_objectives(r.front, o);
    f.col(1) /= r.ref_ms;
    if (o.count == 3) f.col(2) /= r.ref_wm;
    const Eigen::VectorXd ref = Eigen::VectorXd::Ones(o.count);  // a trial on the box's face adds nothing
    r.hypervolume = gp::hypervolume(f, ref);
  }
  return r;
}

std::vector<int64_t> pareto_reference_ids(const std::vector<store::TrialRecord>& trials, const SearchSettings& s) {
  const Objectives o = parse_objectives(s.objectives);
  std::vector<store::TrialRecord> done, ok;
  for (const auto& t : trials)
    if (has_objectives(t, o)) done.push_back(t);
  for (const auto& t : done)
    if (feasible(t, s)) ok.push_back(t);
  std::vector<int64_t> ids;
  for (const auto& t : front_of(ok.empty() ? done : ok, o)) ids.push_back(t.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

namespace {

std::string opt_acc(const std::optional<double>& v) {
  if (!v || *v < 0) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", *v);
  return b;
}

}  // namespace

std::string front_table(const FrontReport& r, const SearchSettings& s) {
  const Objectives o = parse_objectives(s.objectives);
  const bool wm_col = o.count == 3;
  std::ostringstream os;
  char line[512];
  std::snprintf(line, sizeof line, "%6s %5s %5s %8s %8s %8s %8s", "trial", "stage", "ref", "val", "test", "int8",
                "MS B");
  os << line;
  if (wm_col) {
    std::snprintf(line, sizeof line, " %8s", o.wm == "wm5" ? "WM5 B" : "WM6 B");
    os << line;
  }
  std::snprintf(line, sizeof line, " %8s  %s\n", "nonzero", "config");
  os << line;
  for (const auto& t : r.front) {
    std::snprintf(line, sizeof line, "%6lld %5d %5s %8s %8s %8s %8lld", static_cast<long long>(t.id), t.stage,
                  t.reference_id ? std::to_string(*t.reference_id).c_str() : "-", opt_acc(t.val_acc).c_str(),
                  opt_acc(t.test_acc).c_str(), opt_acc(t.int8_acc).c_str(), static_cast<long long>(*t.ms_bytes));
    os << line;
    if (wm_col) {
      std::snprintf(line, sizeof line, " %8lld", static_cast<long long>(*wm_bytes(t, o)));
      os << line;
    }
    std::snprintf(line, sizeof line, " %8lld  %s\n", static_cast<long long>(t.nonzeros.value_or(-1)),
                  config_summary(t.config).c_str());
    os << line;
  }
  std::snprintf(line, sizeof line, "%zu Pareto-optimal of %d %s trials; hypervolume %.6f in [0,1] x [0,%.0f B]",
                r.front.size(), r.considered, r.feasible_only ? "feasible done" : "done", r.hypervolume, r.ref_ms);
  os << line;
  if (wm_col) {
    std::snprintf(line, sizeof line, " x [0,%.0f B]", r.ref_wm);
    os << line;
  }
  os << " of (1 - val acc, MS" << (wm_col ? ", WM" : "") << ")\n";
  return os.str();
}

nlohmann::json front_json(const FrontReport& r, const SearchSettings& s) {
  const Objectives o = parse_objectives(s.objectives);
  auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& t : r.front)
    rows.push_back({{"trial", t.id},
                    {"stage", t.stage},
                    {"reference", opt(t.reference_id)},
                    {"val_acc", opt(t.val_acc)},
                    {"test_acc", opt(t.test_acc)},
                    {"int8_acc", opt(t.int8_acc)},
                    {"ms_bytes", opt(t.ms_bytes)},
                    {"wm_bytes", opt(wm_bytes(t, o))},
                    {"nonzeros", opt(t.nonzeros)},
                    {"feasible", feasible(t, s)},
                    {"config_summary", config_summary(t.config)},
                    {"config", t.config}});
  nlohmann::json ref = {{"error", 1.0}, {"ms_bytes", r.ref_ms}};
  if (o.count == 3) ref["wm_bytes"] = r.ref_wm;
  return {{"objectives", s.objectives},
          {"budgets", {{"max_ms_bytes", opt(s.max_ms_bytes)}, {"max_wm_bytes", opt(s.max_wm_bytes)}}},
          {"considered", r.considered},
          {"front", rows},
          {"hypervolume", r.hypervolume},
          {"hypervolume_reference", ref},
          {"hypervolume_space",
           o.count == 3 ? "(1 - val_acc, MS / ref, WM / ref) in [0,1]^3" : "(1 - val_acc, MS / ref) in [0,1]^2"}};
}

std::string config_summary(const nlohmann::json& config) {
  space::Config c;
  try {
    c = space::config_from_json(config);
  } catch (const std::exception&) {
    return "(unreadable config)";
  }
  std::ostringstream os;
  os << "conv ";
  for (size_t b = 0; b < c.blocks.size(); ++b) {
    if (b) os << " | ";
    for (size_t l = 0; l < c.blocks[b].layers.size(); ++l) {
      const auto& L = c.blocks[b].layers[l];
      const char t = L.layer_type == space::LayerType::Conv2D            ? 'C'
                     : L.layer_type == space::LayerType::SeparableConv2D ? 'S'
                                                                         : 'D';
      os << (l ? "," : "") << t << L.kernel_size << "x" << L.kernel_size << "/" << L.num_filters;
    }
  }
  os << "; fc " << c.num_fc_layers << " (" << c.total_fc_layer_weights << " w)";
  if (c.left_branch || c.right_branch)
    os << "; " << (c.left_branch ? "L" : "") << (c.right_branch ? "R" : "") << " " << space::to_string(c.merge_type);
  if (c.batch_norm) os << "; bn";
  if (c.residual_connections) os << "; res";
  if (c.downsample_input) os << "; in/" << c.input_downsampling_rate;
  if (c.downsample_input_in_depth) os << "; in-depth";
  return os.str();
}

}  // namespace sparse::search
