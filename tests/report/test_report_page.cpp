// `sparse report` end to end on stores made by real searches: one plot point per done trial in each Pareto plot, the
// front table equal to `sparse pareto --json`, anchors that resolve and ids that are unique, a page with no external
// reference, the compare store on the progress plots, per-layer figures that agree with the stored MS and WM; a
// made-up study of 300 trials; a two-objective (acc,ms) study; an empty study; Graphviz drawings when asked.
#include <gtest/gtest.h>

#include <regex>

#include "host/core/subprocess.hpp"
#include "host/report/trial_section.hpp"
#include "tests/report/report_fixtures.hpp"

using namespace sparse;
using sparse::test::count_of;
using sparse::test::run_cli;
using sparse::test::TempDir;

namespace {

struct Rendered {
  test::CliResult cli;
  nlohmann::json summary;
  std::string html;
};

Rendered render(const std::string& args, const std::filesystem::path& out) {
  Rendered r;
  r.cli = run_cli("report " + args + " --out " + out.string() + " --json");
  if (r.cli.exit_code == 0) {
    r.summary = nlohmann::json::parse(r.cli.out);
    r.html = test::slurp(out);
  }
  return r;
}

// Trials with measured objectives (what the Pareto plots draw) and the `sparse pareto --json` object of `store`.
int plotted_trials(const std::string& store) {
  store::SqliteStore st(store, false);
  const int64_t id = search::sole_search(st, store);
  const auto s = search::settings_from_record(st.get_search(id), store);
  const auto o = search::parse_objectives(s.objectives);
  int n = 0;
  for (const auto& t : st.list_trials(id)) n += search::has_objectives(t, o);
  return n;
}

nlohmann::json pareto_json(const std::string& store) {
  const auto r = run_cli("pareto " + store + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

// Trial ids of the front table's rows, in order.
std::vector<int64_t> table_ids(const std::string& html) {
  const std::string body =
      test::between(test::between(html, "<table class=\"front-table\">", "</table>"), "<tbody>", "</tbody>");
  std::vector<int64_t> ids;
  const std::regex row("<tr><td><a href=\"#trial-([0-9]+)\">");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), row); it != std::sregex_iterator(); ++it)
    ids.push_back(std::stoll((*it)[1].str()));
  EXPECT_EQ(ids.size(), count_of(body, "<tr>")) << "every row starts with its trial link";
  return ids;
}

void expect_anchors_resolve(const std::string& html) {
  const auto ids = test::attribute_values(html, "id");
  const std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size()) << "ids are unique on the page";
  size_t local = 0;
  for (const auto& href : test::attribute_values(html, "href")) {
    ASSERT_FALSE(href.empty());
    EXPECT_EQ(href[0], '#') << "only links inside the page: " << href;
    if (href[0] != '#') continue;
    EXPECT_TRUE(unique.count(href.substr(1))) << "link " << href << " has no target";
    ++local;
  }
  EXPECT_GT(local, 0u);
}

void expect_self_contained(const std::string& html) {
  for (const char* banned : {"<script", "<link", "<img", "<iframe", "src=", "url(", "@import"})
    EXPECT_EQ(count_of(html, banned), 0u) << banned;
  for (size_t at = html.find("http"); at != std::string::npos; at = html.find("http", at + 4))
    EXPECT_EQ(html.compare(at, 18, "http://www.w3.org/"), 0) << "only XML namespaces name a URL: " << html.substr(at, 60);
}

}  // namespace

TEST(ReportPage, PlotsTableAnchorsAndCompareMatchTheStores) {
  const auto& s = test::searches();
  ASSERT_TRUE(s.error.empty()) << s.error;
  TempDir d;
  const auto r = render(s.sparse_store + " --compare " + s.random_store, d / "report.html");
  ASSERT_EQ(r.cli.exit_code, 0) << r.cli.err;
  EXPECT_EQ(r.summary["bytes"].get<size_t>(), r.html.size());
  EXPECT_FALSE(std::filesystem::exists(d / "report.html.tmp"));

  const int done = plotted_trials(s.sparse_store);
  ASSERT_GT(done, 0);
  EXPECT_EQ(r.summary["done"].get<int>(), done);
  const auto pareto = test::svgs_with(r.html, "class=\"plot pareto\"");
  ASSERT_EQ(pareto.size(), 3u) << "acc-MS, acc-WM, MS-WM";
  const nlohmann::json front = pareto_json(s.sparse_store);
  const size_t front_size = front["front"].size();
  ASSERT_GT(front_size, 0u) << "the fixture's budgets leave some trial feasible";
  for (const auto& svg : pareto) {
    EXPECT_EQ(count_of(svg, "<circle"), static_cast<size_t>(done)) << "one point per done trial";
    EXPECT_EQ(count_of(svg, " front\""), front_size) << "front points are ringed";
    EXPECT_EQ(count_of(svg, "<a href=\"#trial-"), front_size);
  }
  const auto rows = table_ids(r.html);
  ASSERT_EQ(rows.size(), front_size);
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i], front["front"][i]["trial"].get<int64_t>()) << i;
  EXPECT_NEAR(r.summary["hypervolume"].get<double>(), front["hypervolume"].get<double>(), 1e-12);
  EXPECT_EQ(r.summary["front"].get<size_t>(), front_size);

  EXPECT_EQ(count_of(r.html, "<section class=\"trial\""), front_size) << "sections for front trials only";
  const auto ids = test::attribute_values(r.html, "id");
  for (const auto& row : front["front"])
    EXPECT_NE(std::find(ids.begin(), ids.end(), "trial-" + row["trial"].dump()), ids.end()) << row["trial"];
  expect_anchors_resolve(r.html);
  expect_self_contained(r.html);
  EXPECT_EQ(count_of(r.html, "class=\"arch\""), front_size);
  EXPECT_EQ(count_of(r.html, "class=\"plot curve\""), front_size);
  EXPECT_EQ(count_of(r.html, "class=\"bars layer-ms\""), front_size);
  EXPECT_EQ(count_of(r.html, "class=\"bars layer-wm\""), front_size);

  // The compare store is a second line on every progress plot (the hypervolume curves always have one).
  const auto progress = test::svgs_with(r.html, "class=\"plot progress\"");
  ASSERT_EQ(progress.size(), 4u);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(count_of(progress[i], "<polyline"), 2u);
  const std::string random_name = std::filesystem::path(s.random_store).filename().string();
  EXPECT_NE(progress[0].find(random_name + " (compare)"), std::string::npos);
  EXPECT_NE(r.html.find("<td class=\"text\"><span class=\"swatch\""), std::string::npos);

  // The per-layer figures recounted from each front trial's metrics agree with the store's totals.
  store::SqliteStore st(s.sparse_store, false);
  const int64_t id = search::sole_search(st, s.sparse_store);
  const auto settings = search::settings_from_record(st.get_search(id), s.sparse_store);
  for (const auto& row : front["front"]) {
    const auto m = report::layer_memory(st.get_trial(row["trial"].get<int64_t>()), settings);
    EXPECT_TRUE(m.measured) << row["trial"];
    EXPECT_EQ(m.note, "") << row["trial"];
  }
  EXPECT_EQ(count_of(r.html, "class=\"note warn\""), 0u);
}

TEST(ReportPage, MadeUpStudyOfThreeHundredTrials) {
  TempDir d;
  const std::string store = (d / "made-up.db").string();
  test::write_made_up_store(store, 300, 11);
  const auto r = render(store, d / "r.html");
  ASSERT_EQ(r.cli.exit_code, 0) << r.cli.err;
  const auto pareto = test::svgs_with(r.html, "class=\"plot pareto\"");
  ASSERT_EQ(pareto.size(), 3u);
  for (const auto& svg : pareto) EXPECT_EQ(count_of(svg, "<circle"), 300u);
  EXPECT_GT(count_of(pareto[0], " infeasible"), 0u) << "made-up sizes exceed the 2 KB budgets for some";
  const nlohmann::json front = pareto_json(store);
  EXPECT_EQ(table_ids(r.html).size(), front["front"].size());
  EXPECT_EQ(count_of(r.html, "<section class=\"trial\""), front["front"].size());
  expect_anchors_resolve(r.html);
  for (int stage = 0; stage <= 3; ++stage)
    EXPECT_GT(count_of(pareto[0], "class=\"pt s" + std::to_string(stage)), 0u) << "stage " << stage << " coloured";
}

TEST(ReportPage, EmptyStudySaysSoAndStillRenders) {
  TempDir d;
  const std::string store = (d / "empty.db").string();
  test::write_made_up_store(store, 0, 1);
  const auto r = render(store, d / "r.html");
  ASSERT_EQ(r.cli.exit_code, 0) << r.cli.err;
  EXPECT_EQ(test::svgs_with(r.html, "class=\"plot pareto\"").size(), 0u);
  EXPECT_NE(r.html.find("No done trial with measured objectives yet"), std::string::npos);
  EXPECT_TRUE(table_ids(r.html).empty());
  EXPECT_NE(r.html.find("the front is empty"), std::string::npos);
  EXPECT_EQ(test::svgs_with(r.html, "class=\"plot progress\"").size(), 4u);
  expect_anchors_resolve(r.html);
}

TEST(ReportPage, GraphvizDrawingsWhenAskedElseTheBuiltInOne) {
  TempDir d;
  const std::string store = (d / "g.db").string();
  test::write_made_up_store(store, 20, 3);
  const auto r = render(store + " --graphviz", d / "r.html");
  ASSERT_EQ(r.cli.exit_code, 0) << r.cli.err;
  const size_t sections = count_of(r.html, "<section class=\"trial\"");
  ASSERT_GT(sections, 0u);
  if (program_available("dot")) {
    EXPECT_EQ(count_of(r.html, "<svg class=\"arch graphviz\""), sections);
    EXPECT_EQ(count_of(r.html, "<!DOCTYPE svg"), 0u);
  } else {
    EXPECT_EQ(count_of(r.html, "class=\"arch\""), sections);
    EXPECT_NE(r.html.find("not on PATH"), std::string::npos);
  }
  expect_anchors_resolve(r.html);
  expect_self_contained(r.html);
}

TEST(ReportPage, TwoObjectiveStudyHasOnePlotAndNoWorkingMemoryColumn) {
  TempDir d;
  const std::string store = (d / "acc-ms.db").string();
  test::write_made_up_store(store, 40, 5, "acc,ms");
  const auto r = render(store, d / "r.html");
  ASSERT_EQ(r.cli.exit_code, 0) << r.cli.err;
  const auto pareto = test::svgs_with(r.html, "class=\"plot pareto\"");
  ASSERT_EQ(pareto.size(), 1u) << "accuracy vs MS only";
  EXPECT_EQ(count_of(pareto[0], "<circle"), 40u);
  const std::string head = test::between(r.html, "<table class=\"front-table\">", "</thead>");
  EXPECT_EQ(head.find("WM5"), std::string::npos) << head;
  EXPECT_EQ(table_ids(r.html).size(), pareto_json(store)["front"].size());
  expect_anchors_resolve(r.html);
}
