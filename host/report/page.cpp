// Page assembly of `sparse report`: stores in, one self-contained HTML page out (see page.hpp).
#include "host/report/page.hpp"

#include <ctime>
#include <filesystem>
#include <sstream>

#include "host/core/error.hpp"
#include "host/report/sections.hpp"
#include "host/report/study.hpp"
#include "host/report/svg.hpp"
#include "host/report/trial_section.hpp"
#include "sparse/version.hpp"

namespace sparse::report {

namespace {

// Stage colours match sections.cpp's legend; print rules keep plots whole and start each trial on a page.
constexpr const char* kCss = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f6f4; color: #222; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header, main, footer { max-width: 1240px; margin: 0 auto; padding: 0 18px; }
header h1 { font-size: 22px; margin: 18px 0 2px; }
header p { margin: 2px 0; color: #555; }
nav { margin: 10px 0 4px; display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav a { color: #1a56a6; text-decoration: none; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 18px 14px; margin: 14px 0; }
h2 { font-size: 18px; margin: 6px 0 8px; }
h3 { font-size: 16px; margin: 4px 0 6px; }
h3 small { font-weight: normal; color: #555; font-size: 13px; }
h3 a.top { float: right; font-size: 12px; font-weight: normal; }
a { color: #1a56a6; }
.note { color: #555; font-size: 13px; margin: 4px 0 8px; }
.warn { color: #8a4b00; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 10px 16px; }
.plots.two { grid-template-columns: repeat(2, minmax(0, 1fr)); }
figure { margin: 0; }
figcaption { font-size: 12px; color: #555; }
svg.plot, svg.bars { width: 100%; height: auto; display: block; }
svg.arch { width: 100%; max-width: 460px; height: auto; display: block; }
svg.curve, svg.series, svg.bars, svg.progress { max-width: 580px; }
circle.pt { stroke: #fff; stroke-width: 0.6; }
circle.s0 { fill: #8c8c8c; } circle.s1 { fill: #1f77b4; } circle.s2 { fill: #ff7f0e; } circle.s3 { fill: #2ca02c; }
circle.infeasible { fill-opacity: 0.28; }
circle.front { stroke: #000; stroke-width: 1.6; }
circle.ep { fill: #1f77b4; }
rect.feasible { fill: #2ca02c; fill-opacity: 0.08; }
rect.pretrain { fill: #999; fill-opacity: 0.12; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 6px 0; }
th, td { padding: 3px 9px; border-bottom: 1px solid #eee; text-align: right; vertical-align: top; white-space: nowrap; }
td.config, table.settings td { white-space: normal; }
th.text, td.text { text-align: left; }
thead th { border-bottom: 2px solid #ccc; background: #fafafa; position: sticky; top: 0; }
td.differs { background: #fff1c2; }
td.config { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; }
.table-wrap { overflow-x: auto; }
p.config { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; margin: 2px 0 8px; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 4px 12px; margin: 6px 0 10px; }
dl.facts div { border-left: 3px solid #dde; padding-left: 6px; }
dt { font-size: 11.5px; color: #666; } dd { margin: 0; font-weight: 600; }
.trial-grid { display: grid; grid-template-columns: minmax(280px, 460px) 1fr; gap: 12px 20px; align-items: start; }
.trial-plots { display: grid; gap: 10px; }
details pre { font-size: 11.5px; background: #f7f7f7; padding: 8px; overflow-x: auto; max-height: 360px; }
footer { color: #777; font-size: 12px; padding-bottom: 24px; }
@media (max-width: 900px) { .trial-grid, .plots.two { grid-template-columns: 1fr; } }
@media print {
  body { background: #fff; font-size: 11pt; }
  header, main, footer { max-width: none; padding: 0; }
  nav, h3 a.top, details { display: none; }
  section { border: none; padding: 0; margin: 0 0 12pt; }
  figure, tr, svg { break-inside: avoid; }
  section.trial { break-before: page; }
  .plots { grid-template-columns: 1fr 1fr; }
  thead th { position: static; }
  a { color: inherit; text-decoration: none; }
}
)css";

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[64];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M UTC", &tm);
  return b;
}

}  // namespace

Report render_report(const ReportOptions& options) {
  const Study main = load_study(options.store, "");
  std::vector<Study> compares;
  for (const std::string& path : options.compare) {
    compares.push_back(load_study(path, "--compare"));
    SPARSE_CHECK(compares.back().settings.objectives == main.settings.objectives,
                 "--compare: store '" << compares.back().path << "' searched " << compares.back().settings.objectives << " but store '"
                                      << main.path << "' searched " << main.settings.objectives
                                      << ": expected stores of the same objectives");
  }
  // One box for every store: the reported search's (budgets, else its largest sizes), as `sparse pareto` uses.
  std::vector<Progress> progress = {progress_of(main.trials, main.settings, main.front.ref_ms, main.front.ref_wm)};
  for (const Study& c : compares)
    progress.push_back(progress_of(c.trials, main.settings, main.front.ref_ms, main.front.ref_wm));

  const std::set<int64_t> with_section = front_ids(main);
  const std::string title =
      options.title.empty() ? "SpArSe report: " + std::filesystem::path(main.path).filename().string() : options.title;
  std::ostringstream os;
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
     << xml_escape(title) << "</title>\n<style>" << kCss << "</style>\n</head>\n<body>\n<header>\n<h1>"
     << xml_escape(title) << "</h1>\n<p>Store <code>" << xml_escape(main.path) << "</code> · search " << main.search_id
     << " · " << xml_escape(main.settings.data.name) << " · " << xml_escape(main.settings.objectives) << " · "
     << main.trials.size() << " trials, " << main.done << " done · front of " << main.front.front.size()
     << " · hypervolume " << fixed(main.front.hypervolume, 4) << "</p>\n<nav><a href=\"#settings\">Settings</a>"
     << "<a href=\"#pareto\">Pareto plots</a><a href=\"#progress\">Progress</a><a href=\"#front\">Front table</a>";
  if (!main.front.front.empty()) os << "<a href=\"#trials\">Front trials</a>";
  os << "</nav>\n</header>\n<main>\n";
  os << settings_section(main, compares, progress);
  os << pareto_section(main);
  os << progress_section(main, compares, progress);
  os << front_table_section(main);
  if (!main.front.front.empty()) {
    os << "<div id=\"trials\">\n";
    TrialSectionOptions to;
    to.graphviz = options.graphviz;
    for (const auto& t : main.front.front) os << trial_section(main, t, with_section, to);
    os << "</div>\n";
  }
  os << "</main>\n<footer>Generated by sparse " << kVersion << " on " << utc_now()
     << " from the trial store alone (no network, no external files). Points and bars carry their numbers as "
        "tooltips.</footer>\n</body>\n</html>\n";
  Report r;
  r.html = os.str();
  r.trials = static_cast<int>(main.trials.size());
  r.done = main.done;
  r.front = main.front.front.size();
  r.hypervolume = main.front.hypervolume;
  return r;
}

}  // namespace sparse::report
