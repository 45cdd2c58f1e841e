// One front trial's section: figures, architecture (built-in SVG or Graphviz), accuracy curve, per-layer bars
// (see trial_section.hpp).
#include "host/report/trial_section.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <sstream>

#include "host/core/error.hpp"
#include "host/core/file_io.hpp"
#include "host/core/subprocess.hpp"
#include "host/memory/dot.hpp"
#include "host/report/sections.hpp"
#include "host/report/svg.hpp"
#include "host/space/config.hpp"

namespace sparse::report {

namespace {

std::string h(const std::string& s) { return xml_escape(s); }

bool is_number(const nlohmann::json& m, const char* key) {
  return m.is_object() && m.contains(key) && m[key].is_number();
}

const char* box_colour(graph::NodeKind k) {
  switch (k) {
    case graph::NodeKind::conv:
    case graph::NodeKind::depthwise_conv: return "#dbe9f6";
    case graph::NodeKind::fc: return "#e1f0dc";
    case graph::NodeKind::add:
    case graph::NodeKind::merge_sum:
    case graph::NodeKind::merge_concat: return "#f7e6d3";
    case graph::NodeKind::input: return "#ffffff";
    case graph::NodeKind::channel_max:
    case graph::NodeKind::max_pool: break;
  }
  return "#eeeeee";
}

std::string curve_svg(const store::TrialRecord& t) {
  const nlohmann::json& m = t.metrics;
  if (!m.is_object() || !m.contains("val_curve") || !m["val_curve"].is_array() || m["val_curve"].empty())
    return "<p class=\"note\">No per-epoch validation accuracy recorded for this trial.</p>";
  std::vector<std::pair<double, double>> pts;
  const bool initial = t.reference_id && is_number(m, "initial_val_acc") && m["initial_val_acc"].get<double>() >= 0;
  if (initial) pts.emplace_back(0, m["initial_val_acc"].get<double>());
  int epoch = 0;
  for (const auto& v : m["val_curve"])
    if (v.is_number()) pts.emplace_back(++epoch, v.get<double>());
  double lo = 1, hi = 0;
  for (const auto& p : pts) lo = std::min(lo, p.second), hi = std::max(hi, p.second);
  if (t.val_acc) lo = std::min(lo, *t.val_acc), hi = std::max(hi, *t.val_acc);
  Axis ay = linear_axis("validation accuracy", lo, hi);
  ay.lo = std::max(ay.lo, 0.0);
  ay.hi = std::min(ay.hi, 1.0);
  Axis ax = linear_axis("epoch", initial ? 0 : 1, std::max(epoch, 2));
  ax.integer = true;
  Plot plot(ax, ay, 520, 250);
  const int pre = is_number(m, "pretrain_epochs") ? m["pretrain_epochs"].get<int>() : 0;
  if (pre > 0) plot.shade(0.5, pre + 0.5, ay.lo, ay.hi, "pretrain", "deterministic pretraining epochs");
  if (t.val_acc) plot.hline(*t.val_acc, "final " + fixed(*t.val_acc, 4));
  if (m.contains("early_stop") && m["early_stop"].is_object() && is_number(m["early_stop"], "epoch")) {
    const auto& es = m["early_stop"];
    plot.vline(es["epoch"].get<double>(),
               "stopped" + (is_number(es, "median") ? " (median " + fixed(es["median"].get<double>(), 3) + ")" : ""));
  }
  plot.line(pts, "#1f77b4", false, "validation accuracy of the pruned network after each epoch");
  for (const auto& [x, y] : pts)
    plot.point(x, y, 3, "ep", (x == 0 ? std::string("inherited, before training") : "epoch " + fixed(x, 0)) +
                                  ": val " + fixed(y, 4));
  std::string caption = "Validation accuracy per epoch";
  if (is_number(m, "pruned_share")) caption += " (" + fixed(100 * m["pruned_share"].get<double>(), 1) + " % pruned at the end)";
  return plot.svg(caption, "curve");
}

// A per-epoch series of the trial's metrics (pruned_curve, loss_curve); "" when the trial has none (stores written
// before they were recorded).
std::string series_svg(const store::TrialRecord& t, const std::string& key, const std::string& label,
                       const std::string& caption, bool percent) {
  const nlohmann::json& m = t.metrics;
  if (!m.is_object() || !m.contains(key) || !m[key].is_array() || m[key].empty()) return "";
  std::vector<std::pair<double, double>> pts;
  int epoch = 0;
  double lo = percent ? 0 : 1e300, hi = percent ? 0.05 : -1e300;
  for (const auto& v : m[key]) {
    if (!v.is_number()) continue;
    const double y = v.get<double>() * (percent ? 100 : 1);
    pts.emplace_back(++epoch, y);
    lo = std::min(lo, y), hi = std::max(hi, y);
  }
  if (pts.empty()) return "";
  Axis ay = linear_axis(label, lo, hi);
  if (percent) ay.lo = 0;
  Axis ax = linear_axis("epoch", 1, std::max(epoch, 2));
  ax.integer = true;
  Plot plot(ax, ay, 520, 200);
  const int pre = is_number(m, "pretrain_epochs") ? m["pretrain_epochs"].get<int>() : 0;
  if (pre > 0) plot.shade(0.5, pre + 0.5, ay.lo, ay.hi, "pretrain", "deterministic pretraining epochs");
  plot.line(pts, "#d62728", false, caption);
  for (const auto& [x, y] : pts) plot.point(x, y, 3, "ep", "epoch " + fixed(x, 0) + ": " + label + " " + fixed(y, percent ? 1 : 4));
  return plot.svg(caption, "series");
}

std::string fact(const std::string& name, const std::string& value) {
  return "<div><dt>" + h(name) + "</dt><dd>" + h(value) + "</dd></div>";
}

}  // namespace

LayerMemory layer_memory(const store::TrialRecord& t, const search::SearchSettings& s) {
  LayerMemory m;
  m.graph = graph::build_graph(space::config_from_json(t.config));
  const graph::Graph& g = m.graph;
  m.dense = memory::memory_report(g, memory::dense_state(g), 8, 8, s.wm_input);
  m.pruned = m.dense;
  const nlohmann::json& metrics = t.metrics;
  if (!metrics.is_object() || !metrics.contains("layers") || !metrics["layers"].is_array()) {
    m.note = "the trial's metrics hold no per-layer figures: the drawing shows the dense network";
    return m;
  }
  memory::PruningState state = memory::dense_state(g);
  try {
    for (const auto& layer : metrics["layers"]) {
      const std::string name = layer.at("name").get<std::string>();
      const int i = g.index(name);
      if (i < 0) {
        m.note = "metrics.layers names '" + name + "', which the config's network lacks: the drawing shows the dense network";
        return m;
      }
      state.nonzero_weights[static_cast<size_t>(i)] = layer.at("nonzero").get<int64_t>();
      state.active_channels[static_cast<size_t>(i)] = layer.at("active_channels").get<int>();
    }
    m.pruned = memory::memory_report(g, state, 8, 8, s.wm_input);
  } catch (const std::exception& e) {
    m.pruned = m.dense;
    m.note = std::string("metrics.layers cannot be read (") + e.what() + "): the drawing shows the dense network";
    return m;
  }
  m.measured = true;
  if ((t.ms_bytes && *t.ms_bytes != m.pruned.ms_bytes) || (t.wm5_bytes && *t.wm5_bytes != m.pruned.wm5_bytes) ||
      (t.wm6_bytes && *t.wm6_bytes != m.pruned.wm6_bytes))
    m.note = "recounted from metrics.layers: MS " + group_digits(m.pruned.ms_bytes) + " B, WM5 " +
             group_digits(m.pruned.wm5_bytes) + " B, WM6 " + group_digits(m.pruned.wm6_bytes) + " B; the store says MS " +
             bytes_text(t.ms_bytes) + ", WM5 " + bytes_text(t.wm5_bytes) + ", WM6 " + bytes_text(t.wm6_bytes);
  return m;
}

std::string architecture_svg(const LayerMemory& m, const std::string& key) {
  const graph::Graph& g = m.graph;
  const double x0 = 8, box_w = 310, box_h = 40, gap = 16, skip_w = 120;
  const double width = x0 + box_w + skip_w, height = 8 + static_cast<double>(g.nodes.size()) * (box_h + gap);
  auto top = [&](size_t i) { return 8 + static_cast<double>(i) * (box_h + gap); };
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << width << " " << height << "\" class=\"arch\" id=\""
     << h(key) << "-arch\" role=\"img\" aria-label=\"architecture\" font-family=\"sans-serif\" font-size=\"11\">\n";
  int skips = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (int src : g.nodes[i].inputs) {
      const size_t s = static_cast<size_t>(src);
      if (s + 1 == i) {
        const double cx = x0 + 36, y1 = top(s) + box_h, y2 = top(i);
        os << "<line x1=\"" << cx << "\" y1=\"" << y1 << "\" x2=\"" << cx << "\" y2=\"" << y2 - 5
           << "\" stroke=\"#555\"/><polygon points=\"" << cx - 4 << "," << y2 - 6 << " " << cx + 4 << "," << y2 - 6
           << " " << cx << "," << y2 << "\" fill=\"#555\"/>\n";
      } else {
        const double xr = x0 + box_w, ys = top(s) + box_h / 2, yd = top(i) + box_h / 2;
        const double off = 24 + 16 * (skips++ % 6);
        os << "<path d=\"M" << xr << "," << ys << " C" << xr + off << "," << ys << " " << xr + off << "," << yd << " "
           << xr + 6 << "," << yd << "\" fill=\"none\" stroke=\"#8a5a2b\"/><polygon points=\"" << xr << "," << yd
           << " " << xr + 7 << "," << yd - 4 << " " << xr + 7 << "," << yd + 4 << "\" fill=\"#8a5a2b\"/>\n";
      }
    }
  }
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const graph::Node& n = g.nodes[i];
    const memory::NodeMemory& d = m.dense.nodes[i];
    const memory::NodeMemory& p = m.pruned.nodes[i];
    const double y = top(i);
    const int active = n.kind == graph::NodeKind::input ? n.out.c : p.active_channels;
    std::ostringstream tip, line2;
    tip << n.name << " (" << graph::to_string(n.kind) << "), output " << n.out.h << "x" << n.out.w << "x" << n.out.c;
    if (active != n.out.c) tip << ", " << active << " of " << n.out.c << " channels active after pruning";
    if (n.has_weights())
      tip << "\nweights " << group_digits(n.weights) << ", non-zero " << group_digits(p.w) << "; MS " << d.ms_bytes
          << " -> " << p.ms_bytes << " B";
    if (n.kind != graph::NodeKind::input)
      tip << "\nWM5 " << d.wm5_bytes << " -> " << p.wm5_bytes << " B, WM6 " << d.wm6_bytes << " -> " << p.wm6_bytes
          << " B" << (p.layer ? "" : " (input acquisition, not a layer)");
    line2 << graph::to_string(n.kind);
    if (n.kernel > 0) line2 << " " << n.kernel << "x" << n.kernel;
    if (n.batch_norm) line2 << " +BN";
    if (n.relu) line2 << " +ReLU";
    line2 << "  " << n.out.h << "x" << n.out.w << "x" << n.out.c;
    const bool show_channels = n.has_weights() || active != n.out.c;
    if (show_channels) line2 << "  ch " << active << "/" << n.out.c;
    os << "<g><title>" << h(tip.str()) << "</title><rect x=\"" << x0 << "\" y=\"" << y << "\" width=\"" << box_w
       << "\" height=\"" << box_h << "\" rx=\"4\" fill=\"" << box_colour(n.kind) << "\" stroke=\"#999\"/>"
       << "<text x=\"" << x0 + 8 << "\" y=\"" << y + 15 << "\" font-weight=\"bold\">" << h(n.name) << "</text>"
       << "<text x=\"" << x0 + 8 << "\" y=\"" << y + 31 << "\"" << (active == 0 ? " fill=\"#c0392b\"" : "") << ">"
       << h(line2.str()) << "</text>";
    if (show_channels && n.out.c > 0) {
      const double bx = x0 + box_w - 78, bw = 66, frac = static_cast<double>(active) / n.out.c;
      os << "<rect x=\"" << bx << "\" y=\"" << y + 8 << "\" width=\"" << bw << "\" height=\"6\" fill=\"#d5d5d5\"/>"
         << "<rect x=\"" << bx << "\" y=\"" << y + 8 << "\" width=\"" << fixed(bw * frac, 1)
         << "\" height=\"6\" fill=\"" << (active == 0 ? "#c0392b" : "#2b6cb0") << "\"/>";
    }
    os << "</g>\n";
  }
  os << "</svg>";
  return os.str();
}

std::string graphviz_svg(const LayerMemory& m, const std::string& key, std::string& why) {
  if (!program_available("dot")) {
    why = "Graphviz `dot` is not on PATH: built-in drawing";
    return "";
  }
  const std::filesystem::path dot_file =
      std::filesystem::temp_directory_path() / ("sparse-report-" + std::to_string(::getpid()) + "-" + key + ".dot");
  write_file_atomic(dot_file, memory::to_dot(m.graph, m.dense, m.pruned));
  ProcessResult r;
  try {
    r = run_process({"dot", "-Tsvg", dot_file.string()}, 30);
  } catch (const std::exception& e) {
    r.exit_code = -1;
    r.err = e.what();
  }
  std::error_code ec;
  std::filesystem::remove(dot_file, ec);
  const size_t start = r.out.find("<svg");
  if (r.exit_code != 0 || r.timed_out || start == std::string::npos) {
    why = "Graphviz `dot` failed (" + r.err.substr(0, 200) + "): built-in drawing";
    return "";
  }
  std::string svg = r.out.substr(start);
  // Ids of every inline SVG share the page: prefix Graphviz's ("graph0", "node1", ...) with the trial's key.
  std::string out;
  out.reserve(svg.size() + 256);
  for (size_t i = 0; i < svg.size();) {
    if (svg.compare(i, 5, " id=\"") == 0) {
      out += " id=\"" + key + "-";
      i += 5;
    } else {
      out += svg[i++];
    }
  }
  return "<svg class=\"arch graphviz\"" + out.substr(4);
}

std::string trial_section(const Study& st, const store::TrialRecord& t, const std::set<int64_t>& with_section,
                          const TrialSectionOptions& options) {
  const search::SearchSettings& s = st.settings;
  const search::Objectives o = search::parse_objectives(s.objectives);
  const nlohmann::json& m = t.metrics;
  const std::string key = "trial-" + std::to_string(t.id);
  std::ostringstream os;
  os << "<section class=\"trial\" id=\"" << key << "\">\n<h3>Trial " << t.id << " <small>" << stage_name(t.stage);
  if (t.reference_id) {
    os << ", morph of "
       << (with_section.count(*t.reference_id)
               ? "<a href=\"#trial-" + std::to_string(*t.reference_id) + "\">trial " + std::to_string(*t.reference_id) + "</a>"
               : "trial " + std::to_string(*t.reference_id));
    if (t.morphs.is_array() && !t.morphs.empty()) {
      std::string names;
      for (const auto& name : t.morphs) names += (names.empty() ? "" : ", ") + (name.is_string() ? name.get<std::string>() : name.dump());
      os << " (" << h(names) << ")";
    }
  }
  os << " · " << (search::feasible(t, s) ? "feasible" : "infeasible") << "</small> <a class=\"top\" href=\"#front\">↑ front</a></h3>\n";
  os << "<p class=\"config\">" << h(search::config_summary(t.config)) << "</p>\n<dl class=\"facts\">";
  os << fact("val acc", acc_text(t.val_acc)) << fact("test acc", acc_text(t.test_acc))
     << fact("int8 test acc", acc_text(t.int8_acc)) << fact("MS", bytes_text(t.ms_bytes))
     << fact("WM5", bytes_text(t.wm5_bytes)) << fact("WM6", bytes_text(t.wm6_bytes));
  if (t.nonzeros && is_number(m, "params"))
    os << fact("non-zero weights", group_digits(*t.nonzeros) + " of " + group_digits(m["params"].get<int64_t>()));
  if (is_number(m, "pruned_share")) os << fact("pruned", fixed(100 * m["pruned_share"].get<double>(), 1) + " %");
  std::string epochs = std::to_string(t.epochs);
  if (m.is_object() && m.contains("early_stop") && m["early_stop"].is_object() && is_number(m["early_stop"], "epoch"))
    epochs += " (stopped early at " + m["early_stop"]["epoch"].dump() + ", median rule)";
  os << fact("epochs", epochs);
  if (is_number(m, "seconds")) os << fact("training time", duration_text(m["seconds"].get<double>()));
  if (is_number(m, "search_seconds")) os << fact("ended at search time", duration_text(m["search_seconds"].get<double>()));
  if (!t.device.empty()) os << fact("device", t.device);
  if (m.is_object() && m.contains("inherit") && m["inherit"].is_object() && is_number(m["inherit"], "inherited") &&
      is_number(m["inherit"], "total") && t.reference_id)
    os << fact("inherited φ", group_digits(m["inherit"]["inherited"].get<int64_t>()) + " of " +
                                   group_digits(m["inherit"]["total"].get<int64_t>()) + " parameters");
  os << "</dl>\n<div class=\"trial-grid\">\n";

  std::optional<LayerMemory> lm;
  std::string arch_note;
  try {
    lm = layer_memory(t, s);
    arch_note = lm->note;
  } catch (const std::exception& e) {
    arch_note = std::string("the config's network cannot be built: ") + e.what();
  }
  os << "<figure class=\"arch-fig\">";
  if (lm) {
    std::string drawn, why;
    if (options.graphviz) drawn = graphviz_svg(*lm, key, why);
    os << (drawn.empty() ? architecture_svg(*lm, key) : drawn);
    os << "<figcaption>Architecture" << (lm->measured ? " after pruning (ch = active/total channels)" : "")
       << (why.empty() ? "" : "; " + h(why)) << "</figcaption>";
  }
  if (!arch_note.empty()) os << "<p class=\"note warn\">" << h(arch_note) << "</p>";
  os << "</figure>\n<div class=\"trial-plots\">\n<figure>" << curve_svg(t) << "</figure>\n";
  for (const std::string& series :
       {series_svg(t, "pruned_curve", "% pruned", "Share of the weights pruned after each epoch", true),
        series_svg(t, "loss_curve", "training loss", "Training loss per epoch (CE + γ·KL / N)", false)})
    if (!series.empty()) os << "<figure>" << series << "</figure>\n";
  if (lm) {
    std::vector<Bar> ms_bars, wm_bars;
    const bool wm6 = o.wm == "wm6";
    for (size_t i = 0; i < lm->graph.nodes.size(); ++i) {
      const graph::Node& n = lm->graph.nodes[i];
      const memory::NodeMemory& d = lm->dense.nodes[i];
      const memory::NodeMemory& p = lm->pruned.nodes[i];
      if (n.has_weights())
        ms_bars.push_back({n.name, static_cast<double>(p.ms_bytes),
                           group_digits(p.ms_bytes) + " / " + group_digits(d.ms_bytes) + " B",
                           n.name + ": MS " + group_digits(p.ms_bytes) + " B after pruning, " +
                               group_digits(d.ms_bytes) + " B dense"});
      if (p.layer) {
        const int64_t a = wm6 ? p.wm6_bytes : p.wm5_bytes, b = wm6 ? d.wm6_bytes : d.wm5_bytes;
        wm_bars.push_back({n.name, static_cast<double>(a), group_digits(a) + " / " + group_digits(b) + " B",
                           n.name + ": " + wm_label(o) + " " + group_digits(a) + " B after pruning, " +
                               group_digits(b) + " B dense (input " + group_digits(p.x) + " values)"});
      }
    }
    const int64_t wm_total = wm6 ? lm->pruned.wm6_bytes : lm->pruned.wm5_bytes;
    os << "<figure>"
       << bar_chart(ms_bars, "MS per layer, after / before pruning (total " + group_digits(lm->pruned.ms_bytes) + " B)",
                    "#2b6cb0", 0, "", "layer-ms")
       << "</figure>\n<figure>"
       << bar_chart(wm_bars,
                    wm_label(o) + " per layer, after / before pruning (max " + group_digits(wm_total) + " B)",
                    "#2f855a", s.max_wm_bytes ? static_cast<double>(*s.max_wm_bytes) : 0,
                    s.max_wm_bytes ? "budget " + group_digits(*s.max_wm_bytes) + " B" : "", "layer-wm")
       << "</figure>\n";
  }
  os << "</div>\n</div>\n<details><summary>Config JSON</summary><pre>" << h(t.config.dump(1)) << "</pre></details>\n";
  os << "</section>\n";
  return os.str();
}

}  // namespace sparse::report
