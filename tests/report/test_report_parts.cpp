// The report's parts on their own: SVG text and axes, points and bars, the progress curves against `sparse pareto`'s
// front at every trial count, the per-layer recount from a trial's metrics, and a trial section with missing pieces.
#include <gtest/gtest.h>

#include "host/memory/memory.hpp"
#include "host/report/sections.hpp"
#include "host/report/study.hpp"
#include "host/report/svg.hpp"
#include "host/report/trial_section.hpp"
#include "tests/report/report_fixtures.hpp"

using namespace sparse;
using namespace sparse::report;

namespace {

// Value of a step curve at x (the last point at or before x); -1 before its first point.
double at(const Curve& c, double x) {
  double v = -1;
  for (const auto& [px, py] : c)
    if (px <= x) v = py;
  return v;
}

store::TrialRecord done_trial(int64_t id, double acc, int64_t ms, int64_t wm, double end_seconds) {
  store::TrialRecord t = test::done_trial(id, acc, ms, wm);
  t.metrics = {{"search_seconds", end_seconds}};
  return t;
}

search::SearchSettings budgets_2kb() {
  search::SearchSettings s;
  s.objectives = "acc,ms,wm5";
  s.max_ms_bytes = 2048;
  s.max_wm_bytes = 2048;
  s.min_acc = 0.5;
  return s;
}

}  // namespace

TEST(ReportSvg, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(xml_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  EXPECT_EQ(group_digits(1234567), "1,234,567");
  EXPECT_EQ(group_digits(-1541), "-1,541");
  EXPECT_EQ(group_digits(999), "999");
}

TEST(ReportSvg, LinearAxisWidensToNiceTicks) {
  const Axis a = linear_axis("acc", 0.53, 0.91);
  EXPECT_NEAR(a.lo, 0.5, 1e-12);
  EXPECT_NEAR(a.hi, 1.0, 1e-12);
  const auto t = a.ticks();
  ASSERT_EQ(t.size(), 6u);
  EXPECT_NEAR(t.front(), 0.5, 1e-12);
  EXPECT_NEAR(t.back(), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(a.frac(0.75), 0.5);
  EXPECT_EQ(a.frac(-3.0), 0.0) << "values outside the axis are clamped";
  const Axis flat = linear_axis("x", 0.8, 0.8);
  EXPECT_LT(flat.lo, 0.8);
  EXPECT_GT(flat.hi, 0.8);
}

TEST(ReportSvg, LogAxisCoversDataAndBudgetsOnOneTwoFive) {
  const Axis a = log_axis("MS", 150, 2048 * 1.2);
  EXPECT_DOUBLE_EQ(a.lo, 100);
  EXPECT_DOUBLE_EQ(a.hi, 5000);
  const std::vector<double> want = {100, 200, 500, 1000, 2000, 5000};
  const auto t = a.ticks();
  ASSERT_EQ(t.size(), want.size());
  for (size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], want[i], 1e-9);
  EXPECT_EQ(a.tick_text(2000), "2 kB");
  EXPECT_EQ(a.tick_text(500), "500 B");
  EXPECT_NEAR(a.frac(std::sqrt(100.0 * 5000.0)), 0.5, 1e-12);
  EXPECT_LT(a.frac(1000), a.frac(1001));
}

TEST(ReportSvg, APointIsOneCircleWithItsTooltipAndLink) {
  Plot p(linear_axis("x", 0, 1), linear_axis("y", 0, 1));
  p.point(0.5, 0.5, 3, "pt s1 front", "trial <7>", "#trial-7");
  p.point(1e9, -1e9, 3, "pt s0", "far away");
  p.legend({{"#000", "front"}, {"#f00", "series", true}});
  p.shade(0, 0.5, 0.5, 1, "feasible", "budgets");
  const std::string svg = p.svg("Caption & more", "pareto", "plot-1");
  EXPECT_EQ(test::count_of(svg, "<circle"), 2u) << "legends and shading draw no circles";
  EXPECT_NE(svg.find("<title>trial &lt;7&gt;</title>"), std::string::npos);
  EXPECT_NE(svg.find("<a href=\"#trial-7\">"), std::string::npos);
  EXPECT_NE(svg.find("Caption &amp; more"), std::string::npos);
  EXPECT_DOUBLE_EQ(p.px(1e9), p.px(1)) << "a point beyond the axis sits on the box's edge";
  EXPECT_DOUBLE_EQ(p.py(-1e9), p.py(0));
}

TEST(ReportSvg, BarsScaleToTheLargerOfValuesAndMarker) {
  const std::string svg = bar_chart({{"a", 10, "10 B", ""}, {"b", 20, "20 B", ""}}, "WM", "#000", 40, "budget", "x");
  EXPECT_NE(svg.find("width=\"125.0\""), std::string::npos) << "20 of 40 is half the 250-pixel bar area";
  EXPECT_NE(svg.find("width=\"62.5\""), std::string::npos);
  const std::string no_marker = bar_chart({{"a", 10, "", ""}, {"b", 20, "", ""}}, "MS", "#000", 0, "", "x");
  EXPECT_NE(no_marker.find("width=\"250.0\""), std::string::npos);
}

TEST(ReportProgress, CurvesEqualTheParetoHypervolumeAtEveryTrialCount) {
  const search::SearchSettings s = budgets_2kb();
  std::vector<store::TrialRecord> trials = {
      done_trial(1, 0.70, 1500, 1800, 30),  done_trial(2, 0.80, 4000, 1000, 10),  // 2: over the MS budget
      done_trial(3, 0.75, 900, 1200, 50),   done_trial(4, 0.40, 100, 100, 20),    // 4: under the floor
      done_trial(5, 0.85, 1900, 2000, 40),  done_trial(6, 0.74, 950, 1300, 60),   // 6: dominated by 3
      done_trial(7, 0.60, 300, 400, 70),
  };
  store::TrialRecord failed;
  failed.id = 8;
  failed.state = store::TrialState::Failed;
  failed.metrics = {{"search_seconds", 80}};
  trials.push_back(failed);
  const search::FrontReport whole = search::pareto_report(trials, s);
  const Progress p = progress_of(trials, s, whole.ref_ms, whole.ref_wm);
  EXPECT_DOUBLE_EQ(p.final_hypervolume, whole.hypervolume);
  EXPECT_DOUBLE_EQ(p.final_best, 0.85);
  EXPECT_EQ(p.trials, 8);
  EXPECT_DOUBLE_EQ(p.seconds, 80);
  search::FrontOptions o;
  o.ref_ms = static_cast<int64_t>(whole.ref_ms);
  o.ref_wm = static_cast<int64_t>(whole.ref_wm);
  for (int n = 1; n <= 8; ++n) {
    o.first = n;  // what `sparse pareto --first n` reports, in the same box
    EXPECT_NEAR(at(p.hv_by_trials, n), search::pareto_report(trials, s, o).hypervolume, 1e-12) << "n = " << n;
  }
  EXPECT_EQ(at(p.best_by_trials, 1), 0.70);
  EXPECT_EQ(at(p.best_by_trials, 4), 0.75) << "trial 2 is over budget and 4 under the floor";
  // By time: trials end in the order 2, 4, 1, 5, 3, 6, 7.
  EXPECT_EQ(at(p.best_by_seconds, 25), -1) << "nothing feasible has ended by 25 s";
  EXPECT_EQ(at(p.best_by_seconds, 40), 0.85);
  EXPECT_DOUBLE_EQ(p.hv_by_seconds.back().second, whole.hypervolume);
  for (size_t i = 1; i < p.hv_by_seconds.size(); ++i) {
    EXPECT_GE(p.hv_by_seconds[i].first, p.hv_by_seconds[i - 1].first);
    EXPECT_GE(p.hv_by_seconds[i].second, p.hv_by_seconds[i - 1].second);
  }
}

TEST(ReportLayers, RecountFromMetricsMatchesTheMemoryModel) {
  const nlohmann::json config = test::tiny_config();
  const graph::Graph g = graph::build_graph(space::config_from_json(config));
  std::vector<int> active(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) active[i] = g.nodes[i].out.c;
  const int conv = g.index("block1.layer1.conv");
  ASSERT_GE(conv, 0) << "tiny.json's first conv node";
  ASSERT_GT(g.nodes[static_cast<size_t>(conv)].out.c, 3);
  active[static_cast<size_t>(conv)] = 3;
  const memory::PruningState state = memory::structured_state(g, active);
  const memory::MemoryReport want = memory::memory_report(g, state);
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].has_weights())
      layers.push_back({{"name", g.nodes[i].name},
                        {"params", g.nodes[i].weights},
                        {"nonzero", state.nonzero_weights[i]},
                        {"channels", g.nodes[i].out.c},
                        {"active_channels", state.active_channels[i]}});
  store::TrialRecord t;
  t.id = 3;
  t.state = store::TrialState::Done;
  t.config = config;
  t.metrics = {{"layers", layers}};
  t.ms_bytes = want.ms_bytes;
  t.wm5_bytes = want.wm5_bytes;
  t.wm6_bytes = want.wm6_bytes;
  const search::SearchSettings s = budgets_2kb();
  const LayerMemory m = layer_memory(t, s);
  EXPECT_TRUE(m.measured);
  EXPECT_EQ(m.note, "");
  EXPECT_EQ(m.pruned.ms_bytes, want.ms_bytes);
  EXPECT_LT(m.pruned.ms_bytes, m.dense.ms_bytes);
  const std::string arch = architecture_svg(m, "trial-3");
  EXPECT_NE(arch.find("ch 3/" + std::to_string(g.nodes[static_cast<size_t>(conv)].out.c)), std::string::npos) << arch;
  EXPECT_EQ(test::count_of(arch, "<rect x=\"8\""), g.nodes.size()) << "one box per node";

  store::TrialRecord off = t;
  off.ms_bytes = want.ms_bytes + 1;
  EXPECT_NE(layer_memory(off, s).note.find("the store says MS " + group_digits(want.ms_bytes + 1)), std::string::npos);
  store::TrialRecord foreign = t;
  foreign.metrics["layers"][0]["name"] = "no.such.node";
  const LayerMemory f = layer_memory(foreign, s);
  EXPECT_FALSE(f.measured);
  EXPECT_NE(f.note.find("no.such.node"), std::string::npos);
  EXPECT_EQ(f.pruned.ms_bytes, f.dense.ms_bytes);
}

TEST(ReportTrialSection, ATrialWithMissingPiecesStillGetsItsSection) {
  Study st;
  st.settings = budgets_2kb();
  store::TrialRecord t;
  t.id = 9;
  t.state = store::TrialState::Done;
  t.val_acc = 0.8;
  t.ms_bytes = t.wm5_bytes = t.wm6_bytes = 500;
  t.config = {{"not", "a config"}};
  const std::string html = trial_section(st, t, {9}, {});
  EXPECT_NE(html.find("id=\"trial-9\""), std::string::npos);
  EXPECT_NE(html.find("cannot be built"), std::string::npos) << html;
  EXPECT_NE(html.find("No per-epoch validation accuracy"), std::string::npos);
  t.config = test::tiny_config();
  t.metrics = {{"val_curve", {0.5, 0.7, 0.8}}, {"early_stop", {{"epoch", 2}, {"median", 0.75}}}};
  const std::string drawn = trial_section(st, t, {9}, {});
  EXPECT_NE(drawn.find("class=\"arch\""), std::string::npos);
  EXPECT_NE(drawn.find("no per-layer figures"), std::string::npos) << "dense drawing, said so";
  EXPECT_NE(drawn.find("stopped (median 0.750)"), std::string::npos);
  EXPECT_EQ(drawn.find("Share of the weights pruned"), std::string::npos) << "no pruned_curve, no plot";
  t.metrics["pruned_curve"] = {0.0, 0.1, 0.25};
  t.metrics["loss_curve"] = {1.2, 0.8, 0.6};
  const std::string curves = trial_section(st, t, {9}, {});
  const auto series = test::svgs_with(curves, "class=\"plot series\"");
  EXPECT_NE(curves.find("Share of the weights pruned after each epoch"), std::string::npos);
  EXPECT_NE(curves.find("epoch 3: % pruned 25.0"), std::string::npos) << curves;
  EXPECT_NE(curves.find("epoch 2: training loss 0.8000"), std::string::npos);
  EXPECT_EQ(series.size(), 2u) << "pruned share and loss";
  EXPECT_EQ(test::svgs_with(curves, "class=\"plot curve\"").size(), 1u) << "validation accuracy";
}
