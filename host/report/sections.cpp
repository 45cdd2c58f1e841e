// Study-level sections of the report: settings, Pareto plots, progress plots, front table (see sections.hpp).
#include "host/report/sections.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <functional>
#include <limits>
#include <sstream>

#include "host/report/svg.hpp"

namespace sparse::report {

namespace {

using search::Objectives;

constexpr const char* kStageColours[4] = {"#8c8c8c", "#1f77b4", "#ff7f0e", "#2ca02c"};
constexpr const char* kSeriesColours[6] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf"};

std::string h(const std::string& s) { return xml_escape(s); }

std::string basename_of(const std::string& path) { return std::filesystem::path(path).filename().string(); }

std::string utc_date(double unix_seconds) {
  if (unix_seconds <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[64];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M UTC", &tm);
  return b;
}

std::string opt_bytes_budget(const std::optional<int64_t>& b) { return b ? bytes_text(b) : "none"; }

std::string dataset_text(const Study& st) {
  std::string out = st.settings.data.name;
  const nlohmann::json& f = st.settings.dataset_fingerprint;
  if (f.is_object() && f.contains("train") && f.contains("val") && f.contains("test"))
    out += " (" + f["train"].dump() + " / " + f["val"].dump() + " / " + f["test"].dump() + " images" +
           (f.contains("shape") && f["shape"].is_string() ? ", " + f["shape"].get<std::string>() : "") +
           (f.contains("classes") ? ", " + f["classes"].dump() + " classes" : "") + ")";
  return out;
}

std::string link_to(int64_t id) {
  return "<a href=\"#trial-" + std::to_string(id) + "\">" + std::to_string(id) + "</a>";
}

std::string point_tooltip(const store::TrialRecord& t, const Objectives& o, bool feasible, const std::string& summary) {
  std::string s = "trial " + std::to_string(t.id) + " · " + stage_name(t.stage);
  if (t.reference_id) s += ", morph of " + std::to_string(*t.reference_id);
  s += " · val " + acc_text(t.val_acc) + " · MS " + bytes_text(t.ms_bytes);
  if (o.count == 3) s += " · " + wm_label(o) + " " + bytes_text(search::wm_bytes(t, o));
  s += feasible ? " · feasible" : " · infeasible";
  return s + " · " + summary;
}

}  // namespace

std::string stage_name(int stage) {
  switch (stage) {
    case 0: return "initial random";
    case 1: return "stage 1";
    case 2: return "stage 2";
    case 3: return "stage 3";
  }
  return "stage " + std::to_string(stage);
}

std::string acc_text(const std::optional<double>& v) { return v && *v >= 0 ? fixed(*v, 4) : "-"; }

std::string bytes_text(const std::optional<int64_t>& v) { return v ? group_digits(*v) + " B" : "-"; }

std::string wm_label(const Objectives& o) { return o.wm == "wm6" ? "WM6" : "WM5"; }

const char* series_colour(size_t i) { return kSeriesColours[i % 6]; }

std::set<int64_t> front_ids(const Study& st) {
  std::set<int64_t> ids;
  for (const auto& t : st.front.front) ids.insert(t.id);
  return ids;
}

std::string settings_section(const Study& main, const std::vector<Study>& compares, const std::vector<Progress>& progress) {
  std::vector<const Study*> all = {&main};
  for (const auto& c : compares) all.push_back(&c);
  using Value = std::function<std::string(const Study&, const Progress&)>;
  const std::vector<std::pair<std::string, Value>> rows = {
      {"store", [](const Study& s, const Progress&) { return s.path; }},
      {"dataset", [](const Study& s, const Progress&) { return dataset_text(s); }},
      {"objectives",
       [](const Study& s, const Progress&) {
         const Objectives o = search::parse_objectives(s.settings.objectives);
         return s.settings.objectives + (o.method == nn::Method::spvd ? " (SpVD, unstructured)" : " (BC, structured)") +
                (o.count == 3 ? ", WM = eq. " + std::string(o.wm == "wm5" ? "5" : "6") : "");
       }},
      {"MS budget", [](const Study& s, const Progress&) { return opt_bytes_budget(s.settings.max_ms_bytes); }},
      {"WM budget", [](const Study& s, const Progress&) { return opt_bytes_budget(s.settings.max_wm_bytes); }},
      {"accuracy floor (val)",
       [](const Study& s, const Progress&) { return s.settings.min_acc ? fixed(*s.settings.min_acc, 3) : "none"; }},
      {"WM counts the input as",
       [](const Study& s, const Progress&) { return std::string(memory::to_string(s.settings.wm_input)); }},
      {"trial plan",
       [](const Study& s, const Progress&) {
         const auto& p = s.settings.plan;
         return std::to_string(p.total()) + " = " + std::to_string(p.initial) + " random + " +
                std::to_string(p.stage_trials[0]) + ", " + std::to_string(p.stage_trials[1]) + ", " +
                std::to_string(p.stage_trials[2]);
       }},
      {"time budget",
       [](const Study& s, const Progress&) {
         return s.settings.time_seconds > 0 ? duration_text(s.settings.time_seconds) : std::string("none");
       }},
      {"ρ of stages 1-3",
       [](const Study& s, const Progress&) {
         return fixed(s.settings.rho[0], 2) + ", " + fixed(s.settings.rho[1], 2) + ", " + fixed(s.settings.rho[2], 2);
       }},
      {"epochs (random / morph)",
       [](const Study& s, const Progress&) {
         return std::to_string(s.settings.epochs) + " / " + std::to_string(s.settings.morph_epochs) +
                (s.settings.pretrain_epochs >= 0 ? ", pretraining " + std::to_string(s.settings.pretrain_epochs)
                                                 : std::string(", pretraining auto"));
       }},
      {"batch, lr",
       [](const Study& s, const Progress&) {
         std::ostringstream os;
         os << s.settings.batch_size << ", " << s.settings.lr << " (log-variance x" << s.settings.log_variance_lr_scale
            << ")";
         return os.str();
       }},
      {"early stopping",
       [](const Study& s, const Progress&) {
         return s.settings.early_stop == "off" ? std::string("off")
                                                : s.settings.early_stop + " (" +
                                                      std::to_string(s.settings.early_stop_peers) + " peers)";
       }},
      {"images per epoch / validation",
       [](const Study& s, const Progress&) {
         auto lim = [](int64_t v) { return v > 0 ? group_digits(v) : std::string("all"); };
         return lim(s.settings.train_limit) + " / " + lim(s.settings.val_limit);
       }},
      {"int8 scoring",
       [](const Study& s, const Progress&) {
         return s.settings.int8 ? "yes (" + std::to_string(s.settings.calibration_images) + " calibration images)"
                                : std::string("no");
       }},
      {"candidates, max morphs, prescreen",
       [](const Study& s, const Progress&) {
         std::ostringstream os;
         os << s.settings.candidates << ", " << s.settings.max_morphs << ", "
            << (s.settings.prescreen > 0 ? fixed(s.settings.prescreen, 1) + "x" : std::string("off"));
         return os.str();
       }},
      {"seed", [](const Study& s, const Progress&) { return std::to_string(s.settings.seed); }},
      {"created", [](const Study& s, const Progress&) { return utc_date(s.record.created_at); }},
      {"trials stored / done / failed / pending",
       [](const Study& s, const Progress&) {
         return std::to_string(s.trials.size()) + " / " + std::to_string(s.done) + " / " + std::to_string(s.failed) +
                " / " + std::to_string(s.queued + s.running);
       }},
      {"search time", [](const Study& s, const Progress&) { return duration_text(s.spent_seconds); }},
      {"Pareto front (own budgets)",
       [](const Study& s, const Progress&) {
         return std::to_string(s.front.front.size()) + " of " + std::to_string(s.front.considered) +
                (s.front.feasible_only ? " feasible done trials" : " done trials");
       }},
      {"hypervolume (this report's box)", [](const Study&, const Progress& p) { return fixed(p.final_hypervolume, 4); }},
      {"best feasible val accuracy",
       [](const Study&, const Progress& p) { return p.final_best >= 0 ? fixed(p.final_best, 4) : std::string("none"); }},
  };
  std::ostringstream os;
  os << "<section id=\"settings\"><h2>Study settings and budgets</h2>\n";
  if (!compares.empty())
    os << "<p class=\"note\">One column per store. Highlighted cells differ from the reported store. Compared stores "
          "are judged by the reported store's budgets and hypervolume box.</p>\n";
  os << "<table class=\"settings\"><thead><tr><th class=\"text\">setting</th>";
  for (size_t i = 0; i < all.size(); ++i)
    os << "<th class=\"text\"><span class=\"swatch\" style=\"background:" << series_colour(i) << "\"></span>"
       << h(basename_of(all[i]->path)) << (i == 0 ? " (reported)" : "") << "</th>";
  os << "</tr></thead><tbody>\n";
  for (const auto& [name, value] : rows) {
    const std::string first = value(main, progress[0]);
    os << "<tr><th class=\"text\">" << h(name) << "</th>";
    for (size_t i = 0; i < all.size(); ++i) {
      const std::string v = i == 0 ? first : value(*all[i], progress[i]);
      os << "<td class=\"text" << (i > 0 && v != first && name != "store" ? " differs" : "") << "\">" << h(v) << "</td>";
    }
    os << "</tr>\n";
  }
  os << "</tbody></table>\n";
  const Objectives o = search::parse_objectives(main.settings.objectives);
  os << "<p class=\"note\">Objectives (paper §3): f1 = 1 − validation accuracy of the pruned network, f2 = model size MS "
        "(eq. 4, non-zero weights and biases at 8 bits)"
     << (o.count == 3 ? ", f3 = working memory " + wm_label(o) + " (eq. " + (o.wm == "wm5" ? "5" : "6") + ")" : "")
     << ". A trial is feasible when it meets every budget and the accuracy floor.</p>\n</section>\n";
  return os.str();
}

std::string pareto_section(const Study& st) {
  const search::SearchSettings& s = st.settings;
  const Objectives o = search::parse_objectives(s.objectives);
  const std::set<int64_t> on_front = front_ids(st);
  struct P {
    const store::TrialRecord* t;
    double acc, ms, wm;
    bool feasible, front;
    std::string tip;
  };
  std::vector<P> pts;
  double acc_lo = 1, acc_hi = 0, ms_lo = 1e300, ms_hi = 1, wm_lo = 1e300, wm_hi = 1;
  for (const auto& t : st.trials) {
    if (!search::has_objectives(t, o)) continue;
    P p{&t, *t.val_acc, static_cast<double>(*t.ms_bytes), 0, search::feasible(t, s), on_front.count(t.id) > 0, ""};
    if (o.count == 3) p.wm = static_cast<double>(*search::wm_bytes(t, o));
    p.tip = point_tooltip(t, o, p.feasible, search::config_summary(t.config));
    acc_lo = std::min(acc_lo, p.acc);
    acc_hi = std::max(acc_hi, p.acc);
    ms_lo = std::min(ms_lo, p.ms);
    ms_hi = std::max(ms_hi, p.ms);
    wm_lo = std::min(wm_lo, p.wm);
    wm_hi = std::max(wm_hi, p.wm);
    pts.push_back(std::move(p));
  }
  std::stable_partition(pts.begin(), pts.end(), [](const P& p) { return !p.front; });  // the front drawn on top
  std::ostringstream os;
  os << "<section id=\"pareto\"><h2>Pareto front</h2>\n";
  if (pts.empty()) {
    os << "<p class=\"note\">No done trial with measured objectives yet: nothing to plot.</p></section>\n";
    return os.str();
  }
  if (s.min_acc) acc_lo = std::min(acc_lo, *s.min_acc);
  if (s.max_ms_bytes) ms_hi = std::max(ms_hi, static_cast<double>(*s.max_ms_bytes) * 1.2);
  if (s.max_wm_bytes) wm_hi = std::max(wm_hi, static_cast<double>(*s.max_wm_bytes) * 1.2);
  Axis acc = linear_axis("validation accuracy", acc_lo, acc_hi);
  acc.lo = std::max(acc.lo, 0.0);
  acc.hi = std::min(acc.hi, 1.0);
  const Axis ms = log_axis("model size MS (eq. 4)", ms_lo, ms_hi);
  const Axis wm = log_axis("working memory " + wm_label(o) + " (eq. " + (o.wm == "wm6" ? "6" : "5") + ")", wm_lo, wm_hi);
  const double r = pts.size() <= 500 ? 3.5 : pts.size() <= 3000 ? 2.6 : 1.8;

  std::vector<LegendEntry> legend;
  for (int stage = 0; stage <= 3; ++stage)
    for (const auto& p : pts)
      if (p.t->stage == stage) {
        legend.push_back({kStageColours[stage], stage_name(stage)});
        break;
      }
  legend.push_back({"#000", "front (ringed, links to its section)"});

  // One scatter plot; x_max, y_min, y_max (NaN: none) bound the shaded feasible region on these two axes.
  auto scatter = [&](const Axis& ax, const Axis& ay, auto fx, auto fy, double x_max, double y_min, double y_max,
                     const std::string& caption, const std::string& id, const std::string& x_name,
                     const std::string& y_name) {
    Plot plot(ax, ay);
    const bool has_x = !std::isnan(x_max), has_lo = !std::isnan(y_min), has_hi = !std::isnan(y_max);
    if (has_x || has_lo || has_hi) {
      plot.shade(ax.lo, has_x ? x_max : ax.hi, has_lo ? y_min : ay.lo, has_hi ? y_max : ay.hi, "feasible",
                 "within the budgets on these axes");
      if (has_x) plot.vline(x_max, x_name + " budget " + group_digits(std::llround(x_max)) + " B");
      if (has_lo) plot.hline(y_min, "accuracy floor " + fixed(y_min, 2));
      if (has_hi) plot.hline(y_max, y_name + " budget " + group_digits(std::llround(y_max)) + " B");
    }
    for (const auto& p : pts) {
      std::string cls = "pt s" + std::to_string(std::clamp(p.t->stage, 0, 3));
      if (!p.feasible) cls += " infeasible";
      if (p.front) cls += " front";
      plot.point(fx(p), fy(p), p.front ? r + 1.5 : r, cls, p.tip, p.front ? "#trial-" + std::to_string(p.t->id) : "");
    }
    plot.legend(legend);
    return plot.svg(caption, "pareto", id);
  };
  const double none = std::numeric_limits<double>::quiet_NaN();
  const double max_ms = s.max_ms_bytes ? static_cast<double>(*s.max_ms_bytes) : none;
  const double max_wm = s.max_wm_bytes ? static_cast<double>(*s.max_wm_bytes) : none;
  const double acc_floor = s.min_acc ? *s.min_acc : none;
  const std::string wl = wm_label(o);
  os << "<p class=\"note\">Every done trial (" << pts.size() << "), coloured by stage; faded points are infeasible; "
     << "the shaded area meets the budgets drawn on that plot. Hover a point for its trial and config.</p>\n";
  os << "<div class=\"plots\">\n<figure>"
     << scatter(ms, acc, [](const P& p) { return p.ms; }, [](const P& p) { return p.acc; }, max_ms, acc_floor, none,
                "Accuracy vs model size", "pareto-acc-ms", "MS", "")
     << "</figure>\n";
  if (o.count == 3) {
    os << "<figure>"
       << scatter(wm, acc, [](const P& p) { return p.wm; }, [](const P& p) { return p.acc; }, max_wm, acc_floor, none,
                  "Accuracy vs working memory", "pareto-acc-wm", wl, "")
       << "</figure>\n<figure>"
       << scatter(ms, wm, [](const P& p) { return p.ms; }, [](const P& p) { return p.wm; }, max_ms, none, max_wm,
                  "Model size vs working memory", "pareto-ms-wm", "MS", wl)
       << "</figure>\n";
  }
  os << "</div>\n</section>\n";
  return os.str();
}

std::string progress_section(const Study& main, const std::vector<Study>& compares, const std::vector<Progress>& progress) {
  std::vector<const Study*> all = {&main};
  for (const auto& c : compares) all.push_back(&c);
  int max_trials = 1;
  double max_seconds = 1, max_hv = 1e-3, best_lo = 1, best_hi = 0;
  for (const auto& p : progress) {
    max_trials = std::max(max_trials, p.trials);
    max_seconds = std::max(max_seconds, p.seconds);
    max_hv = std::max(max_hv, p.final_hypervolume);
    for (const auto& c : {p.best_by_trials, p.best_by_seconds})
      for (const auto& [x, y] : c) {
        best_lo = std::min(best_lo, y);
        best_hi = std::max(best_hi, y);
      }
  }
  if (best_hi < best_lo) best_lo = 0, best_hi = 1;
  Axis trials = linear_axis("trials (by id)", 0, max_trials);
  trials.integer = true;
  const Axis seconds = linear_axis("search time", 0, max_seconds, TickFormat::seconds);
  const Axis hv = linear_axis("hypervolume", 0, max_hv);
  Axis best = linear_axis("best feasible val accuracy", best_lo, best_hi);
  best.lo = std::max(best.lo, 0.0);
  best.hi = std::min(best.hi, 1.0);
  std::vector<LegendEntry> legend;
  for (size_t i = 0; i < all.size(); ++i)
    legend.push_back({series_colour(i), basename_of(all[i]->path) + (i == 0 ? "" : " (compare)"), true});
  auto chart = [&](const Axis& ax, const Axis& ay, Curve Progress::*curve, const std::string& caption,
                   const std::string& id) {
    Plot plot(ax, ay);
    for (size_t i = 0; i < all.size(); ++i)
      plot.line(progress[i].*curve, series_colour(i), true, basename_of(all[i]->path), i > 0);
    plot.legend(legend);
    return "<figure>" + plot.svg(caption, "progress", id) + "</figure>\n";
  };
  std::ostringstream os;
  os << "<section id=\"progress\"><h2>Search progress</h2>\n<p class=\"note\">Hypervolume of the feasible front of "
        "(1 − val acc, MS / "
     << group_digits(std::llround(main.front.ref_ms)) << " B"
     << (main.front.ref_wm > 0 ? ", WM / " + group_digits(std::llround(main.front.ref_wm)) + " B" : "")
     << ") in the unit box, as <code>sparse pareto</code> computes it; trials are counted in id order (failed ones "
        "too), time is the search time at each trial's end.</p>\n<div class=\"plots two\">\n";
  os << chart(trials, hv, &Progress::hv_by_trials, "Hypervolume vs trials", "progress-hv-trials");
  os << chart(seconds, hv, &Progress::hv_by_seconds, "Hypervolume vs search time", "progress-hv-time");
  os << chart(trials, best, &Progress::best_by_trials, "Best feasible accuracy vs trials", "progress-best-trials");
  os << chart(seconds, best, &Progress::best_by_seconds, "Best feasible accuracy vs search time", "progress-best-time");
  os << "</div>\n<div class=\"table-wrap\"><table class=\"progress-table\"><thead><tr><th class=\"text\">store</th><th>trials</th><th>done</th>"
        "<th>search time</th><th>hypervolume</th><th>best feasible val acc</th></tr></thead><tbody>\n";
  for (size_t i = 0; i < all.size(); ++i)
    os << "<tr><td class=\"text\"><span class=\"swatch\" style=\"background:" << series_colour(i) << "\"></span>"
       << h(all[i]->path) << "</td><td>" << all[i]->trials.size() << "</td><td>" << all[i]->done << "</td><td>"
       << duration_text(progress[i].seconds) << "</td><td>" << fixed(progress[i].final_hypervolume, 4) << "</td><td>"
       << (progress[i].final_best >= 0 ? fixed(progress[i].final_best, 4) : std::string("-")) << "</td></tr>\n";
  os << "</tbody></table></div>\n</section>\n";
  return os.str();
}

std::string front_table_section(const Study& st) {
  const Objectives o = search::parse_objectives(st.settings.objectives);
  std::ostringstream os;
  os << "<section id=\"front\"><h2>Trials on the front</h2>\n<p class=\"note\">" << st.front.front.size()
     << " Pareto-optimal of " << st.front.considered << (st.front.feasible_only ? " feasible done" : " done")
     << " trials; hypervolume " << fixed(st.front.hypervolume, 6) << " (as <code>sparse pareto</code>). "
     << "Sorted by validation accuracy; the trial number links to its section.</p>\n";
  os << "<div class=\"table-wrap\"><table class=\"front-table\"><thead><tr><th>trial</th><th class=\"text\">stage</th><th>ref</th><th>val</th>"
        "<th>test</th><th>int8</th><th>MS</th>"
     << (o.count == 3 ? "<th>" + wm_label(o) + "</th>" : "")
     << "<th>non-zeros</th><th>pruned</th><th>epochs</th><th>seconds</th><th class=\"text\">config</th></tr></thead>"
        "<tbody>\n";
  const std::set<int64_t> ids = front_ids(st);
  for (const auto& t : st.front.front) {
    const nlohmann::json& m = t.metrics;
    const bool has_share = m.is_object() && m.contains("pruned_share") && m["pruned_share"].is_number();
    const bool has_seconds = m.is_object() && m.contains("seconds") && m["seconds"].is_number();
    os << "<tr><td>" << link_to(t.id) << "</td><td class=\"text\">" << stage_name(t.stage) << "</td><td>"
       << (t.reference_id ? (ids.count(*t.reference_id) ? link_to(*t.reference_id) : std::to_string(*t.reference_id))
                          : std::string("-"))
       << "</td><td>" << acc_text(t.val_acc) << "</td><td>" << acc_text(t.test_acc) << "</td><td>"
       << acc_text(t.int8_acc) << "</td><td>" << bytes_text(t.ms_bytes) << "</td>";
    if (o.count == 3) os << "<td>" << bytes_text(search::wm_bytes(t, o)) << "</td>";
    os << "<td>" << (t.nonzeros ? group_digits(*t.nonzeros) : std::string("-")) << "</td><td>"
       << (has_share ? fixed(100 * m["pruned_share"].get<double>(), 1) + " %" : std::string("-")) << "</td><td>"
       << t.epochs << "</td><td>" << (has_seconds ? fixed(m["seconds"].get<double>(), 1) : std::string("-"))
       << "</td><td class=\"text config\">" << h(search::config_summary(t.config)) << "</td></tr>\n";
  }
  os << "</tbody></table></div>\n";
  if (st.front.front.empty())
    os << "<p class=\"note\">No " << (st.front.feasible_only ? "feasible " : "")
       << "done trial yet: the front is empty.</p>\n";
  os << "</section>\n";
  return os.str();
}

}  // namespace sparse::report
